package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/keyset"
)

// querier is what a tx runs statements on: a pooled connection (View) or a
// transaction (Update).
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// tx implements parley.Tx. pgx prepares each query text once per connection
// and reuses the statement, so queries here are fixed strings (or built the
// same way every time) rather than assembled from values.
//
// Unlike SQLite, PostgreSQL aborts the whole transaction when a statement
// fails: after a write returns ErrConflict or ErrInUse inside Update, fn can
// only return; further statements fail and a nil return does not commit.
type tx struct {
	q querier
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (pgconn.CommandTag, error) {
	tag, err := t.q.Exec(ctx, query, args...)
	if err != nil {
		return tag, storeError(err)
	}
	return tag, nil
}

// execOne runs a write that must touch exactly one row; none is ErrNotFound.
func (t *tx) execOne(ctx context.Context, query string, args ...any) error {
	tag, err := t.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return parley.ErrNotFound
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

// get scans one row with scan; no row is ErrNotFound.
func get[T any](t *tx, ctx context.Context, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(t.q.QueryRow(ctx, query, args...))
	if err != nil {
		var zero T
		return zero, storeError(err)
	}
	return v, nil
}

// list scans every row of a query, in the query's order.
func list[T any](t *tx, ctx context.Context, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.q.Query(ctx, query, args...)
	if err != nil {
		return nil, storeError(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, storeError(err)
	}
	return out, nil
}

// page runs a keyset query (see package keyset): cols and from (a FROM …
// WHERE … clause whose placeholders are $1…$len(args)) select the list,
// ordered by seq.
func page[T any](t *tx, ctx context.Context, cols, from string, args []any, q parley.PageQuery,
	scan func(scanner) (T, error), seqOf func(T) int64) (parley.Page[T], error) {
	plan := keyset.Build(cols, from, args, q, keyset.Dollar)
	items, err := list(t, ctx, scan, plan.Query, plan.Args...)
	if err != nil {
		return parley.Page[T]{}, err
	}
	var behind bool
	if plan.Behind != "" {
		if err := t.q.QueryRow(ctx, plan.Behind, plan.BehindArgs...).Scan(&behind); err != nil {
			return parley.Page[T]{}, storeError(err)
		}
	}
	return keyset.Assemble(items, q, behind, seqOf), nil
}

// serviceRef is the service a read names, as placeholder $n: the SID
// given, or, for "", the account's default service, resolved within the
// same statement so that shortened URLs (/v1/Users…) cost no extra round
// trip.
func serviceRef(n int) string {
	return fmt.Sprintf("COALESCE(NULLIF($%d::text, ''), (SELECT default_chat_service_sid FROM account_configs WHERE id = 1))", n)
}

// secs and millis cut a time to what its column keeps. PostgreSQL would
// round to the column's precision; truncating here keeps the SQLite
// backend's behaviour (Unix seconds and milliseconds floor).
func secs(t time.Time) time.Time   { return t.Truncate(time.Second) }
func millis(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

// jsonList is a list as a jsonb parameter: a JSON array, or NULL for nil so
// that "unset" and "empty" stay apart.
func jsonList(list []string) (*string, error) {
	if list == nil {
		return nil, nil
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// parseList reverses jsonList.
func parseList(s *string) ([]string, error) {
	if s == nil {
		return nil, nil
	}
	list := []string{}
	if err := json.Unmarshal([]byte(*s), &list); err != nil {
		return nil, fmt.Errorf("postgres: stored list %q: %w", *s, err)
	}
	return list, nil
}

// ---- Account, configuration, API keys

func (t *tx) Account(ctx context.Context) (parley.Account, error) {
	return get(t, ctx, func(s scanner) (parley.Account, error) {
		var a parley.Account
		err := s.Scan(&a.Sid, &a.AuthToken, &a.PageKey, &a.DateCreated)
		return a, err
	}, "SELECT sid, auth_token, page_key, date_created FROM accounts WHERE id = 1")
}

func (t *tx) CreateAccount(ctx context.Context, a parley.Account) error {
	_, err := t.exec(ctx, "INSERT INTO accounts (id, sid, auth_token, page_key, date_created) VALUES (1, $1, $2, $3, $4)",
		a.Sid, a.AuthToken, a.PageKey, secs(a.DateCreated))
	return err
}

func (t *tx) SetAuthToken(ctx context.Context, token string) error {
	return t.execOne(ctx, "UPDATE accounts SET auth_token = $1 WHERE id = 1", token)
}

func (t *tx) AccountConfig(ctx context.Context) (parley.AccountConfig, error) {
	return get(t, ctx, func(s scanner) (parley.AccountConfig, error) {
		var c parley.AccountConfig
		var filters *string
		w := &c.Webhooks
		if err := s.Scan(&c.DefaultChatServiceSid, &c.DefaultMessagingServiceSid, &c.DefaultInactiveTimer,
			&c.DefaultClosedTimer, &w.Method, &filters, &w.PreWebhookURL, &w.PostWebhookURL, &w.Target); err != nil {
			return c, err
		}
		var err error
		w.Filters, err = parseList(filters)
		return c, err
	}, `SELECT default_chat_service_sid, default_messaging_service_sid, default_inactive_timer,
		default_closed_timer, webhook_method, webhook_filters, pre_webhook_url, post_webhook_url,
		webhook_target FROM account_configs WHERE id = 1`)
}

func (t *tx) PutAccountConfig(ctx context.Context, c parley.AccountConfig) error {
	filters, err := jsonList(c.Webhooks.Filters)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO account_configs (id, default_chat_service_sid,
		default_messaging_service_sid, default_inactive_timer, default_closed_timer,
		webhook_method, webhook_filters, pre_webhook_url, post_webhook_url, webhook_target)
		VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9)
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
		c.Webhooks.Method, filters, c.Webhooks.PreWebhookURL, c.Webhooks.PostWebhookURL, c.Webhooks.Target)
	return err
}

const apiKeyCols = "sid, friendly_name, secret_hash, date_created, date_revoked"

func scanAPIKey(s scanner) (parley.APIKey, error) {
	var k parley.APIKey
	err := s.Scan(&k.Sid, &k.FriendlyName, &k.SecretHash, &k.DateCreated, &k.DateRevoked)
	return k, err
}

func (t *tx) APIKey(ctx context.Context, sid string) (parley.APIKey, error) {
	return get(t, ctx, scanAPIKey, "SELECT "+apiKeyCols+" FROM api_keys WHERE sid = $1", sid)
}

func (t *tx) CreateAPIKey(ctx context.Context, k parley.APIKey) error {
	_, err := t.exec(ctx, "INSERT INTO api_keys (sid, friendly_name, secret_hash, date_created) VALUES ($1, $2, $3, $4)",
		k.Sid, k.FriendlyName, k.SecretHash, secs(k.DateCreated))
	return err
}

func (t *tx) ListAPIKeys(ctx context.Context) ([]parley.APIKey, error) {
	return list(t, ctx, scanAPIKey, "SELECT "+apiKeyCols+" FROM api_keys ORDER BY seq")
}

func (t *tx) RevokeAPIKey(ctx context.Context, sid string, at time.Time) error {
	return t.execOne(ctx, "UPDATE api_keys SET date_revoked = COALESCE(date_revoked, $1) WHERE sid = $2", secs(at), sid)
}

// ---- Services and their configuration

const serviceCols = "seq, sid, friendly_name, date_created, date_updated"

func scanService(s scanner) (parley.Service, error) {
	var v parley.Service
	err := s.Scan(&v.Seq, &v.Sid, &v.FriendlyName, &v.DateCreated, &v.DateUpdated)
	return v, err
}

func (t *tx) Service(ctx context.Context, sid string) (parley.Service, error) {
	return get(t, ctx, scanService, "SELECT "+serviceCols+" FROM services WHERE sid = "+serviceRef(1), sid)
}

func (t *tx) ListServices(ctx context.Context, q parley.PageQuery) (parley.Page[parley.Service], error) {
	return page(t, ctx, serviceCols, "FROM services WHERE true", nil, q, scanService,
		func(s parley.Service) int64 { return s.Seq })
}

func (t *tx) CreateService(ctx context.Context, s parley.Service) error {
	_, err := t.exec(ctx, "INSERT INTO services (sid, friendly_name, date_created, date_updated) VALUES ($1, $2, $3, $4)",
		s.Sid, s.FriendlyName, secs(s.DateCreated), secs(s.DateUpdated))
	return err
}

func (t *tx) DeleteService(ctx context.Context, sid string) error {
	// ON DELETE CASCADE removes roles, users and the configuration in this
	// one statement; the account configuration's reference to its default
	// service refuses the delete with a foreign-key error (ErrInUse).
	return t.execOne(ctx, "DELETE FROM services WHERE sid = $1", sid)
}

func (t *tx) ServiceConfig(ctx context.Context, serviceSid string) (parley.ServiceConfig, error) {
	return get(t, ctx, func(s scanner) (parley.ServiceConfig, error) {
		var c parley.ServiceConfig
		var filters *string
		w := &c.Webhooks
		if err := s.Scan(&c.ServiceSid, &c.DefaultChatServiceRoleSid, &c.DefaultConversationRoleSid,
			&c.DefaultConversationCreatorRoleSid, &c.ReachabilityEnabled,
			&w.Method, &filters, &w.PreWebhookURL, &w.PostWebhookURL); err != nil {
			return c, err
		}
		var err error
		w.Filters, err = parseList(filters)
		return c, err
	}, `SELECT service_sid, default_chat_service_role_sid, default_conversation_role_sid,
		default_conversation_creator_role_sid, reachability_enabled, webhook_method,
		webhook_filters, pre_webhook_url, post_webhook_url
		FROM service_configs WHERE service_sid = `+serviceRef(1), serviceSid)
}

func (t *tx) PutServiceConfig(ctx context.Context, c parley.ServiceConfig) error {
	filters, err := jsonList(c.Webhooks.Filters)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO service_configs (service_sid, default_chat_service_role_sid,
		default_conversation_role_sid, default_conversation_creator_role_sid, reachability_enabled,
		webhook_method, webhook_filters, pre_webhook_url, post_webhook_url)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
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
		c.Webhooks.Method, filters, c.Webhooks.PreWebhookURL, c.Webhooks.PostWebhookURL)
	return err
}

// ---- Roles

const roleCols = "seq, sid, service_sid, friendly_name, type, permissions, date_created, date_updated"

func scanRole(s scanner) (parley.Role, error) {
	var r parley.Role
	var perms string
	if err := s.Scan(&r.Seq, &r.Sid, &r.ServiceSid, &r.FriendlyName, &r.Type, &perms, &r.DateCreated, &r.DateUpdated); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(perms), &r.Permissions); err != nil {
		return r, fmt.Errorf("postgres: role %s permissions: %w", r.Sid, err)
	}
	return r, nil
}

func (t *tx) Role(ctx context.Context, serviceSid, sid string) (parley.Role, error) {
	return get(t, ctx, scanRole, "SELECT "+roleCols+" FROM roles WHERE sid = $1 AND service_sid = "+serviceRef(2), sid, serviceSid)
}

func (t *tx) ListRoles(ctx context.Context, serviceSid string, q parley.PageQuery) (parley.Page[parley.Role], error) {
	return page(t, ctx, roleCols, "FROM roles WHERE service_sid = "+serviceRef(1), []any{serviceSid}, q, scanRole,
		func(r parley.Role) int64 { return r.Seq })
}

func (t *tx) CreateRole(ctx context.Context, r parley.Role) error {
	perms, err := json.Marshal(r.Permissions)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO roles (sid, service_sid, friendly_name, type, permissions,
		date_created, date_updated) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.Sid, r.ServiceSid, r.FriendlyName, string(r.Type), string(perms), secs(r.DateCreated), secs(r.DateUpdated))
	return err
}

func (t *tx) UpdateRole(ctx context.Context, r parley.Role) error {
	perms, err := json.Marshal(r.Permissions)
	if err != nil {
		return err
	}
	return t.execOne(ctx, "UPDATE roles SET permissions = $1, date_updated = $2 WHERE sid = $3 AND service_sid = $4",
		string(perms), secs(r.DateUpdated), r.Sid, r.ServiceSid)
}

func (t *tx) DeleteRole(ctx context.Context, serviceSid, sid string) error {
	return t.execOne(ctx, "DELETE FROM roles WHERE sid = $1 AND service_sid = $2", sid, serviceSid)
}

// ---- Users

const userCols = `seq, sid, service_sid, role_sid, identity, friendly_name, attributes,
	is_online, is_notifiable, date_created, date_updated`

func scanUser(s scanner) (parley.User, error) {
	var u parley.User
	err := s.Scan(&u.Seq, &u.Sid, &u.ServiceSid, &u.RoleSid, &u.Identity, &u.FriendlyName, &u.Attributes,
		&u.IsOnline, &u.IsNotifiable, &u.DateCreated, &u.DateUpdated)
	return u, err
}

func (t *tx) UserBySid(ctx context.Context, serviceSid, sid string) (parley.User, error) {
	return get(t, ctx, scanUser, "SELECT "+userCols+" FROM users WHERE sid = $1 AND service_sid = "+serviceRef(2), sid, serviceSid)
}

func (t *tx) UserByIdentity(ctx context.Context, serviceSid, identity string) (parley.User, error) {
	return get(t, ctx, scanUser, "SELECT "+userCols+" FROM users WHERE service_sid = "+serviceRef(1)+" AND identity = $2", serviceSid, identity)
}

func (t *tx) ListUsers(ctx context.Context, serviceSid string, q parley.PageQuery) (parley.Page[parley.User], error) {
	return page(t, ctx, userCols, "FROM users WHERE service_sid = "+serviceRef(1), []any{serviceSid}, q, scanUser,
		func(u parley.User) int64 { return u.Seq })
}

func (t *tx) CreateUser(ctx context.Context, u parley.User) error {
	_, err := t.exec(ctx, `INSERT INTO users (sid, service_sid, role_sid, identity, friendly_name,
		attributes, is_online, is_notifiable, date_created, date_updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		u.Sid, u.ServiceSid, u.RoleSid, u.Identity, u.FriendlyName, u.Attributes,
		u.IsOnline, u.IsNotifiable, secs(u.DateCreated), secs(u.DateUpdated))
	return err
}

func (t *tx) UpdateUser(ctx context.Context, u parley.User) error {
	return t.execOne(ctx, `UPDATE users SET role_sid = $1, friendly_name = $2, attributes = $3,
		date_updated = $4 WHERE sid = $5 AND service_sid = $6`,
		u.RoleSid, u.FriendlyName, u.Attributes, secs(u.DateUpdated), u.Sid, u.ServiceSid)
}

func (t *tx) DeleteUser(ctx context.Context, serviceSid, sid string) error {
	return t.execOne(ctx, "DELETE FROM users WHERE sid = $1 AND service_sid = $2", sid, serviceSid)
}

// ---- Webhook outbox

const deliveryCols = `seq, sid, event_type, service_sid, url, method, params, status, attempts,
	next_attempt_at, lease_until, last_status_code, last_error, date_created, date_updated`

func scanDelivery(s scanner) (parley.Delivery, error) {
	var d parley.Delivery
	err := s.Scan(&d.Seq, &d.Sid, &d.EventType, &d.ServiceSid, &d.URL, &d.Method, &d.Params, &d.Status,
		&d.Attempts, &d.NextAttemptAt, &d.LeaseUntil, &d.LastStatusCode, &d.LastError, &d.DateCreated, &d.DateUpdated)
	return d, err
}

func (t *tx) EnqueueDelivery(ctx context.Context, d parley.Delivery) error {
	_, err := t.exec(ctx, `INSERT INTO webhook_deliveries (sid, event_type, service_sid, url, method,
		params, status, attempts, next_attempt_at, date_created, date_updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		d.Sid, d.EventType, d.ServiceSid, d.URL, d.Method, d.Params, string(d.Status), d.Attempts,
		millis(d.NextAttemptAt), millis(d.DateCreated), millis(d.DateUpdated))
	return err
}

// ClaimDeliveries locks the due rows with FOR UPDATE SKIP LOCKED before
// leasing them: a row another node's claim has locked is passed over
// instead of waited for, and one whose lease that claim has just committed
// fails the WHERE clause when PostgreSQL rechecks it, so two claims never
// return the same delivery.
func (t *tx) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]parley.Delivery, error) {
	return list(t, ctx, scanDelivery, `WITH due AS (
			SELECT seq FROM webhook_deliveries
			WHERE status = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
			ORDER BY next_attempt_at, seq
			LIMIT $3
			FOR UPDATE SKIP LOCKED
		), claimed AS (
			UPDATE webhook_deliveries d SET lease_until = $2
			FROM due WHERE d.seq = due.seq
			RETURNING d.*
		)
		SELECT `+deliveryCols+` FROM claimed ORDER BY seq`,
		millis(now), millis(leaseUntil), limit)
}

func (t *tx) FinishDelivery(ctx context.Context, d parley.Delivery) error {
	return t.execOne(ctx, `UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3,
		lease_until = NULL, last_status_code = $4, last_error = $5, date_updated = $6 WHERE sid = $7`,
		string(d.Status), d.Attempts, millis(d.NextAttemptAt), d.LastStatusCode, d.LastError,
		millis(d.DateUpdated), d.Sid)
}

func (t *tx) ListDeliveries(ctx context.Context, q parley.PageQuery) (parley.Page[parley.Delivery], error) {
	return page(t, ctx, deliveryCols, "FROM webhook_deliveries WHERE true", nil, q, scanDelivery,
		func(d parley.Delivery) int64 { return d.Seq })
}
