package core_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/parleytest"
)

// TestSyncLog: the Sync events of each write are logged with per-object
// ids and told to subscribers after commit; deletes that cascade log the
// removal of every item that went with them; trimming removes old events
// and keeps the ids going up.
func TestSyncLog(t *testing.T) {
	ctx := context.Background()
	var offset atomic.Int64
	start := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	srv := parleytest.NewWith(t, parleytest.Options{Core: core.Options{Now: func() time.Time {
		return start.Add(time.Duration(offset.Load()))
	}}})
	app := srv.App
	var mu sync.Mutex
	var told []string
	stop := app.SubscribeSync(func(evs []parley.SyncEvent) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range evs {
			told = append(told, fmt.Sprintf("%s#%d %s %s", e.Object, e.ID, e.Type, e.Key))
		}
	})
	defer stop()
	opts := core.WriteOptions{}
	alice, err := app.CreateUser(ctx, "", core.UserCreate{Identity: "alice"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := app.CreateUser(ctx, "", core.UserCreate{Identity: "bob"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := app.CreateConversation(ctx, "", core.ConversationInput{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	var mb []string
	for _, who := range []string{"alice", "bob"} {
		p, err := app.CreateParticipant(ctx, "", c.Sid, core.ParticipantInput{Identity: &who}, opts)
		if err != nil {
			t.Fatal(err)
		}
		mb = append(mb, p.Sid)
	}
	body := "hi"
	if _, err := app.CreateMessage(ctx, "", c.Sid, core.MessageInput{Author: &alice.Identity, Body: &body}, opts); err != nil {
		t.Fatal(err)
	}
	// bob goes with his participants; then the conversation with alice's.
	if err := app.DeleteUser(ctx, "", "bob", opts); err != nil {
		t.Fatal(err)
	}
	if err := app.DeleteConversation(ctx, "", c.Sid, opts); err != nil {
		t.Fatal(err)
	}
	ch, roster, msgs := c.Sid+".channel", c.Sid+".roster", c.Sid+".messages"
	want := []string{
		roster + "#1 map_item_added " + mb[0], alice.Sid + ".conversations#1 map_item_added " + c.Sid,
		roster + "#2 map_item_added " + mb[1], bob.Sid + ".conversations#1 map_item_added " + c.Sid,
		ch + "#1 document_updated ", msgs + "#1 list_item_added 0",
		roster + "#3 map_item_removed " + mb[1],
		alice.Sid + ".conversations#2 map_item_removed " + c.Sid, ch + "#2 document_removed ",
	}
	mu.Lock()
	got := append([]string(nil), told...)
	mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("told\n%q\nwant\n%q", got, want)
	}
	// Replayed, events carry their items' current data; those of items
	// gone since are dropped, and a removal keeps the data it had.
	logged, err := app.SyncEventsAfter(ctx, roster, 0, 10)
	if err != nil || len(logged) != 1 || logged[0].ID != 3 || logged[0].Type != "map_item_removed" ||
		!strings.Contains(string(logged[0].Data), `"identity":"bob"`) {
		t.Fatalf("the roster's log: %v %+v", err, logged)
	}

	// A day on, the old events are trimmed; new ids follow the old.
	offset.Store(int64(25 * time.Hour))
	n, err := app.TrimSyncEvents(ctx, core.SyncRetention)
	if err != nil || n != int64(len(want)) {
		t.Fatalf("trimmed %d (%v), want %d", n, err, len(want))
	}
	name := "Alice"
	if _, err := app.UpdateUser(ctx, "", "alice", core.UserUpdate{FriendlyName: &name}, opts); err != nil {
		t.Fatal(err)
	}
	logged, err = app.SyncEventsAfter(ctx, alice.Sid+".info", 0, 10)
	if err != nil || len(logged) != 3 || logged[0].ID != 1 || logged[1].Key != "friendlyName" || string(logged[1].Data) != `{"value":"Alice"}` {
		t.Fatalf("alice's info log: %v %+v", err, logged)
	}
	if last, err := app.LastSyncEventID(ctx, alice.Sid+".conversations"); err != nil || last != 2 {
		t.Fatalf("alice's conversations map after trimming: last id %d (%v), want 2", last, err)
	}
}
