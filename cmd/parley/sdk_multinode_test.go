package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/nodetest"
	"github.com/parleyhq/parley/internal/pgtest"
)

// TestTwoNodesWithClientSDK runs real @twilio/conversations clients
// (2.7.0 and 3.0.1) on two parley processes sharing one PostgreSQL, each
// node behind a balancer as a team would run them, and drives
// ../../sdktest/node/multinode.mjs through it: messages, typing, read
// horizon and presence cross nodes; a cut LISTEN connection loses
// nothing; a node stopped with SIGTERM sends its clients to the other,
// which replays what they missed; a node killed with SIGKILL loses its
// clients to the other, which replays what they missed, and its users
// who do not come back go offline within 30 s.
//
// The script asks for what only this side can do by printing "ASK
// <what>" and waiting for "OK" (or an error) on its stdin.
func TestTwoNodesWithClientSDK(t *testing.T) {
	t.Parallel()
	nodeBin := nodetest.Require(t, "../../sdktest/node")
	// The nodes' connections carry a name of their own, so that cutting
	// their LISTEN connections touches no other test's.
	appName := "parley-sdk-" + parley.NewSID("")[:12]
	dsn := pgtest.DSN(t) + "&application_name=" + appName
	a, b := twoNodesOn(t, dsn)

	var mu sync.Mutex
	nodes := map[string]*process{"A": a, "B": b}
	addrs := func(names ...string) []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, n := range names {
			out = append(out, strings.TrimPrefix(nodes[n].url, "http://"))
		}
		return out
	}
	toA := newBalancer(t, func() []string { return addrs("A", "B") })
	toB := newBalancer(t, func() []string { return addrs("B", "A") })
	// REST goes through a balancer of its own, never held.
	rest := newBalancer(t, func() []string { return addrs("B", "A") })

	var keyOut strings.Builder
	if err := run(context.Background(), []string{"parley", "keys", "create", "--db", dsn},
		func(string) string { return "" }, &keyOut, io.Discard); err != nil {
		t.Fatal(err)
	}
	var keySid, secret string
	for _, line := range strings.Split(keyOut.String(), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "API" {
			keySid = f[3]
		} else if len(f) == 2 && f[0] == "secret" {
			secret = f[1]
		}
	}
	_, cfg := b.do(t, "GET", "/v1/Configuration", "", false)
	ws := func(u string) string { return "ws" + strings.TrimPrefix(u, "http") + "/v3/wsconnect" }

	env := []string{
		"PARLEY_URL=" + rest.url(),
		"PARLEY_URL_A=" + toA.url(),
		"PARLEY_WS_A=" + ws(toA.url()),
		"PARLEY_WS_B=" + ws(toB.url()),
		"PARLEY_WS_A_ONLY=" + ws(a.url),
		"PARLEY_ACCOUNT_SID=" + a.account,
		"PARLEY_AUTH_TOKEN=" + a.token,
		"PARLEY_DEFAULT_SERVICE_SID=" + decodeJSON(t, cfg)["default_chat_service_sid"].(string),
		"PARLEY_API_KEY_SID=" + keySid,
		"PARLEY_API_KEY_SECRET=" + secret,
	}
	ctx := context.Background()
	var failed []string
	out := nodetest.Script(t, nodeBin, "../../sdktest/node", "multinode.mjs", env, 2*time.Minute, func(line string, stdin io.Writer) {
		what, ok := strings.CutPrefix(line, "ASK ")
		if !ok {
			return
		}
		var err error
		switch what {
		case "hold":
			toA.hold()
			toB.hold()
		case "release":
			toA.release()
			toB.release()
		case "cut-listeners":
			err = cutListeners(ctx, dsn, appName, 2)
		case "term-b":
			mu.Lock()
			old := nodes["B"]
			mu.Unlock()
			old.term(t)
		case "start-b":
			p := startProcess(t, "--db", dsn)
			mu.Lock()
			nodes["B"] = p
			mu.Unlock()
		case "kill-a":
			mu.Lock()
			old := nodes["A"]
			mu.Unlock()
			old.kill()
		default:
			if placed, ok := strings.CutPrefix(what, "placed "); ok {
				want := map[string]string{}
				for _, kv := range strings.Fields(placed) {
					identity, node, _ := strings.Cut(kv, "=")
					want[identity] = node
				}
				err = checkPlaced(ctx, dsn, want)
				break
			}
			err = fmt.Errorf("unknown request %q", what)
		}
		answer := "OK"
		if err != nil {
			failed = append(failed, what+": "+err.Error())
			answer = "ERR " + strings.ReplaceAll(err.Error(), "\n", " ")
		}
		fmt.Fprintln(stdin, answer)
	})
	if len(failed) > 0 {
		t.Fatalf("multinode.mjs: %v; output:\n%s", failed, out)
	}
	t.Logf("%s", out)
}

// checkPlaced checks on which node each identity's one client connection
// is: identities given the same letter share a node, different letters
// different nodes. Others' connections may be anywhere.
func checkPlaced(ctx context.Context, dsn string, want map[string]string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT u.identity, c.node, c.conns FROM client_connections c JOIN users u ON u.sid = c.user_sid`)
	if err != nil {
		return err
	}
	got := map[string]string{}
	for rows.Next() {
		var identity, node string
		var conns int
		if err := rows.Scan(&identity, &node, &conns); err != nil {
			return err
		}
		if _, dup := got[identity]; dup || conns != 1 {
			return fmt.Errorf("%s has connections on more than one node, or %d on one", identity, conns)
		}
		got[identity] = node
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for x, lx := range want {
		for y, ly := range want {
			if got[x] == "" || got[y] == "" {
				return fmt.Errorf("connections by node: %v, want %v", got, want)
			}
			if (lx == ly) != (got[x] == got[y]) {
				return fmt.Errorf("connections by node: %v, want %v", got, want)
			}
		}
	}
	return nil
}

// cutListeners ends the LISTEN connections of the nodes whose connections
// are named appName, as a network or a database restart would, and
// checks that there were n.
func cutListeners(ctx context.Context, dsn, appName string, n int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var cut int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`, appName).Scan(&cut); err != nil {
		return err
	}
	if cut != n {
		return fmt.Errorf("cut %d listening connections, want %d", cut, n)
	}
	return nil
}

// balancer is a TCP load balancer in front of parley nodes: each new
// connection goes to the first node, in its order, that accepts one, as
// a load balancer's health checks would choose. Connections already open
// stay where they are until their node goes away.
type balancer struct {
	ln       net.Listener
	backends func() []string // host:port, in order of preference
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	gate     chan struct{} // while not nil, new connections wait for it
	closing  chan struct{}
	wg       sync.WaitGroup
}

func newBalancer(t *testing.T, backends func() []string) *balancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lb := &balancer{ln: ln, backends: backends, conns: map[net.Conn]struct{}{}, closing: make(chan struct{})}
	lb.wg.Go(lb.serve)
	t.Cleanup(lb.close)
	return lb
}

func (lb *balancer) url() string { return "http://" + lb.ln.Addr().String() }

func (lb *balancer) serve() {
	for {
		in, err := lb.ln.Accept()
		if err != nil {
			return
		}
		lb.wg.Go(func() { lb.forward(in) })
	}
}

// hold makes new connections wait, as a network partition between the
// clients and every node would, until release.
func (lb *balancer) hold() {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.gate == nil {
		lb.gate = make(chan struct{})
	}
}

func (lb *balancer) release() {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.gate != nil {
		close(lb.gate)
		lb.gate = nil
	}
}

func (lb *balancer) forward(in net.Conn) {
	lb.mu.Lock()
	gate := lb.gate
	lb.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-lb.closing:
			in.Close()
			return
		}
	}
	var out net.Conn
	for _, addr := range lb.backends() {
		var err error
		if out, err = net.DialTimeout("tcp", addr, time.Second); err == nil {
			break
		}
	}
	if out == nil || !lb.track(in, out) {
		in.Close()
		if out != nil {
			out.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done // either side gone: end both, as a balancer does
	in.Close()
	out.Close()
	<-done
	lb.mu.Lock()
	delete(lb.conns, in)
	delete(lb.conns, out)
	lb.mu.Unlock()
}

// track records a connection pair, unless the balancer is closing.
func (lb *balancer) track(in, out net.Conn) bool {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.conns == nil {
		return false
	}
	lb.conns[in], lb.conns[out] = struct{}{}, struct{}{}
	return true
}

func (lb *balancer) close() {
	close(lb.closing)
	lb.ln.Close()
	lb.mu.Lock()
	for c := range lb.conns {
		c.Close()
	}
	lb.conns = nil
	lb.mu.Unlock()
	lb.wg.Wait()
}

// term stops p with SIGTERM, as an orchestrator does, and waits for it.
func (p *process) term(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("parley still running 20 s after SIGTERM: %s", p.stderr)
	}
}
