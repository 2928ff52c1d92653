package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/core"
)

// partBody is the expected JSON of participant $MB<n> of conversation
// $CH<conv> at prefix ("/v1" or "/v1/Services/$IS"; the account-level
// shape has no chat_service_sid). identity, role and binding are JSON
// literals.
func partBody(prefix string, n, conv int, identity, role, binding, attrs string) string {
	svc := ""
	if prefix != "/v1" {
		svc = `"chat_service_sid":"$IS",`
	}
	return fmt.Sprintf(`{"account_sid":"$AC",%s"conversation_sid":"$CH%d","sid":"$MB%d","identity":%s,
		"attributes":%q,"messaging_binding":%s,"role_sid":%s,"date_created":"%s","date_updated":"%s",
		"url":"$BASE%s/Conversations/$CH%d/Participants/$MB%d","last_read_message_index":null,"last_read_timestamp":null}`,
		svc, conv, n, identity, attrs, binding, role, stamp, stamp, prefix, conv, n)
}

const sms = `{"type":"sms","address":"+15551230001","proxy_address":"+15559870001"}`

func TestParticipantCreate(t *testing.T) {
	t.Parallel()
	pair := form("MessagingBinding.Address", "+15551230001", "MessagingBinding.ProxyAddress", "+15559870001")
	tests := []struct {
		name  string
		steps []step
	}{
		{"chat participant: user created with the default role, conversation role by default", []step{
			ok(post("/v1/Conversations", "UniqueName=room"), 201),
			want(post("/v1/Conversations/room/Participants", "Identity=alice"), 201, partBody("/v1", 1, 1, `"alice"`, `"`+RL4+`"`, "null", "{}")),
			want(get("/v1/Users/alice"), 200, userBody("/v1", 1, "alice", RL2, "null", "{}")),
			want(get("/v1/Services/$IS/Conversations/$CH1/Participants/alice"), 200,
				partBody("/v1/Services/$IS", 1, 1, `"alice"`, `"`+RL4+`"`, "null", "{}")),
			want(get("/v1/Conversations/$CH1/Participants/$MB1"), 200, partBody("/v1", 1, 1, `"alice"`, `"`+RL4+`"`, "null", "{}")),
			// An existing user is used as it is.
			ok(post("/v1/Users", "Identity=bob&RoleSid="+RL1), 201),
			want(post("/v1/Services/$IS/Conversations/$CH1/Participants", form("Identity", "bob", "RoleSid", RL3, "Attributes", `{"x":1}`)), 201,
				partBody("/v1/Services/$IS", 2, 1, `"bob"`, `"`+RL3+`"`, "null", `{"x":1}`)),
			want(get("/v1/Users/bob"), 200, userBody("/v1", 2, "bob", RL1, "null", "{}")),
			want(post("/v1/Conversations/room/Participants", "Identity=bob"), 409, errBody(409, 50433, "Participant already exists")),
		}},
		{"non-chat participants", []step{
			ok(post("/v1/Conversations", ""), 201),
			want(post("/v1/Conversations/$CH1/Participants", pair), 201, partBody("/v1", 1, 1, "null", "null", sms, "{}")),
			want(post("/v1/Conversations/$CH1/Participants", form("MessagingBinding.Address", "whatsapp:+15551230002",
				"MessagingBinding.ProxyAddress", "whatsapp:+15559870001")), 201,
				partBody("/v1", 2, 1, "null", "null", `{"type":"whatsapp","address":"whatsapp:+15551230002","proxy_address":"whatsapp:+15559870001"}`, "{}")),
			// Group MMS: an address without proxy, a chat participant with a projected address.
			want(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230003"), 201,
				partBody("/v1", 3, 1, "null", "null", `{"type":"sms","address":"+15551230003"}`, "{}")),
			want(post("/v1/Conversations/$CH1/Participants", "Identity=g&MessagingBinding.ProjectedAddress=%2B15559870009"), 201,
				partBody("/v1", 4, 1, `"g"`, `"`+RL4+`"`, `{"type":"sms","projected_address":"+15559870009"}`, "{}")),
			// The pair is held while the conversation is open, across conversations.
			ok(post("/v1/Conversations", ""), 201),
			want(post("/v1/Conversations/$CH2/Participants", pair), 409,
				errBody(409, 50416, "A binding for this participant and proxy address already exists in Conversation $CH1")),
			// The same address through another proxy is another pair.
			ok(post("/v1/Conversations/$CH2/Participants", form("MessagingBinding.Address", "+15551230001", "MessagingBinding.ProxyAddress", "+15559870002")), 201),
			// Closing frees it.
			ok(post("/v1/Conversations/$CH1", "State=closed"), 200),
			ok(post("/v1/Conversations/$CH2/Participants", pair), 201),
		}},
		{"binding rules", []step{
			ok(post("/v1/Conversations", ""), 201),
			want(post("/v1/Conversations/$CH1/Participants", ""), 400, errBody(400, 50204, "Identity not provided")),
			want(post("/v1/Conversations/$CH1/Participants", "Attributes=%7B%7D"), 400, errBody(400, 50204, "Identity not provided")),
			want(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address="), 400, errBody(400, 50411, "Address can't be empty")),
			want(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=555"), 400,
				errBody(400, 50407, `Invalid messaging binding address "555"`)),
			want(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress="), 400,
				errBody(400, 50412, "Proxy address can't be empty")),
			want(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=x"), 400,
				errBody(400, 50408, `Invalid messaging binding proxy address "x"`)),
			want(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=%2B15551230001"), 400,
				errBody(400, 50409, "Address and proxy address can't be the same")),
			want(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=whatsapp:%2B15559870001"), 400,
				errBody(400, 50414, `Address "+15551230001" and proxy address "whatsapp:+15559870001" are of different channels`)),
			want(post("/v1/Conversations/$CH1/Participants", "Identity=a&MessagingBinding.Address=%2B15551230001"), 400,
				errBody(400, 50211, "Identity is not acceptable for a participant with a messaging binding address")),
			want(post("/v1/Conversations/$CH1/Participants", "Identity=a&MessagingBinding.ProxyAddress=%2B15551230001"), 400,
				errBody(400, 50441, "Failed to add a proxy address to a participant: a chat participant has no messaging binding address")),
			want(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProjectedAddress=%2B15551230002"), 400,
				errBody(400, 50443, "Failed to add a projected address: only chat participants have one")),
			want(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.Name=Al"), 400,
				errBody(400, 50420, "Binding type does not support given MessagingBinding params: Name and Level are for email bindings")),
			want(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.Level=to"), 400,
				errBody(400, 50420, "Binding type does not support given MessagingBinding params: Name and Level are for email bindings")),
			want(post("/v1/Conversations/$CH1/Participants", "Identity=a&MessagingBinding.ProjectedAddress=whatsapp:%2B15551230002"), 400,
				errBody(400, 50408, `Invalid projected address "whatsapp:+15551230002": it must be a phone number in E.164`)),
		}},
		{"field rules", []step{
			ok(post("/v1/Conversations", ""), 201),
			want(post("/v1/Conversations/$CH1/Participants", form("Identity", "a", "Attributes", `"`+strings.Repeat("x", 4*1024-1)+`"`)), 400,
				errBody(400, 50303, "Attributes too long")),
			want(post("/v1/Conversations/$CH1/Participants", form("Identity", "a", "Attributes", "{")), 400,
				errBody(400, 50304, "Attributes not valid JSON")),
			want(post("/v1/Conversations/$CH1/Participants", form("Identity", "US0123456789abcdef0123456789abcdef")), 400,
				errBody(400, 50206, "Identity should not match user SID pattern")),
			want(post("/v1/Conversations/$CH1/Participants", "Identity=a&RoleSid="+sidN("RL", 99)), 400, errBody(400, 50109, "Conversation role not found")),
			want(post("/v1/Conversations/$CH1/Participants", "Identity=a&RoleSid="+RL1), 400, errBody(400, 50105, "Invalid role type")),
			want(post("/v1/Conversations/$CH1/Participants", "Identity=a&DateCreated=soon"), 400,
				errBody(400, 20001, `Invalid DateCreated: "soon" is not an ISO 8601 date-time such as 2019-12-16T22:18:37Z`)),
			// Nothing was written by the refused creates: no user either.
			want(get("/v1/Users/a"), 404, notFoundBody("/Users/a")),
			want(post("/v1/Conversations/$CH1/Participants", form("Identity", "a", "Attributes", `"`+strings.Repeat("x", 4*1024-2)+`"`,
				"DateCreated", "2020-01-01T00:00:00Z")), 201,
				with(partBody("/v1", 1, 1, `"a"`, `"`+RL4+`"`, "null", `"`+strings.Repeat("x", 4*1024-2)+`"`),
					"date_created", `"`+stamp+`"`, `"2020-01-01T00:00:00Z"`)),
		}},
		{"conversation states", []step{
			// Due at 03:10:00, after the scenario clock (03:04:05): the timer
			// loop, which runs here too, leaves it alone.
			ok(post("/v1/Conversations", "State=inactive&Timers.Closed=PT10M&DateUpdated=2026-01-02T03:00:00Z"), 201),
			// Adding wakes an inactive conversation and restarts its timers.
			ok(post("/v1/Conversations/$CH1/Participants", "Identity=a"), 201),
			want(get("/v1/Conversations/$CH1"), 200, with(convBody("/v1", 1, "null", "null", "{}", "active", `{"date_closed":"2026-01-02T03:14:05Z"}`),
				"date_updated", `"`+stamp+`"`, `"2026-01-02T03:00:00Z"`)),
			ok(post("/v1/Conversations/$CH1", "State=closed"), 200),
			want(post("/v1/Conversations/$CH1/Participants", "Identity=b"), 400, errBody(400, 50377, "Can't update conversation as it's in final closed state")),
			want(post("/v1/Conversations/$CH1/Participants/a", "Attributes=%7B%7D"), 400, errBody(400, 50377, "Can't update conversation as it's in final closed state")),
			want(del("/v1/Conversations/$CH1/Participants/a"), 400, errBody(400, 50377, "Can't update conversation as it's in final closed state")),
			want(get("/v1/Conversations/$CH1/Participants/a"), 200, partBody("/v1", 1, 1, `"a"`, `"`+RL4+`"`, "null", "{}")),
			// The refused chat create made no user.
			want(get("/v1/Users/b"), 404, notFoundBody("/Users/b")),
		}},
		{"unknown parents", []step{
			want(post("/v1/Conversations/$CH9/Participants", "Identity=a"), 404, notFoundBody("/Conversations/$CH9/Participants")),
			want(post("/v1/Conversations/nope/Participants", "Identity=a"), 404, notFoundBody("/Conversations/nope/Participants")),
			want(post("/v1/Services/$IS9/Conversations/x/Participants", "Identity=a"), 404, notFoundBody("/Services/$IS9/Conversations/x/Participants")),
			want(get("/v1/Users/a"), 404, notFoundBody("/Users/a")),
			ok(post("/v1/Conversations", ""), 201),
			want(get("/v1/Conversations/$CH1/Participants/$MB9"), 404, notFoundBody("/Conversations/$CH1/Participants/$MB9")),
			want(get("/v1/Conversations/$CH1/Participants/nobody"), 404, notFoundBody("/Conversations/$CH1/Participants/nobody")),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			newEnv(t).run(tc.steps...)
		})
	}
}

func TestParticipantUpdateDeleteList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []step
	}{
		{"fields", []step{
			ok(post("/v1/Conversations", ""), 201),
			ok(post("/v1/Conversations/$CH1/Participants", "Identity=a"), 201),
			want(post("/v1/Conversations/$CH1/Participants/a", form("Attributes", `{"k":"v"}`, "RoleSid", RL3,
				"LastReadMessageIndex", "7", "LastReadTimestamp", "2026-01-01T00:00:00Z", "DateUpdated", "2026-01-02T00:00:00Z")), 200,
				with(with(with(partBody("/v1", 1, 1, `"a"`, `"`+RL3+`"`, "null", `{"k":"v"}`),
					"last_read_message_index", "null", "7"), "last_read_timestamp", "null", `"2026-01-01T00:00:00Z"`),
					"date_updated", `"`+stamp+`"`, `"2026-01-02T00:00:00Z"`)),
			// Empty values clear.
			want(post("/v1/Conversations/$CH1/Participants/$MB1", "LastReadMessageIndex=&LastReadTimestamp=&Attributes="), 200,
				partBody("/v1", 1, 1, `"a"`, `"`+RL3+`"`, "null", "{}")),
			want(post("/v1/Conversations/$CH1/Participants/a", "LastReadMessageIndex=-1"), 400,
				errBody(400, 50421, `Invalid LastReadMessageIndex: "-1" is not a message index`)),
			want(post("/v1/Conversations/$CH1/Participants/a", "LastReadMessageIndex=x"), 400,
				errBody(400, 50421, `Invalid LastReadMessageIndex: "x" is not a message index`)),
			want(post("/v1/Conversations/$CH1/Participants/a", "RoleSid="+RL2), 400, errBody(400, 50105, "Invalid role type")),
			want(post("/v1/Conversations/$CH1/Participants/a", "MessagingBinding.ProxyAddress=%2B15551230001"), 400,
				errBody(400, 50441, "Failed to add a proxy address to a participant: it has no messaging binding address")),
			want(post("/v1/Conversations/$CH1/Participants/zed", "Attributes=%7B%7D"), 404, notFoundBody("/Conversations/$CH1/Participants/zed")),
		}},
		{"identity moves a chat participant to another user", []step{
			ok(post("/v1/Conversations", ""), 201),
			ok(post("/v1/Conversations/$CH1/Participants", "Identity=a"), 201),
			ok(post("/v1/Conversations/$CH1/Participants", "Identity=b"), 201),
			want(post("/v1/Conversations/$CH1/Participants/a", "Identity=b"), 409, errBody(409, 50433, "Participant already exists")),
			want(post("/v1/Conversations/$CH1/Participants/a", "Identity=c"), 200, partBody("/v1", 1, 1, `"c"`, `"`+RL4+`"`, "null", "{}")),
			want(get("/v1/Users/c"), 200, userBody("/v1", 3, "c", RL2, "null", "{}")),
			want(get("/v1/Conversations/$CH1/Participants/a"), 404, notFoundBody("/Conversations/$CH1/Participants/a")),
		}},
		{"proxy and projected addresses", []step{
			ok(post("/v1/Conversations", ""), 201),
			ok(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=%2B15559870001"), 201),
			want(post("/v1/Conversations/$CH1/Participants/$MB1", "MessagingBinding.ProxyAddress=%2B15559870002"), 200,
				partBody("/v1", 1, 1, "null", "null", `{"type":"sms","address":"+15551230001","proxy_address":"+15559870002"}`, "{}")),
			want(post("/v1/Conversations/$CH1/Participants/$MB1", "MessagingBinding.ProxyAddress=whatsapp:%2B15559870002"), 400,
				errBody(400, 50414, `Address "+15551230001" and proxy address "whatsapp:+15559870002" are of different channels`)),
			want(post("/v1/Conversations/$CH1/Participants/$MB1", "Identity=x"), 400,
				errBody(400, 50444, "Failed to add an identity to a participant with a messaging binding address")),
			want(post("/v1/Conversations/$CH1/Participants/$MB1", "MessagingBinding.ProjectedAddress=%2B15559870002"), 400,
				errBody(400, 50443, "Failed to add a projected address: only chat participants have one")),
			// The old pair is free, the new one taken.
			ok(post("/v1/Conversations", ""), 201),
			ok(post("/v1/Conversations/$CH2/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=%2B15559870001"), 201),
			want(post("/v1/Conversations/$CH2/Participants/$MB2", "MessagingBinding.ProxyAddress=%2B15559870002"), 409,
				errBody(409, 50416, "A binding for this participant and proxy address already exists in Conversation $CH1")),
			// Removing the proxy frees the pair.
			want(post("/v1/Conversations/$CH1/Participants/$MB1", "MessagingBinding.ProxyAddress="), 200,
				partBody("/v1", 1, 1, "null", "null", `{"type":"sms","address":"+15551230001"}`, "{}")),
			ok(post("/v1/Conversations/$CH2/Participants/$MB2", "MessagingBinding.ProxyAddress=%2B15559870002"), 200),
			ok(post("/v1/Conversations/$CH1/Participants", "Identity=g&MessagingBinding.ProjectedAddress=%2B15559870003"), 201),
			want(post("/v1/Conversations/$CH1/Participants/g", "MessagingBinding.ProjectedAddress="), 200,
				partBody("/v1", 3, 1, `"g"`, `"`+RL4+`"`, "null", "{}")),
		}},
		{"delete", []step{
			ok(post("/v1/Conversations", ""), 201),
			ok(post("/v1/Conversations/$CH1/Participants", "Identity=a"), 201),
			ok(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=%2B15559870001"), 201),
			want(del("/v1/Conversations/$CH1/Participants/a"), 204, ""),
			want(del("/v1/Conversations/$CH1/Participants/a"), 404, notFoundBody("/Conversations/$CH1/Participants/a")),
			want(del("/v1/Services/$IS/Conversations/$CH1/Participants/$MB2"), 204, ""),
			// The user stays; the pair is free again.
			want(get("/v1/Users/a"), 200, userBody("/v1", 1, "a", RL2, "null", "{}")),
			ok(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=%2B15559870001"), 201),
			// Deleting a user removes it from its conversations; deleting a
			// conversation removes its participants and frees its pairs.
			ok(post("/v1/Conversations/$CH1/Participants", "Identity=a"), 201),
			want(del("/v1/Users/a"), 204, ""),
			want(get("/v1/Conversations/$CH1/Participants/a"), 404, notFoundBody("/Conversations/$CH1/Participants/a")),
			want(del("/v1/Conversations/$CH1"), 204, ""),
			ok(post("/v1/Conversations", ""), 201),
			ok(post("/v1/Conversations/$CH2/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=%2B15559870001"), 201),
		}},
		{"a role held by a participant stays", []step{
			ok(post("/v1/Roles", "FriendlyName=mod&Type=conversation&Permission=sendMessage"), 201),
			ok(post("/v1/Conversations", ""), 201),
			ok(post("/v1/Conversations/$CH1/Participants", "Identity=a&RoleSid=$RL5"), 201),
			want(del("/v1/Roles/$RL5"), 409, errBody(409, 20001, "Role $RL5 is held by users or participants and cannot be deleted")),
			ok(del("/v1/Conversations/$CH1/Participants/a"), 204),
			want(del("/v1/Roles/$RL5"), 204, ""),
		}},
		{"list", []step{
			ok(post("/v1/Conversations", ""), 201),
			want(get("/v1/Conversations/$CH1/Participants"), 200, listBody("/v1/Conversations/$CH1/Participants", "participants", 50)),
			ok(post("/v1/Conversations/$CH1/Participants", "Identity=b"), 201),
			ok(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=%2B15559870001"), 201),
			ok(post("/v1/Conversations/$CH1/Participants", "Identity=a"), 201),
			want(get("/v1/Services/$IS/Conversations/$CH1/Participants"), 200, listBody("/v1/Services/$IS/Conversations/$CH1/Participants", "participants", 50,
				partBody("/v1/Services/$IS", 1, 1, `"b"`, `"`+RL4+`"`, "null", "{}"),
				partBody("/v1/Services/$IS", 2, 1, "null", "null", sms, "{}"),
				partBody("/v1/Services/$IS", 3, 1, `"a"`, `"`+RL4+`"`, "null", "{}"))),
			want(get("/v1/Conversations/$CH9/Participants"), 404, notFoundBody("/Conversations/$CH9/Participants")),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			newEnv(t).run(tc.steps...)
		})
	}
}

func TestParticipantPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.run(ok(post("/v1/Conversations", "UniqueName=big"), 201))
	var want []string
	for i := range 7 {
		e.run(ok(post("/v1/Conversations/big/Participants", fmt.Sprintf("Identity=p%d", i)), 201))
		want = append(want, sidN("MB", i+1))
	}
	if got := walk(t, e, "/v1/Conversations/big/Participants", "PageSize=3", "participants"); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paged %v, want %v", got, want)
	}
}

// TestParticipantLimits: past each limit, 403 with Twilio's code, and
// nothing written. The limits are lowered here (core.Limits); the default
// ones are Twilio's.
func TestParticipantLimits(t *testing.T) {
	t.Parallel()
	e := newEnvLimits(t, core.Limits{ChatParticipants: 2, NonChatParticipants: 1, OpenConversations: 2})
	e.run(
		ok(post("/v1/Conversations", ""), 201),
		ok(post("/v1/Conversations/$CH1/Participants", "Identity=a"), 201),
		ok(post("/v1/Conversations/$CH1/Participants", "Identity=b"), 201),
		want(post("/v1/Conversations/$CH1/Participants", "Identity=c"), 403,
			errBody(403, 50417, "Conversation has reached its limit of 2 chat participants")),
		want(get("/v1/Users/c"), 404, notFoundBody("/Users/c")),
		ok(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001"), 201),
		want(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230002"), 403,
			errBody(403, 50418, "Conversation has reached its limit of 1 non-chat participants")),
		// a is in $CH1; one more open conversation, then the limit. A
		// closed one does not count.
		ok(post("/v1/Conversations", ""), 201),
		ok(post("/v1/Conversations/$CH2/Participants", "Identity=a"), 201),
		ok(post("/v1/Conversations", ""), 201),
		want(post("/v1/Conversations/$CH3/Participants", "Identity=a"), 403,
			errBody(403, 50214, "User conversation limit exceeded: a is in 2 open conversations")),
		ok(post("/v1/Conversations/$CH2", "State=closed"), 200),
		ok(post("/v1/Conversations/$CH3/Participants", "Identity=a"), 201),
	)
}
