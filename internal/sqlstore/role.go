package sqlstore

import (
	"context"

	"github.com/parleyhq/parley"
)

// ---- Roles

const roleCols = "seq, sid, service_sid, friendly_name, type, CAST(permissions AS TEXT), date_created, date_updated"

func scanRole(s scanner) (parley.Role, error) {
	var r parley.Role
	err := s.Scan(&r.Seq, &r.Sid, &r.ServiceSid, &r.FriendlyName, &r.Type, stringList{&r.Permissions},
		seconds{&r.DateCreated}, seconds{&r.DateUpdated})
	return r, err
}

func (t *Tx) Role(ctx context.Context, serviceSid, sid string) (parley.Role, error) {
	return get(t, ctx, scanRole, "SELECT "+roleCols+" FROM roles WHERE sid = ? AND service_sid = "+serviceRef, sid, serviceSid)
}

func (t *Tx) ListRoles(ctx context.Context, serviceSid string, q parley.PageQuery) (parley.Page[parley.Role], error) {
	return page(t, ctx, roleCols, "FROM roles WHERE service_sid = "+serviceRef, []any{serviceSid}, q, scanRole,
		bySeq(func(r parley.Role) int64 { return r.Seq }))
}

func (t *Tx) CreateRole(ctx context.Context, r parley.Role) error {
	_, err := t.exec(ctx, false, `INSERT INTO roles (sid, service_sid, friendly_name, type, permissions,
		date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.Sid, r.ServiceSid, r.FriendlyName, string(r.Type), listArg(r.Permissions),
		t.d.Seconds(r.DateCreated), t.d.Seconds(r.DateUpdated))
	return err
}

func (t *Tx) UpdateRole(ctx context.Context, r parley.Role) error {
	return t.execOne(ctx, false, "UPDATE roles SET permissions = ?, date_updated = ? WHERE sid = ? AND service_sid = ?",
		listArg(r.Permissions), t.d.Seconds(r.DateUpdated), r.Sid, r.ServiceSid)
}

func (t *Tx) DeleteRole(ctx context.Context, serviceSid, sid string) error {
	return t.execOne(ctx, true, "DELETE FROM roles WHERE sid = ? AND service_sid = ?", sid, serviceSid)
}
