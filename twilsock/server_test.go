package twilsock

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley"
)

// client is a test's end of a connection.
type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, url string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/v3/wsconnect", nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(int64(MaxFrame))
	t.Cleanup(func() { ws.CloseNow() })
	return &client{t: t, ws: ws}
}

func (c *client) send(h Header, payload string) {
	c.t.Helper()
	b, err := Encode(Frame{Header: h, Payload: []byte(payload)})
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.ws.Write(context.Background(), websocket.MessageBinary, b); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next frame other than a ping, or fails after 5 s.
func (c *client) next() Frame {
	c.t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		typ, b, err := c.ws.Read(ctx)
		cancel()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if typ != websocket.MessageBinary {
			c.t.Fatalf("a %v frame; the SDK parses binary frames only", typ)
		}
		f, err := Decode(b)
		if err != nil {
			c.t.Fatalf("%q: %v", b, err)
		}
		if f.Header.Method != "ping" {
			return f
		}
	}
}

// closed waits for the server to close the socket.
func (c *client) closed() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := c.ws.Read(ctx); err != nil {
			if ctx.Err() != nil {
				c.t.Fatal("the server did not close the socket")
			}
			return
		}
	}
}

const good = "good-token"

// newServer serves a Server whose tokens are "good-token" (alice, an hour)
// and "short-token" (alice, expiring soon); its upstream echoes.
func newServer(t *testing.T, o Options) (*Server, *httptest.Server) {
	now := time.Now()
	o.Verify = func(_ context.Context, token string) (Grant, error) {
		switch token {
		case good:
			return Grant{Identity: "alice", ServiceSid: "IS1", Expires: now.Add(time.Hour)}, nil
		case "bob-token":
			return Grant{Identity: "bob", ServiceSid: "IS1", Expires: now.Add(time.Hour)}, nil
		case "short-token":
			return Grant{Identity: "alice", ServiceSid: "IS1", Expires: time.Now().Add(300 * time.Millisecond)}, nil
		}
		return Grant{}, parley.Errorf(parley.KindUnauthorized, 20101, "Invalid Access Token")
	}
	o.Upstream = func(_ context.Context, c *Conn, req HTTPRequest, body []byte) Response {
		b, _ := json.Marshal(map[string]any{"identity": c.Grant().Identity, "path": req.Path, "method": req.Method, "body": string(body)})
		return Response{Status: 201, Body: b}
	}
	s := New(o)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs
}

func TestSignInAndTunnel(t *testing.T) {
	_, hs := newServer(t, Options{})
	c := dial(t, hs.URL)
	// Before init, nothing else is served.
	c.send(Header{Method: "message", ID: "TM0"}, "")
	if f := c.next(); f.Header.Method != "close" || f.Header.Status.Code != 406 {
		t.Fatalf("a message before init: %+v", f.Header)
	}
	c.closed()

	c = dial(t, hs.URL)
	c.send(Header{Method: "init", ID: "TM1", Token: good, Capabilities: []string{"client_update", "telemetry.v1"},
		Registrations: []json.RawMessage{json.RawMessage(`{"product":"ip_messaging","type":"ers","message_types":["twilio.sync.event"]}`)}}, "")
	f := c.next()
	h := f.Header
	if h.Method != "reply" || h.ID != "TM1" || h.Status.Code != 200 || h.ContinuationToken == nil || *h.ContinuationToken == "" ||
		strings.Join(h.Capabilities, ",") != "client_update" || len(h.InitRegistrations) != 1 || h.ContinuationTokenStatus == nil {
		t.Fatalf("init reply: %+v", h)
	}
	var reg map[string]any
	json.Unmarshal(h.InitRegistrations[0], &reg)
	if reg["product"] != "ip_messaging" || !strings.HasPrefix(reg["notification_ctx_id"].(string), "NC") {
		t.Fatalf("init registration: %v", reg)
	}
	c.send(Header{Method: "message", ID: "TM2", ActiveGrant: "ip_messaging", PayloadType: "application/json",
		HTTPRequest: &HTTPRequest{Host: "aim.us1.twilio.com", Path: "/Client/v2/Configuration", Method: "POST"}}, `{"a":1}`)
	f = c.next()
	if f.Header.ID != "TM2" || f.Header.Status.Code != 200 || f.Header.HTTPStatus.Code != 201 || f.Header.HTTPStatus.Status != "Created" ||
		f.Header.HTTPHeaders["content-type"] != "application/json" ||
		string(f.Payload) != `{"body":"{\"a\":1}","identity":"alice","method":"POST","path":"/Client/v2/Configuration"}` {
		t.Fatalf("tunnelled reply: %+v %s", f.Header, f.Payload)
	}
	// A token update: for the same user it is taken, for another refused.
	c.send(Header{Method: "update", ID: "TM3", Token: "bob-token"}, "")
	if f := c.next(); f.Header.ID != "TM3" || f.Header.Status.Code != 401 || f.Header.Status.ErrorCode != 20103 {
		t.Fatalf("update to another user: %+v", f.Header.Status)
	}
	c.send(Header{Method: "update", ID: "TM4", Token: good}, "")
	if f := c.next(); f.Header.ID != "TM4" || f.Header.Status.Code != 200 {
		t.Fatalf("update: %+v", f.Header.Status)
	}
	// Garbage ends the connection with 406.
	if err := c.ws.Write(context.Background(), websocket.MessageBinary, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if f := c.next(); f.Header.Method != "close" || f.Header.Status.Code != 406 {
		t.Fatalf("garbage: %+v", f.Header)
	}
	c.closed()
}

func TestRefusedToken(t *testing.T) {
	_, hs := newServer(t, Options{})
	c := dial(t, hs.URL)
	c.send(Header{Method: "init", ID: "TM1", Token: "forged"}, "")
	f := c.next()
	if s := f.Header.Status; f.Header.ID != "TM1" || s.Code != 401 || s.ErrorCode != 20101 || s.Description != "Invalid Access Token" {
		t.Fatalf("refused init: %+v", f.Header.Status)
	}
	c.closed()
}

func TestKeepaliveAndExpiry(t *testing.T) {
	_, hs := newServer(t, Options{Ping: 20 * time.Millisecond, ExpiryWarning: 200 * time.Millisecond})
	c := dial(t, hs.URL)
	c.send(Header{Method: "init", ID: "TM1", Token: "short-token"}, "")
	if f := c.next(); f.Header.Status.Code != 200 {
		t.Fatalf("init: %+v", f.Header.Status)
	}
	// Pings come, unasked.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	if f, _ := Decode(b); err != nil || f.Header.Method != "ping" && f.Header.Method != "client_update" {
		t.Fatalf("first unasked frame: %q %v", b, err)
	}
	var seen []string
	for {
		f := c.next()
		seen = append(seen, f.Header.Method)
		if f.Header.Method == "client_update" && f.Header.ClientUpdateType != "token_about_to_expire" {
			t.Fatalf("client_update: %+v", f.Header)
		}
		if f.Header.Method == "close" {
			if f.Header.Status.Code != 410 {
				t.Fatalf("close at expiry: %+v", f.Header.Status)
			}
			break
		}
	}
	if !strings.Contains(strings.Join(seen, " "), "client_update") {
		t.Fatalf("frames before the close: %v, want a client_update", seen)
	}
	c.closed()
}

func TestShutdownOffloads(t *testing.T) {
	s, hs := newServer(t, Options{})
	var clients []*client
	for range 3 {
		c := dial(t, hs.URL)
		c.send(Header{Method: "init", ID: "TM1", Token: good}, "")
		c.next()
		clients = append(clients, c)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	for i, c := range clients {
		f := c.next()
		var p struct {
			Backoff struct {
				Min int `json:"reconnect_min_ms"`
			} `json:"backoff_policy"`
		}
		if err := json.Unmarshal(f.Payload, &p); err != nil || f.Header.Method != "close" || f.Header.Status.Code != 308 || p.Backoff.Min <= 0 {
			t.Fatalf("client %d at shutdown: %+v %s", i, f.Header, f.Payload)
		}
		c.closed()
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	res, err := http.Get(hs.URL + "/v3/wsconnect")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 503 {
		t.Fatalf("a connection after shutdown: %d", res.StatusCode)
	}
}

// TestSilentSockets: a socket that never signs in is closed after
// InitTimeout, and one still waiting is reached by Shutdown.
func TestSilentSockets(t *testing.T) {
	_, hs := newServer(t, Options{InitTimeout: 100 * time.Millisecond})
	c := dial(t, hs.URL)
	c.closed()

	s2, hs2 := newServer(t, Options{})
	waiting := dial(t, hs2.URL)
	got := make(chan Frame, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for {
			_, b, err := waiting.ws.Read(ctx)
			if err != nil {
				close(got)
				return
			}
			if f, err := Decode(b); err == nil {
				got <- f
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := s2.Shutdown(ctx); err != nil || time.Since(start) > 3*time.Second {
		t.Fatalf("shutdown with a socket that never signed in: %v after %v", err, time.Since(start))
	}
	if f, ok := <-got; !ok || f.Header.Method != "close" || f.Header.Status.Code != 308 {
		t.Fatalf("the waiting socket at shutdown: %+v %v", f.Header, ok)
	}
}
