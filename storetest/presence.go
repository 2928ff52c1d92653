package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// testPresence: connections count per node and user; a user is connected
// while a node with a live lease holds one; reaping a node whose lease
// ended removes its connections and names their users.
func testPresence(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "presence")
	alice, bob := newUser(f, "alice"), newUser(f, "bob")
	update(t, s, func(tx parley.Tx) error {
		if err := tx.CreateUser(ctx, alice); err != nil {
			return err
		}
		return tx.CreateUser(ctx, bob)
	})
	nodeA, nodeB := sid("ND"), sid("ND")
	connected := func(u parley.User, at time.Time) bool {
		t.Helper()
		return mustView(t, s, func(tx parley.Tx) (bool, error) { return tx.UserConnected(ctx, u.Sid, at) })
	}
	if connected(alice, t0) {
		t.Fatal("alice connected before any connection")
	}
	update(t, s, func(tx parley.Tx) error {
		for _, err := range []error{tx.RenewNode(ctx, nodeA, t0.Add(30*time.Second)), tx.RenewNode(ctx, nodeB, t0.Add(10*time.Second)),
			tx.AddConnection(ctx, nodeA, alice.Sid, f.svc.Sid), tx.AddConnection(ctx, nodeA, alice.Sid, f.svc.Sid),
			tx.AddConnection(ctx, nodeB, bob.Sid, f.svc.Sid)} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	if !connected(alice, t0) || !connected(bob, t0) {
		t.Fatal("alice and bob are not connected")
	}
	// Two connections: the first gone leaves alice connected.
	update(t, s, func(tx parley.Tx) error { return tx.RemoveConnection(ctx, nodeA, alice.Sid) })
	if !connected(alice, t0) {
		t.Fatal("alice with one connection left is not connected")
	}
	// A lease that has run out does not count, before it is reaped too.
	if connected(bob, t0.Add(11*time.Second)) {
		t.Fatal("bob connected through a node whose lease ran out")
	}
	var reaped []parley.UserRef
	update(t, s, func(tx parley.Tx) error {
		var err error
		reaped, err = tx.ReapNodes(ctx, t0.Add(20*time.Second))
		return err
	})
	diff(t, "reaped users", reaped, []parley.UserRef{{ServiceSid: f.svc.Sid, UserSid: bob.Sid}})
	if connected(bob, t0) || !connected(alice, t0) {
		t.Fatal("after reaping node B: bob must be gone, alice still there")
	}
	update(t, s, func(tx parley.Tx) error { return tx.RemoveConnection(ctx, nodeA, alice.Sid) })
	if connected(alice, t0) {
		t.Fatal("alice without connections is connected")
	}
	err := s.Update(ctx, func(tx parley.Tx) error { return tx.AddConnection(ctx, nodeA, sid(parley.PrefixUser), f.svc.Sid) })
	wantErr(t, err, parley.ErrDangling)
	// A user's connections go with them.
	update(t, s, func(tx parley.Tx) error { return tx.AddConnection(ctx, nodeA, bob.Sid, f.svc.Sid) })
	update(t, s, func(tx parley.Tx) error { return tx.DeleteUser(ctx, f.svc.Sid, bob.Sid) })
	if connected(bob, t0) {
		t.Fatal("a deleted user is connected")
	}
}
