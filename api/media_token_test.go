package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/parleytest"
)

// TestMediaWithAccessToken: the Media Content Service takes a client SDK
// user's access token in X-Twilio-Token, as @twilio/mcs-client sends it:
// uploads are that user's, records and contents readable; a token of
// another service is 403, a bad one its 2010x code; elsewhere a token is
// no credential. Browsers may send the header (CORS).
func TestMediaWithAccessToken(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	token := parleytest.Token(t, srv, "alice", "")
	c := rawClient{t: t, srv: srv}
	other := c.must("POST", "/v1/Services", "FriendlyName=other", 201)["sid"].(string)
	otherToken := parleytest.Token(t, srv, "alice", other)
	call := func(method, path, tok, ctype, body string) (int, map[string]any, string) {
		status, raw := tokenCall(t, method, srv.URL+path, tok, ctype, body)
		var v map[string]any
		json.Unmarshal([]byte(raw), &v)
		return status, v, raw
	}
	media := "/v1/Services/" + srv.DefaultServiceSid + "/Media"
	st, up, raw := call("POST", media+"?Filename=hi.txt", token, "text/plain", "hello")
	if st != 201 || up["author"] != "alice" || up["size"] != 5.0 || up["filename"] != "hi.txt" {
		t.Fatalf("upload with a token: %d %s", st, raw)
	}
	me := up["sid"].(string)
	if st, got, raw := call("GET", media+"/"+me, token, "", ""); st != 200 || got["sid"] != me || got["author"] != "alice" {
		t.Fatalf("fetch with a token: %d %s", st, raw)
	}
	if st, _, raw := call("GET", media+"/"+me+"/Content", token, "", ""); st != 200 || raw != "hello" {
		t.Fatalf("content with a token: %d %q", st, raw)
	}
	// The same upload with the account's credentials is the system's.
	if got := c.must(uploadMethod, media+"?Filename=a.png", "png", 201); got["author"] != "system" {
		t.Fatalf("upload with Basic auth: %v", got)
	}
	is := srv.DefaultServiceSid
	for _, tc := range []struct {
		what, method, path, token string
		status                    int
		body                      string
	}{
		{"another service's token", "GET", media + "/" + me, otherToken, 403,
			errBody(403, 20403, "Forbidden: the access token signs into service "+other+", not "+is)},
		{"another service's media", "POST", "/v1/Services/" + other + "/Media", token, 403,
			errBody(403, 20403, "Forbidden: the access token signs into service "+is+", not "+other)},
		{"a garbage token", "GET", media + "/" + me, "nope", 401, errBody(401, 20101, "Invalid Access Token")},
		{"a forged token", "GET", media + "/" + me, token[:strings.LastIndex(token, ".")+1] + "AAAA", 401,
			errBody(401, 20107, "Invalid Access Token signature: not signed by an active API key of this account")},
		{"a token on the REST API", "GET", "/v1/Users", token, 401, authBody},
		{"no credentials", "GET", media + "/" + me, "", 401, authBody},
	} {
		st, _, raw := call(tc.method, tc.path, tc.token, "text/plain", "x")
		if st != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.what, st, raw, tc.status)
			continue
		}
		jsonEqual(t, tc.what, []byte(raw), []byte(tc.body))
	}

	// A browser's preflight for the token header.
	req, _ := http.NewRequest("OPTIONS", srv.URL+media, nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "x-twilio-token, content-type")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || !strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "X-Twilio-Token") ||
		res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
}

// TestMediaLinksAndSets: a media record's content_direct_temporary loads
// without credentials for five minutes and not after; a link altered in
// any way is a 404; MediaSet answers each media's record (as FetchMedia
// does) or its 404, for an access token of the service.
func TestMediaLinksAndSets(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64
	start := time.Now()
	srv := parleytest.NewWith(t, parleytest.Options{Core: core.Options{Now: func() time.Time {
		return start.Add(time.Duration(offset.Load()))
	}}})
	token := parleytest.Token(t, srv, "alice", "")
	call := func(method, url, tok, ctype, body string) (int, string) {
		return tokenCall(t, method, url, tok, ctype, body)
	}
	media := srv.URL + "/v1/Services/" + srv.DefaultServiceSid + "/Media"
	st, raw := call("POST", media+"?Filename=hi.txt", token, "text/plain", "hello")
	var up struct {
		Sid   string            `json:"sid"`
		Links map[string]string `json:"links"`
	}
	if err := json.Unmarshal([]byte(raw), &up); err != nil || st != 201 {
		t.Fatalf("upload: %d %s", st, raw)
	}
	link := up.Links["content_direct_temporary"]
	if st, body := call("GET", link, "", "", ""); st != 200 || body != "hello" {
		t.Fatalf("the link: %d %q", st, body)
	}
	// What an uploader chose to call HTML must not run on parley's origin
	// (the console's): the link serves it sandboxed.
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Content-Security-Policy"); !strings.HasPrefix(got, "sandbox; default-src 'none';") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("the link's headers: %v", res.Header)
	}
	for _, bad := range []string{link + "x", strings.Replace(link, up.Sid, "ME00000000000000000000000000000000", 1),
		srv.URL + "/parley/v1/MediaContent/nonsense"} {
		if st, body := call("GET", bad, "", "", ""); st != 404 {
			t.Errorf("altered link %s: %d %s", bad, st, body)
		}
	}

	// MediaSet: the record FetchMedia answers, with a fresh link.
	_, record := call("GET", media+"/"+up.Sid, token, "", "")
	st, set := call("POST", srv.URL+"/v1/Services/"+srv.DefaultServiceSid+"/MediaSet", token, "application/json",
		`{"command":"get","list":[{"media_sid":"`+up.Sid+`"},{"media_sid":"ME0123456789abcdef0123456789abcdef"}]}`)
	if st != 200 {
		t.Fatalf("MediaSet: %d %s", st, set)
	}
	jsonEqual(t, "MediaSet", []byte(set), []byte(`[{"code":200,"media_record":`+record+`},`+
		`{"code":404,"media_record":{"sid":"ME0123456789abcdef0123456789abcdef"}}]`))
	for _, tc := range []struct{ body, want string }{
		{`{"command":"put","list":[]}`, errBody(400, 20001, `Invalid MediaSet command "put": parley answers get`)},
		{`nope`, errBody(400, 20001, "Invalid MediaSet request: invalid character 'o' in literal null (expecting 'u')")},
	} {
		st, body := call("POST", srv.URL+"/v1/Services/"+srv.DefaultServiceSid+"/MediaSet", token, "application/json", tc.body)
		if st != 400 {
			t.Fatalf("MediaSet %s: %d %s", tc.body, st, body)
		}
		jsonEqual(t, "MediaSet "+tc.body, []byte(body), []byte(tc.want))
	}
	if st, body := call("POST", srv.URL+"/v1/Services/"+srv.DefaultServiceSid+"/MediaSet", "", "application/json", `{}`); st != 401 {
		t.Fatalf("MediaSet without credentials: %d %s", st, body)
	}

	// Five minutes on, the link has expired.
	offset.Store(int64(core.MediaLinkTTL))
	st, body := call("GET", link, "", "", "")
	if st != 403 {
		t.Fatalf("an expired link: %d %s", st, body)
	}
	jsonEqual(t, "expired link", []byte(body), []byte(errBody(403, 20403, "Forbidden: the media link has expired")))
}

// tokenCall makes one request to url with a client's access token (none
// when tok is ""), as @twilio/mcs-client does, and returns its status and
// body.
func tokenCall(t *testing.T, method, url, tok, ctype, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if tok != "" {
		req.Header.Set("X-Twilio-Token", tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}
