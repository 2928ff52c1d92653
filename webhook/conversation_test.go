package webhook_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/parleytest"
)

func TestConversationEvents(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, nil)
	e := newEnv(t, parleytest.Options{})
	is, ac := e.srv.DefaultServiceSid, e.srv.AccountSid
	e.must("POST", "/v1/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(recv.srv.URL+"/post")+
		"&Filters=onConversationAdded&Filters=onConversationUpdated&Filters=onConversationRemoved&Filters=onConversationStateUpdated", false, 200)

	c := e.must("POST", "/v1/Conversations", "FriendlyName=Room&UniqueName=room&Attributes=%7B%22a%22%3A1%7D", true, 201)
	ch := c["sid"].(string)
	wantParams(t, recv.wait(1)[0], map[string]string{"AccountSid": ac, "EventType": "onConversationAdded", "Source": "API",
		"RetryCount": "0", "ChatServiceSid": is, "ConversationSid": ch, "FriendlyName": "Room", "UniqueName": "room",
		"Attributes": `{"a":1}`, "State": "active",
		"DateCreated": "2026-03-04T05:06:07.000Z", "DateUpdated": "2026-03-04T05:06:07.000Z"})

	// A state change is reported twice: as an update, then as the move.
	e.must("POST", "/v1/Conversations/room", "State=inactive", true, 200)
	hits := recv.wait(3)[1:]
	byType := map[string]hit{}
	for _, h := range hits {
		byType[h.params.Get("EventType")] = h
	}
	wantParams(t, byType["onConversationUpdated"], map[string]string{"AccountSid": ac, "EventType": "onConversationUpdated",
		"Source": "API", "RetryCount": "0", "ChatServiceSid": is, "ConversationSid": ch, "FriendlyName": "Room",
		"UniqueName": "room", "Attributes": `{"a":1}`, "State": "inactive",
		"DateCreated": "2026-03-04T05:06:07.000Z", "DateUpdated": "2026-03-04T05:06:07.000Z"})
	wantParams(t, byType["onConversationStateUpdated"], map[string]string{"AccountSid": ac,
		"EventType": "onConversationStateUpdated", "Source": "API", "RetryCount": "0", "ChatServiceSid": is,
		"ConversationSid": ch, "StateFrom": "active", "StateTo": "inactive", "Reason": "API",
		"StateUpdated": "2026-03-04T05:06:07.000Z"})
	validSignature(t, e.srv.AuthToken, byType["onConversationUpdated"])

	// Without the header, no event.
	e.must("POST", "/v1/Conversations/room", "FriendlyName=quiet", false, 200)
	e.must("DELETE", "/v1/Conversations/"+ch, "", true, 204)
	removed := recv.wait(4)[3]
	wantParams(t, removed, map[string]string{"AccountSid": ac, "EventType": "onConversationRemoved", "Source": "API",
		"RetryCount": "0", "ChatServiceSid": is, "ConversationSid": ch, "FriendlyName": "quiet", "UniqueName": "room",
		"Attributes": `{"a":1}`, "State": "inactive", "DateCreated": "2026-03-04T05:06:07.000Z",
		"DateUpdated": "2026-03-04T05:06:07.000Z", "DateRemoved": "2026-03-04T05:06:07.000Z"})
}

// movableClock is a clock a test moves forward.
type movableClock struct{ offset atomic.Int64 }

func (m *movableClock) now() time.Time          { return clock.Add(time.Duration(m.offset.Load())) }
func (m *movableClock) advance(d time.Duration) { m.offset.Add(int64(d)) }

// TestConversationTimersFire: timers fire as the clock passes them, each
// once, reported with Reason TIMER whether or not the request that set
// them asked for webhooks; date_updated stays, the timers' dates stay.
func TestConversationTimersFire(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, nil)
	mc := &movableClock{}
	e := newEnv(t, parleytest.Options{Core: core.Options{Now: mc.now}, TimerPoll: 5 * time.Millisecond})
	is, ac := e.srv.DefaultServiceSid, e.srv.AccountSid
	e.must("POST", "/v1/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(recv.srv.URL+"/post")+
		"&Filters=onConversationStateUpdated", false, 200)
	ch := e.must("POST", "/v1/Conversations", "Timers.Inactive=PT1M&Timers.Closed=PT10M", false, 201)["sid"].(string)
	other := e.must("POST", "/v1/Conversations", "Timers.Closed=PT20M", false, 201)["sid"].(string)

	time.Sleep(50 * time.Millisecond) // not yet due: nothing fires
	if n := len(recv.got()); n != 0 {
		t.Fatalf("%d state events before any timer was due", n)
	}
	mc.advance(61 * time.Second)
	h := recv.wait(1)[0]
	wantParams(t, h, map[string]string{"AccountSid": ac, "EventType": "onConversationStateUpdated", "Source": "API",
		"RetryCount": "0", "ChatServiceSid": is, "ConversationSid": ch, "StateFrom": "active", "StateTo": "inactive",
		"Reason": "TIMER", "StateUpdated": "2026-03-04T05:07:07.000Z"})
	got := e.must("GET", "/v1/Conversations/"+ch, "", false, 200)
	timers := got["timers"].(map[string]any)
	if got["state"] != "inactive" || got["date_updated"] != "2026-03-04T05:06:07Z" ||
		timers["date_inactive"] != "2026-03-04T05:07:07Z" || timers["date_closed"] != "2026-03-04T05:16:07Z" {
		t.Fatalf("after the inactive timer: %v", got)
	}

	// Far past both closing timers: each conversation closes once.
	mc.advance(time.Hour)
	hits := recv.wait(3)
	closed := map[string]string{}
	for _, h := range hits[1:] {
		closed[h.params.Get("ConversationSid")] = h.params.Get("StateFrom") + ">" + h.params.Get("StateTo") + "@" + h.params.Get("StateUpdated")
	}
	if closed[ch] != "inactive>closed@2026-03-04T05:16:07.000Z" || closed[other] != "active>closed@2026-03-04T05:26:07.000Z" {
		t.Fatalf("closing events %v", closed)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(recv.got()); n != 3 {
		t.Fatalf("%d state events, want 3", n)
	}
	if c := e.must("GET", "/v1/Conversations/"+other, "", false, 200); c["state"] != "closed" {
		t.Fatalf("state %v", c["state"])
	}
	e.must("POST", "/v1/Conversations/"+other, "FriendlyName=x", false, 400)
}

func TestParticipantEvents(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, nil)
	e := newEnv(t, parleytest.Options{})
	is, ac := e.srv.DefaultServiceSid, e.srv.AccountSid
	e.must("POST", "/v1/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(recv.srv.URL+"/post")+
		"&Filters=onParticipantAdded&Filters=onParticipantUpdated&Filters=onParticipantRemoved&Filters=onConversationStateUpdated", false, 200)
	ch := e.must("POST", "/v1/Conversations", "State=inactive", false, 201)["sid"].(string)
	role := e.must("GET", "/v1/Services/"+is+"/Configuration", "", false, 200)["default_conversation_role_sid"].(string)

	// Adding wakes the conversation: the participant, then the move.
	p := e.must("POST", "/v1/Conversations/"+ch+"/Participants", "Identity=alice&Attributes=%7B%7D", true, 201)
	mb := p["sid"].(string)
	hits := recv.wait(2)
	byType := map[string]hit{}
	for _, h := range hits {
		byType[h.params.Get("EventType")] = h
	}
	wantParams(t, byType["onParticipantAdded"], map[string]string{"AccountSid": ac, "EventType": "onParticipantAdded",
		"Source": "API", "RetryCount": "0", "ChatServiceSid": is, "ConversationSid": ch, "ParticipantSid": mb,
		"Identity": "alice", "RoleSid": role, "Attributes": "{}", "MessagingBinding.Type": "CHAT",
		"DateCreated": "2026-03-04T05:06:07.000Z"})
	wantParams(t, byType["onConversationStateUpdated"], map[string]string{"AccountSid": ac, "EventType": "onConversationStateUpdated",
		"Source": "API", "RetryCount": "0", "ChatServiceSid": is, "ConversationSid": ch, "StateFrom": "inactive",
		"StateTo": "active", "Reason": "EVENT", "StateUpdated": "2026-03-04T05:06:07.000Z"})

	sms := e.must("POST", "/v1/Conversations/"+ch+"/Participants",
		"MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=%2B15559870001", true, 201)["sid"].(string)
	wantParams(t, recv.wait(3)[2], map[string]string{"AccountSid": ac, "EventType": "onParticipantAdded",
		"Source": "API", "RetryCount": "0", "ChatServiceSid": is, "ConversationSid": ch, "ParticipantSid": sms,
		"Attributes": "{}", "MessagingBinding.Type": "SMS", "MessagingBinding.Address": "+15551230001",
		"MessagingBinding.ProxyAddress": "+15559870001", "DateCreated": "2026-03-04T05:06:07.000Z"})

	e.must("POST", "/v1/Conversations/"+ch+"/Participants/alice", "LastReadMessageIndex=2", true, 200)
	wantParams(t, recv.wait(4)[3], map[string]string{"AccountSid": ac, "EventType": "onParticipantUpdated",
		"Source": "API", "RetryCount": "0", "ChatServiceSid": is, "ConversationSid": ch, "ParticipantSid": mb,
		"Identity": "alice", "RoleSid": role, "Attributes": "{}", "MessagingBinding.Type": "CHAT",
		"LastReadMessageIndex": "2", "DateCreated": "2026-03-04T05:06:07.000Z", "DateUpdated": "2026-03-04T05:06:07.000Z"})

	e.must("DELETE", "/v1/Conversations/"+ch+"/Participants/"+sms, "", true, 204)
	removed := recv.wait(5)[4]
	wantParams(t, removed, map[string]string{"AccountSid": ac, "EventType": "onParticipantRemoved",
		"Source": "API", "RetryCount": "0", "ChatServiceSid": is, "ConversationSid": ch, "ParticipantSid": sms,
		"Attributes": "{}", "MessagingBinding.Type": "SMS", "MessagingBinding.Address": "+15551230001",
		"MessagingBinding.ProxyAddress": "+15559870001", "DateCreated": "2026-03-04T05:06:07.000Z",
		"DateUpdated": "2026-03-04T05:06:07.000Z", "DateRemoved": "2026-03-04T05:06:07.000Z"})
	validSignature(t, e.srv.AuthToken, removed)
}

// TestConversationPreEvents: with the REST pre-event extension on, the app
// vetoes conversation and participant writes (403 50056, nothing written)
// and may rename a conversation in its answer.
func TestConversationPreEvents(t *testing.T) {
	t.Parallel()
	var answer atomic.Value // func(eventType string) (int, string)
	answer.Store(func(string) (int, string) { return 200, "" })
	var seen []string
	var mu sync.Mutex
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		seen = append(seen, r.PostForm.Get("EventType"))
		mu.Unlock()
		status, body := answer.Load().(func(string) (int, string))(r.PostForm.Get("EventType"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(app.Close)
	e := newEnv(t, parleytest.Options{Core: core.Options{RESTPreEvents: true}})
	e.must("POST", "/v1/Configuration/Webhooks", "PreWebhookUrl="+url.QueryEscape(app.URL+"/pre"), false, 200)

	answer.Store(func(string) (int, string) { return 200, `{"friendly_name":"Renamed by the app"}` })
	c := e.must("POST", "/v1/Conversations", "FriendlyName=Mine&UniqueName=pre", true, 201)
	if c["friendly_name"] != "Renamed by the app" {
		t.Fatalf("the pre-event answer was not applied: %v", c)
	}
	answer.Store(func(string) (int, string) { return 200, `{"friendly_name":7}` })
	st, body := e.call("POST", "/v1/Conversations/pre", "FriendlyName=x", true)
	if st != 400 || !strings.Contains(body, `"code":50057`) {
		t.Fatalf("invalid pre-event answer: %d %s", st, body)
	}
	answer.Store(func(string) (int, string) { return 403, "" })
	for _, w := range []struct{ method, path, form string }{
		{"POST", "/v1/Conversations", "UniqueName=vetoed"},
		{"POST", "/v1/Conversations/pre", "FriendlyName=vetoed"},
		{"POST", "/v1/Conversations/pre/Participants", "Identity=vetoed"},
		{"DELETE", "/v1/Conversations/pre", ""},
	} {
		if st, body := e.call(w.method, w.path, w.form, true); st != 403 || !strings.Contains(body, `"code":50056`) {
			t.Fatalf("vetoed %s %s: %d %s", w.method, w.path, st, body)
		}
	}
	got := e.must("GET", "/v1/Conversations/pre", "", false, 200)
	if got["friendly_name"] != "Renamed by the app" {
		t.Fatalf("a vetoed write was applied: %v", got)
	}
	e.must("GET", "/v1/Conversations/vetoed", "", false, 404)
	e.must("GET", "/v1/Users/vetoed", "", false, 404)
	e.must("GET", "/v1/Conversations/pre/Participants/vetoed", "", false, 404)
	mu.Lock()
	defer mu.Unlock()
	want := "onConversationAdd onConversationUpdate onConversationAdd onConversationUpdate onParticipantAdd onConversationRemove"
	if strings.Join(seen, " ") != want {
		t.Fatalf("pre-events %v, want %s", seen, want)
	}
}
