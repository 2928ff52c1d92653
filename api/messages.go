package api

import (
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
)

// messageFields is how messages appear on the wire, in both scopes.
var messageFields = fields[parley.Message]{
	"sid":              str(func(m *parley.Message) string { return m.Sid }),
	"chat_service_sid": str(func(m *parley.Message) string { return m.ServiceSid }),
	"conversation_sid": str(func(m *parley.Message) string { return m.ConversationSid }),
	"index":            integer(func(m *parley.Message) int64 { return m.Index }),
	"author":           str(func(m *parley.Message) string { return m.Author }),
	"body":             optStr(func(m *parley.Message) *string { return m.Body }),
	// delivery is null until a receipt exists (decision 8).
	"media":           rawJSON(func(m *parley.Message) string { return mediaJSON(m.Media) }),
	"delivery":        rawJSON(func(m *parley.Message) string { return deref(m.Delivery) }),
	"attributes":      str(func(m *parley.Message) string { return m.Attributes }),
	"participant_sid": optStr(func(m *parley.Message) *string { return m.ParticipantSid }),
	"date_created":    date(func(m *parley.Message) time.Time { return m.DateCreated }),
	"date_updated":    date(func(m *parley.Message) time.Time { return m.DateUpdated }),
	"content_sid":     optStr(func(m *parley.Message) *string { return m.ContentSid }),
}

// messageInput reads a message create or update; the create-only
// parameters only where the operation has them.
func messageInput(q *req) core.MessageInput {
	in := core.MessageInput{
		Author:      q.str("Author"),
		Body:        q.str("Body"),
		Attributes:  q.str("Attributes"),
		Subject:     q.str("Subject"),
		DateCreated: q.str("DateCreated"),
		DateUpdated: q.str("DateUpdated"),
	}
	if q.op.Param("MediaSid") != nil {
		in.MediaSid, in.ContentSid, in.ContentVariables = q.str("MediaSid"), q.str("ContentSid"), q.str("ContentVariables")
	}
	return in
}

func (s *Server) createMessage(q *req) call[parley.Message] {
	svc, conv, in, opts := q.service(), q.path("ConversationSid"), messageInput(q), q.webhooks()
	return func() (parley.Message, error) { return s.app.CreateMessage(q.ctx, svc, conv, in, opts) }
}

func (s *Server) fetchMessage(q *req) call[parley.Message] {
	svc, conv, sid := q.service(), q.path("ConversationSid"), q.path("Sid")
	return func() (parley.Message, error) { return s.app.FetchMessage(q.ctx, svc, conv, sid) }
}

func (s *Server) updateMessage(q *req) call[parley.Message] {
	svc, conv, sid, in, opts := q.service(), q.path("ConversationSid"), q.path("Sid"), messageInput(q), q.webhooks()
	return func() (parley.Message, error) { return s.app.UpdateMessage(q.ctx, svc, conv, sid, in, opts) }
}

func (s *Server) deleteMessage(q *req) call[struct{}] {
	svc, conv, sid, opts := q.service(), q.path("ConversationSid"), q.path("Sid"), q.webhooks()
	return func() (struct{}, error) { return struct{}{}, s.app.DeleteMessage(q.ctx, svc, conv, sid, opts) }
}

func (s *Server) listMessages(q *req) lister[parley.Message] {
	svc, conv := q.service(), q.path("ConversationSid")
	return func(pq parley.PageQuery) (parley.Page[parley.Message], error) {
		return s.app.ListMessages(q.ctx, svc, conv, pq)
	}
}

// mediaJSON is a message's "media": the array of what it carries, or ""
// (null) for none.
func mediaJSON(media []parley.MediaRef) string {
	if len(media) == 0 {
		return ""
	}
	return marshal(media)
}
