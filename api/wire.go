package api

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/spec"
)

// The JSON encoder. Twilio's shapes are not written by hand: each response
// schema in the spec (internal/spec, generated from Twilio's OpenAPI file)
// gives the keys in order and the kind of each value, and each operation
// gives the templates of the item's url and links. A resource only says, in
// a fields table, how to read each key's value from its domain type; bind
// checks the table against the schema once, at start-up, and the encoder
// then walks the result with no reflection.

// getter reads one value of a T. Exactly one function is set, by the value's
// type; the constructors below (str, optStr, date, …) make them.
type getter[T any] struct {
	str     func(*T) string
	optStr  func(*T) *string
	date    func(*T) time.Time
	optDate func(*T) *time.Time
	integer func(*T) int64
	optInt  func(*T) *int64
	boolean func(*T) bool
	optBool func(*T) *bool
	strs    func(*T) []string
	json    func(*T) string
}

func str[T any](f func(*T) string) getter[T]         { return getter[T]{str: f} }
func optStr[T any](f func(*T) *string) getter[T]     { return getter[T]{optStr: f} }
func date[T any](f func(*T) time.Time) getter[T]     { return getter[T]{date: f} }
func optDate[T any](f func(*T) *time.Time) getter[T] { return getter[T]{optDate: f} }
func integer[T any](f func(*T) int64) getter[T]      { return getter[T]{integer: f} }
func optInt[T any](f func(*T) *int64) getter[T]      { return getter[T]{optInt: f} }
func boolean[T any](f func(*T) bool) getter[T]       { return getter[T]{boolean: f} }
func optBool[T any](f func(*T) *bool) getter[T]      { return getter[T]{optBool: f} }
func strs[T any](f func(*T) []string) getter[T]      { return getter[T]{strs: f} }
func rawJSON[T any](f func(*T) string) getter[T]     { return getter[T]{json: f} } // JSON text; "" is null
func (g getter[T]) fits(k spec.Kind) bool {
	switch k {
	case spec.KindString, spec.KindEnum, spec.KindURI:
		return g.str != nil || g.optStr != nil
	case spec.KindDateTime:
		return g.date != nil || g.optDate != nil
	case spec.KindInteger:
		return g.integer != nil || g.optInt != nil
	case spec.KindBoolean:
		return g.boolean != nil || g.optBool != nil
	case spec.KindStringArray:
		return g.strs != nil
	case spec.KindJSON:
		return g.json != nil
	}
	return false
}

// fields is a resource's wire binding: for each key of its schemas, how to
// read the value. account_sid, url and links are filled in by bind, from
// the server and from the operation's templates.
type fields[T any] map[string]getter[T]

// encoder writes one schema's JSON for one operation.
type encoder[T any] struct {
	parts []part[T]
}

// part is one key of the object: its `"key":` (with the comma before it)
// and where its value comes from.
type part[T any] struct {
	key     []byte
	get     getter[T]
	account bool          // the account SID
	url     []segment[T]  // the item's url template, when set
	links   []linkPart[T] // the links object, when set
}

// segment is a piece of a url template: literal text, or a value of the
// item.
type segment[T any] struct {
	text  string
	value func(*T) string
}

type linkPart[T any] struct {
	key []byte // `"key":`, with the comma before it
	url []segment[T]
}

// bindSchema checks f against schema and returns its encoder, with self
// as the url template and links as the links templates. A key without a
// getter, a getter of the wrong kind, or a template naming a value that is
// not a string is a programming error, reported at start-up.
func bindSchema[T any](what string, schema *spec.Schema, self string, links []spec.Link, f fields[T]) *encoder[T] {
	e := &encoder[T]{}
	for i, p := range schema.Properties {
		pt := part[T]{key: keyPrefix(i, p.Key)}
		switch {
		case p.Key == "account_sid" && f[p.Key].str == nil:
			pt.account = true
		case p.Key == "url" && p.Kind == spec.KindURI && self != "":
			pt.url = compileTemplate(what, self, f)
		case p.Kind == spec.KindURIMap:
			for j, l := range links {
				pt.links = append(pt.links, linkPart[T]{key: keyPrefix(j, l.Key), url: compileTemplate(what, l.Template, f)})
			}
		default:
			g, ok := f[p.Key]
			if !ok {
				panic(fmt.Sprintf("api: %s: no value for %q of schema %s", what, p.Key, schema.Name))
			}
			if !g.fits(p.Kind) {
				panic(fmt.Sprintf("api: %s: the value for %q does not fit its kind %s", what, p.Key, p.Kind))
			}
			pt.get = g
		}
		e.parts = append(e.parts, pt)
	}
	return e
}

// keyPrefix is `{"key":` for the first key of an object and `,"key":` for
// the others.
func keyPrefix(i int, key string) []byte {
	sep := ","
	if i == 0 {
		sep = "{"
	}
	return []byte(sep + strconv.Quote(key) + ":")
}

// compileTemplate splits a url template into text and the string values
// its {placeholders} name.
func compileTemplate[T any](what, tmpl string, f fields[T]) []segment[T] {
	var out []segment[T]
	for tmpl != "" {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			out = append(out, segment[T]{text: tmpl})
			break
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			panic(fmt.Sprintf("api: %s: unterminated placeholder in %q", what, tmpl))
		}
		if i > 0 {
			out = append(out, segment[T]{text: tmpl[:i]})
		}
		name := tmpl[i+1 : i+j]
		g := f[name]
		if g.str == nil {
			panic(fmt.Sprintf("api: %s: template %q needs a string value for %q", what, tmpl, name))
		}
		out = append(out, segment[T]{value: g.str})
		tmpl = tmpl[i+j+1:]
	}
	return out
}

// wireContext is what every item of a response shares: the base of its
// absolute URLs and the account SID.
type wireContext struct {
	base    string
	account string
}

// append writes v's JSON object.
func (e *encoder[T]) append(b []byte, c *wireContext, v *T) []byte {
	for i := range e.parts {
		p := &e.parts[i]
		b = append(b, p.key...)
		switch {
		case p.account:
			b = appendString(b, c.account)
		case p.url != nil:
			b = appendURL(b, c.base, p.url, v)
		case p.links != nil:
			for _, l := range p.links {
				b = append(b, l.key...)
				b = appendURL(b, c.base, l.url, v)
			}
			b = append(b, '}')
		default:
			b = p.get.append(b, v)
		}
	}
	return append(b, '}')
}

// appendURL writes base plus the expanded template as a JSON string. The
// values are SIDs, which need no escaping; anything else is path-escaped so
// that it cannot add a segment.
func appendURL[T any](b []byte, base string, tmpl []segment[T], v *T) []byte {
	b = append(b, '"')
	b = appendJSONText(b, base)
	for _, s := range tmpl {
		if s.value == nil {
			b = append(b, s.text...)
		} else {
			b = appendPathEscaped(b, s.value(v))
		}
	}
	return append(b, '"')
}

func (g *getter[T]) append(b []byte, v *T) []byte {
	switch {
	case g.str != nil:
		return appendString(b, g.str(v))
	case g.optStr != nil:
		if s := g.optStr(v); s != nil {
			return appendString(b, *s)
		}
	case g.date != nil:
		return appendDate(b, g.date(v))
	case g.optDate != nil:
		if t := g.optDate(v); t != nil {
			return appendDate(b, *t)
		}
	case g.integer != nil:
		return strconv.AppendInt(b, g.integer(v), 10)
	case g.optInt != nil:
		if n := g.optInt(v); n != nil {
			return strconv.AppendInt(b, *n, 10)
		}
	case g.boolean != nil:
		return strconv.AppendBool(b, g.boolean(v))
	case g.optBool != nil:
		if x := g.optBool(v); x != nil {
			return strconv.AppendBool(b, *x)
		}
	case g.strs != nil:
		list := g.strs(v)
		if list == nil {
			break
		}
		b = append(b, '[')
		for i, s := range list {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']')
	case g.json != nil:
		if s := g.json(v); s != "" {
			return append(b, s...)
		}
	}
	return append(b, "null"...)
}

// appendDate writes Twilio's date: RFC 3339, UTC, second precision.
func appendDate(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

// appendPathEscaped appends s escaped as one URL path segment, inside a
// JSON string.
func appendPathEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			continue
		}
		return appendJSONText(b, url.PathEscape(s))
	}
	return append(b, s...)
}

// marshal is the JSON text of a value parley builds for a JSON field
// (strings, numbers, slices of them), which always marshals.
func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("api: marshal: " + err.Error())
	}
	return string(b)
}
