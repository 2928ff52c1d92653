package sqlstore

import (
	"context"

	"github.com/parleyhq/parley"
)

// ---- Services and their configuration

const serviceCols = "seq, sid, friendly_name, date_created, date_updated"

func scanService(s scanner) (parley.Service, error) {
	var v parley.Service
	err := s.Scan(&v.Seq, &v.Sid, &v.FriendlyName, seconds{&v.DateCreated}, seconds{&v.DateUpdated})
	return v, err
}

func (t *Tx) Service(ctx context.Context, sid string) (parley.Service, error) {
	return get(t, ctx, scanService, "SELECT "+serviceCols+" FROM services WHERE sid = "+serviceRef, sid)
}

func (t *Tx) ListServices(ctx context.Context, q parley.PageQuery) (parley.Page[parley.Service], error) {
	return page(t, ctx, serviceCols, "FROM services WHERE 1 = 1", nil, q, scanService,
		bySeq(func(s parley.Service) int64 { return s.Seq }))
}

func (t *Tx) CreateService(ctx context.Context, s parley.Service) error {
	_, err := t.exec(ctx, false, "INSERT INTO services (sid, friendly_name, date_created, date_updated) VALUES (?, ?, ?, ?)",
		s.Sid, s.FriendlyName, t.d.Seconds(s.DateCreated), t.d.Seconds(s.DateUpdated))
	return err
}

func (t *Tx) DeleteService(ctx context.Context, sid string) error {
	// ON DELETE CASCADE removes roles, users and the configuration in this
	// one statement; the account configuration's reference to its default
	// service refuses the delete with a foreign-key error (ErrInUse).
	return t.execOne(ctx, true, "DELETE FROM services WHERE sid = ?", sid)
}

func (t *Tx) ServiceConfig(ctx context.Context, serviceSid string) (parley.ServiceConfig, error) {
	return get(t, ctx, func(s scanner) (parley.ServiceConfig, error) {
		var c parley.ServiceConfig
		dest := append([]any{&c.ServiceSid, &c.DefaultChatServiceRoleSid, &c.DefaultConversationRoleSid,
			&c.DefaultConversationCreatorRoleSid, boolean{&c.ReachabilityEnabled}, jsonValue[parley.NotificationSettings]{&c.Notifications}},
			webhookDest(&c.Webhooks)...)
		err := s.Scan(dest...)
		return c, err
	}, `SELECT service_sid, default_chat_service_role_sid, default_conversation_role_sid,
		default_conversation_creator_role_sid, reachability_enabled, notifications, `+webhookCols+`
		FROM service_configs WHERE service_sid = `+serviceRef, serviceSid)
}

func (t *Tx) NotificationSettings(ctx context.Context, serviceSid string) (parley.NotificationSettings, error) {
	return get(t, ctx, func(s scanner) (parley.NotificationSettings, error) {
		var n parley.NotificationSettings
		err := s.Scan(jsonValue[parley.NotificationSettings]{&n})
		return n, err
	}, `SELECT notifications FROM service_configs WHERE service_sid = `+serviceRef, serviceSid)
}

func (t *Tx) PutServiceConfig(ctx context.Context, c parley.ServiceConfig) error {
	w := c.Webhooks
	_, err := t.exec(ctx, false, `INSERT INTO service_configs (service_sid, default_chat_service_role_sid,
		default_conversation_role_sid, default_conversation_creator_role_sid, reachability_enabled, notifications,
		webhook_method, webhook_filters, pre_webhook_url, post_webhook_url)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (service_sid) DO UPDATE SET
		default_chat_service_role_sid = excluded.default_chat_service_role_sid,
		default_conversation_role_sid = excluded.default_conversation_role_sid,
		default_conversation_creator_role_sid = excluded.default_conversation_creator_role_sid,
		reachability_enabled = excluded.reachability_enabled,
		notifications = excluded.notifications,
		webhook_method = excluded.webhook_method,
		webhook_filters = excluded.webhook_filters,
		pre_webhook_url = excluded.pre_webhook_url,
		post_webhook_url = excluded.post_webhook_url`,
		c.ServiceSid, c.DefaultChatServiceRoleSid, c.DefaultConversationRoleSid,
		c.DefaultConversationCreatorRoleSid, c.ReachabilityEnabled, jsonArg(c.Notifications),
		w.Method, listArg(w.Filters), w.PreWebhookURL, w.PostWebhookURL)
	return err
}
