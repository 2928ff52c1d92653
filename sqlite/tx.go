package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parleyhq/parley/internal/sqlstore"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is SQLite's part of the shared SQL store: ? placeholders, times
// as Unix seconds and milliseconds, no row locks and no SKIP LOCKED (one
// writer at a time needs neither), and errors told apart by the driver's
// extended result codes.
var dialect = &sqlstore.Dialect{
	Seconds:  func(t time.Time) any { return t.Unix() },
	Millis:   func(t time.Time) any { return t.UnixMilli() },
	Classify: classify,
}

// classify tells SQLite's errors apart by the driver's extended result
// code.
func classify(err error) sqlstore.Failure {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return sqlstore.Unique
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return sqlstore.ForeignKey
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return sqlstore.NoRows
	}
	return sqlstore.OtherFailure
}

// conn runs the shared SQL through a statement cache: the read pool's
// (View) or the writer connection's (Update).
type conn struct {
	st *stmtCache
	// fixed, when set, replaces the callers' contexts: statements inside a
	// shared write batch must not be interrupted by one caller going away.
	fixed context.Context
}

func (c conn) ctx(ctx context.Context) context.Context {
	if c.fixed != nil {
		return c.fixed
	}
	return ctx
}

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	ctx = c.ctx(ctx)
	st, err := c.st.get(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	ctx = c.ctx(ctx)
	st, err := c.st.get(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	ctx = c.ctx(ctx)
	st, err := c.st.get(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// sqlRows adapts *sql.Rows, whose Close returns an error that Err reports
// anyway.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// errRow is a Row whose statement could not be prepared.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
