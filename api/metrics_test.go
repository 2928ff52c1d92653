package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/parleytest"
)

// TestMetrics: /metrics (no credentials) counts requests by route
// pattern, method and status, with their latency, and the client
// connections subscribed; the series move with what the node does.
func TestMetrics(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := rawClient{t: t, srv: srv}
	scrape := func() string {
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
	if w.Code != 404 || !strings.Contains(w.Body.String(), `"code":20404`) {
		t.Fatalf("/metrics off: %d %s", w.Code, w.Body.String())
	}
}
