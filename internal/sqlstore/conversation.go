package sqlstore

import (
	"context"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
)

// ---- Conversations

const conversationCols = `seq, sid, service_sid, unique_name, friendly_name, attributes, messaging_service_sid,
	state, timer_inactive, timer_closed, date_inactive, date_closed, email_address, email_name, created_by,
	date_created, date_updated, last_message_index`

// conversationColsOf is conversationCols qualified with a table alias, for
// joins.
func conversationColsOf(alias string) string { return qualify(alias, conversationCols) }

func scanConversation(s scanner) (parley.Conversation, error) {
	var c parley.Conversation
	err := s.Scan(conversationDest(&c)...)
	return c, err
}

func conversationDest(c *parley.Conversation) []any {
	return []any{&c.Seq, &c.Sid, &c.ServiceSid, nullString{&c.UniqueName}, nullString{&c.FriendlyName}, &c.Attributes,
		nullString{&c.MessagingServiceSid}, &c.State, nullString{&c.TimerInactive}, nullString{&c.TimerClosed},
		nullSeconds{&c.DateInactive}, nullSeconds{&c.DateClosed}, nullString{&c.EmailAddress}, nullString{&c.EmailName},
		&c.CreatedBy, seconds{&c.DateCreated}, seconds{&c.DateUpdated}, &c.LastMessageIndex}
}

func (t *Tx) ConversationBySid(ctx context.Context, serviceSid, sid string) (parley.Conversation, error) {
	return get(t, ctx, scanConversation, "SELECT "+conversationCols+" FROM conversations WHERE sid = ? AND service_sid = "+serviceRef,
		sid, serviceSid)
}

func (t *Tx) ConversationByUniqueName(ctx context.Context, serviceSid, uniqueName string) (parley.Conversation, error) {
	return get(t, ctx, scanConversation, "SELECT "+conversationCols+" FROM conversations WHERE service_sid = "+serviceRef+
		" AND unique_name = ?", serviceSid, uniqueName)
}

func (t *Tx) ListConversations(ctx context.Context, serviceSid string, f parley.ConversationFilter, q parley.PageQuery) (parley.Page[parley.Conversation], error) {
	from, args := "FROM conversations WHERE service_sid = "+serviceRef, []any{serviceSid}
	if f.State != "" {
		from, args = from+" AND state = ?", append(args, string(f.State))
	}
	if f.Start != nil {
		from, args = from+" AND date_created >= ?", append(args, t.d.Seconds(*f.Start))
	}
	if f.End != nil {
		from, args = from+" AND date_created <= ?", append(args, t.d.Seconds(*f.End))
	}
	o := bySeq(func(c parley.Conversation) int64 { return c.Seq })
	if f.Start != nil || f.End != nil {
		// Newest date_created first, as the spec orders a date-filtered
		// list; imports (DateCreated overrides) make that differ from
		// creation order, so the date is the key.
		q.Desc = true
		o.key = "date_created"
		o.keyOf = func(c parley.Conversation) string { return strconv.FormatInt(c.DateCreated.Unix(), 10) }
		o.keyArg = func(k string) (any, error) {
			n, err := strconv.ParseInt(k, 10, 64)
			return t.d.Seconds(time.Unix(n, 0)), err
		}
	}
	return page(t, ctx, conversationCols, from, args, q, scanConversation, o)
}

func (t *Tx) CreateConversation(ctx context.Context, c parley.Conversation) error {
	_, err := t.exec(ctx, false, `INSERT INTO conversations (sid, service_sid, unique_name, friendly_name, attributes,
		messaging_service_sid, state, timer_inactive, timer_closed, date_inactive, date_closed, next_timer_at,
		email_address, email_name, created_by, date_created, date_updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Sid, c.ServiceSid, c.UniqueName, c.FriendlyName, c.Attributes, c.MessagingServiceSid, string(c.State),
		c.TimerInactive, c.TimerClosed, t.optSeconds(c.DateInactive), t.optSeconds(c.DateClosed),
		t.optSeconds(c.NextTimer()), c.EmailAddress, c.EmailName, c.CreatedBy,
		t.d.Seconds(c.DateCreated), t.d.Seconds(c.DateUpdated))
	return err
}

func (t *Tx) UpdateConversation(ctx context.Context, c parley.Conversation) error {
	err := t.execOne(ctx, false, `UPDATE conversations SET unique_name = ?, friendly_name = ?, attributes = ?,
		messaging_service_sid = ?, state = ?, timer_inactive = ?, timer_closed = ?, date_inactive = ?,
		date_closed = ?, next_timer_at = ?, email_address = ?, email_name = ?, date_created = ?, date_updated = ?
		WHERE sid = ?`,
		c.UniqueName, c.FriendlyName, c.Attributes, c.MessagingServiceSid, string(c.State), c.TimerInactive,
		c.TimerClosed, t.optSeconds(c.DateInactive), t.optSeconds(c.DateClosed), t.optSeconds(c.NextTimer()),
		c.EmailAddress, c.EmailName, t.d.Seconds(c.DateCreated), t.d.Seconds(c.DateUpdated), c.Sid)
	if err != nil || c.State != parley.StateClosed {
		return err
	}
	// A closed conversation holds no address pairs: they are free for
	// another conversation.
	_, err = t.exec(ctx, false, "UPDATE participants SET pair_key = NULL WHERE conversation_sid = ? AND pair_key IS NOT NULL", c.Sid)
	return err
}

func (t *Tx) DeleteConversation(ctx context.Context, serviceSid, sid string) error {
	return t.execOne(ctx, true, "DELETE FROM conversations WHERE sid = ? AND service_sid = ?", sid, serviceSid)
}

func (t *Tx) DueConversations(ctx context.Context, now time.Time, limit int) ([]parley.Conversation, error) {
	return list(t, ctx, scanConversation, "SELECT "+conversationCols+` FROM conversations
		WHERE next_timer_at IS NOT NULL AND next_timer_at <= ? ORDER BY next_timer_at, seq LIMIT ? `+t.d.SkipLocked,
		t.d.Seconds(now), limit)
}

func (t *Tx) NextConversationTimer(ctx context.Context) (*time.Time, error) {
	var next *time.Time
	err := t.c.QueryRow(ctx, t.d.rebind("SELECT MIN(next_timer_at) FROM conversations WHERE next_timer_at IS NOT NULL")).
		Scan(nullSeconds{&next})
	if err != nil {
		return nil, t.d.mapError(err, false)
	}
	return next, nil
}

// CountDueConversations reads the timers index (conversations_timers).
func (t *Tx) CountDueConversations(ctx context.Context, now time.Time) (int64, error) {
	return count(t, ctx, "SELECT count(*) FROM conversations WHERE next_timer_at IS NOT NULL AND next_timer_at <= ?",
		t.d.Seconds(now))
}

// optSeconds is a time that may be unset as a column value.
func (t *Tx) optSeconds(at *time.Time) any {
	if at == nil {
		return nil
	}
	return t.d.Seconds(*at)
}
