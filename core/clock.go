package core

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley"
)

// Clock is the time parley runs on: the system's, plus an offset that, in
// emulator mode only, a test suite moves forward (POST /parley/v1/Clock)
// to make conversation timers fire, webhook retries fall due and access
// tokens expire without waiting. It only moves forward, so that times
// parley has written never lie in its future. The offset lives in the
// process: each node of a shared database has its own (emulator mode is
// for one node), and a restart starts again from the system's time.
type Clock struct {
	movable bool
	// offset is read without a lock (every timestamp parley takes reads
	// it); mu serialises the moves and guards moved.
	offset atomic.Int64 // a time.Duration
	mu     sync.Mutex
	moved  []func()
}

// maxClockOffset bounds how far ahead the clock may be: far enough for
// any timer, and far from the overflow of time.Duration (292 years).
// Durations are capped at 100 years when parsed, so the clock stays below
// it: a longer Advance is refused rather than shortened.
const maxClockOffset = 100 * 365 * 24 * time.Hour

// NewClock returns the system's clock, which a test may move forward
// when movable is true.
func NewClock(movable bool) *Clock { return &Clock{movable: movable} }

// Now is the system's time plus the offset.
func (c *Clock) Now() time.Time { return time.Now().Add(c.Offset()) }

// Movable reports whether the clock may be moved (emulator mode).
func (c *Clock) Movable() bool { return c.movable }

// Offset is how far ahead of the system's time the clock is.
func (c *Clock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// OnMove registers f to run after each move: what sleeps until a time
// must look again (the webhook dispatcher, the client sockets' expiries).
func (c *Clock) OnMove(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.moved = append(c.moved, f)
}

// advance moves the clock forward by d, or to at when at is not zero
// (MoveClock checks first that it may move).
func (c *Clock) advance(d time.Duration, at time.Time) error {
	c.mu.Lock()
	offset := c.Offset()
	now := time.Now().Add(offset)
	if !at.IsZero() {
		d = at.Sub(now)
	}
	if d < 0 {
		c.mu.Unlock()
		return parley.InvalidParam("The clock only moves forward: %s is before its time, %s",
			now.Add(d).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if d >= maxClockOffset-offset {
		c.mu.Unlock()
		return parley.InvalidParam("The clock stays less than 100 years ahead of the system's time")
	}
	c.offset.Store(int64(offset + d))
	hooks := append([]func(){}, c.moved...)
	c.mu.Unlock()
	for _, f := range hooks {
		f()
	}
	return nil
}

// OnClockMoved registers f to run after each move of the clock; nothing
// when the clock cannot move.
func (a *App) OnClockMoved(f func()) {
	if a.clk != nil {
		a.clk.OnMove(f)
	}
}

// ClockState is what GET and POST /parley/v1/Clock answer.
type ClockState struct {
	Now     time.Time
	Offset  time.Duration
	Movable bool
}

// ClockNow returns the clock's state.
func (a *App) ClockNow(context.Context) (ClockState, error) {
	return a.clockState(), nil
}

func (a *App) clockState() ClockState {
	if a.clk == nil {
		return ClockState{Now: a.now()}
	}
	return ClockState{Now: a.clk.Now(), Offset: a.clk.Offset(), Movable: a.clk.Movable()}
}

// ClockInput moves the clock: forward by Advance (ISO 8601, e.g. PT2H), or
// to Set. Exactly one is given.
type ClockInput struct {
	Advance *string
	Set     *time.Time
}

// MoveClock moves the clock forward and returns once what fell due by
// the new time has run: the conversation timers that came due have
// fired, with their events, and the webhook dispatcher has been woken for
// the retries now due. A test can check their effects as soon as it has
// the answer.
func (a *App) MoveClock(ctx context.Context, in ClockInput) (ClockState, error) {
	if a.clk == nil || !a.clk.Movable() {
		return ClockState{}, parley.NotFound()
	}
	var d time.Duration
	var at time.Time
	switch {
	case (in.Advance == nil) == (in.Set == nil):
		return ClockState{}, parley.InvalidParam("Give exactly one of Advance (an ISO 8601 duration such as PT2H) and Set (a time such as 2030-01-01T00:00:00Z)")
	case in.Advance != nil:
		var ok bool
		if d, ok = parley.ParseDuration(*in.Advance); !ok {
			return ClockState{}, parley.InvalidDuration("Advance", *in.Advance)
		}
	default:
		at = *in.Set
	}
	if err := a.clk.advance(d, at); err != nil {
		return ClockState{}, err
	}
	// Presence leases are on this clock: renew this node's at once, or
	// its users would show offline until the next renewal.
	if a.shared() {
		if err := a.ReapPresence(ctx); err != nil {
			return ClockState{}, err
		}
	}
	for {
		n, err := a.FireTimers(ctx)
		if err != nil {
			return ClockState{}, err
		}
		if n == 0 {
			break
		}
	}
	return a.clockState(), nil
}
