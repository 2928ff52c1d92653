package api

import (
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/spec"
)

// participantFields is how participants appear on the wire, in both
// scopes (the account-level schema has no chat_service_sid).
var participantFields = fields[parley.Participant]{
	"sid":                     str(func(p *parley.Participant) string { return p.Sid }),
	"chat_service_sid":        str(func(p *parley.Participant) string { return p.ServiceSid }),
	"conversation_sid":        str(func(p *parley.Participant) string { return p.ConversationSid }),
	"identity":                optStr(func(p *parley.Participant) *string { return p.Identity }),
	"attributes":              str(func(p *parley.Participant) string { return p.Attributes }),
	"messaging_binding":       rawJSON(func(p *parley.Participant) string { return bindingJSON(p.Binding, false) }),
	"role_sid":                optStr(func(p *parley.Participant) *string { return p.RoleSid }),
	"date_created":            date(func(p *parley.Participant) time.Time { return p.DateCreated }),
	"date_updated":            date(func(p *parley.Participant) time.Time { return p.DateUpdated }),
	"last_read_message_index": optInt(func(p *parley.Participant) *int64 { return p.LastReadMessageIndex }),
	"last_read_timestamp":     optStr(func(p *parley.Participant) *string { return p.LastReadTimestamp }),
}

// bindingJSON is a participant's messaging_binding: null for a chat
// participant without a projected address; otherwise the keys that are
// set (Twilio's participant examples), or, with all, every key with nulls
// (its ParticipantConversation examples).
func bindingJSON(m parley.MessagingBinding, all bool) string {
	if m.Type == "" {
		return ""
	}
	b := append([]byte(nil), `{"type":`...)
	b = appendString(b, m.Type)
	for _, kv := range []struct {
		key string
		v   *string
	}{{"address", m.Address}, {"proxy_address", m.ProxyAddress}, {"projected_address", m.ProjectedAddress}} {
		if kv.v != nil || all {
			b = append(b, ',', '"')
			b = append(b, kv.key...)
			b = append(b, '"', ':')
			b = appendOptString(b, kv.v)
		}
	}
	if all {
		b = append(b, `,"level":null,"name":null`...)
	}
	return string(append(b, '}'))
}

// participantInput reads what a participant create or update takes; the
// update's LastReadMessageIndex is read as sent, so that core answers a
// bad one with Twilio's 50421.
func participantInput(q *req) core.ParticipantInput {
	in := core.ParticipantInput{
		Identity:         q.str("Identity"),
		Attributes:       q.str("Attributes"),
		RoleSid:          q.str("RoleSid"),
		ProxyAddress:     q.str("MessagingBinding.ProxyAddress"),
		ProjectedAddress: q.str("MessagingBinding.ProjectedAddress"),
		DateCreated:      q.str("DateCreated"),
		DateUpdated:      q.str("DateUpdated"),
	}
	// Not in the spec, but Twilio answers them with 50420 for every
	// binding but email.
	_, name := q.form["MessagingBinding.Name"]
	_, level := q.form["MessagingBinding.Level"]
	in.BindingNameOrLevel = name || level
	if q.op.Param("MessagingBinding.Address") != nil {
		in.Address = q.str("MessagingBinding.Address")
	}
	if q.op.Param("LastReadMessageIndex") != nil {
		in.LastReadMessageIndex = q.scalar(q.param("LastReadMessageIndex", spec.TypeInteger))
		in.LastReadTimestamp = q.str("LastReadTimestamp")
	}
	return in
}

func (s *Server) createParticipant(q *req) call[parley.Participant] {
	svc, conv, in, opts := q.service(), q.path("ConversationSid"), participantInput(q), q.webhooks()
	return func() (parley.Participant, error) { return s.app.CreateParticipant(q.ctx, svc, conv, in, opts) }
}

func (s *Server) fetchParticipant(q *req) call[parley.Participant] {
	svc, conv, key := q.service(), q.path("ConversationSid"), q.path("Sid")
	return func() (parley.Participant, error) { return s.app.FetchParticipant(q.ctx, svc, conv, key) }
}

func (s *Server) updateParticipant(q *req) call[parley.Participant] {
	svc, conv, key, in, opts := q.service(), q.path("ConversationSid"), q.path("Sid"), participantInput(q), q.webhooks()
	return func() (parley.Participant, error) { return s.app.UpdateParticipant(q.ctx, svc, conv, key, in, opts) }
}

func (s *Server) deleteParticipant(q *req) call[struct{}] {
	svc, conv, key, opts := q.service(), q.path("ConversationSid"), q.path("Sid"), q.webhooks()
	return func() (struct{}, error) { return struct{}{}, s.app.DeleteParticipant(q.ctx, svc, conv, key, opts) }
}

func (s *Server) listParticipants(q *req) lister[parley.Participant] {
	svc, conv := q.service(), q.path("ConversationSid")
	return func(pq parley.PageQuery) (parley.Page[parley.Participant], error) {
		return s.app.ListParticipants(q.ctx, svc, conv, pq)
	}
}
