package webhook_test

import (
	"net/url"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/parleytest"
)

// TestClientWritesFireWebhooks: a client SDK user's writes run the
// pre-events (without the REST extension, as on Twilio) and the
// post-events, with Source=SDK and the user's ClientIdentity; a pre-event
// refusal reaches the client as Twilio's 50056 and nothing is written.
func TestClientWritesFireWebhooks(t *testing.T) {
	t.Parallel()
	post := newReceiver(t, nil)
	var veto atomic.Bool
	pre := newReceiver(t, func(int, hit) int {
		if veto.Load() {
			return 403
		}
		return 200
	})
	e := newEnv(t, parleytest.Options{})
	is, ac := e.srv.DefaultServiceSid, e.srv.AccountSid
	e.must("POST", "/v1/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(post.srv.URL+"/post")+
		"&PreWebhookUrl="+url.QueryEscape(pre.srv.URL+"/pre")+"&Filters=onMessageAdd&Filters=onMessageAdded", false, 200)
	ch := e.must("POST", "/v1/Conversations", "UniqueName=room", false, 201)["sid"].(string)
	mb := e.must("POST", "/v1/Conversations/room/Participants", "Identity=alice", false, 201)["sid"].(string)

	alice := parleytest.DialClient(t, e.srv, "alice")
	status, m := alice.Request("POST", "/Client/v2/Services/"+is+"/Conversations/"+ch+"/Messages", nil, `{"body":"hi","attributes":"{\"a\":1}"}`)
	if status != 201 || m["index"] != 0.0 || m["author"] != "alice" || m["participant_sid"] != mb {
		t.Fatalf("send: %d %v", status, m)
	}
	wantParams(t, pre.wait(1)[0], map[string]string{"AccountSid": ac, "EventType": "onMessageAdd", "Source": "SDK",
		"ClientIdentity": "alice", "ChatServiceSid": is, "ConversationSid": ch, "Body": "hi", "Author": "alice",
		"ParticipantSid": mb, "Attributes": `{"a":1}`})
	added := post.wait(1)[0]
	wantParams(t, added, map[string]string{"AccountSid": ac, "EventType": "onMessageAdded", "Source": "SDK", "ClientIdentity": "alice",
		"RetryCount": "0", "ChatServiceSid": is, "ConversationSid": ch, "MessageSid": m["sid"].(string), "Index": "0",
		"DateCreated": "2026-03-04T05:06:07.000Z", "Body": "hi", "Author": "alice", "ParticipantSid": mb, "Attributes": `{"a":1}`})
	validSignature(t, e.srv.AuthToken, added)

	veto.Store(true)
	status, body := alice.Request("POST", "/Client/v2/Services/"+is+"/Conversations/"+ch+"/Messages", nil, `{"body":"vetoed"}`)
	if want := map[string]any{"code": 50056.0, "status": 403.0, "more_info": "https://www.twilio.com/docs/errors/50056",
		"message": "The pre-event webhook rejected the action (onMessageAdd answered HTTP 403)"}; status != 403 || !reflect.DeepEqual(body, want) {
		t.Fatalf("vetoed: %d %v", status, body)
	}
	if list := e.must("GET", "/v1/Conversations/room/Messages", "", false, 200)["messages"].([]any); len(list) != 1 {
		t.Fatalf("messages after the veto: %v", list)
	}
}
