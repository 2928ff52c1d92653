package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/parleytest"
)

// TestClientWritePermissions: a client's writes are checked against its
// user's service role and conversation role, and refused with the codes
// the SDK surfaces: 50107 for what the roles do not grant, 50430 for a
// conversation the user is not in; typing reaches the other participants
// and is not stored; the read horizon answers the unread count.
func TestClientWritePermissions(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := rawClient{t: t, srv: srv}
	is := srv.DefaultServiceSid
	alice := c.must("POST", "/v1/Users", "Identity=alice", 201)["sid"].(string)
	c.must("POST", "/v1/Users", "Identity=bob", 201)
	ch := c.must("POST", "/v1/Conversations", "UniqueName=room", 201)["sid"].(string)
	c.must("POST", "/v1/Conversations/room/Participants", "Identity=alice", 201)
	c.must("POST", "/v1/Conversations/room/Participants", "Identity=bob", 201)
	hers := c.must("POST", "/v1/Conversations/room/Messages", "Author=alice&Body=one", 201)["sid"].(string)
	conv := "/Client/v2/Services/" + is + "/Conversations/" + ch

	a := parleytest.DialClient(t, srv, "alice")
	a.Subscribe(1, map[string]int64{alice + ".conversations": 1}, map[string]string{alice + ".conversations": "map"})
	b := parleytest.DialClient(t, srv, "bob")
	carol := parleytest.DialClient(t, srv, "carol")

	refused := func(who *parleytest.SockClient, method, path, body string, status, code int, message string) {
		t.Helper()
		got, v := who.Request(method, path, nil, body)
		if got != status {
			t.Fatalf("%s %s: %d %v, want %d", method, path, got, v, status)
		}
		valueEqual(t, method+" "+path, v, errBody(status, code, message))
	}
	const notPermitted = "User not authorized for command"
	// bob, a channel user, edits and deletes his own messages only, and
	// may not rename the conversation or another user.
	refused(b, "DELETE", conv+"/Messages/"+hers, "", 403, 50107, notPermitted)
	refused(b, "POST", conv+"/Messages/"+hers, `{"body":"mine now"}`, 403, 50107, notPermitted)
	refused(b, "POST", conv, `{"friendly_name":"bob's"}`, 403, 50107, notPermitted)
	refused(b, "POST", "/Client/v2/Services/"+is+"/Users/alice", `{"friendly_name":"Al"}`, 403, 50107, notPermitted)
	refused(b, "POST", conv+"/Participants", `{"identity":"dave"}`, 403, 50107, notPermitted)
	refused(b, "DELETE", conv+"/Participants/alice", "", 403, 50107, notPermitted)
	status, m := b.Request("POST", conv+"/Messages", nil, `{"body":"two"}`)
	if status != 201 || m["index"] != 1.0 || m["author"] != "bob" {
		t.Fatalf("bob sends: %d %v", status, m)
	}
	if status, v := b.Request("POST", conv+"/Messages/"+m["sid"].(string), nil, `{"body":"two!"}`); status != 200 || v["body"] != "two!" {
		t.Fatalf("bob edits his own: %d %v", status, v)
	}
	if status, v := b.Request("POST", "/Client/v2/Services/"+is+"/Users/bob", nil, `{"friendly_name":"Bob"}`); status != 200 || v["friendly_name"] != "Bob" {
		t.Fatalf("bob renames himself: %d %v", status, v)
	}
	refused(b, "POST", conv+"/Messages", `{"body":`, 400, 20001, "Invalid request body: unexpected end of JSON input")
	refused(b, "POST", conv+"/Messages", `{"body":7}`, 400, 20001, "Invalid body: must be a string")

	// carol is in no conversation: she may not write in one, nor read
	// her membership of it.
	const notMember = "Participant is not a member of conversation"
	refused(carol, "POST", conv+"/Messages", `{"body":"hi"}`, 404, 50430, notMember)
	refused(carol, "GET", "/Client/v2/Services/"+is+"/Users/Me/Conversations/"+ch, "", 404, 50430, notMember)
	refused(carol, "POST", "/Client/v2/Services/"+is+"/Users/Me/Conversations/"+ch, `{"last_read_message_index":0}`, 404, 50430, notMember)
	refused(carol, "POST", "/Client/v2/Services/"+is+"/Typing", "ChannelSid="+ch, 404, 50430, notMember)

	// Typing: alice is told, with Twilio's timeout plus one.
	if status, v := b.Request("POST", "/Client/v2/Services/"+is+"/Typing", nil, "ChannelSid="+ch); status != 200 {
		t.Fatalf("typing: %d %v", status, v)
	} else {
		valueEqual(t, "typing answer", v, `{"typing_timeout":5}`)
	}
	typ, v := a.NextNotification()
	if typ != "twilio.ipmsg.typing_indicator" {
		t.Fatalf("alice got %s %v", typ, v)
	}
	valueEqual(t, "typing indicator", v, fmt.Sprintf(`{"channel_sid":%q,"identity":"bob","typing_timeout":6}`, ch))

	// bob's read horizon: his unread count, and the check of the index.
	my := "/Client/v2/Services/" + is + "/Users/Me/Conversations/"
	if status, v := b.Request("POST", my+ch, nil, `{"last_read_message_index":0}`); status != 200 ||
		v["unread_messages_count"] != 1.0 || v["last_read_message_index"] != 0.0 || v["status"] != "joined" {
		t.Fatalf("read horizon: %d %v", status, v)
	}
	if status, v := b.Request("GET", my+"room", nil, ""); status != 200 || v["conversation_sid"] != ch || v["unread_messages_count"] != 1.0 {
		t.Fatalf("membership by unique name: %d %v", status, v)
	}
	refused(b, "POST", my+ch, `{"last_read_message_index":"x"}`, 400, 50421, "Invalid last read message index format")
	refused(b, "POST", my+ch, `{"notification_level":"loud"}`, 400, 50210, `Invalid NotificationLevel "loud": must be default or muted`)

	// The conversation with its counts (getParticipantsCount,
	// getMessagesCount).
	if status, v := b.Request("GET", conv, nil, ""); status != 200 || v["participants_count"] != 2.0 ||
		v["messages_count"] != 2.0 || v["sid"] != ch || v["sync_objects"].(map[string]any)["conversation"] != ch+".channel" {
		t.Fatalf("peek: %d %v", status, v)
	}

	// Without joinConversation, carol may neither join nor peek.
	role := c.roleOf(is, "service user")
	c.must("POST", "/v1/Services/"+is+"/Roles/"+role, "Permission=createConversation", 200)
	refused(carol, "POST", conv+"/Participants", `{"identity":"carol"}`, 403, 50107, notPermitted)
	refused(carol, "GET", "/v3/Documents/"+ch+".channel", "", 403, 20403, "Forbidden: carol is not a participant of "+ch)
	refused(carol, "GET", conv, "", 403, 20403, "Forbidden: carol is not a participant of "+ch)
	c.must("POST", "/v1/Services/"+is+"/Roles/"+role, "Permission=createConversation&Permission=joinConversation", 200)
	if status, v := carol.Request("GET", "/v3/Documents/"+ch+".channel", nil, ""); status != 200 {
		t.Fatalf("peek: %d %v", status, v)
	}
	if status, v := carol.Request("POST", conv+"/Participants", nil, `{"identity":"carol"}`); status != 201 || v["identity"] != "carol" {
		t.Fatalf("join: %d %v", status, v)
	}
}

// TestClientPushRegistrations: a device registers through the socket
// with the push credential of its token's chat grant; a token without one
// is told so; a client unregisters only its own devices.
func TestClientPushRegistrations(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := rawClient{t: t, srv: srv}
	c.must("POST", "/v1/Users", "Identity=alice", 201)
	c.must("POST", "/v1/Users", "Identity=bob", 201)
	// bob's device, as the emulator control registers it (twilsock needs
	// no credential).
	bobs := c.must("POST", "/parley/v1/Services/"+srv.DefaultServiceSid+"/Bindings", "Identity=bob&BindingType=twilsock&Address=tab-1", 201)["sid"].(string)
	a := parleytest.DialClient(t, srv, "alice")
	status, v := a.Request("POST", "/v1/registrations", map[string]any{"productId": "ip_messaging"},
		`{"channel_type":"fcm","data":{"registration_id":"device-1"},"message_types":["twilio.conversations.new_message"]}`)
	if status != 400 {
		t.Fatalf("without a push credential: %d %v", status, v)
	}
	valueEqual(t, "without a push credential", v,
		errBody(400, 20001, "The access token's chat grant names no push_credential_sid to register the device with"))
	// A twilsock registration takes no credential.
	status, v = a.Request("POST", "/v1/registrations", nil, `{"channel_type":"twilsock","data":{"registration_id":"tab-2"}}`)
	if status != 201 || v["channel_type"] != "twilsock" {
		t.Fatalf("twilsock registration: %d %v", status, v)
	}
	mine := v["id"].(string)
	if got := c.must("GET", "/v1/Services/"+srv.DefaultServiceSid+"/Bindings/"+mine, "", 200); got["identity"] != "alice" || got["endpoint"] != "tab-2" {
		t.Fatalf("the binding: %v", got)
	}
	if status, v := a.Request("DELETE", "/v1/registrations/"+bobs, nil, ""); status != 404 {
		t.Fatalf("unregistering bob's device: %d %v", status, v)
	}
	c.must("GET", "/v1/Services/"+srv.DefaultServiceSid+"/Bindings/"+bobs, "", 200)
	if status, v := a.Request("DELETE", "/v1/registrations/"+mine, nil, ""); status != 200 {
		t.Fatalf("unregistering her own: %d %v", status, v)
	}
	c.must("GET", "/v1/Services/"+srv.DefaultServiceSid+"/Bindings/"+mine, "", 404)
}

// TestClientReceipts: a member reads a message's delivery receipts a
// page at a time (getDetailedDeliveryReceipts), and is told there is no
// channel metadata (50530, which the SDK takes as none); a non-member
// reads neither.
func TestClientReceipts(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := rawClient{t: t, srv: srv}
	is := srv.DefaultServiceSid
	ch := c.must("POST", "/v1/Conversations", "MessagingServiceSid=MG0123456789abcdef0123456789abcdef", 201)["sid"].(string)
	c.must("POST", "/v1/Conversations/"+ch+"/Participants", "Identity=alice", 201)
	var sms []string
	for i := range 3 {
		sms = append(sms, c.must("POST", "/v1/Conversations/"+ch+"/Participants",
			fmt.Sprintf("MessagingBinding.Address=%%2B1555000000%d&MessagingBinding.ProxyAddress=%%2B15559990000", i), 201)["sid"].(string))
	}
	m := c.must("POST", "/v1/Conversations/"+ch+"/Messages", "Author=alice&Body=hi", 201)["sid"].(string)
	for _, p := range sms {
		c.must("POST", "/parley/v1/Conversations/"+ch+"/Messages/"+m+"/Receipts", "ParticipantSid="+p+"&Status=delivered", 201)
	}
	a := parleytest.DialClient(t, srv, "alice")
	path := "/Client/v2/Services/" + is + "/Conversations/" + ch + "/Messages/" + m
	status, v := a.Request("GET", path+"/Receipts", map[string]any{"PageSize": "2"}, "")
	first, _ := v["delivery_receipts"].([]any)
	next, _ := v["meta"].(map[string]any)["next_token"].(string)
	if status != 200 || len(first) != 2 || next == "" {
		t.Fatalf("first page: %d %v", status, v)
	}
	r0 := first[0].(map[string]any)
	if r0["message_sid"] != m || r0["conversation_sid"] != ch || r0["participant_sid"] != sms[0] || r0["status"] != "delivered" ||
		r0["error_code"] != nil || !strings.HasPrefix(r0["sid"].(string), "DY") {
		t.Fatalf("a receipt: %v", r0)
	}
	status, v = a.Request("GET", path+"/Receipts", map[string]any{"PageSize": "2", "PageToken": next}, "")
	if rest, _ := v["delivery_receipts"].([]any); status != 200 || len(rest) != 1 || rest[0].(map[string]any)["participant_sid"] != sms[2] ||
		v["meta"].(map[string]any)["next_token"] != nil {
		t.Fatalf("second page: %d %v", status, v)
	}
	status, v = a.Request("GET", path+"/ChannelMetadata", nil, "")
	if status != 404 {
		t.Fatalf("channel metadata: %d %v", status, v)
	}
	valueEqual(t, "channel metadata", v, errBody(404, 50530, "Channel Metadata not found"))

	// A receipt changes the message's delivery summary: its list item is
	// updated for subscribed clients.
	list := ch + ".messages"
	_, d := a.Request("GET", "/v3/Lists/"+list, nil, "")
	last := int64(d["last_event_id"].(float64))
	a.Subscribe(1, map[string]int64{list: last}, map[string]string{list: "list"})
	c.must("POST", "/parley/v1/Conversations/"+ch+"/Messages/"+m+"/Receipts", "ParticipantSid="+sms[0]+"&Status=read", 201)
	n := a.Next()
	e := n["event"].(map[string]any)
	if n["event_type"] != "list_item_updated" || e["id"] != float64(last+1) || e["item_index"] != 0.0 {
		t.Fatalf("after a receipt: %v", n)
	}
	valueEqual(t, "delivery summary", e["item_data"].(map[string]any)["delivery"],
		`{"total":3,"sent":"all","delivered":"all","read":"some","failed":"none","undelivered":"none"}`)
	carol := parleytest.DialClient(t, srv, "carol")
	for _, p := range []string{path + "/Receipts", path + "/ChannelMetadata"} {
		if status, v := carol.Request("GET", p, nil, ""); status != 404 || v["code"] != 50430.0 {
			t.Fatalf("a non-member's %s: %d %v", p, status, v)
		}
	}
}
