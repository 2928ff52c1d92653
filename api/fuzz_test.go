package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/parleytest"
)

// FuzzRequests throws arbitrary methods, paths, bodies and content types at
// a real server and checks the promise every request gets: never a 5xx, and
// every error a Twilio-shaped JSON body whose status matches the HTTP one.
// `go test` runs the seeds; `go test -fuzz FuzzRequests ./api` explores.
func FuzzRequests(f *testing.F) {
	srv := parleytest.New(f)
	for _, seed := range []struct{ method, path, ctype, body string }{
		{"POST", "/v1/Users", "application/x-www-form-urlencoded", "Identity=alice&Attributes=%7B%7D"},
		{"POST", "/v1/Users/alice", "application/x-www-form-urlencoded", "FriendlyName=%FF&RoleSid=RL"},
		{"GET", "/v1/Users?PageSize=0&PageToken=PTxx", "", ""},
		{"DELETE", "/v1/Users/alice", "", ""},
		{"POST", "/v1/Roles", "application/x-www-form-urlencoded", "FriendlyName=r&Type=service&Permission=x&Permission=y"},
		{"POST", "/v1/Services/IS00000000000000000000000000000000/Configuration", "text/plain", "ReachabilityEnabled=maybe"},
		{"POST", "/v1/Configuration/Webhooks", "application/x-www-form-urlencoded", "PostWebhookUrl=http://%zz"},
		{"PATCH", "/v1/%2e%2e/Users", "application/json", `{"Identity":1}`},
	} {
		f.Add(seed.method, seed.path, seed.ctype, seed.body)
	}
	client := &http.Client{}
	f.Fuzz(func(t *testing.T, method, path, ctype, body string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.SetBasicAuth(srv.AccountSid, srv.AuthToken)
		res, err := client.Do(req)
		if err != nil {
			return // refused by net/http before parley (bad method token, …)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s (%s) %q: %d %s", method, path, ctype, body, res.StatusCode, b)
		}
		if res.StatusCode == http.StatusNoContent || method == http.MethodHead {
			return
		}
		if res.StatusCode == http.StatusBadRequest && res.Header.Get("Content-Type") != "application/json" {
			return // net/http's own answer to a malformed request line
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s %s: %d body is not a JSON object: %q", method, path, res.StatusCode, b)
		}
		if res.StatusCode >= 400 {
			code, _ := v["code"].(float64)
			status, _ := v["status"].(float64)
			if code == 0 || int(status) != res.StatusCode || v["message"] == "" || v["more_info"] == nil {
				t.Fatalf("%s %s: error body %s", method, path, b)
			}
		}
	})
}
