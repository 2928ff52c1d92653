package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/syncview"
)

// The Sync event log: every write appends, in its own transaction, the
// events its changes cause on the Sync objects client SDKs read
// (syncview), with per-object ids. Connections are fed from it after
// commit (SubscribeSync) and replay it from a client's last_event_id
// (SyncEventsAfter).
//
// The log keeps what happened (object, id, type, item), not the data:
// SQLite's one writer is parley's bottleneck, and marshalling and storing
// each event's item data there doubled the cost of a message create. The
// data is made after commit: for live delivery from the write's own rows
// (publish), for replay from the current rows (renderSync). An item's or
// a document's current data is always right to send: Sync items and
// documents are state, and a client applies events in id order. Only a
// removal keeps its data (the item is gone, and clients show what left).

// syncEvent is a Sync event with the data it is sent with, made after
// commit.
type syncEvent struct {
	parley.SyncEvent
	view any // the item or document data (syncview); nil for a document's removal
}

// itemEvents are the Sync events of the events that add, change or
// remove a message (list item) or a participant (map items).
var itemEvents = map[parley.EventType]string{
	parley.EventMessageAdded: syncview.ListItemAdded, parley.EventMessageUpdated: syncview.ListItemUpdated,
	parley.EventMessageRemoved: syncview.ListItemRemoved, parley.EventDeliveryUpdated: syncview.ListItemUpdated,
	parley.EventParticipantAdded: syncview.MapItemAdded, parley.EventParticipantUpdated: syncview.MapItemUpdated,
	parley.EventParticipantRemoved: syncview.MapItemRemoved,
}

// syncEvents translates a write's events into the Sync events they cause,
// in order, without ids.
func syncEvents(ev *events) ([]syncEvent, error) {
	var out []syncEvent
	var err error
	add := func(svc, object, typ, key string, view any, at time.Time) {
		if err != nil {
			return
		}
		e := syncEvent{SyncEvent: parley.SyncEvent{Object: object, ServiceSid: svc, Type: typ, Key: key, DateCreated: at}, view: view}
		if view != nil && (typ == syncview.MapItemRemoved || typ == syncview.ListItemRemoved) {
			e.Data, err = json.Marshal(view)
		}
		out = append(out, e)
	}
	// member adds the map item of a chat participant in its user's
	// conversations map.
	member := func(typ string, p parley.Participant, at time.Time) {
		if p.UserSid != nil {
			add(p.ServiceSid, syncview.ID(*p.UserSid, syncview.Conversations), typ, p.ConversationSid, syncview.Membership(p), at)
		}
	}
	for _, e := range ev.list {
		switch e.Type {
		case parley.EventConversationUpdated, parley.EventConversationStateUpdated:
			c := e.Conversation
			add(c.ServiceSid, syncview.ID(c.Sid, syncview.Channel), syncview.DocumentUpdated, "", syncview.Conversation(*c), e.At)
		case parley.EventConversationRemoved:
			c := e.Conversation
			for _, p := range ev.gone[c.Sid] {
				member(syncview.MapItemRemoved, p, e.At)
			}
			add(c.ServiceSid, syncview.ID(c.Sid, syncview.Channel), syncview.DocumentRemoved, "", nil, e.At)
		case parley.EventMessageAdded, parley.EventMessageUpdated, parley.EventMessageRemoved, parley.EventDeliveryUpdated:
			// A receipt changes its message's delivery summary.
			m, typ := e.Message, itemEvents[e.Type]
			if e.Type == parley.EventMessageAdded {
				// The document's lastMessage moves, told first so that an
				// app's messageAdded handler sees it moved.
				c := *e.Conversation
				c.LastMessageIndex = &m.Index
				add(c.ServiceSid, syncview.ID(c.Sid, syncview.Channel), syncview.DocumentUpdated, "", syncview.Conversation(c), e.At)
			}
			add(m.ServiceSid, syncview.ID(m.ConversationSid, syncview.Messages), typ, strconv.FormatInt(m.Index, 10), syncview.Message(*m), e.At)
		case parley.EventParticipantAdded, parley.EventParticipantUpdated, parley.EventParticipantRemoved:
			p, typ := e.Participant, itemEvents[e.Type]
			add(p.ServiceSid, syncview.ID(p.ConversationSid, syncview.Roster), typ, p.Sid, syncview.Participant(*p), e.At)
			member(typ, *p, e.At)
		case parley.EventUserUpdated:
			u := e.User
			for _, it := range syncview.UserInfo(*u) {
				add(u.ServiceSid, syncview.ID(u.Sid, syncview.Info), syncview.MapItemUpdated, it.Key, it.Data, e.At)
			}
		case parley.EventUserRemoved:
			// Its participants went with it.
			for _, p := range ev.gone[e.User.Sid] {
				add(p.ServiceSid, syncview.ID(p.ConversationSid, syncview.Roster), syncview.MapItemRemoved, p.Sid, syncview.Participant(p), e.At)
			}
		}
	}
	return out, err
}

// recordSync appends a write's Sync events to the log: two statements
// whatever the events (their ids, reserved in object order after
// everything else the write locks, so two writes touching the same
// objects queue on their counters in one order and never deadlock; then
// the events).
func (a *App) recordSync(ctx context.Context, tx parley.Tx, ev *events) error {
	list, err := syncEvents(ev)
	if err != nil || len(list) == 0 {
		return err
	}
	rows := make([]parley.SyncEvent, len(list))
	counts := map[string]int{}
	for _, e := range list {
		counts[e.Object]++
	}
	last, err := tx.AdvanceSyncObjects(ctx, counts)
	if err != nil {
		return err
	}
	next := make(map[string]int64, len(counts))
	for o, n := range counts {
		next[o] = last[o] - int64(n) + 1
	}
	for i := range list {
		list[i].ID = next[list[i].Object]
		next[list[i].Object]++
		rows[i] = list[i].SyncEvent
	}
	if err := tx.AppendSyncEvents(ctx, rows); err != nil {
		return err
	}
	ev.sync = list
	// The other nodes hear of it when (and if) the write commits.
	for _, payload := range touchPayloads(a.node, counts, last) {
		if err := tx.Notify(ctx, syncChannel, payload); err != nil {
			return err
		}
	}
	return nil
}

// keepGone remembers, before a delete cascades, the participants that go
// with what is deleted (key: the conversation or user SID), whose Sync
// items then go too.
func (ev *events) keepGone(key string, ps []parley.Participant) {
	if ev.gone == nil {
		ev.gone = map[string][]parley.Participant{}
	}
	ev.gone[key] = append(ev.gone[key], ps...)
}

// allParticipants reads every participant of a conversation, page by
// page.
func allParticipants(ctx context.Context, tx parley.Tx, conv string) ([]parley.Participant, error) {
	var out []parley.Participant
	q := parley.PageQuery{Size: 1000}
	for {
		p, err := tx.ListParticipants(ctx, conv, q)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if !p.HasNext {
			return out, nil
		}
		q.After = p.LastSeq
	}
}

// allMemberships reads every participant of a user, page by page.
func allMemberships(ctx context.Context, tx parley.Tx, user string) ([]parley.Participant, error) {
	var out []parley.Participant
	q := parley.PageQuery{Size: 1000}
	for {
		p, err := tx.ListUserConversations(ctx, user, q)
		if err != nil {
			return nil, err
		}
		for _, m := range p.Items {
			out = append(out, m.Participant)
		}
		if !p.HasNext {
			return out, nil
		}
		q.After = p.LastSeq
	}
}

// SubscribeSync registers fn to be told, after each write commits, the
// Sync events it appended, in log order. fn runs on the writing
// request's goroutine, so it must hand work off rather than block.
func (a *App) SubscribeSync(fn func([]parley.SyncEvent)) (unsubscribe func()) {
	return a.syncSubs.add(fn)
}

// SyncReplay is what a client that last saw an object's event After is
// to be sent.
type SyncReplay struct {
	// Events are those after After, with their data (renderSync); an
	// event of something since deleted is left out.
	Events []parley.SyncEvent
	// Last is the object's last event id.
	Last int64
	// Complete is false when the log no longer holds every event after
	// After (trimmed), or holds more than the limit: the client is then
	// to go on from Last without a replay.
	Complete bool
}

// ReplaySync reads what a client that last saw event after of object has
// missed, up to limit events.
func (a *App) ReplaySync(ctx context.Context, object string, after int64, limit int) (SyncReplay, error) {
	return read(ctx, a, func(tx parley.Tx) (SyncReplay, error) {
		var r SyncReplay
		var err error
		if r.Last, err = tx.LastSyncEventID(ctx, object); err != nil || r.Last <= after {
			return r, err
		}
		evs, err := tx.SyncEventsAfter(ctx, object, after, limit+1)
		if err != nil {
			return r, err
		}
		// Ids of one object are contiguous: a gap after After was trimmed.
		if len(evs) == 0 || evs[0].ID != after+1 || len(evs) > limit {
			return r, nil
		}
		r.Complete = true
		r.Events, err = renderSync(ctx, tx, evs)
		return r, err
	})
}

// SyncEventsAfter reads up to limit of object's logged events with ids
// above after, with their data (renderSync).
func (a *App) SyncEventsAfter(ctx context.Context, object string, after int64, limit int) ([]parley.SyncEvent, error) {
	return read(ctx, a, func(tx parley.Tx) ([]parley.SyncEvent, error) {
		evs, err := tx.SyncEventsAfter(ctx, object, after, limit)
		if err != nil {
			return nil, err
		}
		return renderSync(ctx, tx, evs)
	})
}

// renderSync gives logged events their data from the current rows: each
// item or document once, however many of its events there are. An event
// of an item or document that is gone since is dropped (its removal
// follows in the log, with its data).
func renderSync(ctx context.Context, tx parley.Tx, evs []parley.SyncEvent) ([]parley.SyncEvent, error) {
	current := map[string]json.RawMessage{} // by object and key; nil: gone
	out := evs[:0]
	for _, e := range evs {
		if e.Data != nil || e.Type == syncview.DocumentRemoved {
			out = append(out, e)
			continue
		}
		k := e.Object + "\x00" + e.Key
		data, ok := current[k]
		if !ok {
			view, err := currentView(ctx, tx, e)
			if err != nil {
				return nil, err
			}
			if view != nil {
				if data, err = json.Marshal(view); err != nil {
					return nil, err
				}
			}
			current[k] = data
		}
		if data != nil {
			e.Data = data
			out = append(out, e)
		}
	}
	return out, nil
}

// currentView is the current data of an event's item or document; nil
// when it is gone.
func currentView(ctx context.Context, tx parley.Tx, e parley.SyncEvent) (any, error) {
	owner, view := syncview.Parse(e.Object)
	gone := func(err error) (any, error) {
		if errors.Is(err, parley.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	switch view {
	case syncview.Channel:
		c, err := tx.ConversationBySid(ctx, e.ServiceSid, owner)
		if err != nil {
			return gone(err)
		}
		return syncview.Conversation(c), nil
	case syncview.Messages:
		idx, err := strconv.ParseInt(e.Key, 10, 64)
		if err != nil {
			return nil, nil
		}
		p, err := tx.ListMessages(ctx, owner, parley.PageQuery{Size: 1, After: idx})
		if err != nil || len(p.Items) == 0 || p.Items[0].Index != idx {
			return gone(err)
		}
		return syncview.Message(p.Items[0]), nil
	case syncview.Roster:
		p, err := tx.ParticipantBySid(ctx, owner, e.Key)
		if err != nil {
			return gone(err)
		}
		return syncview.Participant(p), nil
	case syncview.Conversations:
		u, err := tx.UserBySid(ctx, e.ServiceSid, owner)
		if err != nil {
			return gone(err)
		}
		p, err := tx.ParticipantByIdentity(ctx, e.Key, u.Identity)
		if err != nil || p.UserSid == nil || *p.UserSid != u.Sid {
			return gone(err)
		}
		return syncview.Membership(p), nil
	case syncview.Info:
		u, err := tx.UserBySid(ctx, e.ServiceSid, owner)
		if err != nil {
			return gone(err)
		}
		for _, it := range syncview.UserInfo(u) {
			if it.Key == e.Key {
				return it.Data, nil
			}
		}
	}
	return nil, nil
}

// LastSyncEventID is object's last event id (0 before its first).
func (a *App) LastSyncEventID(ctx context.Context, object string) (int64, error) {
	return read(ctx, a, func(tx parley.Tx) (int64, error) { return tx.LastSyncEventID(ctx, object) })
}

// TrimSyncEvents deletes logged Sync events older than age: a client
// that was away longer reads current state instead of a replay.
func (a *App) TrimSyncEvents(ctx context.Context, age time.Duration) (int64, error) {
	var n int64
	err := a.store.Update(ctx, func(tx parley.Tx) error {
		var err error
		n, err = tx.TrimSyncEvents(ctx, a.clock().Add(-age))
		return err
	})
	return n, err
}

// SyncRetention is how long the Sync log keeps events by default: a
// client away longer is told the current state instead of a replay.
const SyncRetention = 24 * time.Hour

// syncTrimEvery is how often RunSyncTrimmer trims.
const syncTrimEvery = time.Minute

// RunSyncTrimmer deletes Sync events older than retention every minute
// until ctx ends (on every node: a trim is one idempotent statement).
func (a *App) RunSyncTrimmer(ctx context.Context, retention time.Duration) {
	every(ctx, syncTrimEvery, func() {
		if n, err := a.TrimSyncEvents(ctx, retention); err != nil && ctx.Err() == nil {
			a.log.Error("sync log: trim", "err", err)
		} else if n > 0 {
			a.log.Debug("sync log: trimmed", "events", n)
		}
	})
}

// Across nodes (PostgreSQL): a write notifies, on syncChannel and with the
// commit, which objects it gave which ids; each node's listener
// (RunSyncListener) tells its subscribers (SubscribeSyncTouched), which
// read those events from the log. A notification missed is caught up
// from the log too (missed).

// syncChannel is the notification channel of the Sync log.
const syncChannel = "parley_sync"

// maxTouchPayload keeps a notification under PostgreSQL's 8,000 bytes.
const maxTouchPayload = 7000

// SyncTouch is what another node's write did to one object: its events
// with ids From to To.
type SyncTouch struct {
	Object   string
	From, To int64
}

// touchPayloads are the notifications of a write: the node's name, then
// a line "object from to" per object, split to fit.
func touchPayloads(node string, counts map[string]int, last map[string]int64) []string {
	objects := make([]string, 0, len(counts))
	for o := range counts {
		objects = append(objects, o)
	}
	slices.Sort(objects)
	var out []string
	var b strings.Builder
	for _, o := range objects {
		line := fmt.Sprintf("%s %d %d\n", o, last[o]-int64(counts[o])+1, last[o])
		if b.Len() > 0 && b.Len()+len(line) > maxTouchPayload {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() == 0 {
			b.WriteString(node + "\n")
		}
		b.WriteString(line)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// parseTouches reads a notification; ok is false for the node's own and
// for notices.
func parseTouches(node, payload string) (touches []SyncTouch, ok bool) {
	lines := strings.Split(strings.TrimSuffix(payload, "\n"), "\n")
	if len(lines) < 2 || lines[0] == node || strings.HasPrefix(lines[1], noticeMark) {
		return nil, false
	}
	for _, l := range lines[1:] {
		var t SyncTouch
		if _, err := fmt.Sscanf(l, "%s %d %d", &t.Object, &t.From, &t.To); err == nil && t.From <= t.To {
			touches = append(touches, t)
		}
	}
	return touches, len(touches) > 0
}

// SubscribeSyncTouched registers fn to hear, in order, what other nodes'
// writes did to Sync objects; nil touches mean notifications may have
// been missed (anything may have changed). fn runs on the listener's
// goroutine: while it runs, later notifications wait.
func (a *App) SubscribeSyncTouched(fn func(touches []SyncTouch)) (unsubscribe func()) {
	return a.touchedSubs.add(fn)
}

// RunSyncListener listens for other nodes' Sync events until ctx ends,
// where the store is shared (parley.Listener); on a store one node has
// alone it returns at once.
func (a *App) RunSyncListener(ctx context.Context) {
	l, ok := a.backend().(parley.Listener)
	if !ok {
		return
	}
	tell := func(touches []SyncTouch) {
		for _, fn := range a.touchedSubs.all() {
			fn(touches)
		}
	}
	err := l.Listen(ctx, syncChannel, func(payload string) {
		if touches, ok := parseTouches(a.node, payload); ok {
			tell(touches)
		} else if n, ok := parseNotice(a.node, payload); ok {
			for _, fn := range a.noticeSubs.all() {
				fn(n)
			}
		}
	}, func() {
		a.log.Debug("sync: listening; catching up from the log")
		tell(nil)
	})
	if err != nil && ctx.Err() == nil {
		a.log.Error("sync: listen", "err", err)
	}
}

// Notices are what clients are told and nothing stores (typing): a node
// passes them to the others on syncChannel, as "node", "!notice TYPE",
// the user SIDs (comma-separated) and the payload, a line each.

// noticeMark starts a notice's second line.
const noticeMark = "!notice "

// Notice is a notification of MessageType for the connections of Users.
type Notice struct {
	MessageType string
	Users       []string
	Payload     []byte
}

// SendNotice passes a notice to the other nodes, where the store is
// shared (on a store one node has alone, there are none).
func (a *App) SendNotice(ctx context.Context, n Notice) error {
	if !a.shared() || len(n.Users) == 0 {
		return nil
	}
	payload := a.node + "\n" + noticeMark + n.MessageType + "\n" + strings.Join(n.Users, ",") + "\n" + string(n.Payload)
	if len(payload) > maxTouchPayload {
		return fmt.Errorf("sync: a notice of %d bytes", len(payload))
	}
	return a.store.Update(ctx, func(tx parley.Tx) error { return tx.Notify(ctx, syncChannel, payload) })
}

// SubscribeNotices registers fn to hear other nodes' notices.
func (a *App) SubscribeNotices(fn func(Notice)) (unsubscribe func()) { return a.noticeSubs.add(fn) }

// parseNotice reads a notice; ok is false for the node's own and for
// anything else.
func parseNotice(node, payload string) (Notice, bool) {
	parts := strings.SplitN(payload, "\n", 4)
	if len(parts) != 4 || parts[0] == node || !strings.HasPrefix(parts[1], noticeMark) || parts[2] == "" {
		return Notice{}, false
	}
	return Notice{MessageType: strings.TrimPrefix(parts[1], noticeMark), Users: strings.Split(parts[2], ","),
		Payload: []byte(parts[3])}, true
}
