package parley

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// SID prefixes Twilio uses for the resources parley serves. A SID is the
// prefix followed by 32 lowercase hex digits.
const (
	PrefixAccount      = "AC"
	PrefixService      = "IS"
	PrefixRole         = "RL"
	PrefixUser         = "US"
	PrefixAPIKey       = "SK"
	PrefixCredential   = "CR"
	PrefixConversation = "CH"
	PrefixParticipant  = "MB"
	PrefixMessage      = "IM"
	PrefixWebhook      = "WH"
	PrefixReceipt      = "DY"
	PrefixMedia        = "ME"
	PrefixAddress      = "IG" // address configurations
	PrefixBinding      = "BS"
	PrefixRequest      = "RQ"
	PrefixDelivery     = "WD" // parley's own: webhook deliveries have no Twilio SID
)

// SIDLen is the length of every SID: a two-letter prefix and 32 hex digits.
const SIDLen = 34

// IsSID reports whether s is prefix followed by exactly 32 hex digits (either
// case, as Twilio's patterns `^US[0-9a-fA-F]{32}$` allow).
func IsSID(prefix, s string) bool {
	if len(s) != SIDLen || s[:2] != prefix {
		return false
	}
	for i := 2; i < SIDLen; i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// SIDs mints new SIDs. Production uses RandomSIDs; tests inject a
// deterministic source so that whole response bodies can be compared.
type SIDs interface {
	New(prefix string) string
}

// RandomSIDs mints SIDs from crypto/rand: 128 bits, so collisions are not a
// practical concern and SIDs reveal nothing about order or volume.
// Messages are the exception (see OrderedSID).
type RandomSIDs struct{}

// New returns prefix + 32 random lowercase hex digits, or for a message
// an OrderedSID.
func (RandomSIDs) New(prefix string) string {
	if prefix == PrefixMessage {
		return OrderedSID(prefix, time.Now())
	}
	return NewSID(prefix)
}

// OrderedSID returns prefix followed by 12 hex digits of the Unix
// millisecond at and 20 random ones (80 bits: no collisions in practice,
// even within a millisecond). Message SIDs are made this way because the
// unique index on them then grows at its end, like the table, instead of
// taking a write to a random page for every message: that is a page write
// fewer per send in every group commit (BenchmarkMessages). A message's
// SID so tells only its time of creation, which its date_created shows
// anyway, to the second.
func OrderedSID(prefix string, at time.Time) string {
	var b [16]byte
	ms := uint64(at.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	rand.Read(b[6:])
	return sidOf(prefix, b)
}

// NewSID returns prefix followed by 32 random lowercase hex digits: a SID,
// and the shape of every other random identifier parley makes (request
// IDs, auth tokens, idempotency tokens).
func NewSID(prefix string) string {
	var b [16]byte
	// crypto/rand.Read never fails on supported platforms (Go 1.24+ panics
	// inside it rather than return an error).
	rand.Read(b[:])
	return sidOf(prefix, b)
}

// sidOf is prefix followed by b in lowercase hex.
func sidOf(prefix string, b [16]byte) string {
	out := make([]byte, len(prefix)+hex.EncodedLen(len(b)))
	copy(out, prefix)
	hex.Encode(out[len(prefix):], b[:])
	return string(out)
}
