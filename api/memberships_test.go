package api_test

import (
	"fmt"
	"strings"
	"testing"
)

// userConvBody is the expected JSON of user $US<user>'s membership
// ($MB<part>) of conversation $CH<conv> at prefix; horizon and unread are
// JSON literals.
func userConvBody(prefix string, user, conv, part int, state, horizon, unread, level string) string {
	convURL := fmt.Sprintf("$BASE%s/Conversations/$CH%d", prefix, conv)
	return fmt.Sprintf(`{"account_sid":"$AC","chat_service_sid":"$IS","conversation_sid":"$CH%d",
		"unread_messages_count":%s,"last_read_message_index":%s,"participant_sid":"$MB%d","user_sid":"$US%d",
		"friendly_name":null,"conversation_state":"%s","timers":{},"attributes":"{}","date_created":"%s","date_updated":"%s",
		"created_by":"system","notification_level":"%s","unique_name":null,
		"url":"$BASE%s/Users/$US%d/Conversations/$CH%d",
		"links":{"participant":"%s/Participants/$MB%d","conversation":"%s"}}`,
		conv, unread, horizon, part, user, state, stamp, stamp, level, prefix, user, conv, convURL, part, convURL)
}

// partConvBody is the expected JSON of participant $MB<part> in
// conversation $CH<conv> as ParticipantConversations shows it.
func partConvBody(prefix string, conv, part int, userSid, identity, binding string) string {
	convURL := fmt.Sprintf("$BASE%s/Conversations/$CH%d", prefix, conv)
	return fmt.Sprintf(`{"account_sid":"$AC","chat_service_sid":"$IS","participant_sid":"$MB%d",
		"participant_user_sid":%s,"participant_identity":%s,"participant_messaging_binding":%s,
		"conversation_sid":"$CH%d","conversation_unique_name":null,"conversation_friendly_name":null,
		"conversation_attributes":"{}","conversation_date_created":"%s","conversation_date_updated":"%s",
		"conversation_created_by":"system","conversation_state":"active","conversation_timers":{},
		"links":{"participant":"%s/Participants/$MB%d","conversation":"%s"}}`,
		part, userSid, identity, binding, conv, stamp, stamp, convURL, part, convURL)
}

func TestConversationWithParticipants(t *testing.T) {
	t.Parallel()
	cwpBody := func(prefix string, n int) string {
		return strings.Replace(convBody(prefix, n, `"Team"`, "null", "{}", "active", "{}"), `,"export":"$BASE`+prefix+fmt.Sprintf("/Conversations/$CH%d/Export\"", n), "", 1)
	}
	p := func(kv ...string) string { return form(kv...) }
	tests := []struct {
		name  string
		steps []step
	}{
		{"conversation and participants in one request, both scopes", []step{
			want(post("/v1/ConversationWithParticipants", p("FriendlyName", "Team",
				"Participant", `{"identity":"alice"}`,
				"Participant", `{"identity":"bob","attributes":{"x":1},"role_sid":"`+RL3+`"}`,
				"Participant", `{"messaging_binding":{"address":"+15551230001","proxy_address":"+15559870001"}}`)), 201,
				cwpBody("/v1", 1)),
			want(get("/v1/Conversations/$CH1/Participants"), 200, listBody("/v1/Conversations/$CH1/Participants", "participants", 50,
				partBody("/v1", 1, 1, `"alice"`, `"`+RL4+`"`, "null", "{}"),
				partBody("/v1", 2, 1, `"bob"`, `"`+RL3+`"`, "null", `{"x":1}`),
				partBody("/v1", 3, 1, "null", "null", sms, "{}"))),
			want(get("/v1/Users/alice"), 200, userBody("/v1", 1, "alice", RL2, "null", "{}")),
			want(post("/v1/Services/$IS/ConversationWithParticipants", "FriendlyName=Team"), 201, cwpBody("/v1/Services/$IS", 2)),
		}},
		{"everything is checked before anything is written", []step{
			want(post("/v1/ConversationWithParticipants", p("UniqueName", "u", "Participant", `{"identity":"a"}`, "Participant", `["a"]`)), 400,
				errBody(400, 50424, "One of the JSON requests for participant creation is invalid: not a JSON object")),
			want(post("/v1/ConversationWithParticipants", p("Participant", `{"identity":1}`)), 400,
				errBody(400, 50424, "One of the JSON requests for participant creation is invalid: identity is not a string")),
			want(post("/v1/ConversationWithParticipants", p("Participant", `{"nickname":"a"}`)), 400,
				errBody(400, 50424, "One of the JSON requests for participant creation is invalid: unknown key nickname")),
			want(post("/v1/ConversationWithParticipants", p("UniqueName", "u", "Participant", `{"identity":"a"}`, "Participant", `{}`)), 400,
				errBody(400, 50204, "Identity not provided")),
			want(post("/v1/ConversationWithParticipants", p("Participant", `{"identity":"a"}`, "Participant", `{"identity":"a"}`)), 409,
				errBody(409, 50433, "Participant already exists")),
			want(post("/v1/ConversationWithParticipants", strings.Repeat("Participant=%7B%22identity%22%3A%22a%22%7D&", 11)), 400,
				errBody(400, 50426, "Too many participants: at most 10 may be created with a conversation")),
			want(post("/v1/ConversationWithParticipants", p("UniqueName", "u", "Participant", `{"identity":"a","role_sid":"`+sidN("RL", 9)+`"}`)), 400,
				errBody(400, 50109, "Conversation role not found")),
			want(post("/v1/ConversationWithParticipants", "State=closed"), 400, errBody(400, 50384, "Initial state can't be 'closed'")),
			// Nothing of the refused requests exists.
			want(get("/v1/Conversations/u"), 404, notFoundBody("/Conversations/u")),
			want(get("/v1/Users/a"), 404, notFoundBody("/Users/a")),
			want(get("/v1/Conversations"), 200, listBody("/v1/Conversations", "conversations", 50)),
		}},
		{"a pair bound elsewhere is 50425", []step{
			ok(post("/v1/Conversations", ""), 201),
			ok(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=%2B15559870001"), 201),
			want(post("/v1/ConversationWithParticipants", p("UniqueName", "u", "Participant", `{"identity":"a"}`,
				"Participant", `{"messaging_binding":{"address":"+15551230001","proxy_address":"+15559870001"}}`)), 409,
				errBody(409, 50425, "A binding for this participant and proxy address already exists in Conversation $CH1")),
			want(get("/v1/Conversations/u"), 404, notFoundBody("/Conversations/u")),
			want(get("/v1/Users/a"), 404, notFoundBody("/Users/a")),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			newEnv(t).run(tc.steps...)
		})
	}
}

func TestUserConversations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.run(
		ok(post("/v1/Conversations", ""), 201),
		ok(post("/v1/Conversations", "UniqueName=two"), 201),
		ok(post("/v1/Conversations/two/Participants", "Identity=alice"), 201),
		ok(post("/v1/Conversations/$CH1/Participants", "Identity=alice"), 201),
		ok(post("/v1/Conversations/$CH1/Participants", "Identity=bob"), 201),
	)
	two := strings.Replace(userConvBody("/v1", 1, 2, 1, "active", "null", "null", "default"), `"unique_name":null`, `"unique_name":"two"`, 1)
	e.run(
		// In the order the user joined.
		want(get("/v1/Users/alice/Conversations"), 200, listBody("/v1/Users/alice/Conversations", "conversations", 50,
			two, userConvBody("/v1", 1, 1, 2, "active", "null", "null", "default"))),
		want(get("/v1/Users/$US1/Conversations/two"), 200, two),
		want(get("/v1/Services/$IS/Users/alice/Conversations/$CH1"), 200, userConvBody("/v1/Services/$IS", 1, 1, 2, "active", "null", "null", "default")),
		want(post("/v1/Users/alice/Conversations/$CH1", "NotificationLevel=Muted&LastReadMessageIndex=3"), 200,
			userConvBody("/v1", 1, 1, 2, "active", "3", "0", "muted")),
		want(get("/v1/Conversations/$CH1/Participants/alice"), 200,
			with(partBody("/v1", 2, 1, `"alice"`, `"`+RL4+`"`, "null", "{}"), "last_read_message_index", "null", "3")),
		want(post("/v1/Users/alice/Conversations/$CH1", "NotificationLevel=loud"), 400,
			errBody(400, 50210, `Invalid NotificationLevel "loud": must be default or muted`)),
		want(post("/v1/Users/alice/Conversations/$CH1", "LastReadMessageIndex=x"), 400,
			errBody(400, 50421, `Invalid LastReadMessageIndex: "x" is not a message index`)),
		want(post("/v1/Users/alice/Conversations/$CH1", "LastReadTimestamp=noon"), 400,
			errBody(400, 20001, `Invalid LastReadTimestamp: "noon" is not an ISO 8601 date-time such as 2019-12-16T22:18:37Z`)),
		// Unknown user, unknown conversation, not a participant: 404.
		want(get("/v1/Users/carol/Conversations/$CH1"), 404, notFoundBody("/Users/carol/Conversations/$CH1")),
		want(get("/v1/Users/alice/Conversations/$CH9"), 404, notFoundBody("/Users/alice/Conversations/$CH9")),
		want(get("/v1/Users/bob/Conversations/two"), 404, notFoundBody("/Users/bob/Conversations/two")),
		want(get("/v1/Users/carol/Conversations"), 404, notFoundBody("/Users/carol/Conversations")),
		// Closed conversations stay listed (decision 4), read-only.
		ok(post("/v1/Conversations/two", "State=closed"), 200),
		want(get("/v1/Users/alice/Conversations/two"), 200, strings.Replace(two, `"conversation_state":"active"`, `"conversation_state":"closed"`, 1)),
		want(post("/v1/Users/alice/Conversations/two", "NotificationLevel=muted"), 400,
			errBody(400, 50377, "Can't update conversation as it's in final closed state")),
		// Leaving.
		want(del("/v1/Users/alice/Conversations/$CH1"), 204, ""),
		want(get("/v1/Conversations/$CH1/Participants/alice"), 404, notFoundBody("/Conversations/$CH1/Participants/alice")),
		want(del("/v1/Users/alice/Conversations/$CH1"), 404, notFoundBody("/Users/alice/Conversations/$CH1")),
		want(get("/v1/Users/alice/Conversations"), 200, listBody("/v1/Users/alice/Conversations", "conversations", 50,
			strings.Replace(two, `"conversation_state":"active"`, `"conversation_state":"closed"`, 1))),
	)
}

func TestParticipantConversations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.run(
		ok(post("/v1/Conversations", ""), 201),
		ok(post("/v1/Conversations", ""), 201),
		ok(post("/v1/Conversations/$CH2/Participants", "Identity=alice"), 201),
		ok(post("/v1/Conversations/$CH1/Participants", "Identity=alice"), 201),
		ok(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=%2B15559870001"), 201),
	)
	full := `{"type":"sms","address":"+15551230001","proxy_address":"+15559870001","projected_address":null,"level":null,"name":null}`
	e.run(
		// By conversation SID.
		want(getQ("/v1/ParticipantConversations", "Identity=alice"), 200,
			strings.ReplaceAll(listBody("/v1/ParticipantConversations", "conversations", 50,
				partConvBody("/v1", 1, 2, `"$US1"`, `"alice"`, "null"), partConvBody("/v1", 2, 1, `"$US1"`, `"alice"`, "null")),
				"/v1/ParticipantConversations?", "/v1/ParticipantConversations?Identity=alice&")),
		want(getQ("/v1/Services/$IS/ParticipantConversations", "Address=%2B15551230001"), 200,
			strings.ReplaceAll(listBody("/v1/Services/$IS/ParticipantConversations", "conversations", 50,
				partConvBody("/v1/Services/$IS", 1, 3, "null", "null", full)),
				"/v1/Services/$IS/ParticipantConversations?", "/v1/Services/$IS/ParticipantConversations?Address=%2B15551230001&")),
		want(getQ("/v1/ParticipantConversations", "Identity=nobody"), 200,
			strings.ReplaceAll(listBody("/v1/ParticipantConversations", "conversations", 50), "/v1/ParticipantConversations?", "/v1/ParticipantConversations?Identity=nobody&")),
		want(getQ("/v1/ParticipantConversations", "Identity=alice&Address=%2B15551230001"), 400,
			errBody(400, 50451, "One user identifier parameter for lookup at a time is allowed. Please, use either Identity or Address.")),
		want(get("/v1/ParticipantConversations"), 400, errBody(400, 20001, "Missing required parameter Identity or Address")),
		want(getQ("/v1/Services/$IS9/ParticipantConversations", "Identity=alice"), 404, notFoundBody("/Services/$IS9/ParticipantConversations")),
	)
	// Paged by conversation SID, one at a time.
	if got := walk(t, e, "/v1/ParticipantConversations", "Identity=alice&PageSize=1", "conversations"); strings.Join(got, ",") != sidN("MB", 2)+","+sidN("MB", 1) {
		t.Fatalf("paged %v", got)
	}
	if got := walk(t, e, "/v1/Users/alice/Conversations", "PageSize=1", "conversations"); strings.Join(got, ",") != sidN("MB", 1)+","+sidN("MB", 2) {
		t.Fatalf("user conversations paged %v", got)
	}
}
