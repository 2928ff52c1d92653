// Package twilsock speaks the WebSocket protocol of Twilio's client SDKs
// (twilsock, as @twilio/conversations 2.7 and 3.x use it; see
// ../shared/reference/client-sdk-protocol.md §3): the packet framing, and
// a server that signs clients in with access tokens, keeps them alive,
// hands their tunnelled HTTP requests to an upstream, pushes notifications
// to them, and closes them when their token expires or the node stops.
package twilsock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// A packet is
//
//	"TWILSOCK V3.0 " <header length> "\r\n" <header JSON> "\r\n" <payload>
//
// with lengths in bytes and the payload's in the header's payload_size
// (twilsock@0.14.0 src/parser.ts).
const magic = "TWILSOCK V3.0 "

// Limits of a packet parley accepts: the client's headers are a few
// hundred bytes (a token is the largest part); payloads are tunnelled
// request bodies (a message of at most 32 KiB of text, JSON-escaped).
const (
	MaxHeader  = 64 << 10
	MaxPayload = 1 << 20
	MaxFrame   = len(magic) + 8 + 2 + MaxHeader + 2 + MaxPayload + 2
)

// Frame is one packet: its header and its payload bytes.
type Frame struct {
	Header  Header
	Payload []byte
}

// Header holds the fields of a packet header, in both directions. Fields
// a method does not use stay empty and are left out.
type Header struct {
	Method      string `json:"method"`
	ID          string `json:"id,omitempty"`
	PayloadSize int    `json:"payload_size"`
	PayloadType string `json:"payload_type,omitempty"`

	// init and update (client)
	Token             string            `json:"token,omitempty"`
	ContinuationToken *string           `json:"continuation_token,omitempty"`
	Capabilities      []string          `json:"capabilities,omitempty"`
	Registrations     []json.RawMessage `json:"registrations,omitempty"`

	// message (client): a tunnelled HTTP request
	ActiveGrant string       `json:"active_grant,omitempty"`
	HTTPRequest *HTTPRequest `json:"http_request,omitempty"`

	// reply (server): the transport's status, and for a tunnelled
	// request the HTTP answer's
	Status      *Status           `json:"status,omitempty"`
	HTTPStatus  *Status           `json:"http_status,omitempty"`
	HTTPHeaders map[string]string `json:"http_headers,omitempty"`
	// init's reply
	ContinuationTokenStatus *TokenStatus      `json:"continuation_token_status,omitempty"`
	InitRegistrations       []json.RawMessage `json:"init_registrations,omitempty"`

	// notification and client_update (server)
	MessageType       string `json:"message_type,omitempty"`
	NotificationCtxID string `json:"notification_ctx_id,omitempty"`
	ClientUpdateType  string `json:"client_update_type,omitempty"`
}

// HTTPRequest is a request the client tunnels through the socket: its
// host is a name the client was given and means nothing to parley.
type HTTPRequest struct {
	Host    string            `json:"host"`
	Path    string            `json:"path"`
	Method  string            `json:"method"`
	Params  map[string]any    `json:"params,omitempty"` // values not URL-decoded; a repeated key is an array
	Headers map[string]string `json:"headers,omitempty"`
}

// Status is a status line: code, reason, and for errors Twilio's code.
type Status struct {
	Code        int    `json:"code"`
	Status      string `json:"status"`
	Description string `json:"description,omitempty"`
	ErrorCode   int    `json:"errorCode,omitempty"`
}

// TokenStatus says why a continuation token was issued anew.
type TokenStatus struct {
	Reissued      bool   `json:"reissued"`
	ReissueReason string `json:"reissue_reason,omitempty"`
	ReissueMsg    string `json:"reissue_message,omitempty"`
}

// ErrMalformed is what Decode returns for bytes that are not a packet.
var ErrMalformed = errors.New("twilsock: malformed packet")

// Decode reads one packet. It never allocates more than the packet's own
// size: lengths are checked against the bytes present before use.
func Decode(b []byte) (Frame, error) {
	if len(b) > MaxFrame || !bytes.HasPrefix(b, []byte(magic)) {
		return Frame{}, fmt.Errorf("%w: no TWILSOCK V3.0 magic, or over %d bytes", ErrMalformed, MaxFrame)
	}
	rest := b[len(magic):]
	end := bytes.Index(rest, []byte("\r\n"))
	if end < 1 || end > 8 {
		return Frame{}, fmt.Errorf("%w: no header length", ErrMalformed)
	}
	n, err := strconv.Atoi(string(rest[:end]))
	if err != nil || n < 2 || n > MaxHeader || n > len(rest)-end-2 {
		return Frame{}, fmt.Errorf("%w: header length %q", ErrMalformed, rest[:end])
	}
	rest = rest[end+2:]
	var f Frame
	if err := json.Unmarshal(rest[:n], &f.Header); err != nil {
		return Frame{}, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	rest = rest[n:]
	size := f.Header.PayloadSize
	switch {
	case f.Header.Method == "":
		return Frame{}, fmt.Errorf("%w: no method", ErrMalformed)
	case size < 0 || size > MaxPayload:
		return Frame{}, fmt.Errorf("%w: payload_size %d", ErrMalformed, size)
	case size == 0 && (len(rest) == 0 || bytes.Equal(rest, []byte("\r\n"))):
		return f, nil
	case !bytes.HasPrefix(rest, []byte("\r\n")) || len(rest)-2 < size:
		return Frame{}, fmt.Errorf("%w: payload shorter than payload_size %d", ErrMalformed, size)
	}
	rest = rest[2:]
	if tail := rest[size:]; len(tail) != 0 && !bytes.Equal(tail, []byte("\r\n")) {
		return Frame{}, fmt.Errorf("%w: %d bytes after the payload", ErrMalformed, len(tail))
	}
	f.Payload = rest[:size:size]
	return f, nil
}

// Encode writes a packet, with payload_size set from the payload.
func Encode(f Frame) ([]byte, error) {
	f.Header.PayloadSize = len(f.Payload)
	h, err := json.Marshal(f.Header)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(magic)+8+len(h)+4+len(f.Payload))
	out = append(out, magic...)
	out = strconv.AppendInt(out, int64(len(h)), 10)
	out = append(out, "\r\n"...)
	out = append(out, h...)
	out = append(out, "\r\n"...)
	return append(out, f.Payload...), nil
}
