package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/twilsock"
)

// Several parley processes on one PostgreSQL database behave as one server.

// twoNodes starts two parley processes at the same moment on one fresh
// PostgreSQL schema, so that both bootstrap at once.
func twoNodes(t *testing.T, args ...string) (dsn string, a, b *process) {
	t.Helper()
	dsn = pgtest.DSN(t)
	a, b = twoNodesOn(t, dsn, args...)
	return dsn, a, b
}

// twoNodesOn is twoNodes on a database of the caller's.
func twoNodesOn(t *testing.T, dsn string, args ...string) (a, b *process) {
	t.Helper()
	var wg sync.WaitGroup
	nodes := make([]*process, 2)
	for i := range nodes {
		wg.Go(func() { nodes[i] = startProcess(t, append([]string{"--db", dsn}, args...)...) })
	}
	wg.Wait()
	return nodes[0], nodes[1]
}

func decodeJSON(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	return m
}

func TestTwoNodesOneDatabase(t *testing.T) {
	t.Parallel()
	dsn, a, b := twoNodes(t)
	// One account, one default service, whichever node bootstrapped.
	if a.account != b.account || a.token != b.token {
		t.Fatalf("nodes disagree on credentials: %s/%s vs %s/%s", a.account, a.token, b.account, b.token)
	}
	_, ca := a.do(t, "GET", "/v1/Configuration", "", false)
	_, cb := b.do(t, "GET", "/v1/Configuration", "", false)
	if decodeJSON(t, ca)["default_chat_service_sid"] != decodeJSON(t, cb)["default_chat_service_sid"] {
		t.Fatalf("default services differ: %s vs %s", ca, cb)
	}

	// Created through one, seen, changed, listed and deleted through the other.
	if st, body := a.do(t, "POST", "/v1/Users", "Identity=shared%40example.com&FriendlyName=A", false); st != 201 {
		t.Fatalf("create on A: %d %s", st, body)
	}
	st, body := b.do(t, "GET", "/v1/Users/shared@example.com", "", false)
	if st != 200 || decodeJSON(t, body)["friendly_name"] != "A" {
		t.Fatalf("fetch on B: %d %s", st, body)
	}
	if st, body := b.do(t, "POST", "/v1/Users/shared@example.com", "FriendlyName=B", false); st != 200 {
		t.Fatalf("update on B: %d %s", st, body)
	}
	if st, body := a.do(t, "GET", "/v1/Users/shared@example.com", "", false); st != 200 || decodeJSON(t, body)["friendly_name"] != "B" {
		t.Fatalf("fetch on A after B's update: %d %s", st, body)
	}
	if st, body := b.do(t, "GET", "/v1/Users", "", false); st != 200 || !strings.Contains(body, `"identity":"shared@example.com"`) {
		t.Fatalf("list on B: %d %s", st, body)
	}
	if st, _ := b.do(t, "DELETE", "/v1/Users/shared@example.com", "", false); st != 204 {
		t.Fatalf("delete on B: %d", st)
	}
	if st, _ := a.do(t, "GET", "/v1/Users/shared@example.com", "", false); st != 404 {
		t.Fatalf("fetch on A after B's delete: %d", st)
	}

	// Dozens of creates of one identity, spread over both: one 201.
	const n = 48
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		node := []*process{a, b}[i%2]
		wg.Go(func() { statuses[i], _ = node.do(t, "POST", "/v1/Users", "Identity=contested", false) })
	}
	wg.Wait()
	created := 0
	for _, st := range statuses {
		switch st {
		case 201:
			created++
		case 409:
		default:
			t.Fatalf("concurrent create: status %d", st)
		}
	}
	if created != 1 {
		t.Fatalf("%d of %d concurrent creates succeeded, want 1", created, n)
	}

	// A PageToken issued by one node pages on the other.
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("page-%d", i)
		if st, _ := []*process{a, b}[i%2].do(t, "POST", "/v1/Users", "Identity="+id, false); st != 201 {
			t.Fatal("create for paging")
		}
		want = append(want, id)
	}
	var got []string
	next := "/v1/Users?PageSize=3"
	for i := 0; next != ""; i++ {
		node := []*process{a, b}[i%2]
		st, body := node.do(t, "GET", next, "", false)
		if st != 200 {
			t.Fatalf("page %d on node %d: %d %s", i, i%2, st, body)
		}
		var page struct {
			Users []struct{ Identity string }
			Meta  struct {
				NextPageURL *string `json:"next_page_url"`
			}
		}
		json.Unmarshal([]byte(body), &page)
		for _, u := range page.Users {
			if strings.HasPrefix(u.Identity, "page-") {
				got = append(got, u.Identity)
			}
		}
		next = ""
		if page.Meta.NextPageURL != nil {
			u, _ := url.Parse(*page.Meta.NextPageURL)
			if "http://"+u.Host != node.url {
				t.Fatalf("next_page_url %s is not on the node that answered (%s)", *page.Meta.NextPageURL, node.url)
			}
			next = u.RequestURI() // followed on the other node
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paged across nodes: %v, want %v", got, want)
	}

	// An API key made on the command line works on both nodes, and its
	// revocation takes effect on both at once.
	sid, secret := createKey(t, dsn)
	keyStatus := func(p *process) int { return statusAs(t, p.url, sid, secret) }
	if keyStatus(a) != 200 || keyStatus(b) != 200 {
		t.Fatal("the new key does not work on both nodes")
	}
	if err := run(context.Background(), []string{"parley", "keys", "revoke", "--db", dsn, sid}, func(string) string { return "" }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if keyStatus(a) != 401 || keyStatus(b) != 401 {
		t.Fatal("the revoked key still works on a node")
	}
}

// TestTwoNodesDeliverEachWebhookOnce: both nodes' dispatchers poll the same
// outbox; every event reaches the receiver exactly once.
func TestTwoNodesDeliverEachWebhookOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]int{}
	identities := map[string]bool{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		seen[r.Header.Get("I-Twilio-Idempotency-Token")]++
		identities[r.PostForm.Get("Identity")] = true
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	_, a, b := twoNodes(t)
	if st, body := a.do(t, "POST", "/v1/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape(recv.URL), false); st != 200 {
		t.Fatalf("configure: %d %s", st, body)
	}
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		node := []*process{a, b}[i%2]
		wg.Go(func() {
			if st, body := node.do(t, "POST", "/v1/Users", fmt.Sprintf("Identity=hook-%d", i), true); st != 201 {
				t.Errorf("create: %d %s", st, body)
			}
		})
	}
	wg.Wait()
	delivered := func() int { mu.Lock(); defer mu.Unlock(); return len(identities) }
	if !eventually(20*time.Second, func() bool { return delivered() == n }) {
		t.Fatalf("%d of %d events delivered", delivered(), n)
	}
	time.Sleep(500 * time.Millisecond) // room for a duplicate to show up
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n {
		t.Fatalf("%d distinct idempotency tokens, want %d", len(seen), n)
	}
	for tok, c := range seen {
		if c != 1 {
			t.Fatalf("delivery %s sent %d times", tok, c)
		}
	}
}

// TestKilledNodeLosesNoAcknowledgedWrite: with creates spread over two
// nodes, one is killed with SIGKILL; every create answered 201 by either is
// in the database afterwards.
func TestKilledNodeLosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	_, a, b := twoNodes(t)
	acked := createUntilKilled(t, []*process{a, b}, func() {
		time.Sleep(400 * time.Millisecond)
		a.kill()
		time.Sleep(200 * time.Millisecond) // B goes on serving
	})
	for _, id := range acked {
		if st, body := b.do(t, "GET", "/v1/Users/"+id, "", false); st != 200 {
			t.Fatalf("acknowledged user %s lost: %d %s", id, st, body)
		}
	}
}

// TestKilledNodeTakesItsUsersOffline: a user connected to node A is
// online on node B too; when A is killed (SIGKILL: it says nothing), B
// shows them offline within 30 seconds, as A's lease runs out.
func TestKilledNodeTakesItsUsersOffline(t *testing.T) {
	t.Parallel()
	dsn, a, b := twoNodes(t)
	_, cfg := b.do(t, "GET", "/v1/Configuration", "", false)
	is := decodeJSON(t, cfg)["default_chat_service_sid"].(string)
	if st, body := b.do(t, "POST", "/v1/Services/"+is+"/Configuration", "ReachabilityEnabled=true", false); st != 200 {
		t.Fatalf("reachability: %d %s", st, body)
	}
	ws := signIn(t, a, dsn, "alice")
	defer ws.CloseNow()
	online := func(node *process) any {
		_, body := node.do(t, "GET", "/v1/Users/alice", "", false)
		return decodeJSON(t, body)["is_online"]
	}
	if got := online(b); got != true {
		t.Fatalf("alice, connected to A, on B: is_online %v", got)
	}
	a.kill()
	killed := time.Now()
	if !eventually(30*time.Second, func() bool { return online(b) == false }) {
		t.Fatalf("alice still online on B %v after A was killed; B said:\n%s", time.Since(killed).Round(time.Second), b.stderr.String())
	}
	t.Logf("offline on B %v after A was killed", time.Since(killed).Round(100*time.Millisecond))
}

// TestRestartTakesUsersOffline: on SQLite (one node), a node killed with
// clients connected leaves them online in the database; the next run,
// before it serves, finds them offline.
func TestRestartTakesUsersOffline(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "presence.db")
	first := startProcess(t, "--db", db)
	_, cfg := first.do(t, "GET", "/v1/Configuration", "", false)
	is := decodeJSON(t, cfg)["default_chat_service_sid"].(string)
	if st, body := first.do(t, "POST", "/v1/Services/"+is+"/Configuration", "ReachabilityEnabled=true", false); st != 200 {
		t.Fatalf("reachability: %d %s", st, body)
	}
	ws := signIn(t, first, db, "alice")
	defer ws.CloseNow()
	online := func(node *process) any {
		_, body := node.do(t, "GET", "/v1/Users/alice", "", false)
		return decodeJSON(t, body)["is_online"]
	}
	if got := online(first); got != true {
		t.Fatalf("alice connected: is_online %v", got)
	}
	first.kill()
	second := startProcess(t, "--db", db)
	if got := online(second); got != false {
		t.Fatalf("alice after a restart: is_online %v", got)
	}
}

// signIn connects a client SDK socket for identity to node and signs it
// in with a token `parley token` mints from db.
func signIn(t *testing.T, node *process, db, identity string) *websocket.Conn {
	t.Helper()
	var out strings.Builder
	if err := run(context.Background(), []string{"parley", "token", "--db", db, "--identity", identity},
		func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(node.url, "http")+"/v3/wsconnect", nil)
	if err != nil {
		t.Fatal(err)
	}
	init, _ := twilsock.Encode(twilsock.Frame{Header: twilsock.Header{Method: "init", ID: "TM1", Token: strings.TrimSpace(out.String())}})
	if err := ws.Write(ctx, websocket.MessageBinary, init); err != nil {
		t.Fatal(err)
	}
	if _, reply, err := ws.Read(ctx); err != nil {
		t.Fatal(err)
	} else if f, err := twilsock.Decode(reply); err != nil || f.Header.Status == nil || f.Header.Status.Code != 200 {
		t.Fatalf("init: %+v %v", f.Header, err)
	}
	return ws
}
