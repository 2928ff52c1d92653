package sqlite_test

import (
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/storetest"
)

// BenchmarkStore: point reads, a page, and durable (synchronous=FULL)
// inserts, alone and 64 at a time through group commit.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) parley.Store { return open(b) })
}
