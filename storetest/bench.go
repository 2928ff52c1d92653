package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley"
)

// Bench runs the store benchmarks every backend shares: point reads by SID
// and identity, a page of 50, and durable inserts, one at a time and from
// 64 goroutines at once (where group commit shows).
func Bench(b *testing.B, open func(b *testing.B) parley.Store) {
	ctx := context.Background()
	s := open(b)
	b.Cleanup(func() { s.Close() })
	f := newService(b, s, "bench")
	const preload = 2000
	users := make([]parley.User, preload)
	if err := s.Update(ctx, func(tx parley.Tx) error {
		for i := range users {
			users[i] = newUser(f, fmt.Sprintf("bench-%05d@example.com", i))
			if err := tx.CreateUser(ctx, users[i]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}

	lookups := []struct {
		name string
		get  func(tx parley.Tx, u parley.User) error
	}{
		{"UserBySid", func(tx parley.Tx, u parley.User) error { _, err := tx.UserBySid(ctx, f.svc.Sid, u.Sid); return err }},
		{"UserByIdentity", func(tx parley.Tx, u parley.User) error {
			_, err := tx.UserByIdentity(ctx, f.svc.Sid, u.Identity)
			return err
		}},
	}
	for _, l := range lookups {
		b.Run(l.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				u := users[i%preload]
				i++
				if err := s.View(ctx, func(tx parley.Tx) error { return l.get(tx, u) }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("ListUsers50", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.View(ctx, func(tx parley.Tx) error {
				p, err := tx.ListUsers(ctx, f.svc.Sid, parley.PageQuery{Size: 50, After: 1000})
				if err == nil && len(p.Items) != 50 {
					err = fmt.Errorf("%d items", len(p.Items))
				}
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	var n atomic.Int64
	insert := func(b *testing.B) {
		u := newUser(f, fmt.Sprintf("insert-%d", n.Add(1)))
		if err := s.Update(ctx, func(tx parley.Tx) error { return tx.CreateUser(ctx, u) }); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("CreateUser", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			insert(b)
		}
	})
	b.Run("CreateUserParallel64", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(64) // × GOMAXPROCS goroutines
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				insert(b)
			}
		})
	})
}
