package core_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/parleytest"
)

// TestAbandonedUploadsAreSwept: the timer loop deletes an upload left
// unfinished for longer than core.StaleUpload (its server died), and
// leaves complete media and recent uploads alone.
func TestAbandonedUploadsAreSwept(t *testing.T) {
	ctx := context.Background()
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0).UTC() }
	srv := parleytest.NewWith(t, parleytest.Options{Core: core.Options{Now: clock}, TimerPoll: 10 * time.Millisecond})
	svc := srv.DefaultServiceSid
	started := func(sid string) parley.Media {
		m := parley.Media{Sid: sid, ServiceSid: svc, ContentType: "image/png", Category: "media", Author: "system",
			DateCreated: clock(), DateUpdated: clock()}
		if err := srv.Store.Update(ctx, func(tx parley.Tx) error { return tx.CreateMedia(ctx, m) }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	// pending reports whether an upload is still there to append to (each
	// look appends a chunk of its own).
	var looks int64
	pending := func(sid string) bool {
		looks++
		err := srv.Store.Update(ctx, func(tx parley.Tx) error { return tx.AppendMediaChunk(ctx, sid, looks, []byte("x")) })
		if err != nil && !errors.Is(err, parley.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	abandoned := started(parley.NewSID(parley.PrefixMedia))
	done, err := srv.App.UploadMedia(ctx, svc, core.MediaUpload{ContentType: "text/plain", Content: strings.NewReader("kept")})
	if err != nil {
		t.Fatal(err)
	}

	now.Add(int64((core.StaleUpload + time.Minute) / time.Second))
	recent := started(parley.NewSID(parley.PrefixMedia))
	// The loop notices the clock within a poll (10 ms).
	for deadline := time.Now().Add(5 * time.Second); pending(abandoned.Sid); {
		if time.Now().After(deadline) {
			t.Fatalf("the upload abandoned %v ago was not swept", core.StaleUpload+time.Minute)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !pending(recent.Sid) {
		t.Fatal("a recent upload was swept")
	}
	if _, err := srv.App.FetchMedia(ctx, svc, done.Sid); err != nil {
		t.Fatalf("complete media after the sweep: %v", err)
	}
}
