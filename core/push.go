package core

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
)

// Pushes: parley sends none (it has no APNs or FCM connection), but
// records, in the write's own transaction, each push Twilio would send
// (the service's notification settings enabled for the kind, to each
// device of each user concerned) as a delivery with status "recorded",
// so a test can see them at /parley/v1/WebhookDeliveries
// (docs/compatibility.md).

// The push kinds, as bindings and the SDK name them.
const (
	pushNewMessage = "twilio.conversations.new_message"
	pushAdded      = "twilio.conversations.added_to_conversation"
	pushRemoved    = "twilio.conversations.removed_from_conversation"
)

// Default templates, where the service's settings give none.
const (
	defaultNewMessageTemplate = "${CONVERSATION};${PARTICIPANT}: ${MESSAGE}"
	defaultAddedTemplate      = "You have been added to the conversation ${CONVERSATION} by ${PARTICIPANT}"
	defaultRemovedTemplate    = "${PARTICIPANT} has removed you from the conversation ${CONVERSATION}"
)

// push is one push due: its kind, the users it goes to, the template it
// uses and the values the template and the payload take.
type push struct {
	kind     string
	svc      string
	users    []string // user SIDs
	tmpl     parley.NotificationTemplate
	fallback string
	conv     parley.Conversation
	actor    string // ${PARTICIPANT}: the author, or who added or removed
	message  *parley.Message
}

// recordPushes writes the pushes a write's events owe.
func (a *App) recordPushes(ctx context.Context, tx parley.Tx, ev *events) error {
	settings := map[string]parley.NotificationSettings{}
	for _, e := range ev.list {
		var p *push
		switch e.Type {
		case parley.EventMessageAdded, parley.EventParticipantAdded, parley.EventParticipantRemoved:
		default:
			continue
		}
		ns, ok := settings[e.ServiceSid]
		if !ok {
			var err error
			if ns, err = tx.NotificationSettings(ctx, e.ServiceSid); err != nil {
				return notFound(err)
			}
			settings[e.ServiceSid] = ns
		}
		switch e.Type {
		case parley.EventMessageAdded:
			tmpl := ns.NewMessage
			if len(e.Message.Media) > 0 && ns.NewMessageWithMedia.Enabled {
				tmpl = ns.NewMessageWithMedia
			}
			if !tmpl.Enabled {
				continue
			}
			users, err := recipients(ctx, tx, e.Message)
			if err != nil {
				return err
			}
			p = &push{kind: pushNewMessage, svc: e.ServiceSid, users: users, tmpl: tmpl, fallback: defaultNewMessageTemplate,
				conv: *e.Conversation, actor: e.Message.Author, message: e.Message}
		case parley.EventParticipantAdded, parley.EventParticipantRemoved:
			part := e.Participant
			tmpl, kind, fallback := ns.AddedToConversation, pushAdded, defaultAddedTemplate
			if e.Type == parley.EventParticipantRemoved {
				tmpl, kind, fallback = ns.RemovedFromConversation, pushRemoved, defaultRemovedTemplate
			}
			if !tmpl.Enabled || part.UserSid == nil {
				continue
			}
			c, err := tx.ConversationBySid(ctx, e.ServiceSid, part.ConversationSid)
			if err != nil {
				continue // removed with its conversation: nobody is told
			}
			actor := e.ClientIdentity
			if actor == "" {
				actor = "system"
			}
			p = &push{kind: kind, svc: e.ServiceSid, users: []string{*part.UserSid}, tmpl: tmpl, fallback: fallback, conv: c, actor: actor}
		}
		if err := a.recordPush(ctx, tx, ev, *p); err != nil {
			return err
		}
	}
	return nil
}

// recipients are the users a new message's push goes to: the conversation's
// chat participants but its author, unless they muted it.
func recipients(ctx context.Context, tx parley.Tx, m *parley.Message) ([]string, error) {
	ps, err := allParticipants(ctx, tx, m.ConversationSid)
	if err != nil {
		return nil, err
	}
	var users []string
	for _, p := range ps {
		if p.UserSid != nil && (p.Identity == nil || *p.Identity != m.Author) && p.NotificationLevel != "muted" {
			users = append(users, *p.UserSid)
		}
	}
	return users, nil
}

// recordPush writes one recorded delivery per device of p's users that
// takes p's kind.
func (a *App) recordPush(ctx context.Context, tx parley.Tx, ev *events, p push) error {
	if len(p.users) == 0 {
		return nil
	}
	identities := make([]string, 0, len(p.users))
	for _, sid := range p.users {
		u, err := tx.UserBySid(ctx, p.svc, sid)
		if err != nil {
			continue // deleted meanwhile
		}
		identities = append(identities, u.Identity)
	}
	if len(identities) == 0 {
		return nil
	}
	title := deref(p.conv.FriendlyName)
	if title == "" {
		title = deref(p.conv.UniqueName)
	}
	if title == "" {
		title = p.conv.Sid
	}
	tmpl := p.fallback
	if p.tmpl.Template != nil && *p.tmpl.Template != "" {
		tmpl = *p.tmpl.Template
	}
	vars := []string{"${CONVERSATION}", title, "${PARTICIPANT}", p.actor}
	if p.message != nil {
		vars = append(vars, "${MESSAGE}", deref(p.message.Body))
	}
	body := strings.NewReplacer(vars...).Replace(tmpl)
	kind := strings.TrimPrefix(p.kind, "twilio.conversations.")
	now := a.now().UTC()
	q := parley.PageQuery{Size: 1000}
	for {
		page, err := tx.ListBindings(ctx, p.svc, parley.BindingFilter{Identities: identities}, q)
		if err != nil {
			return err
		}
		for _, b := range page.Items {
			if b.BindingType == "twilsock" || !slices.Contains(b.MessageTypes, kind) {
				continue
			}
			params := url.Values{"ChatServiceSid": {p.svc}, "BindingSid": {b.Sid}, "BindingType": {b.BindingType},
				"Address": {b.Endpoint}, "Identity": {b.Identity}, "twi_message_type": {p.kind}, "twi_body": {body},
				"conversation_sid": {p.conv.Sid}, "conversation_title": {title}}
			if b.CredentialSid != nil {
				params.Set("CredentialSid", *b.CredentialSid)
			}
			if p.tmpl.Sound != nil {
				params.Set("twi_sound", *p.tmpl.Sound)
			}
			if m := p.message; m != nil {
				params.Set("message_sid", m.Sid)
				params.Set("message_index", strconv.FormatInt(m.Index, 10))
				params.Set("author", m.Author)
				params.Set("media_count", strconv.Itoa(len(m.Media)))
			}
			d := parley.Delivery{Sid: a.sids.New(parley.PrefixDelivery), EventType: p.kind, ServiceSid: p.svc,
				URL: "push:" + b.BindingType + ":" + b.Endpoint, Method: "PUSH", Params: params.Encode(),
				Status: parley.DeliveryRecorded, NextAttemptAt: now, DateCreated: now, DateUpdated: now}
			if err := tx.EnqueueDelivery(ctx, d); err != nil {
				return err
			}
		}
		if !page.HasNext {
			return nil
		}
		q.After = page.LastSeq
	}
}
