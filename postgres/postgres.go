// Package postgres is parley's shared storage backend: a PostgreSQL database
// through pgx's connection pool, so that several parley nodes can serve one
// account from one database.
//
// Writes: Update runs fn in its own READ COMMITTED transaction on a pooled
// connection. There is no writer goroutine and no batching as in package
// sqlite: PostgreSQL lets transactions run side by side and already commits
// concurrent ones with one WAL flush (group commit), so durability
// (synchronous_commit on) costs little once several requests are in flight.
//
// Reads: View runs fn on one pooled connection outside any transaction. Each
// statement sees the data committed when it starts, which is all the
// parley.Store contract promises and what the SQLite backend gives; a
// REPEATABLE READ transaction would cost a BEGIN and a COMMIT round trip on
// every read for a snapshot no caller asks for.
//
// Everything is created unqualified, in the first schema of the connection's
// search_path, so several parley databases (or test runs) can share one
// PostgreSQL database by schema: add search_path=NAME to the DSN.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/migrate"
	"github.com/parleyhq/parley/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLockKey is the pg_advisory_xact_lock key every node takes while
// it migrates ("parley" in ASCII). It is the same in every schema and
// database, which only means that migrations of unrelated schemas on one
// server wait for each other.
const migrationLockKey int64 = 0x7061726c6579

// maxAttempts bounds how often Update runs fn when PostgreSQL aborts the
// transaction for a serialization failure or a deadlock. Both are transient:
// the other transaction has gone by the time fn runs again.
const maxAttempts = 5

// endTimeout bounds a ROLLBACK issued after the caller's context may already
// be done, so a dead server cannot hold Update forever.
const endTimeout = 10 * time.Second

// Options tune a Store; the zero value is what parley runs with.
type Options struct {
	// MaxConns caps the connection pool. 0 means the DSN's pool_max_conns
	// if it has one, else max(16, 4 × GOMAXPROCS). A durable write spends
	// most of its time waiting for the WAL flush rather than on a CPU, and
	// one flush commits only the transactions in flight with it, so write
	// throughput grows with the pool until the CPUs are busy: on two cores
	// with a ~2 ms fdatasync, 8 connections gave 2,500–3,700 user creates a
	// second and 16 gave 4,000–5,100. Every node opens up to this many
	// connections; nodes × MaxConns must fit the server's max_connections.
	MaxConns int32
	// Existing refuses (with migrate.ErrNotSetUp) a database or schema
	// that no parley has set up, instead of creating parley's tables in it.
	Existing bool
}

// Store is a parley.Store on a PostgreSQL database.
type Store struct {
	pool   *pgxpool.Pool
	closed atomic.Bool
}

// Open connects to the database named by dsn (a postgres:// URL or
// key=value string, as pgx accepts, pool_* settings included), applies the
// embedded migrations, and returns the store. It refuses a database whose
// schema is newer than this build knows.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !setsMaxConns(dsn):
		cfg.MaxConns = int32(max(16, 4*runtime.GOMAXPROCS(0)))
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		// Times come back in UTC, as the SQLite backend returns them,
		// rather than in the process's local zone.
		c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := applyMigrations(ctx, pool, opts.Existing); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// Stats reports the connection pool (parley.StatsReporter). A LISTEN
// connection (Listen) is taken out of the pool and not counted. There are
// no commit batches to report: PostgreSQL groups concurrent commits'
// WAL flushes itself.
func (s *Store) Stats() parley.StoreStats {
	st := s.pool.Stat()
	return parley.StoreStats{Pools: []parley.PoolStats{{Name: "pool", Max: int(st.MaxConns()), Open: int(st.TotalConns()),
		InUse: int(st.AcquiredConns()), Idle: int(st.IdleConns()), Waits: st.EmptyAcquireCount(),
		WaitTime: st.EmptyAcquireWaitTime()}}}
}

// setsMaxConns reports whether dsn has its own pool_max_conns, which
// pgxpool.ParseConfig consumes without saying so.
func setsMaxConns(dsn string) bool {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return false
	}
	_, ok := cfg.RuntimeParams["pool_max_conns"]
	return ok
}

// View runs fn on one pooled connection, outside any transaction.
func (s *Store) View(ctx context.Context, fn func(parley.Tx) error) error {
	if s.closed.Load() {
		return parley.ErrClosed
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return s.poolError("acquire", err)
	}
	// Release destroys the connection instead of pooling it if fn left it
	// busy (a panic with rows open), so nothing here needs a recover.
	defer c.Release()
	return fn(sqlstore.New(conn{q: c}, dialect, false))
}

// Update runs fn in a READ COMMITTED transaction and returns once COMMIT
// has succeeded, or with fn's error and nothing of fn written. fn runs
// again from scratch, up to maxAttempts times in all, after a short random
// pause, when PostgreSQL aborts the transaction for a serialization failure
// or a deadlock, and when a write met parley.ErrDangling: the row it refers
// to was read by fn a moment before, so a concurrent transaction deleted it
// in between, and the next run sees the deletion and answers as the rules
// do (404 for a deleted service, 50100 for a deleted role) instead of
// leaking a foreign-key violation. A panic in fn rolls back and panics on.
func (s *Store) Update(ctx context.Context, fn func(parley.Tx) error) error {
	for attempt := 1; ; attempt++ {
		if s.closed.Load() {
			return parley.ErrClosed
		}
		err := s.update(ctx, fn)
		if err == nil || attempt == maxAttempts || !retryable(err) {
			return err
		}
		pause := time.Duration(1+rand.IntN(1<<attempt)) * time.Millisecond
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return err
		}
	}
}

func (s *Store) update(ctx context.Context, fn func(parley.Tx) error) error {
	pgtx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return s.poolError("begin", err)
	}
	defer func() {
		if p := recover(); p != nil {
			rollback(ctx, pgtx)
			panic(p)
		}
	}()
	if err := fn(sqlstore.New(conn{q: pgtx}, dialect, true)); err != nil {
		rollback(ctx, pgtx)
		return err
	}
	// The caller going away must not interrupt COMMIT: then nobody would
	// know whether fn's writes are in the database.
	if err := pgtx.Commit(context.WithoutCancel(ctx)); err != nil {
		// pgx.ErrTxCommitRollback here means fn swallowed an error that
		// aborted the transaction; PostgreSQL rolled everything back.
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// Reset is ResetData's TRUNCATE, which waits for every transaction using
// the tables and holds off new ones until it commits, then fn, in one
// transaction (retried like any Update, for a deadlock with writers that
// took some of the tables first).
func (s *Store) Reset(ctx context.Context, keepKeys bool, fn func(parley.Tx) error) error {
	return s.Update(ctx, sqlstore.Reset(ctx, keepKeys, fn))
}

func rollback(ctx context.Context, pgtx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endTimeout)
	defer cancel()
	// An error means the connection is gone, and the server rolls back a
	// dead connection's transaction by itself; the pool discards the
	// connection on release.
	_ = pgtx.Rollback(ctx)
}

// poolError is ErrClosed when Close raced the caller to the pool, so that
// callers see one error for a closed store, else err.
func (s *Store) poolError(op string, err error) error {
	if s.closed.Load() {
		return parley.ErrClosed
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// retryable reports whether err means fn should run again: PostgreSQL
// aborted a transaction that would succeed if run again
// (serialization_failure, deadlock_detected), or a row fn had read was
// deleted before fn's write referred to it (parley.ErrDangling).
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") {
		return true
	}
	return errors.Is(err, parley.ErrDangling)
}

// Close stops accepting work, waits for in-flight Views and Updates to hand
// their connections back, and closes the pool.
func (s *Store) Close() error {
	s.closed.Store(true)
	s.pool.Close()
	return nil
}

// migrate applies the embedded migrations in order, each in its own
// transaction under an advisory lock, so that nodes starting together
// apply each migration exactly once and never see half of one.
func applyMigrations(ctx context.Context, pool *pgxpool.Pool, existing bool) error {
	migs, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Release()
	if existing {
		// to_regclass looks the name up in the search_path, as the
		// migrations below would create it.
		var setUp bool
		if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&setUp); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		if setUp {
			err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations)").Scan(&setUp)
			if err != nil {
				return fmt.Errorf("postgres: %w", err)
			}
		}
		if !setUp {
			return fmt.Errorf("postgres: %w", migrate.ErrNotSetUp)
		}
	}
	known := migs[len(migs)-1].Version
	for _, m := range migs {
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error { return applyMigration(ctx, tx, m, known) }); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, tx pgx.Tx, m migrate.Migration, known int) error {
	// The lock is held until this transaction ends; whoever waited for it
	// then reads the version this one wrote.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: migrations table: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("postgres: schema version: %w", err)
	}
	if current > known {
		return fmt.Errorf("postgres: %w", migrate.Newer(current, known))
	}
	if current >= m.Version {
		return nil
	}
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return fmt.Errorf("postgres: migration %d (%s): %w", m.Version, m.Name, err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())", m.Version); err != nil {
		return fmt.Errorf("postgres: migration %d: %w", m.Version, err)
	}
	return nil
}
