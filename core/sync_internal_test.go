package core

import (
	"fmt"
	"testing"
)

// TestTouchPayloads: a write's notification names the node and each
// object's ids, split under PostgreSQL's payload limit; a node ignores
// its own, and reads back exactly what another wrote.
func TestTouchPayloads(t *testing.T) {
	counts, last := map[string]int{}, map[string]int64{}
	for i := range 300 {
		o := fmt.Sprintf("CH%032d.roster", i)
		counts[o], last[o] = 2, int64(10+i)
	}
	payloads := touchPayloads("node1", counts, last)
	if len(payloads) < 2 {
		t.Fatalf("%d payloads for 300 objects", len(payloads))
	}
	seen := map[string]SyncTouch{}
	for _, p := range payloads {
		if len(p) > maxTouchPayload+100 {
			t.Fatalf("payload of %d bytes", len(p))
		}
		if _, ok := parseTouches("node1", p); ok {
			t.Fatal("a node heard its own notification")
		}
		touches, ok := parseTouches("node2", p)
		if !ok {
			t.Fatalf("unreadable payload %q", p[:80])
		}
		for _, tc := range touches {
			seen[tc.Object] = tc
		}
	}
	if len(seen) != 300 {
		t.Fatalf("%d objects read back, want 300", len(seen))
	}
	if got := seen[fmt.Sprintf("CH%032d.roster", 7)]; got.From != 16 || got.To != 17 {
		t.Fatalf("object 7: %+v, want ids 16 to 17", got)
	}
	for _, bad := range []string{"", "node2", "node2\nnonsense", "node2\nCH1.roster 5 3"} {
		if touches, ok := parseTouches("node1", bad); ok {
			t.Fatalf("%q read as %v", bad, touches)
		}
	}
}

// TestNoticePayloads: a notice reads back whole on another node, is
// ignored on its own, and is never taken for a write's touches.
func TestNoticePayloads(t *testing.T) {
	payload := "node1\n" + noticeMark + "twilio.ipmsg.typing_indicator\nUS1,US2\n" + `{"channel_sid":"CH1","identity":"a\nb"}`
	n, ok := parseNotice("node2", payload)
	if !ok || n.MessageType != "twilio.ipmsg.typing_indicator" || fmt.Sprint(n.Users) != "[US1 US2]" ||
		string(n.Payload) != `{"channel_sid":"CH1","identity":"a\nb"}` {
		t.Fatalf("read back %+v %v", n, ok)
	}
	if _, ok := parseNotice("node1", payload); ok {
		t.Fatal("a node heard its own notice")
	}
	if touches, ok := parseTouches("node2", payload); ok {
		t.Fatalf("a notice read as touches %v", touches)
	}
	if _, ok := parseNotice("node2", "node1\nCH1.roster 1 2"); ok {
		t.Fatal("touches read as a notice")
	}
}
