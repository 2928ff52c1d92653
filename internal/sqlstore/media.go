package sqlstore

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
)

// ---- Media

const mediaCols = `seq, sid, service_sid, content_type, filename, category, author, size, conversation_sid,
	message_sid, date_created, date_updated`

func scanMedia(s scanner) (parley.Media, error) {
	var m parley.Media
	err := s.Scan(&m.Seq, &m.Sid, &m.ServiceSid, &m.ContentType, nullString{&m.Filename}, &m.Category, &m.Author,
		&m.Size, nullString{&m.ConversationSid}, nullString{&m.MessageSid}, seconds{&m.DateCreated}, seconds{&m.DateUpdated})
	return m, err
}

func (t *Tx) MediaBySid(ctx context.Context, serviceSid, sid string) (parley.Media, error) {
	return get(t, ctx, scanMedia, "SELECT "+mediaCols+" FROM media WHERE sid = ? AND service_sid = "+serviceRef+
		" AND size IS NOT NULL", sid, serviceSid)
}

// CreateMedia starts an upload: size stays NULL (invisible) until
// CompleteMedia.
func (t *Tx) CreateMedia(ctx context.Context, m parley.Media) error {
	_, err := t.exec(ctx, false, `INSERT INTO media (sid, service_sid, content_type, filename, category, author,
		date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Sid, m.ServiceSid, m.ContentType, m.Filename, m.Category, m.Author,
		t.d.Seconds(m.DateCreated), t.d.Seconds(m.DateUpdated))
	return err
}

// AppendMediaChunk inserts the chunk only while its upload is under way,
// which it share-locks first, so that a delete of the upload either waits
// for the chunk or leaves nothing to append to (ErrNotFound).
func (t *Tx) AppendMediaChunk(ctx context.Context, mediaSid string, n int64, data []byte) error {
	if _, err := get(t.locking(t.d.LockForShare), ctx, scanOne[string],
		"SELECT sid FROM media WHERE sid = ? AND size IS NULL", mediaSid); err != nil {
		return err
	}
	_, err := t.exec(ctx, false, "INSERT INTO media_chunks (media_sid, n, data) VALUES (?, ?, ?)", mediaSid, n, data)
	return err
}

func (t *Tx) CompleteMedia(ctx context.Context, sid string, size int64) error {
	return t.execOne(ctx, false, "UPDATE media SET size = ? WHERE sid = ? AND size IS NULL", size, sid)
}

func (t *Tx) MediaChunk(ctx context.Context, mediaSid string, n int64) ([]byte, error) {
	return get(t, ctx, scanOne[[]byte], "SELECT data FROM media_chunks WHERE media_sid = ? AND n = ?", mediaSid, n)
}

func (t *Tx) AttachMedia(ctx context.Context, sid, conversationSid, messageSid string) error {
	return t.execOne(ctx, false, `UPDATE media SET conversation_sid = ?, message_sid = ?
		WHERE sid = ? AND size IS NOT NULL AND message_sid IS NULL`, conversationSid, messageSid, sid)
}

func (t *Tx) DeleteMedia(ctx context.Context, sid string) error {
	return t.execOne(ctx, true, "DELETE FROM media WHERE sid = ?", sid)
}

func (t *Tx) DeleteStaleUploads(ctx context.Context, before time.Time) (int64, error) {
	return t.exec(ctx, true, "DELETE FROM media WHERE size IS NULL AND date_created < ?", t.d.Seconds(before))
}

// scanOne reads a row of one column.
func scanOne[T any](s scanner) (T, error) {
	var v T
	err := s.Scan(&v)
	return v, err
}
