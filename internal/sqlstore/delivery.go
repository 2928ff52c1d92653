package sqlstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/parleyhq/parley"
)

// ---- Webhook outbox

const deliveryCols = `seq, sid, event_type, service_sid, url, method, params, status, attempts,
	next_attempt_at, lease_until, last_status_code, last_error, date_created, date_updated`

func scanDelivery(s scanner) (parley.Delivery, error) {
	var d parley.Delivery
	err := s.Scan(&d.Seq, &d.Sid, &d.EventType, &d.ServiceSid, &d.URL, &d.Method, &d.Params, &d.Status,
		&d.Attempts, millis{&d.NextAttemptAt}, nullMillis{&d.LeaseUntil}, &d.LastStatusCode, &d.LastError,
		millis{&d.DateCreated}, millis{&d.DateUpdated})
	return d, err
}

func (t *Tx) EnqueueDelivery(ctx context.Context, d parley.Delivery) error {
	_, err := t.exec(ctx, false, `INSERT INTO webhook_deliveries (sid, event_type, service_sid, url, method,
		params, status, attempts, next_attempt_at, date_created, date_updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Sid, d.EventType, d.ServiceSid, d.URL, d.Method, d.Params, string(d.Status), d.Attempts,
		t.d.Millis(d.NextAttemptAt), t.d.Millis(d.DateCreated), t.d.Millis(d.DateUpdated))
	return err
}

// ClaimDeliveries leases the due rows in one statement. Where claims can
// run side by side (PostgreSQL), the dialect's SkipLocked makes the inner
// SELECT lock the rows it picks and pass over rows another claim has
// locked; a row whose lease that claim has just committed then fails the
// WHERE clause when it is read again, so two claims never return the same
// delivery.
func (t *Tx) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]parley.Delivery, error) {
	claimed, err := list(t, ctx, scanDelivery, `UPDATE webhook_deliveries SET lease_until = ?
		WHERE seq IN (SELECT seq FROM webhook_deliveries
			WHERE status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
			ORDER BY next_attempt_at, seq LIMIT ? `+t.d.SkipLocked+`)
		RETURNING `+deliveryCols,
		t.d.Millis(leaseUntil), t.d.Millis(now), t.d.Millis(now), limit)
	// RETURNING gives no order; callers get the claim in outbox order.
	slices.SortFunc(claimed, func(a, b parley.Delivery) int { return cmp.Compare(a.Seq, b.Seq) })
	return claimed, err
}

func (t *Tx) FinishDelivery(ctx context.Context, d parley.Delivery) error {
	return t.execOne(ctx, false, `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,
		lease_until = NULL, last_status_code = ?, last_error = ?, date_updated = ? WHERE sid = ?`,
		string(d.Status), d.Attempts, t.d.Millis(d.NextAttemptAt), d.LastStatusCode, d.LastError,
		t.d.Millis(d.DateUpdated), d.Sid)
}

func (t *Tx) ListDeliveries(ctx context.Context, q parley.PageQuery) (parley.Page[parley.Delivery], error) {
	return page(t, ctx, deliveryCols, "FROM webhook_deliveries WHERE 1 = 1", nil, q, scanDelivery,
		func(d parley.Delivery) int64 { return d.Seq })
}
