package clientapi

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/syncview"
	"github.com/parleyhq/parley/twilsock"
)

// Live Sync events: a connection subscribes to objects (POST
// /v4/Subscriptions); from then on it is sent, in id order, every event
// the log gets for them. The log is the truth: a subscription first
// replays what the client missed (ids above the last_event_id it gives),
// and events committed meanwhile are sent once, whichever way they come.

// maxReplay is the most events one subscription replays. A client further
// behind is told the object's current id and reads current state instead
// (docs/compatibility.md).
const maxReplay = 1000

// gapGrace is how long a feed holds events that arrived ahead of one it
// has not had (an object's ids have no holes) for the missing one to come
// by itself, from this node's write a moment later or from another
// node's notification, before it reads the log for it. Reading at once
// cost every subscriber of the object a query whenever two nodes' writes
// crossed: on two nodes under 100 messages a second that saturated
// PostgreSQL (p99 delivery 0.8 s, parley-bench --clients).
const gapGrace = 200 * time.Millisecond

// maxHeld bounds the events a feed holds ahead of a gap, per object;
// beyond it the feed reads the log at once.
const maxHeld = 1000

// maxQueued is how many events may wait for a connection that does not
// read them; past that it is offloaded (close 308) and catches up by
// replay when it reconnects.
const maxQueued = 10000

// Hub feeds connections the Sync events of the objects they subscribed to.
type Hub struct {
	app *core.App
	log *slog.Logger
	// sent is HubOptions.Sent; nil when nobody asked.
	sent func(time.Duration)

	mu       sync.Mutex
	byObject map[string]map[*feed]struct{}
	byUser   map[string]map[*feed]struct{}
	feeds    map[*twilsock.Conn]*feed
	stop     func()
}

// HubOptions configure a Hub.
type HubOptions struct {
	App *core.App
	Log *slog.Logger
	// Sent, when set, is told for each live event written onto a
	// connection how long after its commit that was: from the moment
	// this node heard of the commit (its own write's after-commit
	// publish, or another node's notification) to the end of the socket
	// write, once per connection sent to. Events read back from the log
	// (a subscription's replay, a gap's repair, a catch-up) are not
	// measured: their wait is the client's absence, not the fan-out's.
	// It is a plain func so that this package needs no metrics library
	// (api hands it a Prometheus histogram's Observe); it runs on the
	// feeds' goroutines and must be quick.
	Sent func(sinceCommit time.Duration)
}

// NewHub starts feeding subscribed connections o.App's Sync events.
func NewHub(o HubOptions) *Hub {
	app := o.App
	h := &Hub{app: app, log: o.Log, sent: o.Sent, byObject: map[string]map[*feed]struct{}{},
		byUser: map[string]map[*feed]struct{}{}, feeds: map[*twilsock.Conn]*feed{}}
	stopLocal := app.SubscribeSync(h.publish)
	stopRemote := app.SubscribeSyncTouched(h.touched)
	stopNotices := app.SubscribeNotices(func(n core.Notice) { h.notifyUsers(n.Users, n.MessageType, n.Payload) })
	h.stop = func() { stopLocal(); stopRemote(); stopNotices() }
	return h
}

// Close stops the hub's subscriptions to the app's events.
func (h *Hub) Close() { h.stop() }

// touched hands subscribed feeds what another node's write did: the
// events read once from the log for all of them. nil touches (missed
// notifications) make every feed catch up on every object it has.
func (h *Hub) touched(touches []core.SyncTouch) {
	heard := h.now()
	if touches == nil {
		h.mu.Lock()
		feeds := make([]*feed, 0, len(h.feeds))
		for _, f := range h.feeds {
			feeds = append(feeds, f)
		}
		h.mu.Unlock()
		for _, f := range feeds {
			f.push(job{catchUp: true})
		}
		return
	}
	for _, t := range touches {
		h.mu.Lock()
		feeds := make([]*feed, 0, len(h.byObject[t.Object]))
		for f := range h.byObject[t.Object] {
			feeds = append(feeds, f)
		}
		h.mu.Unlock()
		if len(feeds) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		events, err := h.app.SyncEventsAfter(ctx, t.Object, t.From-1, int(t.To-t.From+1))
		cancel()
		if err != nil {
			// Each feed finds the gap at its next event and repairs it.
			h.log.Error("sync: reading another node's events", "object", t.Object, "err", err)
			continue
		}
		for _, f := range feeds {
			f.push(job{events: events, heard: heard})
		}
	}
}

// feed is one connection's ordered queue of work: live events and
// subscription changes, done one at a time by its run goroutine.
type feed struct {
	hub  *Hub
	conn *twilsock.Conn
	user string // the connection's user SID

	mu     sync.Mutex
	queue  []job
	queued int // events in queue
	// running is whether a goroutine is doing the queue's jobs: one runs
	// while there is work and ends when there is none, so an idle
	// connection holds no goroutine of the hub's.
	running bool
	// closed is set once the connection ended; pushes are dropped.
	closed bool
	// gapTimer brings a gap check when the oldest gap's grace ends.
	gapTimer *time.Timer
	// ctx ends with the connection.
	ctx    context.Context
	cancel context.CancelFunc

	// sent is, per object, the last event id the client has (run only).
	sent map[string]int64
	// held are, per object, events that came ahead of a gap, in id order,
	// and gapSince when the object's gap was first seen (run only).
	held     map[string][]heldEvent
	gapSince map[string]time.Time
	// objects are the subscribed objects (under hub.mu).
	objects map[string]struct{}
}

// job is live events, a subscription change, a notification that is not
// stored (typing), or a catch-up on every subscribed object (after
// notifications from other nodes were missed).
type job struct {
	events []parley.SyncEvent
	// heard is when the hub heard of events' commit (HubOptions.Sent);
	// zero when nobody measures.
	heard   time.Time
	change  *subscriptionChange
	notice  *notice
	catchUp bool
	// gapCheck reads the log for the gaps whose grace has ended.
	gapCheck bool
}

// heldEvent is an event held ahead of a gap, with when its commit was
// heard (job.heard).
type heldEvent struct {
	parley.SyncEvent
	heard time.Time
}

// notice is a notification of messageType with its payload.
type notice struct {
	messageType string
	payload     []byte
}

// subscriptionChange is an accepted POST /v4/Subscriptions.
type subscriptionChange struct {
	cancel      bool
	correlation int64
	objects     []subscribed
	failed      []map[string]any
}

type subscribed struct {
	id, kind string
	last     *int64
}

// feedOf returns conn's feed, starting it on first use.
func (h *Hub) feedOf(conn *twilsock.Conn) *feed {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.feeds[conn]
	if !ok {
		select {
		case <-conn.Done():
			// Closed already ran (or will find nothing): a feed that
			// drops what it is given, kept nowhere.
			return &feed{hub: h, conn: conn, closed: true, objects: map[string]struct{}{}}
		default:
		}
		f = &feed{hub: h, conn: conn, user: conn.Grant().UserSid, sent: map[string]int64{},
			held: map[string][]heldEvent{}, gapSince: map[string]time.Time{}, objects: map[string]struct{}{}}
		f.ctx, f.cancel = context.WithCancel(context.Background())
		h.feeds[conn] = f
		if h.byUser[f.user] == nil {
			h.byUser[f.user] = map[*feed]struct{}{}
		}
		h.byUser[f.user][f] = struct{}{}
	}
	return f
}

// Stats counts the feeds (signed-in connections that have subscribed)
// and the objects they are subscribed to: what a node holds for its
// clients (for metrics, and for tests that check nothing is left behind).
func (h *Hub) Stats() (feeds, objects int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.feeds), len(h.byObject)
}

// Closed forgets the feed of a connection that ended
// (twilsock.Options.Closed).
func (h *Hub) Closed(conn *twilsock.Conn) {
	h.mu.Lock()
	f := h.feeds[conn]
	h.mu.Unlock()
	if f == nil {
		return
	}
	f.mu.Lock()
	f.closed, f.queue, f.queued = true, nil, 0
	if f.gapTimer != nil {
		f.gapTimer.Stop()
	}
	f.mu.Unlock()
	f.cancel()
	h.forget(f)
}

// notifyUsers sends a notification that is not logged (typing) to the
// connections of users.
func (h *Hub) notifyUsers(users []string, messageType string, payload []byte) {
	var feeds []*feed
	h.mu.Lock()
	for _, u := range users {
		for f := range h.byUser[u] {
			feeds = append(feeds, f)
		}
	}
	h.mu.Unlock()
	for _, f := range feeds {
		f.push(job{notice: &notice{messageType, payload}})
	}
}

// now is the time a commit is heard at, when the fan-out is measured;
// zero (and no clock read) otherwise.
func (h *Hub) now() time.Time {
	if h.sent == nil {
		return time.Time{}
	}
	return time.Now()
}

// publish hands each subscribed feed the events of its objects. It runs
// right after the write's commit, on the writer's goroutine.
func (h *Hub) publish(events []parley.SyncEvent) {
	heard := h.now()
	per := map[*feed][]parley.SyncEvent{}
	h.mu.Lock()
	for _, e := range events {
		for f := range h.byObject[e.Object] {
			per[f] = append(per[f], e)
		}
	}
	h.mu.Unlock()
	for f, evs := range per {
		f.push(job{events: evs, heard: heard})
	}
}

// push queues a job, starting the feed's goroutine if none runs; a
// connection too far behind is offloaded.
func (f *feed) push(j job) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.queue = append(f.queue, j)
	f.queued += len(j.events)
	over := f.queued > maxQueued
	if over {
		f.queue, f.queued = nil, 0
	}
	start := !over && !f.running
	f.running = f.running || start
	f.mu.Unlock()
	if over {
		f.hub.log.Warn("client too far behind; offloaded", "identity", f.conn.Grant().Identity)
		go f.conn.Offload()
		return
	}
	if start {
		go f.run()
	}
}

// run does the feed's jobs in order until there are none left, then
// arms the gap check and ends.
func (f *feed) run() {
	ctx := f.ctx
	for {
		f.mu.Lock()
		jobs := f.queue
		f.queue, f.queued = nil, 0
		if len(jobs) == 0 {
			f.running = false
			f.armGapCheck()
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		for _, j := range jobs {
			switch {
			case j.change != nil:
				f.change(ctx, j.change)
			case j.notice != nil:
				f.conn.Notify(ctx, j.notice.messageType, j.notice.payload)
			case j.catchUp:
				f.catchUp(ctx)
			case j.gapCheck:
				f.repairGaps(ctx)
			default:
				f.deliver(ctx, j.events, j.heard)
			}
		}
		// A feed that never runs dry would never arm its gap check.
		if len(f.gapSince) > 0 && f.nextGapCheck() == 0 {
			f.repairGaps(ctx)
		}
	}
}

// armGapCheck has a gap check pushed when the oldest gap's grace ends
// (f.mu held; gapSince is the run goroutine's, which is the caller).
func (f *feed) armGapCheck() {
	if len(f.gapSince) == 0 || f.closed {
		if f.gapTimer != nil {
			f.gapTimer.Stop()
		}
		return
	}
	if f.gapTimer == nil {
		f.gapTimer = time.AfterFunc(f.nextGapCheck(), func() { f.push(job{gapCheck: true}) })
		return
	}
	f.gapTimer.Reset(f.nextGapCheck())
}

// forget drops a feed whose connection ended.
func (h *Hub) forget(f *feed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for o := range f.objects {
		h.unsubscribe(f, o)
	}
	delete(h.feeds, f.conn)
	if users := h.byUser[f.user]; users != nil {
		delete(users, f)
		if len(users) == 0 {
			delete(h.byUser, f.user)
		}
	}
}

// unsubscribe drops f's subscription to object o (under h.mu).
func (h *Hub) unsubscribe(f *feed, o string) {
	delete(f.objects, o)
	if subs := h.byObject[o]; subs != nil {
		delete(subs, f)
		if len(subs) == 0 {
			delete(h.byObject, o)
		}
	}
}

// subscribedTo reports whether f is subscribed to o.
func (h *Hub) subscribedTo(f *feed, o string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := f.objects[o]
	return ok
}

// deliver sends the events the client has not had of objects it is
// still subscribed to. Events come from this node's writes and from the
// log, in whatever order their writes' goroutines got here; an object's
// ids have no holes, so an event past the next one waits, held, for the
// ones before it (gapGrace), and the log is read for them only if they
// do not come.
func (f *feed) deliver(ctx context.Context, events []parley.SyncEvent, heard time.Time) {
	for _, e := range events {
		if e.ID <= f.sent[e.Object] || !f.hub.subscribedTo(f, e.Object) {
			continue
		}
		if e.ID > f.sent[e.Object]+1 {
			f.hold(ctx, heldEvent{e, heard})
			continue
		}
		f.send(ctx, e, heard)
		f.release(ctx, e.Object)
	}
}

// hold keeps an event that came ahead of a gap, in id order, once.
func (f *feed) hold(ctx context.Context, e heldEvent) {
	held := f.held[e.Object]
	i, found := slices.BinarySearchFunc(held, e.ID, func(h heldEvent, id int64) int { return cmp.Compare(h.ID, id) })
	if !found {
		f.held[e.Object] = slices.Insert(held, i, e)
	}
	if _, ok := f.gapSince[e.Object]; !ok {
		f.gapSince[e.Object] = time.Now()
	}
	if len(f.held[e.Object]) > maxHeld {
		f.repair(ctx, e.Object)
	}
}

// release sends the held events of object that now follow what the
// client has, and drops those it has had; the gap is closed once none is
// left.
func (f *feed) release(ctx context.Context, object string) {
	held := f.held[object]
	for len(held) > 0 && held[0].ID <= f.sent[object]+1 {
		if held[0].ID == f.sent[object]+1 && f.hub.subscribedTo(f, object) {
			f.send(ctx, held[0].SyncEvent, held[0].heard)
		}
		held = held[1:]
	}
	if len(held) == 0 || !f.hub.subscribedTo(f, object) {
		delete(f.held, object)
		delete(f.gapSince, object)
		return
	}
	f.held[object] = held
}

// nextGapCheck is how long until the oldest gap's grace ends.
func (f *feed) nextGapCheck() time.Duration {
	next := time.Hour
	for _, since := range f.gapSince {
		next = min(next, max(time.Until(since.Add(gapGrace)), 0))
	}
	return next
}

// repairGaps reads the log for the gaps whose grace has ended.
func (f *feed) repairGaps(ctx context.Context) {
	for object, since := range f.gapSince {
		if time.Since(since) >= gapGrace {
			f.repair(ctx, object)
		}
	}
}

// dropHeld forgets what is held of an object the feed no longer has.
func (f *feed) dropHeld(object string) {
	delete(f.held, object)
	delete(f.gapSince, object)
}

// repair sends what the log has of object after what the client has,
// then what was held beyond it; nothing of an object the client no
// longer subscribes to (it may no longer be allowed to read it).
func (f *feed) repair(ctx context.Context, object string) {
	if !f.hub.subscribedTo(f, object) {
		f.dropHeld(object)
		return
	}
	r, err := f.hub.app.ReplaySync(ctx, object, f.sent[object], maxReplay)
	if err != nil {
		f.hub.log.Error("sync: repairing a gap", "object", object, "err", err)
		f.gapSince[object] = time.Now() // try again after another grace
		return
	}
	if r.Complete {
		for _, e := range r.Events {
			if e.ID > f.sent[object] {
				f.send(ctx, e, time.Time{}) // read back: not measured
			}
		}
	}
	// What was left out or trimmed counts as had: the client reads
	// current state when it reads the object.
	f.sent[object] = max(f.sent[object], r.Last)
	delete(f.gapSince, object)
	f.release(ctx, object)
	if _, open := f.held[object]; open {
		f.gapSince[object] = time.Now() // another gap beyond: its own grace
	}
}

// catchUp repairs every subscribed object (notifications from other
// nodes may have been missed).
func (f *feed) catchUp(ctx context.Context) {
	f.hub.mu.Lock()
	objects := make([]string, 0, len(f.objects))
	for o := range f.objects {
		objects = append(objects, o)
	}
	f.hub.mu.Unlock()
	for _, o := range objects {
		f.repair(ctx, o)
	}
}

// send sends one event and notes it sent; heard, when not zero, is when
// its commit was heard, and the time since is measured (HubOptions.Sent)
// once the socket took it. A user's conversation leaving their
// conversations map ends their subscriptions to its objects: they may no
// longer read them.
func (f *feed) send(ctx context.Context, e parley.SyncEvent, heard time.Time) {
	f.sent[e.Object] = e.ID
	if b, err := json.Marshal(map[string]any{"event_type": e.Type, "event_protocol_version": 4,
		"event": notification(f.conn.BaseURL, e)}); err == nil {
		if f.conn.Notify(ctx, "twilio.sync.event", b) == nil && !heard.IsZero() && f.hub.sent != nil {
			f.hub.sent(time.Since(heard))
		}
	}
	owner, view := syncview.Parse(e.Object)
	if e.Type == syncview.MapItemRemoved && view == syncview.Conversations && owner == f.conn.Grant().UserSid {
		f.hub.mu.Lock()
		for _, v := range []string{syncview.Channel, syncview.Roster, syncview.Messages} {
			f.hub.unsubscribe(f, syncview.ID(e.Key, v))
		}
		f.hub.mu.Unlock()
		for _, v := range []string{syncview.Channel, syncview.Roster, syncview.Messages} {
			f.dropHeld(syncview.ID(e.Key, v))
		}
	}
}

// notification is the event part of a Sync data notification
// (client-sdk-protocol.md §4.6).
func notification(base string, e parley.SyncEvent) map[string]any {
	rev := strconv.FormatInt(e.ID, 10)
	n := map[string]any{"id": e.ID, "date_created": syncview.Stamp(e.DateCreated)}
	data := e.Data // nil marshals as null
	esc := url.PathEscape(e.Object)
	switch {
	case strings.HasPrefix(e.Type, "map_"):
		n["map_sid"], n["item_key"], n["item_data"], n["map_revision"] = e.Object, e.Key, data, rev
		n["item_url"], n["item_revision"] = base+"/v3/Maps/"+esc+"/Items/"+url.PathEscape(e.Key), rev
	case strings.HasPrefix(e.Type, "list_"):
		idx, _ := strconv.ParseInt(e.Key, 10, 64)
		n["list_sid"], n["item_index"], n["item_data"], n["list_revision"] = e.Object, idx, data, rev
		n["item_url"], n["item_revision"] = base+"/v3/Lists/"+esc+"/Items/"+e.Key, rev
	default:
		n["document_sid"], n["document_revision"], n["document_data"] = e.Object, rev, data
	}
	return n
}

// change subscribes or unsubscribes, replaying what each new subscriber
// missed before saying the subscription is established.
func (f *feed) change(ctx context.Context, c *subscriptionChange) {
	done := make([]map[string]any, 0, len(c.objects))
	for _, o := range c.objects {
		ev := map[string]any{"object_sid": o.id, "object_type": o.kind}
		if c.cancel {
			f.hub.mu.Lock()
			f.hub.unsubscribe(f, o.id)
			f.hub.mu.Unlock()
			f.dropHeld(o.id)
			done = append(done, ev)
			continue
		}
		// Subscribed first, so that what commits from now on reaches the
		// queue; then the log read catches all that committed before. Not
		// once the connection has ended: Closed (which cancelled ctx
		// first) has forgotten the feed, and would not again.
		f.hub.mu.Lock()
		if ctx.Err() != nil {
			f.hub.mu.Unlock()
			return
		}
		f.objects[o.id] = struct{}{}
		subs := f.hub.byObject[o.id]
		if subs == nil {
			subs = map[*feed]struct{}{}
			f.hub.byObject[o.id] = subs
		}
		subs[f] = struct{}{}
		f.hub.mu.Unlock()
		last, err := f.replay(ctx, o)
		if err != nil {
			f.hub.log.Error("sync replay", "object", o.id, "err", err)
			ev["replay_status"], ev["last_event_id"] = "interrupted", f.sent[o.id]
		} else {
			ev["replay_status"], ev["last_event_id"] = "completed", last
		}
		done = append(done, ev)
	}
	eventType := "subscription_established"
	if c.cancel {
		eventType = "subscription_canceled"
	}
	for _, batch := range []struct {
		typ    string
		events []map[string]any
	}{{eventType, done}, {"subscription_failed", c.failed}} {
		if len(batch.events) == 0 {
			continue
		}
		b, err := json.Marshal(map[string]any{"event_type": batch.typ, "correlation_id": c.correlation,
			"event_protocol_version": 4, "events": batch.events})
		if err == nil {
			f.conn.Notify(ctx, "twilio.sync.event", b)
		}
	}
}

// replay sends the events of o after the client's last_event_id and
// returns the id the client then holds.
func (f *feed) replay(ctx context.Context, o subscribed) (int64, error) {
	after := f.sent[o.id]
	if o.last != nil && *o.last >= 0 {
		after = max(after, *o.last)
	}
	r, err := f.hub.app.ReplaySync(ctx, o.id, after, maxReplay)
	if err != nil {
		return after, err
	}
	f.sent[o.id] = after
	switch {
	case o.last == nil || *o.last < 0:
		// No position: from now on.
	case !r.Complete:
		// What the client missed is no longer all in the log, or is too
		// much to send: it goes on from now.
	default:
		for _, e := range r.Events {
			f.send(ctx, e, time.Time{}) // a replay: not measured
		}
	}
	// Events left out (of what was deleted since) still count as had.
	f.sent[o.id] = max(f.sent[o.id], r.Last)
	f.release(ctx, o.id)
	return f.sent[o.id], nil
}
