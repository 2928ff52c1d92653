package main

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestTwoNodesSendersGetUniqueIndexes: 64 senders into one conversation,
// split over two nodes on one PostgreSQL, while one node is killed with
// SIGKILL halfway: every message either node acknowledged is there
// afterwards, with an index no other message has, and the indexes in
// creation order are increasing.
func TestTwoNodesSendersGetUniqueIndexes(t *testing.T) {
	t.Parallel()
	_, a, b := twoNodes(t)
	if st, body := a.do(t, "POST", "/v1/Conversations", "UniqueName=hot", false); st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	var mu sync.Mutex
	acked := map[string]int64{} // message SID → index
	writeUntilKilled(t, []*process{a, b}, 64, 300, func(node *process, w, i int) bool {
		st, body := node.do(t, "POST", "/v1/Conversations/hot/Messages", fmt.Sprintf("Body=w%d-%d", w, i), false)
		if st != 201 {
			if st != 0 {
				t.Errorf("send: %d %s", st, body)
			}
			return false
		}
		var m struct {
			Sid   string
			Index int64
		}
		json.Unmarshal([]byte(body), &m)
		mu.Lock()
		acked[m.Sid] = m.Index
		mu.Unlock()
		return true
	}, func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }, func() {
		a.kill()
		time.Sleep(200 * time.Millisecond) // b goes on serving
	})

	// Everything B has, in order.
	seen := map[int64]string{}
	var last int64 = -1
	next := "/v1/Conversations/hot/Messages?PageSize=100"
	for next != "" {
		st, body := b.do(t, "GET", next, "", false)
		if st != 200 {
			t.Fatalf("list: %d %s", st, body)
		}
		var page struct {
			Messages []struct {
				Sid   string
				Index int64
			}
			Meta struct {
				NextPageURL *string `json:"next_page_url"`
			}
		}
		json.Unmarshal([]byte(body), &page)
		for _, m := range page.Messages {
			if other, dup := seen[m.Index]; dup {
				t.Fatalf("index %d held by %s and %s", m.Index, other, m.Sid)
			}
			if m.Index <= last {
				t.Fatalf("index %d listed after %d", m.Index, last)
			}
			seen[m.Index], last = m.Sid, m.Index
		}
		next = ""
		if page.Meta.NextPageURL != nil {
			next = (*page.Meta.NextPageURL)[len(b.url):]
		}
	}
	for sid, index := range acked {
		if seen[index] != sid {
			t.Fatalf("acknowledged message %s (index %d) lost; index holds %q", sid, index, seen[index])
		}
	}
	t.Logf("%d messages acknowledged, %d stored", len(acked), len(seen))
}
