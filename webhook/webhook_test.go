package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/webhook"
	"github.com/twilio/twilio-go/client"
)

// hit is one webhook request a receiver got.
type hit struct {
	method  string
	fullURL string // as the sender addressed it, query included
	params  url.Values
	header  http.Header
}

// receiver is a real HTTP server on loopback that records webhooks and
// answers with whatever status answer() says.
type receiver struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	hits     []hit
	answer   func(n int, h hit) int // n counts from 1
	delay    time.Duration
	inflight atomic.Int32
	peak     atomic.Int32
}

func newReceiver(t *testing.T, answer func(n int, h hit) int) *receiver {
	r := &receiver{t: t, answer: answer}
	if r.answer == nil {
		r.answer = func(int, hit) int { return 200 }
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	now := r.inflight.Add(1)
	defer r.inflight.Add(-1)
	for {
		peak := r.peak.Load()
		if now <= peak || r.peak.CompareAndSwap(peak, now) {
			break
		}
	}
	body, _ := io.ReadAll(req.Body)
	params := req.URL.Query()
	if req.Method == "POST" {
		params, _ = url.ParseQuery(string(body))
	}
	h := hit{method: req.Method, fullURL: r.srv.URL + req.URL.RequestURI(), params: params, header: req.Header.Clone()}
	r.mu.Lock()
	r.hits = append(r.hits, h)
	n := len(r.hits)
	r.mu.Unlock()
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	w.WriteHeader(r.answer(n, h))
}

func (r *receiver) got() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

// wait returns once n webhooks arrived (failing after 10 s).
func (r *receiver) wait(n int) []hit {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if h := r.got(); len(h) >= n {
			return h
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("got %d webhooks after 10s, want %d", len(r.got()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clock is the fixed time parley's resources are stamped with in these
// tests; the dispatcher schedules on the real clock.
var clock = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

type env struct {
	t   *testing.T
	srv *parleytest.Server
}

func newEnv(t *testing.T, o parleytest.Options) *env {
	if o.Core.Now == nil {
		o.Core.Now = func() time.Time { return clock }
	}
	if o.Webhooks.Backoff == 0 {
		o.Webhooks.Backoff = 10 * time.Millisecond
	}
	if o.Webhooks.Poll == 0 {
		o.Webhooks.Poll = 20 * time.Millisecond
	}
	return &env{t: t, srv: parleytest.NewWith(t, o)}
}

// call makes one REST request and returns status and body.
func (e *env) call(method, path, form string, webhooks bool) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if webhooks {
		req.Header.Set("X-Twilio-Webhook-Enabled", "true")
	}
	req.SetBasicAuth(e.srv.AccountSid, e.srv.AuthToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (e *env) must(method, path, form string, webhooks bool, status int) map[string]any {
	e.t.Helper()
	st, body := e.call(method, path, form, webhooks)
	if st != status {
		e.t.Fatalf("%s %s: %d %s, want %d", method, path, st, body, status)
	}
	var m map[string]any
	if body != "" {
		json.Unmarshal([]byte(body), &m)
	}
	return m
}

func (e *env) deliveries() []parley.Delivery {
	e.t.Helper()
	p, err := e.srv.App.ListDeliveries(context.Background(), parley.DeliveryFilter{}, parley.PageQuery{Size: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Items
}

// validSignature checks a hit with twilio-go's own validator, as an app's
// handler would.
func validSignature(t *testing.T, token string, h hit) {
	t.Helper()
	v := client.NewRequestValidator(token)
	params := map[string]string{}
	target := h.fullURL
	if h.method == "POST" {
		for k := range h.params {
			params[k] = h.params.Get(k)
		}
	}
	if !v.Validate(target, params, h.header.Get("X-Twilio-Signature")) {
		t.Fatalf("twilio-go's RequestValidator refuses the signature of %s %s", h.method, target)
	}
	// And a tampered request is refused, so the check means something.
	if h.method == "POST" {
		params["Identity"] += "x"
	} else {
		target += "&x=1"
	}
	if v.Validate(target, params, h.header.Get("X-Twilio-Signature")) {
		t.Fatal("the validator accepted a tampered webhook")
	}
}

func wantParams(t *testing.T, h hit, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for k, vs := range h.params {
		if len(vs) != 1 {
			t.Fatalf("parameter %s sent %d times", k, len(vs))
		}
		got[k] = vs[0]
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("webhook parameters (-want +got):\n%s", d)
	}
}

func TestUserEvents(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, nil)
	e := newEnv(t, parleytest.Options{})
	is, ac := e.srv.DefaultServiceSid, e.srv.AccountSid
	e.must("POST", "/v1/Services/"+is+"/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(recv.srv.URL+"/post"), false, 200)

	// Without X-Twilio-Webhook-Enabled: true, REST actions fire nothing.
	e.must("POST", "/v1/Users", "Identity=quiet", false, 201)
	e.must("POST", "/v1/Users/quiet", "FriendlyName=q", false, 200)
	e.must("DELETE", "/v1/Users/quiet", "", false, 204)
	if d := e.deliveries(); len(d) != 0 {
		t.Fatalf("%d deliveries queued without the header", len(d))
	}

	u := e.must("POST", "/v1/Users", "Identity=alice%40example.com&FriendlyName=Alice&Attributes=%7B%22a%22%3A1%7D", true, 201)
	sid, role := u["sid"].(string), u["role_sid"].(string)
	h := recv.wait(1)[0]
	if h.method != "POST" || h.fullURL != recv.srv.URL+"/post" || h.header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("webhook request %s %s %v", h.method, h.fullURL, h.header)
	}
	wantParams(t, h, map[string]string{"AccountSid": ac, "EventType": "onUserAdded", "Source": "API",
		"ChatServiceSid": is, "UserSid": sid, "Identity": "alice@example.com", "RoleSid": role,
		"Attributes": `{"a":1}`, "FriendlyName": "Alice", "DateCreated": "2026-03-04T05:06:07Z", "RetryCount": "0"})
	validSignature(t, e.srv.AuthToken, h)

	e.must("POST", "/v1/Users/"+sid, "Attributes=", true, 200)
	h = recv.wait(2)[1]
	wantParams(t, h, map[string]string{"AccountSid": ac, "EventType": "onUserUpdated", "Source": "API",
		"ChatServiceSid": is, "UserSid": sid, "Identity": "alice@example.com", "RoleSid": role,
		"Attributes": "{}", "FriendlyName": "Alice", "DateCreated": "2026-03-04T05:06:07Z",
		"DateUpdated": "2026-03-04T05:06:07Z", "isOnline": "", "isNotifiable": "", "RetryCount": "0"})
	validSignature(t, e.srv.AuthToken, h)

	// onUserRemoved is parley's extension: sent only when Filters names it.
	e.must("DELETE", "/v1/Users/"+sid, "", true, 204)
	e.must("POST", "/v1/Services/"+is+"/Configuration/Webhooks", "Filters=onUserAdded&Filters=onUserRemoved", false, 200)
	bob := e.must("POST", "/v1/Users", "Identity=bob", true, 201)
	e.must("POST", "/v1/Users/bob", "FriendlyName=Bob", true, 200) // filtered out
	e.must("DELETE", "/v1/Users/bob", "", true, 204)
	// Bob's two events are queued back to back and delivered concurrently,
	// so they may arrive in either order.
	ds := waitAll(t, e, 4)
	hits := recv.got()
	events := map[string]hit{}
	for _, h := range hits[2:] {
		events[h.params.Get("EventType")] = h
	}
	if len(hits) != 4 || len(events) != 2 || events["onUserAdded"].params.Get("Identity") != "bob" {
		t.Fatalf("after filtering: %d hits, events %v", len(hits), events)
	}
	removed := events["onUserRemoved"]
	wantParams(t, removed, map[string]string{"AccountSid": ac, "EventType": "onUserRemoved", "Source": "API",
		"ChatServiceSid": is, "UserSid": bob["sid"].(string), "Identity": "bob", "RoleSid": role,
		"Attributes": "{}", "FriendlyName": "Bob", "DateCreated": "2026-03-04T05:06:07Z",
		"DateUpdated": "2026-03-04T05:06:07Z", "DateRemoved": "2026-03-04T05:06:07Z", "RetryCount": "0"})
	validSignature(t, e.srv.AuthToken, removed)

	// One idempotency token per event, the delivery's SID, each sent once.
	tokens := map[string]int{}
	for _, h := range hits {
		tokens[h.header.Get("I-Twilio-Idempotency-Token")]++
	}
	for i, d := range ds {
		if tokens[d.Sid] != 1 || d.Status != parley.DeliveryDelivered || d.Attempts != 1 {
			t.Fatalf("delivery %d: token sent %d times, record %+v", i, tokens[d.Sid], d)
		}
	}
}

func TestGETMethodAndFilters(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, nil)
	e := newEnv(t, parleytest.Options{})
	is := e.srv.DefaultServiceSid
	target := url.QueryEscape(recv.srv.URL + "/hook?app=1")
	e.must("POST", "/v1/Services/"+is+"/Configuration/Webhooks", "Method=GET&Filters=onUserUpdated&PostWebhookUrl="+target, false, 200)
	u := e.must("POST", "/v1/Users", "Identity=g", true, 201) // filtered out
	e.must("POST", "/v1/Users/g", "FriendlyName=G+g", true, 200)
	h := recv.wait(1)[0]
	if h.method != "GET" || !strings.HasPrefix(h.fullURL, recv.srv.URL+"/hook?app=1&") {
		t.Fatalf("GET webhook %s %s", h.method, h.fullURL)
	}
	// The configured URL's own query stays, the event's parameters follow.
	wantParams(t, h, map[string]string{"app": "1", "AccountSid": e.srv.AccountSid, "EventType": "onUserUpdated",
		"Source": "API", "ChatServiceSid": is, "UserSid": u["sid"].(string), "Identity": "g",
		"RoleSid": u["role_sid"].(string), "Attributes": "{}", "FriendlyName": "G g",
		"DateCreated": "2026-03-04T05:06:07Z", "DateUpdated": "2026-03-04T05:06:07Z", "isOnline": "", "isNotifiable": "", "RetryCount": "0"})
	validSignature(t, e.srv.AuthToken, h)
	if n := len(e.deliveries()); n != 1 {
		t.Fatalf("%d deliveries, want only the filtered-in one", n)
	}
}

// TestAccountAndServiceLevel: the account-level configuration serves every
// service without its own; a service's own configuration replaces it.
func TestAccountAndServiceLevel(t *testing.T) {
	t.Parallel()
	global, local := newReceiver(t, nil), newReceiver(t, nil)
	e := newEnv(t, parleytest.Options{})
	e.must("POST", "/v1/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(global.srv.URL), false, 200)
	svc := e.must("POST", "/v1/Services", "FriendlyName=two", false, 201)["sid"].(string)
	e.must("POST", "/v1/Users", "Identity=a", true, 201)
	e.must("POST", "/v1/Services/"+svc+"/Users", "Identity=b", true, 201)
	g := global.wait(2) // in either order: queued back to back
	got := map[string]string{}
	for _, h := range g {
		got[h.params.Get("Identity")] = h.params.Get("ChatServiceSid")
	}
	if len(g) != 2 || got["a"] != e.srv.DefaultServiceSid || got["b"] != svc {
		t.Fatalf("global hits %v", got)
	}
	e.must("POST", "/v1/Services/"+svc+"/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(local.srv.URL), false, 200)
	e.must("POST", "/v1/Services/"+svc+"/Users", "Identity=c", true, 201)
	e.must("POST", "/v1/Users", "Identity=d", true, 201)
	if l := local.wait(1); l[0].params.Get("Identity") != "c" {
		t.Fatalf("service-level hit %v", l[0].params)
	}
	if g := global.wait(3); len(g) != 3 || g[2].params.Get("Identity") != "d" {
		t.Fatalf("global hits after override: %d", len(g))
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	// 500, 429, then 200: three attempts, one token; RetryCount counts the
	// retries (0, 1, 2), so each attempt is signed afresh.
	recv := newReceiver(t, func(n int, _ hit) int { return []int{500, 429, 200}[min(n, 3)-1] })
	e := newEnv(t, parleytest.Options{})
	e.must("POST", "/v1/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(recv.srv.URL+"/r"), false, 200)
	e.must("POST", "/v1/Users", "Identity=r", true, 201)
	hits := recv.wait(3)
	for i, h := range hits {
		if h.header.Get("I-Twilio-Idempotency-Token") != hits[0].header.Get("I-Twilio-Idempotency-Token") {
			t.Fatal("a retry changed the idempotency token")
		}
		if got := h.params.Get("RetryCount"); got != strconv.Itoa(i) {
			t.Fatalf("attempt %d: RetryCount %q", i, got)
		}
		validSignature(t, e.srv.AuthToken, h)
	}
	d := waitDelivery(t, e, func(d parley.Delivery) bool { return d.Status != parley.DeliveryPending })
	if d.Status != parley.DeliveryDelivered || d.Attempts != 3 || d.LastStatusCode != 200 {
		t.Fatalf("delivery %+v", d)
	}
	if got, want := e.srv.Dispatcher.Attempts(), map[string]webhook.AttemptCounts{"onUserAdded": {Attempts: 3, Failures: 2}}; !cmp.Equal(got, want) {
		t.Fatalf("attempts counted %v, want %v", got, want)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(recv.got()); n != 3 {
		t.Fatalf("%d requests for one delivered event", n)
	}
}

func TestFinalFailures(t *testing.T) {
	t.Parallel()
	// A 4xx other than 429 is final at once; 5xx until the attempt limit.
	for _, tc := range []struct {
		status, attempts int
	}{{404, 1}, {503, 3}} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			recv := newReceiver(t, func(int, hit) int { return tc.status })
			e := newEnv(t, parleytest.Options{Webhooks: webhook.DispatcherOptions{MaxAttempts: 3}})
			e.must("POST", "/v1/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(recv.srv.URL), false, 200)
			e.must("POST", "/v1/Users", "Identity=f", true, 201)
			d := waitDelivery(t, e, func(d parley.Delivery) bool { return d.Status != parley.DeliveryPending })
			if d.Status != parley.DeliveryFailed || d.Attempts != tc.attempts || d.LastStatusCode != tc.status ||
				d.LastError != fmt.Sprintf("HTTP %d", tc.status) || d.LastResponse == nil || *d.LastResponse != "" {
				t.Fatalf("delivery %+v", d)
			}
			// Kept and visible through the inspection endpoint.
			st, body := e.call("GET", "/parley/v1/WebhookDeliveries", "", false)
			var list struct {
				Deliveries []map[string]any `json:"webhook_deliveries"`
				Meta       map[string]any
			}
			json.Unmarshal([]byte(body), &list)
			if st != 200 || len(list.Deliveries) != 1 || list.Meta["key"] != "webhook_deliveries" {
				t.Fatalf("inspection: %d %s", st, body)
			}
			got := list.Deliveries[0]
			if got["status"] != "failed" || got["attempts"] != float64(tc.attempts) || got["last_status_code"] != float64(tc.status) ||
				got["next_attempt_at"] != nil || got["last_response"] != "" || got["event_type"] != "onUserAdded" || got["target"] != recv.srv.URL || got["sid"] != d.Sid {
				t.Fatalf("inspection item %v", got)
			}
		})
	}
}

func waitDelivery(t *testing.T, e *env, done func(parley.Delivery) bool) parley.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ds := e.deliveries(); len(ds) == 1 && done(ds[0]) {
			return ds[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries: %+v", e.deliveries())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitAll waits until n deliveries are recorded and none is pending.
func waitAll(t *testing.T, e *env, n int) []parley.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds := e.deliveries()
		pending := 0
		for _, d := range ds {
			if d.Status == parley.DeliveryPending {
				pending++
			}
		}
		if len(ds) == n && pending == 0 {
			return ds
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries (%d pending), want %d done", len(ds), pending, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRefusedConnection: a receiver that is down gets the webhook once it
// comes up.
func TestRefusedConnection(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e := newEnv(t, parleytest.Options{Webhooks: webhook.DispatcherOptions{Backoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}})
	e.must("POST", "/v1/Configuration/Webhooks", "PostWebhookUrl=http://"+addr+"/late", false, 200)
	e.must("POST", "/v1/Users", "Identity=late", true, 201)
	d := waitDelivery(t, e, func(d parley.Delivery) bool { return d.Attempts >= 2 })
	if d.Status != parley.DeliveryPending || !strings.Contains(d.LastError, "connection refused") || d.LastStatusCode != 0 ||
		d.LastResponse != nil {
		t.Fatalf("while down: %+v", d)
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("could not listen on %s again: %v", addr, err)
	}
	got := make(chan url.Values, 1)
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		select {
		case got <- r.PostForm:
		default:
		}
	}))
	t.Cleanup(func() { ln.Close() })
	select {
	case p := <-got:
		if p.Get("Identity") != "late" {
			t.Fatalf("params %v", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("never delivered after the receiver came up")
	}
	waitDelivery(t, e, func(d parley.Delivery) bool { return d.Status == parley.DeliveryDelivered })
}

// TestSlowReceiver: requests never wait for post-event deliveries, and a
// slow receiver gets at most PerTarget requests at once.
func TestSlowReceiver(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, nil)
	recv.delay = 300 * time.Millisecond
	e := newEnv(t, parleytest.Options{Webhooks: webhook.DispatcherOptions{PerTarget: 3}})
	e.must("POST", "/v1/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(recv.srv.URL), false, 200)
	const n = 12
	for i := range n {
		e.must("POST", "/v1/Users", fmt.Sprint("Identity=s", i), true, 201)
	}
	// Every create has answered while the receiver is still on its first
	// round: no request waited for a delivery.
	answered := 0
	for _, d := range e.deliveries() {
		if d.Status == parley.DeliveryDelivered {
			answered++
		}
	}
	if answered > 3 {
		t.Fatalf("%d deliveries finished before the creates returned", answered)
	}
	recv.wait(n)
	if peak := recv.peak.Load(); peak > 3 {
		t.Fatalf("receiver saw %d concurrent webhooks, want at most 3", peak)
	}
	seen := map[string]bool{}
	for _, h := range recv.wait(n) {
		seen[h.params.Get("Identity")] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct users delivered, want %d", len(seen), n)
	}
}

func TestPreEvents(t *testing.T) {
	t.Parallel()
	var verdict atomic.Int32
	verdict.Store(403)
	recv := newReceiver(t, func(int, hit) int { return int(verdict.Load()) })
	e := newEnv(t, parleytest.Options{Core: core.Options{RESTPreEvents: true}})
	is := e.srv.DefaultServiceSid
	e.must("POST", "/v1/Services/"+is+"/Configuration/Webhooks", "PreWebhookUrl="+url.QueryEscape(recv.srv.URL+"/pre"), false, 200)
	u := e.must("POST", "/v1/Users", "Identity=v&FriendlyName=Before", true, 201)

	st, body := e.call("POST", "/v1/Users/v", "FriendlyName=After", true)
	if st != 403 || body != `{"code":50056,"message":"The pre-event webhook rejected the action (onUserUpdate answered HTTP 403)","more_info":"https://www.twilio.com/docs/errors/50056","status":403}` {
		t.Fatalf("vetoed update: %d %s", st, body)
	}
	h := recv.got()[0]
	wantParams(t, h, map[string]string{"AccountSid": e.srv.AccountSid, "EventType": "onUserUpdate", "Source": "API",
		"ChatServiceSid": is, "UserSid": u["sid"].(string), "Identity": "v", "RoleSid": u["role_sid"].(string),
		"Attributes": "{}", "FriendlyName": "After", "DateUpdated": "2026-03-04T05:06:07Z"})
	validSignature(t, e.srv.AuthToken, h)
	if got := e.must("GET", "/v1/Users/v", "", false, 200); got["friendly_name"] != "Before" {
		t.Fatalf("a vetoed update was written: %v", got)
	}
	verdict.Store(500)
	if st, _ := e.call("POST", "/v1/Users/v", "FriendlyName=After", true); st != 403 {
		t.Fatalf("5xx answer: %d", st)
	}
	verdict.Store(200)
	if got := e.must("POST", "/v1/Users/v", "FriendlyName=After", true, 200); got["friendly_name"] != "After" {
		t.Fatalf("allowed update: %v", got)
	}
	// The rules run before the app is asked: an impossible change is
	// refused with its own error, whatever the app would answer, and the
	// app never hears of it.
	verdict.Store(403)
	before := len(recv.got())
	roles := e.must("GET", "/v1/Roles", "", false, 200)["roles"].([]any)
	var channelRole string
	for _, r := range roles {
		if r := r.(map[string]any); r["type"] == "conversation" {
			channelRole = r["sid"].(string)
		}
	}
	for _, tc := range []struct{ form, body string }{
		{"RoleSid=" + channelRole, `{"code":50105,"message":"Invalid role type","more_info":"https://www.twilio.com/docs/errors/50105","status":400}`},
		{"RoleSid=RL" + strings.Repeat("0", 32), `{"code":50100,"message":"Role not found","more_info":"https://www.twilio.com/docs/errors/50100","status":400}`},
		{"Attributes=%7B", `{"code":50304,"message":"Attributes not valid JSON","more_info":"https://www.twilio.com/docs/errors/50304","status":400}`},
	} {
		if st, body := e.call("POST", "/v1/Users/v", tc.form, true); st != 400 || body != tc.body {
			t.Fatalf("invalid update %s with a vetoing app: %d %s", tc.form, st, body)
		}
	}
	if st, _ := e.call("POST", "/v1/Users/nobody", "FriendlyName=x", true); st != 404 {
		t.Fatalf("update of an unknown user with a vetoing app: %d", st)
	}
	if n := len(recv.got()) - before; n != 0 {
		t.Fatalf("%d pre-events sent for updates the rules refuse", n)
	}
	verdict.Store(200)
	// No header, no pre-event.
	before = len(recv.got())
	e.must("POST", "/v1/Users/v", "FriendlyName=Quiet", false, 200)
	if len(recv.got()) != before {
		t.Fatal("pre-event sent without X-Twilio-Webhook-Enabled")
	}
}

// TestPreEventsOffByDefault: as on Twilio, REST calls send no pre-events
// unless the parley extension is on.
func TestPreEventsOffByDefault(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, func(int, hit) int { return 403 })
	e := newEnv(t, parleytest.Options{})
	e.must("POST", "/v1/Configuration/Webhooks", "PreWebhookUrl="+url.QueryEscape(recv.srv.URL), false, 200)
	e.must("POST", "/v1/Users", "Identity=o", true, 201)
	e.must("POST", "/v1/Users/o", "FriendlyName=x", true, 200)
	if n := len(recv.got()); n != 0 {
		t.Fatalf("%d pre-events sent with the extension off", n)
	}
}

// TestPreEventNoAnswer: no answer within 5 s, or no connection, lets the
// action through unchanged.
func TestPreEventNoAnswer(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, func(int, hit) int { return 403 })
	recv.delay = webhook.Timeout + time.Second
	e := newEnv(t, parleytest.Options{Core: core.Options{RESTPreEvents: true}})
	e.must("POST", "/v1/Configuration/Webhooks", "PreWebhookUrl="+url.QueryEscape(recv.srv.URL), false, 200)
	e.must("POST", "/v1/Users", "Identity=t", false, 201)
	if got := e.must("POST", "/v1/Users/t", "FriendlyName=Through", true, 200); got["friendly_name"] != "Through" {
		t.Fatalf("after a timeout: %v", got)
	}
	e.must("POST", "/v1/Configuration/Webhooks", "PreWebhookUrl=http://127.0.0.1:1/closed", false, 200)
	if got := e.must("POST", "/v1/Users/t", "FriendlyName=Again", true, 200); got["friendly_name"] != "Again" {
		t.Fatalf("after a refused connection: %v", got)
	}
}

func TestWebhookConfigurationValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, parleytest.Options{})
	is := e.srv.DefaultServiceSid
	for _, tc := range []struct{ path, form, body string }{
		{"/v1/Configuration/Webhooks", "PreWebhookUrl=ftp://x", `{"code":50077,"message":"Invalid PreWebhookUrl: \"ftp://x\" is not an absolute http or https URL","more_info":"https://www.twilio.com/docs/errors/50077","status":400}`},
		{"/v1/Services/" + is + "/Configuration/Webhooks", "PostWebhookUrl=%2Frelative", `{"code":50078,"message":"Invalid PostWebhookUrl: \"/relative\" is not an absolute http or https URL","more_info":"https://www.twilio.com/docs/errors/50078","status":400}`},
		{"/v1/Configuration/Webhooks", "Method=PUT", `{"code":20001,"message":"Invalid Method: must be GET or POST","more_info":"https://www.twilio.com/docs/errors/20001","status":400}`},
		{"/v1/Configuration/Webhooks", "Filters=onNothing", `{"code":20001,"message":"Invalid Filters: unknown event \"onNothing\"","more_info":"https://www.twilio.com/docs/errors/20001","status":400}`},
		{"/v1/Configuration/Webhooks", "Target=studio", `{"code":20001,"message":"Invalid Target: must be webhook or flex","more_info":"https://www.twilio.com/docs/errors/20001","status":400}`},
		{"/v1/Services/" + is + "/Configuration/Webhooks", "Target=webhook", `{"code":20001,"message":"Target is only set on the account-level webhook configuration","more_info":"https://www.twilio.com/docs/errors/20001","status":400}`},
	} {
		st, body := e.call("POST", tc.path, tc.form, false)
		if st != 400 || body != tc.body {
			t.Fatalf("POST %s %s: %d %s", tc.path, tc.form, st, body)
		}
	}
	// Every field is null until set; an empty URL clears it again.
	empty := fmt.Sprintf(`{"account_sid":"%s","chat_service_sid":"%s","pre_webhook_url":null,"post_webhook_url":null,"filters":null,"method":null,"url":"%s/v1/Services/%s/Configuration/Webhooks"}`,
		e.srv.AccountSid, is, e.srv.URL, is)
	if st, body := e.call("GET", "/v1/Services/"+is+"/Configuration/Webhooks", "", false); st != 200 || body != empty {
		t.Fatalf("fresh service webhooks: %d %s", st, body)
	}
	e.must("POST", "/v1/Services/"+is+"/Configuration/Webhooks", "PreWebhookUrl=https%3A%2F%2Fa.test%2Fpre", false, 200)
	if st, body := e.call("POST", "/v1/Services/"+is+"/Configuration/Webhooks", "PreWebhookUrl=", false); st != 200 || body != empty {
		t.Fatalf("cleared service webhooks: %d %s", st, body)
	}
	account := fmt.Sprintf(`{"account_sid":"%s","method":"GET","filters":["onUserAdded","onUserUpdated"],"pre_webhook_url":null,"post_webhook_url":"https://a.test/post","target":"flex","url":"%s/v1/Configuration/Webhooks"}`,
		e.srv.AccountSid, e.srv.URL)
	st, body := e.call("POST", "/v1/Configuration/Webhooks", "Method=GET&Filters=onUserAdded&Filters=onUserUpdated&PostWebhookUrl=https%3A%2F%2Fa.test%2Fpost&Target=flex", false)
	if st != 200 || body != account {
		t.Fatalf("account webhooks: %d %s", st, body)
	}
	if st, body := e.call("GET", "/v1/Configuration/Webhooks", "", false); st != 200 || body != account {
		t.Fatalf("account webhooks: %d %s", st, body)
	}
	// Each event is kept once, in first-seen order, even when the repeats
	// are not adjacent; Filters= clears the list back to every event.
	swapped := strings.Replace(account, `["onUserAdded","onUserUpdated"]`, `["onUserUpdated","onUserAdded"]`, 1)
	st, body = e.call("POST", "/v1/Configuration/Webhooks", "Filters=onUserUpdated&Filters=onUserAdded&Filters=onUserUpdated&Filters=onUserAdded", false)
	if st != 200 || body != swapped {
		t.Fatalf("repeated filters: %d %s", st, body)
	}
	cleared := strings.Replace(account, `["onUserAdded","onUserUpdated"]`, "null", 1)
	for range 2 {
		if st, body := e.call("POST", "/v1/Configuration/Webhooks", "Filters=", false); st != 200 || body != cleared {
			t.Fatalf("Filters= : %d %s", st, body)
		}
	}
	if st, body := e.call("GET", "/v1/Configuration/Webhooks", "", false); st != 200 || body != cleared {
		t.Fatalf("after clearing the filters: %d %s", st, body)
	}
}

// enqueue writes n deliveries to target straight into the outbox, as n
// events would, in one transaction, and wakes the dispatcher once: a queue
// that size takes seconds to build through the API. They are stamped an
// hour before the fixed clock core stamps events with, so that they come
// before any event of the test in due order, as a backlog does.
func (e *env) enqueue(target, prefix string, n int) []parley.Delivery {
	e.t.Helper()
	now := clock.Add(-time.Hour)
	ds := make([]parley.Delivery, n)
	for i := range ds {
		ds[i] = parley.Delivery{Sid: fmt.Sprintf("WD%s%030d", prefix, i), EventType: "onUserAdded",
			ServiceSid: e.srv.DefaultServiceSid, URL: target, Method: "POST",
			Params: url.Values{"EventType": {"onUserAdded"}, "Identity": {fmt.Sprintf("%s%d", prefix, i)}}.Encode(),
			Status: parley.DeliveryPending, NextAttemptAt: now, DateCreated: now, DateUpdated: now}
	}
	err := e.srv.Store.Update(context.Background(), func(tx parley.Tx) error {
		for _, d := range ds {
			if err := tx.EnqueueDelivery(context.Background(), d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv.Dispatcher.Wake()
	return ds
}

// TestStuckHostDelaysNoOther: with thousands of deliveries queued for a host
// that never answers, or for one that refuses connections, a webhook to a
// healthy host arrives about as soon as it would with nothing queued, long
// before the stuck host's queue could drain (at PerTarget requests per 5 s
// timeout, hours).
func TestStuckHostDelaysNoOther(t *testing.T) {
	t.Parallel()
	const queued = 2000
	for _, stuck := range []string{"never answers", "refuses connections"} {
		t.Run(stuck, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			hanging := newReceiver(t, func(int, hit) int { <-release; return 503 })
			healthy := newReceiver(t, nil)
			// The default backoff and poll, so that refused deliveries come
			// back at the pace they would in production, and no poll
			// faster than production's hides a dispatcher that waits for
			// one.
			e := newEnv(t, parleytest.Options{Webhooks: webhook.DispatcherOptions{
				Backoff: time.Second, Poll: 500 * time.Millisecond, PerTarget: 4}})
			t.Cleanup(func() { close(release) }) // before the dispatcher stops: let its sends end
			target := hanging.srv.URL + "/stuck"
			if stuck == "refuses connections" {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				target = "http://" + ln.Addr().String() + "/down"
				ln.Close()
			}
			e.enqueue(target, "stuck", queued)
			if stuck == "never answers" {
				// The dispatcher is busy with the stuck host: its four
				// slots hang.
				deadline := time.Now().Add(10 * time.Second)
				for hanging.inflight.Load() < 4 {
					if time.Now().After(deadline) {
						t.Fatalf("%d requests reached the stuck host", hanging.inflight.Load())
					}
					time.Sleep(5 * time.Millisecond)
				}
			} else {
				// The refusals are being recorded as retries.
				waitFor(t, func() bool {
					for _, d := range e.deliveries() {
						if d.Attempts > 0 {
							return true
						}
					}
					return false
				})
			}

			svc := e.must("POST", "/v1/Services", "FriendlyName=healthy", false, 201)["sid"].(string)
			e.must("POST", "/v1/Services/"+svc+"/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(healthy.srv.URL+"/ok"), false, 200)
			for i := range 3 {
				created := time.Now()
				e.must("POST", "/v1/Services/"+svc+"/Users", fmt.Sprint("Identity=healthy", i), true, 201)
				h := healthy.wait(i + 1)[i]
				if took := time.Since(created); took > 2*time.Second {
					t.Fatalf("the healthy host's webhook took %v behind %d deliveries for a host that %s", took, queued, stuck)
				}
				if got := h.params.Get("Identity"); got != fmt.Sprint("healthy", i) {
					t.Fatalf("healthy host got %q", got)
				}
			}
			if stuck == "never answers" {
				if n, peak := len(hanging.got()), hanging.peak.Load(); n != 4 || peak != 4 {
					t.Fatalf("the stuck host got %d requests, %d at once; want 4, 4 (its PerTarget)", n, peak)
				}
			}
		})
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met after 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBurstUsesFreedSlots: a burst of deliveries to one receiver all
// arrive, each exactly once, never more than PerTarget at a time, and with
// no poll to help (Poll 10 s, one Wake): each freed slot starts the next
// delivery by itself.
func TestBurstUsesFreedSlots(t *testing.T) {
	t.Parallel()
	const n, perTarget = 200, 3
	recv := newReceiver(t, nil)
	recv.delay = 2 * time.Millisecond
	e := newEnv(t, parleytest.Options{Webhooks: webhook.DispatcherOptions{PerTarget: perTarget, Poll: 10 * time.Second}})
	started := time.Now()
	ds := e.enqueue(recv.srv.URL+"/burst", "burst", n)
	hits := recv.wait(n)
	if took := time.Since(started); took > 5*time.Second {
		t.Fatalf("%d deliveries took %v", n, took)
	}
	time.Sleep(50 * time.Millisecond) // room for a duplicate to show up
	hits = recv.got()
	tokens := map[string]int{}
	for _, h := range hits {
		tokens[h.header.Get("I-Twilio-Idempotency-Token")]++
	}
	if len(hits) != n || len(tokens) != n {
		t.Fatalf("%d requests, %d distinct deliveries; want %d each", len(hits), len(tokens), n)
	}
	for _, d := range ds {
		if tokens[d.Sid] != 1 {
			t.Fatalf("delivery %s sent %d times", d.Sid, tokens[d.Sid])
		}
	}
	if peak := recv.peak.Load(); peak != perTarget {
		t.Fatalf("receiver saw %d concurrent webhooks, want %d (PerTarget, used in full)", peak, perTarget)
	}
	// Every outcome is recorded, in batches, and nothing is left leased.
	waitFor(t, func() bool {
		p, err := e.srv.App.ListDeliveries(context.Background(), parley.DeliveryFilter{}, parley.PageQuery{Size: n})
		if err != nil || len(p.Items) != n {
			t.Fatalf("listing the outbox: %d deliveries, %v", len(p.Items), err)
		}
		for _, d := range p.Items {
			if d.Status != parley.DeliveryDelivered || d.Attempts != 1 || d.LeaseUntil != nil {
				return false
			}
		}
		return true
	})
}

// TestPreHookUsesCallersContext: the pre-event request is made with the
// caller's context, so a caller that gives up (a REST client gone) stops
// waiting for the app at once, rather than after the 5 s timeout.
func TestPreHookUsesCallersContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	recv := newReceiver(t, func(int, hit) int { <-release; return 403 })
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := (&webhook.PreHook{AuthToken: "token"}).Call(ctx, parley.WebhookTarget{URL: recv.srv.URL, Method: "POST"},
		url.Values{"EventType": {"onUserUpdate"}})
	if took := time.Since(began); err != nil || took > 2*time.Second {
		t.Fatalf("Call returned %v after %v; want nil (no answer lets the action through) once the context ends", err, took)
	}
	if n := len(recv.got()); n != 1 {
		t.Fatalf("the app got %d pre-event requests, want 1", n)
	}
}

// TestRetryWakesAtItsTime: a retry is sent when its backoff ends, not at
// the next poll: the dispatcher sets its wake-up to the earliest due retry.
func TestRetryWakesAtItsTime(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, func(n int, _ hit) int { return []int{503, 503, 204}[min(n, 3)-1] })
	e := newEnv(t, parleytest.Options{Webhooks: webhook.DispatcherOptions{
		Backoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Poll: 10 * time.Second}})
	started := time.Now()
	e.enqueue(recv.srv.URL+"/retry", "retry", 1)
	hits := recv.wait(3)
	if took := time.Since(started); took > 5*time.Second {
		t.Fatalf("two retries of 50-100 ms backoff took %v", took)
	}
	if hits[0].header.Get("I-Twilio-Idempotency-Token") != hits[2].header.Get("I-Twilio-Idempotency-Token") {
		t.Fatal("a retry changed the idempotency token")
	}
	d := waitDelivery(t, e, func(d parley.Delivery) bool { return d.Status != parley.DeliveryPending })
	if d.Status != parley.DeliveryDelivered || d.Attempts != 3 || d.LastStatusCode != 204 || d.LeaseUntil != nil {
		t.Fatalf("delivery %+v", d)
	}
}

// TestSignatureRepeats: a value sent twice under one name is signed once,
// whatever the order, as twilio-node's validator checks it (proved against
// twilio-node itself in sdktest); another value is signed apart.
func TestSignatureRepeats(t *testing.T) {
	t.Parallel()
	const token, target = "token", "https://app.test/hook"
	sig := func(vs ...string) string { return webhook.Signature(token, target, url.Values{"A": vs, "B": {"1"}}) }
	if a, b := sig("x", "y", "x"), sig("y", "x"); a != b {
		t.Fatalf("repeats change the signature: %s vs %s", a, b)
	}
	if a, b := sig("x", "x"), sig("x"); a != b {
		t.Fatalf("an adjacent repeat changes the signature: %s vs %s", a, b)
	}
	if a, b := sig("x", "y"), sig("x", "z"); a == b {
		t.Fatal("different values, one signature")
	}
}
