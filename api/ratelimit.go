package api

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/spec"
	"golang.org/x/time/rate"
)

// Twilio's write rates (--rate-limits twilio), so that an app's back-off
// can be tested against parley: 30 actions a second by default, counted
// per Service for user writes, role writes and conversation creates and
// deletes, and per Conversation for its updates and for the writes of
// its participants and of its messages (Twilio's limits page, in
// ../shared/reference/semantics-conversations.md §12). Bursts go to five
// times the rate, as Twilio documents for users
// (../shared/reference/semantics.md); parley applies the same burst to
// every bucket. Over the rate a write is 429 with 20429 and Retry-After,
// as Twilio answers, and does nothing.
const (
	twilioRate  = 30
	twilioBurst = 5 * twilioRate
)

// rateLimits holds one token bucket per scope, on the app's clock (a moved
// clock refills them).
type rateLimits struct {
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	made    int
}

// take spends a token of key's bucket, or says how long until one is
// there.
func (l *rateLimits) take(key string) (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if l.made++; l.made%4096 == 0 {
			l.sweep(now)
		}
		b = rate.NewLimiter(twilioRate, twilioBurst)
		l.buckets[key] = b
	}
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// sweep forgets full buckets, which a new one would equal: a server
// running for long touches many conversations once.
func (l *rateLimits) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= twilioBurst {
			delete(l.buckets, k)
		}
	}
}

// rateScopes names, per operation (its service-scoped twin's ID without
// "Service"), the bucket a write spends from: the scope's kind and the
// path parameter naming it.
var rateScopes = map[string][2]string{
	"CreateUser": {"users", "ChatServiceSid"}, "UpdateUser": {"users", "ChatServiceSid"},
	"DeleteUser": {"users", "ChatServiceSid"},
	"CreateRole": {"roles", "ChatServiceSid"}, "UpdateRole": {"roles", "ChatServiceSid"},
	"DeleteRole":         {"roles", "ChatServiceSid"},
	"CreateConversation": {"conversations", "ChatServiceSid"}, "DeleteConversation": {"conversations", "ChatServiceSid"},
	"CreateConversationWithParticipants": {"conversations", "ChatServiceSid"},
	"UpdateConversation":                 {"conversation", "Sid"},
	"CreateConversationParticipant":      {"participants", "ConversationSid"},
	"UpdateConversationParticipant":      {"participants", "ConversationSid"},
	"DeleteConversationParticipant":      {"participants", "ConversationSid"},
	"CreateConversationMessage":          {"messages", "ConversationSid"},
	"UpdateConversationMessage":          {"messages", "ConversationSid"},
	"DeleteConversationMessage":          {"messages", "ConversationSid"},
}

// rateScope is what op's writes are counted by (the bucket's kind and
// the path value naming it), or false for an operation Twilio does not
// limit; worked out once, when op is mounted. The default service is
// named "" (shortened URLs) or by its SID: two buckets for one service, a
// leniency parley accepts rather than read the account's configuration
// on every write.
func rateScope(op *spec.Operation) ([2]string, bool) {
	id := op.ID
	for _, verb := range []string{"Create", "Update", "Delete"} {
		if rest, ok := strings.CutPrefix(id, verb+"Service"); ok {
			id = verb + rest
		}
	}
	scope, ok := rateScopes[id]
	return scope, ok
}

// overRate answers a write over its rate (in scope) and reports whether
// it did.
func (s *Server) overRate(w http.ResponseWriter, r *http.Request, scope [2]string) bool {
	wait, ok := s.rates.take(scope[0] + ":" + r.PathValue(scope[1]))
	if ok {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	s.writeError(w, r, parley.Errorf(parley.KindTooManyRequests, 20429, "Too Many Requests"))
	return true
}
