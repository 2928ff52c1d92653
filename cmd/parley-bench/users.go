package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
)

// sidLen is the length of a Twilio SID: two letters and 32 hex digits.
const sidLen = 34

// pool is the set of users parley-bench has created, by index. User i's
// identity is a pure function of i (and the run's nonce), so only SIDs are
// stored: 34 bytes a user, 34 MB for a million.
type pool struct {
	nonce string       // keeps identities unique when --target already holds users
	next  atomic.Int64 // the next index to create
	mu    sync.Mutex   // guards sids and known against concurrent recording
	sids  [][sidLen]byte
	known int // non-zero entries of sids
}

// created is a user whose create was acknowledged.
type created struct {
	idx int
	sid [sidLen]byte
}

func newPool() *pool {
	var b [3]byte
	rand.Read(b[:])
	return &pool{nonce: hex.EncodeToString(b[:])}
}

// claim reserves the next index, or returns -1 once limit indexes have been
// claimed (limit < 0: no limit).
func (p *pool) claim(limit int) int {
	for {
		cur := p.next.Load()
		if limit >= 0 && cur >= int64(limit) {
			return -1
		}
		if p.next.CompareAndSwap(cur, cur+1) {
			return int(cur)
		}
	}
}

// record stores acknowledged creates. It runs between measurements, never
// while workers pick random users.
func (p *pool) record(batch []created) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range batch {
		for c.idx >= len(p.sids) {
			p.sids = append(p.sids, [sidLen]byte{})
		}
		if p.sids[c.idx] == ([sidLen]byte{}) {
			p.known++
		}
		p.sids[c.idx] = c.sid
	}
}

// size is how many users are known to exist.
func (p *pool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.known
}

// random picks a user known to exist, uniformly.
func (p *pool) random(rng *mrand.Rand) (idx int, sid string) {
	for {
		i := rng.IntN(len(p.sids))
		if p.sids[i] != ([sidLen]byte{}) {
			return i, string(p.sids[i][:])
		}
	}
}

// identity is user i's identity. Half of them are email addresses, so that
// fetch by identity exercises '@' in the path as real applications do.
func (p *pool) identity(i int) string {
	switch i % 4 {
	case 0:
		return fmt.Sprintf("%s.%s%d@example.com", firstNames[i%len(firstNames)], p.nonce, i)
	case 1:
		return fmt.Sprintf("agent-%s-%07d", p.nonce, i)
	case 2:
		return fmt.Sprintf("customer.%d@%s.example.org", i, p.nonce)
	default:
		return fmt.Sprintf("%s_%s_%d", lastNames[i%len(lastNames)], p.nonce, i)
	}
}

var (
	firstNames = []string{"ada", "grace", "alan", "edsger", "barbara", "donald", "frances", "ken", "margaret", "niklaus", "radia", "tim"}
	lastNames  = []string{"lovelace", "hopper", "turing", "dijkstra", "liskov", "knuth", "allen", "thompson", "hamilton", "wirth", "perlman", "berners-lee"}
	plans      = []string{"free", "pro", "business", "enterprise"}
	locales    = []string{"en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "pt-BR", "es-MX"}
)

// friendlyName is a display name; variant makes updates change it.
func friendlyName(i, variant int) string {
	f := firstNames[(i+variant)%len(firstNames)]
	l := lastNames[(i/len(firstNames)+variant)%len(lastNames)]
	return strings.ToUpper(f[:1]) + f[1:] + " " + strings.ToUpper(l[:1]) + l[1:]
}

// attributes is about 100 bytes of the JSON applications keep on a user.
func attributes(i, variant int) string {
	return fmt.Sprintf(`{"plan":%q,"locale":%q,"team":"support-%02d","avatar":"https://cdn.example.com/u/%08x.png","score":%d}`,
		plans[(i+variant)%len(plans)], locales[(i+variant)%len(locales)], (i+variant)%23, i, (i*7+variant)%1000)
}

// extractSID finds the user SID in a user body without decoding it all:
// the first "sid" key (account_sid and the others end in _sid"), whose
// value is exactly a US SID.
func extractSID(body []byte) ([sidLen]byte, bool) {
	var sid [sidLen]byte
	const key = `"sid":"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return sid, false
	}
	v := body[i+len(key):]
	if len(v) <= sidLen || v[sidLen] != '"' || v[0] != 'U' || v[1] != 'S' {
		return sid, false
	}
	copy(sid[:], v[:sidLen])
	return sid, true
}
