package api_test

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
)

// newStore is the database a scenario runs on: a fresh SQLite file, or a
// fresh PostgreSQL schema when PARLEY_TEST_BACKEND=postgres.
func newStore(t *testing.T) parley.Store { return parleytest.NewStore(t) }
