// Package api is Twilio's Conversations wire format over HTTP: routing,
// authentication, form decoding, JSON encoding, paging metadata and error
// bodies. It turns requests into calls on core.App and results into exactly
// the bodies, statuses and headers the official Twilio SDKs expect.
package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/clientapi"
	"github.com/parleyhq/parley/console"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/twilsock"
	"github.com/parleyhq/parley/webhook"
	"golang.org/x/time/rate"
)

// DefaultMaxBody caps request bodies. The largest legitimate User body is
// about 17 KiB (16 KiB of attributes plus the other fields); a role with every
// permission is under 1 KiB. 1 MiB leaves room for the resources to come
// while keeping a hostile client from making the server buffer much.
const DefaultMaxBody = 1 << 20

// Options configure a Server.
type Options struct {
	App *core.App
	// PublicURL, when set (e.g. "https://chat.example.com"), is the base of
	// every absolute URL in responses; otherwise each request's scheme and
	// Host are used, so URLs lead back to whatever address the client used.
	PublicURL string
	// MaxBody caps request bodies; DefaultMaxBody when 0.
	MaxBody int64
	Logger  *slog.Logger
	// RateLimits enforces Twilio's write rates (ratelimit.go).
	RateLimits bool
	// NoMetrics turns /metrics off (metrics.go).
	NoMetrics bool
	// Webhooks, when set, is the dispatcher whose attempts and failures by
	// event type /metrics reports (parley_webhook_attempts_total,
	// parley_webhook_failures_total). It is made before the Server (the
	// app needs its Wake), so its counts are read at each scrape.
	Webhooks *webhook.Dispatcher
}

// Server is the HTTP handler.
type Server struct {
	app       *core.App
	publicURL string
	maxBody   int64
	log       *slog.Logger
	mux       *http.ServeMux
	pages     pageTokens
	// sock serves the client SDKs' WebSocket (clients.go).
	sock *twilsock.Server
	// emulator is whether the app runs in emulator mode (core.App.Emulator):
	// its controls are mounted.
	emulator bool
	// draining is set once Shutdown began: /readyz says not ready.
	draining atomic.Bool
	// faults are the emulator's injected answers (faults.go); nil off
	// emulator mode.
	faults *faults
	// rates are Twilio's write rates (ratelimit.go); nil unless asked.
	rates *rateLimits
	// metrics are the Prometheus series (metrics.go); nil when off.
	metrics *metrics
	// console is the web console's files (package console).
	console http.Handler
	// hub feeds the client connections their Sync events.
	hub *clientapi.Hub
	// mediaEncoder writes a media record, for MediaSet's list of them.
	mediaEncoder *encoder[mediaView]

	// What routes mounted: each operation once, and per path (in mount
	// order) the methods it answers, for the 405s.
	mounted map[string]bool
	allowed map[string][]string
	paths   []string
	// observe, set only by tests, is told which parameters each request's
	// handler read.
	observe func(op string, read map[string]bool)
	// samples encode a zero item of each mounted operation's schema, for
	// the tests that hold every served shape to the spec.
	samples map[string]func(*wireContext) []byte
}

// New returns the HTTP handler for app.
func New(o Options) *Server {
	s := &Server{
		app:       o.App,
		publicURL: strings.TrimRight(o.PublicURL, "/"),
		maxBody:   o.MaxBody,
		log:       o.Logger,
		mux:       http.NewServeMux(),
		pages:     pageTokens{key: o.App.PageKey()},
		mounted:   map[string]bool{},
		allowed:   map[string][]string{},
		samples:   map[string]func(*wireContext) []byte{},
		emulator:  o.App.Emulator(),
		console:   console.Handler(),
	}
	if s.emulator {
		s.faults = &faults{}
	}
	if !o.NoMetrics {
		s.metrics = newMetrics(s)
		if o.Webhooks != nil {
			s.metrics.registry.MustRegister(webhookCollector{o.Webhooks})
		}
	}
	if o.RateLimits {
		s.rates = &rateLimits{now: o.App.Now, buckets: map[string]*rate.Limiter{}}
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.routes()
	s.sock = s.newTwilsock()
	// A moved clock may have brought signed-in clients' tokens to expiry.
	o.App.OnClockMoved(s.sock.Rearm)
	// A reset or an import replaced what the clients had read, without
	// events: they reconnect and read it again.
	o.App.OnReplaced(s.sock.OffloadAll)
	return s
}

// ready answers /readyz, for load balancers and Kubernetes readiness
// probes: 200 while the database answers (parley opens a database only
// once its migrations are applied), 503 once the node is shutting down
// (so that a balancer stops sending it requests before it stops) or when
// the database does not answer within 2 s. No credentials, like /healthz.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.app.FetchAccountConfig(ctx); err != nil {
		s.log.Warn("readiness: the database does not answer", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// ServeHTTP answers one request: request id and CORS headers first, then
// health checks and CORS preflights (which carry no credentials), then
// authentication, then routing.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The metrics and the debug request line need the answer's status
	// and time. A client socket (with or without the trailing slash that
	// is trimmed below) is left unwrapped: it is hijacked and lives for
	// hours, not a request to time.
	debug := s.log.Enabled(r.Context(), slog.LevelDebug)
	if (s.metrics != nil || debug) && strings.TrimSuffix(r.URL.Path, "/") != clientPath {
		began := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		w = sw
		// r is read when the request is over: by then it is the request
		// the routes saw, with their pattern.
		defer func() { s.answered(r, sw, began, debug) }()
	}
	h := w.Header()
	h["Twilio-Request-Id"] = []string{requestID()}
	setCORS(h, r)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.writeError(w, r, &parley.Error{Kind: parley.KindInternal, Code: 20500,
				Message: "Internal server error", Err: fmt.Errorf("panic: %v", p)})
		}
	}()

	// "GET /v1/Users/" is the seed document's own example: treat one
	// trailing slash as absent.
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		r.URL.Path = strings.TrimSuffix(p, "/")
		if r.URL.RawPath != "" {
			r.URL.RawPath = strings.TrimSuffix(r.URL.RawPath, "/")
		}
	}
	switch {
	case r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return
	case r.URL.Path == "/readyz" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		s.ready(w, r)
		return
	case r.URL.Path == metricsPath && s.metrics != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		// Prometheus scrapes without credentials, as it does any
		// service; --metrics=false turns the series off.
		s.metrics.handler.ServeHTTP(w, r)
		return
	case r.URL.Path == clientPath && r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
		// Clients sign in with a token inside the socket, not with HTTP
		// credentials.
		s.sock.ServeHTTP(w, r)
		return
	// (Paths reach here with their trailing slash trimmed; TrimSuffix of a
	// constant allocates nothing, as concatenating the path did.)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Path == strings.TrimSuffix(examplePath, "/"):
		serveExample(w, r)
		return
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.URL.Path == strings.TrimSuffix(console.Path, "/") || strings.HasPrefix(r.URL.Path, console.Path)):
		// The console's page and files carry no credentials: the page
		// asks for them and calls the REST API with them.
		s.console.ServeHTTP(w, r)
		return
	case strings.HasPrefix(r.URL.Path, mediaLinkPath) && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		// A temporary media link is its own credential.
		s.serveMediaLink(w, r)
		return
	case r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != "":
		w.WriteHeader(http.StatusNoContent)
		return
	}
	r, err := s.authenticate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.injectFault(w, r) {
		return
	}
	if !canonicalPath(r.URL.EscapedPath()) {
		// ServeMux would answer with an HTML redirect to the cleaned path,
		// which an SDK follows to another resource (or reports as success).
		s.writeError(w, r, parley.NotFound())
		return
	}
	s.mux.ServeHTTP(w, r)
}

// answered records one answered request: its series, and at debug level
// one log line with what an operator needs to find it (the route, the
// status, the time taken and the request id the client saw in
// Twilio-Request-Id).
func (s *Server) answered(r *http.Request, w *statusWriter, began time.Time, debug bool) {
	status, took := cmp.Or(w.status, http.StatusOK), time.Since(began)
	route := r.Pattern
	if route == "" || route == "/" {
		route = "other" // what no route served: few series whatever the paths
	}
	if s.metrics != nil {
		s.metrics.observe(route, r.Method, status, took)
	}
	if debug {
		s.log.Debug("request", "method", r.Method, "path", r.URL.EscapedPath(), "route", route,
			"status", status, "request_id", w.Header().Get("Twilio-Request-Id"), "duration", took)
	}
}

// canonicalPath reports whether every segment of an escaped path can name
// something: not empty, not "." or ".." (escaped or not), and, once
// decoded, UTF-8 text without NUL. This is the one check every path segment
// passes before a handler or a store sees it, so that the stores never meet
// bytes one backend can compare and the other cannot (PostgreSQL refuses
// NUL and invalid UTF-8 in text), and ServeMux never meets a path it would
// clean and redirect.
func canonicalPath(escaped string) bool {
	if len(escaped) < 2 || escaped[0] != '/' || !cleanText(escaped) {
		return false
	}
	// One pass over the bytes; only a segment with an escape is decoded.
	start, escapes := 1, false
	for i := 1; i <= len(escaped); i++ {
		if i < len(escaped) && escaped[i] != '/' {
			escapes = escapes || escaped[i] == '%'
			continue
		}
		seg := escaped[start:i]
		if escapes {
			var err error
			if seg, err = url.PathUnescape(seg); err != nil || !cleanText(seg) {
				return false
			}
		}
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		start, escapes = i+1, false
	}
	return true
}

// authenticate checks a request's credentials: the account's or an API
// key's, with HTTP Basic; or, on the Media Content Service's paths, a
// client SDK user's access token in X-Twilio-Token, as
// @twilio/mcs-client sends it. It returns the request with the token's
// grant in its context.
func (s *Server) authenticate(r *http.Request) (*http.Request, error) {
	user, pass, ok := r.BasicAuth()
	if ok {
		return r, s.app.Authenticate(r.Context(), user, pass)
	}
	raw := r.Header.Get("X-Twilio-Token")
	svc, media := mediaService(r.URL.Path)
	if raw == "" || !media {
		return r, core.ErrAuthenticate()
	}
	tok, err := s.app.VerifyAccessToken(r.Context(), raw)
	if err != nil {
		return r, err
	}
	if tok.ServiceSid != svc {
		return r, parley.Errorf(parley.KindForbidden, 20403, "Forbidden: the access token signs into service %s, not %s", tok.ServiceSid, svc)
	}
	return r.WithContext(context.WithValue(r.Context(), accessTokenKey{}, tok)), nil
}

// accessTokenKey keys the verified access token of a request in its
// context.
type accessTokenKey struct{}

// clientIdentity is the identity of the client SDK user who made the
// request with an access token; "" for Basic auth.
func clientIdentity(r *http.Request) string {
	tok, _ := r.Context().Value(accessTokenKey{}).(core.AccessToken)
	return tok.Identity
}

// mediaService reports whether path is one of the Media Content Service's
// (/v1/Services/{ChatServiceSid}/Media…, …/MediaSet), and its service.
func mediaService(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/v1/Services/")
	if !ok {
		return "", false
	}
	svc, rest, _ := strings.Cut(rest, "/")
	return svc, rest == "Media" || rest == "MediaSet" || strings.HasPrefix(rest, "Media/")
}

// requestID is Twilio's RQ + 32 hex digits.
func requestID() string { return parley.NewSID(parley.PrefixRequest) }

// Header values set on every response, allocated once: net/http only reads
// them.
var (
	corsAnyOrigin   = []string{"*"}
	corsCredentials = []string{"true"}
	corsMethods     = []string{"GET, POST, DELETE, OPTIONS"}
	corsHeaders     = []string{"Authorization, Content-Type, X-Twilio-Webhook-Enabled, X-Twilio-Token"}
	corsExpose      = []string{"Twilio-Request-Id"}
	varyOrigin      = []string{"Origin"}
)

// setCORS sets the CORS headers the spec declares on every operation. A
// request with an Origin gets it echoed with credentials allowed, since a
// browser refuses credentials with "*".
func setCORS(h http.Header, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" {
		h["Access-Control-Allow-Origin"] = []string{origin}
		h["Access-Control-Allow-Credentials"] = corsCredentials
		h["Vary"] = varyOrigin
	} else {
		h["Access-Control-Allow-Origin"] = corsAnyOrigin
	}
	h["Access-Control-Allow-Methods"] = corsMethods
	h["Access-Control-Allow-Headers"] = corsHeaders
	h["Access-Control-Expose-Headers"] = corsExpose
}

// baseURL is the scheme and host absolute URLs are built on.
func (s *Server) baseURL(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// isClientGone reports errors that only mean the caller went away.
func isClientGone(err error) bool {
	return errors.Is(err, context.Canceled)
}
