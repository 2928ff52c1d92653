package sqlstore

import (
	"context"

	"github.com/parleyhq/parley"
)

// ---- Conversation-scoped webhooks

const conversationWebhookCols = `seq, sid, service_sid, conversation_sid, target, url, method, filters, triggers,
	flow_sid, date_created, date_updated`

func scanConversationWebhook(s scanner) (parley.ConversationWebhook, error) {
	var w parley.ConversationWebhook
	err := s.Scan(&w.Seq, &w.Sid, &w.ServiceSid, &w.ConversationSid, &w.Target, nullString{&w.URL}, nullString{&w.Method},
		stringList{&w.Filters}, stringList{&w.Triggers}, nullString{&w.FlowSid}, seconds{&w.DateCreated}, seconds{&w.DateUpdated})
	return w, err
}

func (t *Tx) ConversationWebhookBySid(ctx context.Context, conversationSid, sid string) (parley.ConversationWebhook, error) {
	return get(t, ctx, scanConversationWebhook, "SELECT "+conversationWebhookCols+
		" FROM conversation_webhooks WHERE sid = ? AND conversation_sid = ?", sid, conversationSid)
}

func (t *Tx) ConversationWebhooks(ctx context.Context, conversationSid string) ([]parley.ConversationWebhook, error) {
	return list(t, ctx, scanConversationWebhook, "SELECT "+conversationWebhookCols+
		" FROM conversation_webhooks WHERE conversation_sid = ? ORDER BY seq", conversationSid)
}

func (t *Tx) ListConversationWebhooks(ctx context.Context, conversationSid string, q parley.PageQuery) (parley.Page[parley.ConversationWebhook], error) {
	return page(t, ctx, conversationWebhookCols, "FROM conversation_webhooks WHERE conversation_sid = ?", []any{conversationSid},
		q, scanConversationWebhook, bySeq(func(w parley.ConversationWebhook) int64 { return w.Seq }))
}

func (t *Tx) CreateConversationWebhook(ctx context.Context, w parley.ConversationWebhook) error {
	_, err := t.exec(ctx, false, `INSERT INTO conversation_webhooks (sid, service_sid, conversation_sid, target, url, method,
		filters, triggers, flow_sid, date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.Sid, w.ServiceSid, w.ConversationSid, w.Target, w.URL, w.Method, listArg(w.Filters), listArg(w.Triggers), w.FlowSid,
		t.d.Seconds(w.DateCreated), t.d.Seconds(w.DateUpdated))
	return err
}

func (t *Tx) UpdateConversationWebhook(ctx context.Context, w parley.ConversationWebhook) error {
	return t.execOne(ctx, false, `UPDATE conversation_webhooks SET url = ?, method = ?, filters = ?, triggers = ?,
		flow_sid = ?, date_created = ?, date_updated = ? WHERE sid = ?`,
		w.URL, w.Method, listArg(w.Filters), listArg(w.Triggers), w.FlowSid,
		t.d.Seconds(w.DateCreated), t.d.Seconds(w.DateUpdated), w.Sid)
}

func (t *Tx) DeleteConversationWebhook(ctx context.Context, conversationSid, sid string) error {
	return t.execOne(ctx, true, "DELETE FROM conversation_webhooks WHERE sid = ? AND conversation_sid = ?", sid, conversationSid)
}
