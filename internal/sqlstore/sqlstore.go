// Package sqlstore is the one SQL implementation of parley.Tx, shared by the
// SQLite and PostgreSQL backends. Every query is written once, with ?
// placeholders, in the SQL both databases accept; a Dialect holds the little
// that truly differs (placeholder syntax, how a time is stored, the row lock
// of a read-modify-write, the claim of outbox rows, and which driver errors
// mean which parley sentinel). What is each backend's own (connections,
// SQLite's group commit, PostgreSQL's retries, migrations) stays in its
// package, which hands this one a Conn.
//
// Written twice, the SQL drifted: a bug planted in the PostgreSQL copy of
// UpdateUser once survived both backends' test suites. Written once, the
// conformance suite (package storetest) proves it on both.
package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// Conn is what a Tx runs its statements on: a pooled connection or a
// transaction of either backend. Queries reach it already rebound to the
// backend's placeholders.
type Conn interface {
	// Exec runs a statement and returns the number of rows it touched.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Rows is a result set, as database/sql and pgx both offer it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Row is one row of a result; Scan reports the driver's "no rows" error
// when there is none, which Dialect.Error turns into parley.ErrNotFound.
type Row interface {
	Scan(dest ...any) error
}

// Dialect is what differs between the SQL databases parley runs on.
type Dialect struct {
	// Placeholder renders the n-th (1-based) query parameter; nil keeps ?.
	Placeholder func(n int) string
	// Seconds and Millis turn a time into the value of a column that keeps
	// whole seconds (resources: Twilio shows seconds) or milliseconds
	// (outbox schedules). Scanning needs no counterpart: the scanners
	// below read both representations.
	Seconds, Millis func(time.Time) any
	// LockForUpdate ends a SELECT whose rows a write transaction will write
	// back ("FOR NO KEY UPDATE" on PostgreSQL: it waits for other writers
	// of the row but not for inserts of rows referring to it); empty where
	// writers never run side by side.
	LockForUpdate string
	// LockForShare ends a SELECT whose rows a write transaction refers to
	// and must not see deleted before it commits ("FOR KEY SHARE" on
	// PostgreSQL: it blocks only deletes and key changes).
	LockForShare string
	// SkipLocked ends the SELECT that picks outbox rows to claim, so that
	// concurrent claimers pass over each other's rows instead of waiting
	// ("FOR UPDATE SKIP LOCKED" on PostgreSQL); empty where claims never
	// run side by side.
	SkipLocked string
	// Classify says what a driver error means, by the driver's own codes
	// (never by message text).
	Classify func(err error) Failure
	// Truncate empties tables in one statement that waits for every
	// transaction using them and holds off new ones until commit
	// ("TRUNCATE" on PostgreSQL); empty where a write transaction has the
	// database alone and DELETE does (SQLite).
	Truncate string
	// Notify is the statement that notifies listeners on commit, with the
	// channel and the payload as its parameters ("SELECT pg_notify(?, ?)");
	// empty where one node has the database alone.
	Notify string

	rebound sync.Map // query text with ? → with Placeholder's syntax
}

// Failure is what a driver error means to the store.
type Failure int

// The failures the store tells apart; anything else is passed on as it is.
const (
	OtherFailure Failure = iota
	NoRows               // a single-row read found none
	Unique               // a unique constraint refused a write
	ForeignKey           // a foreign key refused a write
)

// mapError turns a driver error into parley's sentinels, wrapping the
// driver's error for logs: no rows is ErrNotFound, a unique violation
// ErrConflict, and a foreign-key violation ErrInUse when the statement was
// a DELETE (rows still refer to the row) and ErrDangling otherwise (the row
// referred to is gone).
func (d *Dialect) mapError(err error, del bool) error {
	switch d.Classify(err) {
	case NoRows:
		return parley.ErrNotFound
	case Unique:
		return fmt.Errorf("%w: %w", parley.ErrConflict, err)
	case ForeignKey:
		if del {
			return fmt.Errorf("%w: %w", parley.ErrInUse, err)
		}
		return fmt.Errorf("%w: %w", parley.ErrDangling, err)
	}
	return err
}

// rebind rewrites the ? placeholders of query for the dialect, once per
// query text (queries are constants, so the map stays small).
func (d *Dialect) rebind(query string) string {
	if d.Placeholder == nil {
		return query
	}
	if q, ok := d.rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteString(d.Placeholder(n))
			continue
		}
		b.WriteByte(query[i])
	}
	q := b.String()
	d.rebound.Store(query, q)
	return q
}

// Dollar is PostgreSQL's placeholder syntax.
func Dollar(n int) string { return "$" + strconv.Itoa(n) }

// Tx implements parley.Tx on a Conn.
type Tx struct {
	c     Conn
	d     *Dialect
	write bool   // inside Update
	lock  string // the clause ending reads (ForUpdate, ForShare), or ""
}

// New returns a Tx running on c; write says whether c is a write
// transaction (Update), where ForUpdate locks.
func New(c Conn, d *Dialect, write bool) *Tx {
	return &Tx{c: c, d: d, write: write}
}

// ForUpdate implements parley.Tx.
func (t *Tx) ForUpdate() parley.Tx { return t.locking(t.d.LockForUpdate) }

// ForShare implements parley.Tx.
func (t *Tx) ForShare() parley.Tx { return t.locking(t.d.LockForShare) }

func (t *Tx) locking(clause string) *Tx {
	if !t.write || t.lock == clause {
		return t
	}
	locked := *t
	locked.lock = clause
	return &locked
}

// exec runs an INSERT or UPDATE (del false) or a DELETE (del true).
func (t *Tx) exec(ctx context.Context, del bool, query string, args ...any) (int64, error) {
	n, err := t.c.Exec(ctx, t.d.rebind(query), args...)
	if err != nil {
		return 0, t.d.mapError(err, del)
	}
	return n, nil
}

// count runs a SELECT count(*).
func count(t *Tx, ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	if err := t.c.QueryRow(ctx, t.d.rebind(query), args...).Scan(&n); err != nil {
		return 0, t.d.mapError(err, false)
	}
	return n, nil
}

// execOne runs a write that must touch exactly one row; none is
// ErrNotFound.
func (t *Tx) execOne(ctx context.Context, del bool, query string, args ...any) error {
	n, err := t.exec(ctx, del, query, args...)
	if err == nil && n == 0 {
		err = parley.ErrNotFound
	}
	return err
}

// scanner is a Row or Rows.
type scanner interface{ Scan(dest ...any) error }

// get scans the one row query selects; none is ErrNotFound. Under
// ForUpdate or ForShare the row is locked until the transaction ends.
func get[T any](t *Tx, ctx context.Context, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	if t.lock != "" {
		query += " " + t.lock
	}
	v, err := scan(t.c.QueryRow(ctx, t.d.rebind(query), args...))
	if err != nil {
		var zero T
		return zero, t.d.mapError(err, false)
	}
	return v, nil
}

// list scans every row query selects, in the query's order.
func list[T any](t *Tx, ctx context.Context, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.c.Query(ctx, t.d.rebind(query), args...)
	if err != nil {
		return nil, t.d.mapError(err, false)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, t.d.mapError(err, false)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, t.d.mapError(err, false)
	}
	return out, nil
}

// serviceRef is the service a read names, as one placeholder: the SID
// given, or, for "", the account's default service, resolved within the
// same statement so that shortened URLs (/v1/Users…) cost no extra query.
const serviceRef = "COALESCE(NULLIF(CAST(? AS TEXT), ''), (SELECT default_chat_service_sid FROM account_configs WHERE id = 1))"

// ---- Scanners that read a column the same way on both backends. Each is
// a struct holding one pointer, which Go stores in an interface without
// allocating.

// seconds scans a time kept in whole seconds: SQLite's INTEGER of Unix
// seconds or PostgreSQL's timestamptz.
type seconds struct{ t *time.Time }

func (s seconds) Scan(src any) error { return scanTime(s.t, src, time.Second) }

// millis scans a time kept in milliseconds.
type millis struct{ t *time.Time }

func (s millis) Scan(src any) error { return scanTime(s.t, src, time.Millisecond) }

// nullSeconds and nullMillis scan a time that may be NULL.
type nullSeconds struct{ t **time.Time }

func (s nullSeconds) Scan(src any) error { return scanNullTime(s.t, src, time.Second) }

type nullMillis struct{ t **time.Time }

func (s nullMillis) Scan(src any) error { return scanNullTime(s.t, src, time.Millisecond) }

func scanTime(dst *time.Time, src any, unit time.Duration) error {
	switch v := src.(type) {
	case int64:
		if unit == time.Second {
			*dst = time.Unix(v, 0).UTC()
		} else {
			*dst = time.UnixMilli(v).UTC()
		}
	case time.Time:
		*dst = v.UTC()
	default:
		return fmt.Errorf("sqlstore: cannot read %T as a time", src)
	}
	return nil
}

func scanNullTime(dst **time.Time, src any, unit time.Duration) error {
	if src == nil {
		*dst = nil
		return nil
	}
	var t time.Time
	if err := scanTime(&t, src, unit); err != nil {
		return err
	}
	*dst = &t
	return nil
}

// nullString scans a text that may be NULL into a *string.
type nullString struct{ s **string }

func (n nullString) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.s = nil
	case string:
		*n.s = &v
	case []byte:
		s := string(v)
		*n.s = &s
	default:
		return fmt.Errorf("sqlstore: cannot read %T as text", src)
	}
	return nil
}

// nullBool scans a boolean that may be NULL: SQLite's INTEGER 0/1 or
// PostgreSQL's boolean.
type nullBool struct{ b **bool }

func (n nullBool) Scan(src any) error {
	var v bool
	switch x := src.(type) {
	case nil:
		*n.b = nil
		return nil
	case bool:
		v = x
	case int64:
		v = x != 0
	default:
		return fmt.Errorf("sqlstore: cannot read %T as a boolean", src)
	}
	*n.b = &v
	return nil
}

// boolean scans a boolean that is never NULL.
type boolean struct{ b *bool }

func (n boolean) Scan(src any) error {
	var p *bool
	if err := (nullBool{&p}).Scan(src); err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("sqlstore: NULL in a boolean column")
	}
	*n.b = *p
	return nil
}

// jsonList scans a list kept as a JSON array (SQLite text, PostgreSQL
// jsonb or text); NULL stays nil, so that "unset" and "empty" stay apart.
type jsonList[T any] struct{ l *[]T }

// stringList is a list of strings (permissions, filters).
type stringList = jsonList[string]

func (s jsonList[T]) Scan(src any) error {
	var text []byte
	switch v := src.(type) {
	case nil:
		*s.l = nil
		return nil
	case string:
		text = []byte(v)
	case []byte:
		text = v
	default:
		return fmt.Errorf("sqlstore: cannot read %T as a list", src)
	}
	list := []T{}
	if err := json.Unmarshal(text, &list); err != nil {
		return fmt.Errorf("sqlstore: stored list %q: %w", text, err)
	}
	*s.l = list
	return nil
}

// listArg is a list as a column value: its JSON array, or NULL for nil.
func listArg[T any](list []T) any {
	if list == nil {
		return nil
	}
	return jsonArg(list)
}

// jsonValue scans a value kept as JSON text; NULL leaves the zero value.
type jsonValue[T any] struct{ v *T }

func (s jsonValue[T]) Scan(src any) error {
	var zero T
	*s.v = zero
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		return json.Unmarshal([]byte(v), s.v)
	case []byte:
		return json.Unmarshal(v, s.v)
	}
	return fmt.Errorf("sqlstore: cannot read %T as JSON", src)
}

// jsonArg is a value as JSON text.
func jsonArg(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("sqlstore: marshal: " + err.Error()) // parley's own types always marshal
	}
	return string(b)
}

var _ parley.Tx = (*Tx)(nil)
