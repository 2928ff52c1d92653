package core

import (
	"context"
	"errors"
	"time"

	"github.com/parleyhq/parley"
)

// WebhookRetention is how long finished webhook deliveries (delivered,
// failed, recorded) are kept by default: a week, long enough to look back
// at a test run's webhooks, short enough that a busy server's outbox does
// not grow for ever.
const WebhookRetention = 7 * 24 * time.Hour

// pruneBatch bounds one pruning transaction, so that a first prune of a
// large outbox does not hold the writer for long.
const pruneBatch = 1000

// FetchDelivery returns one webhook delivery; 404 20404 if there is none.
func (a *App) FetchDelivery(ctx context.Context, sid string) (parley.Delivery, error) {
	if !parley.IsSID(parley.PrefixDelivery, sid) {
		return parley.Delivery{}, parley.NotFound()
	}
	return read(ctx, a, func(tx parley.Tx) (parley.Delivery, error) { return found(tx.Delivery(ctx, sid)) })
}

// RetryDelivery sends a delivery again now (emulator mode): a delivered or
// failed one is pending again, due at once, its attempts so far kept; a
// pending one is brought forward. A delivery being sent right now, and a
// recorded push (parley sends no pushes), are 409.
func (a *App) RetryDelivery(ctx context.Context, sid string) (parley.Delivery, error) {
	if !parley.IsSID(parley.PrefixDelivery, sid) {
		return parley.Delivery{}, parley.NotFound()
	}
	var d parley.Delivery
	err := a.store.Update(ctx, func(tx parley.Tx) error {
		var err error
		d, err = tx.RetryDelivery(ctx, sid, a.now())
		switch {
		case errors.Is(err, parley.ErrNotFound):
			return parley.NotFound()
		case errors.Is(err, parley.ErrInUse) && d.Status == parley.DeliveryRecorded:
			return parley.Errorf(parley.KindConflict, 20001, "Delivery %s is a recorded push: parley sends no pushes", sid)
		case errors.Is(err, parley.ErrInUse):
			return parley.Errorf(parley.KindConflict, 20001, "Delivery %s is being sent now", sid)
		}
		return err
	})
	if err != nil {
		return parley.Delivery{}, err
	}
	if a.enqueued != nil {
		a.enqueued()
	}
	return d, nil
}

// ClearDeliveries empties the webhook outbox (emulator mode), pending
// deliveries too: they are never sent.
func (a *App) ClearDeliveries(ctx context.Context) error {
	return a.store.Update(ctx, func(tx parley.Tx) error { return tx.DeleteDeliveries(ctx) })
}

// RunDeliveryRetention deletes finished webhook deliveries older than
// retention (by their last update), now and then until ctx ends; every
// node may run it. retention <= 0 keeps them for ever.
func (a *App) RunDeliveryRetention(ctx context.Context, retention time.Duration) {
	if retention <= 0 {
		return
	}
	every(ctx, max(min(retention/10, 10*time.Minute), time.Second), func() {
		for n := pruneBatch; n == pruneBatch; {
			err := a.store.Update(ctx, func(tx parley.Tx) error {
				var err error
				n, err = tx.PruneDeliveries(ctx, a.now().Add(-retention), pruneBatch)
				return err
			})
			if err != nil {
				if ctx.Err() == nil {
					a.log.Error("webhook outbox: pruning finished deliveries", "err", err)
				}
				return
			}
		}
	})
}
