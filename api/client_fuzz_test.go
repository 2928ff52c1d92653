package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/twilsock"
)

// FuzzClientRequests sends arbitrary requests through a signed-in client
// socket, as the client SDK tunnels them, to every route of the client
// API (clientapi) and its Sync objects: whatever the method, path,
// parameters and body, the answer is a reply on a socket that stays open,
// never a 5xx, and every error is Twilio's JSON body with its status.
//
//	go test ./api -run '^$' -fuzz FuzzClientRequests -fuzztime 30s
func FuzzClientRequests(f *testing.F) {
	srv := parleytest.New(f)
	rest := func(path, form string) string {
		f.Helper()
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(srv.AccountSid, srv.AuthToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			f.Fatal(err)
		}
		defer res.Body.Close()
		var made struct{ Sid string }
		if err := json.NewDecoder(res.Body).Decode(&made); err != nil || res.StatusCode != 201 {
			f.Fatalf("setup %s: %d %v", path, res.StatusCode, err)
		}
		return made.Sid
	}
	// alice is in a conversation with bob, with a message; {IS}, {CH},
	// {IM}, {MB} (bob's participant) and {US} (bob) stand for them.
	sids := map[string]string{"{IS}": srv.DefaultServiceSid}
	sids["{US}"] = rest("/v1/Users", "Identity=bob")
	sids["{CH}"] = rest("/v1/Conversations", "UniqueName=room")
	rest("/v1/Conversations/room/Participants", "Identity=alice")
	sids["{MB}"] = rest("/v1/Conversations/room/Participants", "Identity=bob")
	sids["{IM}"] = rest("/v1/Conversations/room/Messages", "Author=alice&Body=hello")

	bodies := []string{"", "{}", `{"body":"hi","attributes":"{\"a\":1}"}`, `{"friendly_name":"x","unique_name":"u"}`,
		`{"identity":"carol","attributes":"{}"}`, `{"messaging_binding":{"address":"+15551230001","proxy_address":"+15559870001"}}`,
		`{"last_read_message_index":0}`, `{"media_sids":["ME00000000000000000000000000000000"]}`,
		`{"binding_type":"fcm","address":"tok","data":{}}`, `{"action":"establish","correlation_id":1,"event_protocol_version":4,"requests":[{"object_sid":"MP1","object_type":"map","last_event_id":0}]}`,
		"not json", `{"body":1}`, `{"attributes":"{"}`, "[]", "null"}
	paths := []string{
		"/Client/v2/Configuration",
		"/Client/v2/Services/{IS}/Users/Me/Conversations",
		"/Client/v2/Services/{IS}/Users/Me/Conversations/{CH}",
		"/Client/v2/Services/{IS}/Users/alice",
		"/Client/v2/Services/{IS}/Users/{US}",
		"/Client/v2/Services/{IS}/Typing",
		"/Client/v2/Services/{IS}/Conversations",
		"/Client/v2/Services/{IS}/Conversations/{CH}",
		"/Client/v2/Services/{IS}/Conversations/{CH}/Messages",
		"/Client/v2/Services/{IS}/Conversations/{CH}/Messages/{IM}",
		"/Client/v2/Services/{IS}/Conversations/{CH}/Messages/{IM}/Receipts",
		"/Client/v2/Services/{IS}/Conversations/{CH}/Messages/{IM}/ChannelMetadata",
		"/Client/v2/Services/{IS}/Conversations/{CH}/Participants",
		"/Client/v2/Services/{IS}/Conversations/{CH}/Participants/{MB}",
		"/v3/Maps/{CH}.participants", "/v3/Maps/{CH}.participants/Items",
		"/v3/Documents/{CH}", "/v3/Lists/{CH}.messages", "/v3/Lists/{CH}.messages/Items",
		"/v1/registrations", "/v1/registrations/x", "/v4/Subscriptions",
		"/Client/v2/Services/%zz/Users/..", "/v3/Maps/", "//",
	}
	for _, p := range paths {
		f.Add("GET", p, `{"PageSize":"2","Order":"desc"}`, "")
		f.Add("DELETE", p, "", "")
		for _, b := range bodies {
			f.Add("POST", p, "", b)
		}
	}

	sock := dialFuzzSocket(f, srv, "alice")
	f.Fuzz(func(t *testing.T, method, path, params, body string) {
		for ph, sid := range sids {
			path = strings.ReplaceAll(path, ph, sid)
		}
		var ps map[string]any
		json.Unmarshal([]byte(params), &ps) // params that are not a JSON object are left out
		req := twilsock.HTTPRequest{Host: "cds.us1.twilio.com", Path: path, Method: method, Params: ps}
		status, reply, err := sock.request(req, []byte(body))
		if err != nil {
			t.Fatalf("%s %s %q: %v", method, path, body, err)
		}
		if status >= 500 || status < 200 {
			t.Fatalf("%s %s %q: status %d: %s", method, path, body, status, reply)
		}
		if status >= 400 {
			var e struct {
				Status  int    `json:"status"`
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(reply, &e); err != nil || e.Status != status || e.Code == 0 || e.Message == "" {
				t.Fatalf("%s %s %q: %d, not Twilio's error body: %s", method, path, body, status, reply)
			}
		}
	})
}

// fuzzSocket is a signed-in client socket whose requests return errors
// rather than failing a test, as a fuzz function needs.
type fuzzSocket struct {
	ws   *websocket.Conn
	mu   sync.Mutex
	n    int
	wait map[string]chan twilsock.Frame
	gone chan struct{}
}

func dialFuzzSocket(f *testing.F, srv *parleytest.Server, identity string) *fuzzSocket {
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v3/wsconnect", nil)
	if err != nil {
		f.Fatal(err)
	}
	ws.SetReadLimit(1 << 22)
	f.Cleanup(func() { ws.CloseNow() })
	s := &fuzzSocket{ws: ws, wait: map[string]chan twilsock.Frame{}, gone: make(chan struct{})}
	go func() {
		defer close(s.gone)
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return
			}
			fr, err := twilsock.Decode(b)
			if err != nil || fr.Header.Method != "reply" {
				continue // notifications and pings
			}
			s.mu.Lock()
			ch := s.wait[fr.Header.ID]
			delete(s.wait, fr.Header.ID)
			s.mu.Unlock()
			if ch != nil {
				ch <- fr
			}
		}
	}()
	reply, err := s.send(twilsock.Header{Method: "init", Token: parleytest.Token(f, srv, identity, "")}, nil)
	if err != nil || reply.Header.Status == nil || reply.Header.Status.Code != 200 {
		f.Fatalf("init: %+v %v", reply.Header, err)
	}
	return s
}

func (s *fuzzSocket) send(h twilsock.Header, payload []byte) (twilsock.Frame, error) {
	s.mu.Lock()
	s.n++
	h.ID = fmt.Sprint("TM", s.n)
	ch := make(chan twilsock.Frame, 1)
	s.wait[h.ID] = ch
	s.mu.Unlock()
	b, err := twilsock.Encode(twilsock.Frame{Header: h, Payload: payload})
	if err != nil {
		return twilsock.Frame{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.ws.Write(ctx, websocket.MessageBinary, b); err != nil {
		return twilsock.Frame{}, err
	}
	select {
	case f := <-ch:
		return f, nil
	case <-s.gone:
		return twilsock.Frame{}, fmt.Errorf("the socket closed")
	case <-ctx.Done():
		return twilsock.Frame{}, fmt.Errorf("no reply in 10 s")
	}
}

// request tunnels req and returns the reply's HTTP status and payload.
func (s *fuzzSocket) request(req twilsock.HTTPRequest, body []byte) (int, []byte, error) {
	f, err := s.send(twilsock.Header{Method: "message", HTTPRequest: &req}, body)
	if err != nil {
		return 0, nil, err
	}
	if f.Header.HTTPStatus == nil {
		return 0, nil, fmt.Errorf("reply without an HTTP status: %+v", f.Header)
	}
	return f.Header.HTTPStatus.Code, f.Payload, nil
}
