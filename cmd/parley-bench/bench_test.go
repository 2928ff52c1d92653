package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/pgtest"
)

// TestMain lets the test binary serve as the baseline server, which
// parley-bench starts by re-invoking itself (os.Executable) with the
// baseline-server subcommand, so that the modes can be tested with their
// baseline.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == baselineCommand {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := serveBaseline(ctx, os.Args[2:], os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestPercentile(t *testing.T) {
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{7}, 50, 7},
		{[]time.Duration{7}, 99, 7},
		{[]time.Duration{1, 2}, 50, 1},
		{[]time.Duration{1, 2, 3}, 50, 2},
		{[]time.Duration{1, 2, 3, 4}, 50, 2},
		{[]time.Duration{1, 2, 3, 4}, 100, 4},
		{hundred, 50, 50 * time.Millisecond},
		{hundred, 99, 99 * time.Millisecond},
		{hundred, 99.9, 100 * time.Millisecond},
		{hundred, 1, time.Millisecond},
		{hundred, 0.001, time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.samples, tt.p); got != tt.want {
			t.Errorf("percentile(%d samples, %v) = %v, want %v", len(tt.samples), tt.p, got, tt.want)
		}
	}
}

func TestMedian(t *testing.T) {
	in := []float64{5, 1, 3}
	if got := median(in); got != 3 {
		t.Errorf("median(5,1,3) = %v, want 3", got)
	}
	if !slices.Equal(in, []float64{5, 1, 3}) {
		t.Errorf("median reordered its input: %v", in)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median(4,1,3,2) = %v, want 2.5", got)
	}
	if got := medianKnown([]float64{-1, -1}); got != -1 {
		t.Errorf("medianKnown(unknowns) = %v, want -1", got)
	}
	if got := medianKnown([]float64{-1, 2, 4}); got != 3 {
		t.Errorf("medianKnown(-1,2,4) = %v, want 3", got)
	}
}

func TestSummarize(t *testing.T) {
	run := func(count int, baseline float64, lat ...time.Duration) opRun {
		return opRun{Op: "fetch_sid", Count: count, Elapsed: time.Second, Latencies: lat,
			Baseline: baseline, ServerCPU: -1, ClientCPU: time.Second / 2, MachineCPU: -1}
	}
	s := summarize([]opRun{
		run(100, 400, 3, 1, 2),
		run(300, 400, 5, 4, 6),
		run(200, 1000, 9, 8, 7),
	})
	if s.OpsPerSec != 200 || s.Requests != 600 {
		t.Errorf("ops/s, requests = %v, %v; want 200, 600", s.OpsPerSec, s.Requests)
	}
	// Per-run ratios 0.25, 0.75, 0.2: the median is 0.25, not 200/400.
	if s.Ratio != 0.25 {
		t.Errorf("ratio = %v, want 0.25", s.Ratio)
	}
	// Per-run p50s 2ns, 5ns, 8ns.
	if want := ms(5); s.P50Ms != want {
		t.Errorf("p50 = %v, want %v", s.P50Ms, want)
	}
	if s.ServerCPU != -1 || s.ClientCPU != 0.5 || s.OtherCPU != -1 {
		t.Errorf("CPU server, client, other = %v, %v, %v; want -1, 0.5, -1", s.ServerCPU, s.ClientCPU, s.OtherCPU)
	}
}

func TestParseBanner(t *testing.T) {
	tests := []struct {
		line string
		want string
		ok   bool
	}{
		{"parley is serving Twilio's Conversations API at http://127.0.0.1:43121", "http://127.0.0.1:43121", true},
		{"parley is serving Twilio's Conversations API at http://127.0.0.1:8080/\r", "http://127.0.0.1:8080", true},
		{"parley is serving Twilio's Conversations API at https://chat.example.com", "https://chat.example.com", true},
		{"  database         /tmp/x.db (SQLite)", "", false},
		{"parley is serving Twilio's Conversations API at ", "", false},
		{"parley is serving Twilio's Conversations API at 127.0.0.1:8080", "", false},
		{"time=… level=INFO msg=started", "", false},
	}
	for _, tt := range tests {
		got, ok := parseBanner(tt.line)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseBanner(%q) = %q, %v; want %q, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
	if got, ok := parseBaselineBanner("baseline serving at http://127.0.0.1:1234"); !ok || got != "http://127.0.0.1:1234" {
		t.Errorf("parseBaselineBanner = %q, %v", got, ok)
	}
}

func TestParseProc(t *testing.T) {
	// A command name with spaces and parentheses; utime 250, stime 50 ticks.
	stat := []byte("4242 (par ley) (x)) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 50 0 0 20 0 9 0 100 1000000 2000 ...")
	if got, ok := parseStatCPU(stat); !ok || got != 3*time.Second {
		t.Errorf("parseStatCPU = %v, %v; want 3s, true", got, ok)
	}
	if _, ok := parseStatCPU([]byte("garbage")); ok {
		t.Error("parseStatCPU(garbage) ok")
	}
	procStat := []byte("cpu  100 10 40 5000 70 3 2 5 0 0\ncpu0 50 5 20 2500 35 1 1 2 0 0\n")
	// user+nice+system+irq+softirq+steal = 100+10+40+3+2+5 = 160 ticks.
	if got, ok := parseProcStat(procStat); !ok || got != 1600*time.Millisecond {
		t.Errorf("parseProcStat = %v, %v; want 1.6s, true", got, ok)
	}
	if got := parseKB("   123456 kB"); got != 123456*1024 {
		t.Errorf("parseKB = %d", got)
	}
}

func TestExtractSID(t *testing.T) {
	sid := "US0123456789abcdef0123456789abcdef"
	body := `{"sid":"` + sid + `","account_sid":"AC0123456789abcdef0123456789abcdef","attributes":"{\"sid\":\"x\"}"}`
	got, ok := extractSID([]byte(body))
	if !ok || string(got[:]) != sid {
		t.Errorf("extractSID = %q, %v", got, ok)
	}
	for _, bad := range []string{
		`{"account_sid":"AC0123456789abcdef0123456789abcdef"}`,
		`{"sid":"US0123"}`,
		`{"sid":"CH0123456789abcdef0123456789abcdef"}`,
	} {
		if _, ok := extractSID([]byte(bad)); ok {
			t.Errorf("extractSID(%s) ok", bad)
		}
	}
}

func TestUserData(t *testing.T) {
	p := newPool()
	seen := map[string]bool{}
	at := 0
	for i := range 1000 {
		id := p.identity(i)
		if seen[id] {
			t.Fatalf("identity %d repeats %q", i, id)
		}
		seen[id] = true
		if strings.Contains(id, "@") {
			at++
		}
		// The path segment must come back as the identity.
		if got, err := url.PathUnescape(url.PathEscape(id)); err != nil || got != id {
			t.Errorf("identity %q does not survive the path: %q, %v", id, got, err)
		}
	}
	if at == 0 {
		t.Error("no identity holds '@'")
	}
	for i := range 50 {
		a := attributes(i, i%3)
		if !json.Valid([]byte(a)) {
			t.Errorf("attributes(%d) is not JSON: %s", i, a)
		}
		if len(a) < 90 || len(a) > 130 {
			t.Errorf("attributes(%d) is %d bytes, want about 100: %s", i, len(a), a)
		}
	}
	if friendlyName(3, 0) == friendlyName(3, 1) {
		t.Error("an update would not change the friendly name")
	}
}

func TestParseCountsAndOps(t *testing.T) {
	got, err := parseCounts("100000, 1000,1_000_000,1000")
	if err != nil || !slices.Equal(got, []int{1000, 100000, 1000000}) {
		t.Errorf("parseCounts = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "ten", "1e6"} {
		if _, err := parseCounts(bad); err == nil {
			t.Errorf("parseCounts(%q) accepted", bad)
		}
	}
	ops, err := parseOps("create,fetch_sid,baseline")
	if err != nil || !slices.Equal(ops, []string{"baseline", "fetch_sid", "create"}) {
		t.Errorf("parseOps = %v, %v", ops, err)
	}
	if _, err := parseOps("fetch"); err == nil {
		t.Error("parseOps(fetch) accepted")
	}
}

func TestCommas(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -5000: "-5,000"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestWebhookMode runs parley-bench --webhooks with small counts, on SQLite
// and (with PARLEY_TEST_POSTGRES) on a fresh PostgreSQL schema, so that the
// mode keeps working. It checks what the run must get right whatever the
// machine: every delivery arrives once, never more than parley's per-host
// limit at a time, and every sample is taken. The figures themselves are
// the benchmark's business, not this test's.
func TestWebhookMode(t *testing.T) {
	modeOnEachBackend(t, []string{"--webhooks", "--concurrency", "8",
		"--webhook-deliveries", "300", "--webhook-queued", "200", "--webhook-samples", "4"},
		func(t *testing.T, rep report, stdout string) {
			w := rep.Webhooks
			if w == nil {
				t.Fatalf("no webhook figures in %s", stdout)
			}
			if w.Deliveries != 300 || w.DuringFill+w.Drained != 300 || w.Duplicates != 0 || w.CreateErrors != 0 {
				t.Errorf("deliveries %d: %d during the fill + %d after, %d duplicates, %d create errors; want 300 = both, 0, 0",
					w.Deliveries, w.DuringFill, w.Drained, w.Duplicates, w.CreateErrors)
			}
			// parley's default per-host limit, reached while the receiver
			// held its first requests, and never passed.
			if w.PeakInFlight != 4 {
				t.Errorf("peak in flight %d, want 4", w.PeakInFlight)
			}
			if w.Drained > 0 && (w.PerSec <= 0 || w.DrainSeconds <= 0) {
				t.Errorf("%d drained in %vs: %v/s", w.Drained, w.DrainSeconds, w.PerSec)
			}
			if w.Queued != 200 || w.Samples != 4 || w.SlowReceived < 4 {
				t.Errorf("slow host: %d queued, %d requests; %d samples", w.Queued, w.SlowReceived, w.Samples)
			}
			for name, d := range map[string]delays{"baseline": w.Baseline, "slow": w.Loaded, "slow and dead": w.LoadedDead} {
				if d.P50Ms < 0 || d.P99Ms < d.P50Ms || d.MaxMs < d.P99Ms {
					t.Errorf("%s delays %+v", name, d)
				}
			}
			table := new(bytes.Buffer)
			writeTable(table, &rep)
			for _, want := range []string{"throughput to one receiver", "at most 4 requests in flight",
				"nothing else queued (baseline)", "200 queued for a host that never answers", "refuses connections"} {
				if !strings.Contains(table.String(), want) {
					t.Errorf("the table lacks %q:\n%s", want, table)
				}
			}
		})
}

// TestCompareMode runs --compare briefly, the same binary on both sides,
// so that it keeps working: every operation measured on both, no errors.
func TestCompareMode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs parley")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := buildParley(ctx, t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// Every operation but the baseline, whose server is this binary
	// re-invoked, which a test binary cannot be.
	ops := slices.DeleteFunc(slices.Clone(allOps), func(op string) bool { return op == "baseline" })
	args := []string{"parley-bench", "--compare", bin, "--parley-bin", bin, "--json", "--users", "60",
		"--concurrency", "4", "--duration", "200ms", "--warmup", "50ms", "--runs", "2", "--ops", strings.Join(ops, ",")}
	rep, stdout := runJSON(t, ctx, args)
	if rep.Compare == nil || len(rep.Compare.Sizes) != 1 || rep.Compare.Sizes[0].Users != 60 {
		t.Fatalf("compare report: %s", stdout)
	}
	s := rep.Compare.Sizes[0]
	if len(s.Old) != len(ops) || len(s.New) != len(ops) {
		t.Fatalf("%d old and %d new operations, want %d each", len(s.Old), len(s.New), len(ops))
	}
	for i, o := range s.Old {
		n := s.New[i]
		if o.Op != n.Op || o.OpsPerSec <= 0 || n.OpsPerSec <= 0 || o.Errors+n.Errors != 0 || len(o.RunsOps) != 2 {
			t.Errorf("%s: old %.0f ops/s (%d errors, %d runs), new %s %.0f ops/s (%d errors)",
				o.Op, o.OpsPerSec, o.Errors, len(o.RunsOps), n.Op, n.OpsPerSec, n.Errors)
		}
	}
	var table bytes.Buffer
	writeTable(&table, &rep)
	if !strings.Contains(table.String(), "new/old") {
		t.Fatalf("table:\n%s", table.String())
	}
}

func TestBodyFlag(t *testing.T) {
	f := bodyFlag{}
	for _, v := range []string{"/message=/tmp/a=b.json", "/page=/tmp/page.json"} {
		if err := f.Set(v); err != nil {
			t.Errorf("Set(%q): %v", v, err)
		}
	}
	if f["/message"] != "/tmp/a=b.json" || f["/page"] != "/tmp/page.json" || len(f) != 2 {
		t.Errorf("bodies %v", f)
	}
	for _, bad := range []string{"/tmp/x.json", "message=/tmp/x.json", "/message="} {
		if err := f.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

// TestMessageMode runs parley-bench --messages with small counts, on SQLite
// and (with PARLEY_TEST_POSTGRES) on a fresh PostgreSQL schema, so that the
// mode keeps working: every fill item created, the big conversation walked
// to its end, every operation measured at both client counts with its
// baseline and without an error, every target evaluated.
func TestMessageMode(t *testing.T) {
	modeOnEachBackend(t, []string{"--messages", "--concurrency", "4",
		"--messages-big", "300", "--messages-conversations", "20", "--duration", "200ms", "--warmup", "50ms"},
		func(t *testing.T, rep report, stdout string) {
			m := rep.Messages
			if m == nil {
				t.Fatalf("no message figures in %s", stdout)
			}
			if fc, fm := m.FillConversations, m.FillMessages; fc.Created != 20 || fc.Errors != 0 || fm.Created != 300 || fm.Errors != 0 {
				t.Errorf("fills: %d conversations (%d errors), %d messages (%d errors); want 20, 300 and none",
					fc.Created, fc.Errors, fm.Created, fm.Errors)
			}
			// 300 messages are 6 full pages of 50: the end page is the 6th.
			if m.Walk.Items != 300 || m.Walk.Pages != 6 || m.EndPage != 5 {
				t.Errorf("walk: %d messages on %d pages, end page %d; want 300, 6, 5", m.Walk.Items, m.Walk.Pages, m.EndPage)
			}
			if len(m.BaselineBodies) != 3 {
				t.Errorf("baseline bodies %+v", m.BaselineBodies)
			}
			for _, b := range m.BaselineBodies {
				if b.Bytes < 500 {
					t.Errorf("baseline body %s: %d bytes", b.Path, b.Bytes)
				}
			}
			if len(m.Passes) != 2 || m.Passes[0].Clients != 4 || m.Passes[1].Clients != 1 {
				t.Fatalf("passes %+v, want at 4 clients and at 1", m.Passes)
			}
			for i, want := range [][]string{append(slices.Clone(messageReads), messageCreates...), messageReads} {
				p := m.Passes[i]
				var got []string
				for _, o := range p.Ops {
					got = append(got, o.Op)
					if o.OpsPerSec <= 0 || o.P50Ms <= 0 || o.P99Ms < o.P50Ms || o.Ratio <= 0 || o.Errors != 0 {
						t.Errorf("%d clients, %s: %.0f ops/s, p50 %v ms, p99 %v ms, ratio %v, %d errors (%s)",
							p.Clients, o.Op, o.OpsPerSec, o.P50Ms, o.P99Ms, o.Ratio, o.Errors, o.FirstError)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%d clients: operations %v, want %v", p.Clients, got, want)
				}
			}
			// Whether they are met is the benchmark's business; that
			// each is evaluated is this test's.
			if len(m.Targets) != 7 {
				t.Errorf("%d targets, want 7: %+v", len(m.Targets), m.Targets)
			}
			table := new(bytes.Buffer)
			writeTable(table, &rep)
			for _, want := range []string{"4 concurrent clients", "one client", "create_spread", "page_end_desc",
				"user_conversations", "Page=5", "targets", "one hot conversation"} {
				if !strings.Contains(table.String(), want) {
					t.Errorf("the table lacks %q:\n%s", want, table)
				}
			}
		})
}

// modeOnEachBackend builds parley once and runs parley-bench with args
// (and --json) on SQLite, then on a fresh PostgreSQL schema (with
// PARLEY_TEST_POSTGRES), one after the other and with small counts (the
// rest of the suite runs beside this, some of it timed), handing each
// report to check.
func modeOnEachBackend(t *testing.T, args []string, check func(t *testing.T, rep report, stdout string)) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs parley")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := buildParley(ctx, t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			args := append(append([]string{"parley-bench"}, args...), "--json", "--parley-bin", bin)
			if backend == "postgres" {
				args = append(args, "--db", pgtest.DSN(t))
			}
			rep, stdout := runJSON(t, ctx, args)
			check(t, rep, stdout)
		})
	}
}

// runJSON runs parley-bench with args (which include --json) and decodes
// its report; stdout is returned for failure messages.
func runJSON(t *testing.T, ctx context.Context, args []string) (report, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args[:2], " "), err, stderr.String())
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout.String())
	}
	return rep, stdout.String()
}
