package api

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAppendString: the hand-written JSON string encoder writes exactly what
// encoding/json writes with HTML escaping off.
func TestAppendString(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and backslash \`, "<b>&amp;</b>", "tab\tnl\nret\rff\fbs\b",
		"\x00\x01\x1f\x7f", "ünïcode 💬 中文", "line\u2028sep\u2029", "bad \xff utf8 \xc3", `{"a":[1,"x"]}`,
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if got := appendString(nil, s); string(got) != string(bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want.Bytes())
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\"b\\c\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if got := appendString(nil, s); string(got) != string(bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want.Bytes())
		}
	})
}
