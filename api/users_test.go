package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
)

// userBody is the expected JSON of user $US<n> at base path prefix ("/v1"
// or "/v1/Services/$IS"), with friendlyName and attrs as JSON literals.
func userBody(prefix string, n int, identity, role, friendlyName, attrs string) string {
	id, _ := json.Marshal(identity)
	a, _ := json.Marshal(attrs)
	self := fmt.Sprintf("$BASE%s/Users/$US%d", prefix, n)
	return fmt.Sprintf(`{"sid":"$US%d","account_sid":"$AC","chat_service_sid":"$IS","role_sid":"%s",
		"identity":%s,"friendly_name":%s,"attributes":%s,"is_online":null,"is_notifiable":null,
		"date_created":"%s","date_updated":"%s","url":"%s","links":{"user_conversations":"%s/Conversations"}}`,
		n, role, id, friendlyName, a, stamp, stamp, self, self)
}

func listBody(prefix, key string, pageSize int, items ...string) string {
	return fmt.Sprintf(`{"%s":[%s],"meta":{"page":0,"page_size":%d,
		"first_page_url":"$BASE%s?PageSize=%d&Page=0","previous_page_url":null,
		"url":"$BASE%s?PageSize=%d&Page=0","next_page_url":null,"key":"%s"}}`,
		key, strings.Join(items, ","), pageSize, prefix, pageSize, prefix, pageSize, key)
}

func TestUserCreate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ü", 257)
	tests := []struct {
		name  string
		steps []step
	}{
		{"minimal, default service", []step{
			want(post("/v1/Users", "Identity=alice"), 201, userBody("/v1", 1, "alice", RL2, "null", "{}")),
		}},
		{"every field, service path", []step{
			want(post("/v1/Services/$IS/Users", form("Identity", "bob@example.com", "FriendlyName", "Bob <B&B>",
				"Attributes", `{"duty": "tech", "n": [1,2]}`, "RoleSid", RL1)), 201,
				userBody("/v1/Services/$IS", 1, "bob@example.com", RL1, `"Bob <B&B>"`, `{"duty": "tech", "n": [1,2]}`)),
		}},
		{"attributes are any JSON text, stored byte for byte", []step{
			want(post("/v1/Users", form("Identity", "a", "Attributes", ` "just a string" `)), 201,
				userBody("/v1", 1, "a", RL2, "null", ` "just a string" `)),
			want(post("/v1/Users", form("Identity", "b", "Attributes", "")), 201, userBody("/v1", 2, "b", RL2, "null", "{}")),
		}},
		{"identity missing", []step{
			want(post("/v1/Users", "FriendlyName=x"), 400, errBody(400, 20001, "Missing required parameter Identity in the post body")),
			want(post("/v1/Users", "Identity="), 400, errBody(400, 20001, "Missing required parameter Identity in the post body")),
		}},
		{"duplicate identity", []step{
			ok(post("/v1/Users", "Identity=alice"), 201),
			want(post("/v1/Users", "Identity=alice"), 409, errBody(409, 50201, "User already exists")),
			want(post("/v1/Services/$IS/Users", "Identity=alice"), 409, errBody(409, 50201, "User already exists")),
			// identities are case-sensitive
			ok(post("/v1/Users", "Identity=Alice"), 201),
		}},
		{"identity limits", []step{
			want(post("/v1/Users", form("Identity", long)), 400, errBody(400, 50207, "Identity too long")),
			ok(post("/v1/Users", form("Identity", long[:256*2])), 201),
			want(post("/v1/Users", "Identity=US0123456789abcdef0123456789ABCDEF"), 400,
				errBody(400, 50206, "Identity should not match user SID pattern")),
			ok(post("/v1/Users", "Identity=US0123456789abcdef0123456789abcde"), 201), // 31 hex: not a SID
			// "." and ".." could never be addressed in a path.
			want(post("/v1/Users", "Identity=."), 400,
				errBody(400, 20001, `Invalid Identity: "." cannot be used as an identity, because it cannot be addressed in a URL path`)),
			want(post("/v1/Users", "Identity=.."), 400,
				errBody(400, 20001, `Invalid Identity: ".." cannot be used as an identity, because it cannot be addressed in a URL path`)),
			ok(post("/v1/Users", "Identity=..."), 201),
			ok(post("/v1/Users", "Identity=.a"), 201),
		}},
		{"friendly name too long", []step{
			want(post("/v1/Users", form("Identity", "a", "FriendlyName", strings.Repeat("x", 257))), 400,
				errBody(400, 50003, "Friendly name too long")),
		}},
		{"attributes invalid or too long", []step{
			want(post("/v1/Users", form("Identity", "a", "Attributes", "{nope")), 400, errBody(400, 50304, "Attributes not valid JSON")),
			want(post("/v1/Users", form("Identity", "a", "Attributes", `"`+strings.Repeat("x", 16*1024-1)+`"`)), 400,
				errBody(400, 50303, "Attributes too long")),
			ok(post("/v1/Users", form("Identity", "a", "Attributes", `"`+strings.Repeat("x", 16*1024-2)+`"`)), 201),
		}},
		{"role checks", []step{
			want(post("/v1/Users", "Identity=a&RoleSid=RL123"), 400, errBody(400, 20001, "Invalid RoleSid")),
			want(post("/v1/Users", "Identity=a&RoleSid="+sidN("RL", 99)), 400, errBody(400, 50100, "Role not found")),
			want(post("/v1/Users", "Identity=a&RoleSid="+RL3), 400, errBody(400, 50105, "Invalid role type")),
			// a role of another service is not found in this one (SIDs minted by
			// refused creates are not reused, hence $US5 below)
			ok(post("/v1/Services", "FriendlyName=other"), 201),
			want(post("/v1/Users", "Identity=a&RoleSid="+sidN("RL", 6)), 400, errBody(400, 50100, "Role not found")),
			want(post("/v1/Services/$IS2/Users", "Identity=a&RoleSid="+RL1), 400, errBody(400, 50100, "Role not found")),
			want(post("/v1/Services/$IS2/Users", "Identity=a&RoleSid=$RL5"), 201,
				strings.ReplaceAll(userBody("/v1/Services/$IS2", 5, "a", "$RL5", "null", "{}"), `"chat_service_sid":"$IS"`, `"chat_service_sid":"$IS2"`)),
		}},
		{"unknown or malformed service", []step{
			want(post("/v1/Services/$IS9/Users", "Identity=a"), 404, notFoundBody("/Services/$IS9/Users")),
			want(post("/v1/Services/ISnope/Users", "Identity=a"), 404, notFoundBody("/Services/ISnope/Users")),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			newEnv(t).run(tc.steps...)
		})
	}
}

func TestUserFetchAddressing(t *testing.T) {
	t.Parallel()
	// Identities travel raw in the path from the SDKs; the path segment is
	// decoded once, so %2F stays inside the identity and + is not a space.
	identities := []struct{ identity, path string }{
		{"alice@example.com", "alice@example.com"},
		{"a b", "a%20b"},
		{"ünï", "%C3%BCn%C3%AF"},
		{"ünï", "ünï"},
		{"x+y", "x+y"},
		{"a/b", "a%2Fb"},
		{"50%", "50%25"},
		{"q?", "q%3F"},
	}
	e := newEnv(t)
	seen := map[string]int{}
	for _, id := range identities {
		if _, found := seen[id.identity]; !found {
			seen[id.identity] = len(seen) + 1
			e.run(ok(post("/v1/Users", form("Identity", id.identity)), 201))
		}
	}
	for _, id := range identities {
		n := seen[id.identity]
		e.run(
			want(get("/v1/Users/"+id.path), 200, userBody("/v1", n, id.identity, RL2, "null", "{}")),
			want(get("/v1/Services/$IS/Users/"+id.path), 200, userBody("/v1/Services/$IS", n, id.identity, RL2, "null", "{}")),
			want(get(fmt.Sprintf("/v1/Users/$US%d", n)), 200, userBody("/v1", n, id.identity, RL2, "null", "{}")),
		)
	}
	e.run(
		want(get("/v1/Users/x%20y"), 404, notFoundBody("/Users/x%20y")),
		want(get("/v1/Users/ALICE@example.com"), 404, notFoundBody("/Users/ALICE@example.com")),
		want(get("/v1/Users/$US99"), 404, notFoundBody("/Users/$US99")),
		want(get("/v1/Services/$IS9/Users/$US1"), 404, notFoundBody("/Services/$IS9/Users/$US1")),
		// A trailing slash is ignored, as on the seed page's GET /v1/Users/.
		want(get("/v1/Users/$US1/"), 200, userBody("/v1", 1, "alice@example.com", RL2, "null", "{}")),
	)
}

func TestUserUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.run(
		ok(post("/v1/Users", form("Identity", "alice", "FriendlyName", "Alice", "Attributes", `{"a":1}`)), 201),
		// Absent fields are unchanged.
		want(post("/v1/Users/alice", ""), 200, userBody("/v1", 1, "alice", RL2, `"Alice"`, `{"a":1}`)),
		want(post("/v1/Users/$US1", form("FriendlyName", "Alicia")), 200, userBody("/v1", 1, "alice", RL2, `"Alicia"`, `{"a":1}`)),
		want(post("/v1/Services/$IS/Users/alice", form("Attributes", `[1, "two"]`)), 200,
			userBody("/v1/Services/$IS", 1, "alice", RL2, `"Alicia"`, `[1, "two"]`)),
		want(post("/v1/Users/alice", "RoleSid="+RL1), 200, userBody("/v1", 1, "alice", RL1, `"Alicia"`, `[1, "two"]`)),
		// Attributes= resets to {}; FriendlyName= clears the name.
		want(post("/v1/Users/alice", "Attributes=&FriendlyName="), 200, userBody("/v1", 1, "alice", RL1, "null", "{}")),
		want(get("/v1/Users/alice"), 200, userBody("/v1", 1, "alice", RL1, "null", "{}")),
		// Errors leave the user as it was.
		want(post("/v1/Users/alice", "RoleSid="+RL4), 400, errBody(400, 50105, "Invalid role type")),
		want(post("/v1/Users/alice", "RoleSid=bad"), 400, errBody(400, 20001, "Invalid RoleSid")),
		want(post("/v1/Users/alice", "RoleSid="+sidN("RL", 77)), 400, errBody(400, 50100, "Role not found")),
		want(post("/v1/Users/alice", "Attributes=%7B"), 400, errBody(400, 50304, "Attributes not valid JSON")),
		want(post("/v1/Users/alice", form("FriendlyName", strings.Repeat("n", 300))), 400, errBody(400, 50003, "Friendly name too long")),
		want(get("/v1/Users/alice"), 200, userBody("/v1", 1, "alice", RL1, "null", "{}")),
		// Identity cannot change: the parameter is ignored like any unknown one.
		want(post("/v1/Users/alice", "Identity=mallory"), 200, userBody("/v1", 1, "alice", RL1, "null", "{}")),
		want(post("/v1/Users/nobody", "FriendlyName=x"), 404, notFoundBody("/Users/nobody")),
	)
}

func TestUserDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.run(
		ok(post("/v1/Users", "Identity=alice"), 201),
		ok(post("/v1/Users", "Identity=bob"), 201),
		want(del("/v1/Users/alice"), 204, ""),
		want(get("/v1/Users/alice"), 404, notFoundBody("/Users/alice")),
		want(get("/v1/Users/$US1"), 404, notFoundBody("/Users/$US1")),
		want(del("/v1/Users/alice"), 404, notFoundBody("/Users/alice")),
		want(del("/v1/Services/$IS/Users/$US2"), 204, ""),
		want(getQ("/v1/Users", ""), 200, listBody("/v1/Users", "users", 50)),
		// The identity is free again.
		want(post("/v1/Users", "Identity=alice"), 201, userBody("/v1", 3, "alice", RL2, "null", "{}")),
	)
	if ct := res[2].header.Get("Content-Type"); ct != "" {
		t.Fatalf("204 carries Content-Type %q", ct)
	}
}

func TestUserList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.run(want(get("/v1/Users"), 200, listBody("/v1/Users", "users", 50)))
	for _, id := range []string{"c", "a", "b"} {
		e.run(ok(post("/v1/Users", "Identity="+id), 201))
	}
	all := []string{userBody("/v1", 1, "c", RL2, "null", "{}"), userBody("/v1", 2, "a", RL2, "null", "{}"),
		userBody("/v1", 3, "b", RL2, "null", "{}")}
	e.run(
		want(get("/v1/Users"), 200, listBody("/v1/Users", "users", 50, all...)),
		// Over the maximum is clamped to it (twilio-go asks for up to 1000).
		want(getQ("/v1/Users", "PageSize=1000"), 200, listBody("/v1/Users", "users", 50, all...)),
		want(getQ("/v1/Services/$IS/Users", "PageSize=50"), 200, listBody("/v1/Services/$IS/Users", "users", 50,
			userBody("/v1/Services/$IS", 1, "c", RL2, "null", "{}"), userBody("/v1/Services/$IS", 2, "a", RL2, "null", "{}"),
			userBody("/v1/Services/$IS", 3, "b", RL2, "null", "{}"))),
		want(getQ("/v1/Users", "PageSize=0"), 400, errBody(400, 20001, "Invalid PageSize: must be an integer from 1 to 50")),
		want(getQ("/v1/Users", "PageSize=x"), 400, errBody(400, 20001, "Invalid PageSize: must be an integer from 1 to 50")),
		want(getQ("/v1/Users", "Page=-1"), 400, errBody(400, 20001, "Invalid Page: must be a non-negative integer")),
		want(getQ("/v1/Users", "Page=9223372036854775807"), 400, errBody(400, 20001, "Invalid Page: must be a non-negative integer")),
		want(getQ("/v1/Users", "PageSize=99999999999999999999"), 400, errBody(400, 20001, "Invalid PageSize: must be an integer from 1 to 50")),
		want(getQ("/v1/Users", "PageToken=PTnope"), 400, errBody(400, 21481, "Invalid PageToken")),
		want(get("/v1/Services/$IS9/Users"), 404, notFoundBody("/Services/$IS9/Users")),
	)

	// Walk pages of 2: meta links lead forward and back.
	first := e.run(ok(getQ("/v1/Users", "PageSize=2"), 200))[0]
	var page struct {
		Users []struct{ Identity string }
		Meta  map[string]any
	}
	decode(t, first.body, &page)
	next, _ := page.Meta["next_page_url"].(string)
	tokenRe := regexp.MustCompile(`^` + regexp.QuoteMeta(e.srv.URL) + `/v1/Users\?PageSize=2&Page=1&PageToken=(PT[A-Za-z0-9_-]+)$`)
	m := tokenRe.FindStringSubmatch(next)
	if m == nil {
		t.Fatalf("next_page_url = %q", next)
	}
	if page.Meta["previous_page_url"] != nil || len(page.Users) != 2 {
		t.Fatalf("first page: %s", first.body)
	}
	second := e.run(want(getQ("/v1/Users", "PageSize=2&Page=1&PageToken="+m[1]), 200, "*"))[0]
	decode(t, second.body, &page)
	if len(page.Users) != 1 || page.Users[0].Identity != "b" || page.Meta["next_page_url"] != nil ||
		page.Meta["url"] != next || page.Meta["page"] != 1.0 {
		t.Fatalf("second page: %s", second.body)
	}
	prev, _ := page.Meta["previous_page_url"].(string)
	prevRe := regexp.MustCompile(`^` + regexp.QuoteMeta(e.srv.URL) + `/v1/Users\?PageSize=2&Page=0&PageToken=(PT[A-Za-z0-9_-]+)$`)
	pm := prevRe.FindStringSubmatch(prev)
	if pm == nil {
		t.Fatalf("previous_page_url = %q", prev)
	}
	back := e.run(ok(getQ("/v1/Users", "PageSize=2&Page=0&PageToken="+pm[1]), 200))[0]
	decode(t, back.body, &page)
	if len(page.Users) != 2 || page.Users[0].Identity != "c" || page.Users[1].Identity != "a" ||
		page.Meta["previous_page_url"] != nil || page.Meta["next_page_url"] == nil {
		t.Fatalf("page back: %s", back.body)
	}

	// Page is client state, echoed and stepped but never past 2^31-1, the
	// largest value parley accepts: every page URL parley emits is one it
	// takes back.
	last := e.run(ok(getQ("/v1/Users", "PageSize=1&Page=2147483647"), 200))[0]
	decode(t, last.body, &page)
	next, _ = page.Meta["next_page_url"].(string)
	if !strings.Contains(next, "&Page=2147483647&PageToken=") || page.Meta["page"] != 2147483647.0 {
		t.Fatalf("next_page_url of page 2147483647: %q", next)
	}
	e.run(ok(getQ("/v1/Users", strings.TrimPrefix(next, e.srv.URL+"/v1/Users?")), 200))

	// Tokens are tamper-evident and bound to their list.
	tampered := []byte(m[1])
	tampered[5] ^= 1
	e.run(
		want(getQ("/v1/Users", "PageToken="+string(tampered)), 400, errBody(400, 21481, "Invalid PageToken")),
		want(getQ("/v1/Roles", "PageToken="+m[1]), 400, errBody(400, 21481, "Invalid PageToken")),
		want(getQ("/v1/Services/$IS/Users", "PageToken="+m[1]), 400, errBody(400, 21481, "Invalid PageToken")),
	)
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// TestUserReachability checks the null rules of is_online and
// is_notifiable: null in lists always; on fetch, null unless the service
// has reachability enabled.
func TestUserReachability(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// parley's REST surface never sets presence; a client connection will.
	// Until then, the store writes it directly here.
	online, notifiable := true, false
	err := e.srv.Store.Update(context.Background(), func(tx parley.Tx) error {
		return tx.CreateUser(context.Background(), parley.User{Sid: sidN("US", 1), ServiceSid: IS, RoleSid: RL2,
			Identity: "p", Attributes: "{}", IsOnline: &online, IsNotifiable: &notifiable,
			DateCreated: clock, DateUpdated: clock})
	})
	if err != nil {
		t.Fatal(err)
	}
	withPresence := strings.Replace(userBody("/v1", 1, "p", RL2, "null", "{}"),
		`"is_online":null,"is_notifiable":null`, `"is_online":true,"is_notifiable":false`, 1)
	e.run(
		want(get("/v1/Users/p"), 200, userBody("/v1", 1, "p", RL2, "null", "{}")),
		ok(post("/v1/Services/$IS/Configuration", "ReachabilityEnabled=true"), 200),
		want(get("/v1/Users/p"), 200, withPresence),
		want(post("/v1/Users/p", "FriendlyName="), 200, withPresence),
		want(get("/v1/Users"), 200, listBody("/v1/Users", "users", 50, userBody("/v1", 1, "p", RL2, "null", "{}"))),
		ok(post("/v1/Services/$IS/Configuration", "ReachabilityEnabled=false"), 200),
		want(get("/v1/Users/p"), 200, userBody("/v1", 1, "p", RL2, "null", "{}")),
	)
}

// TestConcurrentCreateOneIdentity: dozens of creates of one identity at
// once give exactly one 201; the rest are 409 50201.
func TestConcurrentCreateOneIdentity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 48
	statuses := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/Users", strings.NewReader("Identity=same"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(AC, token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			if err != nil {
				t.Error(err)
			}
			statuses[i], bodies[i] = res.StatusCode, string(b)
		})
	}
	wg.Wait()
	created := 0
	for i, st := range statuses {
		switch st {
		case 201:
			created++
		case 409:
			jsonEqual(t, "conflict", []byte(bodies[i]), []byte(errBody(409, 50201, "User already exists")))
		default:
			t.Fatalf("status %d: %s", st, bodies[i])
		}
	}
	if created != 1 {
		t.Fatalf("%d creates succeeded, want exactly 1", created)
	}
}
