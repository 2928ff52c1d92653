package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/sqlite"
	"github.com/parleyhq/parley/webhook"
)

// config is everything the flags and their PARLEY_* environment defaults
// set.
type config struct {
	addr          string
	db            string
	accountSid    string
	authToken     string
	publicURL     string
	logLevel      string
	logFormat     string
	shutdownGrace time.Duration

	restPreWebhooks    bool
	webhookMaxAttempts int
	webhookBackoff     time.Duration
	maxMediaBytes      int64
	syncRetention      time.Duration
	webhookRetention   time.Duration
	emulator           bool
	rateLimits         string
	seed               string
	metrics            bool
}

// flags defines the flags shared by every subcommand.
func (c *config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.db, "db", "parley.db", "database: a SQLite file path, or a postgres:// URL (env PARLEY_DB)")
}

func (c *config) serveFlags(fs *flag.FlagSet) {
	c.flags(fs)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080",
		"address to listen on; use :8080 to accept connections from other hosts (env PARLEY_ADDR)")
	fs.StringVar(&c.accountSid, "account-sid", "",
		"account SID (AC + 32 hex) for a new database; must match an existing one (env PARLEY_ACCOUNT_SID)")
	fs.StringVar(&c.authToken, "auth-token", "",
		"auth token (letters and digits); replaces the stored one if different (env PARLEY_AUTH_TOKEN)")
	fs.StringVar(&c.publicURL, "public-url", "",
		"base of the absolute URLs in responses when parley sits behind a proxy, e.g. https://chat.example.com (env PARLEY_PUBLIC_URL)")
	fs.StringVar(&c.logFormat, "log-format", "text",
		"text or json (one JSON object a line, for log collectors) (env PARLEY_LOG_FORMAT)")
	fs.StringVar(&c.logLevel, "log-level", "info",
		"debug, info, warn or error; debug logs every request (env PARLEY_LOG_LEVEL)")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", 30*time.Second,
		"how long in-flight requests may run after SIGINT/SIGTERM (env PARLEY_SHUTDOWN_GRACE)")
	fs.BoolVar(&c.restPreWebhooks, "rest-pre-webhooks", false,
		"parley extension: also send pre-event webhooks (which may veto) for REST calls with X-Twilio-Webhook-Enabled: true; Twilio sends them only for SDK actions (env PARLEY_REST_PRE_WEBHOOKS)")
	fs.IntVar(&c.webhookMaxAttempts, "webhook-max-attempts", 10,
		"tries per post-event webhook before it is kept as failed (env PARLEY_WEBHOOK_MAX_ATTEMPTS)")
	fs.DurationVar(&c.webhookBackoff, "webhook-backoff", time.Second,
		"wait before the first webhook retry, doubled for each further one up to 5m (env PARLEY_WEBHOOK_BACKOFF)")
	fs.DurationVar(&c.syncRetention, "sync-retention", core.SyncRetention,
		"how long client SDK events are kept to replay to clients that reconnect; one away longer sees current state (env PARLEY_SYNC_RETENTION)")
	fs.DurationVar(&c.webhookRetention, "webhook-retention", core.WebhookRetention,
		"how long finished webhook deliveries (delivered, failed, recorded) stay listed at /parley/v1/WebhookDeliveries; 0 keeps them (env PARLEY_WEBHOOK_RETENTION)")
	fs.BoolVar(&c.emulator, "emulator", false,
		"emulator mode, for test suites: the controls under /parley/v1/ that docs/emulator.md lists (reset, a clock to move forward, webhook retries, …); never on a server others rely on (env PARLEY_EMULATOR)")
	fs.BoolVar(&c.metrics, "metrics", true,
		"serve Prometheus metrics at /metrics, without credentials (env PARLEY_METRICS)")
	fs.StringVar(&c.seed, "seed", "",
		"a fixture file (docs/fixtures.schema.json) to load before serving; what the database has already is left as it is (env PARLEY_SEED)")
	fs.StringVar(&c.rateLimits, "rate-limits", "",
		"twilio: answer writes over Twilio's documented rates (30/s per service or conversation, bursts of 150) with 429 20429, to test an app's back-off (env PARLEY_RATE_LIMITS)")
	fs.Int64Var(&c.maxMediaBytes, "max-media-bytes", core.MaxMediaSize,
		"largest media upload in bytes; Twilio's limit for chat media is 150 MB (env PARLEY_MAX_MEDIA_BYTES)")
}

// parseFlags parses args, then gives each flag that the command line left
// alone the value of its environment variable, if that is set. A flag has
// the variable its usage names ("(env PARLEY_X)"), so the help text and
// the behaviour cannot disagree. Values go through the flag's own parser:
// a malformed PARLEY_X is refused like a malformed --x.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "PARLEY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if err != nil || given[f.Name] || !strings.Contains(f.Usage, "(env "+name+")") {
			return
		}
		if v := getenv(name); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", name, v, e)
			}
		}
	})
	return err
}

const usage = `parley serves Twilio's Conversations REST API.

Usage:
  parley [flags]                      run the server
  parley keys create [--name NAME]    create an API key; prints its SID and secret once
  parley keys list                    list API keys
  parley keys revoke SID              revoke an API key
  parley token --identity ID [--service IS…] [--ttl 1h] [--key SK…]
                                      mint an access token for a client SDK (local development)
  parley backup [--db parley.db] FILE copy a SQLite database consistently, even while parley runs on it

Flags:
`

// run is the whole program, with its dependencies passed in so that tests
// can call it: arguments, environment, output, and a context whose
// cancellation means SIGINT/SIGTERM.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[1] == "keys" {
		return runKeys(ctx, args[2:], getenv, stdout, stderr)
	}
	if len(args) > 1 && args[1] == "token" {
		return runToken(ctx, args[2:], getenv, stdout, stderr)
	}
	if len(args) > 1 && args[1] == "backup" {
		return runBackup(ctx, args[2:], getenv, stdout, stderr)
	}
	var c config
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.serveFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args[1:], getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see parley --help)", fs.Arg(0))
	}
	if c.webhookMaxAttempts < 1 || c.webhookBackoff <= 0 {
		return errors.New("--webhook-max-attempts and --webhook-backoff must be positive")
	}
	if c.maxMediaBytes < 1 {
		return errors.New("--max-media-bytes must be positive")
	}
	if c.syncRetention < time.Minute {
		return errors.New("--sync-retention must be at least 1m")
	}
	if c.webhookRetention < 0 || c.webhookRetention > 0 && c.webhookRetention < time.Minute {
		return errors.New("--webhook-retention must be at least 1m (or 0, which keeps deliveries)")
	}
	if c.rateLimits != "" && c.rateLimits != "twilio" {
		return fmt.Errorf("--rate-limits %q: the one set of limits is twilio", c.rateLimits)
	}
	log, err := newLogger(c.logLevel, c.logFormat, stderr)
	if err != nil {
		return err
	}
	return serve(ctx, c, log, stdout)
}

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	o := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("--log-format %q: text or json", format)
}

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// openStore picks the backend from the --db value: a postgres:// or
// postgresql:// URL is PostgreSQL, anything else a SQLite file path. With
// existing, a database no parley has set up is refused
// (migrate.ErrNotSetUp) rather than set up.
func openStore(ctx context.Context, db string, existing bool) (parley.Store, string, error) {
	if isPostgres(db) {
		s, err := postgres.Open(ctx, db, postgres.Options{Existing: existing})
		return s, "PostgreSQL", err
	}
	s, err := sqlite.Open(ctx, db, sqlite.Options{Existing: existing})
	return s, "SQLite", err
}

// redactDB is the --db value fit to print: a PostgreSQL URL without its
// password.
func redactDB(db string) string {
	if !isPostgres(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://…" // unparsable: print nothing of it
	}
	return u.Redacted()
}

func serve(ctx context.Context, c config, log *slog.Logger, stdout io.Writer) error {
	store, kind, err := openStore(ctx, c.db, false)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("closing the database", "err", err)
		}
	}()
	boot, err := core.Bootstrap(ctx, store, core.BootstrapOptions{AccountSid: c.accountSid, AuthToken: c.authToken})
	if err != nil {
		return err
	}
	if boot.TokenChanged {
		log.Warn("auth token replaced by --auth-token; other nodes keep the old one until they restart")
	}
	// The clock everything reads: the system's, which emulator mode may
	// move forward.
	clock := core.NewClock(c.emulator)
	dispatcher := webhook.NewDispatcher(webhook.DispatcherOptions{
		Now:         clock.Now,
		Store:       store,
		AuthToken:   boot.Account.AuthToken,
		MaxAttempts: c.webhookMaxAttempts,
		Backoff:     c.webhookBackoff,
		Logger:      log,
	})
	app := core.New(core.Options{
		Store:         store,
		Account:       boot.Account,
		PreHook:       &webhook.PreHook{AuthToken: boot.Account.AuthToken, Logger: log},
		RESTPreEvents: c.restPreWebhooks,
		Enqueued:      dispatcher.Wake,
		Clock:         clock,
		Emulator:      c.emulator,
		Logger:        log,
		Limits:        core.Limits{MediaSize: c.maxMediaBytes},
	})
	if c.seed != "" {
		if err := seed(ctx, app, c.seed, log); err != nil {
			return err
		}
	}
	handler := api.New(api.Options{App: app, PublicURL: c.publicURL, Logger: log,
		RateLimits: c.rateLimits == "twilio", NoMetrics: !c.metrics, Webhooks: dispatcher})

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	printBanner(stdout, c, kind, displayURL(c.publicURL, ln.Addr()), ln.Addr().String(), boot)

	// The dispatcher outlives the HTTP server: requests finishing during
	// shutdown may still queue webhooks, which it then sends or leaves
	// pending in the outbox for the next start.
	dispatchCtx, stopDispatch := context.WithCancel(context.WithoutCancel(ctx))
	dispatched := make(chan struct{})
	go func() { dispatcher.Run(dispatchCtx); close(dispatched) }()
	defer func() { stopDispatch(); <-dispatched }()
	// Conversation timers fire on every node; the database makes each
	// fire once.
	timersCtx, stopTimers := context.WithCancel(ctx)
	timersDone := make(chan struct{})
	go func() { app.RunTimers(timersCtx, core.TimerPoll); close(timersDone) }()
	defer func() { stopTimers(); <-timersDone }()
	// Other nodes' Sync events, on a shared PostgreSQL.
	listenCtx, stopListen := context.WithCancel(ctx)
	listenDone := make(chan struct{})
	go func() { app.RunSyncListener(listenCtx); close(listenDone) }()
	defer func() { stopListen(); <-listenDone }()
	// This node's lease, and the reaping of dead nodes' connections
	// (first before serving: on SQLite, an earlier run's users go offline).
	if err := app.StartPresence(ctx); err != nil {
		return fmt.Errorf("presence: %w", err)
	}
	presenceCtx, stopPresence := context.WithCancel(ctx)
	presenceDone := make(chan struct{})
	go func() { app.RunPresence(presenceCtx); close(presenceDone) }()
	defer func() { stopPresence(); <-presenceDone }()
	pruneCtx, stopPrune := context.WithCancel(ctx)
	pruneDone := make(chan struct{})
	go func() { app.RunDeliveryRetention(pruneCtx, c.webhookRetention); close(pruneDone) }()
	defer func() { stopPrune(); <-pruneDone }()
	trimCtx, stopTrim := context.WithCancel(ctx)
	trimDone := make(chan struct{})
	go func() { app.RunSyncTrimmer(trimCtx, c.syncRetention); close(trimDone) }()
	defer func() { stopTrim(); <-trimDone }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.shutdownGrace)
	defer cancel()
	// Client SDK connections first: told to reconnect elsewhere (close
	// 308), while new ones are refused, then the HTTP server, which does
	// not track upgraded connections.
	if err := handler.Shutdown(shutdownCtx); err != nil {
		log.Warn("client connections still open at the end of the grace period", "err", err)
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	<-errc
	return nil
}

// displayURL is the URL to print: the public URL, or the listener's address
// with an unspecified host shown as 127.0.0.1.
func displayURL(public string, addr net.Addr) string {
	if public != "" {
		return strings.TrimRight(public, "/")
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func printBanner(w io.Writer, c config, kind, base, listen string, boot core.Boot) {
	db := redactDB(c.db) // never print a password
	fmt.Fprintf(w, `parley is serving Twilio's Conversations API at %s
  listening on     %s
  database         %s (%s)
  account SID      %s
  auth token       %s
  default service  %s

Try it:
  curl -u %s:%s %s/v1/Users -d Identity=alice
  or open %s/console/ and sign in with the account SID and auth token

Point an SDK at it: see README.md. Stop with Ctrl-C.
`, base, listen, db, kind, boot.Account.Sid, boot.Account.AuthToken, boot.DefaultServiceSid,
		boot.Account.Sid, boot.Account.AuthToken, base, base)
	if c.emulator {
		fmt.Fprintf(w, `
Emulator mode is on: %s/parley/v1/Clock and the other controls in
docs/emulator.md answer to the credentials above. Never run a server
others rely on this way.
`, base)
	}
}

// seed loads a fixture file before the node serves: what is missing
// goes in, what is there stays (core.Import), so restarting with the same
// --seed changes nothing.
func seed(ctx context.Context, app *core.App, path string, log *slog.Logger) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--seed: %w", err)
	}
	defer f.Close()
	doc, err := api.DecodeFixture(f)
	if err == nil {
		var res core.ImportResult
		if res, err = app.Import(ctx, doc); err == nil {
			log.Info("seeded", "file", path, "created", res.Created, "existing", res.Existing)
			return nil
		}
	}
	if e := parley.AsError(err); e.Kind != parley.KindInternal {
		return fmt.Errorf("--seed %s: %s", path, e.Message)
	}
	return fmt.Errorf("--seed %s: %w", path, err)
}
