// Package webhook sends parley's webhooks the way Twilio does: form-encoded
// parameters, signed with the account's auth token in X-Twilio-Signature,
// with an I-Twilio-Idempotency-Token per event. Post-event webhooks go
// through a durable outbox (see Dispatcher); pre-event webhooks are sent
// synchronously before a write and may veto it (see PreHook).
package webhook

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode/utf16"
)

// Signature computes Twilio's X-Twilio-Signature: base64 of the HMAC-SHA1,
// keyed with the auth token, of the full URL followed by each POST
// parameter's name and value, sorted by name. For a GET, params is empty
// and the parameters are part of the URL. (Twilio's "webhooks security"
// guide; twilio-go's client.RequestValidator is the oracle in the tests.)
//
// A name given several values is signed the way twilio-node's validator
// checks it (toFormUrlEncodedParam in its webhooks.js): each distinct value
// once, in JavaScript's default sort order (by UTF-16 code units), each
// appended as name+value. Twilio-go's validator takes one value per name,
// so it cannot judge repeats; the test in sdktest runs twilio-node's. Names
// stay in byte order, as Twilio's guide and twilio-go sort them (the same
// as JavaScript's for the ASCII names parameters have).
func Signature(authToken, fullURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := params[k]
		if len(vs) > 1 {
			vs = slices.Clone(vs)
			slices.SortFunc(vs, compareUTF16)
			vs = slices.Compact(vs)
		}
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// compareUTF16 orders strings as JavaScript's default sort does, by UTF-16
// code units. It differs from Go's byte order only between characters
// above U+FFFF (two surrogates, 0xD800…) and those from U+E000 to U+FFFF.
func compareUTF16(a, b string) int {
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

// Request is a webhook ready to send: where, how, what, and its signature.
type Request struct {
	Method    string // GET or POST
	URL       string // with the parameters in the query for GET
	Body      string // form-encoded parameters for POST
	Signature string
}

// Build lays a webhook out for sending: POST carries the parameters in the
// body, GET in the query string (appended to any query the configured URL
// already has), and the signature covers exactly what is sent.
func Build(authToken, method, target string, params url.Values) Request {
	if method == "GET" {
		full := target
		if enc := params.Encode(); enc != "" {
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			full += sep + enc
		}
		return Request{Method: "GET", URL: full, Signature: Signature(authToken, full, nil)}
	}
	return Request{Method: "POST", URL: target, Body: params.Encode(), Signature: Signature(authToken, target, params)}
}
