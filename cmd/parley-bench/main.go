// Command parley-bench measures parley the way its users meet it: over real
// HTTP on loopback, with many concurrent clients, against a database holding
// a realistic number of users.
//
//	go run ./cmd/parley-bench                        # 1,000, 100,000 and 1,000,000 users, SQLite
//	go run ./cmd/parley-bench --users 1000,100000 --runs 3
//	go run ./cmd/parley-bench --db 'postgres://…'    # PostgreSQL; a fresh schema is the DSN's business
//	go run ./cmd/parley-bench --target http://127.0.0.1:8080 --account-sid AC… --auth-token …
//	go run ./cmd/parley-bench --webhooks             # the webhook dispatcher instead (--db works too)
//	go run ./cmd/parley-bench --messages             # messages instead: creates, a big conversation's pages, a user's conversations
//	go run ./cmd/parley-bench --clients              # client SDK connections instead: logins, memory, delivery latency
//	go run ./cmd/parley-bench --compare /tmp/old/parley   # this build and an older one, in turns
//
// It builds ./cmd/parley (or takes --parley-bin) and, for each user count,
// runs it as a child process on a fresh SQLite file, fills that with the
// count of users through the real API (POST /v1/Users, about 100 bytes of
// attributes each), then runs each operation for --duration with
// --concurrency clients sharing one keep-alive http.Client: fetch by SID,
// fetch by identity (half of them email addresses), a page of 50 at the
// start, middle and end of the user list (PageTokens found by walking
// next_page_url once), update, and create. A fresh database per count means
// each count is measured on exactly that many users, by a server whose peak
// RSS (VmHWM) is its own. With --db or --target the database is the
// caller's, so one database grows through the counts instead. Because the
// server is a separate process, its memory and CPU time are not mixed with
// the load client's; the CPU the rest of the machine used meanwhile is
// reported too. After the largest count it restarts the server on the same
// database and times process start to the first 200 from /healthz.
//
// The baseline exists because absolute numbers from a shared 2-core machine
// mean little: the load client, the kernel's loopback and the neighbours all
// take their share. So the same run also measures a bare net/http handler,
// in a child process of its own (this binary re-invoked as
// `parley-bench baseline-server`), answering every request with a fixed user
// body of the same size fetched from parley, hit by the same client at the
// same concurrency right next to the fetch measurements. The ratio of an
// operation's throughput to the baseline's is what parley itself costs on
// top of HTTP on this machine, and it is far steadier than either number.
//
// Latencies are exact percentiles of every request's latency (sorted
// samples), measured after a short warm-up. Any response that is not 2xx is
// an error: counted, its first example printed, never folded into the
// figures.
//
// With --webhooks it measures the post-event webhook dispatcher instead, on
// one fresh database (SQLite in a temp dir, or --db), with receivers in this
// process on loopback (see webhooks.go): deliveries per second to one
// receiver that answers at once, with the most requests it saw in flight
// (parley's per-host limit); and the delay from a user create's 201 to its
// webhook's arrival at a healthy receiver, p50 and p99 over
// --webhook-samples creates, with --webhook-queued deliveries queued for a
// receiver that never answers, next to the same figure with nothing queued
// (the same-run baseline), and with as many again queued for an address
// that refuses connections. Every create sends X-Twilio-Webhook-Enabled:
// true, so it queues one onUserAdded delivery. Give --db a fresh database
// or schema: the deliveries an earlier run left pending, for receivers
// long gone, would be retried beside the measurement.
//
// With --messages it measures messages instead, on one database (SQLite in
// a temp dir, or --db; see messages.go): message creates (durable) by
// --concurrency clients spread over --messages-conversations conversations
// picked at random, and into one hot conversation; a page of 50 at the
// start and at the end of a conversation of --messages-big messages (the
// last page by its PageToken, and Order=desc's first), at --concurrency
// clients and at one; and the first page of a user's conversations, the
// user being in all of them. Each is next to a same-run baseline answering
// a body of its size. The fill goes through the API like the preload
// (about 4 minutes for a million messages on SQLite), and the figures are
// checked against their targets at the end of the table.
//
// With --clients it measures client SDK connections instead (see
// clients.go), with a light Go twilsock client in this process standing
// in for @twilio/conversations: --clients-n clients sign in for the first
// time, --clients-concurrency at a time, each doing what the SDK does at
// startup up to its subscriptions being established (logins per second,
// the server's CPU); held open for --duration (the server's peak RSS with
// them all open); then, with them still open, the delivery latency of
// messages POSTed over REST to a conversation whose participants are
// online, from the 201 (and from the send) to the list_item_added on each
// participant's socket: 4 participants at one message per 50 ms (low
// load), and --clients-participants at --clients-rate messages per second
// (fan-out), each for --duration after --warmup. With a PostgreSQL --db
// both latency phases run again on two nodes (a second parley on the same
// database, participants split between them, each message POSTed to the
// node half of them are not on). Every login and every delivery is
// checked; failures are counted, never folded into the figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout, os.Stderr); err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "parley-bench: interrupted")
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "parley-bench:", err)
		os.Exit(1)
	}
}

// Fixed credentials for the server parley-bench starts itself.
const (
	benchAccountSid = "ACbe4c00000000000000000000000000be"
	benchAuthToken  = "parleybench0000000000000000000000"
)

// config is everything the flags set.
type config struct {
	users       []int
	concurrency int
	preloadConc int
	duration    time.Duration
	warmup      time.Duration
	runs        int
	ops         []string
	db          string
	parleyBin   string
	target      string
	accountSid  string
	authToken   string
	json        bool
	keep        bool
	compare     string // another parley binary to measure in turns with this one

	webhooks          bool
	webhookDeliveries int
	webhookQueued     int
	webhookSamples    int

	messages              bool
	messagesBig           int
	messagesConversations int

	clients             bool
	clientsN            int
	clientsConcurrency  int
	clientsRate         float64
	clientsParticipants int
}

const usage = `parley-bench measures parley over real HTTP on loopback.

Usage:
  parley-bench [flags]                  start parley on a fresh database and measure it
  parley-bench --target URL --account-sid AC… --auth-token …
                                        measure a parley that is already running
  parley-bench --compare OLD-BINARY    measure this parley and another binary in turns,
                                        side by side (a regression check)
  parley-bench --webhooks [--db …]      measure webhook delivery: throughput to one
                                        fast receiver, and a healthy receiver's delay
                                        with a slow receiver's queue full
  parley-bench --messages [--db …]      measure messages: creates spread and into one
                                        conversation, pages at the start and end of a
                                        big conversation, a user's conversations
  parley-bench --clients [--db …]       measure client SDK connections: logins per second and
                                        memory of many, delivery latency to a conversation's
                                        online participants (on two nodes too with PostgreSQL)

Flags:
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 1 && args[1] == baselineCommand {
		return serveBaseline(ctx, args[2:], stdout, stderr)
	}
	c, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}

	tmp, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return err
	}
	if c.keep {
		defer fmt.Fprintf(stderr, "kept %s (server logs and database)\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	b := &bench{cfg: c, tmp: tmp, log: stderr, pool: newPool()}
	defer b.close()
	var rep *report
	switch {
	case c.webhooks:
		rep, err = b.webhooks(ctx)
	case c.messages:
		rep, err = b.messages(ctx)
	case c.clients:
		rep, err = b.clientsMode(ctx)
	case c.compare != "":
		rep, err = b.compare(ctx)
	default:
		rep, err = b.run(ctx)
	}
	if err != nil {
		return err
	}
	rep.Command = strings.Join(append([]string{"parley-bench"}, args[1:]...), " ")
	if c.json {
		return writeJSON(stdout, rep)
	}
	writeTable(stdout, rep)
	return nil
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("parley-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	users := fs.String("users", "1000,100000,1000000",
		"user counts to measure at, comma-separated, each on a fresh database (with --db or --target, one database grows through them)")
	ops := fs.String("ops", strings.Join(allOps, ","), "operations to measure, comma-separated")
	fs.IntVar(&c.concurrency, "concurrency", 64, "concurrent clients")
	fs.IntVar(&c.preloadConc, "preload-concurrency", 0, "concurrent clients while preloading (default: --concurrency), so that latency at low --concurrency can be measured on a large database without a slow preload")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "how long each operation is measured")
	fs.DurationVar(&c.warmup, "warmup", 500*time.Millisecond, "unmeasured load before each operation's measurement")
	fs.IntVar(&c.runs, "runs", 1, "repeat the operations this many times per user count and report medians")
	fs.StringVar(&c.db, "db", "", "database for the started server: a SQLite path or a postgres:// DSN (default: a SQLite file in a temp dir)")
	fs.StringVar(&c.parleyBin, "parley-bin", "", "run this parley binary instead of building ./cmd/parley")
	fs.StringVar(&c.target, "target", "", "measure the parley already serving at this URL (no server RSS, server CPU or restart figures)")
	fs.StringVar(&c.accountSid, "account-sid", "", "account SID (default: a fixed one for the started server; required with --target)")
	fs.StringVar(&c.authToken, "auth-token", "", "auth token (default: a fixed one for the started server; required with --target)")
	fs.BoolVar(&c.json, "json", false, "print the results as JSON instead of a table")
	fs.BoolVar(&c.keep, "keep", false, "keep the temp dir (database, server logs)")
	fs.StringVar(&c.compare, "compare", "", "another parley binary (an older build, say) to measure in turns with this one, each on fresh SQLite files, and report both side by side")
	fs.BoolVar(&c.webhooks, "webhooks", false, "measure the webhook dispatcher instead of the REST operations (--users, --ops, --runs, --duration do not apply)")
	fs.IntVar(&c.webhookDeliveries, "webhook-deliveries", 10000, "with --webhooks: deliveries to the fast receiver for the throughput figure")
	fs.IntVar(&c.webhookQueued, "webhook-queued", 10000, "with --webhooks: deliveries queued for the receiver that never answers, and as many again for an address that refuses connections")
	fs.IntVar(&c.webhookSamples, "webhook-samples", 40, "with --webhooks: creates timed to the healthy receiver, with and without the slow queue")
	fs.BoolVar(&c.messages, "messages", false, "measure messages instead of the REST operations on users (--users and --ops do not apply)")
	fs.IntVar(&c.messagesBig, "messages-big", 1000000, "with --messages: messages in the big conversation, whose first and last pages are measured and which takes the hot creates")
	fs.IntVar(&c.messagesConversations, "messages-conversations", 1000, "with --messages: conversations the spread creates pick from, one user a participant of each, whose list of them is measured (at most 1000, parley's limit of open conversations per identity)")
	fs.BoolVar(&c.clients, "clients", false, "measure client SDK connections (twilsock) instead of the REST operations: logins, memory, delivery latency (--users, --ops, --runs do not apply; --duration is the hold and each latency phase)")
	fs.IntVar(&c.clientsN, "clients-n", 10000, "with --clients: client connections opened and held on one node")
	fs.IntVar(&c.clientsConcurrency, "clients-concurrency", 128, "with --clients: clients signing in at once while connecting")
	fs.Float64Var(&c.clientsRate, "clients-rate", 100, "with --clients: messages per second POSTed in the fan-out phase")
	fs.IntVar(&c.clientsParticipants, "clients-participants", 100, "with --clients: online participants of the fan-out conversation")
	if err := fs.Parse(args[1:]); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q (see parley-bench --help)", fs.Arg(0))
	}
	var err error
	if c.users, err = parseCounts(*users); err != nil {
		return c, fmt.Errorf("--users: %w", err)
	}
	if c.ops, err = parseOps(*ops); err != nil {
		return c, fmt.Errorf("--ops: %w", err)
	}
	switch {
	case c.concurrency < 1:
		return c, errors.New("--concurrency must be at least 1")
	case c.duration <= 0:
		return c, errors.New("--duration must be positive")
	case c.warmup < 0:
		return c, errors.New("--warmup must not be negative")
	case c.runs < 1:
		return c, errors.New("--runs must be at least 1")
	case c.preloadConc < 0:
		return c, errors.New("--preload-concurrency must not be negative")
	case c.webhooks && (c.webhookDeliveries < 1 || c.webhookQueued < 0 || c.webhookSamples < 1):
		return c, errors.New("--webhook-deliveries and --webhook-samples must be at least 1, --webhook-queued not negative")
	case c.webhooks && c.messages, c.clients && (c.webhooks || c.messages):
		return c, errors.New("--webhooks, --messages and --clients are modes of their own: one at a time")
	case c.clients && (c.clientsN < 1 || c.clientsConcurrency < 1 || c.clientsParticipants < 2):
		return c, errors.New("--clients-n and --clients-concurrency must be at least 1, --clients-participants at least 2")
	case c.clients && (c.clientsRate <= 0 || c.clientsRate > 10000):
		return c, errors.New("--clients-rate must be more than 0 and at most 10000 messages/s")
	case c.clients && c.target != "":
		return c, errors.New("--clients starts parley itself (it makes an API key on the database): --target does not apply")
	case c.messages && c.messagesBig < 100:
		return c, errors.New("--messages-big must be at least 100, so that the start and the end page differ")
	case c.messages && (c.messagesConversations < 1 || c.messagesConversations > 1000):
		// core.MaxOpenConversations: a participant beyond it is 403 50214.
		return c, errors.New("--messages-conversations must be from 1 to 1000, parley's limit of open conversations per identity")
	}
	if c.preloadConc == 0 {
		c.preloadConc = c.concurrency
	}
	if c.target != "" {
		if c.accountSid == "" || c.authToken == "" {
			return c, errors.New("--target needs --account-sid and --auth-token")
		}
		if c.db != "" || c.parleyBin != "" {
			return c, errors.New("--target drives a running server: --db and --parley-bin do not apply")
		}
		c.target = strings.TrimRight(c.target, "/")
	} else {
		if c.accountSid == "" {
			c.accountSid = benchAccountSid
		}
		if c.authToken == "" {
			c.authToken = benchAuthToken
		}
	}
	if c.parleyBin != "" {
		if c.parleyBin, err = filepath.Abs(c.parleyBin); err != nil {
			return c, err
		}
	}
	if c.compare != "" {
		if c.target != "" || c.db != "" || c.webhooks || c.messages || c.clients {
			return c, errors.New("--compare starts both binaries on fresh SQLite files: --target, --db, --webhooks, --messages and --clients do not apply")
		}
		if c.compare, err = filepath.Abs(c.compare); err != nil {
			return c, err
		}
	}
	return c, nil
}

// parseCounts reads a comma list of positive counts ("1000,100_000"),
// allowing _ as a digit separator, and sorts them ascending.
func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.ReplaceAll(strings.TrimSpace(f), "_", "")
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no counts given")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func parseOps(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(allOps, f) {
			return nil, fmt.Errorf("unknown operation %q (known: %s)", f, strings.Join(allOps, ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no operations given")
	}
	// Measure in the canonical order whatever order they were given in:
	// the baseline next to the fetches, and create last so that the other
	// operations see exactly the preloaded count.
	slices.SortFunc(out, func(a, b string) int { return slices.Index(allOps, a) - slices.Index(allOps, b) })
	return out, nil
}
