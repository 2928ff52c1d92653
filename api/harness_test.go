package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/parleytest"
)

// The scenario tests run every request against the real handler on a real
// loopback listener and a real database, with SIDs minted in a predictable
// order and a fixed clock, so that whole bodies can be compared.

// clock is the fixed time every scenario runs at.
var clock = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const stamp = "2026-01-02T03:04:05Z"

// countingSIDs numbers SIDs per prefix: AC…01, IS…01, RL…01-04 at
// bootstrap, then US…01 for the first user, and so on.
type countingSIDs struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countingSIDs) New(prefix string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[prefix]++
	return sidN(prefix, c.n[prefix])
}

func sidN(prefix string, n int) string { return fmt.Sprintf("%s%032x", prefix, n) }

// Fixed names for what bootstrap creates, in creation order.
var (
	AC  = sidN("AC", 1)
	IS  = sidN("IS", 1)
	RL1 = sidN("RL", 1) // service admin
	RL2 = sidN("RL", 2) // service user: the default for users
	RL3 = sidN("RL", 3) // channel admin
	RL4 = sidN("RL", 4) // channel user
)

const token = "secrettoken123"

type env struct {
	t    *testing.T
	srv  *parleytest.Server
	http *http.Client
}

func newEnv(t *testing.T) *env { return newEnvLimits(t, core.Limits{}) }

// newEnvLimits is newEnv with participant limits of its own, small enough
// to reach in a test.
func newEnvLimits(t *testing.T, limits core.Limits) *env {
	t.Helper()
	sids := &countingSIDs{n: map[string]int{}}
	srv := parleytest.NewWith(t, parleytest.Options{
		Store:     newStore(t),
		Core:      core.Options{SIDs: sids, Now: func() time.Time { return clock }, Limits: limits},
		Bootstrap: core.BootstrapOptions{AuthToken: token},
	})
	if srv.AccountSid != AC || srv.DefaultServiceSid != IS {
		t.Fatalf("bootstrap minted %s/%s, want %s/%s", srv.AccountSid, srv.DefaultServiceSid, AC, IS)
	}
	return &env{t: t, srv: srv, http: &http.Client{Timeout: 10 * time.Second}}
}

// request is one HTTP call of a scenario.
type request struct {
	method  string
	path    string // raw, as sent on the wire (escapes kept)
	form    string // raw body (POST) or query (GET/DELETE)
	header  map[string]string
	noAuth  bool
	user    string // overrides the account SID
	pass    string // overrides the auth token
	rawBody []byte // sent as is when set
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(r request) response {
	e.t.Helper()
	target := e.srv.URL + r.path
	var body io.Reader
	if r.rawBody != nil {
		body = strings.NewReader(string(r.rawBody))
	} else if r.method == http.MethodPost {
		body = strings.NewReader(r.form)
	} else if r.form != "" {
		target += "?" + r.form
	}
	req, err := http.NewRequestWithContext(context.Background(), r.method, target, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if r.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if !r.noAuth {
		user, pass := AC, token
		if r.user != "" {
			user = r.user
		}
		if r.pass != "" {
			pass = r.pass
		}
		req.SetBasicAuth(user, pass)
	}
	res, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// expand replaces $BASE with the server's URL, $US1, $RL5… with the SIDs
// of that prefix and number, and $AC and $IS with the bootstrap ones.
func (e *env) expand(s string) string {
	// $LINK<n>: the temporary link token of media $ME<n> (the clock is
	// fixed, so it is what the server makes).
	s = linkRef.ReplaceAllStringFunc(s, func(m string) string {
		var n int
		fmt.Sscanf(m[5:], "%d", &n)
		return e.srv.App.MediaLink(IS, sidN("ME", n))
	})
	s = sidRef.ReplaceAllStringFunc(s, func(m string) string {
		var n int
		fmt.Sscanf(m[3:], "%d", &n)
		return sidN(m[1:3], n)
	})
	return strings.NewReplacer("$BASE", e.srv.URL, "$AC", AC, "$IS", IS).Replace(s)
}

// sidRef is $ and any two-letter SID prefix with a number: $US1, $CH12.
var sidRef = regexp.MustCompile(`\$[A-Z]{2}[0-9]+`)

// linkRef is a media link token: $LINK1.
var linkRef = regexp.MustCompile(`\$LINK[0-9]+`)

// step is a request with its expected status and body. A body of "" means
// an empty body; "*" means any body (used only in setup steps).
type step struct {
	request
	status int
	body   string
}

// run performs steps in order, checking each status and body exactly
// (as JSON values: every field and value, independent of key order).
func (e *env) run(steps ...step) []response {
	e.t.Helper()
	var out []response
	for i, s := range steps {
		s.path, s.form = e.expand(s.path), e.expand(s.form)
		res := e.do(s.request)
		out = append(out, res)
		if res.status != s.status {
			e.t.Fatalf("step %d %s %s: status %d, want %d\nbody: %s", i, s.method, s.path, res.status, s.status, res.body)
		}
		switch s.body {
		case "*":
		case "":
			if len(res.body) != 0 {
				e.t.Fatalf("step %d %s %s: body %q, want empty", i, s.method, s.path, res.body)
			}
		default:
			want := e.expand(s.body)
			jsonEqual(e.t, fmt.Sprintf("step %d %s %s", i, s.method, s.path), res.body, []byte(want))
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				e.t.Fatalf("step %d: Content-Type %q", i, ct)
			}
		}
	}
	return out
}

func jsonEqual(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: response is not JSON (%v): %s", what, err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: expected body is not JSON (%v): %s", what, err, want)
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Fatalf("%s: body mismatch (-want +got):\n%s\ngot: %s", what, d, got)
	}
}

// errBody is Twilio's error body.
func errBody(status, code int, message string) string {
	b, _ := json.Marshal(map[string]any{"code": code, "message": message, "status": status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)})
	return string(b)
}

func notFoundBody(path string) string {
	return errBody(404, 20404, "The requested resource "+path+" was not found")
}

func get(path string) request { return request{method: http.MethodGet, path: path} }
func getQ(path, query string) request {
	return request{method: http.MethodGet, path: path, form: query}
}
func post(path, form string) request { return request{method: http.MethodPost, path: path, form: form} }
func del(path string) request        { return request{method: http.MethodDelete, path: path} }
func ok(r request, status int) step  { return step{request: r, status: status, body: "*"} }
func want(r request, status int, body string) step {
	return step{request: r, status: status, body: body}
}

// form encodes key/value pairs in order.
func form(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]) + "=" + url.QueryEscape(kv[i+1]))
	}
	return b.String()
}
