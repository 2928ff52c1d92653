package clientapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/twilsock"
)

// Presence keeps users' is_online in step with their connections
// (client-sdk-protocol.md §4.7): each signed-in connection is counted in
// the database for this node (core.Connected), so a user is online from
// their first connection on any node until their last one ends, and a
// node that dies takes its users offline (core.RunPresence).
type Presence struct {
	App *core.App
	Log *slog.Logger
}

// SignedIn counts a new connection (twilsock.Options.SignedIn).
func (p *Presence) SignedIn(c *twilsock.Conn) { p.change(c, p.App.Connected) }

// Closed counts a connection gone (twilsock.Options.Closed).
func (p *Presence) Closed(c *twilsock.Conn) { p.change(c, p.App.Disconnected) }

func (p *Presence) change(c *twilsock.Conn, fn func(ctx context.Context, svc, userSid string, opts core.WriteOptions) error) {
	g := c.Grant()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := core.WriteOptions{Webhooks: true, Source: parley.SourceSDK, ClientIdentity: g.Identity}
	if err := fn(ctx, g.ServiceSid, g.UserSid, opts); err != nil {
		p.Log.Error("presence", "identity", g.Identity, "err", err)
	}
}
