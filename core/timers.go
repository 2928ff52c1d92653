package core

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
)

// TimerPoll is how often RunTimers looks for the next due timer by
// default: timers fire at most about this late (the issue allows a
// second), and a node learns within this time of timers set on another.
const TimerPoll = 500 * time.Millisecond

// uploadSweep is how often RunTimers looks for media uploads a dead
// server left unfinished.
const uploadSweep = 10 * time.Minute

// RunTimers fires conversation timers as they come due, until ctx ends,
// and now and then deletes abandoned media uploads.
// The timers live in the database, so it needs no state of its own: at
// start it fires what came due while parley was down, and every node
// sharing a PostgreSQL may run it, since FireTimers claims each due
// conversation in its own transaction with SKIP LOCKED. poll is how long
// it sleeps at most between looks (0 means TimerPoll).
func (a *App) RunTimers(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = TimerPoll
	}
	var swept time.Time // when abandoned uploads were last looked for
	for {
		if now := a.now(); now.Sub(swept) >= uploadSweep || now.Before(swept) {
			a.sweepUploads(ctx)
			swept = now
		}
		wait := poll
		next, err := read(ctx, a, func(tx parley.Tx) (*time.Time, error) { return tx.NextConversationTimer(ctx) })
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			a.log.Error("conversation timers: finding the next one", "err", err)
		case next != nil:
			if d := next.Sub(a.now()); d > 0 {
				wait = min(wait, d)
				break
			}
			n, err := a.FireTimers(ctx)
			if err != nil && ctx.Err() == nil {
				a.log.Error("conversation timers: firing", "err", err)
			}
			if n > 0 {
				continue // look again at once: more may be due
			}
			// Due but none claimed: another node holds them; it will
			// finish, or its transaction will end and free them.
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
