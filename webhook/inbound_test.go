package webhook_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/parleytest"
)

// TestInboundAutoCreation runs an app's inbound-SMS flow end to end: an
// address configuration with auto-creation, a message "arriving" through
// parley's control, and the webhooks Twilio's docs list for it: only
// onConversationAdd asked first (with the sender's binding and the
// message), then onConversationAdded, onParticipantAdded and
// onMessageAdded, Source SMS, to the service's target; the participant
// and message events also to the configuration's own webhook on the new
// conversation. A second message of the pair joins the conversation,
// with media fetched from its MediaUrl.
func TestInboundAutoCreation(t *testing.T) {
	t.Parallel()
	const from, to = "+15551230001", "+15559870001"
	var answer atomic.Value // func() (int, string)
	answer.Store(func() (int, string) { return 200, `{"friendly_name":"SMS from +15551230001"}` })
	var mu sync.Mutex
	var asked []url.Values
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		asked = append(asked, r.PostForm)
		mu.Unlock()
		status, body := answer.Load().(func() (int, string))()
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(app.Close)
	photo := strings.Repeat("\xff\xd8 jpeg ", 1000)
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/mms/cat.jpg" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		io.WriteString(w, photo)
	}))
	t.Cleanup(media.Close)
	recv := newReceiver(t, nil)
	e := newEnv(t, parleytest.Options{})
	is, ac := e.srv.DefaultServiceSid, e.srv.AccountSid
	e.must("POST", "/v1/Configuration/Webhooks", "PreWebhookUrl="+url.QueryEscape(app.URL+"/pre")+
		"&PostWebhookUrl="+url.QueryEscape(recv.srv.URL+"/post")+"&Filters=onConversationAdd&Filters=onParticipantAdd"+
		"&Filters=onMessageAdd&Filters=onConversationAdded&Filters=onParticipantAdded&Filters=onMessageAdded", false, 200)
	e.must("POST", "/v1/Configuration/Addresses", "Type=sms&Address="+url.QueryEscape(to)+"&AutoCreation.Enabled=true"+
		"&AutoCreation.Type=webhook&AutoCreation.WebhookUrl="+url.QueryEscape(recv.srv.URL+"/scoped")+
		"&AutoCreation.WebhookFilters=onParticipantAdded&AutoCreation.WebhookFilters=onMessageAdded", false, 201)

	// The app refuses the first attempt: nothing is created.
	answer.Store(func() (int, string) { return 403, "" })
	st, body := e.call("POST", "/parley/v1/Inbound", "From="+url.QueryEscape(from)+"&To="+url.QueryEscape(to)+"&Body=hello", false)
	if st != 403 || !strings.Contains(body, `"code":50056`) {
		t.Fatalf("refused auto-creation: %d %s", st, body)
	}
	if got := e.must("GET", "/v1/Conversations", "", false, 200)["conversations"].([]any); len(got) != 0 {
		t.Fatalf("a refused auto-creation left %d conversations", len(got))
	}

	answer.Store(func() (int, string) { return 200, `{"friendly_name":"SMS from +15551230001"}` })
	in := e.must("POST", "/parley/v1/Inbound", "From="+url.QueryEscape(from)+"&To="+url.QueryEscape(to)+"&Body=hello", false, 201)
	ch, mb, im := in["conversation_sid"].(string), in["participant_sid"].(string), in["message_sid"].(string)
	if c := e.must("GET", "/v1/Conversations/"+ch, "", false, 200); c["friendly_name"] != "SMS from +15551230001" {
		t.Fatalf("the pre-event's answer was not applied: %v", c)
	}
	mu.Lock()
	if len(asked) != 2 {
		t.Fatalf("%d pre-events, want onConversationAdd twice (refused, then allowed)", len(asked))
	}
	pre := asked[1]
	mu.Unlock()
	want := map[string]string{"AccountSid": ac, "EventType": "onConversationAdd", "Source": "SMS", "ChatServiceSid": is,
		"Attributes": "{}", "State": "active", "MessagingBinding.Address": from, "MessagingBinding.ProxyAddress": to,
		"MessagingBinding.AuthorAddress": from, "MessageBody": "hello"}
	if d := diffValues(pre, want); d != "" {
		t.Fatalf("onConversationAdd: %s", d)
	}

	hooks := e.must("GET", "/v1/Conversations/"+ch+"/Webhooks", "", false, 200)["webhooks"].([]any)
	if len(hooks) != 1 {
		t.Fatalf("%d scoped webhooks, want the configuration's one", len(hooks))
	}
	wh := hooks[0].(map[string]any)["sid"].(string)
	hits := recv.wait(5)
	byPath := map[string][]string{}
	byEvent := map[string]hit{}
	for _, h := range hits {
		path := strings.TrimPrefix(h.fullURL, recv.srv.URL)
		byPath[path] = append(byPath[path], h.params.Get("EventType"))
		byEvent[path+" "+h.params.Get("EventType")] = h
		validSignature(t, e.srv.AuthToken, h)
	}
	for path, events := range map[string][]string{
		"/post":   {"onConversationAdded", "onParticipantAdded", "onMessageAdded"},
		"/scoped": {"onParticipantAdded", "onMessageAdded"},
	} {
		got := slices.Clone(byPath[path])
		slices.Sort(got)
		sorted := slices.Clone(events)
		slices.Sort(sorted)
		if !slices.Equal(got, sorted) {
			t.Fatalf("%s got %v, want %v", path, byPath[path], events)
		}
	}
	// The outbox holds them in the order they happened.
	var order []string
	for _, d := range e.deliveries() {
		order = append(order, d.EventType)
	}
	if want := "onConversationAdded onParticipantAdded onParticipantAdded onMessageAdded onMessageAdded"; strings.Join(order, " ") != want {
		t.Fatalf("outbox order %v, want %s", order, want)
	}
	stamp := "2026-03-04T05:06:07.000Z"
	wantParams(t, byEvent["/post onConversationAdded"], map[string]string{"AccountSid": ac, "EventType": "onConversationAdded",
		"Source": "SMS", "RetryCount": "0", "ChatServiceSid": is, "ConversationSid": ch, "FriendlyName": "SMS from +15551230001",
		"Attributes": "{}", "State": "active", "DateCreated": stamp, "DateUpdated": stamp})
	participant := map[string]string{"AccountSid": ac, "EventType": "onParticipantAdded", "Source": "SMS", "RetryCount": "0",
		"ChatServiceSid": is, "ConversationSid": ch, "ParticipantSid": mb, "Attributes": "{}", "DateCreated": stamp,
		"MessagingBinding.Address": from, "MessagingBinding.ProxyAddress": to, "MessagingBinding.Type": "SMS"}
	wantParams(t, byEvent["/post onParticipantAdded"], participant)
	participant["WebhookSid"] = wh
	wantParams(t, byEvent["/scoped onParticipantAdded"], participant)
	message := map[string]string{"AccountSid": ac, "EventType": "onMessageAdded", "Source": "SMS", "RetryCount": "0",
		"ChatServiceSid": is, "ConversationSid": ch, "MessageSid": im, "Index": "0", "Author": from, "ParticipantSid": mb,
		"Body": "hello", "Attributes": "{}", "DateCreated": stamp}
	wantParams(t, byEvent["/post onMessageAdded"], message)
	message["WebhookSid"] = wh
	wantParams(t, byEvent["/scoped onMessageAdded"], message)

	// The next message of the pair joins the conversation: no pre-event,
	// its media copied from the URL.
	in = e.must("POST", "/parley/v1/Inbound", "From="+url.QueryEscape(from)+"&To="+url.QueryEscape(to)+
		"&MediaUrl="+url.QueryEscape(media.URL+"/mms/cat.jpg"), false, 201)
	if in["conversation_sid"] != ch || in["conversation_created"] != false {
		t.Fatalf("second message: %v", in)
	}
	m := e.must("GET", "/v1/Conversations/"+ch+"/Messages/"+in["message_sid"].(string), "", false, 200)
	items := m["media"].([]any)
	if len(items) != 1 {
		t.Fatalf("media of the second message: %v", m["media"])
	}
	me := items[0].(map[string]any)
	if me["content_type"] != "image/jpeg" || me["filename"] != "cat.jpg" || me["size"] != float64(len(photo)) || m["body"] != nil {
		t.Fatalf("media of the second message: %v (body %v)", me, m["body"])
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/Services/%s/Media/%s/Content", e.srv.URL, is, me["sid"]), nil)
	req.SetBasicAuth(e.srv.AccountSid, e.srv.AuthToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	content, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(content) != photo {
		t.Fatalf("media content: %d bytes, want the %d fetched", len(content), len(photo))
	}
	hits = recv.wait(7)[5:]
	for _, h := range hits {
		var got []map[string]any
		if err := json.Unmarshal([]byte(h.params.Get("Media")), &got); err != nil || len(got) != 1 || got[0]["Sid"] != me["sid"] {
			t.Fatalf("%s: Media %q", h.params.Get("EventType"), h.params.Get("Media"))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 2 {
		t.Fatalf("a message joining a conversation asked %d more pre-events", len(asked)-2)
	}
	// A MediaUrl that does not answer 200 is a clear 400.
	st, body = e.call("POST", "/parley/v1/Inbound", "From="+url.QueryEscape(from)+"&To="+url.QueryEscape(to)+
		"&MediaUrl="+url.QueryEscape(media.URL+"/missing.png"), false)
	host := strings.TrimPrefix(media.URL, "http://")
	if st != 400 || !strings.Contains(body, `"MediaUrl could not be fetched: `+host+` answered 404"`) {
		t.Fatalf("unfetchable media: %d %s", st, body)
	}
}

// diffValues compares form values with want exactly ("" when equal).
func diffValues(got url.Values, want map[string]string) string {
	var out []string
	for k, v := range want {
		if got.Get(k) != v {
			out = append(out, fmt.Sprintf("%s = %q, want %q", k, got.Get(k), v))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("unexpected %s = %q", k, got.Get(k)))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}
