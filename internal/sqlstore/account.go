package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// ---- Account, configuration, API keys

func (t *Tx) Account(ctx context.Context) (parley.Account, error) {
	return get(t, ctx, func(s scanner) (parley.Account, error) {
		var a parley.Account
		err := s.Scan(&a.Sid, &a.AuthToken, &a.PageKey, seconds{&a.DateCreated})
		return a, err
	}, "SELECT sid, auth_token, page_key, date_created FROM accounts WHERE id = 1")
}

func (t *Tx) CreateAccount(ctx context.Context, a parley.Account) error {
	_, err := t.exec(ctx, false, "INSERT INTO accounts (id, sid, auth_token, page_key, date_created) VALUES (1, ?, ?, ?, ?)",
		a.Sid, a.AuthToken, a.PageKey, t.d.Seconds(a.DateCreated))
	return err
}

func (t *Tx) SetAuthToken(ctx context.Context, token string) error {
	return t.execOne(ctx, false, "UPDATE accounts SET auth_token = ? WHERE id = 1", token)
}

// webhookCols are the webhook settings of both configurations, in the
// order scanWebhooks reads them.
const webhookCols = "webhook_method, CAST(webhook_filters AS TEXT), pre_webhook_url, post_webhook_url"

func webhookDest(w *parley.WebhookConfig) []any {
	return []any{nullString{&w.Method}, stringList{&w.Filters}, nullString{&w.PreWebhookURL}, nullString{&w.PostWebhookURL}}
}

func (t *Tx) AccountConfig(ctx context.Context) (parley.AccountConfig, error) {
	return get(t, ctx, func(s scanner) (parley.AccountConfig, error) {
		var c parley.AccountConfig
		dest := append([]any{&c.DefaultChatServiceSid, nullString{&c.DefaultMessagingServiceSid},
			nullString{&c.DefaultInactiveTimer}, nullString{&c.DefaultClosedTimer}, nullString{&c.Webhooks.Target}},
			webhookDest(&c.Webhooks)...)
		err := s.Scan(dest...)
		return c, err
	}, `SELECT default_chat_service_sid, default_messaging_service_sid, default_inactive_timer,
		default_closed_timer, webhook_target, `+webhookCols+` FROM account_configs WHERE id = 1`)
}

func (t *Tx) PutAccountConfig(ctx context.Context, c parley.AccountConfig) error {
	w := c.Webhooks
	_, err := t.exec(ctx, false, `INSERT INTO account_configs (id, default_chat_service_sid,
		default_messaging_service_sid, default_inactive_timer, default_closed_timer,
		webhook_method, webhook_filters, pre_webhook_url, post_webhook_url, webhook_target)
		VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
		default_chat_service_sid = excluded.default_chat_service_sid,
		default_messaging_service_sid = excluded.default_messaging_service_sid,
		default_inactive_timer = excluded.default_inactive_timer,
		default_closed_timer = excluded.default_closed_timer,
		webhook_method = excluded.webhook_method,
		webhook_filters = excluded.webhook_filters,
		pre_webhook_url = excluded.pre_webhook_url,
		post_webhook_url = excluded.post_webhook_url,
		webhook_target = excluded.webhook_target`,
		c.DefaultChatServiceSid, c.DefaultMessagingServiceSid, c.DefaultInactiveTimer, c.DefaultClosedTimer,
		w.Method, listArg(w.Filters), w.PreWebhookURL, w.PostWebhookURL, w.Target)
	return err
}

const apiKeyCols = "sid, friendly_name, secret_hash, signing_state, date_created, date_revoked"

func scanAPIKey(s scanner) (parley.APIKey, error) {
	var k parley.APIKey
	err := s.Scan(&k.Sid, &k.FriendlyName, &k.SecretHash, &k.SigningState, seconds{&k.DateCreated}, nullSeconds{&k.DateRevoked})
	return k, err
}

func (t *Tx) APIKey(ctx context.Context, sid string) (parley.APIKey, error) {
	return get(t, ctx, scanAPIKey, "SELECT "+apiKeyCols+" FROM api_keys WHERE sid = ?", sid)
}

func (t *Tx) CreateAPIKey(ctx context.Context, k parley.APIKey) error {
	_, err := t.exec(ctx, false, `INSERT INTO api_keys (sid, friendly_name, secret_hash, signing_state, date_created)
		VALUES (?, ?, ?, ?, ?)`, k.Sid, k.FriendlyName, k.SecretHash, k.SigningState, t.d.Seconds(k.DateCreated))
	return err
}

func (t *Tx) ListAPIKeys(ctx context.Context) ([]parley.APIKey, error) {
	return list(t, ctx, scanAPIKey, "SELECT "+apiKeyCols+" FROM api_keys ORDER BY seq")
}

func (t *Tx) RevokeAPIKey(ctx context.Context, sid string, at time.Time) error {
	return t.execOne(ctx, false, "UPDATE api_keys SET date_revoked = COALESCE(date_revoked, ?) WHERE sid = ?",
		t.d.Seconds(at), sid)
}

// DataTables are the tables of what the API holds, each before the tables
// it refers to: what a reset empties. KeptTables are the others, which a
// reset leaves (the account, the migrations applied, the nodes' leases);
// api_keys is kept unless asked. The backends' tests check that the two
// lists name every table the migrations make.
var (
	DataTables = []string{
		"client_connections", "sync_events", "sync_objects", "bindings", "address_configs",
		"media_chunks", "media", "receipts", "conversation_webhooks", "messages", "participants",
		"conversations", "credentials", "webhook_deliveries", "users", "account_configs",
		"service_configs", "roles", "services",
	}
	KeptTables = []string{"accounts", "api_keys", "nodes"}
)

// Reset is the transaction of a store's Reset: the data removed
// (ResetData), then fn on what is left.
func Reset(ctx context.Context, keepKeys bool, fn func(parley.Tx) error) func(parley.Tx) error {
	return func(tx parley.Tx) error {
		if err := tx.(*Tx).ResetData(ctx, keepKeys); err != nil {
			return err
		}
		return fn(tx)
	}
}

// ResetData is the deleting half of parley.Store's Reset, which each
// backend runs in a transaction of its own making: with Truncate, one
// statement; without, a DELETE per table, which SQLite turns into a
// truncation (pages freed, rows never visited) when the backend has
// switched foreign keys off for it.
func (t *Tx) ResetData(ctx context.Context, keepKeys bool) error {
	tables := DataTables
	if !keepKeys {
		tables = append([]string{"api_keys"}, tables...)
	}
	if t.d.Truncate != "" {
		_, err := t.exec(ctx, false, t.d.Truncate+" "+strings.Join(tables, ", "))
		return err
	}
	for _, table := range tables {
		if _, err := t.exec(ctx, false, "DELETE FROM "+table); err != nil {
			return err
		}
	}
	return nil
}
