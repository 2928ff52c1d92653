package parleytest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/twilsock"
)

// SockClient is a signed-in socket that stays open: requests wait for
// their replies, and notifications queue up for next.
type SockClient struct {
	t    testing.TB
	ws   *websocket.Conn
	ctx  context.Context
	mu   sync.Mutex
	n    int
	wait map[string]chan twilsock.Frame
	note chan twilsock.Frame
}

// DialClient signs identity in to srv with a token from a new API key.
func DialClient(t testing.TB, srv *Server, identity string) *SockClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	token := Token(t, srv, identity, "")
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v3/wsconnect", nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(1 << 22)
	t.Cleanup(func() { ws.CloseNow() })
	c := &SockClient{t: t, ws: ws, ctx: ctx, wait: map[string]chan twilsock.Frame{}, note: make(chan twilsock.Frame, 1000)}
	go c.read()
	if got := c.Send(twilsock.Header{Method: "init", Token: token}, nil); got.Header.Status.Code != 200 {
		t.Fatalf("init: %+v", got.Header.Status)
	}
	return c
}

func (c *SockClient) read() {
	for {
		_, b, err := c.ws.Read(c.ctx)
		if err != nil {
			close(c.note)
			return
		}
		f, err := twilsock.Decode(b)
		if err != nil {
			c.t.Errorf("undecodable frame: %v", err)
			continue
		}
		switch f.Header.Method {
		case "reply":
			c.mu.Lock()
			ch := c.wait[f.Header.ID]
			c.mu.Unlock()
			if ch != nil {
				ch <- f
			}
		case "notification":
			c.note <- f
		}
	}
}

// Send sends a frame and returns its reply.
func (c *SockClient) Send(h twilsock.Header, payload []byte) twilsock.Frame {
	c.t.Helper()
	c.mu.Lock()
	c.n++
	h.ID = fmt.Sprint("TM", c.n)
	ch := make(chan twilsock.Frame, 1)
	c.wait[h.ID] = ch
	c.mu.Unlock()
	b, err := twilsock.Encode(twilsock.Frame{Header: h, Payload: payload})
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.ws.Write(c.ctx, websocket.MessageBinary, b); err != nil {
		c.t.Fatal(err)
	}
	select {
	case f := <-ch:
		return f
	case <-time.After(10 * time.Second):
		c.t.Fatalf("no reply to %s %+v", h.Method, h.HTTPRequest)
	}
	return twilsock.Frame{}
}

// Request tunnels an HTTP request and returns its status and JSON body.
func (c *SockClient) Request(method, path string, params map[string]any, body string) (int, map[string]any) {
	c.t.Helper()
	f := c.Send(twilsock.Header{Method: "message", HTTPRequest: &twilsock.HTTPRequest{Host: "cds.us1.twilio.com",
		Path: path, Method: method, Params: params}}, []byte(body))
	var v map[string]any
	if err := json.Unmarshal(f.Payload, &v); err != nil {
		c.t.Fatalf("%s %s: %s", method, path, f.Payload)
	}
	return f.Header.HTTPStatus.Code, v
}

// Subscribe establishes subscriptions to objects (id → type) at their
// last_event_id and returns what subscription_established says of each,
// after the events replayed before it, which it also returns.
func (c *SockClient) Subscribe(correlation int64, last map[string]int64, objects map[string]string) (established map[string]float64, replayed []map[string]any) {
	c.t.Helper()
	var reqs []map[string]any
	for id, typ := range objects {
		reqs = append(reqs, map[string]any{"object_sid": id, "object_type": typ, "last_event_id": last[id]})
	}
	body, _ := json.Marshal(map[string]any{"event_protocol_version": 4, "action": "establish", "correlation_id": correlation, "requests": reqs})
	if status, v := c.Request("POST", "/v4/Subscriptions", nil, string(body)); status != 200 {
		c.t.Fatalf("subscribe: %d %v", status, v)
	}
	for {
		n := c.Next()
		if n["event_type"] != "subscription_established" {
			replayed = append(replayed, n)
			continue
		}
		if n["correlation_id"] != float64(correlation) {
			c.t.Fatalf("established %v, want correlation %d", n, correlation)
		}
		established = map[string]float64{}
		for _, e := range n["events"].([]any) {
			e := e.(map[string]any)
			if e["replay_status"] != "completed" {
				c.t.Fatalf("replay of %v", e)
			}
			established[e["object_sid"].(string)] = e["last_event_id"].(float64)
		}
		return established, replayed
	}
}

// Next returns the next Sync notification's payload.
func (c *SockClient) Next() map[string]any {
	c.t.Helper()
	typ, v := c.NextNotification()
	if typ != "twilio.sync.event" {
		c.t.Fatalf("notification of type %q: %v", typ, v)
	}
	return v
}

// NextNotification returns the next notification's type and payload.
func (c *SockClient) NextNotification() (string, map[string]any) {
	c.t.Helper()
	select {
	case f, ok := <-c.note:
		if !ok {
			c.t.Fatal("socket closed")
		}
		var v map[string]any
		if err := json.Unmarshal(f.Payload, &v); err != nil {
			c.t.Fatal(err)
		}
		return f.Header.MessageType, v
	case <-time.After(10 * time.Second):
		c.t.Fatal("no notification")
	}
	return "", nil
}

// Quiet checks that no notification comes for a while.
func (c *SockClient) Quiet() {
	c.t.Helper()
	select {
	case f := <-c.note:
		c.t.Fatalf("unexpected notification: %s", f.Payload)
	case <-time.After(300 * time.Millisecond):
	}
}

// Close ends the socket, as a client that goes away.
func (c *SockClient) Close() { c.ws.Close(websocket.StatusNormalClosure, "") }

// Token mints an hour's access token for identity in service svc (the
// default service for "") with a new API key, as an app's backend does.
func Token(t testing.TB, srv *Server, identity, svc string) string {
	t.Helper()
	ctx := context.Background()
	key, _, err := srv.App.CreateAPIKey(ctx, "client tokens")
	if err != nil {
		t.Fatal(err)
	}
	token, err := srv.App.MintAccessToken(ctx, key.Sid, identity, svc, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return token
}
