package core

import (
	"context"
	"errors"
	"slices"

	"github.com/parleyhq/parley"
)

// RoleCreate is a role create request.
type RoleCreate struct {
	FriendlyName string
	Type         string
	Permissions  []string
}

// checkPermissions requires at least one permission, each allowed for the
// role type (50104 otherwise), and drops repeats, keeping first-seen order.
func checkPermissions(t parley.RoleType, perms []string) ([]string, error) {
	if len(perms) == 0 {
		return nil, parley.MissingParam("Permission")
	}
	out := make([]string, 0, len(perms))
	for _, p := range perms {
		if !parley.PermissionAllowed(t, p) {
			return nil, parley.Errorf(parley.KindInvalid, 50104, "Permission not found")
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// CreateRole adds a role to svc. Errors: 20001 (a parameter missing),
// 50003 (FriendlyName over 64 characters), 50105 (Type neither service nor
// conversation), 50104 (a permission not allowed for the type), 404 20404.
func (a *App) CreateRole(ctx context.Context, svc string, in RoleCreate) (parley.Role, error) {
	if in.FriendlyName == "" {
		return parley.Role{}, parley.MissingParam("FriendlyName")
	}
	if err := checkFriendlyName(&in.FriendlyName, MaxRoleFriendlyName); err != nil {
		return parley.Role{}, err
	}
	if in.Type == "" {
		return parley.Role{}, parley.MissingParam("Type")
	}
	t := parley.RoleType(in.Type)
	if t != parley.RoleTypeService && t != parley.RoleTypeConversation {
		return parley.Role{}, parley.Errorf(parley.KindInvalid, 50105, "Invalid role type")
	}
	perms, err := checkPermissions(t, in.Permissions)
	if err != nil {
		return parley.Role{}, err
	}
	var r parley.Role
	err = a.update(ctx, func(tx parley.Tx, _ *events) error {
		ref, err := serviceRef(svc)
		if err != nil {
			return err
		}
		service, err := tx.Service(ctx, ref)
		if err != nil {
			return notFound(err)
		}
		now := a.clock()
		r = parley.Role{Sid: a.sids.New(parley.PrefixRole), ServiceSid: service.Sid, FriendlyName: in.FriendlyName,
			Type: t, Permissions: perms, DateCreated: now, DateUpdated: now}
		return tx.CreateRole(ctx, r)
	})
	return r, err
}

func findRole(ctx context.Context, tx parley.Tx, svc, sid string) (parley.Role, error) {
	if !parley.IsSID(parley.PrefixRole, sid) {
		return parley.Role{}, parley.NotFound()
	}
	ref, err := serviceRef(svc)
	if err != nil {
		return parley.Role{}, err
	}
	r, err := tx.Role(ctx, ref, sid)
	return r, notFound(err)
}

// FetchRole returns a role of svc.
func (a *App) FetchRole(ctx context.Context, svc, sid string) (parley.Role, error) {
	return read(ctx, a, func(tx parley.Tx) (parley.Role, error) { return findRole(ctx, tx, svc, sid) })
}

// ListRoles returns one page of svc's roles in creation order.
func (a *App) ListRoles(ctx context.Context, svc string, q parley.PageQuery) (parley.Page[parley.Role], error) {
	var p parley.Page[parley.Role]
	err := a.store.View(ctx, func(tx parley.Tx) error {
		ref, err := serviceRef(svc)
		if err != nil {
			return err
		}
		if _, err := tx.Service(ctx, ref); err != nil {
			return notFound(err)
		}
		p, err = tx.ListRoles(ctx, ref, q)
		return err
	})
	return p, err
}

// UpdateRole replaces a role's permissions; its type never changes.
func (a *App) UpdateRole(ctx context.Context, svc, sid string, permissions []string) (parley.Role, error) {
	var r parley.Role
	err := a.update(ctx, func(tx parley.Tx, _ *events) error {
		var err error
		if r, err = findRole(ctx, tx.ForUpdate(), svc, sid); err != nil {
			return err
		}
		if r.Permissions, err = checkPermissions(r.Type, permissions); err != nil {
			return err
		}
		r.DateUpdated = a.clock()
		return notFound(tx.UpdateRole(ctx, r))
	})
	return r, err
}

// DeleteRole removes a role that nothing refers to. A role that the service
// configuration names or that users or participants hold cannot be deleted: Twilio documents
// no code for this; parley answers 409 with 20001 and says which.
func (a *App) DeleteRole(ctx context.Context, svc, sid string) error {
	return a.update(ctx, func(tx parley.Tx, _ *events) error {
		r, err := findRole(ctx, tx, svc, sid)
		if err != nil {
			return err
		}
		cfg, err := tx.ServiceConfig(ctx, r.ServiceSid)
		if err != nil {
			return notFound(err)
		}
		if slices.Contains([]string{cfg.DefaultChatServiceRoleSid, cfg.DefaultConversationRoleSid,
			cfg.DefaultConversationCreatorRoleSid}, r.Sid) {
			return parley.Errorf(parley.KindConflict, 20001,
				"Role %s is a default role in the service configuration and cannot be deleted", r.Sid)
		}
		err = tx.DeleteRole(ctx, r.ServiceSid, r.Sid)
		if errors.Is(err, parley.ErrInUse) {
			return parley.Errorf(parley.KindConflict, 20001,
				"Role %s is held by users or participants and cannot be deleted", r.Sid)
		}
		return notFound(err)
	})
}
