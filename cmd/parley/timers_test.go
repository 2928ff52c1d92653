package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTimerDueWhileDownFiresAtStart: a conversation whose inactive timer
// comes due while parley is stopped is made inactive when it starts again.
func TestTimerDueWhileDownFiresAtStart(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "parley.db")
	first := start(t, nil, "--addr", "127.0.0.1:0", "--db", db)
	// Last activity 58 s ago with a one-minute inactive timer: due in 2 s.
	last := time.Now().UTC().Add(-58 * time.Second).Format(time.RFC3339)
	st, body := first.call(t, "POST", "/v1/Conversations", "UniqueName=sleepy&Timers.Inactive=PT1M&DateUpdated="+url.QueryEscape(last))
	if st != 201 || !strings.Contains(body, `"state":"active"`) {
		t.Fatalf("create: %d %s", st, body)
	}
	first.shutdown(t)
	time.Sleep(3 * time.Second)

	second := start(t, nil, "--addr", "127.0.0.1:0", "--db", db)
	if !eventually(5*time.Second, func() bool {
		st, body = second.call(t, "GET", "/v1/Conversations/sleepy", "")
		return st == 200 && strings.Contains(body, `"state":"inactive"`)
	}) {
		t.Fatalf("after restart: %d %s", st, body)
	}
}

// TestTwoNodesFireEachTimerOnce: conversations with due timers, created
// through both nodes, move once each: one state event per move, whichever
// node fires it.
func TestTwoNodesFireEachTimerOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	moves := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		moves[r.PostForm.Get("ConversationSid")+" "+r.PostForm.Get("StateTo")]++
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	_, a, b := twoNodes(t)
	if st, body := a.do(t, "POST", "/v1/Configuration/Webhooks", "Filters=onConversationStateUpdated&PostWebhookUrl="+url.QueryEscape(recv.URL), false); st != 200 {
		t.Fatalf("configure: %d %s", st, body)
	}
	// Both timers long past: each conversation goes inactive, then closed.
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		node := []*process{a, b}[i%2]
		wg.Go(func() {
			st, body := node.do(t, "POST", "/v1/Conversations",
				fmt.Sprintf("UniqueName=due-%d&Timers.Inactive=PT1M&Timers.Closed=PT10M&DateUpdated=2020-01-01T00:00:00Z", i), false)
			if st != 201 {
				t.Errorf("create: %d %s", st, body)
			}
		})
	}
	wg.Wait()
	reported := func() int { mu.Lock(); defer mu.Unlock(); return len(moves) }
	if !eventually(20*time.Second, func() bool { return reported() == 2*n }) {
		t.Fatalf("%d of %d state moves reported", reported(), 2*n)
	}
	time.Sleep(time.Second) // room for a duplicate to show up
	mu.Lock()
	defer mu.Unlock()
	for move, c := range moves {
		if c != 1 || !(strings.HasSuffix(move, " inactive") || strings.HasSuffix(move, " closed")) {
			t.Fatalf("move %q reported %d times", move, c)
		}
	}
	for i := range n {
		if st, body := b.do(t, "GET", fmt.Sprintf("/v1/Conversations/due-%d", i), "", false); st != 200 || !strings.Contains(body, `"state":"closed"`) {
			t.Fatalf("due-%d: %d %s", i, st, body)
		}
	}
}

// TestTwoNodesContestedConversationWrites: a unique name, an identity and
// an address pair contested through both nodes go to exactly one writer.
func TestTwoNodesContestedConversationWrites(t *testing.T) {
	t.Parallel()
	_, a, b := twoNodes(t)
	st, body := a.do(t, "POST", "/v1/Conversations", "UniqueName=shared", false)
	if st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	for _, c := range []struct{ what, path, form, code string }{
		{"unique name", "/v1/Conversations", "UniqueName=contested", "50353"},
		{"identity", "/v1/Conversations/shared/Participants", "Identity=contested", "50433"},
		{"pair", "/v1/Conversations/shared/Participants", "MessagingBinding.Address=%2B15550001111&MessagingBinding.ProxyAddress=%2B15550002222", "50416"},
	} {
		const n = 24
		statuses := make([]int, n)
		bodies := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			node := []*process{a, b}[i%2]
			wg.Go(func() { statuses[i], bodies[i] = node.do(t, "POST", c.path, c.form, false) })
		}
		wg.Wait()
		created := 0
		for i, st := range statuses {
			switch {
			case st == 201:
				created++
			case st == 409 && strings.Contains(bodies[i], `"code":`+c.code):
			default:
				t.Fatalf("%s: %d %s", c.what, st, bodies[i])
			}
		}
		if created != 1 {
			t.Fatalf("%s: %d of %d concurrent creates succeeded, want 1", c.what, created, n)
		}
	}
}
