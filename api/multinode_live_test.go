package api_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/postgres"
)

// TestLiveAcrossNodes: two nodes on one PostgreSQL. A client connected to
// node A is told at once of what a backend writes through node B (NOTIFY
// with the commit, the events read from the log); when A's listening
// connection is cut, what B writes meanwhile still reaches the client
// once A listens again (it catches up from the log).
func TestLiveAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	open := func() *postgres.Store {
		s, err := postgres.Open(ctx, dsn, postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	nodeA := parleytest.NewWith(t, parleytest.Options{Store: open()})
	// Node B's clock can be moved, to see node A's lease run out.
	var later atomic.Int64
	nodeB := parleytest.NewWith(t, parleytest.Options{Store: open(), Core: core.Options{
		Now: func() time.Time { return time.Now().Add(time.Duration(later.Load())) }}})
	for _, n := range []*parleytest.Server{nodeA, nodeB} {
		lctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { n.App.RunSyncListener(lctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	b := rawClient{t: t, srv: nodeB}
	b.must("POST", "/v1/Users", "Identity=alice", 201)
	ch := b.must("POST", "/v1/Conversations", "UniqueName=room", 201)["sid"].(string)
	b.must("POST", "/v1/Conversations/room/Participants", "Identity=alice", 201)

	alice := parleytest.DialClient(t, nodeA, "alice")
	msgs := ch + ".messages"
	alice.Subscribe(1, map[string]int64{msgs: 0}, map[string]string{msgs: "list"})
	b.must("POST", "/v1/Conversations/room/Messages", "Author=system&Body=one", 201)
	n := alice.Next()
	if e := n["event"].(map[string]any); n["event_type"] != "list_item_added" || e["id"] != 1.0 || e["item_data"].(map[string]any)["text"] != "one" {
		t.Fatalf("node B's message on node A: %v", n)
	}

	// Cut A's listening connection (and any other of this database's:
	// they listen again and catch up); B writes while A cannot hear.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query = 'LISTEN "parley_sync"' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	b.must("POST", "/v1/Conversations/room/Messages", "Author=system&Body=two", 201)
	b.must("POST", "/v1/Conversations/room/Messages", "Author=system&Body=three", 201)
	var texts []any
	for len(texts) < 2 {
		n := alice.Next()
		texts = append(texts, n["event"].(map[string]any)["item_data"].(map[string]any)["text"])
	}
	if texts[0] != "two" || texts[1] != "three" {
		t.Fatalf("after the cut: %v", texts)
	}

	// Typing travels too, and is stored nowhere: bob types on node B,
	// alice on node A sees it.
	b.must("POST", "/v1/Conversations/room/Participants", "Identity=bob", 201)
	bob := parleytest.DialClient(t, nodeB, "bob")
	if status, v := bob.Request("POST", "/Client/v2/Services/"+nodeB.DefaultServiceSid+"/Typing", nil, "ChannelSid="+ch); status != 200 {
		t.Fatalf("typing: %d %v", status, v)
	}
	typ, v := alice.NextNotification()
	if typ != "twilio.ipmsg.typing_indicator" || v["channel_sid"] != ch || v["identity"] != "bob" || v["typing_timeout"] != 6.0 {
		t.Fatalf("alice got %s %v", typ, v)
	}

	// Presence is the same on both nodes: alice's connection is on A.
	b.must("POST", "/v1/Services/"+nodeB.DefaultServiceSid+"/Configuration", "ReachabilityEnabled=true", 200)
	a := rawClient{t: t, srv: nodeA}
	for _, n := range []rawClient{a, b} {
		if u := n.must("GET", "/v1/Users/alice", "", 200); u["is_online"] != true {
			t.Fatalf("alice on node %s: is_online %v", n.srv.URL, u["is_online"])
		}
	}
	// Node A dies (it stops renewing its lease): once the lease has run
	// out, node B reaps it and alice is offline; bob, on B, stays online.
	later.Store(int64(core.PresenceLease + time.Second))
	if err := nodeB.App.ReapPresence(ctx); err != nil {
		t.Fatal(err)
	}
	if u := b.must("GET", "/v1/Users/alice", "", 200); u["is_online"] != false {
		t.Fatalf("alice after node A died: is_online %v", u["is_online"])
	}
	if u := b.must("GET", "/v1/Users/bob", "", 200); u["is_online"] != true {
		t.Fatalf("bob, on the living node: is_online %v", u["is_online"])
	}
}
