package core

import (
	"context"

	"github.com/parleyhq/parley"
)

// Backlog is work the database holds that the nodes have yet to do, for
// metrics: shared by every node of one database, so each reports the same.
type Backlog struct {
	// PendingDeliveries is the webhook outbox's depth: deliveries not yet
	// delivered or given up on, due now or waiting for a retry.
	PendingDeliveries int64
	// DueTimers counts the conversations whose timer is due at the
	// clock's now and has not fired: the timer loop's lag.
	DueTimers int64
}

// Backlog counts the outbox and the due timers, in the database (two
// index counts), so that the figures hold across nodes.
func (a *App) Backlog(ctx context.Context) (Backlog, error) {
	return read(ctx, a, func(tx parley.Tx) (Backlog, error) {
		var b Backlog
		var err error
		if b.PendingDeliveries, err = tx.CountPendingDeliveries(ctx); err != nil {
			return b, err
		}
		b.DueTimers, err = tx.CountDueConversations(ctx, a.now())
		return b, err
	})
}

// StoreStats is what the store reports of its pools and commits
// (parley.StatsReporter); ok is false for a store that reports nothing.
func (a *App) StoreStats() (st parley.StoreStats, ok bool) {
	r, ok := a.backend().(parley.StatsReporter)
	if !ok {
		return parley.StoreStats{}, false
	}
	return r.Stats(), true
}
