package twilsock

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley"
)

// Grant is what a verified access token lets a connection do.
type Grant struct {
	Identity   string
	UserSid    string
	ServiceSid string
	// PushCredentialSid is the credential the token names for the
	// device's push registrations.
	PushCredentialSid string
	Expires           time.Time
}

// Response is the answer to a tunnelled request.
type Response struct {
	Status  int
	Headers map[string]string
	Body    []byte
	// After, when set, runs once the reply is sent: what the client must
	// receive after it (Sync's subscription_established).
	After func(ctx context.Context, c *Conn)
}

// Conn is one signed-in client connection.
type Conn struct {
	ws  *websocket.Conn
	srv *Server
	// BaseURL is the scheme and host the client connected to (or the
	// server's public URL): the base of the links it is given.
	BaseURL string
	mu      sync.Mutex // guards grant and the expiry timers
	// grant is the current token's; an update replaces it.
	grant    Grant
	signedIn bool
	warn     *time.Timer
	expire   *time.Timer
	// ping is the keepalive's timer: a timer, not a goroutine per
	// connection, whose stack would cost more than the rest of an idle
	// connection (parley-bench --clients).
	ping    *time.Timer
	closing chan struct{}
	once    sync.Once
}

// Grant returns the connection's current grant.
func (c *Conn) Grant() Grant {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.grant
}

// Options configure a Server.
type Options struct {
	// Verify checks an access token. A *parley.Error it returns is the
	// reply's status: its HTTP status, with its Twilio code as errorCode.
	Verify func(ctx context.Context, token string) (Grant, error)
	// Upstream answers a tunnelled request of a signed-in connection.
	Upstream func(ctx context.Context, c *Conn, req HTTPRequest, body []byte) Response
	Log      *slog.Logger
	// Ping is how often a keepalive goes to each client (the Kotlin SDK
	// gives up after 45 s of silence); 30 s when zero.
	Ping time.Duration
	// ExpiryWarning is how long before its token expires a client is told
	// to renew it (client_update token_about_to_expire); 3 minutes when
	// zero, as Twilio's Sync documentation says.
	ExpiryWarning time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// BaseURL gives a connection's BaseURL from its upgrade request.
	BaseURL func(*http.Request) string
	// InitTimeout is how long a new socket has to send its init before it
	// is closed; 30 s when zero.
	InitTimeout time.Duration
	// SignedIn, when set, is called once a connection has signed in (after
	// its init reply), and Closed when a signed-in connection has ended:
	// presence follows them.
	SignedIn, Closed func(c *Conn)
}

// Server runs the twilsock endpoint (/v3/wsconnect): one goroutine reads
// each connection; tunnelled requests run concurrently, at most
// maxInFlight per connection.
type Server struct {
	o     Options
	mu    sync.Mutex
	conns map[*Conn]struct{}
	down  bool
	wg    sync.WaitGroup
}

const maxInFlight = 16

// New returns a server.
func New(o Options) *Server {
	if o.Ping == 0 {
		o.Ping = 30 * time.Second
	}
	if o.ExpiryWarning == 0 {
		o.ExpiryWarning = 3 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.InitTimeout == 0 {
		o.InitTimeout = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Server{o: o, conns: map[*Conn]struct{}{}}
}

// ServeHTTP upgrades the request to a WebSocket and serves it until it
// closes. Any origin may connect: browsers do not apply CORS to
// WebSockets, and the access token, not the origin, is the credential.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.down
	if !down {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if down {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered
	}
	ws.SetReadLimit(int64(MaxFrame))
	c := &Conn{ws: ws, srv: s, closing: make(chan struct{})}
	if s.o.BaseURL != nil {
		c.BaseURL = s.o.BaseURL(r)
	}
	// Known from the start, so that Shutdown reaches connections that
	// have not signed in yet too.
	s.mu.Lock()
	s.conns[c] = struct{}{}
	down = s.down
	s.mu.Unlock()
	if down {
		// Shutdown began while this socket was opening, after it looked.
		c.closeWith(308, "Offload", offload)
		c.stop()
		return
	}
	defer c.stop()
	c.serve(context.WithoutCancel(r.Context()))
}

// serve reads frames until the socket closes.
func (c *Conn) serve(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	signedIn := false
	sem := make(chan struct{}, maxInFlight)
	var inflight sync.WaitGroup
	defer inflight.Wait()
	for {
		readCtx, cancelRead := ctx, context.CancelFunc(func() {})
		if !signedIn {
			// A socket must sign in soon; one that never does would hold a
			// goroutine for nothing.
			readCtx, cancelRead = context.WithTimeout(ctx, c.srv.o.InitTimeout)
		}
		typ, b, err := c.ws.Read(readCtx)
		cancelRead()
		if err != nil {
			return
		}
		f, err := Decode(b)
		if typ != websocket.MessageBinary && typ != websocket.MessageText || err != nil {
			c.closeWith(406, "Cannot parse protocol", nil)
			return
		}
		h := f.Header
		switch {
		case h.Method == "init" && !signedIn:
			if signedIn = c.init(ctx, h); !signedIn {
				c.ws.Close(websocket.StatusPolicyViolation, "access token refused")
				return
			}
		case !signedIn:
			c.closeWith(406, "init first", nil)
			return
		case h.Method == "update":
			c.update(ctx, h)
		case h.Method == "message":
			sem <- struct{}{}
			inflight.Add(1)
			go func() {
				defer func() { <-sem; inflight.Done() }()
				c.tunnel(ctx, f)
			}()
		case h.Method == "close":
			c.ws.Close(websocket.StatusNormalClosure, "")
			return
		case h.Method == "reply":
			// the client's acknowledgement of a server frame
		default:
			// telemetry, notification contexts: nothing to do but agree
			c.reply(ctx, h.ID, &Status{Code: 200, Status: "OK"}, nil)
		}
	}
}

// statusOf is the reply status for a refusal. The SDK gives up for good
// on 401 and 403 (state "denied") and retries on 5xx, so what may pass
// later (a node stopping, a database error) is 500, and every refusal of
// the token or of its user is 401 or 403.
func statusOf(err error) *Status {
	var pe *parley.Error
	if !errors.As(err, &pe) || pe.Kind == parley.KindInternal || pe.Kind == parley.KindUnavailable {
		return &Status{Code: 500, Status: "Internal Server Error"}
	}
	code := 403
	if pe.Kind == parley.KindUnauthorized {
		code = 401
	}
	return &Status{Code: code, Status: http.StatusText(code), Description: pe.Message, ErrorCode: pe.Code}
}

// init signs the connection in: the token verified, the reply sent, the
// keepalive and expiry started. It reports whether it succeeded.
func (c *Conn) init(ctx context.Context, h Header) bool {
	g, err := c.srv.o.Verify(ctx, h.Token)
	if err != nil {
		c.reply(ctx, h.ID, statusOf(err), nil)
		return false
	}
	c.srv.mu.Lock()
	down := c.srv.down
	c.srv.mu.Unlock()
	if down {
		// Signed in while the node began to stop, after Shutdown looked:
		// off to another node too.
		c.closeWith(308, "Offload", offload)
		return false
	}
	// parley keeps no per-connection state across reconnects (replay
	// comes from the event log), so every continuation token is new.
	status := &TokenStatus{Reissued: true, ReissueReason: "MISSING", ReissueMsg: "Continuation token is not provided"}
	if h.ContinuationToken != nil && *h.ContinuationToken != "" {
		status = &TokenStatus{Reissued: true, ReissueReason: "EXPIRED", ReissueMsg: "Continuation tokens last one connection"}
	}
	regs := make([]json.RawMessage, 0, len(h.Registrations))
	for _, r := range h.Registrations {
		var reg map[string]any
		if json.Unmarshal(r, &reg) == nil {
			reg["notification_ctx_id"] = parley.NewSID("NC")
			if b, err := json.Marshal(reg); err == nil {
				regs = append(regs, b)
			}
		}
	}
	// Counted before the reply: a client that has its reply is online.
	c.mu.Lock()
	c.grant, c.signedIn = g, true
	c.mu.Unlock()
	if c.srv.o.SignedIn != nil {
		c.srv.o.SignedIn(c)
	}
	token := parley.NewSID("CT")
	c.send(ctx, Frame{Header: Header{Method: "reply", ID: h.ID, Status: &Status{Code: 200, Status: "OK"},
		Capabilities: []string{"client_update"}, ContinuationToken: &token, ContinuationTokenStatus: status,
		InitRegistrations: regs}})
	// The expiry warning may be due at once; it must follow the reply.
	c.setGrant(g)
	c.keepalive()
	return true
}

// update replaces the connection's token with one for the same user.
func (c *Conn) update(ctx context.Context, h Header) {
	g, err := c.srv.o.Verify(ctx, h.Token)
	if err == nil {
		if old := c.Grant(); g.Identity != old.Identity || g.ServiceSid != old.ServiceSid {
			err = parley.Errorf(parley.KindUnauthorized, 20103, "The new token is for another user or service than the connection's")
		}
	}
	if err != nil {
		c.reply(ctx, h.ID, statusOf(err), nil)
		return
	}
	c.reply(ctx, h.ID, &Status{Code: 200, Status: "OK"}, nil)
	c.setGrant(g)
}

// setGrant installs a grant and arms its expiry.
func (c *Conn) setGrant(g Grant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.grant = g
	c.armLocked()
}

// armLocked (re)arms the grant's expiry, c.mu held: a warning, then a
// close with 410 at the expiry itself. A stopped connection gets no
// timers to hold it.
func (c *Conn) armLocked() {
	select {
	case <-c.closing:
		return
	default:
	}
	g := c.grant
	if c.warn != nil {
		c.warn.Stop()
		c.expire.Stop()
	}
	left := g.Expires.Sub(c.srv.o.Now())
	c.warn = time.AfterFunc(max(left-c.srv.o.ExpiryWarning, 0), func() {
		c.send(context.Background(), Frame{Header: Header{Method: "client_update", ID: parley.NewSID("TM"),
			ClientUpdateType: "token_about_to_expire"}})
	})
	c.expire = time.AfterFunc(max(left, 0), func() {
		c.closeWith(410, "Token expired", nil)
	})
}

// openConns returns the connections open now.
func (s *Server) openConns() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns
}

// OffloadAll tells every client to reconnect (close 308), as after a
// reset (emulator mode) that took away what their connections knew;
// new connections are welcome.
func (s *Server) OffloadAll() {
	for _, c := range s.openConns() {
		go c.Offload()
	}
}

// Rearm re-arms every signed-in connection's token expiry from the
// clock's time, after the clock moved (emulator mode): a token the new
// time puts past its expiry closes the connection at once (410), as it
// would have when the time came.
func (s *Server) Rearm() {
	for _, c := range s.openConns() {
		// Under the lock throughout: an update the client sends meanwhile
		// is not undone by the grant read before it.
		c.mu.Lock()
		if c.signedIn {
			c.armLocked()
		}
		c.mu.Unlock()
	}
}

// tunnel answers one tunnelled request.
func (c *Conn) tunnel(ctx context.Context, f Frame) {
	if f.Header.HTTPRequest == nil {
		c.reply(ctx, f.Header.ID, &Status{Code: 400, Status: "Bad Request", Description: "no http_request"}, nil)
		return
	}
	res := c.srv.o.Upstream(ctx, c, *f.Header.HTTPRequest, f.Payload)
	headers := res.Headers
	if headers == nil {
		headers = map[string]string{"content-type": "application/json"}
	}
	err := c.send(ctx, Frame{Header: Header{Method: "reply", ID: f.Header.ID, PayloadType: "application/json",
		Status: &Status{Code: 200, Status: "OK"}, HTTPStatus: &Status{Code: res.Status, Status: http.StatusText(res.Status)},
		HTTPHeaders: headers}, Payload: res.Body})
	if err == nil && res.After != nil {
		res.After(ctx, c)
	}
}

// keepalive pings the client every Ping until the connection ends.
func (c *Conn) keepalive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ping = time.AfterFunc(c.srv.o.Ping, func() {
		select {
		case <-c.closing:
			return
		default:
		}
		c.send(context.Background(), Frame{Header: Header{Method: "ping", ID: parley.NewSID("TM")}})
		c.mu.Lock()
		defer c.mu.Unlock()
		select {
		case <-c.closing:
		default:
			c.ping.Reset(c.srv.o.Ping)
		}
	})
}

// Notify sends the client a notification of messageType (a Sync event,
// a typing indicator).
func (c *Conn) Notify(ctx context.Context, messageType string, payload []byte) error {
	return c.send(ctx, Frame{Header: Header{Method: "notification", ID: parley.NewSID("TM"), MessageType: messageType,
		PayloadType: "application/json"}, Payload: payload})
}

func (c *Conn) reply(ctx context.Context, id string, status *Status, payload []byte) {
	c.send(ctx, Frame{Header: Header{Method: "reply", ID: id, Status: status}, Payload: payload})
}

// send writes one frame; a write that cannot finish in 10 s ends the
// connection (a client that stopped reading must not hold the server).
func (c *Conn) send(ctx context.Context, f Frame) error {
	b, err := Encode(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageBinary, b); err != nil {
		c.ws.CloseNow()
		return err
	}
	return nil
}

// closeWith sends twilsock's close (308 reconnect elsewhere, 406 bad
// protocol, 410 token expired) and closes the socket.
func (c *Conn) closeWith(code int, reason string, payload []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.send(ctx, Frame{Header: Header{Method: "close", ID: parley.NewSID("TM"), Status: &Status{Code: code, Status: reason}},
		Payload: payload})
	c.ws.Close(websocket.StatusNormalClosure, reason)
}

// stop forgets the connection and its timers.
func (c *Conn) stop() {
	c.once.Do(func() {
		c.mu.Lock()
		close(c.closing)
		if c.warn != nil {
			c.warn.Stop()
			c.expire.Stop()
		}
		if c.ping != nil {
			c.ping.Stop()
		}
		signedIn := c.signedIn
		c.mu.Unlock()
		c.srv.mu.Lock()
		delete(c.srv.conns, c)
		c.srv.mu.Unlock()
		c.ws.CloseNow()
		if signedIn && c.srv.o.Closed != nil {
			c.srv.o.Closed(c)
		}
	})
}

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.closing }

// Offload tells the client to reconnect (close 308) and ends the
// connection: what a node does when it stops, or when a client has
// fallen too far behind to be fed (it catches up by replay when it
// reconnects).
func (c *Conn) Offload() { c.closeWith(308, "Offload", offload) }

// offload is the close payload of a node going down: reconnect (to
// another node, through the load balancer) after a second or so.
var offload = []byte(`{"backoff_policy":{"reconnect_min_ms":1000,"reconnect_max_ms":3000}}`)

// Shutdown tells every client to reconnect elsewhere (close 308), refuses
// new connections, and waits for the connections to end or ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.down = true
	s.mu.Unlock()
	for _, c := range s.openConns() {
		go c.Offload()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
