package sqlstore

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
)

// ---- Presence: nodes' leases and their client connections

func (t *Tx) RenewNode(ctx context.Context, node string, until time.Time) error {
	_, err := t.exec(ctx, false, `INSERT INTO nodes (node, lease_until) VALUES (?, ?)
		ON CONFLICT (node) DO UPDATE SET lease_until = excluded.lease_until`, node, t.d.Millis(until))
	return err
}

func (t *Tx) AddConnection(ctx context.Context, node, userSid, serviceSid string) error {
	_, err := t.exec(ctx, false, `INSERT INTO client_connections (node, user_sid, service_sid, conns) VALUES (?, ?, ?, 1)
		ON CONFLICT (node, user_sid) DO UPDATE SET conns = client_connections.conns + 1`, node, userSid, serviceSid)
	return err
}

func (t *Tx) RemoveConnection(ctx context.Context, node, userSid string) error {
	if _, err := t.exec(ctx, false, `UPDATE client_connections SET conns = conns - 1 WHERE node = ? AND user_sid = ?`,
		node, userSid); err != nil {
		return err
	}
	_, err := t.exec(ctx, true, `DELETE FROM client_connections WHERE node = ? AND user_sid = ? AND conns <= 0`, node, userSid)
	return err
}

func (t *Tx) UserConnected(ctx context.Context, userSid string, now time.Time) (bool, error) {
	var n int64
	err := t.c.QueryRow(ctx, t.d.rebind(`SELECT COUNT(*) FROM client_connections c JOIN nodes n ON n.node = c.node
		WHERE c.user_sid = ? AND n.lease_until > ?`), userSid, t.d.Millis(now)).Scan(&n)
	if err != nil {
		return false, t.d.mapError(err, false)
	}
	return n > 0, nil
}

func (t *Tx) ReapNodes(ctx context.Context, now time.Time) ([]parley.UserRef, error) {
	users, err := list(t, ctx, func(s scanner) (parley.UserRef, error) {
		var u parley.UserRef
		err := s.Scan(&u.ServiceSid, &u.UserSid)
		return u, err
	}, `SELECT DISTINCT c.service_sid, c.user_sid FROM client_connections c JOIN nodes n ON n.node = c.node
		WHERE n.lease_until <= ? ORDER BY c.user_sid`, t.d.Millis(now))
	if err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, true, `DELETE FROM client_connections WHERE node IN (SELECT node FROM nodes WHERE lease_until <= ?)`,
		t.d.Millis(now)); err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, true, `DELETE FROM nodes WHERE lease_until <= ?`, t.d.Millis(now)); err != nil {
		return nil, err
	}
	return users, nil
}
