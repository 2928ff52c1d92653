package sqlstore

import (
	"context"

	"github.com/parleyhq/parley"
)

// ---- Users

const userCols = `seq, sid, service_sid, role_sid, identity, friendly_name, attributes,
	is_online, is_notifiable, date_created, date_updated`

func scanUser(s scanner) (parley.User, error) {
	var u parley.User
	err := s.Scan(&u.Seq, &u.Sid, &u.ServiceSid, &u.RoleSid, &u.Identity, nullString{&u.FriendlyName}, &u.Attributes,
		nullBool{&u.IsOnline}, nullBool{&u.IsNotifiable}, seconds{&u.DateCreated}, seconds{&u.DateUpdated})
	return u, err
}

func (t *Tx) UserBySid(ctx context.Context, serviceSid, sid string) (parley.User, error) {
	return get(t, ctx, scanUser, "SELECT "+userCols+" FROM users WHERE sid = ? AND service_sid = "+serviceRef, sid, serviceSid)
}

func (t *Tx) UserByIdentity(ctx context.Context, serviceSid, identity string) (parley.User, error) {
	return get(t, ctx, scanUser, "SELECT "+userCols+" FROM users WHERE service_sid = "+serviceRef+" AND identity = ?", serviceSid, identity)
}

func (t *Tx) ListUsers(ctx context.Context, serviceSid string, q parley.PageQuery) (parley.Page[parley.User], error) {
	return page(t, ctx, userCols, "FROM users WHERE service_sid = "+serviceRef, []any{serviceSid}, q, scanUser,
		bySeq(func(u parley.User) int64 { return u.Seq }))
}

func (t *Tx) CreateUser(ctx context.Context, u parley.User) error {
	_, err := t.exec(ctx, false, `INSERT INTO users (sid, service_sid, role_sid, identity, friendly_name,
		attributes, is_online, is_notifiable, date_created, date_updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.Sid, u.ServiceSid, u.RoleSid, u.Identity, u.FriendlyName, u.Attributes,
		u.IsOnline, u.IsNotifiable, t.d.Seconds(u.DateCreated), t.d.Seconds(u.DateUpdated))
	return err
}

func (t *Tx) UpdateUser(ctx context.Context, u parley.User) error {
	return t.execOne(ctx, false, `UPDATE users SET role_sid = ?, friendly_name = ?, attributes = ?,
		date_updated = ? WHERE sid = ? AND service_sid = ?`,
		u.RoleSid, u.FriendlyName, u.Attributes, t.d.Seconds(u.DateUpdated), u.Sid, u.ServiceSid)
}

func (t *Tx) DeleteUser(ctx context.Context, serviceSid, sid string) error {
	return t.execOne(ctx, true, "DELETE FROM users WHERE sid = ? AND service_sid = ?", sid, serviceSid)
}
