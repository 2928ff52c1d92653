package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/twilsock"
)

// sockClient is a signed-in socket that stays open: requests wait for
// their replies, and notifications queue up for next.
type sockClient struct {
	t    *testing.T
	ws   *websocket.Conn
	ctx  context.Context
	mu   sync.Mutex
	n    int
	wait map[string]chan twilsock.Frame
	note chan twilsock.Frame
}

// dialClient signs identity in to srv with a token from a new API key.
func dialClient(t *testing.T, srv *parleytest.Server, identity string) *sockClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	key, _, err := srv.App.CreateAPIKey(ctx, "live")
	if err != nil {
		t.Fatal(err)
	}
	token, err := srv.App.MintAccessToken(ctx, key.Sid, identity, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v3/wsconnect", nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(1 << 22)
	t.Cleanup(func() { ws.CloseNow() })
	c := &sockClient{t: t, ws: ws, ctx: ctx, wait: map[string]chan twilsock.Frame{}, note: make(chan twilsock.Frame, 1000)}
	go c.read()
	if got := c.send(twilsock.Header{Method: "init", Token: token}, nil); got.Header.Status.Code != 200 {
		t.Fatalf("init: %+v", got.Header.Status)
	}
	return c
}

func (c *sockClient) read() {
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

// send sends a frame and returns its reply.
func (c *sockClient) send(h twilsock.Header, payload []byte) twilsock.Frame {
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

// request tunnels an HTTP request and returns its status and JSON body.
func (c *sockClient) request(method, path string, params map[string]any, body string) (int, map[string]any) {
	c.t.Helper()
	f := c.send(twilsock.Header{Method: "message", HTTPRequest: &twilsock.HTTPRequest{Host: "cds.us1.twilio.com",
		Path: path, Method: method, Params: params}}, []byte(body))
	var v map[string]any
	if err := json.Unmarshal(f.Payload, &v); err != nil {
		c.t.Fatalf("%s %s: %s", method, path, f.Payload)
	}
	return f.Header.HTTPStatus.Code, v
}

// subscribe establishes subscriptions to objects (id → type) at their
// last_event_id and returns what subscription_established says of each,
// after the events replayed before it, which it also returns.
func (c *sockClient) subscribe(correlation int64, last map[string]int64, objects map[string]string) (established map[string]float64, replayed []map[string]any) {
	c.t.Helper()
	var reqs []map[string]any
	for id, typ := range objects {
		reqs = append(reqs, map[string]any{"object_sid": id, "object_type": typ, "last_event_id": last[id]})
	}
	body, _ := json.Marshal(map[string]any{"event_protocol_version": 4, "action": "establish", "correlation_id": correlation, "requests": reqs})
	if status, v := c.request("POST", "/v4/Subscriptions", nil, string(body)); status != 200 {
		c.t.Fatalf("subscribe: %d %v", status, v)
	}
	for {
		n := c.next()
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

// next returns the next Sync notification's payload.
func (c *sockClient) next() map[string]any {
	c.t.Helper()
	select {
	case f, ok := <-c.note:
		if !ok {
			c.t.Fatal("socket closed")
		}
		if f.Header.MessageType != "twilio.sync.event" {
			c.t.Fatalf("notification of type %q", f.Header.MessageType)
		}
		var v map[string]any
		if err := json.Unmarshal(f.Payload, &v); err != nil {
			c.t.Fatal(err)
		}
		return v
	case <-time.After(10 * time.Second):
		c.t.Fatal("no notification")
	}
	return nil
}

// quiet checks that no notification comes for a while.
func (c *sockClient) quiet() {
	c.t.Helper()
	select {
	case f := <-c.note:
		c.t.Fatalf("unexpected notification: %s", f.Payload)
	case <-time.After(300 * time.Millisecond):
	}
}

// valueEqual is jsonEqual for a decoded value.
func valueEqual(t *testing.T, what string, got any, want string) {
	t.Helper()
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, what, b, []byte(want))
}

// TestClientLiveEvents: REST writes reach subscribed clients as Sync
// events, exactly as twilio-sync reads them, with per-object ids; a
// client that subscribes with an older last_event_id is replayed what it
// missed before subscription_established; a user removed from a
// conversation stops receiving its events.
func TestClientLiveEvents(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := rawClient{t: t, srv: srv}
	alice := c.must("POST", "/v1/Users", "Identity=alice", 201)["sid"].(string)
	bob := c.must("POST", "/v1/Users", "Identity=bob", 201)["sid"].(string)
	ch := c.must("POST", "/v1/Conversations", "UniqueName=room", 201)["sid"].(string)
	mbAlice := c.must("POST", "/v1/Conversations/room/Participants", "Identity=alice", 201)["sid"].(string)

	a := dialClient(t, srv, "alice")
	_, list := a.request("GET", "/v3/Lists/"+ch+".messages", nil, "")
	_, mine := a.request("GET", "/v3/Maps/"+alice+".conversations", nil, "")
	objects := map[string]string{ch + ".messages": "list", ch + ".channel": "document", ch + ".roster": "map", alice + ".conversations": "map"}
	// The conversations map has had alice's joining; the list nothing yet.
	if list["last_event_id"] != 0.0 || mine["last_event_id"] != 1.0 || mine["revision"] != "1" {
		t.Fatalf("descriptors: list %v, my conversations %v", list, mine)
	}
	last := map[string]int64{ch + ".messages": 0, ch + ".channel": 0, ch + ".roster": 1, alice + ".conversations": 1}
	est, replayed := a.subscribe(1, last, objects)
	valueEqual(t, "established", est, fmt.Sprintf(`{%q:1,%q:0,%q:0,%q:1}`, alice+".conversations", ch+".channel", ch+".messages", ch+".roster"))
	if len(replayed) != 0 {
		t.Fatalf("replayed %v, want nothing", replayed)
	}

	m := c.must("POST", "/v1/Conversations/room/Messages", "Author=alice&Body=hello&Attributes=%7B%22k%22%3A1%7D", 201)
	added := a.next()
	valueEqual(t, "list_item_added", added, fmt.Sprintf(`{"event_type":"list_item_added","event_protocol_version":4,"event":{
		"id":1,"list_sid":%[1]q,"item_index":0,"item_url":%[2]q,"item_revision":"1","list_revision":"1","date_created":%[3]q,
		"item_data":{"sid":%[4]q,"text":"hello","author":"alice","attributes":"{\"k\":1}","timestamp":%[5]q,"dateUpdated":%[5]q,
			"memberSid":%[6]q,"type":"text","subject":null,"contentSid":null}}}`,
		ch+".messages", srv.URL+"/v3/Lists/"+ch+".messages/Items/0", added["event"].(map[string]any)["date_created"],
		m["sid"], stampOf(t, m["date_created"].(string)), mbAlice))
	doc := a.next()
	if doc["event_type"] != "document_updated" || doc["event"].(map[string]any)["id"] != 1.0 ||
		doc["event"].(map[string]any)["document_data"].(map[string]any)["lastMessage"].(map[string]any)["index"] != 0.0 {
		t.Fatalf("document_updated: %v", doc)
	}

	mbBob := c.must("POST", "/v1/Conversations/room/Participants", "Identity=bob", 201)["sid"].(string)
	n := a.next()
	e := n["event"].(map[string]any)
	if n["event_type"] != "map_item_added" || e["id"] != 2.0 || e["map_sid"] != ch+".roster" || e["item_key"] != mbBob ||
		e["item_data"].(map[string]any)["identity"] != "bob" || e["item_data"].(map[string]any)["userInfo"] != bob+".info" {
		t.Fatalf("roster map_item_added: %v", n)
	}

	// Alice's read horizon: her roster item and her conversations item.
	c.must("POST", "/v1/Conversations/room/Participants/alice", "LastReadMessageIndex=0", 200)
	seen := map[string]map[string]any{}
	for range 2 {
		n := a.next()
		e := n["event"].(map[string]any)
		seen[e["map_sid"].(string)] = e
		if n["event_type"] != "map_item_updated" {
			t.Fatalf("read horizon: %v", n)
		}
	}
	if e := seen[ch+".roster"]; e["id"] != 3.0 || e["item_key"] != mbAlice || e["item_data"].(map[string]any)["lastConsumedMessageIndex"] != 0.0 {
		t.Fatalf("roster read horizon: %v", e)
	}
	valueEqual(t, "conversations item", seen[alice+".conversations"]["item_data"],
		fmt.Sprintf(`{"channel":%q,"status":"joined","lastConsumedMessageIndex":0,"notificationLevel":"default"}`, ch+".channel"))

	// A second socket that last saw nothing is replayed everything, in
	// id order, before its subscription is established.
	a2 := dialClient(t, srv, "alice")
	est, replayed = a2.subscribe(2, map[string]int64{ch + ".roster": 0}, map[string]string{ch + ".roster": "map"})
	var ids []any
	for _, r := range replayed {
		ids = append(ids, r["event"].(map[string]any)["id"])
	}
	if fmt.Sprint(ids) != "[1 2 3]" || est[ch+".roster"] != 3 {
		t.Fatalf("replay: ids %v, established %v", ids, est)
	}
	// bob sees none of alice's own map.
	b := dialClient(t, srv, "bob")
	if status, _ := b.request("POST", "/v4/Subscriptions", nil,
		`{"action":"establish","correlation_id":9,"requests":[{"object_sid":"`+alice+`.conversations","object_type":"map","last_event_id":0}]}`); status != 200 {
		t.Fatalf("subscribe: %d", status)
	}
	if n := b.next(); n["event_type"] != "subscription_failed" {
		t.Fatalf("another's map: %v", n)
	}

	// Removed, alice is told, and hears nothing more of the room.
	c.must("DELETE", "/v1/Conversations/room/Participants/alice", "", 204)
	got := map[string]string{}
	for range 2 {
		n := a.next()
		e := n["event"].(map[string]any)
		got[e["map_sid"].(string)] = n["event_type"].(string) + " " + e["item_key"].(string)
	}
	valueEqual(t, "removal", got, fmt.Sprintf(`{%q:"map_item_removed %s",%q:"map_item_removed %s"}`, ch+".roster", mbAlice, alice+".conversations", ch))
	c.must("POST", "/v1/Conversations/room/Messages", "Author=bob&Body=gone", 201)
	a.quiet()
}

// stampOf is a REST date as a Sync stamp.
func stampOf(t *testing.T, rest string) string {
	tm, err := time.Parse(time.RFC3339, rest)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UTC().Format("2006-01-02T15:04:05.000Z")
}
