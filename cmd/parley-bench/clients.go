package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/parleyhq/parley/twilsock"
)

// The client mode (--clients) measures what the users of the client SDK
// (@twilio/conversations) cost parley, with a light Go twilsock client in
// this process standing in for the SDK: one WebSocket and one reading
// goroutine per client, the frames of twilsock.Encode and Decode.
//
// Each client signs in the way the SDK does and then does what the SDK
// does at startup that costs the server (client-sdk-protocol.md §4.1 and
// §8; the requests are listed in startupRequests). It answers every
// notification and ping with a reply, as the SDK does (§3.1), so that the
// server reads what it would read from real clients. It counts as logged
// in when init is answered 200, and as ready when its subscriptions are
// established (the subscription_established notification, every object
// replay_status completed); an error at any step is counted and the
// client closed, never counted as ready.
//
// Phases, in this order:
//
//  1. connect: --clients-n clients open, --clients-concurrency at a time,
//     each a user that does not exist yet, so that its sign-in creates it
//     (the first login, the costlier path: a user create and a presence
//     write). Logins per second are ready clients over the wall time from
//     the first dial to the last client ready. They are then held open for
//     --duration, and the server's peak RSS (VmHWM since it started) read
//     with all of them open. They stay open until the end of the run, so
//     the node they are on (the first) holds them through every later
//     phase too: the latency figures are those of a server that also
//     holds --clients-n idle clients (pinged every 30 s, and answering).
//  2. low load: a conversation of 4 participants created over REST, each
//     then online with a client of its own (whose startup includes the
//     conversation: its document, messages list and roster read, all
//     three subscribed). One message is POSTed over REST every 50 ms for
//     --warmup, then for --duration.
//  3. fan-out: the same with --clients-participants participants and
//     --clients-rate messages per second: rate × participants deliveries
//     per second.
//
// With a PostgreSQL --db, phases 2 and 3 are run again on two nodes: a
// second parley on the same database, fresh conversations, participant i
// connected to node i mod 2, and message k POSTed to node k mod 2. So for
// every message half the participants are on the other node than the one
// that took the POST; their arrivals make the two-node figure, and the
// others (on the node that took the POST) are reported beside it. On
// SQLite, which one process has alone, there is one node.
//
// Messages are sent open-loop: message k is due at start + k/rate and its
// POST starts then, in its own goroutine, whether or not earlier ones have
// been answered (the scheduler's worst lateness is reported). A delivery is
// the list_item_added notification of the message's index on a
// participant's socket, timed when its frame has been read. Its latency is
// reported two ways: from the 201 (the moment the POST's response headers
// were read; what the issue asks for), and from the moment the POST was
// sent. The server sends notifications once the write commits, which can
// be before the client has read the 201: such arrivals count as 0 in the
// figure from the 201, and how many there were is reported. The figure from
// the send includes the REST request itself and is never negative. The
// warm-up's messages are delivered and checked like the others, but not
// timed. Every participant must receive every message exactly once: a
// missing or repeated delivery is counted and reported, never folded into
// the latency figures.
//
// The load tool shares the machine with parley (and PostgreSQL); its own
// CPU is reported beside the server's, and its scheduling delays are part
// of every latency it measures. Its garbage collector, though, is held off
// during each latency phase (quietGC): holding every idle client's socket,
// its heap is large, and its collections would otherwise add its own
// pauses to the arrivals it times.

// Tunables of the client mode that are not flags.
const (
	lowLoadParticipants  = 4
	lowLoadInterval      = 50 * time.Millisecond
	clientTokenTTL       = 6 * time.Hour    // longer than any run: no token renewal while measuring
	clientRequestTimeout = 30 * time.Second // the SDK's REQUEST_TIMEOUT for a tunnelled request
	clientStartTimeout   = 2 * time.Minute  // dial to ready, per client
	deliveryGrace        = 15 * time.Second // after the last POST, for the last deliveries
	// Hosts the SDK names in its tunnelled requests; parley ignores them
	// (the links it gives carry its own host, which is used as given).
	aimHost = "aim.us1.twilio.com"
	cdsHost = "cds.us1.twilio.com"
)

// startupRequests is what each client sends after its init, in order;
// lines starting with "+" are sent only by participants of a conversation.
// Requests on one line go out at once, as the SDK sends them in parallel.
// The SDK batches subscription intents (a 100 ms window), so the objects
// opened at startup go in one POST /v4/Subscriptions.
var startupRequests = []string{
	"GET /Client/v2/Configuration",
	"GET /v3/Maps/US….info?Include=items, GET /v3/Maps/US….conversations, GET {links.my_conversations} (at once)",
	"+ GET /v3/Documents/CH….channel",
	"+ GET /v3/Lists/CH….messages, GET /v3/Maps/CH….roster then its links.items?HideExpired=true&PageSize=50&Order=asc (at once)",
	"POST /v4/Subscriptions establishing the user's two maps (+ the conversation's document, list and roster), then wait for subscription_established",
}

// sdkRegistration is the init registration @twilio/conversations sends
// (client-sdk-protocol.md §3.3).
var sdkRegistration = json.RawMessage(`{"product":"ip_messaging","type":"ers","notification_protocol_version":0,` +
	`"message_types":["twilio.ipmsg.typing_indicator","twilio.sync.event","com.twilio.rtd.cds.document","com.twilio.rtd.cds.list","com.twilio.rtd.cds.map"]}`)

// clientsReport is what the client mode measured.
type clientsReport struct {
	StartupRequests []string       `json:"startup_requests"`
	Connect         connectReport  `json:"connect"`
	Phases          []latencyPhase `json:"phases"`
	Targets         []targetCheck  `json:"targets"`
}

// connectReport is the connect phase.
type connectReport struct {
	Clients     int     `json:"clients"`
	Concurrency int     `json:"concurrency"`
	LoggedIn    int     `json:"logged_in"` // init answered 200
	Ready       int     `json:"ready"`     // and subscribed
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	Seconds     float64 `json:"seconds"`        // first dial to last ready
	PerSec      float64 `json:"logins_per_sec"` // ready clients per second
	Login       delays  `json:"login"`          // per client: dial to init's 200
	Startup     delays  `json:"ready_after"`    // per client: dial to subscription_established
	CPU         cpuUse  `json:"cpu"`            // while connecting

	HoldSeconds float64 `json:"hold_seconds"`
	StillOpen   int     `json:"still_open"` // ready clients whose socket was still open after the hold
	HoldCPU     cpuUse  `json:"hold_cpu"`

	RSSBeforeBytes int64 `json:"rss_before_bytes"` // the server's, before the first dial
	RSSAfterBytes  int64 `json:"rss_after_bytes"`  // after the hold
	PeakRSSBytes   int64 `json:"peak_rss_bytes"`   // VmHWM after the hold: the peak since the server started
	PerClientBytes int64 `json:"rss_per_client_bytes"`
}

// latencyPhase is one low-load or fan-out measurement.
type latencyPhase struct {
	Name         string  `json:"name"`
	Nodes        int     `json:"nodes"`
	Participants int     `json:"participants"`
	Rate         float64 `json:"messages_per_sec"` // as scheduled
	Warmup       int     `json:"warmup_messages"`
	Messages     int     `json:"messages"` // timed, after the warm-up
	PostErrors   int     `json:"post_errors"`
	FirstPostErr string  `json:"first_post_error,omitempty"`
	MaxSendLagMs float64 `json:"max_send_lag_ms"` // the latest a POST started after its due time

	Expected   int `json:"deliveries_expected"` // POSTs answered 201 × participants, warm-up included
	Received   int `json:"deliveries_received"`
	Missing    int `json:"deliveries_missing"`
	Duplicates int `json:"deliveries_repeated"`
	Unexpected int `json:"deliveries_unexpected"` // of an index no POST was answered with
	// Notifications is every notification the participants got from the
	// first POST until the last delivery (list_item_added, the
	// conversation document's document_updated, …).
	Notifications int `json:"notifications"`

	REST delays `json:"rest_201"` // POST sent to its 201 read, timed messages
	// Latency is the figure: every participant on one node; on two, the
	// participants on the other node than the one that took the POST.
	Latency latencySet `json:"latency"`
	// SameNode, on two nodes, is the participants on the node that took
	// the POST.
	SameNode *latencySet `json:"same_node,omitempty"`

	CPU     cpuUse  `json:"cpu"`                   // over the timed window, servers per node
	PeakRSS []int64 `json:"server_peak_rss_bytes"` // per node, VmHWM at the end of the phase
}

// latencySet is the delivery latencies of one set of sockets.
type latencySet struct {
	Samples  int    `json:"samples"`
	From201  delays `json:"from_201"`
	FromSend delays `json:"from_send"`
	// Early arrived before the client had read the 201; they count as 0
	// in From201.
	Early int `json:"before_201"`
}

// The targets of the client mode (issue item 4).
const (
	targetClients         = 10000
	targetClientRSS       = 400_000_000 // bytes (400 MB), peak, with them open
	targetLoginsPerSec    = 500
	targetFanoutP99Ms     = 50.0  // one node
	targetFanoutP99TwoMs  = 100.0 // two nodes
	targetLowLoadP50Ms    = 5.0   // one node
	targetFanoutPerSecond = 100   // the fan-out the latency targets are stated for
	targetFanoutPeople    = 100
)

// clientWorld is what every client of a run shares: the key its tokens
// are signed with, the service they sign in to, and the HTTP client that
// dials their WebSockets.
type clientWorld struct {
	keySid, secret string
	account        string
	service        string
	dialer         *http.Client
}

// token mints an access token for identity as a Twilio helper library
// does, the form core.VerifyAccessToken checks: HS256 with the API key's
// secret, header cty twilio-fpa;v=1, iss the key, sub the account, the
// identity and the chat grant's service_sid in grants.
func (w *clientWorld) token(identity string, now time.Time) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"jti": w.keySid + "-" + strconv.FormatInt(now.Unix(), 10),
		"iss": w.keySid, "sub": w.account,
		"nbf": now.Unix(), "exp": now.Add(clientTokenTTL).Unix(),
		"grants": map[string]any{"identity": identity, "chat": map[string]string{"service_sid": w.service}},
	})
	t.Header["cty"] = "twilio-fpa;v=1"
	return t.SignedString([]byte(w.secret))
}

// newClientWorld creates an API key with `parley keys create` (keys are made
// on the database, as Twilio makes them in its console; parley has no API
// for them) and finds the default service, which tokens sign in to and
// REST's /v1/Conversations creates in.
func (b *bench) newClientWorld(ctx context.Context) (*clientWorld, error) {
	cmd := exec.CommandContext(ctx, b.bin, "keys", "create", "--db", b.db, "--name", "parley-bench clients")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("parley keys create: %v\n%s", err, errOut.String())
	}
	w := &clientWorld{account: b.cfg.accountSid}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 4 && f[0] == "API" && f[1] == "key" && f[2] == "SID":
			w.keySid = f[3]
		case len(f) == 2 && f[0] == "secret":
			w.secret = f[1]
		}
	}
	if w.keySid == "" || w.secret == "" {
		return nil, fmt.Errorf("parley keys create printed no key SID and secret:\n%s", out.String())
	}
	body, err := b.get(ctx, b.base+"/v1/Configuration")
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Service string `json:"default_chat_service_sid"`
	}
	if err := json.Unmarshal(body, &cfg); err != nil || cfg.Service == "" {
		return nil, fmt.Errorf("GET /v1/Configuration: no default_chat_service_sid in %s", snippet(body, 300))
	}
	w.service = cfg.Service
	// Upgraded connections leave the transport's pool at once, so it only
	// dials; no Timeout, which would cut every socket after it.
	w.dialer = &http.Client{Transport: &http.Transport{
		DialContext:       (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		DisableKeepAlives: true,
	}}
	return w, nil
}

// sockClient is one client connection. Its reading goroutine answers
// replies to whoever waits for them, acknowledges every other frame, hands
// subscription notices to the subscribe waiting for them, and records
// when list_item_added notifications of list arrive.
type sockClient struct {
	ws     *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	idBase string        // the start of this client's frame ids
	done   chan struct{} // closed when the reading goroutine has stopped

	mu       sync.Mutex
	seq      int
	corr     int64
	replies  map[string]chan twilsock.Frame
	subs     map[int64]chan syncNote
	list     string // the messages list whose list_item_added are recorded
	arrivals []arrival
	notes    int   // notifications received
	readErr  error // why reading stopped
}

// arrival is a list_item_added of the recorded list: the item's index
// (the message's) and when its frame was read.
type arrival struct {
	index int64
	at    time.Time
}

// syncNote is the part of a twilio.sync.event notification the client
// reads: subscription notices, and which list item was added.
type syncNote struct {
	EventType     string `json:"event_type"`
	CorrelationID int64  `json:"correlation_id"`
	Event         struct {
		ListSid   string `json:"list_sid"`
		ItemIndex int64  `json:"item_index"`
	} `json:"event"`
	Events []struct {
		ObjectSid    string `json:"object_sid"`
		ReplayStatus string `json:"replay_status"`
		Error        *struct {
			Message string `json:"message"`
			Code    int    `json:"code"`
		} `json:"error"`
	} `json:"events"`
}

// dialClient opens a socket to base and signs in with token, as the SDK
// does: init with its capabilities and registration, the reply's status
// 200 required.
func (w *clientWorld) dialClient(ctx context.Context, base, token string) (*sockClient, error) {
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/v3/wsconnect",
		&websocket.DialOptions{HTTPClient: w.dialer})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	ws.SetReadLimit(int64(twilsock.MaxFrame))
	var id [8]byte
	rand.Read(id[:])
	c := &sockClient{ws: ws, idBase: "TM" + hex.EncodeToString(id[:]), done: make(chan struct{}),
		replies: map[string]chan twilsock.Frame{}, subs: map[int64]chan syncNote{}}
	// The socket lives until close, whatever ctx (a dial's deadline) does.
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go c.read()
	f, err := c.send(ctx, twilsock.Header{Method: "init", Token: token,
		Capabilities:  []string{"client_update", "offline_storage", "telemetry.v1"},
		Registrations: []json.RawMessage{sdkRegistration}}, nil)
	if err == nil && (f.Header.Status == nil || f.Header.Status.Code != http.StatusOK) {
		err = fmt.Errorf("init answered %+v", f.Header.Status)
	}
	if err != nil {
		c.close()
		return nil, fmt.Errorf("init: %w", err)
	}
	return c, nil
}

// read reads frames until the socket ends.
func (c *sockClient) read() {
	defer close(c.done)
	for {
		_, b, err := c.ws.Read(c.ctx)
		at := time.Now()
		if err != nil {
			c.stopped(err)
			return
		}
		f, err := twilsock.Decode(b)
		if err != nil {
			c.stopped(err)
			c.ws.CloseNow()
			return
		}
		h := f.Header
		switch h.Method {
		case "reply":
			c.mu.Lock()
			ch := c.replies[h.ID]
			c.mu.Unlock()
			if ch != nil {
				ch <- f
			}
			continue
		case "notification":
			if h.MessageType == "twilio.sync.event" {
				c.note(f.Payload, at)
			} else {
				c.mu.Lock()
				c.notes++
				c.mu.Unlock()
			}
		case "close":
			err := fmt.Errorf("the server closed the socket: %+v %s", h.Status, f.Payload)
			c.stopped(err)
			c.ws.CloseNow()
			return
		}
		// Every frame that is not a reply is acknowledged, as the SDK
		// does (TwilsockChannel.confirmReceiving).
		ack, err := twilsock.Encode(twilsock.Frame{Header: twilsock.Header{Method: "reply", ID: h.ID,
			PayloadType: "application/json", Status: &twilsock.Status{Code: 200, Status: "OK"}}})
		if err == nil {
			err = c.ws.Write(c.ctx, websocket.MessageBinary, ack)
		}
		if err != nil {
			c.stopped(err)
			return
		}
	}
}

func (c *sockClient) stopped(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readErr == nil {
		c.readErr = err
	}
}

// note handles a Sync notification read at at.
func (c *sockClient) note(payload []byte, at time.Time) {
	var n syncNote
	err := json.Unmarshal(payload, &n)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notes++
	if err != nil {
		return
	}
	switch n.EventType {
	case "list_item_added":
		if n.Event.ListSid == c.list && c.list != "" {
			c.arrivals = append(c.arrivals, arrival{n.Event.ItemIndex, at})
		}
	case "subscription_established", "subscription_failed":
		if ch := c.subs[n.CorrelationID]; ch != nil {
			ch <- n
		}
	}
}

// send sends a frame and waits for its reply.
func (c *sockClient) send(ctx context.Context, h twilsock.Header, payload []byte) (twilsock.Frame, error) {
	ch := make(chan twilsock.Frame, 1)
	c.mu.Lock()
	c.seq++
	h.ID = c.idBase + fmt.Sprintf("%016x", c.seq)
	c.replies[h.ID] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.replies, h.ID)
		c.mu.Unlock()
	}()
	b, err := twilsock.Encode(twilsock.Frame{Header: h, Payload: payload})
	if err != nil {
		return twilsock.Frame{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, clientRequestTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageBinary, b); err != nil {
		return twilsock.Frame{}, err
	}
	select {
	case f := <-ch:
		return f, nil
	case <-c.done:
		return twilsock.Frame{}, fmt.Errorf("socket closed: %v", c.err())
	case <-ctx.Done():
		return twilsock.Frame{}, fmt.Errorf("no reply to %s: %w", h.Method, ctx.Err())
	}
}

func (c *sockClient) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// open reports whether the socket is still being read.
func (c *sockClient) open() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// close ends the socket at once and waits for its reader.
func (c *sockClient) close() {
	c.cancel()
	c.ws.CloseNow()
	<-c.done
}

// request tunnels an HTTP request, with the headers the SDK adds (§3.5),
// and returns the answer's body; an answer other than 2xx is an error.
func (c *sockClient) request(ctx context.Context, host, method, path string, params map[string]any, body []byte) ([]byte, error) {
	headers := map[string]string{"Content-Type": "application/json; charset=utf-8"}
	if host != aimHost {
		var rid [16]byte
		rand.Read(rid[:])
		headers = map[string]string{"Content-Type": "application/json", "Twilio-Sync-Client-Info": `{"sdk":"js","sdkVer":"3.4.0"}`,
			"Twilio-Request-Id": "RQ" + hex.EncodeToString(rid[:])}
	}
	h := twilsock.Header{Method: "message", ActiveGrant: "ip_messaging", PayloadType: headers["Content-Type"],
		HTTPRequest: &twilsock.HTTPRequest{Host: host, Path: path, Method: method, Params: params, Headers: headers}}
	f, err := c.send(ctx, h, body)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	case f.Header.Status == nil || f.Header.Status.Code != http.StatusOK || f.Header.HTTPStatus == nil:
		return nil, fmt.Errorf("%s %s: transport status %+v", method, path, f.Header.Status)
	case f.Header.HTTPStatus.Code/100 != 2:
		return nil, fmt.Errorf("%s %s → %d: %s", method, path, f.Header.HTTPStatus.Code, snippet(f.Payload, 300))
	}
	return f.Payload, nil
}

// get tunnels a GET and decodes its JSON answer into out.
func (c *sockClient) get(ctx context.Context, host, path string, params map[string]any, out any) error {
	body, err := c.request(ctx, host, http.MethodGet, path, params, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: %v: %s", path, err, snippet(body, 300))
	}
	return nil
}

// getLink tunnels a GET of an absolute link parley gave, as the SDK does:
// its host, its path, its query split into params.
func (c *sockClient) getLink(ctx context.Context, link string, extra map[string]any, out any) error {
	u, err := url.Parse(link)
	if err != nil {
		return fmt.Errorf("link %q: %v", link, err)
	}
	params := map[string]any{}
	for k, v := range u.Query() {
		params[k] = v[0]
	}
	for k, v := range extra {
		params[k] = v
	}
	if len(params) == 0 {
		params = nil
	}
	return c.get(ctx, u.Host, u.EscapedPath(), params, out)
}

// syncDescriptor is what the client reads of a Sync object.
type syncDescriptor struct {
	Sid         string `json:"sid"`
	LastEventID int64  `json:"last_event_id"`
	Links       struct {
		Items string `json:"items"`
	} `json:"links"`
	Data struct { // a conversation's document
		Messages string `json:"messages"`
		Roster   string `json:"roster"`
	} `json:"data"`
}

// subObject is one object of a subscription request.
type subObject struct {
	Sid         string `json:"object_sid"`
	Type        string `json:"object_type"`
	LastEventID int64  `json:"last_event_id"`
}

// startup does what the SDK does after init (startupRequests) and
// returns once its subscriptions are established.
func (c *sockClient) startup(ctx context.Context) error {
	var cfg struct {
		SyncObjects struct {
			MyConversations string `json:"my_conversations"`
			MyUserInfo      string `json:"my_user_info"`
		} `json:"sync_objects"`
		Links struct {
			MyConversations string `json:"my_conversations"`
		} `json:"links"`
	}
	if err := c.get(ctx, aimHost, "/Client/v2/Configuration", nil, &cfg); err != nil {
		return err
	}
	if cfg.SyncObjects.MyUserInfo == "" || cfg.SyncObjects.MyConversations == "" || cfg.Links.MyConversations == "" {
		return errors.New("the configuration lacks sync_objects or links.my_conversations")
	}
	var info, convs syncDescriptor
	var mine struct {
		Conversations []struct {
			Status      string `json:"status"`
			SyncObjects struct {
				Conversation string `json:"conversation"`
			} `json:"sync_objects"`
		} `json:"conversations"`
	}
	err := parallel(
		func() error {
			return c.get(ctx, cdsHost, "/v3/Maps/"+url.PathEscape(cfg.SyncObjects.MyUserInfo), map[string]any{"Include": "items"}, &info)
		},
		func() error {
			return c.get(ctx, cdsHost, "/v3/Maps/"+url.PathEscape(cfg.SyncObjects.MyConversations), nil, &convs)
		},
		func() error { return c.getLink(ctx, cfg.Links.MyConversations, nil, &mine) },
	)
	if err != nil {
		return err
	}
	objects := []subObject{{info.Sid, "map", info.LastEventID}, {convs.Sid, "map", convs.LastEventID}}
	for _, conv := range mine.Conversations {
		var doc, list, roster syncDescriptor
		if err := c.get(ctx, cdsHost, "/v3/Documents/"+url.PathEscape(conv.SyncObjects.Conversation), nil, &doc); err != nil {
			return err
		}
		objects = append(objects, subObject{doc.Sid, "document", doc.LastEventID})
		if conv.Status != "joined" {
			continue
		}
		var items json.RawMessage
		err := parallel(
			func() error { return c.get(ctx, cdsHost, "/v3/Lists/"+url.PathEscape(doc.Data.Messages), nil, &list) },
			func() error {
				if err := c.get(ctx, cdsHost, "/v3/Maps/"+url.PathEscape(doc.Data.Roster), nil, &roster); err != nil {
					return err
				}
				return c.getLink(ctx, roster.Links.Items, map[string]any{"HideExpired": "true", "PageSize": "50", "Order": "asc"}, &items)
			},
		)
		if err != nil {
			return err
		}
		objects = append(objects, subObject{list.Sid, "list", list.LastEventID}, subObject{roster.Sid, "map", roster.LastEventID})
		c.mu.Lock()
		c.list = list.Sid
		c.mu.Unlock()
	}
	return c.subscribe(ctx, objects)
}

// subscribe establishes subscriptions to objects at their last event ids
// (twilio-sync's request, §4.6) and waits until the server says every one
// is established, with its replay completed.
func (c *sockClient) subscribe(ctx context.Context, objects []subObject) error {
	ch := make(chan syncNote, 4)
	c.mu.Lock()
	c.corr++
	corr := time.Now().UnixMilli()*1000 + c.corr%1000
	c.subs[corr] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.subs, corr)
		c.mu.Unlock()
	}()
	body, err := json.Marshal(map[string]any{"event_protocol_version": 4, "action": "establish", "correlation_id": corr,
		"retried_requests": 0, "ttl_in_s": -1, "requests": objects})
	if err != nil {
		return err
	}
	if _, err := c.request(ctx, cdsHost, http.MethodPost, "/v4/Subscriptions", nil, body); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, clientRequestTimeout)
	defer cancel()
	for done := 0; done < len(objects); {
		select {
		case n := <-ch:
			for _, e := range n.Events {
				switch {
				case n.EventType == "subscription_failed" && e.Error != nil:
					return fmt.Errorf("subscription to %s failed: %d %s", e.ObjectSid, e.Error.Code, e.Error.Message)
				case n.EventType == "subscription_failed":
					return fmt.Errorf("subscription to %s failed", e.ObjectSid)
				case e.ReplayStatus != "completed":
					return fmt.Errorf("subscription to %s: replay %q", e.ObjectSid, e.ReplayStatus)
				}
				done++
			}
		case <-c.done:
			return fmt.Errorf("socket closed while subscribing: %v", c.err())
		case <-ctx.Done():
			return fmt.Errorf("no subscription_established within %v", clientRequestTimeout)
		}
	}
	return nil
}

// parallel runs fns at once and returns the first error.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// opened is the outcome of opening clients.
type opened struct {
	clients    []*sockClient   // by index; nil where opening failed
	login      []time.Duration // dial to init's 200, per logged-in client
	ready      []time.Duration // dial to subscribed, per ready client
	errors     int
	firstErr   string
	start, end time.Time // first dial, last client ready
}

// openClients opens a client for each token, to the node urls[i] says,
// workers at a time, and runs each one's startup. Progress goes to the
// log every two seconds when what is not "".
func (b *bench) openClients(ctx context.Context, w *clientWorld, tokens, urls []string, workers int, what string) *opened {
	o := &opened{clients: make([]*sockClient, len(tokens))}
	var mu sync.Mutex
	var next atomic.Int64
	stopProgress := func() {}
	if what != "" {
		prevN, prevT := 0, time.Now()
		stopProgress = b.progress(func(now time.Time) string {
			mu.Lock()
			n, errs := len(o.ready), o.errors
			mu.Unlock()
			rate := float64(n-prevN) / now.Sub(prevT).Seconds()
			prevN, prevT = n, now
			return fmt.Sprintf("  %s %s/%s ready  %s/s now  errors %d\n", what, commas(n), commas(len(tokens)), commas(int(rate)), errs)
		})
	}
	o.start = time.Now()
	var wg sync.WaitGroup
	for range min(workers, len(tokens)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(tokens) {
					return
				}
				cctx, cancel := context.WithTimeout(ctx, clientStartTimeout)
				t0 := time.Now()
				sc, err := w.dialClient(cctx, urls[i], tokens[i])
				tLogin := time.Since(t0)
				if err == nil {
					mu.Lock()
					o.login = append(o.login, tLogin)
					mu.Unlock()
					if err = sc.startup(cctx); err != nil {
						sc.close()
					}
				}
				done := time.Now()
				cancel()
				mu.Lock()
				if err != nil {
					o.errors++
					if o.firstErr == "" {
						o.firstErr = err.Error()
					}
				} else {
					o.clients[i] = sc
					o.ready = append(o.ready, done.Sub(t0))
					if done.After(o.end) {
						o.end = done
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	stopProgress()
	return o
}

// closeClients closes every client that is open.
func closeClients(clients []*sockClient) {
	var wg sync.WaitGroup
	for _, c := range clients {
		if c != nil {
			wg.Go(c.close)
		}
	}
	wg.Wait()
}

// mintTokens mints a token for each identity.
func (w *clientWorld) mintTokens(identities []string) ([]string, error) {
	now := time.Now()
	tokens := make([]string, len(identities))
	for i, id := range identities {
		var err error
		if tokens[i], err = w.token(id, now); err != nil {
			return nil, err
		}
	}
	return tokens, nil
}

// clientsMode is the client mode: start parley, connect, hold, then the
// latency phases on one node and, on PostgreSQL, on two.
func (b *bench) clientsMode(ctx context.Context) (*report, error) {
	c := b.cfg
	rep := b.begin()
	cr := &clientsReport{StartupRequests: startupRequests}
	rep.Clients = cr
	if err := b.serveOwn(ctx, rep, "parley-clients.db"); err != nil {
		return nil, err
	}
	if err := b.checkAuth(ctx); err != nil {
		return nil, err
	}
	w, err := b.newClientWorld(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(b.log, "  API key %s; clients sign in to service %s\n", w.keySid, w.service)

	idle, err := b.connectPhase(ctx, w, &cr.Connect)
	defer closeClients(idle)
	if err != nil {
		return nil, err
	}

	phases := func(nodes []*child) error {
		for _, s := range []phaseSpec{
			{name: "low load", participants: lowLoadParticipants, interval: lowLoadInterval},
			{name: "fan-out", participants: c.clientsParticipants, interval: time.Duration(float64(time.Second) / c.clientsRate)},
		} {
			s.nodes, s.warmup, s.duration = nodes, c.warmup, c.duration
			p, err := b.latencyPhase(ctx, w, s)
			if err != nil {
				return fmt.Errorf("%s on %d node(s): %w", s.name, len(nodes), err)
			}
			cr.Phases = append(cr.Phases, p)
		}
		return nil
	}
	if err := phases([]*child{b.srv}); err != nil {
		return nil, err
	}
	if isPostgres(b.db) {
		second, err := startParley(ctx, b.bin, b.db, c.accountSid, c.authToken, filepath.Join(b.tmp, "parley-node2.log"))
		if err != nil {
			return nil, fmt.Errorf("the second node: %w", err)
		}
		defer second.stop()
		if err := waitHealthy(ctx, b.hc, second.url, second); err != nil {
			return nil, err
		}
		fmt.Fprintf(b.log, "\nsecond parley (pid %d) is serving at %s on the same database\n", second.pid(), second.url)
		if err := phases([]*child{b.srv, second}); err != nil {
			return nil, err
		}
	}
	cr.Targets = clientTargets(cr)
	return rep, nil
}

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// connectPhase opens --clients-n clients to the server, holds them for
// --duration, and records what that cost. The clients it returns (those
// ready) stay open for the caller to close.
func (b *bench) connectPhase(ctx context.Context, w *clientWorld, cr *connectReport) ([]*sockClient, error) {
	c := b.cfg
	n := c.clientsN
	pid := b.srv.pid()
	*cr = connectReport{Clients: n, Concurrency: c.clientsConcurrency}
	fmt.Fprintf(b.log, "\n== %s clients, %d at a time, each signing in for the first time\n", commas(n), c.clientsConcurrency)
	identities := make([]string, n)
	urls := make([]string, n)
	for i := range identities {
		identities[i] = fmt.Sprintf("client-%s-%d", b.pool.nonce, i)
		urls[i] = b.srv.url
	}
	tokens, err := w.mintTokens(identities)
	if err != nil {
		return nil, err
	}
	_, cr.RSSBeforeBytes, _ = procMemory(pid)
	pg := isPostgres(b.db)
	cpu0 := readPhaseCPU([]int{pid}, pg)
	o := b.openClients(ctx, w, tokens, urls, c.clientsConcurrency, "connect")
	cr.CPU = cpuBetween(cpu0, readPhaseCPU([]int{pid}, pg))
	var idle []*sockClient
	for _, sc := range o.clients {
		if sc != nil {
			idle = append(idle, sc)
		}
	}
	if err := ctx.Err(); err != nil {
		return idle, err
	}
	cr.LoggedIn, cr.Ready, cr.Errors, cr.FirstError = len(o.login), len(o.ready), o.errors, o.firstErr
	cr.Login, cr.Startup = summarizeDelays(o.login), summarizeDelays(o.ready)
	if len(o.ready) > 0 {
		wall := o.end.Sub(o.start)
		cr.Seconds = wall.Seconds()
		cr.PerSec = float64(len(o.ready)) / cr.Seconds
	}
	fmt.Fprintf(b.log, "  %s logged in, %s ready in %.1fs (%s/s), %d errors", commas(cr.LoggedIn), commas(cr.Ready),
		cr.Seconds, commas(int(cr.PerSec)), cr.Errors)
	if cr.FirstError != "" {
		fmt.Fprintf(b.log, "; the first: %s", cr.FirstError)
	}
	fmt.Fprintln(b.log)
	if cr.Ready == 0 {
		return idle, fmt.Errorf("no client got ready; the first error: %s", cr.FirstError)
	}

	// Hold: what the open clients cost at rest, and the memory they hold.
	hold := c.duration
	fmt.Fprintf(b.log, "  holding them open for %v\n", hold)
	h0 := readPhaseCPU([]int{pid}, pg)
	select {
	case <-time.After(hold):
	case <-ctx.Done():
		return idle, ctx.Err()
	}
	h1 := readPhaseCPU([]int{pid}, pg)
	cr.HoldSeconds = h1.at.Sub(h0.at).Seconds()
	cr.HoldCPU = cpuBetween(h0, h1)
	for _, sc := range idle {
		if sc.open() {
			cr.StillOpen++
		}
	}
	if peak, cur, ok := procMemory(pid); ok {
		cr.PeakRSSBytes, cr.RSSAfterBytes = peak, cur
		cr.PerClientBytes = (cur - cr.RSSBeforeBytes) / int64(max(cr.StillOpen, 1))
	}
	fmt.Fprintf(b.log, "  %s still open; server RSS %s (peak %s), %s per client; server CPU at rest %.2f cores\n",
		commas(cr.StillOpen), mb(cr.RSSAfterBytes), mb(cr.PeakRSSBytes), kib(cr.PerClientBytes), cr.HoldCPU.Servers[0])
	if dead, werr := b.srv.exited(); dead {
		return idle, fmt.Errorf("parley exited while holding the clients (%v):\n%s", werr, tail(b.srv.logPath, 20))
	}
	return idle, nil
}

// phaseSpec is one latency phase to run.
type phaseSpec struct {
	name             string
	participants     int
	interval         time.Duration // between two messages' due times
	warmup, duration time.Duration
	nodes            []*child // participant i on nodes[i%len], message k posted to nodes[k%len]
}

// posted is one message's POST.
type posted struct {
	node      int
	index     int64
	sent, got time.Time // the request sent; its 201 read
	err       string
}

// latencyPhase runs one phase (see the mode's doc): a conversation of
// s.participants, each online, messages POSTed at a fixed rate, every
// delivery timed and checked.
func (b *bench) latencyPhase(ctx context.Context, w *clientWorld, s phaseSpec) (latencyPhase, error) {
	nn := len(s.nodes)
	p := latencyPhase{Name: s.name, Nodes: nn, Participants: s.participants, Rate: float64(time.Second) / float64(s.interval),
		Warmup: int(s.warmup / s.interval), Messages: max(1, int(s.duration/s.interval))}
	tag := fmt.Sprintf("%s-%dn-%s", strings.ReplaceAll(s.name, " ", ""), nn, b.pool.nonce)
	fmt.Fprintf(b.log, "\n== %s on %d node(s): %d participants online, %g messages/s for %v after %v\n",
		s.name, nn, s.participants, p.Rate, s.duration, s.warmup)
	identities := make([]string, s.participants)
	urls := make([]string, s.participants)
	for i := range identities {
		identities[i] = fmt.Sprintf("%s-%d", tag, i)
		urls[i] = s.nodes[i%nn].url
	}
	conv, err := b.conversation(ctx, "parley-bench "+tag, identities...)
	if err != nil {
		return p, err
	}
	tokens, err := w.mintTokens(identities)
	if err != nil {
		return p, err
	}
	o := b.openClients(ctx, w, tokens, urls, min(s.participants, 64), "")
	defer closeClients(o.clients)
	if o.errors > 0 {
		return p, fmt.Errorf("%d of %d participants did not get online; the first: %s", o.errors, s.participants, o.firstErr)
	}
	for i, sc := range o.clients {
		sc.mu.Lock()
		list := sc.list
		sc.mu.Unlock()
		if !strings.HasPrefix(list, conv) {
			return p, fmt.Errorf("participant %d found no conversation %s at startup (list %q)", i, conv, list)
		}
	}
	ready := time.Since(o.start)
	fmt.Fprintf(b.log, "  conversation %s; %d participants online in %v\n", conv, s.participants, ready.Round(time.Millisecond))

	pids := make([]int, nn)
	for i, n := range s.nodes {
		pids[i] = n.pid()
	}
	defer quietGC()()
	author := "announcer-" + tag
	total := p.Warmup + p.Messages
	posts := make([]posted, total)
	start := time.Now().Add(20 * time.Millisecond)
	windowStart := start.Add(time.Duration(p.Warmup) * s.interval)
	windowEnd := windowStart.Add(time.Duration(p.Messages) * s.interval)
	var cpuMu sync.Mutex
	var cpu0, cpu1 phaseCPU
	pg := isPostgres(b.db)
	cpuTimer := time.AfterFunc(time.Until(windowStart), func() {
		cpuMu.Lock()
		defer cpuMu.Unlock()
		cpu0 = readPhaseCPU(pids, pg)
	})
	defer cpuTimer.Stop()
	var wg sync.WaitGroup
	var maxLag time.Duration
	notes0 := notesOf(o.clients)
	for k := range total {
		due := start.Add(time.Duration(k) * s.interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				wg.Wait()
				return p, ctx.Err()
			}
		}
		maxLag = max(maxLag, time.Since(due))
		node := k % nn
		wg.Go(func() { posts[k] = b.postMessage(ctx, s.nodes[node].url, conv, author, k, node) })
	}
	if d := time.Until(windowEnd); d > 0 {
		time.Sleep(d)
	}
	cpuMu.Lock()
	cpu1 = readPhaseCPU(pids, pg)
	cpuMu.Unlock()
	wg.Wait()
	p.MaxSendLagMs = ms(maxLag)

	// Deliveries: each participant must get each answered POST's index.
	byIndex := map[int64]int{} // index → k
	for k, m := range posts {
		if m.err != "" {
			p.PostErrors++
			if p.FirstPostErr == "" {
				p.FirstPostErr = m.err
			}
			continue
		}
		byIndex[m.index] = k
	}
	p.Expected = len(byIndex) * s.participants
	deadline := time.Now().Add(deliveryGrace)
	for arrivalsOf(o.clients) < p.Expected && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	p.Notifications = notesOf(o.clients) - notes0

	var rest []time.Duration
	for k := p.Warmup; k < total; k++ {
		if m := posts[k]; m.err == "" {
			rest = append(rest, m.got.Sub(m.sent))
		}
	}
	p.REST = summarizeDelays(rest)
	var far, near latencySamples
	for i, sc := range o.clients {
		sc.mu.Lock()
		arrivals := slices.Clone(sc.arrivals)
		sc.mu.Unlock()
		seen := make(map[int64]bool, len(byIndex))
		for _, a := range arrivals {
			k, ok := byIndex[a.index]
			switch {
			case !ok:
				p.Unexpected++
				continue
			case seen[a.index]:
				p.Duplicates++
				continue
			}
			seen[a.index] = true
			p.Received++
			if k < p.Warmup {
				continue
			}
			m := posts[k]
			set := &far
			if nn > 1 && i%nn == m.node {
				set = &near
			}
			set.add(a.at, m.sent, m.got)
		}
	}
	p.Missing = p.Expected - p.Received
	p.Latency = far.summary()
	if nn > 1 {
		sn := near.summary()
		p.SameNode = &sn
	}

	cpuMu.Lock()
	p.CPU = cpuBetween(cpu0, cpu1)
	cpuMu.Unlock()
	for _, pid := range pids {
		peak, _, _ := procMemory(pid)
		p.PeakRSS = append(p.PeakRSS, peak)
	}
	for _, n := range s.nodes {
		if dead, werr := n.exited(); dead {
			return p, fmt.Errorf("parley exited during the phase (%v):\n%s", werr, tail(n.logPath, 20))
		}
	}
	fmt.Fprintf(b.log, "  %s deliveries of %s (%d missing, %d repeated, %d POST errors); from the 201 p50 %s p99 %s; from the send p50 %s p99 %s; REST p50 %s\n",
		commas(p.Received), commas(p.Expected), p.Missing, p.Duplicates, p.PostErrors,
		fmtDelay(p.Latency.From201.P50Ms), fmtDelay(p.Latency.From201.P99Ms),
		fmtDelay(p.Latency.FromSend.P50Ms), fmtDelay(p.Latency.FromSend.P99Ms), fmtMs(p.REST.P50Ms))
	return p, nil
}

// quietGC keeps the load tool's own garbage collector from running until
// the returned function is called, unless its heap grows by 4 GiB. The
// tool holds every idle client's socket (--clients-n of them) besides the
// participants', so its heap is large, and a collection of it stalls the
// goroutines that read the participants' sockets, whose arrival times
// then include the tool's pauses: measured on this 2-core machine with
// 10,000 idle clients, 100 participants and 100 messages/s for 20 s, the
// fan-out p99 was 93 ms with the tool's GC on and 25 ms with it off (7 ms
// with 100 idle clients instead). The clients it stands in for are
// separate devices, each with a small heap; parley's own GC is left as it
// is. A collection first starts the phase from a clean heap.
func quietGC() (restore func()) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	percent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(int64(m.HeapAlloc) + 4<<30)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}

// latencySamples collects the delivery latencies of one set of sockets.
type latencySamples struct {
	from201, fromSend []time.Duration
	early             int
}

func (l *latencySamples) add(at, sent, got time.Time) {
	d := at.Sub(got)
	if d < 0 {
		l.early++
		d = 0
	}
	l.from201 = append(l.from201, d)
	l.fromSend = append(l.fromSend, at.Sub(sent))
}

func (l *latencySamples) summary() latencySet {
	return latencySet{Samples: len(l.from201), From201: summarizeDelays(l.from201), FromSend: summarizeDelays(l.fromSend), Early: l.early}
}

// phaseCPU is the CPU time used so far by each server, by parley-bench,
// by PostgreSQL's processes (when used) and by the whole machine; -1 when
// unknown.
type phaseCPU struct {
	servers                   []time.Duration
	client, postgres, machine time.Duration
	at                        time.Time
}

func readPhaseCPU(pids []int, postgres bool) phaseCPU {
	t := cpuNow(0)
	out := phaseCPU{client: t.client, postgres: -1, machine: t.machine, at: time.Now()}
	for _, pid := range pids {
		d, ok := procCPU(pid)
		if !ok {
			d = -1
		}
		out.servers = append(out.servers, d)
	}
	if postgres {
		out.postgres = postgresCPU()
	}
	return out
}

// cpuUse is the cores kept busy between two readings: by each server, by
// parley-bench, by PostgreSQL's processes, and by the rest of the machine
// (neighbours); -1 when unknown.
type cpuUse struct {
	Servers  []float64 `json:"server_cpu_cores"`
	Client   float64   `json:"client_cpu_cores"`
	Postgres float64   `json:"postgres_cpu_cores"`
	Other    float64   `json:"other_cpu_cores"`
}

func cpuBetween(a, b phaseCPU) cpuUse {
	wall := b.at.Sub(a.at)
	used := since(b.client, a.client)
	u := cpuUse{Client: cores(used, wall), Postgres: -1, Other: -1}
	known := used >= 0
	for i := range a.servers {
		d := since(b.servers[i], a.servers[i])
		u.Servers = append(u.Servers, cores(d, wall))
		used, known = used+d, known && d >= 0
	}
	if a.postgres >= 0 && b.postgres >= 0 {
		// Backends that ended between the readings take their CPU time
		// with them: the figure is a floor.
		d := max(0, b.postgres-a.postgres)
		u.Postgres = cores(d, wall)
		used += d
	}
	if m := since(b.machine, a.machine); known && m >= 0 {
		u.Other = cores(max(0, m-used), wall)
	}
	return u
}

// notesOf is how many notifications clients have received so far.
func notesOf(clients []*sockClient) int {
	n := 0
	for _, c := range clients {
		c.mu.Lock()
		n += c.notes
		c.mu.Unlock()
	}
	return n
}

// arrivalsOf is how many list_item_added clients have recorded.
func arrivalsOf(clients []*sockClient) int {
	n := 0
	for _, c := range clients {
		c.mu.Lock()
		n += len(c.arrivals)
		c.mu.Unlock()
	}
	return n
}

// postMessage POSTs message k to the conversation on the node at base
// and returns when it was sent, when its 201 was read (its headers: the
// client then knows it is created), and the index it got.
func (b *bench) postMessage(ctx context.Context, base, conv, author string, k, node int) posted {
	m := posted{node: node}
	form := url.Values{"Author": {author}, "Body": {fmt.Sprintf("#%d %s", k, messageText(k))}}.Encode()
	req, err := b.newRequest(ctx, http.MethodPost, base+"/v1/Conversations/"+conv+"/Messages", form)
	if err != nil {
		m.err = err.Error()
		return m
	}
	m.sent = time.Now()
	resp, err := b.hc.Do(req)
	m.got = time.Now()
	if err != nil {
		m.err = fmt.Sprintf("POST message %d: %v", k, err)
		return m
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		m.err = fmt.Sprintf("POST message %d: reading the body: %v", k, err)
	case resp.StatusCode != http.StatusCreated:
		m.err = fmt.Sprintf("POST message %d → %s: %s", k, resp.Status, snippet(body, 300))
	default:
		var v struct {
			Index *int64 `json:"index"`
		}
		if err := json.Unmarshal(body, &v); err != nil || v.Index == nil {
			m.err = fmt.Sprintf("POST message %d → 201 without an index: %s", k, snippet(body, 300))
		} else {
			m.index = *v.Index
		}
	}
	return m
}

// clientTargets holds the client mode's figures to the targets.
// A latency target is stated for a fan-out of 100 participants at 100
// messages per second; a run with other figures is still checked, and its
// label says what it measured.
func clientTargets(cr *clientsReport) []targetCheck {
	var out []targetCheck
	k := cr.Connect
	out = append(out,
		targetCheck{"logged-in connections held on one node (ready, still open after the hold)",
			fmt.Sprintf("≥ %s, every one", commas(targetClients)),
			fmt.Sprintf("%s of %s (%d errors)", commas(k.StillOpen), commas(k.Clients), k.Errors),
			k.StillOpen >= targetClients && k.StillOpen == k.Clients && k.Errors == 0},
		targetCheck{fmt.Sprintf("server peak RSS with %s open", commas(k.StillOpen)),
			fmt.Sprintf("< %s MB", commas(targetClientRSS/1_000_000)),
			fmt.Sprintf("%s MB (%s)", commas(int(k.PeakRSSBytes/1_000_000)), mb(k.PeakRSSBytes)),
			k.PeakRSSBytes > 0 && k.PeakRSSBytes < targetClientRSS},
		targetCheck{"logins per second, first sign-in, dial to subscribed",
			fmt.Sprintf("≥ %s/s", commas(targetLoginsPerSec)),
			fmt.Sprintf("%s/s (%s in %.1fs)", commas(int(k.PerSec+0.5)), commas(k.Ready), k.Seconds),
			k.PerSec >= targetLoginsPerSec},
	)
	for _, p := range cr.Phases {
		where := "one node"
		if p.Nodes > 1 {
			where = fmt.Sprintf("%d nodes, POSTed to the other node", p.Nodes)
		}
		l := p.Latency.From201
		switch {
		case p.Name == "low load" && p.Nodes == 1:
			out = append(out, targetCheck{fmt.Sprintf("REST → client p50 at low load (%d participants, %g messages/s), %s", p.Participants, p.Rate, where),
				fmt.Sprintf("< %g ms", targetLowLoadP50Ms), fmt.Sprintf("%s from the 201 (%s from the send; %s of %s arrived before the 201)",
					fmtDelay(l.P50Ms), fmtDelay(p.Latency.FromSend.P50Ms), commas(p.Latency.Early), commas(p.Latency.Samples)),
				p.Latency.Samples > 0 && l.P50Ms < targetLowLoadP50Ms})
		case p.Name == "fan-out":
			limit := targetFanoutP99Ms
			if p.Nodes > 1 {
				limit = targetFanoutP99TwoMs
			}
			label := fmt.Sprintf("delivery p99, %d participants × %g messages/s, %s", p.Participants, p.Rate, where)
			if p.Participants != targetFanoutPeople || p.Rate != targetFanoutPerSecond {
				label += fmt.Sprintf(" (the target is for %d × %d)", targetFanoutPeople, targetFanoutPerSecond)
			}
			out = append(out, targetCheck{label, fmt.Sprintf("< %g ms", limit),
				fmt.Sprintf("%s from the 201, %.2f× the target (%s from the send)", fmtDelay(l.P99Ms), l.P99Ms/limit, fmtDelay(p.Latency.FromSend.P99Ms)),
				p.Latency.Samples > 0 && l.P99Ms < limit})
		}
		out = append(out, targetCheck{fmt.Sprintf("every delivery arrived once, %s, %s", p.Name, where), "all, none twice",
			fmt.Sprintf("%s of %s, %d missing, %d repeated, %d POST errors", commas(p.Received), commas(p.Expected), p.Missing, p.Duplicates, p.PostErrors),
			p.Missing == 0 && p.Duplicates == 0 && p.Unexpected == 0 && p.PostErrors == 0 && p.Expected > 0})
	}
	return out
}

// kib formats bytes as KiB.
func kib(b int64) string { return fmt.Sprintf("%.1f KiB", float64(b)/1024) }
