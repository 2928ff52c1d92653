package api

import (
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/spec"
)

// conversationWebhookFields is how conversation-scoped webhooks appear on
// the wire, in both scopes.
var conversationWebhookFields = fields[parley.ConversationWebhook]{
	"sid":              str(func(w *parley.ConversationWebhook) string { return w.Sid }),
	"chat_service_sid": str(func(w *parley.ConversationWebhook) string { return w.ServiceSid }),
	"conversation_sid": str(func(w *parley.ConversationWebhook) string { return w.ConversationSid }),
	"target":           str(func(w *parley.ConversationWebhook) string { return w.Target }),
	"configuration":    rawJSON(webhookConfigurationJSON),
	"date_created":     date(func(w *parley.ConversationWebhook) time.Time { return w.DateCreated }),
	"date_updated":     date(func(w *parley.ConversationWebhook) time.Time { return w.DateUpdated }),
}

// webhookConfigurationJSON is a webhook's configuration as Twilio's
// examples show it per target: url, method and filters (a trigger's
// keywords under filters, as the examples put them, and under triggers
// too), or a Studio flow's SID.
func webhookConfigurationJSON(w *parley.ConversationWebhook) string {
	var v any
	switch w.Target {
	case "studio":
		v = struct {
			FlowSid *string `json:"flow_sid"`
		}{w.FlowSid}
	case "trigger":
		v = struct {
			URL      *string  `json:"url"`
			Method   *string  `json:"method"`
			Filters  []string `json:"filters"`
			Triggers []string `json:"triggers"`
		}{w.URL, w.Method, w.Triggers, w.Triggers}
	default:
		v = struct {
			URL     *string  `json:"url"`
			Method  *string  `json:"method"`
			Filters []string `json:"filters"`
		}{w.URL, w.Method, w.Filters}
	}
	return marshal(v)
}

// conversationWebhookInput reads the configuration of a create or update;
// Target and ReplayAfter where the operation has them. Target is read as
// sent, so that core answers a missing or unknown one with Twilio's codes.
func conversationWebhookInput(q *req) core.ConversationWebhookInput {
	in := core.ConversationWebhookInput{
		URL:      q.str("Configuration.Url"),
		Method:   q.str("Configuration.Method"),
		Filters:  q.list("Configuration.Filters"),
		Triggers: q.list("Configuration.Triggers"),
		FlowSid:  q.str("Configuration.FlowSid"),
	}
	if q.op.Param("Target") != nil {
		in.Target = q.scalar(q.param("Target", spec.TypeEnum))
		in.ReplayAfter = q.integer("Configuration.ReplayAfter")
	}
	return in
}

func (s *Server) createConversationWebhook(q *req) call[parley.ConversationWebhook] {
	svc, conv, in := q.service(), q.path("ConversationSid"), conversationWebhookInput(q)
	return func() (parley.ConversationWebhook, error) {
		return s.app.CreateConversationWebhook(q.ctx, svc, conv, in)
	}
}

func (s *Server) fetchConversationWebhook(q *req) call[parley.ConversationWebhook] {
	svc, conv, sid := q.service(), q.path("ConversationSid"), q.path("Sid")
	return func() (parley.ConversationWebhook, error) {
		return s.app.FetchConversationWebhook(q.ctx, svc, conv, sid)
	}
}

func (s *Server) updateConversationWebhook(q *req) call[parley.ConversationWebhook] {
	svc, conv, sid, in := q.service(), q.path("ConversationSid"), q.path("Sid"), conversationWebhookInput(q)
	return func() (parley.ConversationWebhook, error) {
		return s.app.UpdateConversationWebhook(q.ctx, svc, conv, sid, in)
	}
}

func (s *Server) deleteConversationWebhook(q *req) call[struct{}] {
	svc, conv, sid := q.service(), q.path("ConversationSid"), q.path("Sid")
	return func() (struct{}, error) { return struct{}{}, s.app.DeleteConversationWebhook(q.ctx, svc, conv, sid) }
}

func (s *Server) listConversationWebhooks(q *req) lister[parley.ConversationWebhook] {
	svc, conv := q.service(), q.path("ConversationSid")
	return func(pq parley.PageQuery) (parley.Page[parley.ConversationWebhook], error) {
		return s.app.ListConversationWebhooks(q.ctx, svc, conv, pq)
	}
}
