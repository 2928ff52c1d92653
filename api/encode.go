package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// writeJSON writes v as the response body. HTML escaping is off so that
// "<", ">" and "&" in attributes come back as sent, as Twilio returns them.
func writeJSON(w http.ResponseWriter, status int, v any) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	*bp = appendValue((*bp)[:0], v)
	writeRaw(w, status, *bp)
}

// appendValue appends v encoded by encoding/json, without HTML escaping and
// without the encoder's trailing newline.
func appendValue(b []byte, v any) []byte {
	buf := bytes.NewBuffer(b)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only unsupported types fail here: a programming error.
		panic("api: encoding " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// The header values every JSON response carries, allocated once.
var (
	jsonContentType = []string{"application/json"}
)

// writeRaw writes an encoded JSON body with its headers.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}

// noContent answers a delete: 204 with an empty body, the only status
// twilio-cli counts as success.
func noContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}

// appendString appends s as a JSON string the way encoding/json writes it
// with HTML escaping off: quotes, backslashes and control characters
// escaped, U+2028 and U+2029 as \u2028 and \u2029, invalid UTF-8 as
// U+FFFD, everything else as is.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONText(b, s)
	return append(b, '"')
}

// appendJSONText appends s escaped for the inside of a JSON string.
func appendJSONText(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
