package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/twilsock"
)

// sockExchange opens /v3/wsconnect on srv, sends frames in order and
// returns the server's answer to each (pings skipped).
func sockExchange(t *testing.T, srv *parleytest.Server, frames ...twilsock.Frame) []twilsock.Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v3/wsconnect", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	var out []twilsock.Frame
	for _, f := range frames {
		b, err := twilsock.Encode(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := ws.Write(ctx, websocket.MessageBinary, b); err != nil {
			t.Fatal(err)
		}
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("no answer to %s: %v", f.Header.Method, err)
			}
			got, err := twilsock.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if got.Header.Method != "ping" {
				out = append(out, got)
				break
			}
		}
	}
	return out
}

// TestClientSignIn: @twilio/conversations' socket signs in with a token
// parley minted or an app signed; the user is created on first sign-in
// with the service's default role; refused tokens answer with their
// Twilio code; tunnelled requests get Twilio's error bodies.
func TestClientSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := parleytest.New(t)
	c := rawClient{t: t, srv: srv}
	key, _, err := srv.App.CreateAPIKey(ctx, "clients")
	if err != nil {
		t.Fatal(err)
	}
	token, err := srv.App.MintAccessToken(ctx, key.Sid, "carol", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c.must("GET", "/v1/Users/carol", "", 404)
	init := twilsock.Frame{Header: twilsock.Header{Method: "init", ID: "TM1", Token: token}}
	got := sockExchange(t, srv, init, twilsock.Frame{Header: twilsock.Header{Method: "message", ID: "TM2",
		HTTPRequest: &twilsock.HTTPRequest{Host: "aim.us1.twilio.com", Path: "/Client/v2/Nothing", Method: "GET"}}})
	if s := got[0].Header.Status; got[0].Header.ID != "TM1" || s.Code != 200 {
		t.Fatalf("init: %+v", s)
	}
	if h := got[1].Header; h.ID != "TM2" || h.Status.Code != 200 || h.HTTPStatus.Code != 404 ||
		string(got[1].Payload) != `{"code":20404,"message":"The requested resource /Client/v2/Nothing was not found",`+
			`"more_info":"https://www.twilio.com/docs/errors/20404","status":404}` {
		t.Fatalf("tunnelled: %+v %s", h, got[1].Payload)
	}
	u := c.must("GET", "/v1/Users/carol", "", 200)
	role := c.roleOf(srv.DefaultServiceSid, "service user")
	if u["role_sid"] != role {
		t.Fatalf("the signed-in user: %v", u)
	}
	// Signing in again finds the user.
	if got := sockExchange(t, srv, init); got[0].Header.Status.Code != 200 {
		t.Fatalf("second sign-in: %+v", got[0].Header.Status)
	}
	expired, err := srv.App.MintAccessToken(ctx, key.Sid, "carol", "", time.Nanosecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // exp is in whole seconds
	for _, tc := range []struct {
		what, token string
		want        twilsock.Status
	}{
		{"garbage", "nope", twilsock.Status{Code: 401, Status: "Unauthorized", Description: "Invalid Access Token", ErrorCode: 20101}},
		{"expired", expired, twilsock.Status{Code: 401, Status: "Unauthorized",
			Description: "Access Token expired or expiration date invalid", ErrorCode: 20104}},
	} {
		got := sockExchange(t, srv, twilsock.Frame{Header: twilsock.Header{Method: "init", ID: "TM9", Token: tc.token}})
		if s := got[0].Header.Status; got[0].Header.ID != "TM9" || s == nil || *s != tc.want {
			t.Errorf("%s token: %+v, want %+v", tc.what, s, tc.want)
		}
	}
}

// TestClientSyncViews: a client reads its own user's Sync maps, views
// over the users and participants tables, and nobody else's (403 on read,
// subscription_failed on subscribe).
func TestClientSyncViews(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := parleytest.New(t)
	c := rawClient{t: t, srv: srv}
	alice := c.must("POST", "/v1/Users", "Identity=alice&FriendlyName=Alice&Attributes=%7B%22a%22%3A1%7D", 201)["sid"].(string)
	bob := c.must("POST", "/v1/Users", "Identity=bob", 201)["sid"].(string)
	ch := c.must("POST", "/v1/Conversations", "UniqueName=room", 201)["sid"].(string)
	c.must("POST", "/v1/Conversations/room/Participants", "Identity=alice", 201)
	key, _, err := srv.App.CreateAPIKey(ctx, "clients")
	if err != nil {
		t.Fatal(err)
	}
	token, err := srv.App.MintAccessToken(ctx, key.Sid, "alice", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	get := func(id int, path string, params map[string]any) twilsock.Frame {
		return twilsock.Frame{Header: twilsock.Header{Method: "message", ID: fmt.Sprint("TM", id),
			HTTPRequest: &twilsock.HTTPRequest{Host: "cds.us1.twilio.com", Path: path, Method: "GET", Params: params}}}
	}
	got := sockExchange(t, srv, twilsock.Frame{Header: twilsock.Header{Method: "init", ID: "TM0", Token: token}},
		get(1, "/v3/Maps/"+alice+".info", map[string]any{"Include": "items"}),
		get(2, "/v3/Maps/"+alice+".conversations/Items", map[string]any{"Key": ch}),
		get(3, "/v3/Maps/"+bob+".info", nil),
		get(4, "/v3/Maps/"+alice+".info/Items", map[string]any{"Key": "nope"}),
		get(5, "/Client/v2/Configuration", nil))
	var info struct {
		Sid   string `json:"sid"`
		Items []struct {
			Key  string         `json:"key"`
			Data map[string]any `json:"data"`
		} `json:"items"`
	}
	if err := json.Unmarshal(got[1].Payload, &info); err != nil || got[1].Header.HTTPStatus.Code != 200 || info.Sid != alice+".info" ||
		len(info.Items) != 3 || info.Items[0].Data["value"] != `{"a":1}` || info.Items[1].Data["value"] != "Alice" ||
		info.Items[2].Data["online"] != true { // alice is connected: this is her socket
		t.Fatalf("own info map: %+v %s", got[1].Header.HTTPStatus, got[1].Payload)
	}
	if p := string(got[2].Payload); got[2].Header.HTTPStatus.Code != 200 || !strings.Contains(p, `"key":"`+ch+`"`) ||
		!strings.Contains(p, `"channel":"`+ch+`.channel"`) || !strings.Contains(p, `"status":"joined"`) {
		t.Fatalf("own conversations map item: %s", p)
	}
	if h := got[3].Header.HTTPStatus; h.Code != 403 || !strings.Contains(string(got[3].Payload), `"code":20403`) {
		t.Fatalf("another user's map: %+v %s", h, got[3].Payload)
	}
	if h := got[4].Header.HTTPStatus; h.Code != 404 || !strings.Contains(string(got[4].Payload), `"code":54201`) {
		t.Fatalf("a missing item: %+v %s", h, got[4].Payload)
	}
	configuration := got[5]
	// The conversation's objects: to its participants only.
	for _, body := range []string{"one", "two", "three"} {
		c.must("POST", "/v1/Conversations/room/Messages", "Author=alice&Body="+body, 201)
	}
	other := c.must("POST", "/v1/Conversations", "UniqueName=other", 201)["sid"].(string)
	got = sockExchange(t, srv, twilsock.Frame{Header: twilsock.Header{Method: "init", ID: "TM0", Token: token}},
		get(1, "/v3/Documents/"+ch+".channel", nil),
		get(2, "/v3/Lists/"+other+".messages", nil),
		get(3, "/v3/Lists/"+ch+".messages/Items", map[string]any{"Order": "desc", "PageSize": "2"}),
		get(4, "/v3/Lists/"+ch+".messages/Items", map[string]any{"Order": "desc", "From": "1", "PageSize": "5"}),
		get(5, "/v3/Lists/"+ch+".messages/Items", map[string]any{"Index": "1"}),
		get(6, "/v3/Lists/"+ch+".messages/Items", map[string]any{"Index": "9"}),
		get(7, "/v3/Maps/"+ch+".roster/Items", map[string]any{"Order": "asc"}),
		get(8, "/v3/Maps/"+bob+".info", nil),
		get(9, "/Client/v2/Services/"+srv.DefaultServiceSid+"/Users/bob", nil))
	if p := string(got[1].Payload); got[1].Header.HTTPStatus.Code != 200 || !strings.Contains(p, `"uniqueName":"room"`) ||
		!strings.Contains(p, `"messages":"`+ch+`.messages"`) || !strings.Contains(p, `"roster":"`+ch+`.roster"`) {
		t.Fatalf("document: %s", p)
	}
	if h := got[2].Header.HTTPStatus; h.Code != 403 {
		t.Fatalf("the messages of a conversation alice is not in: %+v %s", h, got[2].Payload)
	}
	indexes := func(f twilsock.Frame) (out []float64, next any) {
		var page struct {
			Items []struct {
				Index float64        `json:"index"`
				Data  map[string]any `json:"data"`
			} `json:"items"`
			Meta map[string]any `json:"meta"`
		}
		if err := json.Unmarshal(f.Payload, &page); err != nil {
			t.Fatalf("%s: %v", f.Payload, err)
		}
		for _, it := range page.Items {
			out = append(out, it.Index)
		}
		return out, page.Meta["next_token"]
	}
	if idx, next := indexes(got[3]); fmt.Sprint(idx) != "[2 1]" || next == nil {
		t.Fatalf("newest two: %v %v", idx, next)
	}
	if idx, next := indexes(got[4]); fmt.Sprint(idx) != "[1 0]" || next != nil {
		t.Fatalf("down from 1: %v %v", idx, next)
	}
	if idx, _ := indexes(got[5]); fmt.Sprint(idx) != "[1]" || !strings.Contains(string(got[5].Payload), `"text":"two"`) {
		t.Fatalf("index 1: %s", got[5].Payload)
	}
	if h := got[6].Header.HTTPStatus; h.Code != 404 || !strings.Contains(string(got[6].Payload), `"code":54151`) {
		t.Fatalf("a missing index: %+v %s", h, got[6].Payload)
	}
	if p := string(got[7].Payload); got[7].Header.HTTPStatus.Code != 200 || !strings.Contains(p, `"identity":"alice"`) ||
		!strings.Contains(p, `"userInfo":"`+alice+`.info"`) {
		t.Fatalf("roster: %s", p)
	}
	// bob is in no conversation with alice: his info stays his.
	if h := got[8].Header.HTTPStatus; h.Code != 403 {
		t.Fatalf("a stranger's info: %+v", h)
	}
	if h := got[9].Header.HTTPStatus; h.Code != 403 {
		t.Fatalf("a stranger's user: %+v", h)
	}
	// An identity shaped like alice's participant SID is no way in.
	mb := c.must("GET", "/v1/Conversations/room/Participants/alice", "", 200)["sid"].(string)
	impostor, err := srv.App.MintAccessToken(ctx, key.Sid, mb, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got = sockExchange(t, srv, twilsock.Frame{Header: twilsock.Header{Method: "init", ID: "TM0", Token: impostor}},
		get(1, "/v3/Maps/"+ch+".roster", nil), get(2, "/v3/Maps/"+alice+".info", nil))
	if got[1].Header.HTTPStatus.Code != 403 || got[2].Header.HTTPStatus.Code != 403 {
		t.Fatalf("an identity shaped like a participant SID: %+v %+v", got[1].Header.HTTPStatus, got[2].Header.HTTPStatus)
	}

	c.must("POST", "/v1/Conversations/room/Participants", "Identity=bob", 201)
	got = sockExchange(t, srv, twilsock.Frame{Header: twilsock.Header{Method: "init", ID: "TM0", Token: token}},
		get(1, "/v3/Maps/"+bob+".info", nil),
		get(2, "/Client/v2/Services/"+srv.DefaultServiceSid+"/Users/bob", nil))
	if h := got[1].Header.HTTPStatus; h.Code != 200 {
		t.Fatalf("a co-participant's info: %+v %s", h, got[1].Payload)
	}
	if p := string(got[2].Payload); got[2].Header.HTTPStatus.Code != 200 ||
		!strings.Contains(p, `"sync_objects":{"user_info_map":"`+bob+`.info"}`) {
		t.Fatalf("a co-participant's user: %s", p)
	}

	var cfg struct {
		Identity    string            `json:"identity"`
		SyncObjects map[string]string `json:"sync_objects"`
		Links       map[string]string `json:"links"`
	}
	if err := json.Unmarshal(configuration.Payload, &cfg); err != nil || cfg.Identity != "alice" ||
		cfg.SyncObjects["my_user_info"] != alice+".info" || cfg.Links["media_service"] != srv.URL+"/v1/Services/"+srv.DefaultServiceSid+"/Media" {
		t.Fatalf("configuration: %s", configuration.Payload)
	}
}

// TestExamplePage: the example page is served without credentials, and
// points the SDK at this host's socket.
func TestExamplePage(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	for _, path := range []string{"/parley/example/", "/parley/example"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
			!strings.Contains(string(b), `location.host + "/v3/wsconnect"`) || !strings.Contains(string(b), "new Twilio.Conversations.Client(") {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
}
