package core

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// Reset is what emulator mode's reset leaves.
type Reset struct {
	AccountSid        string
	DefaultServiceSid string
	KeysKept          bool
	Date              time.Time
}

// Reset brings the database back to a fresh start in one transaction:
// the account (SID, auth token) and, when keepKeys, its API keys stay;
// everything else goes, and the default service is made again with its
// default roles and configuration, under the SID it had, so that what a
// test suite read from the banner still holds. Other requests run wholly
// before or wholly after it (parley.Store's Reset, and resetGuard). After commit, the
// OnReplaced hooks run: the client connections, whose users and event
// history are gone, are told to reconnect.
func (a *App) Reset(ctx context.Context, keepKeys bool) (Reset, error) {
	if a.guard == nil {
		return Reset{}, parley.NotFound()
	}
	r, err := a.reset(ctx, keepKeys)
	if err != nil {
		return Reset{}, err
	}
	a.replaced()
	return r, nil
}

// reset is Reset's transaction, with this node's other writes held off.
func (a *App) reset(ctx context.Context, keepKeys bool) (Reset, error) {
	a.guard.mu.Lock()
	defer a.guard.mu.Unlock()
	cfg, err := read(ctx, a, func(tx parley.Tx) (parley.AccountConfig, error) { return tx.AccountConfig(ctx) })
	if err != nil {
		return Reset{}, fmt.Errorf("account configuration: %w", err)
	}
	var r Reset
	err = a.guard.Store.Reset(ctx, keepKeys, func(tx parley.Tx) error {
		now := a.clock()
		svc, err := createService(ctx, tx, a.sids, cfg.DefaultChatServiceSid, defaultServiceName, now)
		if err != nil {
			return err
		}
		r = Reset{AccountSid: a.account.Sid, DefaultServiceSid: svc.Sid, KeysKept: keepKeys, Date: now}
		return tx.PutAccountConfig(ctx, parley.AccountConfig{DefaultChatServiceSid: svc.Sid})
	})
	return r, err
}

// OnReplaced registers f to run after a reset or an import: writes that
// replace data wholesale, as a restore would, and so record no events
// (no webhooks, nothing in the client event log). The API tells the
// client connections to reconnect and read what is there now.
func (a *App) OnReplaced(f func()) {
	a.replacedHooks.mu.Lock()
	defer a.replacedHooks.mu.Unlock()
	a.replacedHooks.fns = append(a.replacedHooks.fns, f)
}

// replaced runs the OnReplaced hooks.
func (a *App) replaced() {
	a.replacedHooks.mu.Lock()
	hooks := append([]func(){}, a.replacedHooks.fns...)
	a.replacedHooks.mu.Unlock()
	for _, f := range hooks {
		f()
	}
}

// resetGuard is the store in emulator mode: this node's writes take turns
// with its resets (an RWMutex, writes sharing it), so that a reset never
// meets a write half done. On PostgreSQL this matters beyond isolation:
// TRUNCATE takes its tables' locks one by one, and writers holding some
// while waiting for others deadlocked it (40P01) again and again. Reads
// are not held: a View is consistent per statement only, and one that
// spans a reset sees what one spanning a delete sees. Another node's
// writes (emulator mode is for one node) and the webhook dispatcher's
// bookkeeping, which reach the store without this guard, can still meet
// a reset; PostgreSQL then aborts one of them and it runs again.
type resetGuard struct {
	parley.Store
	mu sync.RWMutex
}

func (g *resetGuard) Update(ctx context.Context, fn func(parley.Tx) error) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.Store.Update(ctx, fn)
}
