package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/keyset"
)

// tx implements parley.Tx on either the read pool (View) or the writer's
// connection inside a batch (Update).
type tx struct {
	st *stmtCache
	// fixed, when set, replaces the callers' contexts: statements inside a
	// shared write batch must not be interrupted by one caller going away.
	fixed context.Context
}

func (t *tx) ctx(ctx context.Context) context.Context {
	if t.fixed != nil {
		return t.fixed
	}
	return ctx
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.ctx(ctx)
	st, err := t.st.get(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return nil, storeError(err)
	}
	return res, nil
}

// execOne runs a write that must touch exactly one row; none is ErrNotFound.
func (t *tx) execOne(ctx context.Context, query string, args ...any) error {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return parley.ErrNotFound
	}
	return nil
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	ctx = t.ctx(ctx)
	st, err := t.st.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.ctx(ctx)
	st, err := t.st.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// get scans one row with scan; no row is ErrNotFound.
func get[T any](t *tx, ctx context.Context, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	var zero T
	row, err := t.queryRow(ctx, query, args...)
	if err != nil {
		return zero, err
	}
	v, err := scan(row)
	if err != nil {
		return zero, storeError(err)
	}
	return v, nil
}

type scanner interface{ Scan(dest ...any) error }

// page runs a keyset query (see package keyset): cols and from (a FROM …
// WHERE … clause with args) select the list, ordered by seq.
func page[T any](t *tx, ctx context.Context, cols, from string, args []any, q parley.PageQuery,
	scan func(scanner) (T, error), seqOf func(T) int64) (parley.Page[T], error) {
	plan := keyset.Build(cols, from, args, q, keyset.Question)
	rows, err := t.query(ctx, plan.Query, plan.Args...)
	if err != nil {
		return parley.Page[T]{}, err
	}
	defer rows.Close()
	var items []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return parley.Page[T]{}, err
		}
		items = append(items, v)
	}
	if err := rows.Err(); err != nil {
		return parley.Page[T]{}, err
	}
	var behind bool
	if plan.Behind != "" {
		row, err := t.queryRow(ctx, plan.Behind, plan.BehindArgs...)
		if err != nil {
			return parley.Page[T]{}, err
		}
		if err := row.Scan(&behind); err != nil {
			return parley.Page[T]{}, err
		}
	}
	return keyset.Assemble(items, q, behind, seqOf), nil
}

// serviceRef is the service a read names: the SID given, or, for "", the
// account's default service, resolved within the same statement so that
// shortened URLs (/v1/Users…) cost no extra query.
const serviceRef = "COALESCE(NULLIF(?, ''), (SELECT default_chat_service_sid FROM account_configs WHERE id = 1))"

// Conversions between Go and SQLite column types.

func secs(t time.Time) int64       { return t.Unix() }
func fromSecs(n int64) time.Time   { return time.Unix(n, 0).UTC() }
func millis(t time.Time) int64     { return t.UnixMilli() }
func fromMillis(n int64) time.Time { return time.UnixMilli(n).UTC() }

func nullString(p *string) sql.NullString {
	if p == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *p, Valid: true}
}

func strPtr(ns sql.NullString) *string {
	if !ns.Valid {
		return nil
	}
	return &ns.String
}

func nullBool(p *bool) sql.NullBool {
	if p == nil {
		return sql.NullBool{}
	}
	return sql.NullBool{Bool: *p, Valid: true}
}

func boolPtr(nb sql.NullBool) *bool {
	if !nb.Valid {
		return nil
	}
	return &nb.Bool
}

// jsonList stores a list as a JSON array; nil stays NULL.
func jsonList(list []string) (sql.NullString, error) {
	if list == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(list)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func parseList(ns sql.NullString) ([]string, error) {
	if !ns.Valid {
		return nil, nil
	}
	list := []string{}
	if err := json.Unmarshal([]byte(ns.String), &list); err != nil {
		return nil, fmt.Errorf("sqlite: stored list %q: %w", ns.String, err)
	}
	return list, nil
}

// ---- Account, configuration, API keys

func (t *tx) Account(ctx context.Context) (parley.Account, error) {
	return get(t, ctx, func(s scanner) (parley.Account, error) {
		var a parley.Account
		var created int64
		err := s.Scan(&a.Sid, &a.AuthToken, &a.PageKey, &created)
		a.DateCreated = fromSecs(created)
		return a, err
	}, "SELECT sid, auth_token, page_key, date_created FROM accounts WHERE id = 1")
}

func (t *tx) CreateAccount(ctx context.Context, a parley.Account) error {
	_, err := t.exec(ctx, "INSERT INTO accounts (id, sid, auth_token, page_key, date_created) VALUES (1, ?, ?, ?, ?)",
		a.Sid, a.AuthToken, a.PageKey, secs(a.DateCreated))
	return err
}

func (t *tx) SetAuthToken(ctx context.Context, token string) error {
	return t.execOne(ctx, "UPDATE accounts SET auth_token = ? WHERE id = 1", token)
}

func (t *tx) AccountConfig(ctx context.Context) (parley.AccountConfig, error) {
	return get(t, ctx, func(s scanner) (parley.AccountConfig, error) {
		var c parley.AccountConfig
		var msg, inactive, closed, method, filters, pre, post, target sql.NullString
		if err := s.Scan(&c.DefaultChatServiceSid, &msg, &inactive, &closed,
			&method, &filters, &pre, &post, &target); err != nil {
			return c, err
		}
		c.DefaultMessagingServiceSid = strPtr(msg)
		c.DefaultInactiveTimer = strPtr(inactive)
		c.DefaultClosedTimer = strPtr(closed)
		var err error
		c.Webhooks, err = webhookConfig(method, filters, pre, post, target)
		return c, err
	}, `SELECT default_chat_service_sid, default_messaging_service_sid, default_inactive_timer,
		default_closed_timer, webhook_method, webhook_filters, pre_webhook_url, post_webhook_url,
		webhook_target FROM account_configs WHERE id = 1`)
}

func webhookConfig(method, filters, pre, post, target sql.NullString) (parley.WebhookConfig, error) {
	list, err := parseList(filters)
	return parley.WebhookConfig{
		Method:         strPtr(method),
		Filters:        list,
		PreWebhookURL:  strPtr(pre),
		PostWebhookURL: strPtr(post),
		Target:         strPtr(target),
	}, err
}

func (t *tx) PutAccountConfig(ctx context.Context, c parley.AccountConfig) error {
	filters, err := jsonList(c.Webhooks.Filters)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO account_configs (id, default_chat_service_sid,
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
		c.DefaultChatServiceSid, nullString(c.DefaultMessagingServiceSid),
		nullString(c.DefaultInactiveTimer), nullString(c.DefaultClosedTimer),
		nullString(c.Webhooks.Method), filters, nullString(c.Webhooks.PreWebhookURL),
		nullString(c.Webhooks.PostWebhookURL), nullString(c.Webhooks.Target))
	return err
}

const apiKeyCols = "sid, friendly_name, secret_hash, date_created, date_revoked"

func scanAPIKey(s scanner) (parley.APIKey, error) {
	var k parley.APIKey
	var created int64
	var revoked sql.NullInt64
	err := s.Scan(&k.Sid, &k.FriendlyName, &k.SecretHash, &created, &revoked)
	k.DateCreated = fromSecs(created)
	if revoked.Valid {
		r := fromSecs(revoked.Int64)
		k.DateRevoked = &r
	}
	return k, err
}

func (t *tx) APIKey(ctx context.Context, sid string) (parley.APIKey, error) {
	return get(t, ctx, scanAPIKey, "SELECT "+apiKeyCols+" FROM api_keys WHERE sid = ?", sid)
}

func (t *tx) CreateAPIKey(ctx context.Context, k parley.APIKey) error {
	_, err := t.exec(ctx, "INSERT INTO api_keys (sid, friendly_name, secret_hash, date_created) VALUES (?, ?, ?, ?)",
		k.Sid, k.FriendlyName, k.SecretHash, secs(k.DateCreated))
	return err
}

func (t *tx) ListAPIKeys(ctx context.Context) ([]parley.APIKey, error) {
	rows, err := t.query(ctx, "SELECT "+apiKeyCols+" FROM api_keys ORDER BY seq")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []parley.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

func (t *tx) RevokeAPIKey(ctx context.Context, sid string, at time.Time) error {
	return t.execOne(ctx, "UPDATE api_keys SET date_revoked = COALESCE(date_revoked, ?) WHERE sid = ?", secs(at), sid)
}

// ---- Services and their configuration

const serviceCols = "seq, sid, friendly_name, date_created, date_updated"

func scanService(s scanner) (parley.Service, error) {
	var v parley.Service
	var created, updated int64
	err := s.Scan(&v.Seq, &v.Sid, &v.FriendlyName, &created, &updated)
	v.DateCreated, v.DateUpdated = fromSecs(created), fromSecs(updated)
	return v, err
}

func (t *tx) Service(ctx context.Context, sid string) (parley.Service, error) {
	return get(t, ctx, scanService, "SELECT "+serviceCols+" FROM services WHERE sid = "+serviceRef, sid)
}

func (t *tx) ListServices(ctx context.Context, q parley.PageQuery) (parley.Page[parley.Service], error) {
	return page(t, ctx, serviceCols, "FROM services WHERE 1 = 1", nil, q, scanService,
		func(s parley.Service) int64 { return s.Seq })
}

func (t *tx) CreateService(ctx context.Context, s parley.Service) error {
	_, err := t.exec(ctx, "INSERT INTO services (sid, friendly_name, date_created, date_updated) VALUES (?, ?, ?, ?)",
		s.Sid, s.FriendlyName, secs(s.DateCreated), secs(s.DateUpdated))
	return err
}

func (t *tx) DeleteService(ctx context.Context, sid string) error {
	// ON DELETE CASCADE removes roles, users and the configuration in this
	// one statement; the account configuration's reference to its default
	// service refuses the delete with a foreign-key error (ErrInUse).
	return t.execOne(ctx, "DELETE FROM services WHERE sid = ?", sid)
}

func (t *tx) ServiceConfig(ctx context.Context, serviceSid string) (parley.ServiceConfig, error) {
	return get(t, ctx, func(s scanner) (parley.ServiceConfig, error) {
		var c parley.ServiceConfig
		var method, filters, pre, post sql.NullString
		if err := s.Scan(&c.ServiceSid, &c.DefaultChatServiceRoleSid, &c.DefaultConversationRoleSid,
			&c.DefaultConversationCreatorRoleSid, &c.ReachabilityEnabled,
			&method, &filters, &pre, &post); err != nil {
			return c, err
		}
		var err error
		c.Webhooks, err = webhookConfig(method, filters, pre, post, sql.NullString{})
		return c, err
	}, `SELECT service_sid, default_chat_service_role_sid, default_conversation_role_sid,
		default_conversation_creator_role_sid, reachability_enabled, webhook_method,
		webhook_filters, pre_webhook_url, post_webhook_url
		FROM service_configs WHERE service_sid = `+serviceRef, serviceSid)
}

func (t *tx) PutServiceConfig(ctx context.Context, c parley.ServiceConfig) error {
	filters, err := jsonList(c.Webhooks.Filters)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO service_configs (service_sid, default_chat_service_role_sid,
		default_conversation_role_sid, default_conversation_creator_role_sid, reachability_enabled,
		webhook_method, webhook_filters, pre_webhook_url, post_webhook_url)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (service_sid) DO UPDATE SET
		default_chat_service_role_sid = excluded.default_chat_service_role_sid,
		default_conversation_role_sid = excluded.default_conversation_role_sid,
		default_conversation_creator_role_sid = excluded.default_conversation_creator_role_sid,
		reachability_enabled = excluded.reachability_enabled,
		webhook_method = excluded.webhook_method,
		webhook_filters = excluded.webhook_filters,
		pre_webhook_url = excluded.pre_webhook_url,
		post_webhook_url = excluded.post_webhook_url`,
		c.ServiceSid, c.DefaultChatServiceRoleSid, c.DefaultConversationRoleSid,
		c.DefaultConversationCreatorRoleSid, c.ReachabilityEnabled,
		nullString(c.Webhooks.Method), filters, nullString(c.Webhooks.PreWebhookURL),
		nullString(c.Webhooks.PostWebhookURL))
	return err
}

// ---- Roles

const roleCols = "seq, sid, service_sid, friendly_name, type, permissions, date_created, date_updated"

func scanRole(s scanner) (parley.Role, error) {
	var r parley.Role
	var perms string
	var created, updated int64
	if err := s.Scan(&r.Seq, &r.Sid, &r.ServiceSid, &r.FriendlyName, &r.Type, &perms, &created, &updated); err != nil {
		return r, err
	}
	r.DateCreated, r.DateUpdated = fromSecs(created), fromSecs(updated)
	if err := json.Unmarshal([]byte(perms), &r.Permissions); err != nil {
		return r, fmt.Errorf("sqlite: role %s permissions: %w", r.Sid, err)
	}
	return r, nil
}

func (t *tx) Role(ctx context.Context, serviceSid, sid string) (parley.Role, error) {
	return get(t, ctx, scanRole, "SELECT "+roleCols+" FROM roles WHERE sid = ? AND service_sid = "+serviceRef, sid, serviceSid)
}

func (t *tx) ListRoles(ctx context.Context, serviceSid string, q parley.PageQuery) (parley.Page[parley.Role], error) {
	return page(t, ctx, roleCols, "FROM roles WHERE service_sid = "+serviceRef, []any{serviceSid}, q, scanRole,
		func(r parley.Role) int64 { return r.Seq })
}

func (t *tx) CreateRole(ctx context.Context, r parley.Role) error {
	perms, err := json.Marshal(r.Permissions)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO roles (sid, service_sid, friendly_name, type, permissions,
		date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.Sid, r.ServiceSid, r.FriendlyName, string(r.Type), string(perms), secs(r.DateCreated), secs(r.DateUpdated))
	return err
}

func (t *tx) UpdateRole(ctx context.Context, r parley.Role) error {
	perms, err := json.Marshal(r.Permissions)
	if err != nil {
		return err
	}
	return t.execOne(ctx, "UPDATE roles SET permissions = ?, date_updated = ? WHERE sid = ? AND service_sid = ?",
		string(perms), secs(r.DateUpdated), r.Sid, r.ServiceSid)
}

func (t *tx) DeleteRole(ctx context.Context, serviceSid, sid string) error {
	return t.execOne(ctx, "DELETE FROM roles WHERE sid = ? AND service_sid = ?", sid, serviceSid)
}

// ---- Users

const userCols = `seq, sid, service_sid, role_sid, identity, friendly_name, attributes,
	is_online, is_notifiable, date_created, date_updated`

func scanUser(s scanner) (parley.User, error) {
	var u parley.User
	var name sql.NullString
	var online, notifiable sql.NullBool
	var created, updated int64
	err := s.Scan(&u.Seq, &u.Sid, &u.ServiceSid, &u.RoleSid, &u.Identity, &name, &u.Attributes,
		&online, &notifiable, &created, &updated)
	u.FriendlyName = strPtr(name)
	u.IsOnline, u.IsNotifiable = boolPtr(online), boolPtr(notifiable)
	u.DateCreated, u.DateUpdated = fromSecs(created), fromSecs(updated)
	return u, err
}

func (t *tx) UserBySid(ctx context.Context, serviceSid, sid string) (parley.User, error) {
	return get(t, ctx, scanUser, "SELECT "+userCols+" FROM users WHERE sid = ? AND service_sid = "+serviceRef, sid, serviceSid)
}

func (t *tx) UserByIdentity(ctx context.Context, serviceSid, identity string) (parley.User, error) {
	return get(t, ctx, scanUser, "SELECT "+userCols+" FROM users WHERE service_sid = "+serviceRef+" AND identity = ?", serviceSid, identity)
}

func (t *tx) ListUsers(ctx context.Context, serviceSid string, q parley.PageQuery) (parley.Page[parley.User], error) {
	return page(t, ctx, userCols, "FROM users WHERE service_sid = "+serviceRef, []any{serviceSid}, q, scanUser,
		func(u parley.User) int64 { return u.Seq })
}

func (t *tx) CreateUser(ctx context.Context, u parley.User) error {
	_, err := t.exec(ctx, `INSERT INTO users (sid, service_sid, role_sid, identity, friendly_name,
		attributes, is_online, is_notifiable, date_created, date_updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.Sid, u.ServiceSid, u.RoleSid, u.Identity, nullString(u.FriendlyName), u.Attributes,
		nullBool(u.IsOnline), nullBool(u.IsNotifiable), secs(u.DateCreated), secs(u.DateUpdated))
	return err
}

func (t *tx) UpdateUser(ctx context.Context, u parley.User) error {
	return t.execOne(ctx, `UPDATE users SET role_sid = ?, friendly_name = ?, attributes = ?,
		date_updated = ? WHERE sid = ? AND service_sid = ?`,
		u.RoleSid, nullString(u.FriendlyName), u.Attributes, secs(u.DateUpdated), u.Sid, u.ServiceSid)
}

func (t *tx) DeleteUser(ctx context.Context, serviceSid, sid string) error {
	return t.execOne(ctx, "DELETE FROM users WHERE sid = ? AND service_sid = ?", sid, serviceSid)
}

// ---- Webhook outbox

const deliveryCols = `seq, sid, event_type, service_sid, url, method, params, status, attempts,
	next_attempt_at, lease_until, last_status_code, last_error, date_created, date_updated`

func scanDelivery(s scanner) (parley.Delivery, error) {
	var d parley.Delivery
	var next, created, updated int64
	var lease sql.NullInt64
	err := s.Scan(&d.Seq, &d.Sid, &d.EventType, &d.ServiceSid, &d.URL, &d.Method, &d.Params, &d.Status,
		&d.Attempts, &next, &lease, &d.LastStatusCode, &d.LastError, &created, &updated)
	d.NextAttemptAt = fromMillis(next)
	if lease.Valid {
		l := fromMillis(lease.Int64)
		d.LeaseUntil = &l
	}
	d.DateCreated, d.DateUpdated = fromMillis(created), fromMillis(updated)
	return d, err
}

func (t *tx) EnqueueDelivery(ctx context.Context, d parley.Delivery) error {
	_, err := t.exec(ctx, `INSERT INTO webhook_deliveries (sid, event_type, service_sid, url, method,
		params, status, attempts, next_attempt_at, date_created, date_updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Sid, d.EventType, d.ServiceSid, d.URL, d.Method, d.Params, string(d.Status), d.Attempts,
		millis(d.NextAttemptAt), millis(d.DateCreated), millis(d.DateUpdated))
	return err
}

func (t *tx) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]parley.Delivery, error) {
	// One process writes a SQLite file at a time, so the UPDATE alone is
	// the claim; the lease only matters after a crash.
	rows, err := t.query(ctx, `UPDATE webhook_deliveries SET lease_until = ?
		WHERE seq IN (SELECT seq FROM webhook_deliveries
			WHERE status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
			ORDER BY next_attempt_at, seq LIMIT ?)
		RETURNING `+deliveryCols,
		millis(leaseUntil), millis(now), millis(now), limit)
	if err != nil {
		return nil, storeError(err)
	}
	defer rows.Close()
	var out []parley.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b parley.Delivery) int { return int(a.Seq - b.Seq) })
	return out, nil
}

func (t *tx) FinishDelivery(ctx context.Context, d parley.Delivery) error {
	return t.execOne(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,
		lease_until = NULL, last_status_code = ?, last_error = ?, date_updated = ? WHERE sid = ?`,
		string(d.Status), d.Attempts, millis(d.NextAttemptAt), d.LastStatusCode, d.LastError,
		millis(d.DateUpdated), d.Sid)
}

func (t *tx) ListDeliveries(ctx context.Context, q parley.PageQuery) (parley.Page[parley.Delivery], error) {
	return page(t, ctx, deliveryCols, "FROM webhook_deliveries WHERE 1 = 1", nil, q, scanDelivery,
		func(d parley.Delivery) int64 { return d.Seq })
}
