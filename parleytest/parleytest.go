// Package parleytest starts parley in-process for Go tests and hands back a
// twilio-go client that talks to it, the way fake-gcs-server's fakestorage
// does for Google Cloud Storage:
//
//	srv := parleytest.New(t)
//	client := srv.Client()
//	user, err := client.ConversationsV1.CreateUser(&conversations.CreateUserParams{...})
//
// Each Server has its own SQLite file in t.TempDir() and its own loopback
// listener; both go away when the test ends.
package parleytest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/sqlite"
	"github.com/parleyhq/parley/webhook"
	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
)

// Server is a running parley.
type Server struct {
	URL               string // e.g. http://127.0.0.1:41234
	AccountSid        string
	AuthToken         string
	DefaultServiceSid string
	App               *core.App
	Store             parley.Store
	HTTP              *httptest.Server
	// Dispatcher sends the post-event webhooks the server queues.
	Dispatcher *webhook.Dispatcher
}

// Options adjust a Server; the zero value is a plain parley on SQLite.
type Options struct {
	// Store, when set, is used instead of a fresh SQLite file (and is not
	// closed by the Server).
	Store parley.Store
	// Core options beyond Store and Account (SIDs, clock, webhook hooks).
	Core core.Options
	// Bootstrap fixes the account's credentials.
	Bootstrap core.BootstrapOptions
	// PublicURL is api.Options.PublicURL: the base of absolute URLs.
	PublicURL string
	// Webhooks tune post-event delivery (Store and AuthToken are filled
	// in). Core.PreHook defaults to a webhook.PreHook and Core.Enqueued to
	// the dispatcher's Wake.
	Webhooks webhook.DispatcherOptions
	// TimerPoll is how often conversation timers are looked for (0 is
	// core.TimerPoll); tests that move the clock make it short.
	TimerPoll time.Duration
	// Emulator turns emulator mode on (core.Options.Emulator), with a
	// clock that POST /parley/v1/Clock moves (unless Core.Clock or
	// Core.Now is set).
	Emulator bool
	// RateLimits enforces Twilio's write rates (api.Options.RateLimits).
	RateLimits bool
}

// New starts a parley server for the duration of t, with options such as
// Emulator():
//
//	srv := parleytest.New(t, parleytest.Emulator())
func New(t testing.TB, opts ...Option) *Server {
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	return NewWith(t, o)
}

// Option adjusts the Options of New.
type Option func(*Options)

// Emulator turns emulator mode on: Reset, Advance, Fault and the rest of
// docs/emulator.md.
func Emulator() Option { return func(o *Options) { o.Emulator = true } }

// RateLimits enforces Twilio's write rates (--rate-limits twilio).
func RateLimits() Option { return func(o *Options) { o.RateLimits = true } }

// NewWith starts a parley server with options.
func NewWith(t testing.TB, o Options) *Server {
	t.Helper()
	ctx := context.Background()
	store := o.Store
	if store == nil {
		store = NewStore(t)
	}
	if o.Bootstrap.SIDs == nil {
		o.Bootstrap.SIDs = o.Core.SIDs
	}
	if o.Emulator && o.Core.Clock == nil && o.Core.Now == nil {
		o.Core.Clock = core.NewClock(true)
	}
	if o.Bootstrap.Now == nil {
		o.Bootstrap.Now = o.Core.Now
		if o.Core.Clock != nil {
			o.Bootstrap.Now = o.Core.Clock.Now
		}
	}
	boot, err := core.Bootstrap(ctx, store, o.Bootstrap)
	if err != nil {
		t.Fatalf("parleytest: bootstrap: %v", err)
	}
	co := o.Core
	co.Emulator = co.Emulator || o.Emulator
	wo := o.Webhooks
	wo.Store, wo.AuthToken = store, boot.Account.AuthToken
	if wo.Now == nil && co.Clock != nil {
		wo.Now = co.Clock.Now
	}
	dispatcher := webhook.NewDispatcher(wo)
	co.Store, co.Account = store, boot.Account
	if co.PreHook == nil {
		co.PreHook = &webhook.PreHook{AuthToken: boot.Account.AuthToken}
	}
	if co.Enqueued == nil {
		co.Enqueued = dispatcher.Wake
	}
	app := core.New(co)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	timersDone := make(chan struct{})
	go func() { dispatcher.Run(ctx); close(done) }()
	go func() { app.RunTimers(ctx, o.TimerPoll); close(timersDone) }()
	t.Cleanup(func() { cancel(); <-done; <-timersDone })
	ts := httptest.NewServer(api.New(api.Options{App: app, PublicURL: o.PublicURL, RateLimits: o.RateLimits,
		Webhooks: dispatcher}))
	t.Cleanup(ts.Close)
	return &Server{
		Dispatcher:        dispatcher,
		URL:               ts.URL,
		AccountSid:        boot.Account.Sid,
		AuthToken:         boot.Account.AuthToken,
		DefaultServiceSid: boot.DefaultServiceSid,
		App:               app,
		Store:             store,
		HTTP:              ts,
	}
}

// NewStore opens a fresh, empty database for t and closes it when t ends:
// a SQLite file in t.TempDir(), or, when PARLEY_TEST_BACKEND=postgres, a
// schema of its own on the PostgreSQL server named by PARLEY_TEST_POSTGRES
// (see internal/pgtest), so that the same tests prove both backends.
func NewStore(t testing.TB) parley.Store {
	t.Helper()
	ctx := context.Background()
	var store parley.Store
	var err error
	switch backend := os.Getenv("PARLEY_TEST_BACKEND"); backend {
	case "", "sqlite":
		store, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{})
	case "postgres":
		// A small pool: many tests run at once against one server.
		store, err = postgres.Open(ctx, pgtest.DSN(t), postgres.Options{MaxConns: 4})
	default:
		t.Fatalf("parleytest: PARLEY_TEST_BACKEND=%q: use sqlite or postgres", backend)
	}
	if err != nil {
		t.Fatalf("parleytest: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// Client returns a twilio-go client authenticated with the account's auth
// token whose requests go to this server.
func (s *Server) Client() *twilio.RestClient {
	return NewClient(s.URL, s.AccountSid, s.AuthToken, s.AccountSid)
}

// NewClient returns a twilio-go client that sends every request to base
// (scheme and host) instead of Twilio, authenticating as username:password
// (the account SID and auth token, or an API key SID and secret).
func NewClient(base, username, password, accountSid string) *twilio.RestClient {
	target, err := url.Parse(base)
	if err != nil {
		panic("parleytest: bad base URL " + base)
	}
	inner := &client.Client{Credentials: client.NewCredentials(username, password)}
	inner.SetAccountSid(accountSid)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: &redirect{Client: inner, target: target}})
}

// redirect rewrites the scheme and host of every request the SDK builds.
// It wraps SendRequest, which runs after the SDK's edge and region host
// building, so TWILIO_EDGE and TWILIO_REGION make no difference.
type redirect struct {
	*client.Client
	target *url.URL
}

func (r *redirect) SendRequest(method, rawURL string, data url.Values, headers map[string]interface{}, body ...byte) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Host = r.target.Scheme, r.target.Host
	return r.Client.SendRequest(method, u.String(), data, headers, body...)
}
