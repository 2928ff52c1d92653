package parleytest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/parleytest"
	conversations "github.com/twilio/twilio-go/rest/conversations/v1"
)

// TestSDKMessages drives every message operation through twilio-go, in
// both scopes: send, fetch, edit, list both ways with paging, delete, and
// the unread count a user sees.
func TestSDKMessages(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := srv.Client().ConversationsV1
	is := srv.DefaultServiceSid
	mustMsg := must[*conversations.ConversationsV1ConversationMessage](t)
	conv := must[*conversations.ConversationsV1Conversation](t)(c.CreateConversation((&conversations.CreateConversationParams{}).SetUniqueName("chat")))
	alice := must[*conversations.ConversationsV1ConversationParticipant](t)(c.CreateConversationParticipant("chat",
		(&conversations.CreateConversationParticipantParams{}).SetIdentity("alice")))

	first := mustMsg(c.CreateConversationMessage("chat", (&conversations.CreateConversationMessageParams{}).
		SetAuthor("alice").SetBody("hello").SetAttributes(`{"a":1}`).SetXTwilioWebhookEnabled("true")))
	if first.Index != 0 || *first.Author != "alice" || *first.ParticipantSid != *alice.Sid || *first.Body != "hello" ||
		first.Media != nil || first.Delivery != nil || *first.Url != srv.URL+"/v1/Conversations/"+*conv.Sid+"/Messages/"+*first.Sid {
		t.Fatalf("sent %+v", first)
	}
	var sids []string
	sids = append(sids, *first.Sid)
	for i := 1; i < 7; i++ {
		m, err := c.CreateServiceConversationMessage(is, *conv.Sid, (&conversations.CreateServiceConversationMessageParams{}).SetBody(fmt.Sprint("m", i)))
		if err != nil {
			t.Fatal(err)
		}
		if m.Index != i || *m.Author != "system" || m.ParticipantSid != nil || *m.ChatServiceSid != is {
			t.Fatalf("message %d: %+v", i, m)
		}
		sids = append(sids, *m.Sid)
	}
	got := mustMsg(c.FetchConversationMessage("chat", *first.Sid))
	if *got.Body != "hello" {
		t.Fatalf("fetched %+v", got)
	}
	edited := mustMsg(c.UpdateConversationMessage(*conv.Sid, *first.Sid, (&conversations.UpdateConversationMessageParams{}).SetBody("hello, edited")))
	if *edited.Body != "hello, edited" || edited.Index != 0 {
		t.Fatalf("edited %+v", edited)
	}
	must[*conversations.ConversationsV1ServiceConversationMessage](t)(c.UpdateServiceConversationMessage(is, "chat", sids[1],
		(&conversations.UpdateServiceConversationMessageParams{}).SetAttributes(`{"pinned":true}`)))
	if m := must[*conversations.ConversationsV1ServiceConversationMessage](t)(c.FetchServiceConversationMessage(is, "chat", sids[1])); *m.Attributes != `{"pinned":true}` {
		t.Fatalf("service-scoped edit: %+v", m)
	}

	// The SDK follows next_page_url both ways.
	asc := must[[]conversations.ConversationsV1ConversationMessage](t)(c.ListConversationMessage("chat", (&conversations.ListConversationMessageParams{}).SetPageSize(3)))
	desc := must[[]conversations.ConversationsV1ServiceConversationMessage](t)(c.ListServiceConversationMessage(is, "chat",
		(&conversations.ListServiceConversationMessageParams{}).SetOrder("desc").SetPageSize(2)))
	if len(asc) != 7 || len(desc) != 7 {
		t.Fatalf("listed %d ascending, %d descending", len(asc), len(desc))
	}
	for i := range asc {
		if *asc[i].Sid != sids[i] || *desc[i].Sid != sids[6-i] {
			t.Fatalf("order at %d: %s / %s", i, *asc[i].Sid, *desc[i].Sid)
		}
	}
	_, err := c.CreateConversationMessage("chat", &conversations.CreateConversationMessageParams{})
	restError(t, err, 400, 50503)

	// Unread: alice read up to index 2 of 0..6.
	must[*conversations.ConversationsV1UserConversation](t)(c.UpdateUserConversation("alice", "chat",
		(&conversations.UpdateUserConversationParams{}).SetLastReadMessageIndex(2)))
	uc := must[*conversations.ConversationsV1UserConversation](t)(c.FetchUserConversation("alice", "chat"))
	if uc.UnreadMessagesCount == nil || *uc.UnreadMessagesCount != 4 {
		t.Fatalf("unread %v", uc.UnreadMessagesCount)
	}

	if err := c.DeleteConversationMessage("chat", sids[6], nil); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteServiceConversationMessage(is, *conv.Sid, sids[5], nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchConversationMessage("chat", sids[6])
	restError(t, err, 404, 20404)
	next := mustMsg(c.CreateConversationMessage("chat", (&conversations.CreateConversationMessageParams{}).SetBody("after deletes")))
	if next.Index != 7 {
		t.Fatalf("index after deletes: %d, want 7 (never reused)", next.Index)
	}
}

// TestSDKConversationWebhooks drives every conversation-scoped webhook
// operation through twilio-go, in both scopes.
func TestSDKConversationWebhooks(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := srv.Client().ConversationsV1
	is := srv.DefaultServiceSid
	must[*conversations.ConversationsV1Conversation](t)(c.CreateConversation((&conversations.CreateConversationParams{}).SetUniqueName("bots")))
	w := must[*conversations.ConversationsV1ConversationScopedWebhook](t)(c.CreateConversationScopedWebhook("bots",
		(&conversations.CreateConversationScopedWebhookParams{}).SetTarget("webhook").SetConfigurationUrl("https://bot.test/hook").
			SetConfigurationMethod("get").SetConfigurationFilters([]string{"onMessageAdded", "onParticipantAdded"})))
	cfg := (*w.Configuration).(map[string]any)
	if *w.Target != "webhook" || cfg["url"] != "https://bot.test/hook" || cfg["method"] != "get" || len(cfg["filters"].([]any)) != 2 {
		t.Fatalf("created %+v %v", w, cfg)
	}
	tr := must[*conversations.ConversationsV1ServiceConversationScopedWebhook](t)(c.CreateServiceConversationScopedWebhook(is, "bots",
		(&conversations.CreateServiceConversationScopedWebhookParams{}).SetTarget("trigger").SetConfigurationUrl("https://bot.test/t").
			SetConfigurationTriggers([]string{"help"})))
	if *tr.Target != "trigger" || *tr.ChatServiceSid != is {
		t.Fatalf("trigger %+v", tr)
	}
	_, err := c.CreateConversationScopedWebhook("bots", (&conversations.CreateConversationScopedWebhookParams{}).SetTarget("studio"))
	restError(t, err, 400, 50367)
	upd := must[*conversations.ConversationsV1ConversationScopedWebhook](t)(c.UpdateConversationScopedWebhook("bots", *w.Sid,
		(&conversations.UpdateConversationScopedWebhookParams{}).SetConfigurationFilters([]string{"onMessageRemoved"})))
	if f := (*upd.Configuration).(map[string]any)["filters"].([]any); len(f) != 1 || f[0] != "onMessageRemoved" {
		t.Fatalf("updated %v", *upd.Configuration)
	}
	must[*conversations.ConversationsV1ServiceConversationScopedWebhook](t)(c.FetchServiceConversationScopedWebhook(is, "bots", *tr.Sid))
	svcUpd := must[*conversations.ConversationsV1ServiceConversationScopedWebhook](t)(c.UpdateServiceConversationScopedWebhook(is, "bots",
		*tr.Sid, (&conversations.UpdateServiceConversationScopedWebhookParams{}).SetConfigurationTriggers([]string{"human"}).
			SetConfigurationMethod("POST")))
	if cfg := (*svcUpd.Configuration).(map[string]any); cfg["method"] != "post" || len(cfg["triggers"].([]any)) != 1 ||
		cfg["triggers"].([]any)[0] != "human" || cfg["url"] != "https://bot.test/t" {
		t.Fatalf("updated in the service scope %v", cfg)
	}
	all := must[[]conversations.ConversationsV1ConversationScopedWebhook](t)(c.ListConversationScopedWebhook("bots", nil))
	svcAll := must[[]conversations.ConversationsV1ServiceConversationScopedWebhook](t)(c.ListServiceConversationScopedWebhook(is, "bots", nil))
	if len(all) != 2 || len(svcAll) != 2 || *all[0].Sid != *w.Sid {
		t.Fatalf("listed %d and %d", len(all), len(svcAll))
	}
	if err := c.DeleteConversationScopedWebhook("bots", *w.Sid); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteServiceConversationScopedWebhook(is, "bots", *tr.Sid); err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchConversationScopedWebhook("bots", *w.Sid)
	restError(t, err, 404, 20404)
}

// TestSDKReceipts reads injected delivery receipts through twilio-go, in
// both scopes, and sees the message's delivery aggregate.
func TestSDKReceipts(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := srv.Client().ConversationsV1
	is := srv.DefaultServiceSid
	conv := must[*conversations.ConversationsV1Conversation](t)(c.CreateConversation(nil))
	p := must[*conversations.ConversationsV1ConversationParticipant](t)(c.CreateConversationParticipant(*conv.Sid,
		(&conversations.CreateConversationParticipantParams{}).SetMessagingBindingAddress("+15551230001").SetMessagingBindingProxyAddress("+15559870001")))
	m := must[*conversations.ConversationsV1ConversationMessage](t)(c.CreateConversationMessage(*conv.Sid,
		(&conversations.CreateConversationMessageParams{}).SetBody("hi")))
	// The control, as a test would call it: plain HTTP.
	status, body := postForm(t, srv, "/parley/v1/Conversations/"+*conv.Sid+"/Messages/"+*m.Sid+"/Receipts", "ParticipantSid="+*p.Sid+"&Status=delivered")
	if status != 201 {
		t.Fatalf("inject: %d %s", status, body)
	}
	rs := must[[]conversations.ConversationsV1ConversationMessageReceipt](t)(c.ListConversationMessageReceipt(*conv.Sid, *m.Sid, nil))
	if len(rs) != 1 || *rs[0].Status != "delivered" || *rs[0].ParticipantSid != *p.Sid {
		t.Fatalf("receipts %+v", rs)
	}
	r := must[*conversations.ConversationsV1ServiceConversationMessageReceipt](t)(c.FetchServiceConversationMessageReceipt(is, *conv.Sid, *m.Sid, *rs[0].Sid))
	if *r.Status != "delivered" || *r.ChatServiceSid != is {
		t.Fatalf("receipt %+v", r)
	}
	got := must[*conversations.ConversationsV1ConversationMessage](t)(c.FetchConversationMessage(*conv.Sid, *m.Sid))
	d := (*got.Delivery).(map[string]any)
	if d["total"] != 1.0 || d["delivered"] != "all" || d["read"] != "none" {
		t.Fatalf("delivery %v", d)
	}
	srs := must[[]conversations.ConversationsV1ServiceConversationMessageReceipt](t)(c.ListServiceConversationMessageReceipt(is, *conv.Sid, *m.Sid, nil))
	if len(srs) != 1 {
		t.Fatalf("service-scoped receipts %d", len(srs))
	}
	_, err := c.FetchConversationMessageReceipt(*conv.Sid, *m.Sid, "DY0123456789abcdef0123456789abcdef")
	restError(t, err, 404, 20404)
}

// postForm posts a form to the server with the account's credentials.
func postForm(t *testing.T, srv *parleytest.Server, path, form string) (int, string) {
	t.Helper()
	return postAs(t, srv, path, "application/x-www-form-urlencoded", form)
}

// postAs posts body of the content type with the account's credentials:
// what the Twilio SDKs have no call for (media uploads, parley's
// controls).
func postAs(t *testing.T, srv *parleytest.Server, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.SetBasicAuth(srv.AccountSid, srv.AuthToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestSDKMediaMessages: media uploaded to parley's Media Content Service
// (which no Twilio SDK wraps) is sent, read, listed and refused through
// twilio-go, in both scopes.
func TestSDKMediaMessages(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := srv.Client().ConversationsV1
	is := srv.DefaultServiceSid
	mustMsg := must[*conversations.ConversationsV1ConversationMessage](t)
	uploadFile := func(name, body string) string {
		status, b := postAs(t, srv, "/v1/Services/"+is+"/Media?Filename="+name, "image/png", body)
		if status != 201 {
			t.Fatalf("upload: %d %s", status, b)
		}
		var m struct{ Sid string }
		json.Unmarshal([]byte(b), &m)
		return m.Sid
	}
	cat, dog := uploadFile("cat.png", "\x89PNG cat"), uploadFile("dog.png", "\x89PNG dog!")
	conv := must[*conversations.ConversationsV1Conversation](t)(c.CreateConversation(&conversations.CreateConversationParams{}))
	mediaOf := func(sid, name string, size int) []interface{} {
		return []interface{}{map[string]interface{}{"sid": sid, "size": float64(size), "content_type": "image/png", "filename": name}}
	}
	sent := mustMsg(c.CreateConversationMessage(*conv.Sid, (&conversations.CreateConversationMessageParams{}).SetMediaSid(cat)))
	if sent.Body != nil || sent.Media == nil || !reflect.DeepEqual(*sent.Media, mediaOf(cat, "cat.png", 8)) {
		t.Fatalf("sent: body %v, media %v", sent.Body, sent.Media)
	}
	svcMsg, err := c.CreateServiceConversationMessage(is, *conv.Sid,
		(&conversations.CreateServiceConversationMessageParams{}).SetMediaSid(dog).SetBody("and a dog"))
	if err != nil || *svcMsg.Body != "and a dog" || !reflect.DeepEqual(*svcMsg.Media, mediaOf(dog, "dog.png", 9)) {
		t.Fatalf("service scope: %v %+v", err, svcMsg)
	}
	fetched := mustMsg(c.FetchConversationMessage(*conv.Sid, *sent.Sid))
	if !reflect.DeepEqual(*fetched.Media, mediaOf(cat, "cat.png", 8)) {
		t.Fatalf("fetched media %v", *fetched.Media)
	}
	list, err := c.ListConversationMessage(*conv.Sid, (&conversations.ListConversationMessageParams{}).SetOrder("desc"))
	if err != nil || len(list) != 2 || !reflect.DeepEqual(*list[0].Media, mediaOf(dog, "dog.png", 9)) {
		t.Fatalf("list: %v %d", err, len(list))
	}
	_, err = c.CreateConversationMessage(*conv.Sid, (&conversations.CreateConversationMessageParams{}).SetMediaSid(cat))
	restError(t, err, 400, 50508)
	_, err = c.CreateConversationMessage(*conv.Sid, (&conversations.CreateConversationMessageParams{}).SetMediaSid("ME00000000000000000000000000000000"))
	restError(t, err, 400, 50507)
	_, err = c.UpdateConversationMessage(*conv.Sid, *sent.Sid, (&conversations.UpdateConversationMessageParams{}).SetBody("caption"))
	restError(t, err, 400, 50509)
	if err := c.DeleteConversationMessage(*conv.Sid, *sent.Sid, nil); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/v1/Services/"+is+"/Media/"+cat, nil)
	req.SetBasicAuth(srv.AccountSid, srv.AuthToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 404 {
		t.Fatalf("media of a deleted message: %v %v", res, err)
	}
	res.Body.Close()
}
