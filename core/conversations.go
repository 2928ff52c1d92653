package core

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// ConversationInput is a conversation create or update request (also the
// conversation half of ConversationWithParticipants); nil is a parameter
// not sent.
type ConversationInput struct {
	FriendlyName        *string
	UniqueName          *string
	Attributes          *string
	MessagingServiceSid *string
	State               *string
	TimerInactive       *string // Timers.Inactive
	TimerClosed         *string // Timers.Closed
	DateCreated         *string
	DateUpdated         *string
	EmailAddress        *string // Bindings.Email.Address
	EmailName           *string // Bindings.Email.Name
}

// MaxUniqueName is parley's limit for a conversation's unique name: Twilio
// documents the code (50004) but not the size.
const MaxUniqueName = 256

// conversationChange is a checked ConversationInput.
type conversationChange struct {
	in                   ConversationInput
	state                parley.ConversationState // "" when not sent
	created, updated     *time.Time
	timerInactiveOff     bool // Timers.Inactive=PT0S
	timerClosedOff       bool
	timerInactiveChanged bool
	timerClosedChanged   bool
}

// check validates in with Twilio's codes: 50003, 50004, 50390, 50303,
// 50304, 50341, 50374, 50378, 50375, 50376, 50379, 50380, 50308, 50309.
func (in ConversationInput) check() (conversationChange, error) {
	ch := conversationChange{in: in}
	if err := checkFriendlyName(in.FriendlyName, MaxFriendlyName); err != nil {
		return ch, err
	}
	if n := in.UniqueName; n != nil {
		if utf8.RuneCountInString(*n) > MaxUniqueName {
			return ch, parley.Errorf(parley.KindInvalid, 50004, "Unique Name too long")
		}
		if parley.IsSID(parley.PrefixConversation, *n) {
			return ch, parley.Errorf(parley.KindInvalid, 50390, "Unique name should not match conversation sid pattern")
		}
		if err := checkPathSegment("UniqueName", *n); err != nil {
			return ch, err
		}
	}
	if in.Attributes != nil && *in.Attributes != "" {
		if err := checkAttributes(*in.Attributes, MaxAttributes); err != nil {
			return ch, err
		}
	}
	if v := in.MessagingServiceSid; v != nil && !parley.IsSID("MG", *v) {
		return ch, parley.Errorf(parley.KindInvalid, 50341, "Invalid MessagingServiceSid: %q is not a Messaging Service SID", *v)
	}
	if in.State != nil {
		var err error
		if ch.state, err = parseState(*in.State); err != nil {
			return ch, err
		}
	}
	timers := []struct {
		param            string
		value            *string
		minimum          time.Duration
		code, formatCode int
		off, changed     *bool
	}{
		{"Timers.Inactive", in.TimerInactive, MinInactiveTimer, 50375, 50379, &ch.timerInactiveOff, &ch.timerInactiveChanged},
		{"Timers.Closed", in.TimerClosed, MinClosedTimer, 50376, 50380, &ch.timerClosedOff, &ch.timerClosedChanged},
	}
	for _, t := range timers {
		if t.value == nil {
			continue
		}
		if err := checkTimer(t.param, *t.value, t.minimum, t.code, t.formatCode); err != nil {
			return ch, err
		}
		d, _ := parley.ParseDuration(*t.value)
		*t.off, *t.changed = d == 0, true
	}
	var err error
	if ch.created, err = parseDate(in.DateCreated, 50308, "DateCreated"); err != nil {
		return ch, err
	}
	if ch.updated, err = parseDate(in.DateUpdated, 50309, "DateUpdated"); err != nil {
		return ch, err
	}
	return ch, nil
}

// parseState reads a State parameter (any case). Twilio's own flows alone
// put a conversation in "initializing", so a request may not.
func parseState(v string) (parley.ConversationState, error) {
	if v == "" {
		return "", parley.Errorf(parley.KindInvalid, 50374, "'State' can't be empty")
	}
	switch s := parley.ConversationState(strings.ToLower(v)); s {
	case parley.StateActive, parley.StateInactive, parley.StateClosed:
		return s, nil
	}
	return "", parley.Errorf(parley.KindInvalid, 50378, "'State' has invalid value %q: must be active, inactive or closed", v)
}

// parseDate reads a date-time override (DateCreated, DateUpdated for
// imports) in RFC 3339, as twilio-go and twilio-node send it.
func parseDate(v *string, code int, param string) (*time.Time, error) {
	if v == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *v)
	if err != nil {
		return nil, parley.Errorf(parley.KindInvalid, code, "Invalid %s: %q is not an ISO 8601 date-time such as 2019-12-16T22:18:37Z", param, *v)
	}
	t = t.UTC().Truncate(time.Second)
	return &t, nil
}

// checkPathSegment refuses "." and "..", which no URL library sends as a
// path segment, so a resource keyed by them could not be addressed.
func checkPathSegment(param, v string) error {
	if v == "." || v == ".." {
		return parley.InvalidParam("Invalid %s: %q cannot be addressed in a URL path", param, v)
	}
	return nil
}

// apply writes the change into c at now: every field sent, then the
// dates, then the timers restarted from the (new) date_updated, the last
// activity they are measured from.
func (ch conversationChange) apply(c *parley.Conversation, now time.Time) {
	in := ch.in
	if in.FriendlyName != nil {
		c.FriendlyName = emptyIsNil(in.FriendlyName)
	}
	if in.UniqueName != nil {
		c.UniqueName = emptyIsNil(in.UniqueName)
	}
	if in.Attributes != nil {
		c.Attributes = *in.Attributes
		if c.Attributes == "" {
			c.Attributes = "{}"
		}
	}
	if in.MessagingServiceSid != nil {
		c.MessagingServiceSid = in.MessagingServiceSid
	}
	if ch.state != "" {
		c.State = ch.state
	}
	if ch.timerInactiveChanged {
		c.TimerInactive = in.TimerInactive
		if ch.timerInactiveOff {
			c.TimerInactive = nil
		}
	}
	if ch.timerClosedChanged {
		c.TimerClosed = in.TimerClosed
		if ch.timerClosedOff {
			c.TimerClosed = nil
		}
	}
	setOptional(&c.EmailAddress, in.EmailAddress)
	setOptional(&c.EmailName, in.EmailName)
	if ch.created != nil {
		c.DateCreated = *ch.created
	}
	c.DateUpdated = now
	if ch.updated != nil {
		c.DateUpdated = *ch.updated
	}
	restartTimers(c, c.DateUpdated)
}

// restartTimers measures c's timers from base, the last activity:
// Twilio's example shows date_updated + Timers.Inactive as date_inactive
// and date_updated + Timers.Closed as date_closed, both from one base.
func restartTimers(c *parley.Conversation, base time.Time) {
	c.DateInactive, c.DateClosed = nil, nil
	if c.TimerInactive != nil {
		if d, ok := parley.ParseDuration(*c.TimerInactive); ok && d > 0 {
			t := base.Add(d).Truncate(time.Second)
			c.DateInactive = &t
		}
	}
	if c.TimerClosed != nil {
		if d, ok := parley.ParseDuration(*c.TimerClosed); ok && d > 0 {
			t := base.Add(d).Truncate(time.Second)
			c.DateClosed = &t
		}
	}
}

// errClosed is Twilio's answer to any write to a closed conversation.
var errClosed = parley.Errorf(parley.KindInvalid, 50377, "Can't update conversation as it's in final closed state")

// writable refuses writes to a closed conversation.
func writable(c parley.Conversation) error {
	if c.State == parley.StateClosed {
		return errClosed
	}
	return nil
}

// findConversation looks a conversation up by SID or unique name: a key
// shaped like a conversation SID is a SID, because no unique name may
// have that shape.
func findConversation(ctx context.Context, tx parley.Tx, svc, key string) (parley.Conversation, error) {
	ref, err := serviceRef(svc)
	if err != nil {
		return parley.Conversation{}, err
	}
	var c parley.Conversation
	if parley.IsSID(parley.PrefixConversation, key) {
		c, err = tx.ConversationBySid(ctx, ref, key)
	} else {
		c, err = tx.ConversationByUniqueName(ctx, ref, key)
	}
	return c, notFound(err)
}

// inConversation reads something of the conversation with SID or unique
// name convKey (its participants, messages, webhooks): a 404 when there
// is no such conversation, else what fn reads of it.
func inConversation[T any](ctx context.Context, a *App, svc, convKey string, fn func(tx parley.Tx, conversationSid string) (T, error)) (T, error) {
	return read(ctx, a, func(tx parley.Tx) (T, error) {
		c, err := findConversation(ctx, tx, svc, convKey)
		if err != nil {
			var zero T
			return zero, err
		}
		return fn(tx, c.Sid)
	})
}

// conversationEvent is the event of a REST write to a conversation, with
// a copy of c.
func conversationEvent(t parley.EventType, c parley.Conversation, at time.Time, opts WriteOptions) parley.Event {
	return parley.Event{Type: t, ServiceSid: c.ServiceSid, Source: opts.source(), ClientIdentity: opts.ClientIdentity, At: at,
		Webhooks: opts.Webhooks, Conversation: &c}
}

// stateEvent reports a state change of c.
func stateEvent(c parley.Conversation, from parley.ConversationState, why parley.StateReason, at time.Time, webhooks bool) parley.Event {
	return parley.Event{Type: parley.EventConversationStateUpdated, ServiceSid: c.ServiceSid, Source: parley.SourceAPI,
		At: at, Webhooks: webhooks, Conversation: &c, StateFrom: from, StateTo: c.State, Reason: why}
}

// errUniqueName is the answer to a unique name taken in the service.
var errUniqueName = parley.Errorf(parley.KindConflict, 50353, "Conversation with provided unique name already exists")

// newConversation is a conversation of svc created at now with the
// account's defaults (messaging service, timers), before the request's
// fields are applied.
func newConversation(sid string, cfg parley.ServiceConfig, acfg parley.AccountConfig, now time.Time) parley.Conversation {
	return parley.Conversation{
		Sid: sid, ServiceSid: cfg.ServiceSid, Attributes: "{}", State: parley.StateActive,
		MessagingServiceSid: acfg.DefaultMessagingServiceSid,
		TimerInactive:       nonZeroTimer(acfg.DefaultInactiveTimer),
		TimerClosed:         nonZeroTimer(acfg.DefaultClosedTimer),
		CreatedBy:           "system", DateCreated: now, DateUpdated: now,
	}
}

// nonZeroTimer is a configured timer, or nil when it is off (PT0S).
func nonZeroTimer(v *string) *string {
	if v == nil {
		return nil
	}
	if d, ok := parley.ParseDuration(*v); !ok || d == 0 {
		return nil
	}
	return v
}

// checkCreate checks a create request: its fields, and that it does not
// start closed (50384).
func (in ConversationInput) checkCreate() (conversationChange, error) {
	ch, err := in.check()
	if err == nil && ch.state == parley.StateClosed {
		err = parley.Errorf(parley.KindInvalid, 50384, "Initial state can't be 'closed'")
	}
	return ch, err
}

// draftConversation is the conversation a create in svc would write at
// now, with sid: the defaults of the service and account, then the
// request's fields. A client SDK user's conversation is created by them
// (created_by), a REST call's by "system".
func (a *App) draftConversation(ctx context.Context, tx parley.Tx, svc, sid string, ch conversationChange, opts WriteOptions) (parley.Conversation, error) {
	ref, err := serviceRef(svc)
	if err != nil {
		return parley.Conversation{}, err
	}
	cfg, err := tx.ServiceConfig(ctx, ref)
	if err != nil {
		return parley.Conversation{}, notFound(err)
	}
	acfg, err := tx.AccountConfig(ctx)
	if err != nil {
		return parley.Conversation{}, err
	}
	now := a.clock()
	c := newConversation(sid, cfg, acfg, now)
	if opts.ClientIdentity != "" {
		c.CreatedBy = opts.ClientIdentity
	}
	ch.apply(&c, now)
	return c, nil
}

// createConversation writes a new conversation in tx: the draft with the
// pre-event's answer applied.
func (a *App) createConversation(ctx context.Context, tx parley.Tx, ev *events, svc string, ch conversationChange,
	answer PreAnswer, opts WriteOptions) (parley.Conversation, error) {
	c, err := a.draftConversation(ctx, tx, svc, a.sids.New(parley.PrefixConversation), ch, opts)
	if err != nil {
		return c, err
	}
	answer.applyTo(&c)
	if err := tx.CreateConversation(ctx, c); err != nil {
		if errors.Is(err, parley.ErrConflict) {
			return parley.Conversation{}, errUniqueName
		}
		return parley.Conversation{}, err
	}
	ev.add(conversationEvent(parley.EventConversationAdded, c, c.DateCreated, opts))
	return c, nil
}

// CreateConversation adds a conversation to svc ("" for the default
// service). With the REST pre-event extension on, onConversationAdd may
// refuse it (403 50056) or change its friendly name.
func (a *App) CreateConversation(ctx context.Context, svc string, in ConversationInput, opts WriteOptions) (parley.Conversation, error) {
	ch, err := in.checkCreate()
	if err != nil {
		return parley.Conversation{}, err
	}
	return a.createWith(ctx, svc, ch, nil, opts)
}

// createWith creates a conversation and, in the same transaction, adds
// the participants (ConversationWithParticipants), after the
// conversation's pre-event.
func (a *App) createWith(ctx context.Context, svc string, ch conversationChange, participants []participantChange, opts WriteOptions) (parley.Conversation, error) {
	answer, err := a.conversationPreEvent(ctx, parley.EventConversationAdd, svc, opts, func(tx parley.Tx) (parley.Conversation, error) {
		return a.draftConversation(ctx, tx, svc, "", ch, opts)
	})
	if err != nil {
		return parley.Conversation{}, err
	}
	var c parley.Conversation
	err = a.update(ctx, func(tx parley.Tx, ev *events) error {
		var err error
		if c, err = a.createConversation(ctx, tx, ev, svc, ch, answer, opts); err != nil || len(participants) == 0 {
			return err
		}
		for _, pc := range participants {
			if _, err := a.addParticipant(ctx, tx, ev, c.ServiceSid, c.Sid, pc, opts); err != nil {
				var pe *parley.Error
				if errors.As(err, &pe) && pe.Code == 50416 {
					// Twilio's code for a pair bound elsewhere, here.
					return parley.Errorf(parley.KindConflict, 50425, "%s", pe.Message)
				}
				return err
			}
		}
		// Read back: adding participants restarted the timers.
		c, err = tx.ConversationBySid(ctx, c.ServiceSid, c.Sid)
		return err
	})
	return c, err
}

// conversationPreEvent runs a conversation pre-event (see askFirst).
func (a *App) conversationPreEvent(ctx context.Context, t parley.EventType, svc string, opts WriteOptions,
	propose func(tx parley.Tx) (parley.Conversation, error)) (PreAnswer, error) {
	return askFirst(ctx, a, opts, propose, func(c parley.Conversation) parley.Event {
		return conversationEvent(t, c, a.clock(), opts)
	})
}

// FetchConversation returns the conversation with SID or unique name key.
func (a *App) FetchConversation(ctx context.Context, svc, key string) (parley.Conversation, error) {
	return read(ctx, a, func(tx parley.Tx) (parley.Conversation, error) { return findConversation(ctx, tx, svc, key) })
}

// UpdateConversation changes a conversation. A closed conversation takes
// no more changes (50377); a State change is also reported as
// onConversationStateUpdated (Reason API), and closing frees the
// conversation's address pairs.
func (a *App) UpdateConversation(ctx context.Context, svc, key string, in ConversationInput, opts WriteOptions) (parley.Conversation, error) {
	ch, err := in.check()
	if err != nil {
		return parley.Conversation{}, err
	}
	answer, err := a.conversationPreEvent(ctx, parley.EventConversationUpdate, svc, opts, func(tx parley.Tx) (parley.Conversation, error) {
		c, err := findConversation(ctx, tx, svc, key)
		if err != nil {
			return c, err
		}
		if err := writable(c); err != nil {
			return c, err
		}
		ch.apply(&c, a.clock())
		return c, nil
	})
	if err != nil {
		return parley.Conversation{}, err
	}
	var c parley.Conversation
	err = a.update(ctx, func(tx parley.Tx, ev *events) error {
		var err error
		if c, err = findConversation(ctx, tx.ForUpdate(), svc, key); err != nil {
			return err
		}
		if err := writable(c); err != nil {
			return err
		}
		from := c.State
		now := a.clock()
		ch.apply(&c, now)
		answer.applyTo(&c)
		if err := tx.UpdateConversation(ctx, c); err != nil {
			if errors.Is(err, parley.ErrConflict) {
				return errUniqueName
			}
			return notFound(err)
		}
		ev.add(conversationEvent(parley.EventConversationUpdated, c, now, opts))
		if c.State != from {
			ev.add(stateEvent(c, from, parley.ReasonAPI, now, opts.Webhooks))
		}
		return nil
	})
	return c, err
}

// DeleteConversation removes a conversation with its participants (and,
// once they exist, its messages and scoped webhooks). Closed ones too.
func (a *App) DeleteConversation(ctx context.Context, svc, key string, opts WriteOptions) error {
	if _, err := a.conversationPreEvent(ctx, parley.EventConversationRemove, svc, opts, func(tx parley.Tx) (parley.Conversation, error) {
		return findConversation(ctx, tx, svc, key)
	}); err != nil {
		return err
	}
	return a.update(ctx, func(tx parley.Tx, ev *events) error {
		c, err := findConversation(ctx, tx.ForUpdate(), svc, key)
		if err != nil {
			return err
		}
		// Its own webhooks go with it, but still get onConversationRemoved.
		hooks, err := tx.ConversationWebhooks(ctx, c.Sid)
		if err != nil {
			return err
		}
		ev.keepScoped(c.Sid, hooks)
		// And its participants, whose users' conversation maps lose it.
		ps, err := allParticipants(ctx, tx, c.Sid)
		if err != nil {
			return err
		}
		ev.keepGone(c.Sid, ps)
		if err := tx.DeleteConversation(ctx, c.ServiceSid, c.Sid); err != nil {
			return notFound(err)
		}
		ev.add(conversationEvent(parley.EventConversationRemoved, c, a.clock(), opts))
		return nil
	})
}

// ConversationListFilter holds a list's filters as sent; nil is absent.
type ConversationListFilter struct {
	State     *string // checked by the HTTP layer against the spec's enum
	StartDate *string
	EndDate   *string
}

// ListConversations returns one page of svc's conversations: in creation
// order, or newest first when a date filter is given (the spec). A
// date-only StartDate means its first second, a date-only EndDate its
// last; EndDate before StartDate is 50396.
func (a *App) ListConversations(ctx context.Context, svc string, lf ConversationListFilter, q parley.PageQuery) (parley.Page[parley.Conversation], error) {
	var f parley.ConversationFilter
	if lf.State != nil {
		f.State = parley.ConversationState(*lf.State)
	}
	var err error
	if f.Start, err = listDate("StartDate", lf.StartDate, false); err != nil {
		return parley.Page[parley.Conversation]{}, err
	}
	if f.End, err = listDate("EndDate", lf.EndDate, true); err != nil {
		return parley.Page[parley.Conversation]{}, err
	}
	if f.Start != nil && f.End != nil && f.End.Before(*f.Start) {
		return parley.Page[parley.Conversation]{}, parley.Errorf(parley.KindInvalid, 50396,
			"EndDate parameter should be greater than StartDate parameter")
	}
	return read(ctx, a, func(tx parley.Tx) (parley.Page[parley.Conversation], error) {
		ref, err := serviceRef(svc)
		if err != nil {
			return parley.Page[parley.Conversation]{}, err
		}
		if svc != "" {
			if _, err := tx.Service(ctx, ref); err != nil {
				return parley.Page[parley.Conversation]{}, notFound(err)
			}
		}
		return tx.ListConversations(ctx, ref, f, q)
	})
}

// listDate reads a list's date filter: an RFC 3339 date-time, or a date
// (YYYY-MM-DD), which means its first second, or for an end its last.
func listDate(param string, v *string, end bool) (*time.Time, error) {
	if v == nil || *v == "" {
		return nil, nil
	}
	if d, err := time.Parse(time.DateOnly, *v); err == nil {
		if end {
			d = d.Add(24*time.Hour - time.Second)
		}
		return &d, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *v)
	if err != nil {
		return nil, parley.InvalidParam("Invalid %s: %q is neither a date (2024-01-31) nor a date-time (2024-01-31T12:00:00Z)", param, *v)
	}
	t = t.UTC()
	return &t, nil
}

// reactivate is activity on c at now (a participant added, later a
// message): an inactive conversation becomes active again, and the
// timers restart. It reports whether the state changed.
func reactivate(c *parley.Conversation, now time.Time) bool {
	changed := c.State == parley.StateInactive
	if changed {
		c.State = parley.StateActive
	}
	restartTimers(c, now)
	return changed
}

// timerBatch is how many due conversations one transaction of FireTimers
// takes.
const timerBatch = 100

// FireTimers moves every conversation whose timer is due at the clock's
// now to its next state (active → inactive → closed), reporting each move
// as onConversationStateUpdated with Reason TIMER, and returns how many
// conversations it changed. Each batch is one transaction; on a shared
// PostgreSQL, nodes firing at once skip each other's rows, so every timer
// fires exactly once.
func (a *App) FireTimers(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		err := a.update(ctx, func(tx parley.Tx, ev *events) error {
			n = 0
			now := a.now().UTC()
			due, err := tx.DueConversations(ctx, now, timerBatch)
			if err != nil {
				return err
			}
			for _, c := range due {
				if err := a.fire(ctx, tx, ev, c, now); err != nil {
					return err
				}
			}
			n = len(due)
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < timerBatch {
			return total, nil
		}
	}
}

// fire applies c's timers due at now. Firing does not change date_updated:
// nothing about the conversation was updated but its state, which the
// event reports with its own time.
func (a *App) fire(ctx context.Context, tx parley.Tx, ev *events, c parley.Conversation, now time.Time) error {
	steps := []struct {
		from, to parley.ConversationState
		at       *time.Time
	}{
		{parley.StateActive, parley.StateInactive, c.DateInactive},
		{parley.StateInactive, parley.StateClosed, c.DateClosed},
		{parley.StateActive, parley.StateClosed, c.DateClosed},
	}
	var moves []parley.Event
	for _, s := range steps {
		if c.State == s.from && s.at != nil && !s.at.After(now) {
			c.State = s.to
			moves = append(moves, stateEvent(c, s.from, parley.ReasonTimer, *s.at, true))
		}
	}
	// Written even without a move, which would mean the stored
	// next_timer_at disagreed with the row: the write recomputes it.
	if err := tx.UpdateConversation(ctx, c); err != nil {
		return err
	}
	for _, e := range moves {
		ev.add(e)
	}
	return nil
}

// ConversationCounts are how many participants and messages a
// conversation has (the client SDK's getParticipantsCount and
// getMessagesCount).
func (a *App) ConversationCounts(ctx context.Context, svc, conv string) (participants, messages int64, err error) {
	err = a.store.View(ctx, func(tx parley.Tx) error {
		c, err := findConversation(ctx, tx, svc, conv)
		if err != nil {
			return err
		}
		pc, err := tx.CountParticipants(ctx, c.Sid)
		if err != nil {
			return err
		}
		participants = int64(pc.Chat + pc.NonChat)
		messages, err = tx.CountMessages(ctx, c.Sid)
		return err
	})
	return participants, messages, err
}
