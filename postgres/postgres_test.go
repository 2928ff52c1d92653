package postgres

import (
	"context"
	"errors"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/migrate"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/internal/sqlstore"
	"github.com/parleyhq/parley/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) parley.Store {
		s, err := Open(context.Background(), pgtest.DSN(t), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s // the suite closes it
	})
}

// BenchmarkStore: point reads, a page, and durable (synchronous_commit on)
// inserts, alone and 64 × GOMAXPROCS at a time through PostgreSQL's group
// commit, with the default pool.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) parley.Store {
		s, err := Open(context.Background(), pgtest.DSN(b), Options{})
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}

// open opens a store the test closes at its end.
func open(t *testing.T, dsn string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func knownVersion(t *testing.T) int {
	t.Helper()
	migs, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	return migs[len(migs)-1].Version
}

func TestMigrationsRace(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	const nodes = 8
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			s, err := Open(context.Background(), dsn, Options{MaxConns: 2})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: Open: %v", i, err)
		}
	}

	rows, err := connect(t, dsn).Query(context.Background(),
		"SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	type applied struct{ Version, Times int }
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[applied])
	if err != nil {
		t.Fatal(err)
	}
	var want []applied
	for v := 1; v <= knownVersion(t); v++ {
		want = append(want, applied{v, 1})
	}
	if len(got) != len(want) {
		t.Fatalf("schema_migrations = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("schema_migrations = %v, want %v", got, want)
		}
	}
}

func TestMigrationsRefuseNewerSchema(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	open(t, dsn, Options{}).Close()
	if _, err := connect(t, dsn).Exec(context.Background(),
		"INSERT INTO schema_migrations (version, applied_at) VALUES (9999, now())"); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), dsn, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded on a schema at version 9999")
	}
	for _, want := range []string{"9999", "newer", "upgrade parley"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("Open: %v, want an error mentioning %q", err, want)
		}
	}
}

func TestMaxConns(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	withPoolSize := dsn + " pool_max_conns=3"
	if strings.HasPrefix(dsn, "postgres") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("pool_max_conns", "3")
		u.RawQuery = q.Encode()
		withPoolSize = u.String()
	}

	for _, tc := range []struct {
		name string
		dsn  string
		opts Options
		want int32
	}{
		{"default", dsn, Options{}, int32(max(16, 4*runtime.GOMAXPROCS(0)))},
		{"DSN", withPoolSize, Options{}, 3},
		{"Options win", withPoolSize, Options{MaxConns: 5}, 5},
	} {
		s := open(t, tc.dsn, tc.opts)
		if got := s.pool.Config().MaxConns; got != tc.want {
			t.Errorf("%s: MaxConns = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestStats: one pool, as configured, and its waits: with one connection
// held, a second acquisition waits for it.
func TestStats(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.DSN(t), Options{MaxConns: 1})
	var _ parley.StatsReporter = s
	ctx := context.Background()
	st := s.Stats()
	if st.Commits != nil || len(st.Pools) != 1 || st.Pools[0].Name != "pool" || st.Pools[0].Max != 1 || st.Pools[0].InUse != 0 {
		t.Fatalf("stats %+v", st)
	}
	waits := st.Pools[0].Waits
	held := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.View(ctx, func(parley.Tx) error { close(held); time.Sleep(50 * time.Millisecond); return nil })
	}()
	<-held
	if p := s.Stats().Pools[0]; p.InUse != 1 || p.Open != 1 || p.Idle != 0 {
		t.Fatalf("pool with its connection lent out: %+v", p)
	}
	if err := s.Update(ctx, func(tx parley.Tx) error { return tx.CreateService(ctx, newService(parley.NewSID("IS"))) }); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p := s.Stats().Pools[0]; p.Waits != waits+1 || p.WaitTime <= 0 || p.InUse != 0 || p.Idle != 1 {
		t.Fatalf("pool after a wait: %+v", p)
	}
}

// newService writes a service row with no roles, enough to check whether a
// write landed.
func newService(sid string) parley.Service {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return parley.Service{Sid: sid, FriendlyName: "svc", DateCreated: now, DateUpdated: now}
}

func serviceExists(t *testing.T, s *Store, sid string) bool {
	t.Helper()
	err := s.View(context.Background(), func(tx parley.Tx) error {
		_, err := tx.Service(context.Background(), sid)
		return err
	})
	if err != nil && !errors.Is(err, parley.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestUpdateRetries(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.DSN(t), Options{})
	ctx := context.Background()

	// A deadlock or serialization failure runs fn again; what the failed
	// attempts wrote is gone.
	calls := 0
	err := s.Update(ctx, func(tx parley.Tx) error {
		calls++
		svc := newService(parley.RandomSIDs{}.New(parley.PrefixService))
		if calls < 3 {
			svc.Sid = "IS-attempt-" + string(rune('0'+calls))
		}
		if err := tx.CreateService(ctx, svc); err != nil {
			return err
		}
		switch calls {
		case 1:
			return &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}
		case 2:
			return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("Update = %v after %d calls, want success after 3", err, calls)
	}
	for _, sid := range []string{"IS-attempt-1", "IS-attempt-2"} {
		if serviceExists(t, s, sid) {
			t.Fatalf("the failed attempt's %s was committed", sid)
		}
	}

	// Other errors are returned at once.
	calls = 0
	err = s.Update(ctx, func(tx parley.Tx) error {
		calls++
		return &pgconn.PgError{Code: "23505"}
	})
	if calls != 1 || err == nil {
		t.Fatalf("non-retryable error: %d calls, err = %v", calls, err)
	}

	// Retries stop after maxAttempts, with the last error.
	calls = 0
	err = s.Update(ctx, func(tx parley.Tx) error {
		calls++
		return &pgconn.PgError{Code: "40001"}
	})
	var pe *pgconn.PgError
	if calls != maxAttempts || !errors.As(err, &pe) || pe.Code != "40001" {
		t.Fatalf("endless conflict: %d calls, err = %v; want %d calls and the 40001", calls, err, maxAttempts)
	}
}

func TestUpdatePanicRollsBack(t *testing.T) {
	t.Parallel()
	// One connection: if the panicking Update kept it, the next one would
	// wait for it until the deadline.
	s := open(t, pgtest.DSN(t), Options{MaxConns: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	svc := newService(parley.RandomSIDs{}.New(parley.PrefixService))
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Fatalf("recovered %v, want the panic fn raised", p)
			}
		}()
		s.Update(ctx, func(tx parley.Tx) error {
			if err := tx.CreateService(ctx, svc); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if serviceExists(t, s, svc.Sid) {
		t.Fatal("the panicking write was committed")
	}
	if err := s.Update(ctx, func(tx parley.Tx) error { return tx.CreateService(ctx, svc) }); err != nil {
		t.Fatalf("Update after a panic: %v", err)
	}
}

func TestSwallowedErrorDoesNotCommit(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.DSN(t), Options{})
	ctx := context.Background()
	svc := newService(parley.RandomSIDs{}.New(parley.PrefixService))
	if err := s.Update(ctx, func(tx parley.Tx) error { return tx.CreateService(ctx, svc) }); err != nil {
		t.Fatal(err)
	}
	// A failed statement aborts a PostgreSQL transaction; fn ignoring the
	// error must not make Update report a commit that did not happen.
	other := newService(parley.RandomSIDs{}.New(parley.PrefixService))
	err := s.Update(ctx, func(tx parley.Tx) error {
		if err := tx.CreateService(ctx, other); err != nil {
			return err
		}
		_ = tx.CreateService(ctx, svc) // ErrConflict, ignored
		return nil
	})
	if !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Fatalf("Update = %v, want an error saying the commit rolled back", err)
	}
	if serviceExists(t, s, other.Sid) {
		t.Fatal("a write of the aborted transaction was committed")
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	s := open(t, pgtest.DSN(t), Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Update(ctx, func(parley.Tx) error { return nil }); err != parley.ErrClosed {
		t.Fatalf("Update after Close = %v, want ErrClosed", err)
	}
	if err := s.View(ctx, func(parley.Tx) error { return nil }); err != parley.ErrClosed {
		t.Fatalf("View after Close = %v, want ErrClosed", err)
	}
}

// TestResetNamesEveryTable: a table a migration adds must join
// sqlstore's DataTables (a reset empties it) or KeptTables.
func TestResetNamesEveryTable(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	s, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Concat(sqlstore.DataTables, sqlstore.KeptTables)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("tables %v, but sqlstore names %v", got, want)
	}
}
