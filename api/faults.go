package api

import (
	"math"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/spec"
)

// Injected faults (emulator mode, POST /parley/v1/Faults): rules that make
// matching requests answer as an overloaded or failing Twilio would (a
// status with its Twilio code, 429 with Retry-After), or answer late, so
// that a test suite sees how its app copes. They live in the process, like
// the clock, and apply to Twilio's API and the media host, never to
// /parley/ itself (a suite must always be able to clear them).

// maxFaults bounds the rules, which every request is matched against.
const maxFaults = 100

// faultRule is one rule. Matched counts the requests it matched, Hits
// those it answered for.
type faultRule struct {
	Sid         string
	Method      string // "" for any
	Path        string // path.Match pattern: * is one segment
	Status      int    // 0: only the delay
	Code        int
	Message     string
	RetryAfter  int64 // seconds; 0: no header
	Delay       time.Duration
	Count       int64   // injections at most; 0: no limit
	Fraction    float64 // of the matching requests, spread evenly
	Matched     int64
	Hits        int64
	DateCreated time.Time
}

// faults holds the rules in creation order.
type faults struct {
	mu    sync.Mutex
	rules []*faultRule
}

// inject finds the first rule that matches and still has injections
// left, and returns a copy of it once counted, or false. With Fraction f,
// the n-th matching request is answered for when ⌊n·f⌋ grows: exactly f
// of them, evenly, and the same ones on every run.
func (fs *faults) inject(method, p string) (faultRule, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, r := range fs.rules {
		if r.Count > 0 && r.Hits >= r.Count {
			continue
		}
		if r.Method != "" && !strings.EqualFold(r.Method, method) {
			continue
		}
		if ok, _ := path.Match(r.Path, p); !ok {
			continue
		}
		r.Matched++
		if math.Floor(float64(r.Matched)*r.Fraction) == math.Floor(float64(r.Matched-1)*r.Fraction) {
			return faultRule{}, false
		}
		r.Hits++
		return *r, true
	}
	return faultRule{}, false
}

func (fs *faults) add(r *faultRule) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.rules) >= maxFaults {
		return parley.InvalidParam("At most %d fault rules: DELETE /parley/v1/Faults clears them", maxFaults)
	}
	fs.rules = append(fs.rules, r)
	return nil
}

func (fs *faults) list() []faultRule {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]faultRule, len(fs.rules))
	for i, r := range fs.rules {
		out[i] = *r
	}
	return out
}

func (fs *faults) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = nil
}

// injectFault answers r as a matching rule says, after its delay; it
// reports whether it answered (the request then goes no further).
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request) bool {
	if s.faults == nil || strings.HasPrefix(r.URL.Path, "/parley/") {
		return false
	}
	rule, ok := s.faults.inject(r.Method, r.URL.Path)
	if !ok {
		return false
	}
	if rule.Delay > 0 {
		t := time.NewTimer(rule.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	if rule.Status == 0 {
		return false
	}
	if rule.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(rule.RetryAfter, 10))
	}
	writeJSON(w, rule.Status, parley.ErrorBody{Code: rule.Code, Message: rule.Message, Status: rule.Status,
		MoreInfo: parley.MoreInfo(rule.Code)})
	return true
}

// faultDefaults are the code and message of a status given alone: Twilio's
// own for the answers a test most wants (too many requests, unavailable).
var faultDefaults = map[int]struct {
	code    int
	message string
}{
	429: {20429, "Too Many Requests"},
	500: {20500, "Internal server error"},
	503: {20503, "Service unavailable"},
}

var faultSchema = spec.Schema{Name: "parley.v1.fault", Properties: []spec.Property{
	{Key: "sid", Kind: spec.KindString},
	{Key: "method", Kind: spec.KindString, Nullable: true},
	{Key: "path", Kind: spec.KindString},
	{Key: "status", Kind: spec.KindInteger, Nullable: true},
	{Key: "code", Kind: spec.KindInteger, Nullable: true},
	{Key: "message", Kind: spec.KindString, Nullable: true},
	{Key: "retry_after", Kind: spec.KindInteger, Nullable: true},
	{Key: "delay_ms", Kind: spec.KindInteger},
	{Key: "count", Kind: spec.KindInteger, Nullable: true},
	{Key: "fraction", Kind: spec.KindString},
	{Key: "matched", Kind: spec.KindInteger},
	{Key: "hits", Kind: spec.KindInteger},
	{Key: "date_created", Kind: spec.KindDateTime},
}}

var faultOps = []*spec.Operation{
	{ID: "CreateFault", Method: "POST", Path: "/parley/v1/Faults", PathType: "list", Status: 201, Schema: faultSchema.Name,
		Params: []spec.Param{
			{Name: "Path", In: spec.InForm, Type: spec.TypeString, Required: true},
			{Name: "Method", In: spec.InForm, Type: spec.TypeEnum, Enum: []string{"GET", "POST", "DELETE"}},
			{Name: "Status", In: spec.InForm, Type: spec.TypeInteger, HasMin: true, Min: 400, HasMax: true, Max: 599},
			{Name: "Code", In: spec.InForm, Type: spec.TypeInteger, HasMin: true, Min: 1},
			{Name: "Message", In: spec.InForm, Type: spec.TypeString},
			{Name: "RetryAfter", In: spec.InForm, Type: spec.TypeInteger, HasMin: true, Min: 1, HasMax: true, Max: 86400},
			{Name: "Delay", In: spec.InForm, Type: spec.TypeString},
			{Name: "Count", In: spec.InForm, Type: spec.TypeInteger, HasMin: true, Min: 1},
			{Name: "Fraction", In: spec.InForm, Type: spec.TypeString},
		}},
	{ID: "ListFault", Method: "GET", Path: "/parley/v1/Faults", PathType: "list", Status: 200, Schema: faultSchema.Name,
		ListKey: "faults", Params: []spec.Param{
			{Name: "PageSize", In: spec.InQuery, Type: spec.TypeInteger, HasMin: true, Min: 1, HasMax: true, Max: 100},
			{Name: "Page", In: spec.InQuery, Type: spec.TypeInteger, HasMin: true, Min: 0},
			{Name: "PageToken", In: spec.InQuery, Type: spec.TypeString},
		}},
	{ID: "DeleteFaults", Method: "DELETE", Path: "/parley/v1/Faults", PathType: "list", Status: 204},
}

// nonZero is v, or nil (JSON null) when it is its type's zero: a rule's
// field that was not given.
func nonZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

var faultFields = fields[faultRule]{
	"sid":          str(func(r *faultRule) string { return r.Sid }),
	"method":       optStr(func(r *faultRule) *string { return nonZero(r.Method) }),
	"path":         str(func(r *faultRule) string { return r.Path }),
	"status":       optInt(func(r *faultRule) *int64 { return nonZero(int64(r.Status)) }),
	"code":         optInt(func(r *faultRule) *int64 { return nonZero(int64(r.Code)) }),
	"message":      optStr(func(r *faultRule) *string { return nonZero(r.Message) }),
	"retry_after":  optInt(func(r *faultRule) *int64 { return nonZero(r.RetryAfter) }),
	"delay_ms":     integer(func(r *faultRule) int64 { return r.Delay.Milliseconds() }),
	"count":        optInt(func(r *faultRule) *int64 { return nonZero(r.Count) }),
	"fraction":     str(func(r *faultRule) string { return strconv.FormatFloat(r.Fraction, 'f', -1, 64) }),
	"matched":      integer(func(r *faultRule) int64 { return r.Matched }),
	"hits":         integer(func(r *faultRule) int64 { return r.Hits }),
	"date_created": date(func(r *faultRule) time.Time { return r.DateCreated }),
}

// pageOf is one page of a list held in memory, in its order, with each
// item's position (from 1) as its cursor: the rules are only appended to
// or cleared, so a position names the same rule while the pages are read.
func pageOf[T any](items []T, q parley.PageQuery) parley.Page[T] {
	start, end := min(int(q.After), len(items)), len(items)
	if q.Before > 0 {
		end = min(int(q.Before)-1, len(items))
		start = max(0, end-q.Size)
	}
	end = min(end, start+q.Size)
	p := parley.Page[T]{Items: items[start:end], HasPrev: start > 0, HasNext: end < len(items)}
	if start < end {
		p.FirstSeq, p.LastSeq = int64(start+1), int64(end)
	}
	return p
}

// faultRoutes mounts the fault controls (emulator mode).
func (s *Server) faultRoutes() {
	item(s, faultFields, s.createFault, "CreateFault")
	list(s, faultFields, func(q *req) lister[faultRule] {
		return func(pq parley.PageQuery) (parley.Page[faultRule], error) {
			return pageOf(s.faults.list(), pq), nil
		}
	}, "ListFault")
	remove(s, func(q *req) call[struct{}] {
		return func() (struct{}, error) { s.faults.clear(); return struct{}{}, nil }
	}, "DeleteFaults")
}

// createFault reads a rule: a Path pattern that parses, and a Status, a
// Delay or both.
func (s *Server) createFault(q *req) call[faultRule] {
	r := &faultRule{Sid: parley.NewSID("FR"), Fraction: 1, DateCreated: s.app.Now().UTC().Truncate(time.Second)}
	pattern := q.str("Path")
	if pattern != nil {
		r.Path = *pattern
	}
	if m := q.enum("Method"); m != nil {
		r.Method = *m
	}
	if v := q.integer("Status"); v != nil {
		r.Status = int(*v)
		r.Code, r.Message = faultDefaults[r.Status].code, faultDefaults[r.Status].message
	}
	if v := q.integer("Code"); v != nil {
		r.Code = int(*v)
	}
	if v := q.str("Message"); v != nil {
		r.Message = *v
	}
	if v := q.integer("RetryAfter"); v != nil {
		r.RetryAfter = *v
	}
	if v := q.integer("Count"); v != nil {
		r.Count = *v
	}
	delay, fraction := q.str("Delay"), q.str("Fraction")
	return func() (faultRule, error) {
		if pattern == nil {
			return faultRule{}, parley.MissingParam("Path")
		}
		if _, err := path.Match(r.Path, "/"); err != nil || !strings.HasPrefix(r.Path, "/") {
			return faultRule{}, parley.InvalidParam("Invalid Path: %q is not a path pattern such as /v1/Conversations/*/Messages", r.Path)
		}
		if delay != nil {
			d, ok := parley.ParseDuration(*delay)
			if !ok || d > time.Minute {
				return faultRule{}, parley.InvalidParam("Invalid Delay: %q is not an ISO 8601 duration of at most a minute, such as PT2S", *delay)
			}
			r.Delay = d
		}
		if fraction != nil {
			f, err := strconv.ParseFloat(*fraction, 64)
			if err != nil || !(f > 0 && f <= 1) {
				return faultRule{}, parley.InvalidParam("Invalid Fraction: %q is not a number above 0 and at most 1", *fraction)
			}
			r.Fraction = f
		}
		switch {
		case r.Status == 0 && r.Delay == 0:
			return faultRule{}, parley.InvalidParam("Give a Status to answer with, a Delay, or both")
		case r.Status == 0 && (r.Code != 0 || r.Message != "" || r.RetryAfter != 0):
			return faultRule{}, parley.InvalidParam("Code, Message and RetryAfter go with a Status")
		case r.Status != 0 && r.Code == 0:
			return faultRule{}, parley.MissingParam("Code")
		case r.Status != 0 && r.Message == "":
			return faultRule{}, parley.MissingParam("Message")
		}
		if err := s.faults.add(r); err != nil {
			return faultRule{}, err
		}
		return *r, nil
	}
}
