package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/twilsock"
	"github.com/parleyhq/parley/webhook"
)

// Without emulator mode the controls are not there: Twilio's 404, as for
// any unknown path.
func TestEmulatorControlsOff(t *testing.T) {
	t.Parallel()
	c := rawClient{t: t, srv: parleytest.New(t)}
	for _, method := range []string{"GET", "POST"} {
		r := c.do(method, "/parley/v1/Clock", "Advance=PT1H")
		if r.status != 404 || r.raw != notFoundBody("/parley/v1/Clock") {
			t.Errorf("%s Clock without emulator mode: %d %s", method, r.status, r.raw)
		}
	}
}

// TestEmulatorClock: the clock moves forward only, by Advance or to Set,
// and what reads time follows it: new resources' dates, conversation
// timers (fired before the answer), access tokens (a live socket whose
// token the move expired is closed with 410) and webhook retries.
func TestEmulatorClock(t *testing.T) {
	t.Parallel()
	var attempts atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // retried in an hour
		}
	}))
	defer receiver.Close()
	srv := parleytest.NewWith(t, parleytest.Options{Emulator: true, Webhooks: webhook.DispatcherOptions{Backoff: time.Hour}})
	c := rawClient{t: t, srv: srv}
	url := srv.URL + "/parley/v1/Clock"

	got := c.must("GET", "/parley/v1/Clock", "", 200)
	start := parseMillis(t, got["now"])
	if d := time.Since(start); d < -time.Second || d > time.Second || got["offset_seconds"] != 0.0 || got["movable"] != true || got["url"] != url {
		t.Fatalf("clock at start: %v", got)
	}

	// Refusals, each Twilio's 400.
	for _, bad := range []struct{ form, message string }{
		{"", "Give exactly one of Advance (an ISO 8601 duration such as PT2H) and Set (a time such as 2030-01-01T00:00:00Z)"},
		{"Advance=PT1H&Set=2030-01-01T00:00:00Z", "Give exactly one of Advance (an ISO 8601 duration such as PT2H) and Set (a time such as 2030-01-01T00:00:00Z)"},
		{"Advance=2h", `Invalid Advance: "2h" is not an ISO 8601 duration such as PT10M`},
		{"Set=2020-01-01T00:00:00Z", "The clock only moves forward: 2020-01-01T00:00:00Z is before its time, " + time.Now().UTC().Format("2006-01-02T15")},
		{"Advance=P200Y", "The clock stays less than 100 years ahead of the system's time"},
		{"Advance=P100Y", "The clock stays less than 100 years ahead of the system's time"},
	} {
		r := c.do("POST", "/parley/v1/Clock", bad.form)
		if r.status != 400 || r.body["code"] != 20001.0 || !strings.HasPrefix(r.body["message"].(string), bad.message) {
			t.Errorf("POST Clock %q: %d %s", bad.form, r.status, r.raw)
		}
	}

	// A conversation that goes inactive after 5 minutes, a webhook target
	// that fails once, and a client whose token lasts an hour.
	c.must("POST", "/v1/Conversations", "UniqueName=timed&Timers.Inactive=PT5M", 201)
	c.must("POST", "/v1/Configuration/Webhooks", "Target=webhook&PostWebhookUrl="+receiver.URL+"&Filters=onUserAdded&Method=POST", 200)
	post := func(path, form string) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Webhook-Enabled", "true")
		req.SetBasicAuth(srv.AccountSid, srv.AuthToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 201 {
			t.Fatalf("POST %s: %v %v", path, res, err)
		}
		res.Body.Close()
	}
	post("/v1/Users", "Identity=alice")
	waitFor(t, "the first attempt", func() bool { return attempts.Load() == 1 })
	ws := signedInSocket(t, srv, "alice") // its token: an hour from the clock's time

	got = c.must("POST", "/parley/v1/Clock", "Advance=PT6M", 200)
	if got["offset_seconds"] != 360.0 {
		t.Fatalf("after PT6M: %v", got)
	}
	// The timer fired before the answer.
	if conv := c.must("GET", "/v1/Conversations/timed", "", 200); conv["state"] != "inactive" {
		t.Fatalf("5 minutes' inactivity timer after 6 minutes: state %v", conv["state"])
	}
	// New resources are dated by the clock.
	user := c.must("POST", "/v1/Users", "Identity=bob", 201)
	if d := parseDate(t, user["date_created"]).Sub(start); d < 6*time.Minute-time.Second || d > 6*time.Minute+2*time.Second {
		t.Fatalf("created %v after the start, want 6 minutes", d)
	}

	// An hour on: the retry is due, and alice's token has expired.
	got = c.must("POST", "/parley/v1/Clock", "Set="+start.Add(66*time.Minute+time.Second).UTC().Format(time.RFC3339), 200)
	if got["offset_seconds"].(float64) < 3960 || got["offset_seconds"].(float64) > 3962 {
		t.Fatalf("after Set: %v", got)
	}
	waitFor(t, "the retry", func() bool { return attempts.Load() == 2 })
	closed := make(chan int, 1)
	go func() {
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				close(closed)
				return
			}
			if f, err := twilsock.Decode(b); err == nil && f.Header.Method == "close" {
				closed <- f.Header.Status.Code
			}
		}
	}()
	select {
	case code := <-closed:
		if code != 410 {
			t.Fatalf("socket closed with %d, want 410", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the socket of an expired token is still open")
	}
}

func parseMillis(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	at, err := time.Parse("2006-01-02T15:04:05.000Z07:00", s)
	if err != nil {
		t.Fatalf("now %v: %v", v, err)
	}
	return at
}

func parseDate(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("date %v: %v", v, err)
	}
	return at
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s in 5 s", what)
		}
	}
}

// signedInSocket opens a client socket signed in as identity with an
// hour's token from the clock's time.
func signedInSocket(t *testing.T, srv *parleytest.Server, identity string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v3/wsconnect", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	b, _ := twilsock.Encode(twilsock.Frame{Header: twilsock.Header{Method: "init", ID: "TM1", Token: parleytest.Token(t, srv, identity, "")}})
	if err := ws.Write(ctx, websocket.MessageBinary, b); err != nil {
		t.Fatal(err)
	}
	_, b, err = ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := twilsock.Decode(b); err != nil || f.Header.Status == nil || f.Header.Status.Code != 200 {
		t.Fatalf("init: %+v %v", f.Header, err)
	}
	return ws
}
