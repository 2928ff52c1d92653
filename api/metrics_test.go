package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/webhook"
)

// TestMetrics: /metrics (no credentials) counts requests by route
// pattern, method and status, with their latency, and the client
// connections subscribed; the series move with what the node does.
func TestMetrics(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := rawClient{t: t, srv: srv}
	scrape := func() string { t.Helper(); return scrapeMetrics(t, srv) }
	has := func(text string, lines ...string) {
		t.Helper()
		for _, l := range lines {
			if !strings.Contains(text, "\n"+l+"\n") {
				t.Errorf("no %q in:\n%s", l, grepParley(text))
			}
		}
	}
	has(scrape(), "parley_client_connections 0", "parley_client_subscribed_objects 0")
	alice := c.must("POST", "/v1/Users", "Identity=alice", 201)["sid"].(string)
	c.must("GET", "/v1/Users/nobody", "", 404)
	c.must("GET", "/v1/Users/nobody", "", 404)
	c.must("GET", "/no/such/path", "", 404)
	ws := parleytest.DialClient(t, srv, "alice")
	ws.Subscribe(1, nil, map[string]string{alice + ".info": "map"})
	has(scrape(),
		`parley_http_requests_total{method="POST",route="POST /v1/Users",status="201"} 1`,
		`parley_http_requests_total{method="GET",route="GET /v1/Users/{Sid}",status="404"} 2`,
		`parley_http_requests_total{method="GET",route="other",status="404"} 1`,
		`parley_http_request_duration_seconds_count{method="POST",route="POST /v1/Users"} 1`,
		"parley_client_connections 1",
		"parley_client_subscribed_objects 1")
	if text := scrape(); !strings.Contains(text, "go_goroutines ") || !strings.Contains(text, "process_resident_memory_bytes ") {
		t.Errorf("no Go or process series")
	}
}

func grepParley(text string) string {
	var out []string
	for l := range strings.Lines(text) {
		if strings.HasPrefix(l, "parley_") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return strings.Join(out, "\n")
}

// TestMetricsOff: with metrics off, /metrics is Twilio's 404 for an
// unknown path.
func TestMetricsOff(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	h := api.New(api.Options{App: srv.App, NoMetrics: true})
	req, _ := http.NewRequest("GET", "/metrics", nil)
	req.SetBasicAuth(srv.AccountSid, srv.AuthToken)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 404 || w.Body.String() != notFoundBody("/metrics") {
		t.Fatalf("/metrics off: %d %s", w.Code, w.Body.String())
	}
}

// scrapeMetrics reads srv's /metrics.
func scrapeMetrics(t *testing.T, srv *parleytest.Server) string {
	t.Helper()
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("/metrics: %d %s", res.StatusCode, b)
	}
	return string(b)
}

// sample is the value of series (name and labels, as exposed) in text;
// ok is false when it is absent.
func sample(text, series string) (v float64, ok bool) {
	for l := range strings.Lines(text) {
		if rest, found := strings.CutPrefix(l, series+" "); found {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// TestMetricsBackground: the series of what runs beside the requests
// move by exactly what the test makes happen: the webhook outbox's depth
// and attempts (a receiver that fails once), the fan-out to a client's
// socket, conversation timers due and fired (on a clock the test moves,
// with the timer loop asleep), the database pools and, on SQLite, the
// writes per commit.
func TestMetricsBackground(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64 // the app's clock is the system's plus this
	srv := parleytest.NewWith(t, parleytest.Options{
		Core: core.Options{Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }},
		// The loop sleeps an hour: the test fires timers itself.
		TimerPoll: time.Hour,
		Webhooks:  webhook.DispatcherOptions{Backoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
	})
	c := rawClient{t: t, srv: srv}
	postgres := os.Getenv("PARLEY_TEST_BACKEND") == "postgres"
	var lines []string
	wants := func(text string, want map[string]float64) {
		t.Helper()
		for series, w := range want {
			got, ok := sample(text, series)
			if !ok || got != w {
				lines = append(lines, fmt.Sprintf("%s = %v (present %v), want %v", series, got, ok, w))
			}
		}
		if len(lines) > 0 {
			t.Fatalf("%s\nin:\n%s", strings.Join(lines, "\n"), grepParley(text))
		}
	}
	// eventually scrapes until series reaches want (what is measured
	// after the socket write may land just after the client read it).
	eventually := func(series string, want float64) string {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			text := scrapeMetrics(t, srv)
			if got, _ := sample(text, series); got == want || time.Now().After(deadline) {
				return text
			}
		}
	}

	text := scrapeMetrics(t, srv)
	wants(text, map[string]float64{
		"parley_webhook_outbox_pending":                            0,
		"parley_conversation_timers_due":                           0,
		`parley_conversation_timers_fired_total{state="inactive"}`: 0,
		`parley_conversation_timers_fired_total{state="closed"}`:   0,
		"parley_client_event_fanout_seconds_count":                 0,
	})
	if postgres {
		wants(text, map[string]float64{`parley_db_connections_max{pool="pool"}`: 4})
		if strings.Contains(text, "parley_db_writes_per_commit") {
			t.Fatal("writes per commit on PostgreSQL")
		}
	} else {
		wants(text, map[string]float64{
			`parley_db_connections_max{pool="write"}`:            1,
			`parley_db_connections{pool="write",state="in_use"}`: 1,
			`parley_db_connections{pool="write",state="idle"}`:   0,
			`parley_db_connections_max{pool="read"}`:             float64(max(2, runtime.GOMAXPROCS(0))),
			`parley_db_connection_waits_total{pool="write"}`:     0,
		})
	}
	for _, s := range []string{"parley_webhook_attempts_total", "parley_webhook_failures_total"} {
		if strings.Contains(text, s) {
			t.Fatalf("%s before any webhook", s)
		}
	}

	// A client subscribed to a conversation's messages; a receiver that
	// holds the first attempt until released, answers it 500, then 200.
	c.must("POST", "/v1/Users", "Identity=alice", 201)
	ch := c.must("POST", "/v1/Conversations", "UniqueName=room", 201)["sid"].(string)
	c.must("POST", "/v1/Conversations/room/Participants", "Identity=alice", 201)
	alice := parleytest.DialClient(t, srv, "alice")
	msgs := ch + ".messages"
	alice.Subscribe(1, map[string]int64{msgs: 0}, map[string]string{msgs: "list"})
	var attempts atomic.Int32
	release := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) == 1 {
			<-release
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(recv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	c.must("POST", "/v1/Configuration/Webhooks", "Filters=onMessageAdded&PostWebhookUrl="+recv.URL, 200)
	if r := c.send("POST", "/v1/Conversations/room/Messages", "application/x-www-form-urlencoded", "Author=system&Body=hi",
		map[string]string{"X-Twilio-Webhook-Enabled": "true"}); r.status != 201 {
		t.Fatalf("message: %d %s", r.status, r.raw)
	}
	if n := alice.Next(); n["event_type"] != "list_item_added" {
		t.Fatalf("notification %v", n)
	}
	waitFor(t, "first attempt", func() bool { return attempts.Load() == 1 })
	text = eventually("parley_client_event_fanout_seconds_count", 1)
	wants(text, map[string]float64{
		"parley_webhook_outbox_pending":            1, // being sent
		"parley_client_event_fanout_seconds_count": 1,
	})
	close(release)
	text = eventually("parley_webhook_outbox_pending", 0)
	wants(text, map[string]float64{
		"parley_webhook_outbox_pending":                         0,
		`parley_webhook_attempts_total{event="onMessageAdded"}`: 2,
		`parley_webhook_failures_total{event="onMessageAdded"}`: 1,
	})

	// A conversation whose inactive timer is due in a minute; the clock
	// moves two, and the timer is due and not fired until FireTimers.
	c.must("POST", "/v1/Conversations", "UniqueName=timed&Timers.Inactive=PT1M", 201)
	wants(scrapeMetrics(t, srv), map[string]float64{"parley_conversation_timers_due": 0})
	offset.Store(int64(2 * time.Minute))
	wants(scrapeMetrics(t, srv), map[string]float64{
		"parley_conversation_timers_due":                           1,
		`parley_conversation_timers_fired_total{state="inactive"}`: 0,
	})
	if n, err := srv.App.FireTimers(context.Background()); n != 1 || err != nil {
		t.Fatalf("FireTimers: %d, %v", n, err)
	}
	wants(scrapeMetrics(t, srv), map[string]float64{
		"parley_conversation_timers_due":                           0,
		`parley_conversation_timers_fired_total{state="inactive"}`: 1,
		`parley_conversation_timers_fired_total{state="closed"}`:   0,
	})

	// Writes one at a time: one write per commit each (SQLite).
	if !postgres {
		before := scrapeMetrics(t, srv)
		count, _ := sample(before, "parley_db_writes_per_commit_count")
		sum, _ := sample(before, "parley_db_writes_per_commit_sum")
		ones, _ := sample(before, `parley_db_writes_per_commit_bucket{le="1"}`)
		for _, id := range []string{"bob", "carol", "dave"} {
			c.must("POST", "/v1/Users", "Identity="+id, 201)
		}
		wants(scrapeMetrics(t, srv), map[string]float64{
			"parley_db_writes_per_commit_count":             count + 3,
			"parley_db_writes_per_commit_sum":               sum + 3,
			`parley_db_writes_per_commit_bucket{le="1"}`:    ones + 3,
			`parley_db_writes_per_commit_bucket{le="+Inf"}`: count + 3,
		})
	}
}

// TestMetricsLeaveSocketsOut: a client socket, with or without a trailing
// slash, is not an HTTP request to time (it would put its whole life in
// the latency histogram when it closed).
func TestMetricsLeaveSocketsOut(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	for _, path := range []string{"/v3/wsconnect", "/v3/wsconnect/"} {
		ws, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+path, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		ws.Close(websocket.StatusNormalClosure, "")
	}
	time.Sleep(50 * time.Millisecond) // the server sees the closes
	if text := scrapeMetrics(t, srv); strings.Contains(text, `status="101"`) || strings.Contains(text, "wsconnect") {
		t.Fatalf("a socket counted as a request:\n%s", text)
	}
}
