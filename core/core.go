// Package core holds parley's rules, independent of storage and wire format:
// validation, defaults (a new service's roles, a user's default role), SID
// minting, which Twilio error each failure becomes, and webhook events (the
// pre-event veto before a write, the outbox row inside it).
//
// Stores only read and write; the HTTP layer only decodes and encodes. That
// way SQLite and PostgreSQL behave alike by construction, and the rules can
// be read in one place.
package core

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
)

// PreHook sends a pre-event webhook and waits for the app's answer. It
// returns a KindRejected *parley.Error (code 50056) when the app refuses the
// action; otherwise the body of the app's 2xx answer (which may ask for
// changes, see PreAnswer), or nothing when it does not answer in time.
type PreHook interface {
	Call(ctx context.Context, target parley.WebhookTarget, params url.Values) (answer []byte, err error)
}

// Options configure an App.
type Options struct {
	Store parley.Store
	// Account is the bootstrapped account (see Bootstrap).
	Account parley.Account
	// SIDs mints SIDs; RandomSIDs when nil.
	SIDs parley.SIDs
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Clock, when set, is the clock instead of Now: the one emulator
	// mode moves (clock.go).
	Clock *Clock
	// Emulator enables the emulator's controls that core serves (Reset);
	// writes then take turns with resets (resetGuard).
	Emulator bool
	// PreHook sends pre-event webhooks; none are sent when nil.
	PreHook PreHook
	// RESTPreEvents is a parley extension: Twilio sends pre-event webhooks
	// only for actions taken by client SDKs, never for REST calls; with
	// this set, REST calls carrying X-Twilio-Webhook-Enabled: true run
	// them too, so apps can test their veto logic.
	RESTPreEvents bool
	// Enqueued is called after a write that queued webhook deliveries has
	// committed, and after each move of Clock, to wake the dispatcher; may
	// be nil.
	Enqueued func()
	Logger   *slog.Logger
	// Limits are the participant limits; zero fields take Twilio's.
	Limits Limits
}

// Limits are Twilio's participant limits (semantics-conversations.md
// §3.3). They are options so that tests can reach them cheaply and
// self-hosters can raise them.
type Limits struct {
	ChatParticipants    int // per conversation; 1,000
	NonChatParticipants int // per conversation; 50
	OpenConversations   int // active and inactive ones per identity; 1,000
	// MediaSize caps an upload's bytes; MaxMediaSize (150 MB).
	MediaSize int64
}

// orDefault returns l with Twilio's value in every zero field.
func (l Limits) orDefault() Limits {
	if l.ChatParticipants <= 0 {
		l.ChatParticipants = MaxChatParticipants
	}
	if l.NonChatParticipants <= 0 {
		l.NonChatParticipants = MaxNonChatParticipants
	}
	if l.OpenConversations <= 0 {
		l.OpenConversations = MaxOpenConversations
	}
	if l.MediaSize <= 0 {
		l.MediaSize = MaxMediaSize
	}
	return l
}

// App applies parley's rules on top of a Store.
type App struct {
	store         parley.Store
	account       parley.Account
	sids          parley.SIDs
	now           func() time.Time
	preHook       PreHook
	restPreEvents bool
	enqueued      func()
	log           *slog.Logger
	limits        Limits
	subs          subscribers[parley.Event]
	syncSubs      subscribers[[]parley.SyncEvent]
	// touchedSubs hear what other nodes' writes did to Sync objects.
	touchedSubs subscribers[[]SyncTouch]
	noticeSubs  subscribers[Notice]
	// clk is Options.Clock: nil when the clock is Now, which cannot move.
	clk *Clock
	// guard wraps store in emulator mode (reset.go); nil otherwise.
	guard *resetGuard
	// replacedHooks run after each reset or import (reset.go).
	replacedHooks struct {
		mu  sync.Mutex
		fns []func()
	}
	// node names this App in its notifications, so that it can tell its
	// own from the other nodes'.
	node string
	// leaseEnd is when this node's presence lease, as it last renewed it,
	// runs out (Unix nanoseconds; presence.go).
	leaseEnd atomic.Int64
}

// Emulator reports whether the app runs in emulator mode (Options.Emulator):
// the API mounts its controls.
func (a *App) Emulator() bool { return a.guard != nil }

// New returns an App.
func New(o Options) *App {
	a := &App{
		store:         o.Store,
		account:       o.Account,
		sids:          o.SIDs,
		now:           o.Now,
		clk:           o.Clock,
		preHook:       o.PreHook,
		restPreEvents: o.RESTPreEvents,
		enqueued:      o.Enqueued,
		log:           o.Logger,
		limits:        o.Limits.orDefault(),
	}
	if a.sids == nil {
		a.sids = parley.RandomSIDs{}
	}
	if a.clk != nil {
		a.now = a.clk.Now
		// A move may make webhook retries due: the dispatcher looks again.
		if a.enqueued != nil {
			a.clk.OnMove(a.enqueued)
		}
	}
	if o.Emulator {
		a.guard = &resetGuard{Store: a.store}
		a.store = a.guard
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.node = parley.NewSID("ND")[2:]
	return a
}

// AccountSid is the SID of the account this App serves.
func (a *App) AccountSid() string { return a.account.Sid }

// PageKey is the key that signs PageTokens, shared by every node on the
// same database.
func (a *App) PageKey() []byte { return a.account.PageKey }

// clock returns now at Twilio's second precision, in UTC: the time every
// row written by one operation carries.
// Now is the app's clock, for what callers stamp themselves.
func (a *App) Now() time.Time { return a.now() }

func (a *App) clock() time.Time { return a.now().UTC().Truncate(time.Second) }

// WriteOptions carry what a REST request says about side effects.
type WriteOptions struct {
	// Webhooks is X-Twilio-Webhook-Enabled: true. Without it, REST actions
	// fire no webhooks, as on Twilio.
	Webhooks bool
	// Source is who acted, as webhooks name it: "" for a REST call (API);
	// an inbound message's channel (SMS, WHATSAPP…).
	Source parley.EventSource
	// ClientIdentity is the client SDK user who acted, for SDK actions.
	ClientIdentity string
}

// source is the Source of the write's events.
func (o WriteOptions) source() parley.EventSource {
	if o.Source == "" {
		return parley.SourceAPI
	}
	return o.Source
}

// update runs fn in a write transaction, records the events fn collected
// in that same transaction (see record), and after the commit wakes the
// webhook dispatcher and tells the subscribers.
//
// Every fn locks rows in one order, so that two writes, or a write and a
// delete, queue up instead of deadlocking on PostgreSQL (SQLite runs one
// writer at a time and locks nothing):
//
//  1. rows the write will refer to (a role, a default service) are read
//     through tx.ForShare(), which keeps them from being deleted;
//  2. then the row it rewrites is read through tx.ForUpdate();
//  3. then it writes.
//
// A delete takes its row first and the rows that cascade from it after, so
// a write that also starts from the parent side never holds a child while
// waiting for a parent the delete holds. A write that races a delete of
// what it refers to anyway (read without a lock, deleted, then written)
// fails with parley.ErrDangling, and the store runs fn again: the rules
// then see the deletion and answer 404 or 50100 as they would have.
func (a *App) update(ctx context.Context, fn func(tx parley.Tx, ev *events) error) error {
	var ev events
	err := a.store.Update(ctx, func(tx parley.Tx) error {
		ev = events{}
		if err := fn(tx, &ev); err != nil {
			return err
		}
		return a.record(ctx, tx, &ev)
	})
	if err != nil {
		return err
	}
	if ev.queued > 0 && a.enqueued != nil {
		a.enqueued()
	}
	a.publish(&ev)
	return nil
}

// serviceRef checks the service a request addresses: the SID named in the
// path, or "" for the account's default service (shortened URLs), which the
// store resolves within the query that needs it. A malformed SID is a 404,
// like an unknown one.
func serviceRef(svc string) (string, error) {
	if svc != "" && !parley.IsSID(parley.PrefixService, svc) {
		return "", parley.NotFound()
	}
	return svc, nil
}

// read runs fn against committed data and returns what it read: the shape
// of every plain fetch and list.
func read[T any](ctx context.Context, a *App, fn func(tx parley.Tx) (T, error)) (T, error) {
	var v T
	err := a.store.View(ctx, func(tx parley.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v, err
}

// found is a store read's result with ErrNotFound as Twilio's 404 20404.
func found[T any](v T, err error) (T, error) { return v, notFound(err) }

// notFound turns a store's ErrNotFound into Twilio's 404 20404, leaving
// other errors alone.
func notFound(err error) error {
	if errors.Is(err, parley.ErrNotFound) {
		return parley.NotFound()
	}
	return err
}

// every runs fn now and then every period until ctx ends: the shape of
// the node's background upkeep (presence leases, trimming the Sync log,
// pruning the webhook outbox).
func every(ctx context.Context, period time.Duration, fn func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
