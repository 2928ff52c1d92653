package parley

import (
	"testing"
	"time"
)

func TestOrderedSID(t *testing.T) {
	at := time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC)
	a, b := OrderedSID(PrefixMessage, at), OrderedSID(PrefixMessage, at.Add(time.Millisecond))
	if !IsSID(PrefixMessage, a) || !IsSID(PrefixMessage, b) {
		t.Fatalf("not SIDs: %s %s", a, b)
	}
	// The first 12 digits are the millisecond, big-endian, so SIDs sort
	// by time; the rest is random.
	if want := "01a237b2e280"; a[2:14] != want {
		t.Fatalf("time digits %s, want %s", a[2:14], want)
	}
	if !(a < b) {
		t.Fatalf("%s does not sort before %s", a, b)
	}
	if c := OrderedSID(PrefixMessage, at); c == a {
		t.Fatalf("two SIDs of one millisecond are equal: %s", c)
	}
	// Only messages are ordered: other SIDs stay random.
	if s := (RandomSIDs{}).New(PrefixUser); !IsSID(PrefixUser, s) || s[2:14] == OrderedSID(PrefixUser, time.Now())[2:14] {
		t.Fatalf("a user SID looks ordered: %s", s)
	}
	before := OrderedSID(PrefixMessage, time.Now())
	s := (RandomSIDs{}).New(PrefixMessage)
	after := OrderedSID(PrefixMessage, time.Now())
	if s[:14] < before[:14] || s[:14] > after[:14] {
		t.Fatalf("a message SID minted now, %s, is not between %s and %s", s, before, after)
	}
}
