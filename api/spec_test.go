package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/spec"
	"github.com/parleyhq/parley/internal/spec/openapi"
	"github.com/parleyhq/parley/sqlite"
)

// These tests hold the wire layer to Twilio's spec: every shape parley
// serves has the spec's keys in the spec's order; the spec's own response
// examples come out of the encoder unchanged; and every parameter the spec
// lists for a mounted operation is read by its handler.

func testServer(t *testing.T) *Server {
	t.Helper()
	s, _ := testServerAccount(t)
	return s
}

// testServerAccount is testServer with the account it was bootstrapped
// with (its auth token, for requests through the whole handler).
func testServerAccount(t *testing.T) (*Server, parley.Account) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, t.TempDir()+"/parley.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	boot, err := core.Bootstrap(ctx, store, core.BootstrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{App: core.New(core.Options{Store: store, Account: boot.Account})}), boot.Account
}

// keysOf returns the keys of a JSON object in the order written.
func keysOf(t *testing.T, b []byte) []string {
	t.Helper()
	members, err := openapi.ObjectMembers(b)
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	var keys []string
	for _, m := range members {
		keys = append(keys, m.Key)
	}
	return keys
}

func TestServedShapesMatchTheSpec(t *testing.T) {
	s := testServer(t)
	if len(s.samples) == 0 {
		t.Fatal("no operation was mounted")
	}
	c := &wireContext{base: "https://conversations.twilio.com", account: "AC00000000000000000000000000000000"}
	for id, encode := range s.samples {
		op := s.operation(id)
		schema := spec.SchemaByName(op.Schema)
		if schema == nil {
			schema = extensionSchemas[op.Schema]
		}
		var want []string
		for _, p := range schema.Properties {
			want = append(want, p.Key)
		}
		b := encode(c)
		if !json.Valid(b) {
			t.Fatalf("%s: invalid JSON %s", id, b)
		}
		if got := keysOf(t, b); !slices.Equal(got, want) {
			t.Errorf("%s: keys %v, want the schema's %v", id, got, want)
		}
	}
	// Every mounted operation of Twilio's that answers with a body was
	// checked.
	for id := range s.mounted {
		if op := s.operation(id); op.Schema != "" && s.samples[id] == nil {
			t.Errorf("%s: mounted without its shape being checked", id)
		}
	}
}

// exampleFields binds a JSON object (an example item) to schema, each
// value read by its kind, so that encoding the object replays the
// example through the encoder: kinds, order, url and links templates.
func exampleFields(schema *spec.Schema, op *spec.Operation) fields[map[string]any] {
	templated := map[string]bool{}
	placeholder := regexp.MustCompile(`\{([a-z_]+)\}`)
	for _, tmpl := range append([]string{op.URL}, linkTemplates(op)...) {
		for _, m := range placeholder.FindAllStringSubmatch(tmpl, -1) {
			templated[m[1]] = true
		}
	}
	f := fields[map[string]any]{}
	for _, p := range schema.Properties {
		key := p.Key
		switch p.Kind {
		case spec.KindString, spec.KindEnum, spec.KindURI:
			if templated[key] || key == "account_sid" {
				f[key] = str(func(m *map[string]any) string { s, _ := (*m)[key].(string); return s })
			} else {
				f[key] = optStr(func(m *map[string]any) *string {
					if s, ok := (*m)[key].(string); ok {
						return &s
					}
					return nil
				})
			}
		case spec.KindDateTime:
			f[key] = optDate(func(m *map[string]any) *time.Time {
				s, ok := (*m)[key].(string)
				if !ok {
					return nil
				}
				t, err := time.Parse(time.RFC3339, s)
				if err != nil {
					panic(fmt.Sprintf("%s: %q is not RFC 3339: %v", key, s, err))
				}
				return &t
			})
		case spec.KindInteger:
			f[key] = optInt(func(m *map[string]any) *int64 {
				n, ok := (*m)[key].(json.Number)
				if !ok {
					return nil
				}
				i, err := n.Int64()
				if err != nil {
					panic(fmt.Sprintf("%s: %s is not an integer", key, n))
				}
				return &i
			})
		case spec.KindBoolean:
			f[key] = optBool(func(m *map[string]any) *bool {
				if b, ok := (*m)[key].(bool); ok {
					return &b
				}
				return nil
			})
		case spec.KindStringArray:
			f[key] = strs(func(m *map[string]any) []string {
				list, ok := (*m)[key].([]any)
				if !ok {
					return nil
				}
				out := []string{}
				for _, v := range list {
					out = append(out, v.(string))
				}
				return out
			})
		case spec.KindJSON:
			f[key] = rawJSON(func(m *map[string]any) string {
				v, ok := (*m)[key]
				if !ok || v == nil {
					return ""
				}
				b, err := json.Marshal(v)
				if err != nil {
					panic(err)
				}
				return string(b)
			})
		}
	}
	return f
}

func linkTemplates(op *spec.Operation) []string {
	var out []string
	for _, l := range op.Links {
		out = append(out, l.Template)
	}
	return out
}

// TestSpecExamplesRoundTrip encodes every response example of every
// operation in the spec (served today or not) through the encoder, with the
// example's own values, and expects the example back.
func TestSpecExamplesRoundTrip(t *testing.T) {
	doc, err := spec.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	c := &wireContext{base: "https://conversations.twilio.com"}
	checked := 0
	for _, op := range spec.Operations {
		schema := spec.SchemaByName(op.Schema)
		if schema == nil {
			continue
		}
		enc := bindSchema(op.ID, schema, op.URL, op.Links, exampleFields(schema, &op))
		for _, ex := range doc.Operation(op.ID).ResponseExamples() {
			var body map[string]any
			dec := json.NewDecoder(bytes.NewReader(ex.Value))
			dec.UseNumber()
			if err := dec.Decode(&body); err != nil {
				t.Fatalf("%s/%s: %v", op.ID, ex.Name, err)
			}
			items := []any{body}
			if op.ListKey != "" {
				items, _ = body[op.ListKey].([]any)
			}
			for i, it := range items {
				item := it.(map[string]any)
				c.account, _ = item["account_sid"].(string)
				got := enc.append(nil, c, &item)
				var gotV, wantV any
				if err := json.Unmarshal(got, &gotV); err != nil {
					t.Fatalf("%s/%s[%d]: encoded invalid JSON %s", op.ID, ex.Name, i, got)
				}
				wantJSON, _ := json.Marshal(it)
				json.Unmarshal(wantJSON, &wantV)
				if d := cmp.Diff(wantV, gotV); d != "" {
					t.Errorf("%s/%s[%d]: the example does not round-trip (-example +encoded):\n%s", op.ID, ex.Name, i, d)
				}
				checked++
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d example items checked", checked)
	}
}

// TestEveryParameterIsRead calls every mounted operation and checks that
// its handler read every parameter the spec lists for it: a parameter
// added to the spec, or forgotten by a handler, fails here.
func TestEveryParameterIsRead(t *testing.T) {
	s := testServer(t)
	var mu sync.Mutex
	read := map[string]map[string]bool{}
	s.observe = func(op string, names map[string]bool) {
		mu.Lock()
		defer mu.Unlock()
		read[op] = names
	}
	fill := regexp.MustCompile(`\{[A-Za-z]+\}`)
	for id := range s.mounted {
		op := s.operation(id)
		path := fill.ReplaceAllStringFunc(op.Path, func(m string) string {
			if m == "{ChatServiceSid}" {
				return "IS" + strings.Repeat("0", 32)
			}
			return "x"
		})
		r := httptest.NewRequest(op.Method, path, nil)
		r.SetBasicAuth(s.app.AccountSid(), "wrong") // authentication is not under test
		s.mux.ServeHTTP(httptest.NewRecorder(), r)
		mu.Lock()
		names := read[id]
		mu.Unlock()
		if names == nil {
			t.Errorf("%s %s: the handler was not reached", op.Method, path)
			continue
		}
		for _, p := range op.Params {
			if !names[p.Name] {
				t.Errorf("%s: the handler does not read %s (%s)", id, p.Name, p.In)
			}
		}
	}
	if len(read) != len(s.mounted) {
		t.Fatalf("%d of %d operations reached", len(read), len(s.mounted))
	}
}
