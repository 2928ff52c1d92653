package api

import (
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/spec"
)

// membershipFields is how a participant with its conversation appears on
// the wire: as a UserConversation (the user's view of a conversation) and
// as a ParticipantConversation (conversation_* and participant_* keys).
// One table serves both schemas; each binds the keys it has.
var membershipFields = fields[parley.Membership]{
	"chat_service_sid": str(func(m *parley.Membership) string { return m.Conversation.ServiceSid }),
	"conversation_sid": str(func(m *parley.Membership) string { return m.Conversation.Sid }),
	"participant_sid":  str(func(m *parley.Membership) string { return m.Participant.Sid }),
	"user_sid":         str(func(m *parley.Membership) string { return deref(m.Participant.UserSid) }),

	// UserConversation: the participant's horizon and the conversation.
	"unread_messages_count":   optInt(unreadMessages),
	"last_read_message_index": optInt(func(m *parley.Membership) *int64 { return m.Participant.LastReadMessageIndex }),
	"friendly_name":           optStr(func(m *parley.Membership) *string { return m.Conversation.FriendlyName }),
	"unique_name":             optStr(func(m *parley.Membership) *string { return m.Conversation.UniqueName }),
	"conversation_state":      str(func(m *parley.Membership) string { return string(m.Conversation.State) }),
	"timers":                  rawJSON(func(m *parley.Membership) string { return timersJSON(&m.Conversation) }),
	"attributes":              str(func(m *parley.Membership) string { return m.Conversation.Attributes }),
	"date_created":            date(func(m *parley.Membership) time.Time { return m.Conversation.DateCreated }),
	"date_updated":            date(func(m *parley.Membership) time.Time { return m.Conversation.DateUpdated }),
	"created_by":              str(func(m *parley.Membership) string { return m.Conversation.CreatedBy }),
	"notification_level":      str(func(m *parley.Membership) string { return m.Participant.NotificationLevel }),

	// ParticipantConversation.
	"participant_user_sid":          optStr(func(m *parley.Membership) *string { return m.Participant.UserSid }),
	"participant_identity":          optStr(func(m *parley.Membership) *string { return m.Participant.Identity }),
	"participant_messaging_binding": rawJSON(func(m *parley.Membership) string { return bindingJSON(m.Participant.Binding, true) }),
	"conversation_unique_name":      optStr(func(m *parley.Membership) *string { return m.Conversation.UniqueName }),
	"conversation_friendly_name":    optStr(func(m *parley.Membership) *string { return m.Conversation.FriendlyName }),
	"conversation_attributes":       str(func(m *parley.Membership) string { return m.Conversation.Attributes }),
	"conversation_date_created":     date(func(m *parley.Membership) time.Time { return m.Conversation.DateCreated }),
	"conversation_date_updated":     date(func(m *parley.Membership) time.Time { return m.Conversation.DateUpdated }),
	"conversation_created_by":       str(func(m *parley.Membership) string { return m.Conversation.CreatedBy }),
	"conversation_timers":           rawJSON(func(m *parley.Membership) string { return timersJSON(&m.Conversation) }),
}

// unreadMessages is core.UnreadMessages for the wire's field.
func unreadMessages(m *parley.Membership) *int64 { return core.UnreadMessages(*m) }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Server) fetchUserConversation(q *req) call[parley.Membership] {
	svc, user, conv := q.service(), q.path("UserSid"), q.path("ConversationSid")
	return func() (parley.Membership, error) { return s.app.FetchUserConversation(q.ctx, svc, user, conv) }
}

func (s *Server) updateUserConversation(q *req) call[parley.Membership] {
	// The spec gives these no X-Twilio-Webhook-Enabled: they fire no webhooks.
	svc, user, conv, opts := q.service(), q.path("UserSid"), q.path("ConversationSid"), core.WriteOptions{}
	in := core.UserConversationUpdate{
		NotificationLevel:    q.str("NotificationLevel"),
		LastReadTimestamp:    q.str("LastReadTimestamp"),
		LastReadMessageIndex: q.scalar(q.param("LastReadMessageIndex", spec.TypeInteger)),
	}
	return func() (parley.Membership, error) {
		return s.app.UpdateUserConversation(q.ctx, svc, user, conv, in, opts)
	}
}

func (s *Server) deleteUserConversation(q *req) call[struct{}] {
	// The spec gives these no X-Twilio-Webhook-Enabled: they fire no webhooks.
	svc, user, conv, opts := q.service(), q.path("UserSid"), q.path("ConversationSid"), core.WriteOptions{}
	return func() (struct{}, error) {
		return struct{}{}, s.app.DeleteUserConversation(q.ctx, svc, user, conv, opts)
	}
}

func (s *Server) listUserConversations(q *req) lister[parley.Membership] {
	svc, user := q.service(), q.path("UserSid")
	return func(pq parley.PageQuery) (parley.Page[parley.Membership], error) {
		return s.app.ListUserConversations(q.ctx, svc, user, pq)
	}
}

func (s *Server) listParticipantConversations(q *req) lister[parley.Membership] {
	svc, identity, address := q.service(), q.str("Identity"), q.str("Address")
	return func(pq parley.PageQuery) (parley.Page[parley.Membership], error) {
		return s.app.ListParticipantConversations(q.ctx, svc, identity, address, pq)
	}
}

// createConversationWithParticipants reads the conversation's parameters
// and each Participant value, a JSON object.
func (s *Server) createConversationWithParticipants(q *req) call[parley.Conversation] {
	svc, in, opts := q.service(), conversationInput(q), q.webhooks()
	var parts []core.ParticipantInput
	for _, v := range q.list("Participant") {
		p, err := core.ParseParticipantJSON(v)
		if err != nil {
			q.fail(err)
			break
		}
		parts = append(parts, p)
	}
	return func() (parley.Conversation, error) {
		return s.app.CreateConversationWithParticipants(q.ctx, svc, in, parts, opts)
	}
}
