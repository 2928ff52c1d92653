package api_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/parleytest"
)

// BenchmarkMessages measures the message paths in process, each beside a
// baseline of the same run (a user create for creates, the first page for
// the last page): creates spread over 1,000 conversations and into one hot
// conversation, from 64 goroutines; the first and the last page of 50 of
// a long conversation; a user's conversations when they are in 1,000.
// Run on PostgreSQL with PARLEY_TEST_BACKEND=postgres; PARLEY_BENCH_MESSAGES
// sets the long conversation's length (default 100,000).
func BenchmarkMessages(b *testing.B) {
	srv := parleytest.New(b)
	do := inProcess(srv)
	must := func(method, path, body string, status int) string {
		w := do(method, path, body)
		if w.Code != status {
			b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body.String())
		}
		return w.Body.String()
	}
	// 1,000 conversations with bench in each, and a long one.
	convs := make([]string, 1000)
	for i := range convs {
		convs[i] = "c" + fmt.Sprint(i)
		must("POST", "/v1/Conversations", "UniqueName="+convs[i], 201)
		must("POST", "/v1/Conversations/"+convs[i]+"/Participants", "Identity=bench", 201)
	}
	must("POST", "/v1/Conversations", "UniqueName=long", 201)
	long := messagesInto(b, srv, "long", benchMessages())

	var n atomic.Int64
	parallel := func(b *testing.B, path func(i int64) (string, string)) {
		b.SetParallelism(32) // 64 goroutines on 2 cores
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p, body := path(n.Add(1))
				if w := do("POST", p, body); w.Code != 201 {
					b.Error(w.Code, w.Body.String())
					return
				}
			}
		})
	}
	b.Run("CreateUserBaseline", func(b *testing.B) {
		parallel(b, func(i int64) (string, string) { return "/v1/Users", fmt.Sprint("Identity=u", i) })
	})
	b.Run("CreateSpread", func(b *testing.B) {
		parallel(b, func(i int64) (string, string) {
			return "/v1/Conversations/" + convs[i%int64(len(convs))] + "/Messages", "Author=bench&Body=hello"
		})
	})
	b.Run("CreateHot", func(b *testing.B) {
		parallel(b, func(int64) (string, string) { return "/v1/Conversations/c0/Messages", "Author=bench&Body=hello" })
	})
	for _, bc := range []struct{ name, query string }{
		{"FirstPage", "PageSize=50"},
		{"LastPage", "Order=desc&PageSize=50"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if w := do("GET", "/v1/Conversations/"+long+"/Messages?"+bc.query, ""); w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
	b.Run("UserConversations", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if w := do("GET", "/v1/Users/bench/Conversations?PageSize=50", ""); w.Code != 200 {
				b.Fatal(w.Code, w.Body.String())
			}
		}
	})
}

// benchMessages is the long conversation's length.
func benchMessages() int {
	n := 100_000
	fmt.Sscan(envOr("PARLEY_BENCH_MESSAGES", "100000"), &n)
	return n
}

// messagesInto writes n messages into the conversation named name straight
// through the store, in batches, as core would (next index, then insert),
// and returns its SID.
func messagesInto(b *testing.B, srv *parleytest.Server, name string, n int) string {
	ctx := context.Background()
	var sid string
	now := time.Now().UTC().Truncate(time.Second)
	for done := 0; done < n; {
		batch := min(1000, n-done)
		err := srv.Store.Update(ctx, func(tx parley.Tx) error {
			c, err := tx.ConversationByUniqueName(ctx, "", name)
			if err != nil {
				return err
			}
			sid = c.Sid
			for j := range batch {
				i, err := tx.NextMessageIndex(ctx, c.Sid)
				if err != nil {
					return err
				}
				m := parley.Message{Sid: fmt.Sprintf("IM%032x", done+j+1), ServiceSid: c.ServiceSid, ConversationSid: c.Sid,
					Index: i, Author: "system", Body: &name, Attributes: "{}", DateCreated: now, DateUpdated: now}
				if err := tx.CreateMessage(ctx, m); err != nil {
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
	return sid
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
