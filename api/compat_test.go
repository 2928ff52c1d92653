package api

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/internal/spec"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the operations table of docs/compatibility.md")

// TestEveryOperationIsServed holds parley to Twilio's spec file itself
// (not to the tables generated from it): each of its operations is
// mounted, reached by a request with the account's credentials (routed:
// neither the 404 of an unknown path nor a 405), and refused with
// Twilio's 401 20003 without them. It also keeps the table of
// operations in docs/compatibility.md equal to the spec's (go test
// ./api -run TestEveryOperationIsServed -update-docs rewrites it).
func TestEveryOperationIsServed(t *testing.T) {
	doc, err := spec.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	ops := doc.Operations()
	if len(ops) != 103 {
		t.Fatalf("the spec has %d operations; this test and docs/compatibility.md count 103", len(ops))
	}
	s, account := testServerAccount(t)
	var mu sync.Mutex
	reached := map[string]bool{}
	s.observe = func(op string, _ map[string]bool) {
		mu.Lock()
		defer mu.Unlock()
		reached[op] = true
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	fill := regexp.MustCompile(`\{[A-Za-z]+\}`)
	var rows []string
	for _, op := range ops {
		if !s.mounted[op.OperationID] {
			t.Errorf("%s %s (%s) is not served", op.Method, op.Path, op.OperationID)
			continue
		}
		path := fill.ReplaceAllStringFunc(op.Path, func(m string) string {
			if m == "{ChatServiceSid}" {
				return "IS" + strings.Repeat("0", 32)
			}
			return "x"
		})
		call := func(auth bool) (int, map[string]any) {
			req, _ := http.NewRequest(op.Method, srv.URL+path, nil)
			if op.Method == "POST" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if auth {
				req.SetBasicAuth(account.Sid, account.AuthToken)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body map[string]any
			json.NewDecoder(res.Body).Decode(&body)
			return res.StatusCode, body
		}
		if status, body := call(false); status != 401 || body["code"] != 20003.0 {
			t.Errorf("%s %s without credentials: %d %v, want 401 20003", op.Method, path, status, body)
		}
		status, body := call(true)
		mu.Lock()
		ok := reached[op.OperationID]
		mu.Unlock()
		if !ok || status == 405 || status >= 500 {
			t.Errorf("%s %s (%s) with credentials: %d %v, reached its handler: %t", op.Method, path, op.OperationID, status, body, ok)
		}
		rows = append(rows, fmt.Sprintf("| `%s` | %s | `%s` |", op.OperationID, op.Method, op.Path))
	}
	slices.Sort(rows)
	table := "| Operation | Method | Path |\n|---|---|---|\n" + strings.Join(rows, "\n") + "\n"
	checkDocSection(t, "../docs/compatibility.md", "operations", table)
}

// checkDocSection compares the part of a document between
// <!-- name:begin --> and <!-- name:end --> with want, or rewrites it
// with -update-docs.
func checkDocSection(t *testing.T, file, name, want string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %s…%s section", file, strings.TrimSpace(begin), end)
	}
	if got := doc[i+len(begin) : j]; got == want {
		return
	}
	if !*updateDocs {
		t.Fatalf("the %s table of %s is out of date: run go test ./api -run %s -update-docs", name, file, t.Name())
	}
	if err := os.WriteFile(file, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
		t.Fatal(err)
	}
}
