package webhook_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/webhook"
)

// TestResponseText: what is kept of a receiver's answer is at most
// parley.MaxResponse bytes of valid UTF-8 without NUL, whatever the
// receiver sent; send hands it the body's first MaxResponse+1 bytes.
func TestResponseText(t *testing.T) {
	t.Parallel()
	const max = parley.MaxResponse
	for _, tc := range []struct {
		name, body, want string
	}{
		{"empty", "", ""},
		{"text", `{"error":"nope"}`, `{"error":"nope"}`},
		{"invalid bytes and NUL", "a\xff\xfeb\x00c", "a\uFFFDb\uFFFDc"},
		{"exactly the cap", strings.Repeat("x", max), strings.Repeat("x", max)},
		{"cut between runes", strings.Repeat("x", max+1), strings.Repeat("x", max)},
		// A four-byte rune starting 2 bytes before the cap: the cut keeps
		// 2 of its bytes, which go.
		{"cut inside a rune", strings.Repeat("x", max-2) + "😀", strings.Repeat("x", max-2)},
		// A body under the cap that ends in half a rune was not cut:
		// its broken end is the receiver's, and is replaced.
		{"broken end, not cut", strings.Repeat("x", max-3) + "😀"[:2], strings.Repeat("x", max-3) + "\uFFFD"},
		// Replacements lengthen the text (1 byte → 3): cut again on a
		// rune boundary.
		{"replacements past the cap", strings.Repeat("\xffx", max/2) + "y", strings.Repeat("\uFFFDx", max/4)},
		{"replacements past the cap, cut inside one", "x" + strings.Repeat("\xffx", max/2),
			"x" + strings.Repeat("\uFFFDx", max/4-1) + "\uFFFD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if len(body) > max+1 {
				body = body[:max+1] // what send reads
			}
			got := webhook.ResponseText([]byte(body))
			if got != tc.want {
				t.Fatalf("kept %d bytes %q…, want %d bytes %q…", len(got), head(got), len(tc.want), head(tc.want))
			}
			if len(got) > max || !utf8.ValidString(got) || strings.ContainsRune(got, 0) {
				t.Fatalf("kept %d bytes, valid %v", len(got), utf8.ValidString(got))
			}
		})
	}
}

func head(s string) string { return s[:min(len(s), 20)] }
