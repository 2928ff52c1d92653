package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
)

// BenchmarkReset measures emulator mode's POST /parley/v1/Reset on a
// database of 10,000 users and 100,000 messages (the target:
// under 100 ms), beside the reset of a database that holds nothing but
// the default service, as the same run's baseline. The database is filled
// again, untimed, before each reset. PARLEY_BENCH_MESSAGES sets the
// messages (users are a tenth of them); run on PostgreSQL with
// PARLEY_TEST_BACKEND=postgres:
//
//	go test ./api -run '^$' -bench BenchmarkReset -benchtime 5x
func BenchmarkReset(b *testing.B) {
	srv := parleytest.NewWith(b, parleytest.Options{Emulator: true})
	do := inProcess(srv)
	reset := func(b *testing.B) {
		if w := do("POST", "/parley/v1/Reset", ""); w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
	messages := benchMessages()
	b.Run("Empty", func(b *testing.B) {
		for b.Loop() {
			reset(b)
		}
	})
	b.Run(fmt.Sprintf("Users%dMessages%d", messages/10, messages), func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			usersInto(b, srv, messages/10)
			if w := do("POST", "/v1/Conversations", "UniqueName=long"); w.Code != 201 {
				b.Fatal(w.Code, w.Body.String())
			}
			messagesInto(b, srv, "long", messages)
			b.StartTimer()
			reset(b)
		}
	})
}

// usersInto writes n users into the default service straight through the
// store, in batches.
func usersInto(b *testing.B, srv *parleytest.Server, n int) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	for done := 0; done < n; {
		batch := min(1000, n-done)
		err := srv.Store.Update(ctx, func(tx parley.Tx) error {
			cfg, err := tx.ServiceConfig(ctx, srv.DefaultServiceSid)
			if err != nil {
				return err
			}
			for j := range batch {
				u := parley.User{Sid: fmt.Sprintf("US%032x", done+j+1), ServiceSid: srv.DefaultServiceSid,
					RoleSid: cfg.DefaultChatServiceRoleSid, Identity: fmt.Sprint("user", done+j),
					Attributes: "{}", DateCreated: now, DateUpdated: now}
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done += batch
	}
}
