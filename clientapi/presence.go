package clientapi

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/twilsock"
)

// Presence keeps users' is_online in step with their connections on this
// node (client-sdk-protocol.md §4.7): online from their first signed-in
// connection, offline when their last one ends. One user's changes are
// written one at a time, in the order they happen, so a quick reconnect
// never ends offline.
//
// Across nodes, each node counts only its own connections; issue 15's
// lease table makes presence shared and crash-proof.
type Presence struct {
	App *core.App
	Log *slog.Logger

	mu    sync.Mutex
	users map[string]*userPresence
}

// userPresence is one user's connections on this node.
type userPresence struct {
	mu    sync.Mutex // held across the write, so writes keep their order
	conns int
	refs  int // callers between lookup and release (guarded by Presence.mu)
}

// SignedIn counts a new connection (twilsock.Options.SignedIn).
func (p *Presence) SignedIn(c *twilsock.Conn) { p.change(c, +1) }

// Closed counts a connection gone (twilsock.Options.Closed).
func (p *Presence) Closed(c *twilsock.Conn) { p.change(c, -1) }

func (p *Presence) change(c *twilsock.Conn, delta int) {
	g := c.Grant()
	up := p.acquire(g.UserSid)
	defer p.release(g.UserSid, up)
	up.mu.Lock()
	defer up.mu.Unlock()
	before := up.conns > 0
	up.conns += delta
	if after := up.conns > 0; after != before {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		opts := core.WriteOptions{Webhooks: true, Source: parley.SourceSDK, ClientIdentity: g.Identity}
		if err := p.App.SetOnline(ctx, g.ServiceSid, g.UserSid, after, opts); err != nil {
			p.Log.Error("presence", "identity", g.Identity, "online", after, "err", err)
		}
	}
}

// acquire returns the user's entry, holding it in the map.
func (p *Presence) acquire(user string) *userPresence {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.users == nil {
		p.users = map[string]*userPresence{}
	}
	up := p.users[user]
	if up == nil {
		up = &userPresence{}
		p.users[user] = up
	}
	up.refs++
	return up
}

// release drops the entry of a user with no connections and no callers.
func (p *Presence) release(user string, up *userPresence) {
	p.mu.Lock()
	defer p.mu.Unlock()
	up.refs--
	if up.refs == 0 {
		up.mu.Lock()
		idle := up.conns == 0
		up.mu.Unlock()
		if idle {
			delete(p.users, user)
		}
	}
}
