package sdktest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/nodetest"
	"github.com/parleyhq/parley/webhook"
)

// TestSignatureRepeatedParams proves webhook.Signature against twilio-node's
// own validator (node/validate-signature.mjs) for parameters sent more than
// once, which twilio-go's validator (one value per name) cannot judge:
// every signature parley makes is accepted, and a tampered value, or the
// signature of every value including the repeats, is refused.
func TestSignatureRepeatedParams(t *testing.T) {
	node := nodetest.Require(t, "node")
	const token = "12345678901234567890123456789012"
	type pair = [2]string
	cases := []struct {
		name   string
		url    string
		params []pair
	}{
		{"single values", "https://app.test/hooks/post", []pair{{"EventType", "onUserAdded"}, {"Identity", "alice"}}},
		{"adjacent repeat", "https://app.test/hooks/post", []pair{{"A", "1"}, {"A", "1"}, {"B", "2"}}},
		{"repeats apart", "https://app.test/hooks/post?app=1", []pair{{"A", "x"}, {"B", "y"}, {"A", "x"}, {"A", "w"}, {"B", "y"}}},
		{"several keys", "http://127.0.0.1:8080/hook", []pair{
			{"Filters", "onUserUpdated"}, {"Identity", "bob"}, {"Filters", "onUserAdded"}, {"Tag", "b"},
			{"Filters", "onUserUpdated"}, {"Tag", "a"}, {"Tag", "b"}, {"Filters", "onUserAdded"}}},
		{"empty and spaced values", "https://app.test/x", []pair{{"V", ""}, {"V", "a b"}, {"V", ""}, {"W", "ü"}, {"V", "a b"}}},
		// JavaScript sorts by UTF-16 code units: U+1F600 (a surrogate pair,
		// 0xD83D…) before U+FF01, where Go's byte order puts it after.
		{"utf-16 order", "https://app.test/x", []pair{{"V", "\uff01"}, {"V", "😀"}, {"V", "\uff01"}, {"V", "a"}}},
	}
	type check struct {
		URL       string `json:"url"`
		Params    []pair `json:"params"`
		AuthToken string `json:"authToken"`
		Signature string `json:"signature"`
	}
	var checks []check
	var want []bool
	var what []string
	for _, tc := range cases {
		values := url.Values{}
		for _, p := range tc.params {
			values.Add(p[0], p[1])
		}
		sig := webhook.Signature(token, tc.url, values)
		checks = append(checks, check{tc.url, tc.params, token, sig})
		want, what = append(want, true), append(what, tc.name+": parley's signature")

		tampered := slices.Clone(tc.params)
		tampered[len(tampered)-1][1] += "x"
		checks = append(checks, check{tc.url, tampered, token, sig})
		want, what = append(want, false), append(what, tc.name+": a tampered value")

		if repeats(tc.params) {
			checks = append(checks, check{tc.url, tc.params, token, everyValue(token, tc.url, values)})
			want, what = append(want, false), append(what, tc.name+": every value signed, repeats included")
		}
	}

	in, err := json.Marshal(checks)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "validate-signature.mjs")
	cmd.Dir = "node"
	cmd.Env = nodetest.Env(cmd.Environ())
	cmd.Stdin = bytes.NewReader(in)
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", filepath.Join("node", "validate-signature.mjs"), err, stderr.Bytes())
	}
	var got []bool
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(want) {
		t.Fatalf("validator answered %q (%v), want %d verdicts", out, err, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: twilio-node's validateRequest says %v, want %v", what[i], got[i], want[i])
		}
	}
}

// repeats reports whether a name is given the same value twice.
func repeats(params [][2]string) bool {
	seen := map[[2]string]bool{}
	for _, p := range params {
		if seen[p] {
			return true
		}
		seen[p] = true
	}
	return false
}

// everyValue is the signature of each value in byte order, repeats
// included: what Signature computed before it followed twilio-node.
func everyValue(token, fullURL string, params url.Values) string {
	data := fullURL
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := slices.Sorted(slices.Values(params[k]))
		for _, v := range vs {
			data += k + v
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(data))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
