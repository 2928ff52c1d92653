package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// form is a request's parameters: the form-encoded body of a POST, or the
// query string of a GET or DELETE. It is the one place that decides how
// absent, empty, repeated and malformed parameters are treated.
type form struct{ v url.Values }

// readForm decodes and checks a request's parameters. Every key and value
// must be valid UTF-8 without NUL characters (PostgreSQL cannot store NUL in
// text, and both backends must accept the same input). Bodies over the cap
// are refused with 413, other content types than a form with 400.
func (s *Server) readForm(r *http.Request) (form, error) {
	raw := r.URL.RawQuery
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(r.Body, s.maxBody+1))
		if err != nil {
			return form{}, parley.InvalidParam("Could not read the request body")
		}
		if int64(len(body)) > s.maxBody {
			return form{}, parley.Errorf(parley.KindTooLarge, 20001,
				"Request body too large: the limit is %d bytes", s.maxBody)
		}
		if len(body) > 0 {
			if ct := r.Header.Get("Content-Type"); ct != "" {
				mt, _, err := mime.ParseMediaType(ct)
				if err != nil || mt != "application/x-www-form-urlencoded" {
					return form{}, parley.InvalidParam(
						"Unsupported Content-Type %q: send parameters as application/x-www-form-urlencoded", ct)
				}
			}
		}
		raw = string(body)
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return form{}, parley.InvalidParam("Malformed form parameters: %s", parseErrorText(err))
	}
	for key, values := range v {
		if !cleanText(key) {
			return form{}, parley.InvalidParam("Parameter names must be UTF-8 text without NUL characters")
		}
		for _, value := range values {
			if !cleanText(value) {
				return form{}, parley.InvalidParam("Invalid %s: must be UTF-8 text without NUL characters", key)
			}
		}
	}
	return form{v: v}, nil
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

// str returns a scalar parameter: nil when absent, an error when given more
// than once (rather than silently picking one).
func (f form) str(name string) (*string, error) {
	vs, ok := f.v[name]
	if !ok {
		return nil, nil
	}
	if len(vs) > 1 {
		return nil, parley.InvalidParam("Parameter %s was given more than once", name)
	}
	return &vs[0], nil
}

// list returns a repeated parameter (Permission=a&Permission=b); nil when
// absent.
func (f form) list(name string) []string {
	return f.v[name]
}

// boolean returns a true/false parameter; nil when absent.
func (f form) boolean(name string) (*bool, error) {
	s, err := f.str(name)
	if s == nil || err != nil {
		return nil, err
	}
	switch strings.ToLower(*s) {
	case "true":
		b := true
		return &b, nil
	case "false":
		b := false
		return &b, nil
	}
	return nil, parley.InvalidParam("Invalid %s: must be true or false", name)
}

// firstErr returns the first non-nil error, so handlers can decode several
// parameters and check once.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
