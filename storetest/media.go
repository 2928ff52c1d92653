package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// newMedia is an upload to f's service with every field set.
func newMedia(f fixture) parley.Media {
	return parley.Media{Sid: sid(parley.PrefixMedia), ServiceSid: f.svc.Sid, ContentType: "image/png",
		Filename: ptr("cat.png"), Category: "media", Author: "system", DateCreated: t0, DateUpdated: t0}
}

// chunkOf is n bytes of every value, starting at first.
func chunkOf(n int, first byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = first + byte(i)
	}
	return b
}

// uploadMedia stores m with chunks as core does (create, one transaction
// per chunk, complete) and returns it as stored.
func uploadMedia(t testing.TB, s parley.Store, m parley.Media, chunks ...[]byte) parley.Media {
	t.Helper()
	ctx := context.Background()
	update(t, s, func(tx parley.Tx) error { return tx.CreateMedia(ctx, m) })
	var size int64
	for n, c := range chunks {
		update(t, s, func(tx parley.Tx) error { return tx.AppendMediaChunk(ctx, m.Sid, int64(n), c) })
		size += int64(len(c))
	}
	update(t, s, func(tx parley.Tx) error { return tx.CompleteMedia(ctx, m.Sid, size) })
	return mustView(t, s, func(tx parley.Tx) (parley.Media, error) { return tx.MediaBySid(ctx, m.ServiceSid, m.Sid) })
}

func testMedia(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "media")
	other := newService(t, s, "other media")
	get := func(svc, sid string) (parley.Media, error) {
		return view(t, s, func(tx parley.Tx) (parley.Media, error) { return tx.MediaBySid(ctx, svc, sid) })
	}
	chunk := func(sid string, n int64) ([]byte, error) {
		return view(t, s, func(tx parley.Tx) ([]byte, error) { return tx.MediaChunk(ctx, sid, n) })
	}

	// An upload is invisible until complete; its chunks keep every byte.
	m := newMedia(f)
	update(t, s, func(tx parley.Tx) error { return tx.CreateMedia(ctx, m) })
	_, err := get(f.svc.Sid, m.Sid)
	wantErr(t, err, parley.ErrNotFound)
	first, second := chunkOf(256<<10, 0), chunkOf(7, 200)
	update(t, s, func(tx parley.Tx) error { return tx.AppendMediaChunk(ctx, m.Sid, 0, first) })
	update(t, s, func(tx parley.Tx) error { return tx.AppendMediaChunk(ctx, m.Sid, 1, second) })
	update(t, s, func(tx parley.Tx) error { return tx.CompleteMedia(ctx, m.Sid, int64(len(first)+len(second))) })
	got, err := get(f.svc.Sid, m.Sid)
	if err != nil {
		t.Fatal(err)
	}
	want := m
	want.Seq, want.Size = got.Seq, int64(len(first)+len(second))
	diff(t, "stored media", got, want)
	for n, c := range [][]byte{first, second} {
		if b, err := chunk(m.Sid, int64(n)); err != nil || !bytes.Equal(b, c) {
			t.Fatalf("chunk %d: %d bytes (%v), want the %d stored", n, len(b), err, len(c))
		}
	}
	_, err = chunk(m.Sid, 2)
	wantErr(t, err, parley.ErrNotFound)
	// Media of one service is not another's.
	_, err = get(other.svc.Sid, m.Sid)
	wantErr(t, err, parley.ErrNotFound)
	// A complete upload takes no more chunks and completes once.
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.AppendMediaChunk(ctx, m.Sid, 2, second) })
	wantErr(t, err, parley.ErrNotFound)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.CompleteMedia(ctx, m.Sid, 1) })
	wantErr(t, err, parley.ErrNotFound)
	// Nor does an upload that never began.
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.AppendMediaChunk(ctx, sid(parley.PrefixMedia), 0, second) })
	wantErr(t, err, parley.ErrNotFound)

	// A message carries media once; its media go with it.
	c := newConversation(f)
	createConversations(t, s, &c)
	msg := newMessage(c, 0)
	msg.Media = []parley.MediaRef{{Sid: m.Sid, Size: want.Size, ContentType: m.ContentType, Filename: m.Filename}}
	update(t, s, func(tx parley.Tx) error {
		i, err := tx.NextMessageIndex(ctx, c.Sid)
		if err != nil {
			return err
		}
		msg.Index = i
		return errors.Join(tx.CreateMessage(ctx, msg), tx.AttachMedia(ctx, m.Sid, c.Sid, msg.Sid))
	})
	stored := mustView(t, s, func(tx parley.Tx) (parley.Message, error) { return tx.MessageBySid(ctx, c.Sid, msg.Sid) })
	diff(t, "media of the message", stored.Media, msg.Media)
	got, _ = get(f.svc.Sid, m.Sid)
	want.ConversationSid, want.MessageSid = &c.Sid, &msg.Sid
	diff(t, "attached media", got, want)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.AttachMedia(ctx, m.Sid, c.Sid, msg.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	// A message without media has none (nil, not empty).
	plain := createMessages(t, s, c, 1)[0]
	if plain.Media != nil {
		t.Fatalf("a message without media has %#v", plain.Media)
	}
	update(t, s, func(tx parley.Tx) error { return tx.DeleteMessage(ctx, c.Sid, msg.Sid) })
	_, err = get(f.svc.Sid, m.Sid)
	wantErr(t, err, parley.ErrNotFound)
	_, err = chunk(m.Sid, 0)
	wantErr(t, err, parley.ErrNotFound)

	// An unfinished upload can't be attached; DeleteMedia takes it and its
	// chunks.
	pending := newMedia(f)
	update(t, s, func(tx parley.Tx) error { return tx.CreateMedia(ctx, pending) })
	update(t, s, func(tx parley.Tx) error { return tx.AppendMediaChunk(ctx, pending.Sid, 0, second) })
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.AttachMedia(ctx, pending.Sid, c.Sid, plain.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	update(t, s, func(tx parley.Tx) error { return tx.DeleteMedia(ctx, pending.Sid) })
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteMedia(ctx, pending.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	_, err = chunk(pending.Sid, 0)
	wantErr(t, err, parley.ErrNotFound)

	// Stale uploads go; newer ones and complete ones stay.
	old, fresh := newMedia(f), newMedia(f)
	fresh.DateCreated = t0.Add(2 * time.Hour)
	done := uploadMedia(t, s, newMedia(f), second)
	update(t, s, func(tx parley.Tx) error { return errors.Join(tx.CreateMedia(ctx, old), tx.CreateMedia(ctx, fresh)) })
	var n int64
	update(t, s, func(tx parley.Tx) error {
		var err error
		n, err = tx.DeleteStaleUploads(ctx, t0.Add(time.Hour))
		return err
	})
	if n != 1 {
		t.Fatalf("DeleteStaleUploads deleted %d, want 1", n)
	}
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.AppendMediaChunk(ctx, old.Sid, 0, second) })
	wantErr(t, err, parley.ErrNotFound)
	update(t, s, func(tx parley.Tx) error { return tx.AppendMediaChunk(ctx, fresh.Sid, 0, second) })
	if _, err := get(f.svc.Sid, done.Sid); err != nil {
		t.Fatalf("complete media after the sweep: %v", err)
	}

	// Deleting the service deletes its media and their bytes.
	update(t, s, func(tx parley.Tx) error { return tx.DeleteService(ctx, f.svc.Sid) })
	_, err = chunk(done.Sid, 0)
	wantErr(t, err, parley.ErrNotFound)
	_, err = chunk(fresh.Sid, 0)
	wantErr(t, err, parley.ErrNotFound)
}
