package api

import (
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
)

// Services, their roles, and the two configurations with their webhooks.

var serviceFields = fields[parley.Service]{
	"sid":           str(func(v *parley.Service) string { return v.Sid }),
	"friendly_name": str(func(v *parley.Service) string { return v.FriendlyName }),
	"date_created":  date(func(v *parley.Service) time.Time { return v.DateCreated }),
	"date_updated":  date(func(v *parley.Service) time.Time { return v.DateUpdated }),
}

func (s *Server) createService(q *req) call[parley.Service] {
	name := q.text("FriendlyName")
	return func() (parley.Service, error) { return s.app.CreateService(q.ctx, name) }
}

var roleFields = fields[parley.Role]{
	"sid":              str(func(r *parley.Role) string { return r.Sid }),
	"chat_service_sid": str(func(r *parley.Role) string { return r.ServiceSid }),
	"friendly_name":    str(func(r *parley.Role) string { return r.FriendlyName }),
	"type":             str(func(r *parley.Role) string { return string(r.Type) }),
	"permissions":      strs(func(r *parley.Role) []string { return r.Permissions }),
	"date_created":     date(func(r *parley.Role) time.Time { return r.DateCreated }),
	"date_updated":     date(func(r *parley.Role) time.Time { return r.DateUpdated }),
}

func (s *Server) createRole(q *req) call[parley.Role] {
	svc := q.service()
	// Type is read as sent: core answers a wrong one with Twilio's 50105.
	in := core.RoleCreate{FriendlyName: q.text("FriendlyName"), Type: q.text("Type"), Permissions: q.list("Permission")}
	return func() (parley.Role, error) { return s.app.CreateRole(q.ctx, svc, in) }
}

func (s *Server) updateRole(q *req) call[parley.Role] {
	svc, sid, perms := q.service(), q.path("Sid"), q.list("Permission")
	return func() (parley.Role, error) { return s.app.UpdateRole(q.ctx, svc, sid, perms) }
}

var serviceConfigFields = fields[parley.ServiceConfig]{
	"chat_service_sid":                      str(func(c *parley.ServiceConfig) string { return c.ServiceSid }),
	"default_conversation_creator_role_sid": str(func(c *parley.ServiceConfig) string { return c.DefaultConversationCreatorRoleSid }),
	"default_conversation_role_sid":         str(func(c *parley.ServiceConfig) string { return c.DefaultConversationRoleSid }),
	"default_chat_service_role_sid":         str(func(c *parley.ServiceConfig) string { return c.DefaultChatServiceRoleSid }),
	"reachability_enabled":                  boolean(func(c *parley.ServiceConfig) bool { return c.ReachabilityEnabled }),
	// The service's webhook configuration shares the row.
	"pre_webhook_url":  optStr(func(c *parley.ServiceConfig) *string { return c.Webhooks.PreWebhookURL }),
	"post_webhook_url": optStr(func(c *parley.ServiceConfig) *string { return c.Webhooks.PostWebhookURL }),
	"filters":          strs(func(c *parley.ServiceConfig) []string { return c.Webhooks.Filters }),
	"method":           optStr(func(c *parley.ServiceConfig) *string { return c.Webhooks.Method }),
}

func (s *Server) updateServiceConfig(q *req) call[parley.ServiceConfig] {
	svc := q.service()
	in := core.ServiceConfigUpdate{
		DefaultChatServiceRoleSid:         q.str("DefaultChatServiceRoleSid"),
		DefaultConversationRoleSid:        q.str("DefaultConversationRoleSid"),
		DefaultConversationCreatorRoleSid: q.str("DefaultConversationCreatorRoleSid"),
		ReachabilityEnabled:               q.boolean("ReachabilityEnabled"),
	}
	return func() (parley.ServiceConfig, error) { return s.app.UpdateServiceConfig(q.ctx, svc, in) }
}

func (s *Server) updateServiceWebhooks(q *req) call[parley.ServiceConfig] {
	svc, in := q.service(), webhookUpdate(q, false)
	return func() (parley.ServiceConfig, error) { return s.app.UpdateServiceWebhooks(q.ctx, svc, in) }
}

var accountConfigFields = fields[parley.AccountConfig]{
	"default_chat_service_sid":      str(func(c *parley.AccountConfig) string { return c.DefaultChatServiceSid }),
	"default_messaging_service_sid": optStr(func(c *parley.AccountConfig) *string { return c.DefaultMessagingServiceSid }),
	"default_inactive_timer":        optStr(func(c *parley.AccountConfig) *string { return c.DefaultInactiveTimer }),
	"default_closed_timer":          optStr(func(c *parley.AccountConfig) *string { return c.DefaultClosedTimer }),
	// The account's webhook configuration shares the row.
	"method":           optStr(func(c *parley.AccountConfig) *string { return c.Webhooks.Method }),
	"filters":          strs(func(c *parley.AccountConfig) []string { return c.Webhooks.Filters }),
	"pre_webhook_url":  optStr(func(c *parley.AccountConfig) *string { return c.Webhooks.PreWebhookURL }),
	"post_webhook_url": optStr(func(c *parley.AccountConfig) *string { return c.Webhooks.PostWebhookURL }),
	"target":           optStr(func(c *parley.AccountConfig) *string { return c.Webhooks.Target }),
}

func (s *Server) updateAccountConfig(q *req) call[parley.AccountConfig] {
	in := core.AccountConfigUpdate{
		DefaultChatServiceSid:      q.str("DefaultChatServiceSid"),
		DefaultMessagingServiceSid: q.str("DefaultMessagingServiceSid"),
		DefaultInactiveTimer:       q.duration("DefaultInactiveTimer"),
		DefaultClosedTimer:         q.duration("DefaultClosedTimer"),
	}
	return func() (parley.AccountConfig, error) { return s.app.UpdateAccountConfig(q.ctx, in) }
}

func (s *Server) updateAccountWebhooks(q *req) call[parley.AccountConfig] {
	in := webhookUpdate(q, true)
	return func() (parley.AccountConfig, error) { return s.app.UpdateAccountWebhooks(q.ctx, in) }
}

// webhookUpdate reads PreWebhookUrl, PostWebhookUrl, Filters, Method and,
// at the account level, Target. Method and Target are read as sent: core
// answers wrong ones with its own messages.
func webhookUpdate(q *req, account bool) core.WebhookUpdate {
	in := core.WebhookUpdate{Method: q.str("Method"), Filters: q.list("Filters"),
		PreWebhookURL: q.str("PreWebhookUrl"), PostWebhookURL: q.str("PostWebhookUrl")}
	if account {
		in.Target = q.str("Target")
	} else if v, ok := q.form["Target"]; ok && len(v) > 0 {
		// Not a parameter of the service-level operation, but a caller who
		// sends it means to set something this resource does not have:
		// core refuses it rather than ignore it silently.
		in.Target = &v[0]
	}
	return in
}
