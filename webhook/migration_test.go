package webhook_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/sqlite"
)

// queuedBeforeHosts are webhook URLs as deliveries queued before migration
// 0002 hold them, and the host each must be queued under afterwards.
var queuedBeforeHosts = []struct{ url, host string }{
	{"http://a.test/hook", "http://a.test:80"},
	{"HTTPS://B.Test:8443/x?y=1#z", "https://b.test:8443"},
	{"https://user:p%40ss@c.test/x", "https://c.test:443"},
	{"http://u@d.test:8080?q=1", "http://d.test:8080"},
	{"http://[::1]:9000/v6", "http://[::1]:9000"},
	{"http://[::1]/v6", "http://[::1]:80"},
	{"https://e.test#frag", "https://e.test:443"},
	{"http://a.test:80/", "http://a.test:80"},
	{"http://127.0.0.1:43121/hook?a=b/c", "http://127.0.0.1:43121"},
}

// TestMigrationFillsHosts: migration 0002 gives the deliveries already in
// the outbox the host parley.DeliveryHost computes for new ones, in SQL,
// on both backends, so that the dispatcher queues and limits them alike.
func TestMigrationFillsHosts(t *testing.T) {
	t.Parallel()
	for _, tc := range queuedBeforeHosts {
		if got := parley.DeliveryHost(tc.url); got != tc.host {
			t.Fatalf("DeliveryHost(%q) = %q, want %q", tc.url, got, tc.host)
		}
	}
	ctx := context.Background()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	check := func(t *testing.T, s parley.Store) {
		t.Cleanup(func() { s.Close() })
		var got []parley.Delivery
		err := s.View(ctx, func(tx parley.Tx) error {
			p, err := tx.ListDeliveries(ctx, parley.DeliveryFilter{}, parley.PageQuery{Size: 50})
			got = p.Items
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(queuedBeforeHosts) {
			t.Fatalf("%d deliveries after the migration, want %d", len(got), len(queuedBeforeHosts))
		}
		for i, d := range got {
			if d.URL != queuedBeforeHosts[i].url || d.Host != queuedBeforeHosts[i].host {
				t.Errorf("delivery to %q migrated with host %q, want %q", d.URL, d.Host, queuedBeforeHosts[i].host)
			}
		}
		// And the dispatcher's queries find them by host: all but the
		// delivered one (the last) are pending.
		var pending []parley.PendingHost
		err = s.View(ctx, func(tx parley.Tx) error {
			var err error
			pending, err = tx.PendingHosts(ctx, at)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []parley.PendingHost{}
		for _, h := range []string{"http://[::1]:80", "http://[::1]:9000", "http://a.test:80", "http://d.test:8080",
			"https://b.test:8443", "https://c.test:443", "https://e.test:443"} {
			want = append(want, parley.PendingHost{Host: h, NextAttemptAt: at})
		}
		if d := cmp.Diff(want, pending); d != "" {
			t.Fatalf("pending hosts after the migration (-want +got):\n%s", d)
		}
	}

	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "v1.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		schema, err := os.ReadFile("../sqlite/migrations/0001_init.sql")
		if err != nil {
			t.Fatal(err)
		}
		stmts := []string{string(schema),
			"CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
			"INSERT INTO schema_migrations VALUES (1, 0)"}
		for _, q := range stmts {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		for i, tc := range queuedBeforeHosts {
			if _, err := db.Exec(`INSERT INTO webhook_deliveries (sid, event_type, service_sid, url, method, params,
				status, next_attempt_at, date_created, date_updated) VALUES (?, 'onUserAdded', 'IS1', ?, 'POST', '', ?, ?, ?, ?)`,
				"WD"+string(rune('a'+i)), tc.url, status(i), at.UnixMilli(), at.UnixMilli(), at.UnixMilli()); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		s, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		check(t, s)
	})

	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t)
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		schema, err := os.ReadFile("../postgres/migrations/0001_init.sql")
		if err != nil {
			t.Fatal(err)
		}
		stmts := []string{string(schema),
			"CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)",
			"INSERT INTO schema_migrations VALUES (1, now())"}
		for _, q := range stmts {
			if _, err := conn.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		for i, tc := range queuedBeforeHosts {
			if _, err := conn.Exec(ctx, `INSERT INTO webhook_deliveries (sid, event_type, service_sid, url, method, params,
				status, next_attempt_at, date_created, date_updated) VALUES ($1, 'onUserAdded', 'IS1', $2, 'POST', '', $3, $4, $4, $4)`,
				"WD"+string(rune('a'+i)), tc.url, status(i), at); err != nil {
				t.Fatal(err)
			}
		}
		s, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		check(t, s)
	})
}

// status is the i-th queued delivery's status: the last one was delivered,
// which the migration gives a host all the same.
func status(i int) string {
	if i == len(queuedBeforeHosts)-1 {
		return string(parley.DeliveryDelivered)
	}
	return string(parley.DeliveryPending)
}
