package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/twilsock"
	"github.com/parleyhq/parley/webhook"
)

// webhooksOn is the header that makes a REST write send its webhooks.
var webhooksOn = map[string]string{"X-Twilio-Webhook-Enabled": "true"}

const formType = "application/x-www-form-urlencoded"

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
		if strings.HasPrefix(bad.form, "Set=2020") {
			// The message ends with the clock's time, to the second: the
			// rest of the body is exact.
			msg, _ := r.body["message"].(string)
			if r.status != 400 || !strings.HasPrefix(msg, bad.message) || r.raw != errBody(400, 20001, msg) {
				t.Errorf("POST Clock %q: %d %s", bad.form, r.status, r.raw)
			}
		} else if r.status != 400 || r.raw != errBody(400, 20001, bad.message) {
			t.Errorf("POST Clock %q: %d %s", bad.form, r.status, r.raw)
		}
	}

	// A conversation that goes inactive after 5 minutes, a webhook target
	// that fails once, and a client whose token lasts an hour.
	c.must("POST", "/v1/Conversations", "UniqueName=timed&Timers.Inactive=PT5M", 201)
	c.must("POST", "/v1/Configuration/Webhooks", "Target=webhook&PostWebhookUrl="+receiver.URL+"&Filters=onUserAdded&Method=POST", 200)
	if r := c.send("POST", "/v1/Users", formType, "Identity=alice", webhooksOn); r.status != 201 {
		t.Fatalf("alice: %d %s", r.status, r.raw)
	}
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

	// An hour on: the retry is due, and alice's token has expired. (Set
	// takes whole seconds: the offset is 66m1s less the time since start,
	// less the start's milliseconds.)
	got = c.must("POST", "/parley/v1/Clock", "Set="+start.Add(66*time.Minute+time.Second).UTC().Format(time.RFC3339), 200)
	if got["offset_seconds"].(float64) < 3959 || got["offset_seconds"].(float64) > 3961 {
		t.Fatalf("after Set: %v", got)
	}
	waitFor(t, "the retry", func() bool { return attempts.Load() == 2 })
	if code := closeCode(t, ws); code != 410 {
		t.Fatalf("the socket of an expired token closed with %d, want 410", code)
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

// TestEmulatorReset: a reset leaves a fresh start (one default service,
// under the SID it had, with its roles and configuration) and the
// account; its API keys stay unless KeepKeys=false; connected clients are
// told to reconnect.
func TestEmulatorReset(t *testing.T) {
	t.Parallel()
	srv := parleytest.NewWith(t, parleytest.Options{Emulator: true})
	c := rawClient{t: t, srv: srv}
	is := srv.DefaultServiceSid
	fresh := func(path string) string { return c.do("GET", path, "").raw }
	freshConfig, freshServiceConfig := fresh("/v1/Configuration"), fresh("/v1/Services/"+is+"/Configuration")
	key, secret, err := srv.App.CreateAPIKey(context.Background(), "suite")
	if err != nil {
		t.Fatal(err)
	}

	// Something of everything.
	c.must("POST", "/v1/Users", "Identity=alice", 201)
	c.must("POST", "/v1/Conversations", "UniqueName=room", 201)
	c.must("POST", "/v1/Conversations/room/Participants", "Identity=alice", 201)
	c.must("POST", "/v1/Conversations/room/Messages", "Author=alice&Body=hi", 201)
	c.must("POST", "/v1/Conversations/room/Webhooks", "Target=webhook&Configuration.Url=https%3A%2F%2Fbot.test%2F&Configuration.Filters=onMessageAdded", 201)
	c.must("POST", "/v1/Services", "FriendlyName=other", 201)
	c.must("POST", "/v1/Roles", "FriendlyName=mod&Type=conversation&Permission=sendMessage", 201)
	c.must("POST", "/v1/Credentials", "Type=fcm&Secret=s", 201)
	c.must("POST", "/v1/Configuration", "DefaultInactiveTimer=PT10M", 200)
	c.must("POST", "/v1/Services/"+is+"/Configuration", "ReachabilityEnabled=true", 200)
	c.must("POST", "/v1/Configuration/Addresses", "Type=sms&Address=%2B15551230000", 201)
	ws := signedInSocket(t, srv, "bob")

	r := c.do("POST", "/parley/v1/Reset", "")
	stamp, _ := r.body["date_reset"].(string)
	want := `{"account_sid":"` + srv.AccountSid + `","default_chat_service_sid":"` + is + `","api_keys_kept":true,"date_reset":"` +
		stamp + `","url":"` + srv.URL + `/parley/v1/Reset"}`
	if r.status != 200 || r.raw != want {
		t.Fatalf("reset: %d %s, want %s", r.status, r.raw, want)
	}
	if d := time.Since(parseDate(t, stamp)); d < -time.Second || d > 2*time.Second {
		t.Fatalf("date_reset %v", stamp)
	}

	// The socket of bob, who is no more, is told to reconnect.
	if code := closeCode(t, ws); code != 308 {
		t.Fatalf("after the reset the socket was closed with %d, want 308", code)
	}

	// Empty lists, the one service with its four roles, the first
	// configurations.
	for path, key := range map[string]string{
		"/v1/Users": "users", "/v1/Conversations": "conversations", "/v1/Credentials": "credentials",
		"/v1/Configuration/Addresses": "address_configurations", "/parley/v1/WebhookDeliveries": "webhook_deliveries",
		"/v1/Services/" + is + "/Bindings": "bindings",
	} {
		if got := c.must("GET", path, "", 200)[key].([]any); len(got) != 0 {
			t.Errorf("%s after the reset: %v", path, got)
		}
	}
	services := c.must("GET", "/v1/Services", "", 200)["services"].([]any)
	if len(services) != 1 || services[0].(map[string]any)["sid"] != is || services[0].(map[string]any)["friendly_name"] != "Default Conversations Service" {
		t.Fatalf("services after the reset: %v", services)
	}
	var names []string
	for _, role := range c.must("GET", "/v1/Roles", "", 200)["roles"].([]any) {
		names = append(names, role.(map[string]any)["friendly_name"].(string))
	}
	if strings.Join(names, ",") != "service admin,service user,channel admin,channel user" {
		t.Fatalf("roles after the reset: %v", names)
	}
	if got := fresh("/v1/Configuration"); got != freshConfig {
		t.Errorf("configuration after the reset: %s, want %s", got, freshConfig)
	}
	if got := fresh("/v1/Services/" + is + "/Configuration"); !sameButRoles(got, freshServiceConfig) {
		t.Errorf("service configuration after the reset: %s, want %s", got, freshServiceConfig)
	}

	// The key still works; after KeepKeys=false it does not.
	withKey := func() int {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/Users", nil)
		req.SetBasicAuth(key.Sid, secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := withKey(); got != 200 {
		t.Fatalf("API key after a reset: %d", got)
	}
	if r := c.must("POST", "/parley/v1/Reset", "KeepKeys=false", 200); r["api_keys_kept"] != false {
		t.Fatalf("KeepKeys=false: %v", r)
	}
	if got := withKey(); got != 401 {
		t.Fatalf("API key after a reset without keys: %d", got)
	}
	if r := c.do("POST", "/parley/v1/Reset", "KeepKeys=maybe"); r.status != 400 || r.raw != errBody(400, 20001, "Invalid KeepKeys: must be true or false") {
		t.Fatalf("KeepKeys=maybe: %d %s", r.status, r.raw)
	}
}

// closeCode reads a client socket until twilsock's close frame and
// returns its status, or fails after 5 s.
func closeCode(t *testing.T, ws *websocket.Conn) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("no close frame: %v", err)
		}
		if f, err := twilsock.Decode(b); err == nil && f.Header.Method == "close" {
			return f.Header.Status.Code
		}
	}
}

// sameButRoles compares two service configurations but for the role
// SIDs, which a reset mints anew.
func sameButRoles(a, b string) bool {
	role := regexp.MustCompile(`RL[0-9a-f]{32}`)
	return role.ReplaceAllString(a, "RL") == role.ReplaceAllString(b, "RL")
}

// TestEmulatorResetConcurrent: writes racing resets each run wholly
// before or after one: every answer is a success or Twilio's 4xx (a
// conversation a reset took is a 404), never a 5xx, and a last reset
// leaves nothing behind.
func TestEmulatorResetConcurrent(t *testing.T) {
	t.Parallel()
	srv := parleytest.NewWith(t, parleytest.Options{Emulator: true})
	c := rawClient{t: t, srv: srv}
	// The webhook dispatcher's bookkeeping reaches the store outside the
	// reset's guard: a receiver keeps it busy, and the outbox controls
	// race the resets too.
	var received atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { received.Add(1) }))
	t.Cleanup(receiver.Close)
	hook := "PostWebhookUrl=" + url.QueryEscape(receiver.URL) + "&Filters=onMessageAdded&Filters=onUserAdded&Method=POST"
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes atomic.Int64
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			var list struct {
				Deliveries []struct{ Sid string } `json:"webhook_deliveries"`
			}
			r := c.do("GET", "/parley/v1/WebhookDeliveries", "")
			if r.status != 200 || json.Unmarshal([]byte(r.raw), &list) != nil {
				t.Errorf("deliveries during resets: %d %s", r.status, r.raw)
				return
			}
			for _, d := range list.Deliveries {
				switch got := c.do("POST", "/parley/v1/WebhookDeliveries/"+d.Sid+"/Retry", ""); {
				case got.status == 200:
				case got.status == 404 && got.raw == notFoundBody("/parley/v1/WebhookDeliveries/"+d.Sid+"/Retry"):
				case got.status == 409 && got.raw == errBody(409, 20001, "Delivery "+d.Sid+" is being sent now"):
				default:
					t.Errorf("Retry during resets: %d %s", got.status, got.raw)
				}
			}
			if got := c.do("DELETE", "/parley/v1/WebhookDeliveries", ""); got.status != 204 {
				t.Errorf("DELETE deliveries during resets: %d %s", got.status, got.raw)
			}
		}
	})
	for w := range 4 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				room := fmt.Sprintf("room-%d-%d", w, n)
				// A reset takes the webhook settings away: set again each round.
				if got := c.do("POST", "/v1/Configuration/Webhooks", hook); got.status != 200 {
					t.Errorf("webhook settings during resets: %d %s", got.status, got.raw)
				}
				for _, r := range [][3]string{
					{"POST", "/v1/Users", "Identity=" + room},
					{"POST", "/v1/Conversations", "UniqueName=" + room},
					{"POST", "/v1/Conversations/" + room + "/Participants", "Identity=" + room},
					{"POST", "/v1/Conversations/" + room + "/Messages", "Author=" + room + "&Body=hi"},
				} {
					got := c.send(r[0], r[1], formType, r[2], webhooksOn)
					switch {
					case got.status == 201:
						writes.Add(1)
					case got.status == 404 && got.body["code"] == 20404.0:
					default:
						t.Errorf("%s %s during resets: %d %s", r[0], r[1], got.status, got.raw)
					}
				}
			}
		})
	}
	for range 20 {
		time.Sleep(5 * time.Millisecond)
		c.must("POST", "/parley/v1/Reset", "", 200)
	}
	close(stop)
	wg.Wait()
	if writes.Load() == 0 || received.Load() == 0 {
		t.Fatalf("%d writes and %d webhooks beside the resets", writes.Load(), received.Load())
	}
	c.must("POST", "/parley/v1/Reset", "", 200)
	for path, key := range map[string]string{"/v1/Users": "users", "/v1/Conversations": "conversations"} {
		if got := c.must("GET", path, "", 200)[key].([]any); len(got) != 0 {
			t.Errorf("%s after the last reset: %d left", path, len(got))
		}
	}
}

// TestEmulatorWebhookControls: a delivery is fetched by SID; Retry sends
// a failed or delivered one again at once (its attempts kept); DELETE
// empties the outbox; finished deliveries past the retention go. Off
// emulator mode, Retry is Twilio's 404 and DELETE the list's 405.
func TestEmulatorWebhookControls(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	var hits atomic.Int32
	fail.Store(true)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer receiver.Close()
	srv := parleytest.NewWith(t, parleytest.Options{Emulator: true, Webhooks: webhook.DispatcherOptions{MaxAttempts: 1}})
	c := rawClient{t: t, srv: srv}
	c.must("POST", "/v1/Configuration/Webhooks", "Target=webhook&PostWebhookUrl="+receiver.URL+"&Filters=onUserAdded&Method=POST", 200)
	addUser := func(identity string) { // with its onUserAdded webhook
		if r := c.send("POST", "/v1/Users", formType, "Identity="+identity, webhooksOn); r.status != 201 {
			t.Fatalf("user %s: %d %s", identity, r.status, r.raw)
		}
	}
	addUser("alice")
	status := func(sid string) map[string]any { return c.must("GET", "/parley/v1/WebhookDeliveries/"+sid, "", 200) }
	var sid string
	waitFor(t, "a failed delivery", func() bool {
		list := c.must("GET", "/parley/v1/WebhookDeliveries", "", 200)["webhook_deliveries"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["status"] != "failed" {
			return false
		}
		sid = list[0].(map[string]any)["sid"].(string)
		// Fetched, it is the list's item exactly.
		if got := c.do("GET", "/parley/v1/WebhookDeliveries/"+sid, "").raw; !jsonSame(got, list[0]) {
			t.Fatalf("fetched %s, listed %v", got, list[0])
		}
		return true
	})

	// Retried while the receiver still fails: one more attempt, failed.
	r := c.must("POST", "/parley/v1/WebhookDeliveries/"+sid+"/Retry", "", 200)
	if r["sid"] != sid || r["status"] != "pending" || r["attempts"] != 1.0 {
		t.Fatalf("retry: %v", r)
	}
	waitFor(t, "the second attempt", func() bool { return status(sid)["attempts"] == 2.0 && status(sid)["status"] == "failed" })
	// Retried once it answers: delivered.
	fail.Store(false)
	c.must("POST", "/parley/v1/WebhookDeliveries/"+sid+"/Retry", "", 200)
	waitFor(t, "the delivery", func() bool { return status(sid)["status"] == "delivered" && status(sid)["attempts"] == 3.0 })
	if hits.Load() != 3 {
		t.Fatalf("the receiver was hit %d times, want 3", hits.Load())
	}
	for _, bad := range []string{"WD00000000000000000000000000000000", "nope"} {
		if r := c.do("POST", "/parley/v1/WebhookDeliveries/"+bad+"/Retry", ""); r.status != 404 || r.raw != notFoundBody("/parley/v1/WebhookDeliveries/"+bad+"/Retry") {
			t.Errorf("retry %s: %d %s", bad, r.status, r.raw)
		}
	}

	// Past the retention, the finished delivery goes.
	c.must("POST", "/parley/v1/Clock", "Advance=P8D", 200)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.App.RunDeliveryRetention(ctx, 7*24*time.Hour); close(done) }()
	waitFor(t, "pruning", func() bool {
		return c.do("GET", "/parley/v1/WebhookDeliveries/"+sid, "").status == 404
	})
	cancel()
	<-done

	// DELETE empties the outbox.
	addUser("bob")
	addUser("carol")
	if got := c.must("GET", "/parley/v1/WebhookDeliveries", "", 200)["webhook_deliveries"].([]any); len(got) != 2 {
		t.Fatalf("before DELETE: %v", got)
	}
	if r := c.do("DELETE", "/parley/v1/WebhookDeliveries", ""); r.status != 204 {
		t.Fatalf("DELETE: %d %s", r.status, r.raw)
	}
	if got := c.must("GET", "/parley/v1/WebhookDeliveries", "", 200)["webhook_deliveries"].([]any); len(got) != 0 {
		t.Fatalf("after DELETE: %v", got)
	}

	off := rawClient{t: t, srv: parleytest.New(t)}
	if r := off.do("POST", "/parley/v1/WebhookDeliveries/"+sid+"/Retry", ""); r.status != 404 || r.raw != notFoundBody("/parley/v1/WebhookDeliveries/"+sid+"/Retry") {
		t.Errorf("Retry off emulator mode: %d %s", r.status, r.raw)
	}
	if r := off.do("DELETE", "/parley/v1/WebhookDeliveries", ""); r.status != 405 || r.raw != errBody(405, 20004, "Method not allowed") {
		t.Errorf("DELETE off emulator mode: %d %s", r.status, r.raw)
	}
}

// jsonSame reports whether raw JSON text holds the value v.
func jsonSame(raw string, v any) bool {
	var got any
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		return false
	}
	return reflect.DeepEqual(got, v)
}

// TestEmulatorFaults: a rule answers matching requests as Twilio under
// load would (429 with 20429 and Retry-After, 503), for a count or an
// even fraction of them, or late; GET lists the rules with their
// counts, DELETE clears them, and /parley/ is never faulted.
func TestEmulatorFaults(t *testing.T) {
	t.Parallel()
	srv := parleytest.NewWith(t, parleytest.Options{Emulator: true})
	c := rawClient{t: t, srv: srv}
	r := c.do("POST", "/parley/v1/Faults", "Method=POST&Path=/v1/Users&Status=429&RetryAfter=2&Count=2")
	want := `{"sid":"` + fmt.Sprint(r.body["sid"]) + `","method":"POST","path":"/v1/Users","status":429,"code":20429,` +
		`"message":"Too Many Requests","retry_after":2,"delay_ms":0,"count":2,"fraction":"1","matched":0,"hits":0,` +
		`"date_created":"` + fmt.Sprint(r.body["date_created"]) + `"}`
	if r.status != 201 || r.raw != want || !strings.HasPrefix(r.body["sid"].(string), "FR") {
		t.Fatalf("create: %d %s, want %s", r.status, r.raw, want)
	}
	tooMany := errBody(429, 20429, "Too Many Requests")
	for i := range 2 {
		r := c.do("POST", "/v1/Users", "Identity=alice")
		if r.status != 429 || r.raw != tooMany || r.header.Get("Retry-After") != "2" {
			t.Fatalf("request %d under the rule: %d %s Retry-After %q", i, r.status, r.raw, r.header.Get("Retry-After"))
		}
	}
	c.must("POST", "/v1/Users", "Identity=alice", 201) // the rule's count is spent
	c.must("GET", "/v1/Users", "", 200)                // GET never matched it

	// Every second GET of a user: 503.
	c.must("POST", "/parley/v1/Faults", "Path=/v1/Users/*&Status=503&Fraction=0.5", 201)
	var got []int
	for range 4 {
		got = append(got, c.do("GET", "/v1/Users/alice", "").status)
	}
	if fmt.Sprint(got) != "[200 503 200 503]" {
		t.Fatalf("half of the fetches: %v", got)
	}
	if r := c.do("GET", "/v1/Users/alice", ""); r.status != 200 {
		t.Fatalf("fifth fetch: %d", r.status)
	} else if r := c.do("GET", "/v1/Users/alice", ""); r.status != 503 || r.raw != errBody(503, 20503, "Service unavailable") {
		t.Fatalf("sixth fetch: %d %s", r.status, r.raw)
	}

	// A delay alone: the answer is right, and late.
	c.must("POST", "/parley/v1/Faults", "Path=/v1/Conversations&Delay=PT0.2S", 201)
	began := time.Now()
	c.must("GET", "/v1/Conversations", "", 200)
	if d := time.Since(began); d < 200*time.Millisecond {
		t.Fatalf("delayed by %v, want 200ms", d)
	}

	// /parley/ is never faulted.
	c.must("POST", "/parley/v1/Faults", "Path=/parley/v1/Clock&Status=500", 201)
	c.must("GET", "/parley/v1/Clock", "", 200)

	list := c.must("GET", "/parley/v1/Faults", "", 200)["faults"].([]any)
	var counts []string
	for _, f := range list {
		f := f.(map[string]any)
		counts = append(counts, fmt.Sprintf("%s %v/%v", f["path"], f["hits"], f["matched"]))
	}
	if strings.Join(counts, ", ") != "/v1/Users 2/2, /v1/Users/* 3/6, /v1/Conversations 1/1, /parley/v1/Clock 0/0" {
		t.Fatalf("rules: %v", counts)
	}
	// Paged: two at a time, forward and back, the same rules in order.
	var sids, forward []any
	for _, f := range list {
		sids = append(sids, f.(map[string]any)["sid"])
	}
	page := c.must("GET", "/parley/v1/Faults", "PageSize=2", 200)
	for {
		for _, f := range page["faults"].([]any) {
			forward = append(forward, f.(map[string]any)["sid"])
		}
		next, _ := page["meta"].(map[string]any)["next_page_url"].(string)
		if next == "" {
			break
		}
		u, _ := url.Parse(next)
		page = c.must("GET", u.Path, u.RawQuery, 200)
	}
	prev, _ := page["meta"].(map[string]any)["previous_page_url"].(string)
	u, _ := url.Parse(prev)
	back := c.must("GET", u.Path, u.RawQuery, 200)["faults"].([]any)
	if fmt.Sprint(forward) != fmt.Sprint(sids) || len(back) != 2 || back[0].(map[string]any)["sid"] != sids[0] || back[1].(map[string]any)["sid"] != sids[1] {
		t.Fatalf("paged rules: forward %v, back %v, want %v", forward, back, sids)
	}

	for _, bad := range []struct{ form, message string }{
		{"Status=429", "Missing required parameter Path in the post body"},
		{"Path=/v1/Users", "Give a Status to answer with, a Delay, or both"},
		{"Path=/v1/Users&Status=418", "Missing required parameter Code in the post body"},
		{"Path=/v1/Users&Status=418&Code=1", "Missing required parameter Message in the post body"},
		{"Path=/v1/Users&Delay=PT1S&Code=1", "Code, Message and RetryAfter go with a Status"},
		{"Path=v1&Status=429", `Invalid Path: "v1" is not a path pattern such as /v1/Conversations/*/Messages`},
		{"Path=/v1/[&Status=429", `Invalid Path: "/v1/[" is not a path pattern such as /v1/Conversations/*/Messages`},
		{"Path=/v1/Users&Status=429&Fraction=0", `Invalid Fraction: "0" is not a number above 0 and at most 1`},
		{"Path=/v1/Users&Delay=PT2M", `Invalid Delay: "PT2M" is not an ISO 8601 duration of at most a minute, such as PT2S`},
	} {
		if r := c.do("POST", "/parley/v1/Faults", bad.form); r.status != 400 || r.raw != errBody(400, 20001, bad.message) {
			t.Errorf("%s: %d %s", bad.form, r.status, r.raw)
		}
	}
	if r := c.do("POST", "/parley/v1/Faults", "Path=/v1/Users&Status=700"); r.status != 400 || r.raw != errBody(400, 20001, "Invalid Status: must be an integer from 400 to 599") {
		t.Errorf("Status=700: %d %s", r.status, r.raw)
	}

	if r := c.do("DELETE", "/parley/v1/Faults", ""); r.status != 204 {
		t.Fatalf("DELETE: %d %s", r.status, r.raw)
	}
	if got := c.must("GET", "/parley/v1/Faults", "", 200)["faults"].([]any); len(got) != 0 {
		t.Fatalf("after DELETE: %v", got)
	}
	for range 2 {
		c.must("GET", "/v1/Users/alice", "", 200)
	}
}

// TestTwilioRateLimits: with Twilio's rates on, a service takes 150 user
// writes at once (the burst) and then 30 a second: the next is 429 with
// 20429 and Retry-After, and writes nothing; the clock moving a second on
// refills 30. Buckets are per service, and per conversation for messages.
// The clock stands still but where the test moves it.
func TestTwilioRateLimits(t *testing.T) {
	t.Parallel()
	var at atomic.Int64
	at.Store(clock.UnixNano())
	now := func() time.Time { return time.Unix(0, at.Load()) }
	srv := parleytest.NewWith(t, parleytest.Options{RateLimits: true, Core: core.Options{Now: now}})
	c := rawClient{t: t, srv: srv}
	for i := range 150 {
		c.must("POST", "/v1/Users", fmt.Sprint("Identity=u", i), 201)
	}
	if r := c.do("POST", "/v1/Users", "Identity=over"); r.status != 429 || r.raw != errBody(429, 20429, "Too Many Requests") ||
		r.header.Get("Retry-After") != "1" {
		t.Fatalf("the 151st user write: %d %s Retry-After %q", r.status, r.raw, r.header.Get("Retry-After"))
	}
	c.must("GET", "/v1/Users/over", "", 404)                                                    // nothing written
	c.must("GET", "/v1/Users/u0", "", 200)                                                      // reads are not limited
	c.must("POST", "/v1/Roles", "FriendlyName=r&Type=conversation&Permission=sendMessage", 201) // roles: a bucket of their own
	other := c.must("POST", "/v1/Services", "FriendlyName=other", 201)["sid"].(string)
	c.must("POST", "/v1/Services/"+other+"/Users", "Identity=elsewhere", 201)

	at.Add(int64(time.Second))
	for i := range 30 {
		c.must("POST", "/v1/Users", fmt.Sprint("Identity=v", i), 201)
	}
	if r := c.do("POST", "/v1/Users", "Identity=over"); r.status != 429 || r.raw != errBody(429, 20429, "Too Many Requests") {
		t.Fatalf("the 31st write of the next second: %d %s", r.status, r.raw)
	}

	// Messages: per conversation.
	c.must("POST", "/v1/Conversations", "UniqueName=a", 201)
	c.must("POST", "/v1/Conversations", "UniqueName=b", 201)
	for range 150 {
		c.must("POST", "/v1/Conversations/a/Messages", "Body=hi", 201)
	}
	if r := c.do("POST", "/v1/Conversations/a/Messages", "Body=hi"); r.status != 429 || r.raw != errBody(429, 20429, "Too Many Requests") {
		t.Fatalf("message 151 into a: %d %s", r.status, r.raw)
	}
	c.must("POST", "/v1/Conversations/b/Messages", "Body=hi", 201)
}

// TestEmulatorFixtures: a document imports in one call (SIDs and dates
// given or minted), again without effect, and exports in the same format;
// imported into a fresh parley, the export gives the same API answers. A
// bad document writes nothing and its error names the place.
func TestEmulatorFixtures(t *testing.T) {
	t.Parallel()
	const account = "AC0123456789abcdef0123456789abcdef"
	boot := core.BootstrapOptions{AccountSid: account, AuthToken: "fixturetoken"}
	srv := parleytest.NewWith(t, parleytest.Options{Emulator: true, Bootstrap: boot})
	c := rawClient{t: t, srv: srv}
	post := func(c rawClient, doc string) reply {
		t.Helper()
		return c.send("POST", "/parley/v1/Import", "application/json", doc, nil)
	}
	doc := `{"configuration":{"default_inactive_timer":"PT1H","webhooks":{"post_webhook_url":"https://hooks.test/post","filters":["onMessageAdded"]}},
		"services":[{"sid":"IS00000000000000000000000000000001","friendly_name":"Support","reachability_enabled":true,
		"webhooks":{"pre_webhook_url":"https://hooks.test/pre","method":"GET"},
		"notifications":{"new_message":{"enabled":true,"template":"${PARTICIPANT}: ${MESSAGE}"},"log_enabled":true},
		"users":[{"identity":"alice","friendly_name":"Alice","attributes":"{\"tier\":\"gold\"}"},{"identity":"bob"}],
		"conversations":[{"sid":"CH00000000000000000000000000000001","unique_name":"room","friendly_name":"Room",
			"timers":{"inactive":"PT10M"},"date_created":"2030-01-02T03:04:05Z","date_updated":"2030-01-02T03:04:05Z",
			"participants":[{"identity":"alice","last_read_message_index":1},{"identity":"carol"},
				{"messaging_binding":{"address":"+15551230001","proxy_address":"+15559870001"}}],
			"messages":[{"author":"alice","body":"hi","date_created":"2030-01-02T03:05:00Z"},{"author":"bob","body":"hello"},
				{"sid":"IM00000000000000000000000000000009","index":5,"author":"system","body":"later"}],
			"webhooks":[{"target":"webhook","url":"https://hooks.test/room","filters":["onMessageAdded"]}]}]}]}`
	ws := signedInSocket(t, srv, "zed") // told to reconnect by the import
	r := post(c, doc)
	if code := closeCode(t, ws); code != 308 {
		t.Fatalf("a client connected during an import: closed with %d, want 308", code)
	}
	want := `{"created":{"conversations":1,"messages":3,"participants":3,"roles":0,"services":1,"users":3,"webhooks":1},` +
		`"existing":{"conversations":0,"messages":0,"participants":0,"roles":0,"services":0,"users":0,"webhooks":0}}`
	if r.status != 201 || r.raw != want {
		t.Fatalf("import: %d %s, want %s", r.status, r.raw, want)
	}
	if r := post(c, doc); r.status != 201 || r.raw != `{"created":{"conversations":0,"messages":0,"participants":0,"roles":0,"services":0,"users":0,"webhooks":0},`+
		`"existing":{"conversations":1,"messages":3,"participants":3,"roles":0,"services":1,"users":2,"webhooks":1}}` {
		t.Fatalf("import again: %d %s", r.status, r.raw)
	}
	svc := "/v1/Services/IS00000000000000000000000000000001"
	if u := c.must("GET", svc+"/Users/alice", "", 200); u["friendly_name"] != "Alice" || u["attributes"] != `{"tier":"gold"}` {
		t.Fatalf("alice: %v", u)
	}
	msgs := c.must("GET", svc+"/Conversations/room/Messages", "", 200)["messages"].([]any)
	var got []string
	for _, m := range msgs {
		m := m.(map[string]any)
		got = append(got, fmt.Sprintf("%v %v %v %v", m["index"], m["author"], m["body"], m["date_created"]))
	}
	if strings.Join(got, "; ") != "0 alice hi 2030-01-02T03:05:00Z; 1 bob hello "+msgs[1].(map[string]any)["date_created"].(string)+"; 5 system later "+msgs[2].(map[string]any)["date_created"].(string) {
		t.Fatalf("messages: %v", got)
	}
	conv := c.must("GET", svc+"/Conversations/room", "", 200)
	if timers := conv["timers"].(map[string]any); timers["date_inactive"] != "2030-01-02T03:14:05Z" || conv["date_created"] != "2030-01-02T03:04:05Z" {
		t.Fatalf("conversation: %v", conv)
	}
	if cfg := c.must("GET", "/v1/Configuration", "", 200); cfg["default_inactive_timer"] != "PT1H" {
		t.Fatalf("account configuration: %v", cfg)
	}
	if w := c.must("GET", "/v1/Configuration/Webhooks", "", 200); w["post_webhook_url"] != "https://hooks.test/post" || fmt.Sprint(w["filters"]) != "[onMessageAdded]" {
		t.Fatalf("account webhooks: %v", w)
	}
	if w := c.must("GET", svc+"/Configuration/Webhooks", "", 200); w["pre_webhook_url"] != "https://hooks.test/pre" || w["method"] != "GET" {
		t.Fatalf("service webhooks: %v", w)
	}
	if n := c.must("GET", svc+"/Configuration/Notifications", "", 200); n["log_enabled"] != true ||
		n["new_message"].(map[string]any)["template"] != "${PARTICIPANT}: ${MESSAGE}" {
		t.Fatalf("notifications: %v", n)
	}
	if hooks := c.must("GET", svc+"/Conversations/room/Webhooks", "", 200)["webhooks"].([]any); len(hooks) != 1 ||
		hooks[0].(map[string]any)["configuration"].(map[string]any)["url"] != "https://hooks.test/room" {
		t.Fatalf("conversation webhooks: %v", hooks)
	}
	if r := c.must("POST", svc+"/Conversations/room/Messages", "Body=next", 201); r["index"] != 6.0 {
		t.Fatalf("the next message: index %v, want 6", r["index"])
	}

	// Exported and imported into a fresh parley (after a reset of it):
	// the same answers.
	export := c.do("GET", "/parley/v1/Export", "")
	if export.status != 200 {
		t.Fatalf("export: %d %s", export.status, export.raw)
	}
	fresh := rawClient{t: t, srv: parleytest.NewWith(t, parleytest.Options{Emulator: true, Bootstrap: boot})}
	if r := post(fresh, export.raw); r.status != 201 {
		t.Fatalf("import of the export: %d %s", r.status, r.raw)
	}
	for _, path := range []string{"/v1/Services", "/v1/Configuration", "/v1/Roles", "/v1/Users", "/v1/Conversations",
		svc, svc + "/Configuration", svc + "/Roles", svc + "/Users", svc + "/Conversations", svc + "/Users/alice",
		svc + "/Conversations/room/Participants", svc + "/Conversations/room/Messages", svc + "/Users/alice/Conversations",
		svc + "/Conversations/room", "/parley/v1/Export", svc + "/Configuration/Webhooks", svc + "/Configuration/Notifications",
		svc + "/Conversations/room/Webhooks", "/v1/Configuration/Webhooks"} {
		a, b := c.do("GET", path, "").raw, fresh.do("GET", path, "").raw
		if strings.ReplaceAll(a, c.srv.URL, "") != strings.ReplaceAll(b, fresh.srv.URL, "") {
			t.Errorf("GET %s differs:\n  exported: %s\n  imported: %s", path, a, b)
		}
	}

	// Bad documents: 400 naming the place, nothing written.
	users := len(c.must("GET", svc+"/Users", "", 200)["users"].([]any))
	for _, bad := range []struct {
		doc     string
		code    int
		message string
	}{
		{`{"services":[{"sid":"IS00000000000000000000000000000001","friendly_name":"Support","users":[{"identity":"dave"},{"identity":"` +
			strings.Repeat("x", 300) + `"}]}]}`, 50207, "services[0].users[1].identity: Identity too long"},
		{`{"services":[{"friendly_name":"S2","conversations":[{"unique_name":"c","messages":[{"body":"x","attributes":"{"}]}]}]}`,
			50304, "services[0].conversations[0].messages[0].attributes: Attributes not valid JSON"},
		{`{"services":[{"friendly_name":"S3","users":[{"identity":"e","role_sid":"boss"}]}]}`,
			20001, `services[0].users[0].role_sid: no role "boss" in this service`},
		{`{"services":[{"friendly_name":"S4","sid":"nope"}]}`, 20001, `services[0].sid: "nope" is not IS followed by 32 hex digits`},
		{`{"services":[{"friendly_name":"S5","users":[{"identity":7}]}]}`, 20001, "Invalid document: services.users.identity: a number where a string goes"},
		{`{"services":[],"extra":1}`, 20001, `Invalid document: unknown field "extra"`},
		{`{"services":[{"friendly_name":"a","default":true},{"friendly_name":"b","default":true}]}`, 20001, "services: at most one service is the default"},
	} {
		if r := post(c, bad.doc); r.status != 400 || r.raw != errBody(400, bad.code, bad.message) {
			t.Errorf("%.60s…: %d %s, want %d %q", bad.doc, r.status, r.raw, bad.code, bad.message)
		}
	}
	if n := len(c.must("GET", svc+"/Users", "", 200)["users"].([]any)); n != users {
		t.Fatalf("a refused import wrote users: %d, was %d", n, users)
	}
	if n := len(c.must("GET", "/v1/Services", "", 200)["services"].([]any)); n != 2 {
		t.Fatalf("a refused import wrote services: %d", n)
	}
	if r := post(rawClient{t: t, srv: parleytest.New(t)}, doc); r.status != 404 || r.raw != notFoundBody("/parley/v1/Import") {
		t.Fatalf("import off emulator mode: %d %s", r.status, r.raw)
	}
}

// TestEmulatorImportConcurrent: the same document imported twice at
// once (two suites seeding one server): both succeed, and what it holds
// is there once, created by one import and found by the other.
func TestEmulatorImportConcurrent(t *testing.T) {
	t.Parallel()
	srv := parleytest.NewWith(t, parleytest.Options{Emulator: true})
	c := rawClient{t: t, srv: srv}
	doc := `{"services":[{"sid":"IS00000000000000000000000000000007","friendly_name":"Shared",
		"users":[{"identity":"ann"},{"identity":"ben"}],
		"conversations":[{"unique_name":"lobby","participants":[{"identity":"ann"},{"identity":"ben"}],
			"messages":[{"author":"ann","body":"hi"},{"author":"ben","body":"hello"}]}]}]}`
	for range 5 {
		c.must("POST", "/parley/v1/Reset", "", 200)
		replies := make([]reply, 2)
		var wg sync.WaitGroup
		for i := range replies {
			wg.Go(func() { replies[i] = c.send("POST", "/parley/v1/Import", "application/json", doc, nil) })
		}
		wg.Wait()
		created := map[string]float64{}
		for _, r := range replies {
			if r.status != 201 {
				t.Fatalf("concurrent import: %d %s", r.status, r.raw)
			}
			for k, v := range r.body["created"].(map[string]any) {
				created[k] += v.(float64)
			}
		}
		if fmt.Sprint(created) != "map[conversations:1 messages:2 participants:2 roles:0 services:1 users:2 webhooks:0]" {
			t.Fatalf("created by both imports together: %v (%s; %s)", created, replies[0].raw, replies[1].raw)
		}
		svc := "/v1/Services/IS00000000000000000000000000000007"
		if n := len(c.must("GET", svc+"/Conversations/lobby/Messages", "", 200)["messages"].([]any)); n != 2 {
			t.Fatalf("%d messages after two imports", n)
		}
	}
}

// TestEmulatorImportRacesWrites: an import changing the account's
// configuration and its default service, at the same moment as a partial
// update of the configuration and a user created in the old default
// service. Both configuration changes are kept, and the user is never
// taken away with a service the import found empty.
func TestEmulatorImportRacesWrites(t *testing.T) {
	t.Parallel()
	srv := parleytest.NewWith(t, parleytest.Options{Emulator: true})
	c := rawClient{t: t, srv: srv}
	const fresh = "IS00000000000000000000000000000009"
	doc := `{"configuration":{"default_inactive_timer":"PT10M"},"services":[{"sid":"` + fresh + `","friendly_name":"New default","default":true}]}`
	for i := range 8 {
		c.must("POST", "/parley/v1/Reset", "", 200)
		var imported, updated, created reply
		var wg sync.WaitGroup
		wg.Go(func() { imported = c.send("POST", "/parley/v1/Import", "application/json", doc, nil) })
		wg.Go(func() { updated = c.send("POST", "/v1/Configuration", "", "DefaultClosedTimer=PT20M", nil) })
		wg.Go(func() {
			created = c.send("POST", "/v1/Services/"+srv.DefaultServiceSid+"/Users", "", "Identity=ann", nil)
		})
		wg.Wait()
		if imported.status != 201 || updated.status != 200 {
			t.Fatalf("run %d: import %d %s; configuration %d %s", i, imported.status, imported.raw, updated.status, updated.raw)
		}
		cfg := c.must("GET", "/v1/Configuration", "", 200)
		if cfg["default_inactive_timer"] != "PT10M" || cfg["default_closed_timer"] != "PT20M" || cfg["default_chat_service_sid"] != fresh {
			t.Fatalf("run %d: a change was lost: %v", i, cfg)
		}
		switch created.status {
		case 201:
			c.must("GET", "/v1/Services/"+srv.DefaultServiceSid+"/Users/ann", "", 200)
		case 404: // the import emptied and removed the service first
			if created.raw != notFoundBody("/Services/"+srv.DefaultServiceSid+"/Users") {
				t.Fatalf("run %d: the user create: %s", i, created.raw)
			}
		default:
			t.Fatalf("run %d: the user create: %d %s", i, created.status, created.raw)
		}
	}
}
