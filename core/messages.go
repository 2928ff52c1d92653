package core

import (
	"context"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Message limits: the body (decision 12: 32 KiB of UTF-8, Twilio's chat
// limit), attributes (Twilio: 4 KiB), the author and subject (parley's:
// Twilio documents no size), content variables (Twilio's: 100 keys of up
// to 16 characters, values of up to 256).
const (
	MaxBody                 = 32 * 1024
	MaxMessageAttributes    = 4 * 1024
	MaxAuthor               = 256
	MaxSubject              = 256
	MaxContentVariables     = 100
	MaxContentVariableKey   = 16
	MaxContentVariableValue = 256
)

// MessageInput is a message create or update request; nil is a parameter
// not sent.
type MessageInput struct {
	Author           *string
	Body             *string
	Attributes       *string
	MediaSid         *string // create only
	ContentSid       *string // create only
	ContentVariables *string // create only
	Subject          *string
	DateCreated      *string
	DateUpdated      *string
}

// messageChange is a checked MessageInput.
type messageChange struct {
	in               MessageInput
	created, updated *time.Time
}

func (in MessageInput) check(create bool) (messageChange, error) {
	ch := messageChange{in: in}
	if create {
		if err := in.checkContent(); err != nil {
			return ch, err
		}
	}
	if in.Body != nil && len(*in.Body) > MaxBody {
		return ch, parley.Errorf(parley.KindInvalid, 50504, "Message body is too long: at most %d bytes", MaxBody)
	}
	if in.Author != nil && utf8.RuneCountInString(*in.Author) > MaxAuthor {
		return ch, parley.InvalidParam("Invalid Author: at most %d characters", MaxAuthor)
	}
	if in.Subject != nil && utf8.RuneCountInString(*in.Subject) > MaxSubject {
		return ch, parley.InvalidParam("Invalid Subject: at most %d characters", MaxSubject)
	}
	if in.Attributes != nil && *in.Attributes != "" {
		if err := checkAttributes(*in.Attributes, MaxMessageAttributes); err != nil {
			return ch, err
		}
	}
	var err error
	if ch.created, err = parseDate(in.DateCreated, 20001, "DateCreated"); err != nil {
		return ch, err
	}
	if ch.updated, err = parseDate(in.DateUpdated, 20001, "DateUpdated"); err != nil {
		return ch, err
	}
	return ch, nil
}

// checkContent checks what a new message carries: a body, media or a
// content template (decision 12: one of them, else 50503), and the
// template's variables.
func (in MessageInput) checkContent() error {
	has := func(p *string) bool { return p != nil && *p != "" }
	if !has(in.Body) && !has(in.MediaSid) && !has(in.ContentSid) {
		return parley.Errorf(parley.KindInvalid, 50503, "Message body not provided")
	}
	if has(in.ContentSid) && !parley.IsSID("HX", *in.ContentSid) {
		return parley.Errorf(parley.KindInvalid, 50526, "Invalid ContentSid %q", *in.ContentSid)
	}
	if in.ContentVariables == nil {
		return nil
	}
	if !has(in.ContentSid) {
		return parley.Errorf(parley.KindInvalid, 50528, "ContentVariables need a ContentSid")
	}
	var vars map[string]any
	if err := json.Unmarshal([]byte(*in.ContentVariables), &vars); err != nil || vars == nil {
		return parley.Errorf(parley.KindInvalid, 50527, "ContentVariables is not a JSON object")
	}
	if len(vars) > MaxContentVariables {
		return parley.Errorf(parley.KindInvalid, 50529, "Too many ContentVariables: at most %d", MaxContentVariables)
	}
	for k, v := range vars {
		if utf8.RuneCountInString(k) > MaxContentVariableKey {
			return parley.Errorf(parley.KindInvalid, 50540, "ContentVariables key %q is longer than %d characters", k, MaxContentVariableKey)
		}
		if s, ok := v.(string); !ok || utf8.RuneCountInString(s) > MaxContentVariableValue {
			return parley.Errorf(parley.KindInvalid, 50541, "ContentVariables value of %q must be a string of at most %d characters", k, MaxContentVariableValue)
		}
	}
	return nil
}

// apply writes the change into m at now, then the pre-event's answer.
func (ch messageChange) apply(m *parley.Message, now time.Time, answer PreAnswer) {
	in := ch.in
	if in.Author != nil {
		m.Author = *in.Author
	}
	if in.Body != nil {
		m.Body = emptyIsNil(in.Body)
	}
	if in.Attributes != nil {
		m.Attributes = *in.Attributes
	}
	if in.Subject != nil {
		m.Subject = emptyIsNil(in.Subject)
	}
	if answer.Author != nil {
		m.Author = *answer.Author
	}
	if answer.Body != nil {
		m.Body = emptyIsNil(answer.Body)
	}
	if answer.Attributes != nil {
		m.Attributes = *answer.Attributes
	}
	if m.Author == "" {
		m.Author = "system"
	}
	if m.Attributes == "" {
		m.Attributes = "{}"
	}
	if ch.created != nil {
		m.DateCreated = *ch.created
	}
	// Decision 11: date_updated equals date_created on create; an edit
	// moves it to now.
	m.DateUpdated = now
	if m.Sid == "" { // a create
		m.DateUpdated = m.DateCreated
	}
	if ch.updated != nil {
		m.DateUpdated = *ch.updated
	}
}

// authorParticipant is the participant a message's author names
// (decision 5): the one whose identity (chat) or address (non-chat) it is;
// nil for "system" and strangers.
func authorParticipant(ctx context.Context, tx parley.Tx, conversation, author string) (*string, error) {
	if author == "system" {
		return nil, nil
	}
	p, err := tx.ParticipantByIdentity(ctx, conversation, author)
	if errors.Is(err, parley.ErrNotFound) {
		p, err = tx.ParticipantByAddress(ctx, conversation, author)
	}
	switch {
	case errors.Is(err, parley.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &p.Sid, nil
}

func messageEvent(t parley.EventType, m parley.Message, c parley.Conversation, at time.Time, opts WriteOptions) parley.Event {
	return parley.Event{Type: t, ServiceSid: m.ServiceSid, Source: opts.source(), ClientIdentity: opts.ClientIdentity, At: at, Webhooks: opts.Webhooks,
		Message: &m, Conversation: &c}
}

func (a *App) messagePreEvent(t parley.EventType, opts WriteOptions) func(messageDraft) parley.Event {
	return func(d messageDraft) parley.Event { return messageEvent(t, d.m, d.c, a.clock(), opts) }
}

// messageDraft is a message as a write would leave it, with its
// conversation, for a pre-event.
type messageDraft struct {
	m parley.Message
	c parley.Conversation
}

// CreateMessage sends a message to the conversation with SID or unique
// name convKey. It takes the conversation's next index, wakes it when
// inactive and restarts its timers; a closed conversation takes none
// (50377). MediaSid attaches uploaded media of the conversation's service
// that no message carries yet (50507 unknown, 50508 carried); with a
// ContentSid it is ignored, as the body is.
func (a *App) CreateMessage(ctx context.Context, svc, convKey string, in MessageInput, opts WriteOptions) (parley.Message, error) {
	ch, err := in.check(true)
	if err != nil {
		return parley.Message{}, err
	}
	// draft reads the conversation (locked, for the write) and makes the
	// message the request describes.
	draft := func(ctx context.Context, tx parley.Tx, lock bool, answer PreAnswer) (messageDraft, error) {
		ct := tx
		if lock {
			ct = tx.ForUpdate()
		}
		c, err := findConversation(ctx, ct, svc, convKey)
		if err != nil {
			return messageDraft{}, err
		}
		if err := writable(c); err != nil {
			return messageDraft{}, err
		}
		now := a.clock()
		m := parley.Message{ServiceSid: c.ServiceSid, ConversationSid: c.Sid, DateCreated: now, ContentSid: emptyIsNil(in.ContentSid)}
		ch.apply(&m, now, answer)
		if m.ContentSid != nil {
			m.Body = nil // a content template is the message; parley renders none
		} else if in.MediaSid != nil && *in.MediaSid != "" {
			mt := tx
			if lock {
				mt = tx.ForUpdate()
			}
			md, err := attachable(ctx, mt, c.ServiceSid, *in.MediaSid)
			if err != nil {
				return messageDraft{}, err
			}
			m.Media = []parley.MediaRef{{Sid: md.Sid, Size: md.Size, ContentType: md.ContentType, Filename: md.Filename}}
		}
		if m.ParticipantSid, err = authorParticipant(ctx, tx, c.Sid, m.Author); err != nil {
			return messageDraft{}, err
		}
		return messageDraft{m: m, c: c}, nil
	}
	answer, err := askFirst(ctx, a, opts, func(tx parley.Tx) (messageDraft, error) { return draft(ctx, tx, false, PreAnswer{}) },
		a.messagePreEvent(parley.EventMessageAdd, opts))
	if err != nil {
		return parley.Message{}, err
	}
	var m parley.Message
	err = a.update(ctx, func(tx parley.Tx, ev *events) error {
		d, err := draft(ctx, tx, true, answer)
		if err != nil {
			return err
		}
		m, err = a.postMessage(ctx, tx, ev, d, opts)
		return err
	})
	return m, err
}

// postMessage writes a drafted message into its conversation (locked by
// the caller): its index, its media, onMessageAdded, and the
// conversation's wake-up.
func (a *App) postMessage(ctx context.Context, tx parley.Tx, ev *events, d messageDraft, opts WriteOptions) (parley.Message, error) {
	m, c := d.m, d.c
	m.Sid = a.sids.New(parley.PrefixMessage)
	var err error
	if m.Index, err = tx.NextMessageIndex(ctx, c.Sid); err != nil {
		return m, notFound(err)
	}
	if err := tx.CreateMessage(ctx, m); err != nil {
		return m, notFound(err)
	}
	for _, md := range m.Media {
		if err := tx.AttachMedia(ctx, md.Sid, c.Sid, m.Sid); err != nil {
			return m, mediaTaken(md.Sid, err)
		}
	}
	ev.add(messageEvent(parley.EventMessageAdded, m, c, m.DateCreated, opts))
	// A message is activity: an inactive conversation wakes up, and
	// timers start again from now (a conversation with neither has
	// nothing to write).
	now := a.clock()
	from := c.State
	if reactivate(&c, now) || c.TimerInactive != nil || c.TimerClosed != nil {
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return m, notFound(err)
		}
	}
	if c.State != from {
		ev.add(stateEvent(c, from, parley.ReasonEvent, now, opts.Webhooks))
	}
	return m, nil
}

// attachable returns the media a new message is to carry: uploaded to
// the service (50507 otherwise) and carried by no other message (50508).
func attachable(ctx context.Context, tx parley.Tx, svc, sid string) (parley.Media, error) {
	unknown := parley.Errorf(parley.KindInvalid, 50507, "Media %s not found", sid)
	if !parley.IsSID(parley.PrefixMedia, sid) {
		return parley.Media{}, unknown
	}
	md, err := tx.MediaBySid(ctx, svc, sid)
	switch {
	case errors.Is(err, parley.ErrNotFound):
		return md, unknown
	case err != nil:
		return md, err
	case md.MessageSid != nil:
		return md, mediaTaken(sid, nil)
	}
	return md, nil
}

// mediaTaken is 50508, for media another message carries; a store error
// other than ErrNotFound (media taken meanwhile) passes through.
func mediaTaken(sid string, err error) error {
	if err != nil && !errors.Is(err, parley.ErrNotFound) {
		return err
	}
	return parley.Errorf(parley.KindInvalid, 50508, "Media %s is already attached to a message", sid)
}

// findMessage looks a message up in the conversation with SID or unique
// name convKey: the conversation read through ct, the message through mt
// (a write share-locks the conversation, then update-locks the message).
func findMessage(ctx context.Context, ct, mt parley.Tx, svc, convKey, sid string) (messageDraft, error) {
	m, c, err := childOf(ctx, ct, mt, svc, convKey, parley.PrefixMessage, sid, parley.Tx.MessageBySid)
	return messageDraft{m: m, c: c}, err
}

// childOf looks a row of a conversation (a message, a webhook) up by its
// SID: the conversation with SID or unique name convKey read through ct,
// the row through rt with get. A key that is not a SID of the row's
// prefix is a 404 without a query.
func childOf[T any](ctx context.Context, ct, rt parley.Tx, svc, convKey, prefix, sid string,
	get func(tx parley.Tx, ctx context.Context, conversationSid, sid string) (T, error)) (T, parley.Conversation, error) {
	var zero T
	c, err := findConversation(ctx, ct, svc, convKey)
	if err != nil {
		return zero, c, err
	}
	if !parley.IsSID(prefix, sid) {
		return zero, c, parley.NotFound()
	}
	v, err := get(rt, ctx, c.Sid, sid)
	return v, c, notFound(err)
}

// lockedOrNot returns the transactions a conversation's row is read
// through (the conversation, then the row): tx itself for a look, share
// and update locks for a write.
func lockedOrNot(tx parley.Tx, lock bool) (ct, mt parley.Tx) {
	if lock {
		return tx.ForShare(), tx.ForUpdate()
	}
	return tx, tx
}

// FetchMessage returns one message of a conversation.
func (a *App) FetchMessage(ctx context.Context, svc, convKey, sid string) (parley.Message, error) {
	return read(ctx, a, func(tx parley.Tx) (parley.Message, error) {
		d, err := findMessage(ctx, tx, tx, svc, convKey, sid)
		return d.m, err
	})
}

// ListMessages returns one page of a conversation's messages by index.
func (a *App) ListMessages(ctx context.Context, svc, convKey string, q parley.PageQuery) (parley.Page[parley.Message], error) {
	return inConversation(ctx, a, svc, convKey, func(tx parley.Tx, conv string) (parley.Page[parley.Message], error) {
		return tx.ListMessages(ctx, conv, q)
	})
}

// UpdateMessage edits a message: author, body, attributes, subject, dates;
// its index never changes. Not in a closed conversation (50377).
func (a *App) UpdateMessage(ctx context.Context, svc, convKey, sid string, in MessageInput, opts WriteOptions) (parley.Message, error) {
	ch, err := in.check(false)
	if err != nil {
		return parley.Message{}, err
	}
	edit := func(ctx context.Context, tx parley.Tx, lock bool, answer PreAnswer) (messageDraft, error) {
		ct, mt := lockedOrNot(tx, lock)
		d, err := findMessage(ctx, ct, mt, svc, convKey, sid)
		if err != nil {
			return d, err
		}
		if err := writable(d.c); err != nil {
			return d, err
		}
		m, c := d.m, d.c
		if len(m.Media) > 0 && (in.Body != nil || answer.Body != nil) {
			return d, parley.Errorf(parley.KindInvalid, 50509, "Media message body cannot be updated")
		}
		author := m.Author
		ch.apply(&m, a.clock(), answer)
		if m.Author != author {
			if m.ParticipantSid, err = authorParticipant(ctx, tx, c.Sid, m.Author); err != nil {
				return messageDraft{}, err
			}
		}
		return messageDraft{m: m, c: c}, nil
	}
	answer, err := askFirst(ctx, a, opts, func(tx parley.Tx) (messageDraft, error) { return edit(ctx, tx, false, PreAnswer{}) },
		a.messagePreEvent(parley.EventMessageUpdate, opts))
	if err != nil {
		return parley.Message{}, err
	}
	var m parley.Message
	err = a.update(ctx, func(tx parley.Tx, ev *events) error {
		d, err := edit(ctx, tx, true, answer)
		if err != nil {
			return err
		}
		m = d.m
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return notFound(err)
		}
		ev.add(messageEvent(parley.EventMessageUpdated, m, d.c, m.DateUpdated, opts))
		return nil
	})
	return m, err
}

// DeleteMessage removes a message; its index is never given again. Not
// in a closed conversation (50377).
func (a *App) DeleteMessage(ctx context.Context, svc, convKey, sid string, opts WriteOptions) error {
	find := func(tx parley.Tx, lock bool) (messageDraft, error) {
		ct, mt := lockedOrNot(tx, lock)
		d, err := findMessage(ctx, ct, mt, svc, convKey, sid)
		if err != nil {
			return d, err
		}
		return d, writable(d.c)
	}
	if _, err := askFirst(ctx, a, opts, func(tx parley.Tx) (messageDraft, error) { return find(tx, false) },
		a.messagePreEvent(parley.EventMessageRemove, opts)); err != nil {
		return err
	}
	return a.update(ctx, func(tx parley.Tx, ev *events) error {
		d, err := find(tx, true)
		if err != nil {
			return err
		}
		if err := tx.DeleteMessage(ctx, d.c.Sid, d.m.Sid); err != nil {
			return notFound(err)
		}
		ev.add(messageEvent(parley.EventMessageRemoved, d.m, d.c, a.clock(), opts))
		return nil
	})
}
