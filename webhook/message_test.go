package webhook_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/parleytest"
)

func TestMessageEvents(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, nil)
	e := newEnv(t, parleytest.Options{})
	is, ac := e.srv.DefaultServiceSid, e.srv.AccountSid
	e.must("POST", "/v1/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(recv.srv.URL+"/post")+
		"&Filters=onMessageAdded&Filters=onMessageUpdated&Filters=onMessageRemoved", false, 200)
	ch := e.must("POST", "/v1/Conversations", "MessagingServiceSid=MG0123456789abcdef0123456789abcdef", false, 201)["sid"].(string)
	mb := e.must("POST", "/v1/Conversations/"+ch+"/Participants", "Identity=alice", false, 201)["sid"].(string)

	m := e.must("POST", "/v1/Conversations/"+ch+"/Messages", "Author=alice&Body=hello&Attributes=%7B%22a%22%3A1%7D", true, 201)
	im := m["sid"].(string)
	added := recv.wait(1)[0]
	wantParams(t, added, map[string]string{"AccountSid": ac, "EventType": "onMessageAdded", "Source": "API", "RetryCount": "0",
		"ChatServiceSid": is, "ConversationSid": ch, "MessageSid": im, "MessagingServiceSid": "MG0123456789abcdef0123456789abcdef",
		"Index": "0", "DateCreated": "2026-03-04T05:06:07.000Z", "Body": "hello", "Author": "alice", "ParticipantSid": mb,
		"Attributes": `{"a":1}`})
	validSignature(t, e.srv.AuthToken, added)

	e.must("POST", "/v1/Conversations/"+ch+"/Messages/"+im, "Body=edited", true, 200)
	wantParams(t, recv.wait(2)[1], map[string]string{"AccountSid": ac, "EventType": "onMessageUpdated", "Source": "API", "RetryCount": "0",
		"ChatServiceSid": is, "ConversationSid": ch, "MessageSid": im, "Index": "0", "DateCreated": "2026-03-04T05:06:07.000Z",
		"DateUpdated": "2026-03-04T05:06:07.000Z", "Body": "edited", "Author": "alice", "ParticipantSid": mb, "Attributes": `{"a":1}`})

	// A system message has no participant; its parameter is left out.
	e.must("DELETE", "/v1/Conversations/"+ch+"/Messages/"+im, "", true, 204)
	sys := e.must("POST", "/v1/Conversations/"+ch+"/Messages", "Body=bye", false, 201)
	if sys["index"] != 1.0 {
		t.Fatalf("index after a delete: %v", sys["index"])
	}
	wantParams(t, recv.wait(3)[2], map[string]string{"AccountSid": ac, "EventType": "onMessageRemoved", "Source": "API", "RetryCount": "0",
		"ChatServiceSid": is, "ConversationSid": ch, "MessageSid": im, "Index": "0", "DateCreated": "2026-03-04T05:06:07.000Z",
		"DateUpdated": "2026-03-04T05:06:07.000Z", "DateRemoved": "2026-03-04T05:06:07.000Z", "Body": "edited", "Author": "alice",
		"ParticipantSid": mb, "Attributes": `{"a":1}`})
}

// TestMessagePreEvents: with --rest-pre-webhooks, the app may change a
// message's body, author and attributes in its answer, or veto it.
func TestMessagePreEvents(t *testing.T) {
	t.Parallel()
	var answer atomic.Value
	answer.Store([2]any{200, `{"body":"[censored]","author":"moderator","attributes":"{\"checked\":true}"}`})
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answer.Load().([2]any)
		w.WriteHeader(a[0].(int))
		io.WriteString(w, a[1].(string))
	}))
	t.Cleanup(app.Close)
	e := newEnv(t, parleytest.Options{Core: core.Options{RESTPreEvents: true}})
	e.must("POST", "/v1/Configuration/Webhooks", "PreWebhookUrl="+url.QueryEscape(app.URL)+"&Filters=onMessageAdd&Filters=onMessageUpdate", false, 200)
	ch := e.must("POST", "/v1/Conversations", "", false, 201)["sid"].(string)
	m := e.must("POST", "/v1/Conversations/"+ch+"/Messages", "Author=alice&Body=rude", true, 201)
	if m["body"] != "[censored]" || m["author"] != "moderator" || m["attributes"] != `{"checked":true}` {
		t.Fatalf("the answer was not applied: %v", m)
	}
	answer.Store([2]any{200, `{"attributes":"{nope"}`})
	if st, body := e.call("POST", "/v1/Conversations/"+ch+"/Messages/"+m["sid"].(string), "Body=x", true); st != 400 || !strings.Contains(body, `"code":50057`) {
		t.Fatalf("invalid answer: %d %s", st, body)
	}
	answer.Store([2]any{403, ""})
	if st, body := e.call("POST", "/v1/Conversations/"+ch+"/Messages", "Body=vetoed", true); st != 403 || !strings.Contains(body, `"code":50056`) {
		t.Fatalf("vetoed: %d %s", st, body)
	}
	list := e.must("GET", "/v1/Conversations/"+ch+"/Messages", "", false, 200)["messages"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["body"] != "[censored]" {
		t.Fatalf("messages after the veto: %v", list)
	}
}

// TestConversationScopedWebhooks: a conversation's own webhooks get the
// events their filters name (with WebhookSid), a trigger the messages
// holding its keywords, a new webhook with ReplayAfter the messages from
// that index, and all of them the conversation's removal; the service's
// target gets its events too.
func TestConversationScopedWebhooks(t *testing.T) {
	t.Parallel()
	bot, trig, svc := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	e := newEnv(t, parleytest.Options{})
	e.must("POST", "/v1/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(svc.srv.URL+"/svc")+"&Filters=onMessageAdded", false, 200)
	ch := e.must("POST", "/v1/Conversations", "", false, 201)["sid"].(string)
	wh := e.must("POST", "/v1/Conversations/"+ch+"/Webhooks", "Target=webhook&Configuration.Url="+url.QueryEscape(bot.srv.URL+"/bot")+
		"&Configuration.Filters=onMessageAdded&Configuration.Filters=onConversationRemoved", false, 201)["sid"].(string)
	tr := e.must("POST", "/v1/Conversations/"+ch+"/Webhooks", "Target=trigger&Configuration.Url="+url.QueryEscape(trig.srv.URL+"/t")+
		"&Configuration.Triggers=HELP", false, 201)["sid"].(string)

	e.must("POST", "/v1/Conversations/"+ch+"/Messages", "Body=hello", true, 201)
	e.must("POST", "/v1/Conversations/"+ch+"/Messages", "Body=I+need+help+please", true, 201)
	e.must("POST", "/v1/Conversations/"+ch+"/Messages", "Body=quiet", false, 201) // no header: nothing
	// Queued back to back, delivered concurrently: in either order.
	indexes := map[string]bool{}
	for i, h := range bot.wait(2) {
		if h.params.Get("WebhookSid") != wh || h.params.Get("EventType") != "onMessageAdded" {
			t.Fatalf("bot hit %d: %v", i, h.params)
		}
		indexes[h.params.Get("Index")] = true
		validSignature(t, e.srv.AuthToken, h)
	}
	if !indexes["0"] || !indexes["1"] {
		t.Fatalf("bot got indexes %v, want 0 and 1", indexes)
	}
	th := trig.wait(1)[0]
	if th.params.Get("WebhookSid") != tr || th.params.Get("Body") != "I need help please" {
		t.Fatalf("trigger hit %v", th.params)
	}
	if s := svc.wait(2); s[0].params.Has("WebhookSid") {
		t.Fatalf("the service's target got a WebhookSid: %v", s[0].params)
	}

	// A webhook added with ReplayAfter=1 hears of messages 1 and 2 at once.
	late := newReceiver(t, nil)
	lw := e.must("POST", "/v1/Conversations/"+ch+"/Webhooks", "Target=webhook&Configuration.Url="+url.QueryEscape(late.srv.URL+"/late")+
		"&Configuration.Filters=onMessageAdded&Configuration.ReplayAfter=1", false, 201)["sid"].(string)
	replayed := late.wait(2)
	got := map[string]bool{}
	for _, h := range replayed {
		if h.params.Get("WebhookSid") != lw {
			t.Fatalf("replayed %v", h.params)
		}
		got[h.params.Get("Body")] = true
	}
	if !got["I need help please"] || !got["quiet"] || len(got) != 2 {
		t.Fatalf("replayed bodies %v", got)
	}

	// The conversation's removal reaches its webhooks, though they go
	// with it.
	e.must("DELETE", "/v1/Conversations/"+ch, "", true, 204)
	if h := bot.wait(3)[2]; h.params.Get("EventType") != "onConversationRemoved" || h.params.Get("WebhookSid") != wh {
		t.Fatalf("removal %v", h.params)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(trig.got()); n != 1 {
		t.Fatalf("trigger got %d calls, want 1", n)
	}
}

// TestDeliveryUpdatedEvents: an injected receipt sends onDeliveryUpdated
// to the service's target, whatever header the control was called with.
func TestDeliveryUpdatedEvents(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, nil)
	e := newEnv(t, parleytest.Options{})
	is, ac := e.srv.DefaultServiceSid, e.srv.AccountSid
	e.must("POST", "/v1/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(recv.srv.URL+"/post")+"&Filters=onDeliveryUpdated", false, 200)
	ch := e.must("POST", "/v1/Conversations", "", false, 201)["sid"].(string)
	mb := e.must("POST", "/v1/Conversations/"+ch+"/Participants", "MessagingBinding.Address=%2B15551230001", false, 201)["sid"].(string)
	im := e.must("POST", "/v1/Conversations/"+ch+"/Messages", "Body=hi", false, 201)["sid"].(string)
	r := e.must("POST", "/parley/v1/Conversations/"+ch+"/Messages/"+im+"/Receipts", "ParticipantSid="+mb+"&Status=failed&ErrorCode=30008", false, 201)
	wantParams(t, recv.wait(1)[0], map[string]string{"AccountSid": ac, "EventType": "onDeliveryUpdated", "Source": "API", "RetryCount": "0",
		"ChatServiceSid": is, "ConversationSid": ch, "MessageSid": im, "DeliveryReceiptSid": r["sid"].(string),
		"ChannelMessageSid": r["channel_message_sid"].(string), "ParticipantSid": mb, "Status": "failed", "ErrorCode": "30008",
		"DateCreated": "2026-03-04T05:06:07.000Z", "DateUpdated": "2026-03-04T05:06:07.000Z"})
}

// TestMediaMessageEvents: a message carrying media sends the Media
// parameter (decision 3), and a media-only message leaves Body out.
func TestMediaMessageEvents(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, nil)
	e := newEnv(t, parleytest.Options{})
	is, ac := e.srv.DefaultServiceSid, e.srv.AccountSid
	e.must("POST", "/v1/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(recv.srv.URL+"/post")+"&Filters=onMessageAdded", false, 200)
	ch := e.must("POST", "/v1/Conversations", "", false, 201)["sid"].(string)
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/Services/"+is+"/Media?Filename=cat.png", strings.NewReader("\x89PNG"))
	req.Header.Set("Content-Type", "image/png")
	req.SetBasicAuth(ac, e.srv.AuthToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("upload: %v %v", res, err)
	}
	var media struct{ Sid string }
	json.NewDecoder(res.Body).Decode(&media)
	res.Body.Close()
	im := e.must("POST", "/v1/Conversations/"+ch+"/Messages", "MediaSid="+media.Sid, true, 201)["sid"].(string)
	wantParams(t, recv.wait(1)[0], map[string]string{"AccountSid": ac, "EventType": "onMessageAdded", "Source": "API", "RetryCount": "0",
		"ChatServiceSid": is, "ConversationSid": ch, "MessageSid": im, "Index": "0", "DateCreated": "2026-03-04T05:06:07.000Z",
		"Author": "system", "Attributes": "{}",
		"Media": `[{"Sid":"` + media.Sid + `","Filename":"cat.png","ContentType":"image/png","Size":4}]`})
}
