package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// syncEvent is an event of object with id, created at.
func syncEvent(object string, id int64, typ, key string, data string, at time.Time) parley.SyncEvent {
	e := parley.SyncEvent{Object: object, ID: id, ServiceSid: "IS00000000000000000000000000000001", Type: typ, Key: key, DateCreated: at}
	if data != "" {
		e.Data = json.RawMessage(data)
	}
	return e
}

func testSyncEvents(t *testing.T, s parley.Store) {
	ctx := context.Background()
	roster, messages := sid(parley.PrefixConversation)+".roster", sid(parley.PrefixConversation)+".messages"
	last := mustView(t, s, func(tx parley.Tx) (int64, error) { return tx.LastSyncEventID(ctx, roster) })
	if last != 0 {
		t.Fatalf("a new object's last id = %d, want 0", last)
	}
	at := t0.Add(123 * time.Millisecond)
	added := syncEvent(roster, 1, "map_item_added", "MB1", `{"identity":"alice"}`, at)
	updated := syncEvent(roster, 2, "map_item_updated", "MB1", `{"identity":"alice","lastConsumedMessageIndex":3}`, at.Add(time.Second))
	first := syncEvent(messages, 1, "list_item_added", "0", `{"text":"hi"}`, at)
	update(t, s, func(tx parley.Tx) error {
		last, err := tx.AdvanceSyncObjects(ctx, map[string]int{roster: 2, messages: 1})
		if err == nil && (len(last) != 2 || last[roster] != 2 || last[messages] != 1) {
			err = fmt.Errorf("first advance gave %v, want 2 and 1", last)
		}
		if err != nil {
			return err
		}
		return tx.AppendSyncEvents(ctx, []parley.SyncEvent{added, first, updated})
	})
	got := mustView(t, s, func(tx parley.Tx) ([]parley.SyncEvent, error) { return tx.SyncEventsAfter(ctx, roster, 0, 10) })
	diff(t, "roster events", got, []parley.SyncEvent{added, updated})
	got = mustView(t, s, func(tx parley.Tx) ([]parley.SyncEvent, error) { return tx.SyncEventsAfter(ctx, roster, 1, 10) })
	diff(t, "roster events after 1", got, []parley.SyncEvent{updated})
	got = mustView(t, s, func(tx parley.Tx) ([]parley.SyncEvent, error) { return tx.SyncEventsAfter(ctx, roster, 0, 1) })
	diff(t, "first roster event", got, []parley.SyncEvent{added})
	got = mustView(t, s, func(tx parley.Tx) ([]parley.SyncEvent, error) { return tx.SyncEventsAfter(ctx, messages, 0, 10) })
	diff(t, "message events", got, []parley.SyncEvent{first})
	if last := mustView(t, s, func(tx parley.Tx) (int64, error) { return tx.LastSyncEventID(ctx, roster) }); last != 2 {
		t.Fatalf("roster's last id = %d, want 2", last)
	}

	// A write that fails takes its ids with it.
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx parley.Tx) error {
		if _, err := tx.AdvanceSyncObjects(ctx, map[string]int{roster: 5}); err != nil {
			return err
		}
		if err := tx.AppendSyncEvents(ctx, []parley.SyncEvent{syncEvent(roster, 3, "map_item_removed", "MB1", "", at)}); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, err, boom)
	if last := mustView(t, s, func(tx parley.Tx) (int64, error) { return tx.LastSyncEventID(ctx, roster) }); last != 2 {
		t.Fatalf("roster's last id after a rolled-back write = %d, want 2", last)
	}

	// A removal without data; an id used twice is a conflict.
	removed := syncEvent(roster, 3, "map_item_removed", "MB1", "", at.Add(2*time.Hour))
	update(t, s, func(tx parley.Tx) error {
		if _, err := tx.AdvanceSyncObjects(ctx, map[string]int{roster: 1}); err != nil {
			return err
		}
		return tx.AppendSyncEvents(ctx, []parley.SyncEvent{removed})
	})
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.AppendSyncEvents(ctx, []parley.SyncEvent{removed}) })
	wantErr(t, err, parley.ErrConflict)

	// Trimming deletes old events and keeps the counters.
	var n int64
	update(t, s, func(tx parley.Tx) error {
		var err error
		n, err = tx.TrimSyncEvents(ctx, at.Add(time.Hour))
		return err
	})
	if n < 3 {
		t.Fatalf("trimmed %d events, want at least the 3 older than the cut", n)
	}
	got = mustView(t, s, func(tx parley.Tx) ([]parley.SyncEvent, error) { return tx.SyncEventsAfter(ctx, roster, 0, 10) })
	diff(t, "roster events after trimming", got, []parley.SyncEvent{removed})
	if last := mustView(t, s, func(tx parley.Tx) (int64, error) { return tx.LastSyncEventID(ctx, messages) }); last != 1 {
		t.Fatalf("messages' last id after trimming = %d, want 1", last)
	}

	// Many events in one write go in batches.
	big := sid(parley.PrefixConversation) + ".messages"
	var many []parley.SyncEvent
	for i := range 1234 {
		many = append(many, syncEvent(big, int64(i+1), "list_item_added", fmt.Sprint(i), `{}`, at))
	}
	update(t, s, func(tx parley.Tx) error {
		if _, err := tx.AdvanceSyncObjects(ctx, map[string]int{big: len(many)}); err != nil {
			return err
		}
		return tx.AppendSyncEvents(ctx, many)
	})
	got = mustView(t, s, func(tx parley.Tx) ([]parley.SyncEvent, error) { return tx.SyncEventsAfter(ctx, big, 1000, 2000) })
	diff(t, "the last events of a big write", got, many[1000:])
}

// testConcurrentSyncAppends appends events to one object from many writers
// at once: every id is given once, with no gap, and the log holds them all.
func testConcurrentSyncAppends(t *testing.T, s parley.Store) {
	ctx := context.Background()
	object := sid(parley.PrefixConversation) + ".roster"
	const writers, each = 8, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				err := s.Update(ctx, func(tx parley.Tx) error {
					last, err := tx.AdvanceSyncObjects(ctx, map[string]int{object: 1})
					if err != nil {
						return err
					}
					return tx.AppendSyncEvents(ctx, []parley.SyncEvent{syncEvent(object, last[object], "map_item_updated", fmt.Sprintf("MB%d-%d", w, i), `{}`, t0)})
				})
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	got := mustView(t, s, func(tx parley.Tx) ([]parley.SyncEvent, error) { return tx.SyncEventsAfter(ctx, object, 0, 1000) })
	if len(got) != writers*each {
		t.Fatalf("%d events logged, want %d", len(got), writers*each)
	}
	for i, e := range got {
		if e.ID != int64(i+1) {
			t.Fatalf("event %d has id %d, want %d", i, e.ID, i+1)
		}
	}
}

// testNotify: a notification reaches listeners when its transaction
// commits, never when it rolls back; a store without listeners takes it
// and does nothing.
func testNotify(t *testing.T, s parley.Store) {
	ctx := context.Background()
	channel := "parley_test_" + sid("ZZ")[2:12]
	l, ok := s.(parley.Listener)
	if !ok {
		update(t, s, func(tx parley.Tx) error { return tx.Notify(ctx, channel, "nobody hears") })
		return
	}
	lctx, cancel := context.WithCancel(ctx)
	heard, listening := make(chan string, 10), make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() {
		done <- l.Listen(lctx, channel, func(p string) { heard <- p }, func() { listening <- struct{}{} })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Listen: %v", err)
		}
	}()
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10 s")
	}
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx parley.Tx) error {
		if err := tx.Notify(ctx, channel, "rolled back"); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, err, boom)
	update(t, s, func(tx parley.Tx) error { return tx.Notify(ctx, channel, "committed") })
	select {
	case p := <-heard:
		if p != "committed" {
			t.Fatalf("heard %q, want only the committed one", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the committed notification never came")
	}
	select {
	case p := <-heard:
		t.Fatalf("heard %q too", p)
	case <-time.After(200 * time.Millisecond):
	}
}
