package api_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/core"

	"github.com/parleyhq/parley/parleytest"
)

// TestClientPresence: a user is online while a client of theirs is
// connected, over REST (with reachability enabled) and in the
// reachability item co-participants see; a second connection ending
// leaves them online; the last one takes them offline.
func TestClientPresence(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := rawClient{t: t, srv: srv}
	is := srv.DefaultServiceSid
	c.must("POST", "/v1/Services/"+is+"/Configuration", "ReachabilityEnabled=true", 200)
	alice := c.must("POST", "/v1/Users", "Identity=alice", 201)["sid"].(string)
	c.must("POST", "/v1/Users", "Identity=bob", 201)
	c.must("POST", "/v1/Conversations", "UniqueName=room", 201)
	c.must("POST", "/v1/Conversations/room/Participants", "Identity=alice", 201)
	c.must("POST", "/v1/Conversations/room/Participants", "Identity=bob", 201)
	if u := c.must("GET", "/v1/Users/alice", "", 200); u["is_online"] != nil {
		t.Fatalf("before any connection: %v", u["is_online"])
	}

	b := parleytest.DialClient(t, srv, "bob")
	info := alice + ".info"
	b.Subscribe(1, map[string]int64{info: 0}, map[string]string{info: "map"})
	// reachability is the info map's third item; each change updates all
	// three (the SDK compares them with what it has).
	reach := func() map[string]any {
		t.Helper()
		for {
			n := b.Next()
			e := n["event"].(map[string]any)
			if n["event_type"] != "map_item_updated" || e["map_sid"] != info {
				t.Fatalf("bob got %v", n)
			}
			if e["item_key"] == "reachability" {
				return e["item_data"].(map[string]any)
			}
		}
	}
	online := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			u := c.must("GET", "/v1/Users/alice", "", 200)
			if u["is_online"] == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("is_online %v, want %v", u["is_online"], want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	a1 := parleytest.DialClient(t, srv, "alice")
	online(true)
	valueEqual(t, "online", reach(), `{"online":true,"notifiable":false}`)
	a2 := parleytest.DialClient(t, srv, "alice")
	a1.Close()
	b.Quiet() // still online: a2 is connected
	online(true)
	a2.Close()
	valueEqual(t, "offline", reach(), `{"online":false,"notifiable":false}`)
	online(false)
}

// TestPresenceConcurrent: connections of one user come and go at once
// (on PostgreSQL, from two nodes' writes side by side): the count ends
// right, so is_online is true while one is left and false after; and
// connections racing the user's delete end without an error.
func TestPresenceConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := parleytest.New(t)
	c := rawClient{t: t, srv: srv}
	alice := c.must("POST", "/v1/Users", "Identity=alice", 201)["sid"].(string)
	is, app := srv.DefaultServiceSid, srv.App
	opts := core.WriteOptions{}
	online := func() bool {
		t.Helper()
		u, err := app.FetchUserRaw(ctx, is, alice)
		if err != nil {
			t.Fatal(err)
		}
		return u.IsOnline != nil && *u.IsOnline
	}
	if err := app.Connected(ctx, is, alice, opts); err != nil { // the one that stays
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := app.Connected(ctx, is, alice, opts); err != nil {
				t.Error(err)
			}
			if err := app.Disconnected(ctx, is, alice, opts); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if !online() {
		t.Fatal("alice offline with a connection left")
	}
	if err := app.Disconnected(ctx, is, alice, opts); err != nil {
		t.Fatal(err)
	}
	if online() {
		t.Fatal("alice online without connections")
	}

	bob := c.must("POST", "/v1/Users", "Identity=bob", 201)["sid"].(string)
	for range 8 {
		wg.Go(func() {
			if err := app.Connected(ctx, is, bob, opts); err != nil {
				t.Errorf("a connection racing the user's delete: %v", err)
			}
		})
	}
	c.must("DELETE", "/v1/Users/bob", "", 204)
	wg.Wait()
	c.must("GET", "/v1/Users/bob", "", 404)
}
