package core

import (
	"context"
	"errors"
	"io"
	"mime"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Media limits and timings.
const (
	// MaxMediaSize is the default cap on an upload: Twilio's limit for
	// chat media, 150 MB (semantics-conversations.md, limits).
	MaxMediaSize = 150 << 20
	// MediaChunkSize is how much of a file one stored chunk (and the one
	// buffer an upload or a download holds) takes.
	MediaChunkSize = 256 << 10
	// MaxMediaFilename bounds the filename an upload gives (parley's
	// limit; Twilio documents none).
	MaxMediaFilename = 255
	// StaleUpload is how old an unfinished upload must be before the
	// timer loop deletes it as abandoned (its server died mid-upload).
	// Uploads get far less time than this to finish (api's upload
	// deadline).
	StaleUpload = 2 * time.Hour
)

// MediaCategories are the categories of Twilio's Media Content Service:
// a message's files, a long message body, email history.
var mediaCategories = []string{"media", "body", "history"}

// MediaUpload is a file as an upload brings it.
type MediaUpload struct {
	ContentType string
	Filename    *string
	Category    *string
	Content     io.Reader
	// Author is the identity of the client SDK user uploading (signed in
	// with an access token); "" for the account itself ("system").
	Author string
}

func (in MediaUpload) check() (parley.Media, error) {
	mt, _, err := mime.ParseMediaType(in.ContentType)
	if err != nil || in.ContentType == "" {
		return parley.Media{}, parley.InvalidParam("Invalid Content-Type %q: send the file's MIME type", in.ContentType)
	}
	m := parley.Media{ContentType: mt, Category: "media", Author: "system", Filename: emptyIsNil(in.Filename)}
	if in.Author != "" {
		m.Author = in.Author
	}
	if in.Filename != nil && (utf8.RuneCountInString(*in.Filename) > MaxMediaFilename || !utf8.ValidString(*in.Filename)) {
		return m, parley.InvalidParam("Invalid Filename: at most %d characters", MaxMediaFilename)
	}
	if in.Category != nil && *in.Category != "" {
		if !slices.Contains(mediaCategories, *in.Category) {
			return m, parley.InvalidParam("Invalid Category %q: media, body or history", *in.Category)
		}
		m.Category = *in.Category
	}
	return m, nil
}

// UploadMedia stores a file in the service: its bytes read from
// in.Content one chunk at a time, each chunk written in a transaction of
// its own (so that a slow upload holds no write lock), and the media made
// visible only once all of it is stored. An upload that fails leaves
// nothing behind; one whose server dies is swept by RunTimers.
func (a *App) UploadMedia(ctx context.Context, svc string, in MediaUpload) (parley.Media, error) {
	if !parley.IsSID(parley.PrefixService, svc) {
		return parley.Media{}, parley.NotFound()
	}
	m, err := in.check()
	if err != nil {
		return m, err
	}
	m.Sid, m.ServiceSid = a.sids.New(parley.PrefixMedia), svc
	m.DateCreated = a.clock()
	m.DateUpdated = m.DateCreated
	err = a.store.Update(ctx, func(tx parley.Tx) error {
		if _, err := tx.ForShare().Service(ctx, svc); err != nil {
			return notFound(err)
		}
		return tx.CreateMedia(ctx, m)
	})
	if err != nil {
		return parley.Media{}, err
	}
	if m.Size, err = a.storeChunks(ctx, m.Sid, in.Content); err == nil {
		err = a.store.Update(ctx, func(tx parley.Tx) error { return notFound(tx.CompleteMedia(ctx, m.Sid, m.Size)) })
	}
	if err != nil {
		// Whatever went wrong, the partial upload goes, even when the
		// client is gone (ctx cancelled).
		bg := context.WithoutCancel(ctx)
		del := a.store.Update(bg, func(tx parley.Tx) error { return tx.DeleteMedia(bg, m.Sid) })
		if del != nil && !errors.Is(del, parley.ErrNotFound) {
			a.log.Error("media: deleting a failed upload", "sid", m.Sid, "err", del)
		}
		return parley.Media{}, err
	}
	return m, nil
}

// storeChunks copies r into the upload's chunks through one buffer and
// returns the size; more than the cap is KindTooLarge (50512).
func (a *App) storeChunks(ctx context.Context, sid string, r io.Reader) (int64, error) {
	buf := make([]byte, MediaChunkSize)
	var size int64
	for n := int64(0); ; n++ {
		got, err := fill(r, buf)
		if got > 0 {
			size += int64(got)
			if size > a.limits.MediaSize {
				return size, parley.Errorf(parley.KindTooLarge, 50512, "Media is too large: at most %d bytes", a.limits.MediaSize)
			}
			chunk := buf[:got]
			if err := a.store.Update(ctx, func(tx parley.Tx) error { return tx.AppendMediaChunk(ctx, sid, n, chunk) }); err != nil {
				return size, notFound(err)
			}
		}
		switch {
		case err == io.EOF:
			if size == 0 {
				return 0, parley.InvalidParam("The media content is empty")
			}
			return size, nil
		case err != nil:
			var perr *parley.Error
			if errors.As(err, &perr) {
				return size, err // the reader's own verdict (a body over the HTTP cap, say)
			}
			return size, parley.InvalidParam("Could not read the media content")
		}
	}
}

// MaxMediaSize is the cap on an upload's bytes.
func (a *App) MaxMediaSize() int64 { return a.limits.MediaSize }

// fill reads r into buf until buf is full or r fails; unlike io.ReadFull
// it passes r's own io.ErrUnexpectedEOF on (a body cut short is not the
// end of the file) and returns io.EOF for the end.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// FetchMedia returns uploaded media of the service.
func (a *App) FetchMedia(ctx context.Context, svc, sid string) (parley.Media, error) {
	if !parley.IsSID(parley.PrefixService, svc) || !parley.IsSID(parley.PrefixMedia, sid) {
		return parley.Media{}, parley.NotFound()
	}
	return read(ctx, a, func(tx parley.Tx) (parley.Media, error) { return found(tx.MediaBySid(ctx, svc, sid)) })
}

// MediaContent is the bytes of media, read from the store a chunk at a
// time as they are written out.
type MediaContent struct {
	a    *App
	ctx  context.Context
	sid  string
	size int64
}

// OpenMedia returns media of the service and its content.
func (a *App) OpenMedia(ctx context.Context, svc, sid string) (parley.Media, *MediaContent, error) {
	m, err := a.FetchMedia(ctx, svc, sid)
	if err != nil {
		return m, nil, err
	}
	return m, &MediaContent{a: a, ctx: ctx, sid: m.Sid, size: m.Size}, nil
}

// WriteTo writes the content to w, holding one chunk at a time. Media
// deleted meanwhile ends it early with an error.
func (c *MediaContent) WriteTo(w io.Writer) (int64, error) {
	var written int64
	for n := int64(0); written < c.size; n++ {
		chunk, err := read(c.ctx, c.a, func(tx parley.Tx) ([]byte, error) { return tx.MediaChunk(c.ctx, c.sid, n) })
		if err != nil {
			return written, err
		}
		k, err := w.Write(chunk)
		written += int64(k)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// sweepUploads deletes uploads abandoned by a server that died.
func (a *App) sweepUploads(ctx context.Context) {
	var n int64
	err := a.store.Update(ctx, func(tx parley.Tx) error {
		var err error
		n, err = tx.DeleteStaleUploads(ctx, a.now().Add(-StaleUpload))
		return err
	})
	switch {
	case err != nil && ctx.Err() == nil:
		a.log.Error("media: deleting abandoned uploads", "err", err)
	case n > 0:
		a.log.Info("media: deleted abandoned uploads", "count", n)
	}
}
