package twilsock

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// packet builds a packet by hand, as the JS client does.
func packet(header, payload string) []byte {
	return []byte(fmt.Sprintf("TWILSOCK V3.0 %d\r\n%s\r\n%s", len(header), header, payload))
}

// The init frame @twilio/conversations 2.7.0 sent to the prototype
// (client-sdk-protocol.md §3.3), token shortened.
const initHeader = `{"id":"TMc4d0","method":"init","token":"eyJ.x.y","continuation_token":null,` +
	`"metadata":{"ver":"0.14.0","env":"Node.js","type":"conversations","sdk":"JS","sdkv":"2.7.0"},` +
	`"registrations":[{"product":"ip_messaging","type":"ers","notification_protocol_version":0,` +
	`"message_types":["twilio.ipmsg.typing_indicator","twilio.sync.event"]}],` +
	`"tweaks":null,"capabilities":["client_update","offline_storage","telemetry.v1"],"payload_size":0}`

func TestDecode(t *testing.T) {
	msgHeader := `{"id":"TM2d9e","method":"message","active_grant":"ip_messaging","payload_type":"application/json; charset=utf-8",` +
		`"http_request":{"host":"aim.parley.local","path":"/Client/v2/Services/IS1/Conversations/CH1/Messages","method":"POST",` +
		`"params":{"a":"1","b":["2","3"]},"headers":{"Content-Type":"application/json; charset=utf-8"}},"payload_size":38}`
	body := `{"body":"hello bob","attributes":"{}"}`
	f, err := Decode(packet(initHeader, ""))
	if err != nil {
		t.Fatal(err)
	}
	if f.Header.Method != "init" || f.Header.ID != "TMc4d0" || f.Header.Token != "eyJ.x.y" || f.Header.ContinuationToken != nil ||
		len(f.Header.Registrations) != 1 || !cmp.Equal(f.Header.Capabilities, []string{"client_update", "offline_storage", "telemetry.v1"}) ||
		len(f.Payload) != 0 {
		t.Fatalf("init: %+v", f)
	}
	f, err = Decode(packet(msgHeader, body))
	if err != nil {
		t.Fatal(err)
	}
	want := HTTPRequest{Host: "aim.parley.local", Path: "/Client/v2/Services/IS1/Conversations/CH1/Messages", Method: "POST",
		Params: map[string]any{"a": "1", "b": []any{"2", "3"}}, Headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}}
	if d := cmp.Diff(&want, f.Header.HTTPRequest); d != "" || string(f.Payload) != body || f.Header.ActiveGrant != "ip_messaging" {
		t.Fatalf("message: %s %q", d, f.Payload)
	}
	// A trailing CRLF after the payload (the Kotlin client sends one).
	if f, err := Decode(append(packet(msgHeader, body), "\r\n"...)); err != nil || string(f.Payload) != body {
		t.Fatalf("trailing CRLF: %v %q", err, f.Payload)
	}
	if _, err := Decode([]byte(strings.TrimSuffix(string(packet(initHeader, "")), "\r\n"))); err != nil {
		t.Fatalf("no CRLF after an empty payload: %v", err)
	}
	for name, b := range map[string][]byte{
		"empty":                  nil,
		"other magic":            []byte("TWILSOCK V2.0 2\r\n{}\r\n"),
		"no length":              []byte("TWILSOCK V3.0 \r\n{}\r\n"),
		"length not a number":    []byte("TWILSOCK V3.0 x1\r\n{}\r\n"),
		"length past the end":    []byte("TWILSOCK V3.0 999\r\n{\"method\":\"x\"}\r\n"),
		"huge length":            []byte("TWILSOCK V3.0 99999999\r\n{}"),
		"negative length":        []byte("TWILSOCK V3.0 -5\r\n{}\r\n"),
		"header not JSON":        packet("{nope", ""),
		"no method":              packet(`{"id":"x","payload_size":0}`, ""),
		"payload short":          packet(`{"method":"message","payload_size":10}`, "abc"),
		"payload size negative":  packet(`{"method":"message","payload_size":-1}`, ""),
		"payload size huge":      packet(`{"method":"message","payload_size":1073741824}`, ""),
		"bytes after payload":    packet(`{"method":"message","payload_size":3}`, "abcdef"),
		"no CRLF before payload": []byte("TWILSOCK V3.0 36\r\n{\"method\":\"message\",\"payload_size\":3}abc"),
	} {
		if _, err := Decode(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	f := Frame{Header: Header{Method: "reply", ID: "TM1", PayloadType: "application/json",
		Status: &Status{Code: 200, Status: "OK"}, HTTPStatus: &Status{Code: 201, Status: "Created"},
		HTTPHeaders: map[string]string{"content-type": "application/json"}}, Payload: []byte(`{"sid":"IM1","index":0}`)}
	b, err := Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("TWILSOCK V3.0 ")) || !bytes.HasSuffix(b, []byte("\r\n"+`{"sid":"IM1","index":0}`)) {
		t.Fatalf("encoded %q", b)
	}
	got, err := Decode(b)
	f.Header.PayloadSize = len(f.Payload)
	if err != nil || !cmp.Equal(got, f) {
		t.Fatalf("round trip: %v\n%s", err, cmp.Diff(f, got))
	}
}

// FuzzDecode: hostile bytes never panic, never read past the input, and
// what decodes encodes back to a packet that decodes the same.
func FuzzDecode(f *testing.F) {
	f.Add(packet(initHeader, ""))
	f.Add(packet(`{"method":"message","id":"TM1","payload_size":2}`, "{}"))
	f.Add([]byte("TWILSOCK V3.0 2\r\n{}\r\n"))
	f.Add([]byte("TWILSOCK V3.0 99999999\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%q: %v is not ErrMalformed", b, err)
			}
			return
		}
		if len(fr.Payload) > len(b) {
			t.Fatalf("payload of %d bytes from %d", len(fr.Payload), len(b))
		}
		again, err := Encode(fr)
		if err != nil {
			return // a header field json cannot re-encode (invalid UTF-8 is replaced, not refused)
		}
		fr2, err := Decode(again)
		if err != nil || !bytes.Equal(fr2.Payload, fr.Payload) || fr2.Header.Method != fr.Header.Method || fr2.Header.ID != fr.Header.ID {
			t.Fatalf("re-encoded %q: %v", again, err)
		}
	})
}
