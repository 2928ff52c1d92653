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

// A store one node has alone (SQLite) needs no lease: that node's lease
// never runs out, and StartPresence reaps every earlier run of it, all
// dead by then, so it writes nothing while it runs.

// shared reports whether other nodes may share the store.
func (a *App) shared() bool {
	_, ok := a.backend().(parley.Listener)
	return ok
}

// backend is the store itself, without the emulator's reset guard, for
// what is asked of the backend's own kind (whether it is shared, its
// stats): the guard only orders writes.
func (a *App) backend() parley.Store {
	if a.guard != nil {
		return a.guard.Store
	}
	return a.store
}

// lease is how long this node's lease lasts from a renewal.
func (a *App) lease() time.Duration {
	if a.shared() {
		return PresenceLease
	}
	return 100 * 365 * 24 * time.Hour
}

// StartPresence runs before a node serves: on a shared store it renews
// the node's lease and reaps the dead nodes; on a store the node has
// alone, every node recorded is an earlier run of it, dead, and is
// reaped with its users' presence.
func (a *App) StartPresence(ctx context.Context) error {
	if a.shared() {
		return a.ReapPresence(ctx)
	}
	return a.reap(ctx, time.Unix(1<<40, 0))
}

// Connected counts a signed-in client connection of a user on this node
// (and renews the node's lease, so that a node counts as running from its
// first connection on).
// The lease is renewed here only when less than half of it is left (it
// is renewed every presenceRenew anyway): every sign-in upserting the
// node's one row made them all wait on its lock, which held PostgreSQL
// to 330 sign-ins a second (parley-bench --clients).
func (a *App) Connected(ctx context.Context, svc, userSid string, opts WriteOptions) error {
	var renewed time.Time
	err := a.presence(ctx, svc, userSid, opts, func(tx parley.Tx) error {
		renewed = time.Time{}
		if now := a.now(); now.Add(a.lease() / 2).After(a.leaseUntil()) {
			renewed = now.Add(a.lease())
			if err := tx.RenewNode(ctx, a.node, renewed); err != nil {
				return err
			}
		}
		return tx.AddConnection(ctx, a.node, userSid, svc)
	})
	if err == nil {
		a.leaseRenewed(renewed)
	}
	return err
}

// leaseUntil is the end of this node's lease as it last renewed it.
func (a *App) leaseUntil() time.Time { return time.Unix(0, a.leaseEnd.Load()) }

// leaseRenewed notes a committed renewal that ends at until (zero: none).
func (a *App) leaseRenewed(until time.Time) {
	if !until.IsZero() {
		a.leaseEnd.Store(until.UnixNano())
	}
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
	return a.reap(ctx, time.Time{})
}

// reap renews this node's lease and reaps the nodes whose lease ended
// before upTo (now, when zero): this node's only when upTo is past its
// lease, which StartPresence on a store with one node never sees, the
// node having no row yet.
func (a *App) reap(ctx context.Context, upTo time.Time) error {
	var users []parley.UserRef
	var renewed time.Time
	err := a.store.Update(ctx, func(tx parley.Tx) error {
		now := a.now()
		renewed = time.Time{}
		if upTo.IsZero() {
			upTo, renewed = now, now.Add(a.lease())
			if err := tx.RenewNode(ctx, a.node, renewed); err != nil {
				return err
			}
		}
		var err error
		users, err = tx.ReapNodes(ctx, upTo)
		return err
	})
	if err != nil {
		return err
	}
	a.leaseRenewed(renewed)
	opts := WriteOptions{Webhooks: true, Source: parley.SourceSDK}
	for _, u := range users {
		if err := a.presence(ctx, u.ServiceSid, u.UserSid, opts, nil); err != nil {
			return err
		}
	}
	return nil
}

// RunPresence renews this node's lease and reaps dead nodes every
// presenceRenew until ctx ends, on a shared store (on one a node has
// alone, it returns at once: StartPresence did all there is).
func (a *App) RunPresence(ctx context.Context) {
	if !a.shared() {
		return
	}
	every(ctx, presenceRenew, func() {
		if err := a.ReapPresence(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("presence: lease", "err", err)
		}
	})
}
