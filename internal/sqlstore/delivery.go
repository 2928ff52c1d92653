package sqlstore

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// ---- Webhook outbox

const deliveryCols = `seq, sid, event_type, service_sid, url, host, method, params, status, attempts,
	next_attempt_at, lease_until, last_status_code, last_error, last_response, date_created, date_updated`

func scanDelivery(s scanner) (parley.Delivery, error) {
	var d parley.Delivery
	err := s.Scan(&d.Seq, &d.Sid, &d.EventType, &d.ServiceSid, &d.URL, &d.Host, &d.Method, &d.Params, &d.Status,
		&d.Attempts, millis{&d.NextAttemptAt}, nullMillis{&d.LeaseUntil}, &d.LastStatusCode, &d.LastError,
		nullString{&d.LastResponse}, millis{&d.DateCreated}, millis{&d.DateUpdated})
	return d, err
}

func (t *Tx) EnqueueDelivery(ctx context.Context, d parley.Delivery) error {
	_, err := t.exec(ctx, false, `INSERT INTO webhook_deliveries (sid, event_type, service_sid, url, host, method,
		params, status, attempts, next_attempt_at, date_created, date_updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Sid, d.EventType, d.ServiceSid, d.URL, parley.DeliveryHost(d.URL), d.Method, d.Params, string(d.Status),
		d.Attempts, t.d.Millis(d.NextAttemptAt), t.d.Millis(d.DateCreated), t.d.Millis(d.DateUpdated))
	return err
}

// PendingHosts walks the pending part of the (host, next_attempt_at, seq)
// index host by host (a "loose index scan": each step asks for the least
// host above the previous one, one index probe), and for each host reads
// its first unleased delivery in due order. The rows read are one per host
// plus the host's leased deliveries, which sit at the front of its due
// order and number at most what the dispatchers hold in flight: thousands
// queued for one host cost nothing more than one. Hosts whose every
// pending delivery is leased come back with a NULL time and are dropped
// here rather than by a WHERE clause, which would run the probe twice.
func (t *Tx) PendingHosts(ctx context.Context, now time.Time) ([]parley.PendingHost, error) {
	hosts, err := list(t, ctx, func(s scanner) (parley.PendingHost, error) {
		var h parley.PendingHost
		var due *time.Time
		err := s.Scan(&h.Host, nullMillis{&due})
		if due != nil {
			h.NextAttemptAt = *due
		}
		return h, err
	}, `WITH RECURSIVE hosts (host) AS (
			SELECT (SELECT host FROM webhook_deliveries WHERE status = 'pending' ORDER BY host LIMIT 1)
			UNION ALL
			SELECT (SELECT d.host FROM webhook_deliveries d
				WHERE d.status = 'pending' AND d.host > hosts.host ORDER BY d.host LIMIT 1)
			FROM hosts WHERE hosts.host IS NOT NULL
		)
		SELECT hosts.host, (SELECT d.next_attempt_at FROM webhook_deliveries d
			WHERE d.status = 'pending' AND d.host = hosts.host AND (d.lease_until IS NULL OR d.lease_until <= ?)
			ORDER BY d.next_attempt_at, d.seq LIMIT 1)
		FROM hosts WHERE hosts.host IS NOT NULL`,
		t.d.Millis(now))
	if err != nil {
		return nil, err
	}
	hosts = slices.DeleteFunc(hosts, func(h parley.PendingHost) bool { return h.NextAttemptAt.IsZero() })
	// Both backends compare host byte by byte (PostgreSQL's column is
	// COLLATE "C"), as Go does.
	slices.SortFunc(hosts, func(a, b parley.PendingHost) int { return strings.Compare(a.Host, b.Host) })
	return hosts, nil
}

// ClaimDeliveries leases each host's share in one statement per host.
// Where claims can run side by side (PostgreSQL), the dialect's SkipLocked
// makes the inner SELECT lock the rows it picks and pass over rows another
// claim has locked; a row whose lease that claim has just committed then
// fails the WHERE clause when it is read again, so two claims never return
// the same delivery. Hosts are claimed in host order, so that concurrent
// claims take their locks in one order.
func (t *Tx) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limits map[string]int) ([]parley.Delivery, error) {
	hosts := make([]string, 0, len(limits))
	for h, n := range limits {
		if n > 0 {
			hosts = append(hosts, h)
		}
	}
	slices.Sort(hosts)
	var claimed []parley.Delivery
	for _, host := range hosts {
		got, err := list(t, ctx, scanDelivery, `UPDATE webhook_deliveries SET lease_until = ?
			WHERE seq IN (SELECT seq FROM webhook_deliveries
				WHERE status = 'pending' AND host = ? AND next_attempt_at <= ?
					AND (lease_until IS NULL OR lease_until <= ?)
				ORDER BY next_attempt_at, seq LIMIT ? `+t.d.SkipLocked+`)
			RETURNING `+deliveryCols,
			t.d.Millis(leaseUntil), host, t.d.Millis(now), t.d.Millis(now), limits[host])
		if err != nil {
			return nil, err
		}
		// RETURNING gives no order; callers get each host's claim in the
		// order it was due.
		slices.SortFunc(got, func(a, b parley.Delivery) int {
			return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.Seq, b.Seq))
		})
		claimed = append(claimed, got...)
	}
	return claimed, nil
}

// CountPendingDeliveries reads the pending index
// (webhook_deliveries_by_host), not the table.
func (t *Tx) CountPendingDeliveries(ctx context.Context) (int64, error) {
	return count(t, ctx, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")
}

func (t *Tx) FinishDelivery(ctx context.Context, d parley.Delivery) error {
	return t.execOne(ctx, false, `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,
		lease_until = NULL, last_status_code = ?, last_error = ?, last_response = ?, date_updated = ? WHERE sid = ?`,
		string(d.Status), d.Attempts, t.d.Millis(d.NextAttemptAt), d.LastStatusCode, d.LastError, d.LastResponse,
		t.d.Millis(d.DateUpdated), d.Sid)
}

func (t *Tx) ListDeliveries(ctx context.Context, f parley.DeliveryFilter, q parley.PageQuery) (parley.Page[parley.Delivery], error) {
	from := "FROM webhook_deliveries WHERE 1 = 1"
	var args []any
	if f.Status != "" {
		from += " AND status = ?"
		args = append(args, string(f.Status))
	}
	if f.EventType != "" {
		from += " AND event_type = ?"
		args = append(args, f.EventType)
	}
	return page(t, ctx, deliveryCols, from, args, q, scanDelivery, bySeq(func(d parley.Delivery) int64 { return d.Seq }))
}

func (t *Tx) Delivery(ctx context.Context, sid string) (parley.Delivery, error) {
	return get(t, ctx, scanDelivery, "SELECT "+deliveryCols+" FROM webhook_deliveries WHERE sid = ?", sid)
}

func (t *Tx) RetryDelivery(ctx context.Context, sid string, at time.Time) (parley.Delivery, error) {
	n, err := t.exec(ctx, false, `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, date_updated = ?
		WHERE sid = ? AND status <> 'recorded' AND (status <> 'pending' OR lease_until IS NULL OR lease_until <= ?)`,
		t.d.Millis(at), t.d.Millis(at), sid, t.d.Millis(at))
	if err != nil {
		return parley.Delivery{}, err
	}
	d, err := t.Delivery(ctx, sid)
	if err == nil && n == 0 {
		err = parley.ErrInUse
	}
	return d, err
}

func (t *Tx) DeleteDeliveries(ctx context.Context) error {
	_, err := t.exec(ctx, true, "DELETE FROM webhook_deliveries")
	return err
}

func (t *Tx) PruneDeliveries(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := t.exec(ctx, true, `DELETE FROM webhook_deliveries WHERE seq IN (SELECT seq FROM webhook_deliveries
		WHERE status <> 'pending' AND date_updated < ? ORDER BY date_updated LIMIT ?)`, t.d.Millis(before), limit)
	return int(n), err
}
