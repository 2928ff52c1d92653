package core

import (
	"context"
	"errors"
	"time"

	"github.com/parleyhq/parley"
)

// UserCreate is a create request; nil pointers are parameters not sent.
type UserCreate struct {
	Identity     string
	FriendlyName *string
	Attributes   *string
	RoleSid      *string
}

// UserUpdate is an update request; nil pointers leave the field unchanged.
// An empty Attributes resets them to "{}"; an empty FriendlyName clears it.
type UserUpdate struct {
	FriendlyName *string
	Attributes   *string
	RoleSid      *string
}

func (in UserUpdate) check() error {
	if err := checkFriendlyName(in.FriendlyName, MaxFriendlyName); err != nil {
		return err
	}
	if in.Attributes != nil && *in.Attributes != "" {
		if err := checkAttributes(*in.Attributes, MaxAttributes); err != nil {
			return err
		}
	}
	if in.RoleSid != nil && !parley.IsSID(parley.PrefixRole, *in.RoleSid) {
		return parley.InvalidParam("Invalid RoleSid")
	}
	return nil
}

// checkRole checks that sid names a role of type typ in svc: 50100 when the
// service has no such role, 50105 when it is of the other type. Users hold
// service roles; the configuration's conversation defaults, conversation
// roles. Updates pass tx.ForShare(), so that the role they are about to
// refer to is kept from deletion before they lock the row they rewrite
// (see App.update); creates, which lock nothing before their insert, pass
// tx as it is (a share lock taken before the insert's own lock on the
// service would invert the order a service delete takes).
func checkRole(ctx context.Context, tx parley.Tx, svc, sid string, typ parley.RoleType) error {
	role, err := tx.Role(ctx, svc, sid)
	if errors.Is(err, parley.ErrNotFound) {
		return parley.Errorf(parley.KindInvalid, 50100, "Role not found")
	}
	if err != nil {
		return err
	}
	if role.Type != typ {
		return parley.Errorf(parley.KindInvalid, 50105, "Invalid role type")
	}
	return nil
}

// CreateUser adds a user to svc ("" for the default service). Errors: 20001
// (Identity missing, RoleSid malformed), 50206, 50207, 50003, 50303, 50304,
// 50100, 50105, 404 20404 (no such service), 409 50201 (identity taken).
func (a *App) CreateUser(ctx context.Context, svc string, in UserCreate, opts WriteOptions) (parley.User, error) {
	if err := checkIdentity(in.Identity); err != nil {
		return parley.User{}, err
	}
	fields := UserUpdate{FriendlyName: in.FriendlyName, Attributes: in.Attributes, RoleSid: in.RoleSid}
	if err := fields.check(); err != nil {
		return parley.User{}, err
	}
	ref, err := serviceRef(svc)
	if err != nil {
		return parley.User{}, err
	}
	var u parley.User
	err = a.update(ctx, func(tx parley.Tx, ev *events) error {
		cfg, err := tx.ServiceConfig(ctx, ref)
		if err != nil {
			return notFound(err)
		}
		sid := cfg.ServiceSid
		userSid := a.sids.New(parley.PrefixUser) // minted even if the create is refused below
		if in.RoleSid != nil {
			if err := checkRole(ctx, tx, sid, *in.RoleSid, parley.RoleTypeService); err != nil {
				return err
			}
		}
		now := a.clock()
		// A new user is the defaults with the given fields applied, by the
		// same rules as an update.
		u = fields.apply(parley.User{
			Sid:         userSid,
			ServiceSid:  sid,
			RoleSid:     cfg.DefaultChatServiceRoleSid,
			Identity:    in.Identity,
			Attributes:  "{}",
			DateCreated: now,
		}, now)
		if err := tx.CreateUser(ctx, u); err != nil {
			if errors.Is(err, parley.ErrConflict) {
				return parley.Errorf(parley.KindConflict, 50201, "User already exists")
			}
			return err
		}
		ev.add(userEvent(parley.EventUserAdded, u, now, opts))
		return nil
	})
	return u, err
}

// userEvent is the event of a REST write to a user. It holds a copy of u,
// so the caller's later changes (the response's null rules) stay out of it.
func userEvent(t parley.EventType, u parley.User, at time.Time, opts WriteOptions) parley.Event {
	return parley.Event{Type: t, ServiceSid: u.ServiceSid, Source: opts.source(), ClientIdentity: opts.ClientIdentity, At: at,
		Webhooks: opts.Webhooks, User: &u}
}

// findUser looks a user up by SID or identity: a key shaped like a user SID
// is a SID, because no identity may have that shape.
func findUser(ctx context.Context, tx parley.Tx, svc, key string) (parley.User, error) {
	ref, err := serviceRef(svc)
	if err != nil {
		return parley.User{}, err
	}
	var u parley.User
	if parley.IsSID(parley.PrefixUser, key) {
		u, err = tx.UserBySid(ctx, ref, key)
	} else {
		u, err = tx.UserByIdentity(ctx, ref, key)
	}
	return u, notFound(err)
}

// FetchUser returns the user with SID or identity key. is_online and
// is_notifiable are null unless the service has reachability enabled.
func (a *App) FetchUser(ctx context.Context, svc, key string) (parley.User, error) {
	var u parley.User
	err := a.store.View(ctx, func(tx parley.Tx) error {
		var err error
		if u, err = findUser(ctx, tx, svc, key); err != nil {
			return err
		}
		u, err = reachability(ctx, tx, u)
		return err
	})
	return u, err
}

// FetchUserRaw returns a user with its presence as stored: the client
// protocol shows reachability as booleans, whatever the REST null rule.
func (a *App) FetchUserRaw(ctx context.Context, svc, key string) (parley.User, error) {
	return read(ctx, a, func(tx parley.Tx) (parley.User, error) { return findUser(ctx, tx, svc, key) })
}

// reachability applies the null rule of a single user's is_online and
// is_notifiable: shown only while the service has reachability enabled.
func reachability(ctx context.Context, tx parley.Tx, u parley.User) (parley.User, error) {
	if u.IsOnline == nil && u.IsNotifiable == nil {
		return u, nil // null either way: spare the configuration read
	}
	cfg, err := tx.ServiceConfig(ctx, u.ServiceSid)
	if err != nil {
		return u, notFound(err)
	}
	if !cfg.ReachabilityEnabled {
		u.IsOnline, u.IsNotifiable = nil, nil
	}
	return u, nil
}

// UpdateUser changes a user's friendly name, attributes or role. With the
// REST pre-event extension on, the app's onUserUpdate hook sees the
// proposed user first and may refuse (403 50056).
func (a *App) UpdateUser(ctx context.Context, svc, key string, in UserUpdate, opts WriteOptions) (parley.User, error) {
	if err := in.check(); err != nil {
		return parley.User{}, err
	}
	// The app is asked only about a change the rules allow, so its answer
	// never decides an error the rules would give anyway.
	if _, err := askFirst(ctx, a, opts, func(tx parley.Tx) (parley.User, error) {
		cur, err := findUser(ctx, tx, svc, key)
		if err != nil {
			return cur, err
		}
		if err := in.checkRole(ctx, tx, cur); err != nil {
			return cur, err
		}
		return in.apply(cur, a.clock()), nil
	}, func(u parley.User) parley.Event {
		return userEvent(parley.EventUserUpdate, u, u.DateUpdated, opts)
	}); err != nil {
		return parley.User{}, err
	}
	var u parley.User
	err := a.update(ctx, func(tx parley.Tx, ev *events) error {
		if in.RoleSid != nil {
			// Refer before you rewrite (see App.update): the new role
			// first, then the user's row; an unknown user is still the
			// first error.
			cur, err := findUser(ctx, tx, svc, key)
			if err != nil {
				return err
			}
			if err := in.checkRole(ctx, tx.ForShare(), cur); err != nil {
				return err
			}
		}
		cur, err := findUser(ctx, tx.ForUpdate(), svc, key)
		if err != nil {
			return err
		}
		u = in.apply(cur, a.clock())
		if err := tx.UpdateUser(ctx, u); err != nil {
			return notFound(err)
		}
		ev.add(userEvent(parley.EventUserUpdated, u, u.DateUpdated, opts))
		// The response follows the same null rules as a fetch.
		u, err = reachability(ctx, tx, u)
		return err
	})
	if err != nil {
		return parley.User{}, err
	}
	return u, nil
}

// checkRole checks a new RoleSid against the user's service.
func (in UserUpdate) checkRole(ctx context.Context, tx parley.Tx, cur parley.User) error {
	if in.RoleSid == nil || *in.RoleSid == cur.RoleSid {
		return nil
	}
	return checkRole(ctx, tx, cur.ServiceSid, *in.RoleSid, parley.RoleTypeService)
}

func (in UserUpdate) apply(u parley.User, now time.Time) parley.User {
	if in.FriendlyName != nil {
		u.FriendlyName = emptyIsNil(in.FriendlyName)
	}
	if in.Attributes != nil {
		u.Attributes = *in.Attributes
		if u.Attributes == "" {
			u.Attributes = "{}"
		}
	}
	if in.RoleSid != nil {
		u.RoleSid = *in.RoleSid
	}
	u.DateUpdated = now
	return u
}

// DeleteUser removes a user.
func (a *App) DeleteUser(ctx context.Context, svc, key string, opts WriteOptions) error {
	return a.update(ctx, func(tx parley.Tx, ev *events) error {
		u, err := findUser(ctx, tx, svc, key)
		if err != nil {
			return err
		}
		// Its participants go with it, and leave their rosters.
		ps, err := allMemberships(ctx, tx, u.Sid)
		if err != nil {
			return err
		}
		ev.keepGone(u.Sid, ps)
		if err := tx.DeleteUser(ctx, u.ServiceSid, u.Sid); err != nil {
			return notFound(err)
		}
		ev.add(userEvent(parley.EventUserRemoved, u, a.clock(), opts))
		return nil
	})
}

// ListUsers returns one page of svc's users in creation order;
// is_online and is_notifiable are always null in lists.
func (a *App) ListUsers(ctx context.Context, svc string, q parley.PageQuery) (parley.Page[parley.User], error) {
	var p parley.Page[parley.User]
	err := a.store.View(ctx, func(tx parley.Tx) error {
		ref, err := serviceRef(svc)
		if err != nil {
			return err
		}
		if svc != "" {
			// An empty list and an unknown service look alike; only the
			// latter is a 404.
			if _, err := tx.Service(ctx, ref); err != nil {
				return notFound(err)
			}
		}
		p, err = tx.ListUsers(ctx, ref, q)
		return err
	})
	for i := range p.Items {
		p.Items[i].IsOnline, p.Items[i].IsNotifiable = nil, nil
	}
	return p, err
}

func emptyIsNil(p *string) *string {
	if p == nil || *p == "" {
		return nil
	}
	return p
}
