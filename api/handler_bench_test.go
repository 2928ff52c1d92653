package api_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleyhq/parley/parleytest"
)

// BenchmarkHandler measures whole requests through the handler, in process,
// without the network: what parley costs per request.
func BenchmarkHandler(b *testing.B) {
	srv := parleytest.New(b)
	do := inProcess(srv)
	w := do("POST", "/v1/Users", "Identity=alice%40example.com&FriendlyName=Alice&Attributes=%7B%22a%22%3A1%7D")
	if w.Code != 201 {
		b.Fatal(w.Body.String())
	}
	sid := w.Body.String()[8:42]
	for i := range 60 {
		do("POST", "/v1/Users", "Identity=u"+strings.Repeat("x", i))
	}
	for _, bc := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"FetchSid", "GET", "/v1/Users/" + sid, "", 200},
		{"FetchIdentity", "GET", "/v1/Users/alice@example.com", "", 200},
		{"List50", "GET", "/v1/Users?PageSize=50", "", 200},
		{"Update", "POST", "/v1/Users/" + sid, "FriendlyName=Bob", 200},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if w := do(bc.method, bc.path, bc.body); w.Code != bc.status {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}

// inProcess returns a function that makes one request through srv's
// handler, in process (no network), with the account's credentials.
func inProcess(srv *parleytest.Server) func(method, path, body string) *httptest.ResponseRecorder {
	h := srv.HTTP.Config.Handler
	return func(method, path, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		r.SetBasicAuth(srv.AccountSid, srv.AuthToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
}
