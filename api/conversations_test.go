package api_test

import (
	"fmt"
	"strings"
	"testing"
)

// convBody is the expected JSON of conversation $CH<n> at base path prefix
// ("/v1" or "/v1/Services/$IS"). The optional values are JSON literals.
func convBody(prefix string, n int, friendlyName, uniqueName, attrs, state, timers string) string {
	self := fmt.Sprintf("$BASE%s/Conversations/$CH%d", prefix, n)
	return fmt.Sprintf(`{"sid":"$CH%d","account_sid":"$AC","chat_service_sid":"$IS","messaging_service_sid":null,
		"friendly_name":%s,"unique_name":%s,"attributes":%q,"state":"%s",
		"date_created":"%s","date_updated":"%s","timers":%s,"bindings":{},"url":"%s",
		"links":{"participants":"%s/Participants","messages":"%s/Messages","webhooks":"%s/Webhooks","export":"%s/Export"}}`,
		n, friendlyName, uniqueName, attrs, state, stamp, stamp, timers, self, self, self, self, self)
}

// with replaces one JSON member of a body ("key":old → "key":new).
func with(body, key, old, new string) string {
	from := fmt.Sprintf(`"%s":%s`, key, old)
	if !strings.Contains(body, from) {
		panic("with: no " + from + " in " + body)
	}
	return strings.Replace(body, from, fmt.Sprintf(`"%s":%s`, key, new), 1)
}

func TestConversationCreate(t *testing.T) {
	t.Parallel()
	mg := "MG0123456789abcdef0123456789abcdef"
	supportBody := func(prefix string) string {
		return with(with(convBody(prefix, 1, `"Support <1>"`, `"support-1"`, `{"topic": "billing"}`, "inactive",
			`{"date_closed":"2026-01-02T03:14:05Z"}`),
			"messaging_service_sid", "null", `"`+mg+`"`),
			"bindings", "{}", `{"email":{"projected_address":"a+1@example.com","name":"A"}}`)
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"minimal, both scopes", []step{
			want(post("/v1/Conversations", ""), 201, convBody("/v1", 1, "null", "null", "{}", "active", "{}")),
			want(post("/v1/Services/$IS/Conversations", ""), 201, convBody("/v1/Services/$IS", 2, "null", "null", "{}", "active", "{}")),
			want(get("/v1/Services/$IS/Conversations/$CH1"), 200, convBody("/v1/Services/$IS", 1, "null", "null", "{}", "active", "{}")),
			want(get("/v1/Conversations/$CH2"), 200, convBody("/v1", 2, "null", "null", "{}", "active", "{}")),
		}},
		{"every field", []step{
			want(post("/v1/Conversations", form("FriendlyName", "Support <1>", "UniqueName", "support-1",
				"Attributes", `{"topic": "billing"}`, "MessagingServiceSid", mg, "State", "InActive",
				"Timers.Closed", "PT10M", "Bindings.Email.Address", "a+1@example.com", "Bindings.Email.Name", "A")), 201,
				supportBody("/v1")),
			// Addressed by unique name in both scopes.
			want(get("/v1/Conversations/support-1"), 200, supportBody("/v1")),
			want(get("/v1/Services/$IS/Conversations/support-1"), 200, supportBody("/v1/Services/$IS")),
		}},
		{"timers from the request and from the account's defaults", []step{
			want(post("/v1/Conversations", "Timers.Inactive=PT1M&Timers.Closed=P1D"), 201,
				convBody("/v1", 1, "null", "null", "{}", "active", `{"date_inactive":"2026-01-02T03:05:05Z","date_closed":"2026-01-03T03:04:05Z"}`)),
			ok(post("/v1/Configuration", "DefaultInactiveTimer=PT5M&DefaultClosedTimer=PT1H&DefaultMessagingServiceSid="+mg), 200),
			want(post("/v1/Conversations", ""), 201,
				with(convBody("/v1", 2, "null", "null", "{}", "active", `{"date_inactive":"2026-01-02T03:09:05Z","date_closed":"2026-01-02T04:04:05Z"}`),
					"messaging_service_sid", "null", `"`+mg+`"`)),
			// PT0S switches a default off.
			want(post("/v1/Conversations", "Timers.Inactive=PT0S"), 201,
				with(convBody("/v1", 3, "null", "null", "{}", "active", `{"date_closed":"2026-01-02T04:04:05Z"}`),
					"messaging_service_sid", "null", `"`+mg+`"`)),
		}},
		{"imported dates; timers run from date_updated", []step{
			want(post("/v1/Conversations", "DateCreated=2020-05-06T07:08:09Z&DateUpdated=2021-01-01T00:00:00%2B01:00&Timers.Inactive=PT2M"), 201,
				with(with(convBody("/v1", 1, "null", "null", "{}", "active", `{"date_inactive":"2020-12-31T23:02:00Z"}`),
					"date_created", `"`+stamp+`"`, `"2020-05-06T07:08:09Z"`), "date_updated", `"`+stamp+`"`, `"2020-12-31T23:00:00Z"`)),
			want(post("/v1/Conversations", "DateCreated=yesterday"), 400,
				errBody(400, 50308, `Invalid DateCreated: "yesterday" is not an ISO 8601 date-time such as 2019-12-16T22:18:37Z`)),
			want(post("/v1/Conversations", "DateUpdated=2020-13-01T00:00:00Z"), 400,
				errBody(400, 50309, `Invalid DateUpdated: "2020-13-01T00:00:00Z" is not an ISO 8601 date-time such as 2019-12-16T22:18:37Z`)),
		}},
		{"state rules", []step{
			want(post("/v1/Conversations", "State=closed"), 400, errBody(400, 50384, "Initial state can't be 'closed'")),
			want(post("/v1/Conversations", "State="), 400, errBody(400, 50374, "'State' can't be empty")),
			want(post("/v1/Conversations", "State=initializing"), 400,
				errBody(400, 50378, `'State' has invalid value "initializing": must be active, inactive or closed`)),
			want(post("/v1/Conversations", "State=open"), 400,
				errBody(400, 50378, `'State' has invalid value "open": must be active, inactive or closed`)),
		}},
		{"timer rules", []step{
			want(post("/v1/Conversations", "Timers.Inactive=PT59S"), 400, errBody(400, 50375, `Invalid Timers.Inactive: "PT59S" is shorter than the minimum of PT1M (PT0S switches the timer off)`)),
			want(post("/v1/Conversations", "Timers.Closed=PT9M"), 400, errBody(400, 50376, `Invalid Timers.Closed: "PT9M" is shorter than the minimum of PT10M (PT0S switches the timer off)`)),
			want(post("/v1/Conversations", "Timers.Inactive=10m"), 400, errBody(400, 50379, `Invalid Timers.Inactive: "10m" is not an ISO 8601 duration such as PT10M`)),
			want(post("/v1/Conversations", "Timers.Closed=P"), 400, errBody(400, 50380, `Invalid Timers.Closed: "P" is not an ISO 8601 duration such as PT10M`)),
			want(post("/v1/Conversations", "Timers.Closed"), 400, errBody(400, 50380, `Invalid Timers.Closed: "" is not an ISO 8601 duration such as PT10M`)),
		}},
		{"unique name rules", []step{
			ok(post("/v1/Conversations", "UniqueName=room"), 201),
			want(post("/v1/Conversations", "UniqueName=room"), 409, errBody(409, 50353, "Conversation with provided unique name already exists")),
			// Unique per service: another service may use it.
			ok(post("/v1/Services", "FriendlyName=two"), 201),
			ok(post("/v1/Services/$IS2/Conversations", "UniqueName=room"), 201),
			want(post("/v1/Conversations", "UniqueName=CH0123456789abcdef0123456789abcdef"), 400,
				errBody(400, 50390, "Unique name should not match conversation sid pattern")),
			want(post("/v1/Conversations", form("UniqueName", strings.Repeat("u", 257))), 400, errBody(400, 50004, "Unique Name too long")),
			want(post("/v1/Conversations", "UniqueName=.."), 400,
				errBody(400, 20001, `Invalid UniqueName: ".." cannot be addressed in a URL path`)),
			// A name that needs escaping is addressed escaped ($CH3 went to
			// the refused duplicate: SIDs are minted before the insert).
			want(post("/v1/Conversations", form("UniqueName", "a/b c")), 201, convBody("/v1", 4, "null", `"a/b c"`, "{}", "active", "{}")),
			want(get("/v1/Conversations/a%2Fb%20c"), 200, convBody("/v1", 4, "null", `"a/b c"`, "{}", "active", "{}")),
		}},
		{"field rules", []step{
			want(post("/v1/Conversations", form("FriendlyName", strings.Repeat("x", 257))), 400, errBody(400, 50003, "Friendly name too long")),
			want(post("/v1/Conversations", "Attributes=%7Bnope"), 400, errBody(400, 50304, "Attributes not valid JSON")),
			want(post("/v1/Conversations", "MessagingServiceSid=MG1"), 400, errBody(400, 50341, `Invalid MessagingServiceSid: "MG1" is not a Messaging Service SID`)),
		}},
		{"unknown service or conversation", []step{
			want(post("/v1/Services/$IS9/Conversations", ""), 404, notFoundBody("/Services/$IS9/Conversations")),
			want(get("/v1/Conversations/$CH9"), 404, notFoundBody("/Conversations/$CH9")),
			want(get("/v1/Conversations/nobody"), 404, notFoundBody("/Conversations/nobody")),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			newEnv(t).run(tc.steps...)
		})
	}
}

func TestConversationUpdateDelete(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []step
	}{
		{"fields change; empty values clear", []step{
			ok(post("/v1/Conversations", "FriendlyName=a&UniqueName=u&Attributes=%7B%22x%22%3A1%7D"), 201),
			want(post("/v1/Conversations/u", "FriendlyName=b&UniqueName=v"), 200,
				convBody("/v1", 1, `"b"`, `"v"`, `{"x":1}`, "active", "{}")),
			want(get("/v1/Conversations/u"), 404, notFoundBody("/Conversations/u")),
			want(post("/v1/Services/$IS/Conversations/v", "FriendlyName=&UniqueName=&Attributes="), 200,
				convBody("/v1/Services/$IS", 1, "null", "null", "{}", "active", "{}")),
			// A freed unique name can be taken again.
			ok(post("/v1/Conversations", "UniqueName=u"), 201),
			ok(post("/v1/Conversations", "UniqueName=v"), 201),
			want(post("/v1/Conversations/$CH2", "UniqueName=v"), 409, errBody(409, 50353, "Conversation with provided unique name already exists")),
		}},
		{"timers restart from the update", []step{
			// (Timers that come due before the scenario clock would fire at
			// once, racing the steps: the timer loop runs here too.)
			ok(post("/v1/Conversations", "Timers.Inactive=PT1M&DateUpdated=2026-01-02T03:04:00Z"), 201),
			want(post("/v1/Conversations/$CH1", "Timers.Closed=PT10M"), 200,
				convBody("/v1", 1, "null", "null", "{}", "active", `{"date_inactive":"2026-01-02T03:05:05Z","date_closed":"2026-01-02T03:14:05Z"}`)),
			want(post("/v1/Conversations/$CH1", "Timers.Inactive=PT0S"), 200,
				convBody("/v1", 1, "null", "null", "{}", "active", `{"date_closed":"2026-01-02T03:14:05Z"}`)),
		}},
		{"closed is final: writes refused, reads and delete work", []step{
			ok(post("/v1/Conversations", "UniqueName=c"), 201),
			want(post("/v1/Conversations/c", "State=inactive"), 200, convBody("/v1", 1, "null", `"c"`, "{}", "inactive", "{}")),
			want(post("/v1/Conversations/c", "State=Active"), 200, convBody("/v1", 1, "null", `"c"`, "{}", "active", "{}")),
			want(post("/v1/Conversations/c", "State=closed"), 200, convBody("/v1", 1, "null", `"c"`, "{}", "closed", "{}")),
			want(post("/v1/Conversations/c", "State=active"), 400, errBody(400, 50377, "Can't update conversation as it's in final closed state")),
			want(post("/v1/Conversations/c", "FriendlyName=x"), 400, errBody(400, 50377, "Can't update conversation as it's in final closed state")),
			want(get("/v1/Conversations/c"), 200, convBody("/v1", 1, "null", `"c"`, "{}", "closed", "{}")),
			want(del("/v1/Conversations/c"), 204, ""),
			want(get("/v1/Conversations/$CH1"), 404, notFoundBody("/Conversations/$CH1")),
			want(del("/v1/Conversations/c"), 404, notFoundBody("/Conversations/c")),
		}},
		{"update checks its fields", []step{
			ok(post("/v1/Conversations", ""), 201),
			want(post("/v1/Conversations/$CH1", "State=bogus"), 400,
				errBody(400, 50378, `'State' has invalid value "bogus": must be active, inactive or closed`)),
			want(post("/v1/Conversations/$CH1", "UniqueName=$CH1"), 400,
				errBody(400, 50390, "Unique name should not match conversation sid pattern")),
			want(post("/v1/Conversations/$CH9", "FriendlyName=x"), 404, notFoundBody("/Conversations/$CH9")),
			want(post("/v1/Services/$IS9/Conversations/$CH1", "FriendlyName=x"), 404, notFoundBody("/Services/$IS9/Conversations/$CH1")),
		}},
		{"a conversation belongs to its service", []step{
			ok(post("/v1/Services", "FriendlyName=two"), 201),
			ok(post("/v1/Services/$IS2/Conversations", "UniqueName=there"), 201),
			want(get("/v1/Conversations/there"), 404, notFoundBody("/Conversations/there")),
			want(get("/v1/Conversations/$CH1"), 404, notFoundBody("/Conversations/$CH1")),
			want(del("/v1/Services/$IS/Conversations/$CH1"), 404, notFoundBody("/Services/$IS/Conversations/$CH1")),
			want(del("/v1/Services/$IS2/Conversations/there"), 204, ""),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			newEnv(t).run(tc.steps...)
		})
	}
}

// walk follows a list's next_page_url from path?query to the end and
// returns the sid (or, for memberships, participant_sid) of every item
// under key.
func walk(t *testing.T, e *env, path, query, key string) []string {
	t.Helper()
	var sids []string
	for range 100 {
		res := e.run(ok(getQ(path, query), 200))[0]
		var page map[string]any
		decode(t, res.body, &page)
		for _, it := range page[key].([]any) {
			item := it.(map[string]any)
			sid, ok := item["sid"].(string)
			if !ok { // memberships have no sid of their own
				sid = item["participant_sid"].(string)
			}
			sids = append(sids, sid)
		}
		next, _ := page["meta"].(map[string]any)["next_page_url"].(string)
		if next == "" {
			return sids
		}
		_, query, _ = strings.Cut(next, "?")
	}
	t.Fatalf("more than 100 pages of %s", path)
	return nil
}

func TestConversationList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.run(want(get("/v1/Conversations"), 200, listBody("/v1/Conversations", "conversations", 50)))
	// Created out of date order: $CH1 in 2024, $CH2 in 2022, $CH3 in 2023,
	// $CH4 now; $CH2 closed, $CH3 inactive.
	e.run(
		ok(post("/v1/Conversations", "DateCreated=2024-06-01T10:00:00Z"), 201),
		ok(post("/v1/Conversations", "DateCreated=2022-06-01T10:00:00Z"), 201),
		ok(post("/v1/Conversations", "DateCreated=2023-06-01T10:00:00Z&State=inactive"), 201),
		ok(post("/v1/Conversations", ""), 201),
		ok(post("/v1/Conversations/$CH2", "State=closed"), 200),
	)
	sid := func(n int) string { return sidN("CH", n) }
	cases := []struct {
		query string
		want  []string
	}{
		// Without a date filter, creation order.
		{"PageSize=1", []string{sid(1), sid(2), sid(3), sid(4)}},
		{"State=closed&PageSize=1", []string{sid(2)}},
		{"State=ACTIVE&PageSize=1", []string{sid(1), sid(4)}},
		// With one, newest first (by date_created), on date boundaries.
		{"StartDate=2022-06-01&PageSize=1", []string{sid(4), sid(1), sid(3), sid(2)}},
		{"StartDate=2022-06-02&EndDate=2024-06-01&PageSize=1", []string{sid(1), sid(3)}},
		{"EndDate=2023-06-01T09:59:59Z", []string{sid(2)}},
		{"StartDate=2023-01-01&State=active", []string{sid(4), sid(1)}},
	}
	for _, c := range cases {
		if got := walk(t, e, "/v1/Conversations", c.query, "conversations"); strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: got %v, want %v", c.query, got, c.want)
		}
	}
	e.run(
		want(getQ("/v1/Conversations", "StartDate=2024-01-02&EndDate=2024-01-01"), 400,
			errBody(400, 50396, "EndDate parameter should be greater than StartDate parameter")),
		want(getQ("/v1/Conversations", "StartDate=last+week"), 400,
			errBody(400, 20001, `Invalid StartDate: "last week" is neither a date (2024-01-31) nor a date-time (2024-01-31T12:00:00Z)`)),
		want(getQ("/v1/Conversations", "State=gone"), 400,
			errBody(400, 20001, "Invalid State: must be one of initializing, inactive, active, closed")),
		// Over the maximum (100) is clamped to it.
		want(getQ("/v1/Conversations", "PageSize=101"), 200, listBody("/v1/Conversations", "conversations", 100,
			with(convBody("/v1", 1, "null", "null", "{}", "active", "{}"), "date_created", `"`+stamp+`"`, `"2024-06-01T10:00:00Z"`),
			with(convBody("/v1", 2, "null", "null", "{}", "closed", "{}"), "date_created", `"`+stamp+`"`, `"2022-06-01T10:00:00Z"`),
			with(convBody("/v1", 3, "null", "null", "{}", "inactive", "{}"), "date_created", `"`+stamp+`"`, `"2023-06-01T10:00:00Z"`),
			convBody("/v1", 4, "null", "null", "{}", "active", "{}"))),
		want(get("/v1/Services/$IS9/Conversations"), 404, notFoundBody("/Services/$IS9/Conversations")),
	)
	// A page token is bound to its filters.
	res := e.run(ok(getQ("/v1/Conversations", "State=active&PageSize=1"), 200))[0]
	var page map[string]any
	decode(t, res.body, &page)
	next := page["meta"].(map[string]any)["next_page_url"].(string)
	if !strings.HasPrefix(next, e.srv.URL+"/v1/Conversations?State=active&PageSize=1&Page=1&PageToken=") {
		t.Fatalf("next_page_url %q", next)
	}
	tok := next[strings.Index(next, "PageToken="):]
	e.run(want(getQ("/v1/Conversations", "State=closed&"+tok), 400, errBody(400, 21481, "Invalid PageToken")))
}
