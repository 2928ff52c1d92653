package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/sqlstore"
	"github.com/parleyhq/parley/sqlite"
	"github.com/parleyhq/parley/storetest"
)

// open returns a store on a fresh file in the test's temp dir.
func open(tb testing.TB) parley.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "parley.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) parley.Store { return open(t) })
}

// TestResetNamesEveryTable: a table a migration adds must join
// sqlstore's DataTables (a reset empties it) or KeptTables.
func TestResetNamesEveryTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name <> 'schema_migrations'`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		got = append(got, name)
	}
	want := slices.Concat(sqlstore.DataTables, sqlstore.KeptTables)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("tables %v, but sqlstore names %v", got, want)
	}
}

// TestStats: the pools as configured, and the group commit's histogram:
// writes one at a time are commits of one; writes at once share commits,
// and every write is counted once.
func TestStats(t *testing.T) {
	t.Parallel()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{Readers: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var _ parley.StatsReporter = s
	ctx := context.Background()
	write := func() {
		if err := s.Update(ctx, func(parley.Tx) error { return nil }); err != nil {
			t.Error(err)
		}
	}
	st := s.Stats()
	if st.Commits == nil || st.Commits.Commits != 0 || st.Commits.Writes != 0 {
		t.Fatalf("commits of a fresh store: %+v", st.Commits)
	}
	if len(st.Pools) != 2 || st.Pools[0].Name != "write" || st.Pools[0].Max != 1 || st.Pools[0].InUse != 1 ||
		st.Pools[1].Name != "read" || st.Pools[1].Max != 3 {
		t.Fatalf("pools %+v", st.Pools)
	}
	for range 5 {
		write()
	}
	// A write whose fn fails is not committed, and not counted.
	if err := s.Update(ctx, func(parley.Tx) error { return parley.ErrNotFound }); err != parley.ErrNotFound {
		t.Fatal(err)
	}
	c := s.Stats().Commits
	if want := []uint64{5, 5, 5, 5, 5, 5, 5, 5, 5}; c.Commits != 5 || c.Writes != 5 || !slices.Equal(c.Counts, want) ||
		!slices.Equal(c.Bounds, []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}) {
		t.Fatalf("after five writes one at a time: %+v", c)
	}
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(write)
	}
	wg.Wait()
	c = s.Stats().Commits
	if c.Writes != 205 || c.Commits < 6 || c.Commits > 205 || c.Counts[len(c.Counts)-1] != c.Commits {
		t.Fatalf("after 200 writes at once: %+v", c)
	}
	t.Logf("200 writes at once took %d commits", c.Commits-5)
}
