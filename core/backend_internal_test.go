package core

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/sqlite"
)

// TestEmulatorKeepsTheBackendsKind: the emulator's reset guard wraps the
// store, yet the app still sees what the backend is: PostgreSQL shared
// between nodes (so clients' events cross nodes and presence takes
// leases), SQLite one node's alone; both report their stats.
func TestEmulatorKeepsTheBackendsKind(t *testing.T) {
	ctx := context.Background()
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	pg, err := postgres.Open(ctx, pgtest.DSN(t), postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	for _, c := range []struct {
		name   string
		store  parley.Store
		shared bool
	}{{"sqlite", lite, false}, {"postgres", pg, true}} {
		for _, emulator := range []bool{false, true} {
			a := New(Options{Store: c.store, Emulator: emulator})
			if got := a.shared(); got != c.shared {
				t.Errorf("%s, emulator %v: shared %v, want %v", c.name, emulator, got, c.shared)
			}
			if _, ok := a.StoreStats(); !ok {
				t.Errorf("%s, emulator %v: no store stats", c.name, emulator)
			}
		}
	}
}
