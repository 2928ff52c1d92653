package api_test

import (
	"fmt"
	"strings"
	"testing"
)

// msgBody is the expected JSON of message $IM<n> (index idx) of
// conversation $CH<conv> at prefix; body and participant are JSON literals.
func msgBody(prefix string, n, conv, idx int, author, body, attrs, participant string) string {
	svc := ""
	if prefix != "/v1" {
		svc = `"chat_service_sid":"$IS",`
	}
	self := fmt.Sprintf("$BASE%s/Conversations/$CH%d/Messages/$IM%d", prefix, conv, n)
	return fmt.Sprintf(`{"account_sid":"$AC",%s"conversation_sid":"$CH%d","sid":"$IM%d","index":%d,"author":%q,
		"body":%s,"media":null,"attributes":%q,"participant_sid":%s,"date_created":"%s","date_updated":"%s",
		"url":"%s","delivery":null,"links":{"delivery_receipts":"%s/Receipts","channel_metadata":"%s/ChannelMetadata"},
		"content_sid":null}`, svc, conv, n, idx, author, body, attrs, participant, stamp, stamp, self, self, self)
}

func TestMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []step
	}{
		{"send, fetch, both scopes; author and participant", []step{
			ok(post("/v1/Conversations", "UniqueName=room"), 201),
			ok(post("/v1/Conversations/room/Participants", "Identity=alice"), 201),
			ok(post("/v1/Conversations/room/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=%2B15559870001"), 201),
			want(post("/v1/Conversations/room/Messages", "Body=hello"), 201, msgBody("/v1", 1, 1, 0, "system", `"hello"`, "{}", "null")),
			want(post("/v1/Services/$IS/Conversations/$CH1/Messages", form("Author", "alice", "Body", "hi ü", "Attributes", `{"a":1}`)), 201,
				msgBody("/v1/Services/$IS", 2, 1, 1, "alice", `"hi ü"`, `{"a":1}`, `"$MB1"`)),
			want(post("/v1/Conversations/$CH1/Messages", form("Author", "+15551230001", "Body", "sms")), 201,
				msgBody("/v1", 3, 1, 2, "+15551230001", `"sms"`, "{}", `"$MB2"`)),
			want(post("/v1/Conversations/$CH1/Messages", form("Author", "stranger", "Body", "?")), 201,
				msgBody("/v1", 4, 1, 3, "stranger", `"?"`, "{}", "null")),
			want(get("/v1/Conversations/room/Messages/$IM2"), 200, msgBody("/v1", 2, 1, 1, "alice", `"hi ü"`, `{"a":1}`, `"$MB1"`)),
			want(get("/v1/Conversations/room/Messages/$IM9"), 404, notFoundBody("/Conversations/room/Messages/$IM9")),
			want(get("/v1/Conversations/room/Messages/1"), 404, notFoundBody("/Conversations/room/Messages/1")),
			// Another conversation counts from 0.
			ok(post("/v1/Conversations", ""), 201),
			want(post("/v1/Conversations/$CH2/Messages", "Body=x"), 201, msgBody("/v1", 5, 2, 0, "system", `"x"`, "{}", "null")),
			want(get("/v1/Conversations/$CH2/Messages/$IM1"), 404, notFoundBody("/Conversations/$CH2/Messages/$IM1")),
		}},
		{"content rules", []step{
			ok(post("/v1/Conversations", ""), 201),
			want(post("/v1/Conversations/$CH1/Messages", ""), 400, errBody(400, 50503, "Message body not provided")),
			want(post("/v1/Conversations/$CH1/Messages", "Body=&Author=a"), 400, errBody(400, 50503, "Message body not provided")),
			want(post("/v1/Conversations/$CH1/Messages", form("Body", strings.Repeat("x", 32*1024+1))), 400,
				errBody(400, 50504, "Message body is too long: at most 32768 bytes")),
			ok(post("/v1/Conversations/$CH1/Messages", form("Body", strings.Repeat("x", 32*1024))), 201),
			want(post("/v1/Conversations/$CH1/Messages", form("Body", "b", "Attributes", `"`+strings.Repeat("x", 4*1024-1)+`"`)), 400,
				errBody(400, 50303, "Attributes too long")),
			want(post("/v1/Conversations/$CH1/Messages", "Body=b&Attributes=%7B"), 400, errBody(400, 50304, "Attributes not valid JSON")),
			want(post("/v1/Conversations/$CH1/Messages", "MediaSid=ME0123456789abcdef0123456789abcdef"), 400,
				errBody(400, 50507, "Media ME0123456789abcdef0123456789abcdef not found")),
			want(post("/v1/Conversations/$CH1/Messages", "Body=b&ContentVariables=%7B%7D"), 400, errBody(400, 50528, "ContentVariables need a ContentSid")),
			want(post("/v1/Conversations/$CH1/Messages", "ContentSid=HX0123456789abcdef0123456789abcdef&ContentVariables=%5B%5D"), 400,
				errBody(400, 50527, "ContentVariables is not a JSON object")),
			want(post("/v1/Conversations/$CH1/Messages", form("ContentSid", "HX0123456789abcdef0123456789abcdef",
				"ContentVariables", `{"12345678901234567":"x"}`)), 400,
				errBody(400, 50540, `ContentVariables key "12345678901234567" is longer than 16 characters`)),
			want(post("/v1/Conversations/$CH1/Messages", form("ContentSid", "HX0123456789abcdef0123456789abcdef",
				"ContentVariables", `{"1":7}`)), 400,
				errBody(400, 50541, `ContentVariables value of "1" must be a string of at most 256 characters`)),
			// A template is the message: its body is not kept.
			want(post("/v1/Conversations/$CH1/Messages", form("ContentSid", "HX0123456789abcdef0123456789abcdef",
				"ContentVariables", `{"1":"John"}`, "Body", "ignored")), 201,
				strings.Replace(msgBody("/v1", 2, 1, 1, "system", "null", "{}", "null"), `"content_sid":null`, `"content_sid":"HX0123456789abcdef0123456789abcdef"`, 1)),
			want(post("/v1/Conversations/$CH9/Messages", "Body=x"), 404, notFoundBody("/Conversations/$CH9/Messages")),
		}},
		{"states: a message wakes the conversation; closed takes none", []step{
			ok(post("/v1/Conversations", "State=inactive&Timers.Closed=PT10M&DateUpdated=2026-01-02T03:00:00Z"), 201),
			ok(post("/v1/Conversations/$CH1/Messages", "Body=wake"), 201),
			want(get("/v1/Conversations/$CH1"), 200, with(convBody("/v1", 1, "null", "null", "{}", "active", `{"date_closed":"2026-01-02T03:14:05Z"}`),
				"date_updated", `"`+stamp+`"`, `"2026-01-02T03:00:00Z"`)),
			ok(post("/v1/Conversations/$CH1", "State=closed"), 200),
			want(post("/v1/Conversations/$CH1/Messages", "Body=late"), 400, errBody(400, 50377, "Can't update conversation as it's in final closed state")),
			want(post("/v1/Conversations/$CH1/Messages/$IM1", "Body=edit"), 400, errBody(400, 50377, "Can't update conversation as it's in final closed state")),
			want(del("/v1/Conversations/$CH1/Messages/$IM1"), 400, errBody(400, 50377, "Can't update conversation as it's in final closed state")),
			want(get("/v1/Conversations/$CH1/Messages/$IM1"), 200, msgBody("/v1", 1, 1, 0, "system", `"wake"`, "{}", "null")),
		}},
		{"update and delete; indexes are never reused", []step{
			ok(post("/v1/Conversations", ""), 201),
			ok(post("/v1/Conversations/$CH1/Participants", "Identity=alice"), 201),
			ok(post("/v1/Conversations/$CH1/Messages", "Body=one"), 201),
			ok(post("/v1/Conversations/$CH1/Messages", "Body=two"), 201),
			want(post("/v1/Conversations/$CH1/Messages/$IM1", form("Author", "alice", "Body", "one, edited", "Attributes", `{"e":1}`)), 200,
				msgBody("/v1", 1, 1, 0, "alice", `"one, edited"`, `{"e":1}`, `"$MB1"`)),
			want(post("/v1/Conversations/$CH1/Messages/$IM1", "Attributes="), 200,
				msgBody("/v1", 1, 1, 0, "alice", `"one, edited"`, "{}", `"$MB1"`)),
			want(post("/v1/Conversations/$CH1/Messages/$IM1", "DateUpdated=2026-02-01T00:00:00Z"), 200,
				with(msgBody("/v1", 1, 1, 0, "alice", `"one, edited"`, "{}", `"$MB1"`), "date_updated", `"`+stamp+`"`, `"2026-02-01T00:00:00Z"`)),
			want(post("/v1/Conversations/$CH1/Messages/$IM1", form("Body", strings.Repeat("x", 32*1024+1))), 400,
				errBody(400, 50504, "Message body is too long: at most 32768 bytes")),
			want(post("/v1/Conversations/$CH1/Messages/$IM9", "Body=x"), 404, notFoundBody("/Conversations/$CH1/Messages/$IM9")),
			want(del("/v1/Conversations/$CH1/Messages/$IM2"), 204, ""),
			want(del("/v1/Conversations/$CH1/Messages/$IM2"), 404, notFoundBody("/Conversations/$CH1/Messages/$IM2")),
			want(post("/v1/Conversations/$CH1/Messages", "Body=three"), 201, msgBody("/v1", 3, 1, 2, "system", `"three"`, "{}", "null")),
			// A participant who leaves keeps their messages.
			ok(del("/v1/Conversations/$CH1/Participants/alice"), 204),
			want(get("/v1/Conversations/$CH1/Messages/$IM1"), 200,
				with(msgBody("/v1", 1, 1, 0, "alice", `"one, edited"`, "{}", `"$MB1"`), "date_updated", `"`+stamp+`"`, `"2026-02-01T00:00:00Z"`)),
		}},
		{"unread counts from the last index and the horizon", []step{
			ok(post("/v1/Conversations", ""), 201),
			ok(post("/v1/Conversations/$CH1/Participants", "Identity=alice"), 201),
			want(get("/v1/Users/alice/Conversations/$CH1"), 200, userConvBody("/v1", 1, 1, 1, "active", "null", "null", "default")),
			ok(post("/v1/Users/alice/Conversations/$CH1", "LastReadMessageIndex=0"), 200),
			want(get("/v1/Users/alice/Conversations/$CH1"), 200, userConvBody("/v1", 1, 1, 1, "active", "0", "0", "default")),
			ok(post("/v1/Conversations/$CH1/Messages", "Body=0"), 201),
			ok(post("/v1/Conversations/$CH1/Messages", "Body=1"), 201),
			ok(post("/v1/Conversations/$CH1/Messages", "Body=2"), 201),
			want(get("/v1/Users/alice/Conversations/$CH1"), 200, userConvBody("/v1", 1, 1, 1, "active", "0", "2", "default")),
			ok(post("/v1/Conversations/$CH1/Participants/alice", "LastReadMessageIndex=2"), 200),
			want(get("/v1/Users/alice/Conversations/$CH1"), 200, userConvBody("/v1", 1, 1, 1, "active", "2", "0", "default")),
			// A horizon past the last message is nothing unread.
			ok(post("/v1/Conversations/$CH1/Participants/alice", "LastReadMessageIndex=9"), 200),
			want(get("/v1/Users/alice/Conversations/$CH1"), 200, userConvBody("/v1", 1, 1, 1, "active", "9", "0", "default")),
		}},
		{"list both ways", []step{
			ok(post("/v1/Conversations", ""), 201),
			ok(post("/v1/Conversations/$CH1/Messages", "Body=a"), 201),
			ok(post("/v1/Conversations/$CH1/Messages", "Body=b"), 201),
			want(get("/v1/Conversations/$CH1/Messages"), 200, listBody("/v1/Conversations/$CH1/Messages", "messages", 50,
				msgBody("/v1", 1, 1, 0, "system", `"a"`, "{}", "null"), msgBody("/v1", 2, 1, 1, "system", `"b"`, "{}", "null"))),
			want(getQ("/v1/Conversations/$CH9/Messages", "Order=desc"), 404, notFoundBody("/Conversations/$CH9/Messages")),
			want(getQ("/v1/Conversations/$CH1/Messages", "Order=sideways"), 400, errBody(400, 20001, "Invalid Order: must be one of asc, desc")),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			newEnv(t).run(tc.steps...)
		})
	}
}

// TestMessagePaging: pages of 3 both ways, Order echoed lowercase in the
// meta URLs; the last message is Order=desc&PageSize=1.
func TestMessagePaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.run(ok(post("/v1/Conversations", "UniqueName=long"), 201))
	var asc []string
	for i := range 8 {
		e.run(ok(post("/v1/Conversations/long/Messages", fmt.Sprint("Body=m", i)), 201))
		asc = append(asc, sidN("IM", i+1))
	}
	e.run(ok(del("/v1/Conversations/long/Messages/"+sidN("IM", 4)), 204))
	asc = append(asc[:3], asc[4:]...)
	if got := walk(t, e, "/v1/Conversations/long/Messages", "PageSize=3", "messages"); strings.Join(got, ",") != strings.Join(asc, ",") {
		t.Fatalf("ascending %v, want %v", got, asc)
	}
	var desc []string
	for i := len(asc) - 1; i >= 0; i-- {
		desc = append(desc, asc[i])
	}
	if got := walk(t, e, "/v1/Conversations/long/Messages", "Order=DESC&PageSize=3", "messages"); strings.Join(got, ",") != strings.Join(desc, ",") {
		t.Fatalf("descending %v, want %v", got, desc)
	}
	res := e.run(ok(getQ("/v1/Conversations/long/Messages", "Order=desc&PageSize=1"), 200))[0]
	var page struct {
		Messages []struct{ Sid string }
		Meta     struct{ URL string }
	}
	decode(t, res.body, &page)
	if len(page.Messages) != 1 || page.Messages[0].Sid != sidN("IM", 8) || page.Meta.URL != e.srv.URL+"/v1/Conversations/long/Messages?Order=desc&PageSize=1&Page=0" {
		t.Fatalf("last message page: %s", res.body)
	}
}
