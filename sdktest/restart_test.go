package sdktest

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/api"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/nodetest"
	"github.com/parleyhq/parley/sqlite"
)

// node is one run of parley on a database file and an address, as a
// process would be: stopping it tells its clients to reconnect (twilsock
// close 308) and closes the database.
type node struct {
	app   *core.App
	boot  core.Boot
	api   *api.Server
	http  *http.Server
	store *sqlite.Store
	done  chan struct{}
}

func startNode(t *testing.T, db, addr string, before func(*core.App)) *node {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	boot, err := core.Bootstrap(ctx, store, core.BootstrapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	app := core.New(core.Options{Store: store, Account: boot.Account})
	if before != nil {
		before(app)
	}
	var ln net.Listener
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	h := api.New(api.Options{App: app})
	n := &node{app: app, boot: boot, api: h, http: &http.Server{Handler: h}, store: store, done: make(chan struct{})}
	go func() { n.http.Serve(ln); close(n.done) }()
	return n
}

func (n *node) stop(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.api.Shutdown(ctx); err != nil {
		t.Errorf("client shutdown: %v", err)
	}
	if err := n.http.Shutdown(ctx); err != nil {
		t.Errorf("http shutdown: %v", err)
	}
	<-n.done
	if err := n.store.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// TestNodeRestart: real @twilio/conversations clients connected to a
// parley that restarts reconnect on their own and are told what was
// written while it was down (node/restart.mjs).
func TestNodeRestart(t *testing.T) {
	nodeBin := nodetest.Require(t, "node")
	db := filepath.Join(t.TempDir(), "parley.db")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	first := startNode(t, db, addr, nil)
	key, secret, err := first.app.CreateAPIKey(context.Background(), "node")
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PARLEY_URL=http://" + addr,
		"PARLEY_ACCOUNT_SID=" + first.boot.Account.Sid,
		"PARLEY_AUTH_TOKEN=" + first.boot.Account.AuthToken,
		"PARLEY_DEFAULT_SERVICE_SID=" + first.boot.DefaultServiceSid,
		"PARLEY_API_KEY_SID=" + key.Sid,
		"PARLEY_API_KEY_SECRET=" + secret,
	}
	var second *node
	out := nodetest.Script(t, nodeBin, "node", "restart.mjs", env, nodeTimeout, func(line string, _ io.Writer) {
		conv, ok := strings.CutPrefix(line, "READY ")
		if !ok {
			return
		}
		// Restart: the first run stops (its clients are told to go), and
		// the second writes, as a backend on another node would have
		// meanwhile, before it listens.
		first.stop(t)
		second = startNode(t, db, addr, func(app *core.App) {
			author, body := "bob", "sent while parley was down"
			if _, err := app.CreateMessage(context.Background(), "", conv, core.MessageInput{Author: &author, Body: &body}, core.WriteOptions{}); err != nil {
				t.Errorf("message while down: %v", err)
			}
		})
		t.Cleanup(func() { second.stop(t) }) // also when the script fails
	})
	if second == nil {
		t.Fatalf("the script never got ready:\n%s", out)
	}
	t.Logf("%s", out)
}
