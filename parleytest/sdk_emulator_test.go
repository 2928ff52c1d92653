package parleytest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
	conversations "github.com/twilio/twilio-go/rest/conversations/v1"
)

// TestSDKEmulatorControls shows each control in use from a twilio-go
// suite: a clean start per test (Reset), timers fired by moving the
// clock (Advance), and an overloaded Twilio (Fault, and Twilio's rate
// limits), each as twilio-go reports it.
func TestSDKEmulatorControls(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t, parleytest.Emulator())
	c := srv.Client().ConversationsV1
	mustUser := must[*conversations.ConversationsV1User](t)
	mustConv := must[*conversations.ConversationsV1Conversation](t)

	// Reset: what a test made is gone; the default service is the same.
	mustUser(c.CreateUser((&conversations.CreateUserParams{}).SetIdentity("alice")))
	srv.Reset(t)
	_, err := c.FetchUser("alice")
	restError(t, err, 404, 20404)
	if cfg := must[*conversations.ConversationsV1Configuration](t)(c.FetchConfiguration()); *cfg.DefaultChatServiceSid != srv.DefaultServiceSid {
		t.Fatalf("default service after a reset: %s, want %s", *cfg.DefaultChatServiceSid, srv.DefaultServiceSid)
	}

	// Import: a scenario in one call, seen through twilio-go.
	created := srv.Import(t, `{"services":[{"friendly_name":"Shop","default":true,
		"users":[{"identity":"ann"}],"conversations":[{"unique_name":"order-1",
		"participants":[{"identity":"ann"}],"messages":[{"author":"ann","body":"where is my parcel?"}]}]}]}`)
	if created["messages"] != 1 || created["users"] != 1 {
		t.Fatalf("imported %v", created)
	}
	msgs := must[[]conversations.ConversationsV1ConversationMessage](t)(c.ListConversationMessage("order-1", nil))
	if len(msgs) != 1 || *msgs[0].Body != "where is my parcel?" || *msgs[0].Author != "ann" {
		t.Fatalf("imported messages %+v", msgs)
	}
	if exported := srv.Export(t); !strings.Contains(exported, `"unique_name":"order-1"`) {
		t.Fatalf("export: %s", exported)
	}
	srv.Reset(t)

	// Advance: a conversation idle for longer than its timer goes
	// inactive, then closed, without waiting.
	conv := mustConv(c.CreateConversation((&conversations.CreateConversationParams{}).
		SetUniqueName("idle").SetTimersInactive("PT10M").SetTimersClosed("PT1H")))
	srv.Advance(t, 11*time.Minute)
	if got := mustConv(c.FetchConversation(*conv.Sid)); *got.State != "inactive" {
		t.Fatalf("after 11 minutes: %s", *got.State)
	}
	srv.Advance(t, time.Hour)
	if got := mustConv(c.FetchConversation(*conv.Sid)); *got.State != "closed" {
		t.Fatalf("after an hour more: %s", *got.State)
	}

	// Fault: the next user create is Twilio's 429; the one after goes
	// through.
	srv.Fault(t, parleytest.Fault{Method: "POST", Path: "/v1/Users", Status: 429, RetryAfter: 1, Count: 1})
	_, err = c.CreateUser((&conversations.CreateUserParams{}).SetIdentity("bob"))
	restError(t, err, 429, 20429)
	mustUser(c.CreateUser((&conversations.CreateUserParams{}).SetIdentity("bob")))
	srv.Fault(t, parleytest.Fault{Path: "/v1/Users/*", Status: 503})
	_, err = c.FetchUser("bob")
	restError(t, err, 503, 20503)
	srv.ClearFaults(t)
	mustUser(c.FetchUser("bob"))

	// Webhooks: a delivery the receiver refused is sent again on demand,
	// and the outbox empties.
	var fail atomic.Bool
	fail.Store(true)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.WriteHeader(http.StatusBadRequest) // final: not retried by itself
		}
	}))
	defer receiver.Close()
	must[*conversations.ConversationsV1ConfigurationWebhook](t)(c.UpdateConfigurationWebhook((&conversations.UpdateConfigurationWebhookParams{}).
		SetPostWebhookUrl(receiver.URL).SetFilters([]string{"onUserAdded"}).SetMethod("POST")))
	mustUser(c.CreateUser((&conversations.CreateUserParams{}).SetIdentity("carol").SetXTwilioWebhookEnabled("true")))
	var d parleytest.Delivery
	waitUntil(t, func() bool {
		ds := srv.Deliveries(t)
		if len(ds) == 1 && ds[0].Status == "failed" {
			d = ds[0]
		}
		return d.Sid != ""
	})
	fail.Store(false)
	srv.RetryDelivery(t, d.Sid)
	waitUntil(t, func() bool { ds := srv.Deliveries(t); return ds[0].Status == "delivered" && ds[0].Attempts == 2 })
	srv.ClearDeliveries(t)
	if ds := srv.Deliveries(t); len(ds) != 0 {
		t.Fatalf("after ClearDeliveries: %+v", ds)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not in 5 s")
		}
	}
}

// TestSDKRateLimits: with Twilio's rates, a burst of user creates past
// 150 meets twilio-go's 429 with 20429.
func TestSDKRateLimits(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t, parleytest.RateLimits())
	c := srv.Client().ConversationsV1
	var err error
	n := 0
	for ; n < 1000 && err == nil; n++ {
		_, err = c.CreateUser((&conversations.CreateUserParams{}).SetIdentity(fmt.Sprint("u", n)))
	}
	restError(t, err, 429, 20429)
	if n < 151 {
		t.Fatalf("refused after %d creates, want the burst of 150 first", n)
	}
}
