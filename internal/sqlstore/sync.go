package sqlstore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// ---- The Sync event log

func (t *Tx) AdvanceSyncObjects(ctx context.Context, counts map[string]int) (map[string]int64, error) {
	objects := make([]string, 0, len(counts))
	for o := range counts {
		objects = append(objects, o)
	}
	slices.Sort(objects)
	last := make(map[string]int64, len(objects))
	for len(objects) > 0 {
		batch := objects[:min(len(objects), syncEventsPerInsert)]
		objects = objects[len(batch):]
		var q strings.Builder
		q.WriteString(`INSERT INTO sync_objects (object_id, last_event_id) VALUES `)
		args := make([]any, 0, 2*len(batch))
		for i, o := range batch {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?)")
			args = append(args, o, counts[o])
		}
		q.WriteString(` ON CONFLICT (object_id) DO UPDATE SET last_event_id = sync_objects.last_event_id + excluded.last_event_id
			RETURNING object_id, last_event_id`)
		rows, err := list(t, ctx, func(s scanner) (struct {
			o string
			n int64
		}, error) {
			var r struct {
				o string
				n int64
			}
			err := s.Scan(&r.o, &r.n)
			return r, err
		}, q.String(), args...)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			last[r.o] = r.n
		}
	}
	return last, nil
}

// syncEventsPerInsert bounds one INSERT's rows (SQLite allows 32,766
// parameters in a statement; 7 per row).
const syncEventsPerInsert = 500

func (t *Tx) AppendSyncEvents(ctx context.Context, events []parley.SyncEvent) error {
	for len(events) > 0 {
		batch := events[:min(len(events), syncEventsPerInsert)]
		events = events[len(batch):]
		var q strings.Builder
		q.WriteString(`INSERT INTO sync_events (object_id, event_id, service_sid, event_type, item_key, data, date_created) VALUES `)
		args := make([]any, 0, 7*len(batch))
		for i, e := range batch {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			var data *string
			if e.Data != nil {
				s := string(e.Data)
				data = &s
			}
			args = append(args, e.Object, e.ID, e.ServiceSid, e.Type, e.Key, data, t.d.Millis(e.DateCreated))
		}
		if _, err := t.exec(ctx, false, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) SyncEventsAfter(ctx context.Context, object string, after int64, limit int) ([]parley.SyncEvent, error) {
	return list(t, ctx, func(s scanner) (parley.SyncEvent, error) {
		var e parley.SyncEvent
		var data *string
		err := s.Scan(&e.Object, &e.ID, &e.ServiceSid, &e.Type, &e.Key, &data, millis{&e.DateCreated})
		if data != nil {
			e.Data = []byte(*data)
		}
		return e, err
	}, `SELECT object_id, event_id, service_sid, event_type, item_key, data, date_created FROM sync_events
		WHERE object_id = ? AND event_id > ? ORDER BY event_id LIMIT ?`, object, after, limit)
}

func (t *Tx) LastSyncEventID(ctx context.Context, object string) (int64, error) {
	var last int64
	err := t.c.QueryRow(ctx, t.d.rebind(`SELECT COALESCE(MAX(last_event_id), 0) FROM sync_objects WHERE object_id = ?`),
		object).Scan(&last)
	if err != nil {
		return 0, t.d.mapError(err, false)
	}
	return last, nil
}

// TrimSyncEvents deletes the log's head: the events in seq order before
// the first one created at or after before (dates follow seq, give or take
// the order in which concurrent writes commit, so an event a little older
// than the cut may stay until the next trim).
func (t *Tx) TrimSyncEvents(ctx context.Context, before time.Time) (int64, error) {
	return t.exec(ctx, true, `DELETE FROM sync_events WHERE seq < COALESCE(
		(SELECT seq FROM sync_events WHERE date_created >= ? ORDER BY seq LIMIT 1),
		(SELECT MAX(seq) + 1 FROM sync_events))`, t.d.Millis(before))
}

func (t *Tx) Notify(ctx context.Context, channel, payload string) error {
	if t.d.Notify == "" {
		return nil
	}
	_, err := t.exec(ctx, false, t.d.Notify, channel, payload)
	return err
}
