package api

import (
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
)

// conversationFields is how conversations appear on the wire, in both
// scopes and as the result of ConversationWithParticipants.
var conversationFields = fields[parley.Conversation]{
	"sid":                   str(func(c *parley.Conversation) string { return c.Sid }),
	"chat_service_sid":      str(func(c *parley.Conversation) string { return c.ServiceSid }),
	"messaging_service_sid": optStr(func(c *parley.Conversation) *string { return c.MessagingServiceSid }),
	"friendly_name":         optStr(func(c *parley.Conversation) *string { return c.FriendlyName }),
	"unique_name":           optStr(func(c *parley.Conversation) *string { return c.UniqueName }),
	"attributes":            str(func(c *parley.Conversation) string { return c.Attributes }),
	"state":                 str(func(c *parley.Conversation) string { return string(c.State) }),
	"date_created":          date(func(c *parley.Conversation) time.Time { return c.DateCreated }),
	"date_updated":          date(func(c *parley.Conversation) time.Time { return c.DateUpdated }),
	"timers":                rawJSON(timersJSON),
	"bindings":              rawJSON(bindingsJSON),
}

// timersJSON is Twilio's timers object: only the keys of the timers that
// are set, {} when none is.
func timersJSON(c *parley.Conversation) string {
	b := []byte{'{'}
	if c.DateInactive != nil {
		b = append(b, `"date_inactive":`...)
		b = appendDate(b, *c.DateInactive)
	}
	if c.DateClosed != nil {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, `"date_closed":`...)
		b = appendDate(b, *c.DateClosed)
	}
	return string(append(b, '}'))
}

// bindingsJSON is {} but for email conversations, which show their
// projected address and name.
func bindingsJSON(c *parley.Conversation) string {
	if c.EmailAddress == nil && c.EmailName == nil {
		return "{}"
	}
	b := append([]byte(nil), `{"email":{"projected_address":`...)
	b = appendOptString(b, c.EmailAddress)
	b = append(b, `,"name":`...)
	b = appendOptString(b, c.EmailName)
	return string(append(b, "}}"...))
}

// appendOptString writes s as a JSON string, or null.
func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

// conversationInput reads the parameters a conversation create or update
// takes. State, the timers and the dates are read as sent: their checks,
// with Twilio's codes, are core's.
func conversationInput(q *req) core.ConversationInput {
	return core.ConversationInput{
		FriendlyName:        q.str("FriendlyName"),
		UniqueName:          q.str("UniqueName"),
		Attributes:          q.str("Attributes"),
		MessagingServiceSid: q.str("MessagingServiceSid"),
		State:               q.str("State"),
		TimerInactive:       q.str("Timers.Inactive"),
		TimerClosed:         q.str("Timers.Closed"),
		DateCreated:         q.str("DateCreated"),
		DateUpdated:         q.str("DateUpdated"),
		EmailAddress:        q.str("Bindings.Email.Address"),
		EmailName:           q.str("Bindings.Email.Name"),
	}
}

func (s *Server) createConversation(q *req) call[parley.Conversation] {
	svc, in, opts := q.service(), conversationInput(q), q.webhooks()
	return func() (parley.Conversation, error) { return s.app.CreateConversation(q.ctx, svc, in, opts) }
}

func (s *Server) updateConversation(q *req) call[parley.Conversation] {
	svc, key, in, opts := q.service(), q.path("Sid"), conversationInput(q), q.webhooks()
	return func() (parley.Conversation, error) { return s.app.UpdateConversation(q.ctx, svc, key, in, opts) }
}

func (s *Server) listConversations(q *req) lister[parley.Conversation] {
	svc := q.service()
	f := core.ConversationListFilter{StartDate: q.str("StartDate"), EndDate: q.str("EndDate"), State: q.enum("State")}
	return func(pq parley.PageQuery) (parley.Page[parley.Conversation], error) {
		return s.app.ListConversations(q.ctx, svc, f, pq)
	}
}
