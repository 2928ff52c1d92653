package core

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
)

// Presence across nodes: each node counts its client connections per
// user in the database and holds a lease on itself, renewed every
// presenceRenew. A user is online while a node with a live lease holds a
// connection of theirs. A node that dies stops renewing; once its lease
// has run out, the next reap by any other node takes its users offline
// unless another node holds them. So is_online is the same whichever
// node answers, and right within PresenceLease + presenceRenew (20 s) of
// a crash (issue 15 asks for 30).

// PresenceLease is how long a node counts as running after it last
// renewed its lease.
const PresenceLease = 15 * time.Second

// presenceRenew is how often a node renews its lease and reaps dead ones.
const presenceRenew = 5 * time.Second

// Connected counts a signed-in client connection of a user on this node
// (and renews the node's lease, so that a node counts as running from its
// first connection on).
func (a *App) Connected(ctx context.Context, svc, userSid string, opts WriteOptions) error {
	return a.presence(ctx, svc, userSid, opts, func(tx parley.Tx) error {
		if err := tx.RenewNode(ctx, a.node, a.now().Add(PresenceLease)); err != nil {
			return err
		}
		return tx.AddConnection(ctx, a.node, userSid, svc)
	})
}

// Disconnected counts a connection of a user on this node gone.
func (a *App) Disconnected(ctx context.Context, svc, userSid string, opts WriteOptions) error {
	return a.presence(ctx, svc, userSid, opts, func(tx parley.Tx) error {
		return tx.RemoveConnection(ctx, a.node, userSid)
	})
}

// presence runs change and sets the user's is_online to whether a live
// node holds a connection of theirs, with onUserUpdated when it changed.
// The user's row is locked first, so one user's changes from any node
// take turns. A user deleted meanwhile is no error: nothing is left to
// mark.
func (a *App) presence(ctx context.Context, svc, userSid string, opts WriteOptions, change func(tx parley.Tx) error) error {
	err := a.update(ctx, func(tx parley.Tx, ev *events) error {
		u, err := tx.ForUpdate().UserBySid(ctx, svc, userSid)
		if err != nil {
			return notFound(err)
		}
		if change != nil {
			if err := change(tx); err != nil {
				return notFound(err)
			}
		}
		online, err := tx.UserConnected(ctx, userSid, a.now())
		if err != nil || u.IsOnline != nil && *u.IsOnline == online {
			return err
		}
		if err := tx.SetOnline(ctx, userSid, online); err != nil {
			return notFound(err)
		}
		u.IsOnline = &online
		ev.add(userEvent(parley.EventUserUpdated, u, a.clock(), opts))
		return nil
	})
	if err != nil && parley.AsError(err).Kind == parley.KindNotFound {
		return nil
	}
	return err
}

// ReapPresence renews this node's lease and reaps the nodes whose lease
// has run out: their connections go, and their users go offline unless
// another node holds them.
func (a *App) ReapPresence(ctx context.Context) error {
	var users []parley.UserRef
	err := a.store.Update(ctx, func(tx parley.Tx) error {
		now := a.now()
		if err := tx.RenewNode(ctx, a.node, now.Add(PresenceLease)); err != nil {
			return err
		}
		var err error
		users, err = tx.ReapNodes(ctx, now)
		return err
	})
	if err != nil {
		return err
	}
	opts := WriteOptions{Webhooks: true, Source: parley.SourceSDK}
	for _, u := range users {
		if err := a.presence(ctx, u.ServiceSid, u.UserSid, opts, nil); err != nil {
			return err
		}
	}
	return nil
}

// RunPresence renews this node's lease and reaps dead nodes every
// presenceRenew until ctx ends.
func (a *App) RunPresence(ctx context.Context) {
	t := time.NewTicker(presenceRenew)
	defer t.Stop()
	for {
		if err := a.ReapPresence(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("presence: lease", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
