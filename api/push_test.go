package api_test

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/parleyhq/parley/parleytest"
)

// TestRecordedPushes: with a service's notifications enabled, each push
// Twilio would send (a new message to the other participants' devices,
// being added to or removed from a conversation) is recorded, never sent,
// and listed at /parley/v1/WebhookDeliveries with status recorded; muted
// participants and the author get none; disabled kinds record nothing.
func TestRecordedPushes(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := rawClient{t: t, srv: srv}
	is := srv.DefaultServiceSid
	cred := c.must("POST", "/v1/Credentials", "Type=fcm&Secret=key", 201)["sid"].(string)
	for _, who := range []string{"alice", "bob", "carol"} {
		c.must("POST", "/v1/Users", "Identity="+who, 201)
		c.must("POST", "/parley/v1/Services/"+is+"/Bindings", "Identity="+who+"&BindingType=fcm&Address=dev-"+who+"&CredentialSid="+cred, 201)
	}
	ch := c.must("POST", "/v1/Conversations", "FriendlyName=Room", 201)["sid"].(string)
	c.must("POST", "/v1/Conversations/"+ch+"/Participants", "Identity=alice", 201)
	c.must("POST", "/v1/Conversations/"+ch+"/Participants", "Identity=bob", 201)
	recorded := func() []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, d := range c.must("GET", "/parley/v1/WebhookDeliveries", "Status=recorded", 200)["webhook_deliveries"].([]any) {
			out = append(out, d.(map[string]any))
		}
		return out
	}
	// Disabled by default (Twilio's default): nothing recorded.
	c.must("POST", "/v1/Conversations/"+ch+"/Messages", "Author=alice&Body=quiet", 201)
	if got := recorded(); len(got) != 0 {
		t.Fatalf("pushes while disabled: %v", got)
	}
	c.must("POST", "/v1/Services/"+is+"/Configuration/Notifications",
		"NewMessage.Enabled=true&NewMessage.Sound=ding&AddedToConversation.Enabled=true&AddedToConversation.Template="+
			url.QueryEscape("Welcome to ${CONVERSATION}"), 200)
	m := c.must("POST", "/v1/Conversations/"+ch+"/Messages", "Author=alice&Body=hello", 201)
	got := recorded()
	if len(got) != 1 {
		t.Fatalf("pushes for one message to bob: %v", got)
	}
	d := got[0]
	if d["event_type"] != "twilio.conversations.new_message" || d["target"] != "push:fcm:dev-bob" || d["method"] != "PUSH" ||
		d["status"] != "recorded" || d["attempts"] != 0.0 || d["next_attempt_at"] != nil {
		t.Fatalf("the push: %v", d)
	}
	params, _ := url.ParseQuery(d["params"].(string))
	want := url.Values{"ChatServiceSid": {is}, "BindingSid": {params.Get("BindingSid")}, "BindingType": {"fcm"},
		"Address": {"dev-bob"}, "Identity": {"bob"}, "CredentialSid": {cred}, "twi_message_type": {"twilio.conversations.new_message"},
		"twi_body": {"Room;alice: hello"}, "twi_sound": {"ding"}, "conversation_sid": {ch}, "conversation_title": {"Room"},
		"message_sid": {m["sid"].(string)}, "message_index": {"1"}, "author": {"alice"}, "media_count": {"0"}}
	valueEqual(t, "push params", params, string(must(json.Marshal(want))))

	// bob mutes the conversation: his next messages' pushes stop.
	c.must("POST", "/v1/Users/bob/Conversations/"+ch, "NotificationLevel=muted", 200)
	c.must("POST", "/v1/Conversations/"+ch+"/Messages", "Author=alice&Body=again", 201)
	if got := recorded(); len(got) != 1 {
		t.Fatalf("pushes after bob muted: %d", len(got))
	}
	// carol is added: her device is told, with the service's template.
	c.must("POST", "/v1/Conversations/"+ch+"/Participants", "Identity=carol", 201)
	got = recorded()
	if len(got) != 2 || got[1]["event_type"] != "twilio.conversations.added_to_conversation" || got[1]["target"] != "push:fcm:dev-carol" {
		t.Fatalf("added push: %v", got)
	}
	if params, _ := url.ParseQuery(got[1]["params"].(string)); params.Get("twi_body") != "Welcome to Room" || params.Has("twi_sound") {
		t.Fatalf("added push params: %v", params)
	}
	// Removal pushes are disabled: none.
	c.must("DELETE", "/v1/Conversations/"+ch+"/Participants/carol", "", 204)
	if got := recorded(); len(got) != 2 {
		t.Fatalf("pushes after a removal with removal pushes off: %d", len(got))
	}
}

// must is v, failing the test on err (a marshal that cannot fail).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
