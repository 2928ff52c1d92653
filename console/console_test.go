package console_test

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/parleyhq/parley/parleytest"
)

// TestServesFiles checks what the console's URLs answer: its page under
// every path a browser may ask for, its script and stylesheet with their
// types and the headers that keep other scripts out, and nothing but GET
// and HEAD without credentials.
func TestServesFiles(t *testing.T) {
	srv := parleytest.New(t)
	page, err := os.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		status       int
		ctype        string
		body         string // prefix of the body
	}{
		{"GET", "/console/", 200, "text/html; charset=utf-8", string(page)},
		{"GET", "/console", 200, "text/html; charset=utf-8", string(page)},
		{"GET", "/console/index.html", 200, "text/html; charset=utf-8", string(page)},
		{"GET", "/console/no/such/view", 200, "text/html; charset=utf-8", string(page)},
		{"GET", "/console/../console/", 200, "text/html; charset=utf-8", string(page)},
		{"HEAD", "/console/", 200, "text/html; charset=utf-8", ""},
		{"GET", "/console/console.js", 200, "text/javascript; charset=utf-8", "// parley console:"},
		{"GET", "/console/console.css", 200, "text/css; charset=utf-8", "/* parley console:"},
		// Anything else on the console's paths is the API's: credentials
		// first, Twilio's 401.
		{"POST", "/console/", 401, "application/json", `{"code":20003,"message":"Authenticate"`},
		{"DELETE", "/console/console.js", 401, "application/json", `{"code":20003,"message":"Authenticate"`},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.status || res.Header.Get("Content-Type") != c.ctype || !strings.HasPrefix(string(body), c.body) {
			t.Errorf("%s %s: %d %q %.80q, want %d %q %.80q", c.method, c.path, res.StatusCode, res.Header.Get("Content-Type"), body, c.status, c.ctype, c.body)
		}
		if c.status == 200 {
			if got := res.Header.Get("Content-Security-Policy"); got != "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "+
				"style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'" {
				t.Errorf("%s %s: Content-Security-Policy %q", c.method, c.path, got)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s %s: X-Content-Type-Options %q", c.method, c.path, got)
			}
		}
	}
}
