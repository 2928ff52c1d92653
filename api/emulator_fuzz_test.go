package api_test

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley/parleytest"
)

// FuzzEmulator sends arbitrary requests to emulator mode's controls, the
// fixture documents above all: whatever the path, content type and body,
// the answer is a success or Twilio's error body with a 4xx, never a 5xx.
//
//	go test ./api -run '^$' -fuzz FuzzEmulator -fuzztime 30s
func FuzzEmulator(f *testing.F) {
	srv := parleytest.New(f, parleytest.Emulator())
	const form, js = "application/x-www-form-urlencoded", "application/json"
	for _, seed := range [][4]string{
		{"POST", "/parley/v1/Import", js, `{"services":[{"friendly_name":"S","users":[{"identity":"a"}],"conversations":[{"unique_name":"c","participants":[{"identity":"a"},{"messaging_binding":{"address":"+1555"}}],"messages":[{"author":"a","body":"hi"},{"index":4}],"webhooks":[{"target":"webhook","url":"https://x.test/","filters":["onMessageAdded"]}]}],"roles":[{"friendly_name":"r","type":"service","permissions":["editOwnUserInfo"]}]}]}`},
		{"POST", "/parley/v1/Import", js, `{"configuration":{"default_inactive_timer":"PT1H","webhooks":{"method":"GET"}},"services":[{"friendly_name":"D","default":true,"notifications":{"new_message":{"enabled":true}}}]}`},
		{"POST", "/parley/v1/Import", js, `{"services":[{"sid":"IS00000000000000000000000000000001","friendly_name":"x","conversations":[{"sid":"CH00000000000000000000000000000001","state":"closed","timers":{"closed":"PT1H"},"last_message_index":3}]}]}`},
		{"POST", "/parley/v1/Import", js, `{"services":[{"friendly_name":"x","users":[{"identity":"u","role_sid":"service user","date_created":"2030-01-01T00:00:00Z"}]}]}`},
		{"POST", "/parley/v1/Import", form, "not json"},
		{"GET", "/parley/v1/Export", "", ""},
		{"GET", "/parley/v1/Export?ServiceSid=IS00000000000000000000000000000001", "", ""},
		{"POST", "/parley/v1/Clock", form, "Advance=PT1M"},
		{"POST", "/parley/v1/Clock", form, "Set=2031-01-01T00:00:00Z"},
		{"POST", "/parley/v1/Faults", form, "Path=/v1/Users/*&Status=429&Fraction=0.5&Count=3"},
		{"POST", "/parley/v1/Faults", form, "Path=/v1/*&Delay=PT0.001S"},
		{"DELETE", "/parley/v1/Faults", "", ""},
		{"GET", "/parley/v1/Faults", "", ""},
		{"POST", "/parley/v1/WebhookDeliveries/WD00000000000000000000000000000001/Retry", form, ""},
		{"DELETE", "/parley/v1/WebhookDeliveries", "", ""},
		{"GET", "/v1/Users", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	f.Fuzz(func(t *testing.T, method, path, ctype, body string) {
		if strings.Contains(path, "Reset") {
			return // a reset in every other input would leave nothing to reach
		}
		res, b, err := fuzzCall(srv, method, path, ctype, body)
		if err != nil {
			return // not a request a client could send
		}
		checkFuzzAnswer(t, method, path, ctype, body, res, b)
	})
}
