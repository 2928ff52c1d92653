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
	"sort"
	"strings"
)

// Signature computes Twilio's X-Twilio-Signature: base64 of the HMAC-SHA1,
// keyed with the auth token, of the full URL followed by each POST
// parameter's name and value, sorted by name. For a GET, params is empty
// and the parameters are part of the URL. (Twilio's "webhooks security"
// guide; twilio-go's client.RequestValidator is the oracle in the tests.)
func Signature(authToken, fullURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
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
