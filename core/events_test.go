package core_test

import (
	"context"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/parleytest"
)

// TestSubscribe: subscribers hear a write's typed events only once it has
// committed (the row is readable from inside the callback), never for a
// write that failed, and no more after unsubscribing.
func TestSubscribe(t *testing.T) {
	ctx := context.Background()
	srv := parleytest.New(t)
	app := srv.App
	var mu sync.Mutex
	var got []parley.Event
	var visible []bool
	unsubscribe := app.Subscribe(func(e parley.Event) {
		_, err := app.FetchUser(ctx, "", e.User.Sid)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, e)
		visible = append(visible, err == nil)
	})
	name := "Ann"
	u, err := app.CreateUser(ctx, "", core.UserCreate{Identity: "ann", FriendlyName: &name}, core.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.CreateUser(ctx, "", core.UserCreate{Identity: "ann"}, core.WriteOptions{}); err == nil {
		t.Fatal("a duplicate create succeeded")
	}
	other := "Anne"
	if _, err := app.UpdateUser(ctx, "", "ann", core.UserUpdate{FriendlyName: &other}, core.WriteOptions{Webhooks: true}); err != nil {
		t.Fatal(err)
	}
	unsubscribe()
	if err := app.DeleteUser(ctx, "", "ann", core.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("got %d events, want 2 (added, updated): %+v", len(got), got)
	}
	added, updated := got[0], got[1]
	if added.Type != parley.EventUserAdded || added.ServiceSid != srv.DefaultServiceSid || added.Source != parley.SourceAPI ||
		added.Webhooks || added.User.Sid != u.Sid || *added.User.FriendlyName != "Ann" || !visible[0] {
		t.Fatalf("added event: %+v (user %+v, visible %v)", added, added.User, visible[0])
	}
	if updated.Type != parley.EventUserUpdated || !updated.Webhooks || *updated.User.FriendlyName != "Anne" ||
		updated.User.Sid != u.Sid || !updated.At.Equal(updated.User.DateUpdated) || !visible[1] {
		t.Fatalf("updated event: %+v (user %+v)", updated, updated.User)
	}
}
