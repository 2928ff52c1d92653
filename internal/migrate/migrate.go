// Package migrate reads the embedded SQL migrations of a store. Each dialect
// keeps its own files (NNNN_name.sql, numbered 1, 2, 3… in lockstep across
// dialects); applying them is the store's business, since it needs its
// driver's transactions and locks.
package migrate

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one numbered SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load reads every file in dir of fsys, in version order, and checks that
// versions run 1, 2, 3… without gaps or repeats.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var migs []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration file %q is not NNNN_name.sql", e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		migs = append(migs, Migration{Version: v, Name: e.Name(), SQL: string(body)})
	}
	if len(migs) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	slices.SortFunc(migs, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range migs {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations must be numbered 1, 2, 3…; found %d at position %d", m.Version, i+1)
		}
	}
	return migs, nil
}

// ErrNotSetUp is what a store opened with its Existing option returns for a
// database that no parley server has set up (no migration applied): tools
// such as `parley keys` must not quietly create parley's tables in a
// database someone mistyped.
var ErrNotSetUp = errors.New("no parley schema in this database")

// Newer is the error a store returns when the database's schema is newer
// than the migrations it knows: an older parley must not serve it.
func Newer(current, known int) error {
	return fmt.Errorf("database schema version %d is newer than this parley knows (%d): upgrade parley", current, known)
}
