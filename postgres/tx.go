package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/parleyhq/parley/internal/sqlstore"
)

// dialect is PostgreSQL's part of the shared SQL store: $n placeholders,
// timestamptz columns (truncated here as SQLite's integers floor, rather
// than rounded by the column's precision), row locks for read-modify-write
// (the weakest that do the job: NO KEY UPDATE lets inserts that refer to
// the row go on; KEY SHARE blocks only deletes), SKIP LOCKED claims, and
// errors told apart by SQLSTATE.
var dialect = &sqlstore.Dialect{
	Placeholder:   sqlstore.Dollar,
	Seconds:       func(t time.Time) any { return t.Truncate(time.Second) },
	Millis:        func(t time.Time) any { return t.Truncate(time.Millisecond) },
	LockForUpdate: "FOR NO KEY UPDATE",
	LockForShare:  "FOR KEY SHARE",
	SkipLocked:    "FOR UPDATE SKIP LOCKED",
	Classify:      classify,
	Notify:        "SELECT pg_notify(?, ?)",
	Truncate:      "TRUNCATE",
}

// classify tells PostgreSQL's errors apart by SQLSTATE.
func classify(err error) sqlstore.Failure {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return sqlstore.Unique
		case "23503": // foreign_key_violation
			return sqlstore.ForeignKey
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlstore.NoRows
	}
	return sqlstore.OtherFailure
}

// querier is what statements run on: a pooled connection (View) or a
// transaction (Update). pgx prepares each query text once per connection
// and reuses the statement.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// conn adapts a querier to the shared SQL store.
type conn struct{ q querier }

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return c.q.Query(ctx, query, args...)
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.q.QueryRow(ctx, query, args...)
}
