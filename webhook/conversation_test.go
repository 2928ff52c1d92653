package webhook_test

import (
	"net/url"
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
