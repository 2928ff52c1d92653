package parleytest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The emulator's controls (docs/emulator.md), one call each, for a Server
// started with Emulator(). They go through the HTTP API, as a test suite
// in any other language calls them.

// Reset brings the server back to a fresh start, keeping its API keys.
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	s.control(t, "POST", "/parley/v1/Reset", nil, http.StatusOK, nil)
}

// Import loads a fixture (docs/fixtures.schema.json): JSON text as a
// string or []byte, or a core.Fixture. It returns the counts of what it
// created. (A service the document makes the default replaces the
// server's: s.DefaultServiceSid still names the old one.)
func (s *Server) Import(t testing.TB, doc any) map[string]int {
	t.Helper()
	var body []byte
	switch d := doc.(type) {
	case string:
		body = []byte(d)
	case []byte:
		body = d
	default:
		var err error
		if body, err = json.Marshal(d); err != nil {
			t.Fatalf("parleytest: fixture: %v", err)
		}
	}
	var res struct{ Created map[string]int }
	s.call(t, "POST", "/parley/v1/Import", "application/json", bytes.NewReader(body), http.StatusCreated, &res)
	return res.Created
}

// Export returns everything the server holds as a fixture, JSON text.
func (s *Server) Export(t testing.TB) string {
	t.Helper()
	var raw json.RawMessage
	s.call(t, "GET", "/parley/v1/Export", "", nil, http.StatusOK, &raw)
	return string(raw)
}

// Advance moves the server's clock forward by d and returns its new time,
// once the conversation timers that fell due have fired.
func (s *Server) Advance(t testing.TB, d time.Duration) time.Time {
	t.Helper()
	var clock struct{ Now string }
	s.control(t, "POST", "/parley/v1/Clock", url.Values{"Advance": {isoSeconds(d)}}, http.StatusOK, &clock)
	now, err := time.Parse("2006-01-02T15:04:05.000Z07:00", clock.Now)
	if err != nil {
		t.Fatalf("parleytest: clock: %v", err)
	}
	return now
}

// isoSeconds writes d as an ISO 8601 duration in seconds, PT7200S or
// PT0.5S.
func isoSeconds(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}

// Fault is a rule of POST /parley/v1/Faults: the requests it matches (a
// Method, "" for any, and a Path pattern where * is one segment) answer
// with Status (Code and Message default to Twilio's for 429, 500, 503),
// after Delay, for Count of them (0: all) or a Fraction (0: all).
type Fault struct {
	Method, Path string
	Status, Code int
	Message      string
	RetryAfter   int
	Delay        time.Duration
	Count        int
	Fraction     float64
}

// Fault adds a fault rule and returns its SID.
func (s *Server) Fault(t testing.TB, f Fault) string {
	t.Helper()
	form := url.Values{"Path": {f.Path}}
	set := func(name string, v int) {
		if v != 0 {
			form.Set(name, strconv.Itoa(v))
		}
	}
	if f.Method != "" {
		form.Set("Method", f.Method)
	}
	set("Status", f.Status)
	set("Code", f.Code)
	set("RetryAfter", f.RetryAfter)
	set("Count", f.Count)
	if f.Message != "" {
		form.Set("Message", f.Message)
	}
	if f.Delay > 0 {
		form.Set("Delay", isoSeconds(f.Delay))
	}
	if f.Fraction > 0 {
		form.Set("Fraction", strconv.FormatFloat(f.Fraction, 'f', -1, 64))
	}
	var rule struct{ Sid string }
	s.control(t, "POST", "/parley/v1/Faults", form, http.StatusCreated, &rule)
	return rule.Sid
}

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults(t testing.TB) {
	t.Helper()
	s.control(t, "DELETE", "/parley/v1/Faults", nil, http.StatusNoContent, nil)
}

// Delivery is a webhook delivery of the outbox, as
// GET /parley/v1/WebhookDeliveries lists it.
type Delivery struct {
	Sid       string `json:"sid"`
	EventType string `json:"event_type"`
	Target    string `json:"target"`
	Params    string `json:"params"`
	Status    string `json:"status"`
	Attempts  int    `json:"attempts"`
}

// Deliveries lists the webhook outbox, oldest first (up to 100).
func (s *Server) Deliveries(t testing.TB) []Delivery {
	t.Helper()
	var page struct {
		WebhookDeliveries []Delivery `json:"webhook_deliveries"`
	}
	s.call(t, "GET", "/parley/v1/WebhookDeliveries?PageSize=100", "", nil, http.StatusOK, &page)
	return page.WebhookDeliveries
}

// RetryDelivery sends a delivery again now.
func (s *Server) RetryDelivery(t testing.TB, sid string) {
	t.Helper()
	s.control(t, "POST", "/parley/v1/WebhookDeliveries/"+sid+"/Retry", nil, http.StatusOK, nil)
}

// ClearDeliveries empties the webhook outbox.
func (s *Server) ClearDeliveries(t testing.TB) {
	t.Helper()
	s.control(t, "DELETE", "/parley/v1/WebhookDeliveries", nil, http.StatusNoContent, nil)
}

// control calls one control with a form.
func (s *Server) control(t testing.TB, method, path string, form url.Values, status int, out any) {
	t.Helper()
	s.call(t, method, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), status, out)
}

// call calls one control with the account's credentials and decodes its
// answer into out.
func (s *Server) call(t testing.TB, method, path, ctype string, body io.Reader, status int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.SetBasicAuth(s.AccountSid, s.AuthToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("parleytest: %s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("parleytest: %s %s: %d %s (is the server in emulator mode? parleytest.New(t, parleytest.Emulator()))",
			method, path, res.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("parleytest: %s %s: %v: %s", method, path, err, b)
		}
	}
}
