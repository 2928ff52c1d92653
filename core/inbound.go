package core

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// Inbound messages (decision 14): parley has no carriers, so a test says
// that a message arrived from an address at one of the account's
// addresses, and parley does what Twilio does when one does (its
// "Inbound message handling" and "Autocreation" docs): the conversation
// that holds the (From, To) pair gets the message; failing that, an
// address configuration of To with auto-creation on makes a conversation
// for it.

// InboundInput is an arriving message: From (the sender's address), To
// (the account's address it was sent to), and its content.
type InboundInput struct {
	From, To, Body, MediaSid, MediaURL *string
}

// Inbound is where an arriving message went.
type Inbound struct {
	ServiceSid, ConversationSid, ParticipantSid, MessageSid string
	// AddressConfigSid is the configuration that created the
	// conversation; "" when the message joined an existing one.
	AddressConfigSid string
	Created          bool
}

// mediaFetchTimeout bounds the download of an inbound message's MediaUrl.
const mediaFetchTimeout = 30 * time.Second

// ReceiveInbound runs the arrival of a message. Its events are fired as
// for a carrier's message: webhooks on, Source the channel (SMS,
// WHATSAPP, RCS), onConversationAdd asked first when a conversation is to
// be created (the one pre-event of auto-creation). Errors: 20001 (From or
// To missing or malformed), the message's own (50503, 50504, 50507…), 404
// when nothing takes the message.
func (a *App) ReceiveInbound(ctx context.Context, in InboundInput) (Inbound, error) {
	for _, p := range []struct {
		name string
		v    *string
	}{{"From", in.From}, {"To", in.To}} {
		if p.v == nil || *p.v == "" {
			return Inbound{}, parley.MissingParam(p.name)
		}
	}
	from, to := *in.From, *in.To
	channel, ok := channelOf(from)
	if !ok {
		return Inbound{}, parley.InvalidParam("Invalid From: %q is not a phone number in E.164 (+15551234567), bare or after whatsapp: or rcs:", from)
	}
	if in.MediaURL != nil && *in.MediaURL != "" && in.MediaSid != nil && *in.MediaSid != "" {
		return Inbound{}, parley.InvalidParam("Send MediaUrl or MediaSid, not both")
	}
	msg := MessageInput{Author: &from, Body: in.Body, MediaSid: in.MediaSid}
	if in.MediaURL != nil && *in.MediaURL != "" {
		placeholder := "ME" + strings.Repeat("0", 32) // checked below; the upload gives the real SID
		msg.MediaSid = &placeholder
	}
	mch, err := msg.check(true)
	if err != nil {
		return Inbound{}, err
	}
	opts := WriteOptions{Webhooks: true, Source: parley.EventSource(strings.ToUpper(channel))}

	// Where it goes: the open conversation holding the pair, else the
	// address configuration of To.
	held := false
	var ac parley.AddressConfig
	svc, err := read(ctx, a, func(tx parley.Tx) (string, error) {
		p, err := tx.ParticipantByPair(ctx, from, to)
		if err == nil {
			held = true
			return p.ServiceSid, nil
		} else if !errors.Is(err, parley.ErrNotFound) {
			return "", err
		}
		if ac, err = addressConfigOf(ctx, tx, to); err != nil {
			return "", err
		}
		if svc := ac.AutoCreation.ServiceSid; svc != "" {
			if _, err := tx.Service(ctx, svc); errors.Is(err, parley.ErrNotFound) {
				return "", parley.Errorf(parley.KindNotFound, 20404,
					"Address configuration %s creates conversations in service %s, which no longer exists", ac.Sid, svc)
			} else if err != nil {
				return "", err
			}
			return svc, nil
		}
		acfg, err := tx.AccountConfig(ctx)
		return acfg.DefaultChatServiceSid, err
	})
	if err != nil {
		return Inbound{}, err
	}
	if in.MediaURL != nil && *in.MediaURL != "" {
		md, err := a.fetchMedia(ctx, svc, *in.MediaURL)
		if err != nil {
			return Inbound{}, err
		}
		mch.in.MediaSid = &md.Sid
	}
	return a.deliver(ctx, svc, !held, ac, from, to, mch, opts)
}

// addressConfigOf is the configuration that takes messages to address to:
// its own, or, for a channel address (whatsapp:+1…), the bare number's
// configuration of that channel's type. 404 when there is none or its
// auto-creation is off.
func addressConfigOf(ctx context.Context, tx parley.Tx, to string) (parley.AddressConfig, error) {
	ac, err := tx.AddressConfigByAddress(ctx, to)
	if channel, bare, ok := strings.Cut(to, ":"); ok && errors.Is(err, parley.ErrNotFound) {
		ac, err = tx.AddressConfigByAddress(ctx, bare)
		if err == nil && ac.Type != channel {
			err = parley.ErrNotFound // the number's configuration is for another channel
		}
	}
	switch {
	case errors.Is(err, parley.ErrNotFound):
		return ac, parley.Errorf(parley.KindNotFound, 20404,
			"No open conversation holds the pair (From, To), and %s has no address configuration to create one", to)
	case err != nil:
		return ac, err
	case !ac.AutoCreation.Enabled:
		return ac, parley.Errorf(parley.KindNotFound, 20404,
			"No open conversation holds the pair (From, To), and auto-creation is off in %s's address configuration %s", to, ac.Sid)
	}
	return ac, nil
}

// deliver writes the message in one transaction: into the open
// conversation holding the pair, or, when none does, into a conversation
// auto-created with the sender as its participant and the configuration's
// webhook (Twilio's auto-creation). The pair is looked up again inside
// the transaction, so that two first messages of a pair sent at once make
// one conversation: the second finds the first's (on PostgreSQL, after
// its insert collided and the store ran the transaction again).
func (a *App) deliver(ctx context.Context, svc string, create bool, ac parley.AddressConfig, from, to string,
	mch messageChange, opts WriteOptions) (Inbound, error) {
	pin := ParticipantInput{Address: &from, ProxyAddress: &to}
	pch, err := pin.check(true)
	if err != nil {
		return Inbound{}, err
	}
	var answer PreAnswer
	if create && a.preHook != nil {
		if answer, err = a.askAutoCreation(ctx, svc, from, pch, mch, opts); err != nil {
			return Inbound{}, err
		}
	}
	var res Inbound
	err = a.update(ctx, func(tx parley.Tx, ev *events) error {
		res = Inbound{}
		var c parley.Conversation
		p, err := tx.ParticipantByPair(ctx, from, to)
		switch {
		case err == nil:
			if c, err = findConversation(ctx, tx.ForUpdate(), p.ServiceSid, p.ConversationSid); err != nil {
				return err
			}
			if c.State == parley.StateClosed {
				// Closed between the pair's read and the lock (PostgreSQL):
				// the pair is free now; the next run auto-creates.
				return errLostRace
			}
		case !errors.Is(err, parley.ErrNotFound):
			return err
		default:
			cfg, target := ac, svc
			if cfg.Sid == "" {
				// The pair's conversation closed since it was looked up.
				if cfg, err = addressConfigOf(ctx, tx, to); err != nil {
					return err
				}
				target = cfg.AutoCreation.ServiceSid
			}
			if c, err = a.createConversation(ctx, tx, ev, target, conversationChange{}, answer, opts); err != nil {
				return err
			}
			if p, err = a.addParticipant(ctx, tx, ev, c.ServiceSid, c.Sid, pch, opts); err != nil {
				var pe *parley.Error
				if errors.As(err, &pe) && pe.Code == 50416 {
					// A first message of the pair committed meanwhile: join
					// its conversation.
					return errLostRace
				}
				return err
			}
			if hook, ok := autoCreationWebhook(cfg.AutoCreation); ok {
				now := a.clock()
				hook.Sid, hook.ServiceSid, hook.ConversationSid = a.sids.New(parley.PrefixWebhook), c.ServiceSid, c.Sid
				hook.DateCreated, hook.DateUpdated = now, now
				if err := tx.CreateConversationWebhook(ctx, hook); err != nil {
					return notFound(err)
				}
			}
			if c, err = findConversation(ctx, tx.ForUpdate(), c.ServiceSid, c.Sid); err != nil {
				return err
			}
			res.AddressConfigSid, res.Created = cfg.Sid, true
		}
		now := a.clock()
		m := parley.Message{ServiceSid: c.ServiceSid, ConversationSid: c.Sid, DateCreated: now, ParticipantSid: &p.Sid}
		mch.apply(&m, now, PreAnswer{})
		if mch.in.MediaSid != nil && *mch.in.MediaSid != "" {
			md, err := attachable(ctx, tx.ForUpdate(), c.ServiceSid, *mch.in.MediaSid)
			if err != nil {
				return err
			}
			m.Media = []parley.MediaRef{{Sid: md.Sid, Size: md.Size, ContentType: md.ContentType, Filename: md.Filename}}
		}
		if m, err = a.postMessage(ctx, tx, ev, messageDraft{m: m, c: c}, opts); err != nil {
			return err
		}
		res.ServiceSid, res.ConversationSid, res.ParticipantSid, res.MessageSid = c.ServiceSid, c.Sid, p.Sid, m.Sid
		return nil
	})
	return res, err
}

// askAutoCreation runs onConversationAdd, the one pre-event of
// auto-creation, with the sender's binding and the message that caused
// it (semantics-conversations.md §8.4).
func (a *App) askAutoCreation(ctx context.Context, svc, from string, pch participantChange, mch messageChange,
	opts WriteOptions) (PreAnswer, error) {
	c, err := read(ctx, a, func(tx parley.Tx) (parley.Conversation, error) {
		return a.draftConversation(ctx, tx, svc, "", conversationChange{}, WriteOptions{})
	})
	if err != nil {
		return PreAnswer{}, err
	}
	p := newParticipant("", c, pch, c.DateCreated)
	m := parley.Message{Author: from, Body: mch.in.Body, Attributes: "{}"}
	e := conversationEvent(parley.EventConversationAdd, c, c.DateCreated, opts)
	e.Participant, e.Message = &p, &m
	return a.preEvent(ctx, e)
}

// autoCreationWebhook is the conversation webhook an auto-creation
// attaches: its URL and filters (webhook), or its flow (studio, which
// parley records and never runs); none for the default type.
func autoCreationWebhook(ac parley.AutoCreation) (parley.ConversationWebhook, bool) {
	switch ac.Type {
	case "webhook":
		method := strings.ToLower(ac.WebhookMethod)
		return parley.ConversationWebhook{Target: "webhook", URL: ac.WebhookURL, Method: &method, Filters: ac.WebhookFilters}, true
	case "studio":
		return parley.ConversationWebhook{Target: "studio", FlowSid: ac.StudioFlowSid}, true
	}
	return parley.ConversationWebhook{}, false
}

// fetchMedia downloads an inbound message's MediaUrl into svc's media,
// as Twilio copies a carrier's media into its own store.
func (a *App) fetchMedia(ctx context.Context, svc, raw string) (parley.Media, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return parley.Media{}, parley.InvalidParam("Invalid MediaUrl: %q is not an absolute http or https URL", raw)
	}
	ctx, cancel := context.WithTimeout(ctx, mediaFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return parley.Media{}, parley.InvalidParam("Invalid MediaUrl: %v", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return parley.Media{}, parley.InvalidParam("MediaUrl could not be fetched: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return parley.Media{}, parley.InvalidParam("MediaUrl could not be fetched: %s answered %d", u.Host, res.StatusCode)
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." {
		name = ""
	}
	ct := res.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	return a.UploadMedia(ctx, svc, MediaUpload{ContentType: ct, Filename: &name, Content: res.Body})
}
