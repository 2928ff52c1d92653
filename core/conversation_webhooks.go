package core

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/parleyhq/parley"
)

// MaxConversationWebhooks is Twilio's limit per conversation (50361), and
// MaxTriggers its limit of keywords per trigger webhook (50362).
const (
	MaxConversationWebhooks = 5
	MaxTriggers             = 5
)

// scopedEvents are the post-events a conversation webhook may filter on
// (Twilio's list for conversation-scoped and address webhooks).
var scopedEvents = []parley.EventType{
	parley.EventMessageAdded, parley.EventMessageUpdated, parley.EventMessageRemoved,
	parley.EventConversationUpdated, parley.EventConversationStateUpdated, parley.EventConversationRemoved,
	parley.EventParticipantAdded, parley.EventParticipantUpdated, parley.EventParticipantRemoved,
	parley.EventDeliveryUpdated,
}

// ConversationWebhookInput is a create or update of a conversation
// webhook; nil is a parameter not sent. Target and ReplayAfter are create
// only.
type ConversationWebhookInput struct {
	Target      *string
	URL         *string
	Method      *string
	Filters     []string
	Triggers    []string
	FlowSid     *string
	ReplayAfter *int64
}

// apply writes the input into w and checks the result against w's target
// (so an update is checked as the webhook it leaves): 50369/50372 for the
// URL, 50370/50365 for filters, 50371/50362/50366 for triggers, 50367 for
// a flow.
func (in ConversationWebhookInput) apply(w *parley.ConversationWebhook) error {
	if in.URL != nil {
		w.URL = emptyIsNil(in.URL)
	}
	if in.Method != nil {
		m := strings.ToLower(*in.Method)
		w.Method = &m
	}
	if in.Filters != nil {
		w.Filters = in.Filters
	}
	if in.Triggers != nil {
		w.Triggers = in.Triggers
	}
	if in.FlowSid != nil {
		w.FlowSid = emptyIsNil(in.FlowSid)
	}
	switch w.Target {
	case "webhook", "trigger":
		if w.URL == nil {
			return parley.Errorf(parley.KindInvalid, 50369, "Configuration.Url is required for a %s", w.Target)
		}
		if len(*w.URL) > 2048 {
			return parley.Errorf(parley.KindInvalid, 50372, "Configuration.Url is too long")
		}
		if err := checkWebhookURL(50369, "Configuration.Url", *w.URL); err != nil {
			return err
		}
		if w.Method == nil {
			post := "post"
			w.Method = &post
		}
	case "studio":
		if w.FlowSid == nil || !parley.IsSID("FW", *w.FlowSid) {
			return parley.Errorf(parley.KindInvalid, 50367, "Configuration.FlowSid must be a Studio flow SID (FW…)")
		}
	}
	if w.Target == "webhook" {
		if len(w.Filters) == 0 {
			return parley.Errorf(parley.KindInvalid, 50370, "Configuration.Filters is required for a webhook")
		}
		filters, err := canonicalFilters("Configuration.Filters", w.Filters, 50365)
		if err != nil {
			return err
		}
		w.Filters = filters
	}
	if w.Target == "trigger" {
		if len(w.Triggers) == 0 {
			return parley.Errorf(parley.KindInvalid, 50371, "Configuration.Triggers is required for a trigger")
		}
		if len(w.Triggers) > MaxTriggers {
			return parley.Errorf(parley.KindInvalid, 50362, "Too many Configuration.Triggers: at most %d", MaxTriggers)
		}
		if slices.Contains(w.Triggers, "") {
			return parley.Errorf(parley.KindInvalid, 50366, "Invalid Configuration.Triggers: a keyword cannot be empty")
		}
	}
	return nil
}

// CreateConversationWebhook adds a webhook to a conversation: at most five
// (50361), counted under the conversation's row lock. ReplayAfter sends
// it, at once, onMessageAdded for the messages from that index on.
func (a *App) CreateConversationWebhook(ctx context.Context, svc, convKey string, in ConversationWebhookInput) (parley.ConversationWebhook, error) {
	if in.Target == nil || *in.Target == "" {
		return parley.ConversationWebhook{}, parley.Errorf(parley.KindInvalid, 50368, "Target is required")
	}
	target := strings.ToLower(*in.Target)
	if target != "webhook" && target != "trigger" && target != "studio" {
		return parley.ConversationWebhook{}, parley.Errorf(parley.KindInvalid, 50364, "Invalid Target %q: must be webhook, trigger or studio", *in.Target)
	}
	if in.ReplayAfter != nil && *in.ReplayAfter < 0 {
		return parley.ConversationWebhook{}, parley.InvalidParam("Invalid Configuration.ReplayAfter: must be a message index")
	}
	w := parley.ConversationWebhook{Target: target}
	if err := in.apply(&w); err != nil {
		return w, err
	}
	err := a.update(ctx, func(tx parley.Tx, ev *events) error {
		c, err := findConversation(ctx, tx.ForUpdate(), svc, convKey)
		if err != nil {
			return err
		}
		if err := writable(c); err != nil {
			return err
		}
		hooks, err := tx.ConversationWebhooks(ctx, c.Sid)
		if err != nil {
			return err
		}
		if len(hooks) >= MaxConversationWebhooks {
			return parley.Errorf(parley.KindInvalid, 50361, "Too many conversation webhooks: at most %d", MaxConversationWebhooks)
		}
		now := a.clock()
		w.Sid, w.ServiceSid, w.ConversationSid, w.DateCreated, w.DateUpdated = a.sids.New(parley.PrefixWebhook), c.ServiceSid, c.Sid, now, now
		if err := tx.CreateConversationWebhook(ctx, w); err != nil {
			return notFound(err)
		}
		if in.ReplayAfter != nil {
			return a.replay(ctx, tx, ev, w, c, *in.ReplayAfter)
		}
		return nil
	})
	return w, err
}

// replay queues onMessageAdded, to w alone, for c's messages from index
// from on, oldest first.
func (a *App) replay(ctx context.Context, tx parley.Tx, ev *events, w parley.ConversationWebhook, c parley.Conversation, from int64) error {
	q := parley.PageQuery{Size: 100}
	for {
		p, err := tx.ListMessages(ctx, c.Sid, q)
		if err != nil {
			return err
		}
		for _, m := range p.Items {
			e := messageEvent(parley.EventMessageAdded, m, c, m.DateCreated, WriteOptions{Webhooks: true})
			if m.Index >= from && w.URL != nil && scopedWants(w, e) {
				if err := a.enqueue(ctx, tx, ev, e, *w.URL, strings.ToUpper(deref(w.Method)), w.Sid); err != nil {
					return err
				}
			}
		}
		if !p.HasNext {
			return nil
		}
		q.After = p.LastSeq
	}
}

// findConversationWebhook looks a webhook up in the conversation with SID
// or unique name convKey.
func findConversationWebhook(ctx context.Context, ct, wt parley.Tx, svc, convKey, sid string) (parley.ConversationWebhook, parley.Conversation, error) {
	return childOf(ctx, ct, wt, svc, convKey, parley.PrefixWebhook, sid, parley.Tx.ConversationWebhookBySid)
}

// FetchConversationWebhook returns one webhook of a conversation.
func (a *App) FetchConversationWebhook(ctx context.Context, svc, convKey, sid string) (parley.ConversationWebhook, error) {
	return read(ctx, a, func(tx parley.Tx) (parley.ConversationWebhook, error) {
		w, _, err := findConversationWebhook(ctx, tx, tx, svc, convKey, sid)
		return w, err
	})
}

// ListConversationWebhooks returns one page of a conversation's webhooks.
func (a *App) ListConversationWebhooks(ctx context.Context, svc, convKey string, q parley.PageQuery) (parley.Page[parley.ConversationWebhook], error) {
	return inConversation(ctx, a, svc, convKey, func(tx parley.Tx, conv string) (parley.Page[parley.ConversationWebhook], error) {
		return tx.ListConversationWebhooks(ctx, conv, q)
	})
}

// UpdateConversationWebhook changes a webhook's configuration; its target
// stays.
func (a *App) UpdateConversationWebhook(ctx context.Context, svc, convKey, sid string, in ConversationWebhookInput) (parley.ConversationWebhook, error) {
	var w parley.ConversationWebhook
	err := a.update(ctx, func(tx parley.Tx, _ *events) error {
		var c parley.Conversation
		var err error
		if w, c, err = findConversationWebhook(ctx, tx.ForShare(), tx.ForUpdate(), svc, convKey, sid); err != nil {
			return err
		}
		if err := writable(c); err != nil {
			return err
		}
		if err := in.apply(&w); err != nil {
			return err
		}
		w.DateUpdated = a.clock()
		return notFound(tx.UpdateConversationWebhook(ctx, w))
	})
	return w, err
}

// DeleteConversationWebhook removes a webhook from a conversation.
func (a *App) DeleteConversationWebhook(ctx context.Context, svc, convKey, sid string) error {
	return a.update(ctx, func(tx parley.Tx, _ *events) error {
		w, c, err := findConversationWebhook(ctx, tx.ForShare(), tx.ForUpdate(), svc, convKey, sid)
		if err != nil {
			return err
		}
		if err := writable(c); err != nil {
			return err
		}
		err = tx.DeleteConversationWebhook(ctx, c.Sid, w.Sid)
		if errors.Is(err, parley.ErrNotFound) {
			return parley.NotFound()
		}
		return err
	})
}
