package api_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
)

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

	a := parleytest.DialClient(t, srv, "alice")
	_, list := a.Request("GET", "/v3/Lists/"+ch+".messages", nil, "")
	_, mine := a.Request("GET", "/v3/Maps/"+alice+".conversations", nil, "")
	objects := map[string]string{ch + ".messages": "list", ch + ".channel": "document", ch + ".roster": "map", alice + ".conversations": "map"}
	// The conversations map has had alice's joining; the list nothing yet.
	if list["last_event_id"] != 0.0 || mine["last_event_id"] != 1.0 || mine["revision"] != "1" {
		t.Fatalf("descriptors: list %v, my conversations %v", list, mine)
	}
	last := map[string]int64{ch + ".messages": 0, ch + ".channel": 0, ch + ".roster": 1, alice + ".conversations": 1}
	est, replayed := a.Subscribe(1, last, objects)
	valueEqual(t, "established", est, fmt.Sprintf(`{%q:1,%q:0,%q:0,%q:1}`, alice+".conversations", ch+".channel", ch+".messages", ch+".roster"))
	if len(replayed) != 0 {
		t.Fatalf("replayed %v, want nothing", replayed)
	}

	m := c.must("POST", "/v1/Conversations/room/Messages", "Author=alice&Body=hello&Attributes=%7B%22k%22%3A1%7D", 201)
	// The document's lastMessage first, then the list's new item.
	doc := a.Next()
	if doc["event_type"] != "document_updated" || doc["event"].(map[string]any)["id"] != 1.0 ||
		doc["event"].(map[string]any)["document_data"].(map[string]any)["lastMessage"].(map[string]any)["index"] != 0.0 {
		t.Fatalf("document_updated: %v", doc)
	}
	added := a.Next()
	valueEqual(t, "list_item_added", added, fmt.Sprintf(`{"event_type":"list_item_added","event_protocol_version":4,"event":{
		"id":1,"list_sid":%[1]q,"item_index":0,"item_url":%[2]q,"item_revision":"1","list_revision":"1","date_created":%[3]q,
		"item_data":{"sid":%[4]q,"text":"hello","author":"alice","attributes":"{\"k\":1}","timestamp":%[5]q,"dateUpdated":%[5]q,
			"memberSid":%[6]q,"type":"text","subject":null,"contentSid":null}}}`,
		ch+".messages", srv.URL+"/v3/Lists/"+ch+".messages/Items/0", added["event"].(map[string]any)["date_created"],
		m["sid"], stampOf(t, m["date_created"].(string)), mbAlice))

	mbBob := c.must("POST", "/v1/Conversations/room/Participants", "Identity=bob", 201)["sid"].(string)
	n := a.Next()
	e := n["event"].(map[string]any)
	if n["event_type"] != "map_item_added" || e["id"] != 2.0 || e["map_sid"] != ch+".roster" || e["item_key"] != mbBob ||
		e["item_data"].(map[string]any)["identity"] != "bob" || e["item_data"].(map[string]any)["userInfo"] != bob+".info" {
		t.Fatalf("roster map_item_added: %v", n)
	}

	// Alice's read horizon: her roster item and her conversations item.
	c.must("POST", "/v1/Conversations/room/Participants/alice", "LastReadMessageIndex=0", 200)
	seen := map[string]map[string]any{}
	for range 2 {
		n := a.Next()
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
	a2 := parleytest.DialClient(t, srv, "alice")
	est, replayed = a2.Subscribe(2, map[string]int64{ch + ".roster": 0}, map[string]string{ch + ".roster": "map"})
	var ids []any
	for _, r := range replayed {
		ids = append(ids, r["event"].(map[string]any)["id"])
	}
	if fmt.Sprint(ids) != "[1 2 3]" || est[ch+".roster"] != 3 {
		t.Fatalf("replay: ids %v, established %v", ids, est)
	}
	// bob sees none of alice's own map.
	b := parleytest.DialClient(t, srv, "bob")
	if status, _ := b.Request("POST", "/v4/Subscriptions", nil,
		`{"action":"establish","correlation_id":9,"requests":[{"object_sid":"`+alice+`.conversations","object_type":"map","last_event_id":0}]}`); status != 200 {
		t.Fatalf("subscribe: %d", status)
	}
	if n := b.Next(); n["event_type"] != "subscription_failed" {
		t.Fatalf("another's map: %v", n)
	}

	// Removed, alice is told, and hears nothing more of the room.
	c.must("DELETE", "/v1/Conversations/room/Participants/alice", "", 204)
	got := map[string]string{}
	for range 2 {
		n := a.Next()
		e := n["event"].(map[string]any)
		got[e["map_sid"].(string)] = n["event_type"].(string) + " " + e["item_key"].(string)
	}
	valueEqual(t, "removal", got, fmt.Sprintf(`{%q:"map_item_removed %s",%q:"map_item_removed %s"}`, ch+".roster", mbAlice, alice+".conversations", ch))
	c.must("POST", "/v1/Conversations/room/Messages", "Author=bob&Body=gone", 201)
	a.Quiet()

	// A replay leaves out the events of what is gone since (alice's
	// participant) but keeps its removal, and counts from the last id.
	est, replayed = b.Subscribe(3, map[string]int64{ch + ".roster": 0}, map[string]string{ch + ".roster": "map"})
	var got2 []string
	for _, r := range replayed {
		e := r["event"].(map[string]any)
		got2 = append(got2, fmt.Sprint(e["id"], " ", r["event_type"], " ", e["item_key"]))
	}
	if want := []string{"2 map_item_added " + mbBob, "4 map_item_removed " + mbAlice}; fmt.Sprint(got2) != fmt.Sprint(want) || est[ch+".roster"] != 4 {
		t.Fatalf("replay after a removal: %q, established %v; want %q", got2, est, want)
	}
}

// stampOf is a REST date as a Sync stamp.
func stampOf(t *testing.T, rest string) string {
	tm, err := time.Parse(time.RFC3339, rest)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UTC().Format("2006-01-02T15:04:05.000Z")
}

// TestClientClosedMidSubscription: a connection that closes while its
// subscriptions are being established leaves nothing behind in the hub
// (the feed once went on subscribing after the hub had forgotten it).
func TestClientClosedMidSubscription(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := rawClient{t: t, srv: srv}
	c.must("POST", "/v1/Conversations", "UniqueName=room", 201)
	c.must("POST", "/v1/Conversations/room/Participants", "Identity=alice", 201)
	conv := c.must("GET", "/v1/Conversations/room", "", 200)["sid"].(string)
	for range 5 {
		ws := parleytest.DialClient(t, srv, "alice")
		var reqs []map[string]any
		for i := range 100 {
			// The same objects again and again: each is replayed from the
			// log, which takes long enough for the close to land between.
			id := conv + [...]string{".channel", ".messages", ".roster"}[i%3]
			reqs = append(reqs, map[string]any{"object_sid": id, "object_type": "list", "last_event_id": 0})
		}
		body, _ := json.Marshal(map[string]any{"event_protocol_version": 4, "action": "establish", "correlation_id": 1, "requests": reqs})
		if status, v := ws.Request("POST", "/v4/Subscriptions", nil, string(body)); status != 200 {
			t.Fatalf("subscribe: %d %v", status, v)
		}
		ws.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		text := scrapeMetrics(t, srv)
		feeds, ok1 := sample(text, "parley_client_connections")
		objects, ok2 := sample(text, "parley_client_subscribed_objects")
		if !ok1 || !ok2 {
			t.Fatalf("no client series in /metrics:\n%s", text)
		}
		if feeds == 0 && objects == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after every connection closed the hub holds %v feeds and %v objects", feeds, objects)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
