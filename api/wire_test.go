package api_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/parleytest"
)

var authBody = `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003",
	"status":401,"detail":"Your AccountSid or AuthToken was incorrect."}`

func TestAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, r := range []request{
		{method: "GET", path: "/v1/Users", noAuth: true},
		{method: "GET", path: "/v1/Users", pass: "wrongtoken"},
		{method: "GET", path: "/v1/Users", pass: token + "x"},
		{method: "GET", path: "/v1/Users", user: sidN("AC", 2)},
		{method: "GET", path: "/v1/Users", user: "alice"},
		{method: "GET", path: "/v1/Users", user: sidN("SK", 1), pass: "whatever"},
		// Auth comes before routing: unknown paths and methods reveal nothing.
		{method: "GET", path: "/v1/Nothing", noAuth: true},
		{method: "PUT", path: "/v1/Users", noAuth: true},
		{method: "POST", path: "/v1/Users", form: "Identity=x", noAuth: true},
	} {
		res := e.run(want(r, 401, authBody))[0]
		if got := res.header.Get("WWW-Authenticate"); got != `Basic realm="Twilio API"` {
			t.Fatalf("%s %s: WWW-Authenticate = %q", r.method, r.path, got)
		}
	}
	// Nothing was created by the refused POST.
	e.run(want(get("/v1/Users"), 200, listBody("/v1/Users", "users", 50)))
}

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.run(
		want(get("/v1/Nothing"), 404, notFoundBody("/Nothing")),
		want(get("/v2/Users"), 404, notFoundBody("/v2/Users")),
		want(get("/"), 404, notFoundBody("/")),
		want(get("/v1/Users/alice/Extra/Deep"), 404, notFoundBody("/Users/alice/Extra/Deep")),
		want(request{method: "PUT", path: "/v1/Users"}, 405, errBody(405, 20004, "Method not allowed")),
		want(request{method: "DELETE", path: "/v1/Users"}, 405, errBody(405, 20004, "Method not allowed")),
		want(request{method: "PATCH", path: "/v1/Users/alice"}, 405, errBody(405, 20004, "Method not allowed")),
		want(request{method: "POST", path: "/v1/Services/$IS"}, 405, errBody(405, 20004, "Method not allowed")),
		want(request{method: "DELETE", path: "/v1/Configuration"}, 405, errBody(405, 20004, "Method not allowed")),
		// Paths that are not canonical, or whose segments cannot name a
		// resource, are Twilio's 404 with its JSON body: never ServeMux's
		// redirect to the cleaned path, which an SDK would follow to another
		// resource (twilio-go then reported DeleteUser(".") as a success).
		want(get("/v1//Users"), 404, notFoundBody("//Users")),
		want(get("/v1/./Users"), 404, notFoundBody("/./Users")),
		want(get("/v1/Users/a/../b"), 404, notFoundBody("/Users/a/../b")),
		want(get("/v1/Users/."), 404, notFoundBody("/Users/.")),
		want(del("/v1/Users/.."), 404, notFoundBody("/Users/..")),
		want(get("/v1/Users/%2E"), 404, notFoundBody("/Users/%2E")),
		want(del("/v1/Users/%2e%2E"), 404, notFoundBody("/Users/%2e%2E")),
		want(post("/v1/Users/x//", "FriendlyName=y"), 404, notFoundBody("/Users/x/")),
		want(get("/v1/Services/$IS/Users/./Roles"), 404, notFoundBody("/Services/$IS/Users/./Roles")),
	)
	res := e.do(request{method: "PUT", path: "/v1/Users/x"})
	if got := res.header.Get("Allow"); got != "GET, POST, DELETE" {
		t.Fatalf("Allow = %q", got)
	}
}

var requestID = regexp.MustCompile(`^RQ[0-9a-f]{32}$`)

func TestHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seen := map[string]bool{}
	for _, r := range []request{
		get("/v1/Users"),
		get("/v1/Nothing"),
		{method: "GET", path: "/v1/Users", noAuth: true},
		post("/v1/Users", "Identity=h"),
	} {
		res := e.do(r)
		id := res.header.Get("Twilio-Request-Id")
		if !requestID.MatchString(id) || seen[id] {
			t.Fatalf("%s %s: Twilio-Request-Id %q (unique RQ + 32 hex wanted)", r.method, r.path, id)
		}
		seen[id] = true
		for k, v := range map[string]string{
			"Content-Type":                  "application/json",
			"Access-Control-Allow-Origin":   "*",
			"Access-Control-Allow-Methods":  "GET, POST, DELETE, OPTIONS",
			"Access-Control-Allow-Headers":  "Authorization, Content-Type, X-Twilio-Webhook-Enabled, X-Twilio-Token",
			"Access-Control-Expose-Headers": "Twilio-Request-Id",
		} {
			if got := res.header.Get(k); got != v {
				t.Fatalf("%s %s: %s = %q, want %q", r.method, r.path, k, got, v)
			}
		}
	}
	// A browser's preflight needs no credentials; a request with an Origin
	// gets it echoed, with credentials allowed.
	res := e.do(request{method: "OPTIONS", path: "/v1/Users", noAuth: true,
		header: map[string]string{"Origin": "http://app.test", "Access-Control-Request-Method": "POST"}})
	if res.status != 204 || res.header.Get("Access-Control-Allow-Origin") != "http://app.test" ||
		res.header.Get("Access-Control-Allow-Credentials") != "true" || len(res.body) != 0 {
		t.Fatalf("preflight: %d %v %q", res.status, res.header, res.body)
	}
	res = e.do(request{method: "GET", path: "/v1/Users", header: map[string]string{"Origin": "http://app.test"}})
	if res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != "http://app.test" || res.header.Get("Vary") != "Origin" {
		t.Fatalf("GET with Origin: %d %v", res.status, res.header)
	}
	e.run(want(request{method: "GET", path: "/healthz", noAuth: true}, 200, `{"status":"ok"}`))
}

func TestHostileInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.run(
		want(request{method: "POST", path: "/v1/Users", rawBody: []byte("Identity=%FF%FE")}, 400,
			errBody(400, 20001, "Invalid Identity: must be UTF-8 text without NUL characters")),
		want(request{method: "POST", path: "/v1/Users", rawBody: []byte("Identity=\xff")}, 400,
			errBody(400, 20001, "Invalid Identity: must be UTF-8 text without NUL characters")),
		want(request{method: "POST", path: "/v1/Users", rawBody: []byte("Identity=a%00b")}, 400,
			errBody(400, 20001, "Invalid Identity: must be UTF-8 text without NUL characters")),
		want(request{method: "POST", path: "/v1/Users", rawBody: []byte("%FF=1&Identity=a")}, 400,
			errBody(400, 20001, "Parameter names must be UTF-8 text without NUL characters")),
		want(request{method: "POST", path: "/v1/Users", rawBody: []byte("Identity=%zz")}, 400,
			errBody(400, 20001, `Malformed form parameters: invalid escape "%zz"`)),
		want(request{method: "POST", path: "/v1/Users", rawBody: []byte("Identity=a;b")}, 400,
			errBody(400, 20001, "Malformed form parameters: could not decode")),
		want(post("/v1/Users", "Identity=a&Identity=b"), 400,
			errBody(400, 20001, "Parameter Identity was given more than once")),
		want(request{method: "POST", path: "/v1/Users", rawBody: []byte(`{"Identity":"a"}`),
			header: map[string]string{"Content-Type": "application/json"}}, 400,
			errBody(400, 20001, `Unsupported Content-Type "application/json": send parameters as application/x-www-form-urlencoded`)),
		want(request{method: "POST", path: "/v1/Users", rawBody: []byte("Identity=a"),
			header: map[string]string{"Content-Type": "multipart/form-data; boundary=x"}}, 400,
			errBody(400, 20001, `Unsupported Content-Type "multipart/form-data; boundary=x": send parameters as application/x-www-form-urlencoded`)),
		want(request{method: "POST", path: "/v1/Users", rawBody: []byte("Identity=" + strings.Repeat("a", 1<<20))}, 413,
			errBody(413, 20001, "Request body too large: the limit is 1048576 bytes")),
		want(getQ("/v1/Users", "PageSize=1&PageSize=2"), 400, errBody(400, 20001, "Parameter PageSize was given more than once")),
		want(getQ("/v1/Users", "PageSize=%FF"), 400, errBody(400, 20001, "Invalid PageSize: must be UTF-8 text without NUL characters")),
		// Path segments that are not UTF-8 text, or hold NUL, cannot name
		// anything: 404 on every backend, before any store sees them.
		want(get("/v1/Users/%FF%FE"), 404, notFoundBody("/Users/%FF%FE")),
		want(post("/v1/Users/a%00b", "FriendlyName=x"), 404, notFoundBody("/Users/a%00b")),
		want(del("/v1/Services/%C3/Users/a"), 404, notFoundBody("/Services/%C3/Users/a")),
		want(get("/v1/Roles/%00"), 404, notFoundBody("/Roles/%00")),
		// A charset parameter on the form type is fine.
		ok(request{method: "POST", path: "/v1/Users", rawBody: []byte("Identity=fine"),
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}}, 201),
		// Nothing half-written: only the one good user exists.
		want(get("/v1/Users"), 200, listBody("/v1/Users", "users", 50, userBody("/v1", 1, "fine", RL2, "null", "{}"))),
	)
	// twilio-go sends the form Content-Type on GET and DELETE too; twilio-node none.
	res := e.do(request{method: "GET", path: "/v1/Users/fine", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	if res.status != 200 {
		t.Fatalf("GET with form Content-Type: %d %s", res.status, res.body)
	}
}

// TestPublicURL: behind a proxy, absolute URLs use the configured public
// URL instead of the request's host.
func TestPublicURL(t *testing.T) {
	t.Parallel()
	srv := parleytest.NewWith(t, parleytest.Options{PublicURL: "https://chat.example.com/"})
	req, _ := http.NewRequest("POST", srv.URL+"/v1/Users", strings.NewReader("Identity=p"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(srv.AccountSid, srv.AuthToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Sid   string `json:"sid"`
		URL   string `json:"url"`
		Links struct {
			UserConversations string `json:"user_conversations"`
		} `json:"links"`
	}
	b, _ := io.ReadAll(res.Body)
	decode(t, b, &body)
	want := "https://chat.example.com/v1/Users/" + body.Sid
	if res.StatusCode != 201 || !strings.HasPrefix(body.Sid, "US") || body.URL != want ||
		body.Links.UserConversations != want+"/Conversations" {
		t.Fatalf("%d: url %q, links %q", res.StatusCode, body.URL, body.Links.UserConversations)
	}
}
