package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/spec"
)

// req is one request to one operation, decoded declaratively: handlers read
// each parameter through a typed accessor, and the spec's parameter table
// says what the parameter is (its type, enum values, bounds). The first
// problem found is kept in err and the accessors go on, so a handler reads
// every parameter and checks once; reading a parameter the spec does not
// list for the operation is a programming error (a panic the tests meet).
type req struct {
	ctx  context.Context
	r    *http.Request
	op   *spec.Operation
	form url.Values // the POST body, or the query of a GET or DELETE
	err  error
	// filter is the canonical form of the list filters read ("State=active"),
	// which page tokens are bound to and meta URLs echo.
	filter []string
	// read records the parameters read, for the test that every parameter
	// of every mounted operation is read (nil outside that test).
	read map[string]bool
}

// newReq decodes r's parameters for op. Bodies over the cap are refused with
// 413, other content types than a form with 400, and every key and value
// must be UTF-8 text without NUL (PostgreSQL cannot store NUL in text, and
// both backends must accept the same input).
func (s *Server) newReq(r *http.Request, op *spec.Operation) (*req, error) {
	q := s.bareReq(r, op)
	raw := r.URL.RawQuery
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(r.Body, s.maxBody+1))
		if err != nil {
			return q, parley.InvalidParam("Could not read the request body")
		}
		if int64(len(body)) > s.maxBody {
			return q, parley.Errorf(parley.KindTooLarge, 20001,
				"Request body too large: the limit is %d bytes", s.maxBody)
		}
		if len(body) > 0 {
			if ct := r.Header.Get("Content-Type"); ct != "" {
				mt, _, err := mime.ParseMediaType(ct)
				if err != nil || mt != "application/x-www-form-urlencoded" {
					return q, parley.InvalidParam(
						"Unsupported Content-Type %q: send parameters as application/x-www-form-urlencoded", ct)
				}
			}
		}
		raw = string(body)
	}
	return q, q.decodeForm(raw)
}

// queryReq decodes only the query of r, for operations whose body is not
// a form (a media upload, read by its handler as it streams).
func (s *Server) queryReq(r *http.Request, op *spec.Operation) (*req, error) {
	q := s.bareReq(r, op)
	return q, q.decodeForm(r.URL.RawQuery)
}

// bareReq is a request to op with nothing decoded yet.
func (s *Server) bareReq(r *http.Request, op *spec.Operation) *req {
	q := &req{ctx: r.Context(), r: r, op: op}
	if s.observe != nil {
		q.read = map[string]bool{}
	}
	return q
}

// decodeForm reads raw, a query or a form body, into q.form.
func (q *req) decodeForm(raw string) error {
	if raw == "" {
		return nil // nothing to decode (every fetch and delete): q.form stays nil
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return parley.InvalidParam("Malformed form parameters: %s", parseErrorText(err))
	}
	for key, values := range v {
		if !cleanText(key) {
			return parley.InvalidParam("Parameter names must be UTF-8 text without NUL characters")
		}
		for _, value := range values {
			if !cleanText(value) {
				return parley.InvalidParam("Invalid %s: must be UTF-8 text without NUL characters", key)
			}
		}
	}
	q.form = v
	return nil
}

func parseErrorText(err error) string {
	var esc url.EscapeError
	if errors.As(err, &esc) {
		return "invalid escape " + strconv.Quote(string(esc))
	}
	return "could not decode"
}

func cleanText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// fail keeps the first error.
func (q *req) fail(err error) {
	if q.err == nil {
		q.err = err
	}
}

// param returns the spec's description of the named parameter, checking
// that the handler reads it as a type the spec gives it.
func (q *req) param(name string, types ...spec.Type) *spec.Param {
	p := q.op.Param(name)
	if p == nil || !slices.Contains(types, p.Type) {
		panic("api: the handler of " + q.op.ID + " reads " + name + " as " + typeNames(types) +
			", which its spec entry does not allow")
	}
	if q.read != nil {
		q.read[name] = true
	}
	return p
}

// typeNames lists types for a message; written without fmt so that the
// variadic slice of param, on every request's path, stays on the stack.
func typeNames(types []spec.Type) string {
	var b strings.Builder
	for i, t := range types {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString(t.String())
	}
	return b.String()
}

// scalar returns a parameter given at most once: nil when absent, an error
// when given more than once (rather than silently picking one).
func (q *req) scalar(p *spec.Param) *string {
	vs, ok := q.form[p.Name]
	if !ok {
		return nil
	}
	if len(vs) > 1 {
		q.fail(parley.InvalidParam("Parameter %s was given more than once", p.Name))
		return nil
	}
	if p.In == spec.InQuery && !paging(p.Name) {
		q.canonical(p.Name, vs[0])
	}
	return &vs[0]
}

// paging reports whether a query parameter is one of the three every list
// takes; the others are filters.
func paging(name string) bool {
	return name == "PageSize" || name == "Page" || name == "PageToken"
}

// canonical records a list filter as page tokens and meta URLs carry it.
func (q *req) canonical(name, value string) {
	q.filter = append(q.filter, url.QueryEscape(name)+"="+url.QueryEscape(value))
}

// path returns a path segment of the operation, decoded once from the
// escaped path (ServeMux's wildcards), so %2F stays inside an identity.
func (q *req) path(name string) string {
	q.param(name, spec.TypeString)
	return q.r.PathValue(name)
}

// service is the Conversation Service the request addresses: its
// ChatServiceSid, or "" on shortened URLs, which act on the default
// service.
func (q *req) service() string {
	if q.op.Param("ChatServiceSid") == nil {
		return ""
	}
	return q.path("ChatServiceSid")
}

// str returns a string parameter as sent (also enums and date-times whose
// checks, with their own Twilio codes, are core's): nil when absent.
func (q *req) str(name string) *string {
	return q.scalar(q.param(name, spec.TypeString, spec.TypeURI, spec.TypeEnum, spec.TypeDateTime))
}

// text is str with absent read as "".
func (q *req) text(name string) string {
	if s := q.str(name); s != nil {
		return *s
	}
	return ""
}

// boolean returns a true/false parameter (any case); nil when absent.
func (q *req) boolean(name string) *bool {
	s := q.scalar(q.param(name, spec.TypeBoolean))
	if s == nil {
		return nil
	}
	switch strings.ToLower(*s) {
	case "true":
		b := true
		return &b
	case "false":
		b := false
		return &b
	}
	q.fail(parley.InvalidParam("Invalid %s: must be true or false", name))
	return nil
}

// integer returns an integer parameter within the spec's bounds; nil when
// absent.
func (q *req) integer(name string) *int64 {
	p := q.param(name, spec.TypeInteger)
	s := q.scalar(p)
	if s == nil {
		return nil
	}
	n, err := strconv.ParseInt(*s, 10, 64)
	if err != nil || (p.HasMin && n < p.Min) || (p.HasMax && n > p.Max) {
		q.fail(parley.InvalidParam("Invalid %s: must be an integer%s", name, bounds(p)))
		return nil
	}
	return &n
}

func bounds(p *spec.Param) string {
	switch {
	case p.HasMin && p.HasMax:
		return fmt.Sprintf(" from %d to %d", p.Min, p.Max)
	case p.HasMin:
		return fmt.Sprintf(" of at least %d", p.Min)
	case p.HasMax:
		return fmt.Sprintf(" of at most %d", p.Max)
	}
	return ""
}

// enum returns an enum parameter as the spec spells it, matched without
// regard to case (Twilio's own examples send whAtsAPP and DeSc); nil when
// absent.
func (q *req) enum(name string) *string {
	p := q.param(name, spec.TypeEnum)
	s := q.scalar(p)
	if s == nil {
		return nil
	}
	for _, v := range p.Enum {
		if strings.EqualFold(v, *s) {
			if p.In == spec.InQuery {
				q.filter[len(q.filter)-1] = url.QueryEscape(name) + "=" + url.QueryEscape(v)
			}
			return &v
		}
	}
	q.fail(parley.InvalidParam("Invalid %s: must be one of %s", name, strings.Join(p.Enum, ", ")))
	return nil
}

// dateTime returns an RFC 3339 date-time parameter, in UTC; nil when
// absent. twilio-go sends a numeric offset when the caller's time is not
// UTC, and twilio-node drops the fraction; both are accepted.
func (q *req) dateTime(name string) *time.Time {
	s := q.scalar(q.param(name, spec.TypeDateTime))
	if s == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		q.fail(parley.InvalidParam("Invalid %s: %q is not an ISO 8601 date-time such as 2019-12-16T22:18:37Z", name, *s))
		return nil
	}
	t = t.UTC()
	return &t
}

// duration returns an ISO 8601 duration parameter as sent ("PT10M"), once
// it parses; "" passes, where a parameter's empty value clears it. The
// limits of each timer, with their Twilio codes, are core's.
func (q *req) duration(name string) *string {
	s := q.scalar(q.param(name, spec.TypeString))
	if s != nil && *s != "" {
		if _, ok := parley.ParseDuration(*s); !ok {
			q.fail(parley.InvalidDuration(name, *s))
			return nil
		}
	}
	return s
}

// jsonText returns a parameter that must hold JSON text, as sent; nil when
// absent. (Attributes are not read this way: their Twilio codes, 50303 and
// 50304, are core's.)
func (q *req) jsonText(name string) *string {
	s := q.scalar(q.param(name, spec.TypeString))
	if s != nil && !json.Valid([]byte(*s)) {
		q.fail(parley.InvalidParam("Invalid %s: not valid JSON", name))
		return nil
	}
	return s
}

// list returns a repeated parameter (Permission=a&Permission=b); nil when
// absent.
func (q *req) list(name string) []string {
	p := q.param(name, spec.TypeStringArray, spec.TypeEnumArray)
	vs := q.form[name]
	if p.Type == spec.TypeEnumArray {
		for i, v := range vs {
			j := slices.IndexFunc(p.Enum, func(e string) bool { return strings.EqualFold(e, v) })
			if j < 0 {
				q.fail(parley.InvalidParam("Invalid %s: %q is not one of %s", name, v, strings.Join(p.Enum, ", ")))
				return nil
			}
			vs[i] = p.Enum[j]
		}
	}
	if p.In == spec.InQuery {
		for _, v := range vs {
			q.canonical(name, v)
		}
	}
	return vs
}

// webhooks reads X-Twilio-Webhook-Enabled. Only "true" (any case) turns
// webhooks on; anything else, as an absent header, leaves them off.
func (q *req) webhooks() core.WriteOptions {
	q.param("X-Twilio-Webhook-Enabled", spec.TypeEnum)
	return core.WriteOptions{Webhooks: strings.EqualFold(q.r.Header.Get("X-Twilio-Webhook-Enabled"), "true")}
}
