package core

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// TestKeySchedule: HMAC-SHA256 computed from a key's schedule equals
// crypto/hmac's with the key itself, for keys shorter than, as long as, and
// longer than a block, and the schedule does not contain the key.
func TestKeySchedule(t *testing.T) {
	for _, n := range []int{0, 1, 32, 63, 64, 65, 200} {
		key := make([]byte, n)
		rand.Read(key)
		schedule := keySchedule(key)
		for _, msg := range [][]byte{nil, []byte("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJBQyJ9"), make([]byte, 1000)} {
			want := hmac.New(sha256.New, key)
			want.Write(msg)
			got, err := scheduledMAC(schedule, msg)
			if err != nil {
				t.Fatal(err)
			}
			if !hmac.Equal(got, want.Sum(nil)) {
				t.Fatalf("key of %d bytes, message of %d: %x, want %x", n, len(msg), got, want.Sum(nil))
			}
		}
		if n >= 8 && bytes.Contains(schedule, key) {
			t.Fatalf("the schedule of a %d-byte key contains the key", n)
		}
	}
	for _, damaged := range [][]byte{nil, {200, 1, 2}, keySchedule([]byte("k"))[:50]} {
		if _, err := scheduledMAC(damaged, []byte("m")); err == nil {
			t.Fatalf("damaged schedule %x accepted", damaged)
		}
	}
}
