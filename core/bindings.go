package core

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// bindingTypes are the push technologies a binding may use
// (service_binding_enum_binding_type).
var bindingTypes = []string{"apn", "gcm", "fcm", "twilsock"}

// messageTypes are the pushes a binding receives; a new binding gets all
// three, in the order Twilio's example shows.
var messageTypes = []string{"removed_from_conversation", "new_message", "added_to_conversation"}

// BindingInput is a push registration: what a client SDK sends when a
// device registers, and what parley's emulator control takes.
type BindingInput struct {
	Identity, BindingType, Address, CredentialSid *string
}

// credentialFits reports whether a credential of type ct can push to a
// binding of type bt: Apple's to apn, Google's (either API) to gcm and fcm.
func credentialFits(ct parley.CredentialType, bt string) bool {
	if bt == "apn" {
		return ct == parley.CredentialAPN
	}
	return ct == parley.CredentialGCM || ct == parley.CredentialFCM
}

// RegisterBinding registers a user's device for push in svc (decision 14:
// a test does it through parley's emulator control, as a client SDK would
// on Twilio). A device is one (type, address): registering it again moves
// its binding to this user and credential. The user's is_notifiable
// becomes true. Errors: 20001 (a parameter missing or wrong; a credential
// that does not exist or pushes elsewhere), 404 for an unknown user.
func (a *App) RegisterBinding(ctx context.Context, svc string, in BindingInput, opts WriteOptions) (parley.Binding, error) {
	for _, p := range []struct {
		name string
		v    *string
	}{{"Identity", in.Identity}, {"BindingType", in.BindingType}, {"Address", in.Address}} {
		if p.v == nil || *p.v == "" {
			return parley.Binding{}, parley.MissingParam(p.name)
		}
	}
	bt := strings.ToLower(*in.BindingType)
	if !slices.Contains(bindingTypes, bt) {
		return parley.Binding{}, parley.InvalidParam("Invalid BindingType: must be one of %s", strings.Join(bindingTypes, ", "))
	}
	if utf8.RuneCountInString(*in.Address) > MaxAddress || strings.ContainsFunc(*in.Address, isControl) {
		return parley.Binding{}, parley.InvalidParam("Invalid Address: at most %d printable characters", MaxAddress)
	}
	cred := emptyIsNil(in.CredentialSid)
	switch {
	case bt == "twilsock" && cred != nil:
		return parley.Binding{}, parley.InvalidParam("Invalid CredentialSid: twilsock bindings take none")
	case bt != "twilsock" && cred == nil:
		return parley.Binding{}, parley.MissingParam("CredentialSid")
	case cred != nil && !parley.IsSID(parley.PrefixCredential, *cred):
		return parley.Binding{}, parley.InvalidParam("Invalid CredentialSid: %q is not a credential SID", *cred)
	}
	ref, err := serviceRef(svc)
	if err != nil {
		return parley.Binding{}, err
	}
	var b parley.Binding
	err = a.update(ctx, func(tx parley.Tx, ev *events) error {
		if cred != nil {
			c, err := tx.Credential(ctx, *cred)
			if errors.Is(err, parley.ErrNotFound) {
				return parley.InvalidParam("Invalid CredentialSid: there is no credential %s", *cred)
			} else if err != nil {
				return err
			}
			if !credentialFits(c.Type, bt) {
				return parley.InvalidParam("Invalid CredentialSid: credential %s (type %s) cannot push to %s bindings", c.Sid, c.Type, bt)
			}
		}
		// Registrations in a service take turns (on its configuration's
		// row): a device registering from several requests at once, or
		// moving between users, would otherwise have most of them lose
		// races and start over, and a burst could exhaust the retries.
		// Registrations are rare next to messages; the wait is short.
		// The service first (share), as its delete takes it before the
		// rows that cascade from it: the binding's insert refers to it.
		if _, err := tx.ForShare().Service(ctx, ref); err != nil {
			return notFound(err)
		}
		cfg, err := tx.ForUpdate().ServiceConfig(ctx, ref)
		if err != nil {
			return notFound(err)
		}
		u, err := tx.UserByIdentity(ctx, cfg.ServiceSid, *in.Identity)
		if errors.Is(err, parley.ErrNotFound) {
			return parley.Errorf(parley.KindNotFound, 20404, "No user with identity %q in the service", *in.Identity)
		} else if err != nil {
			return err
		}
		// Who holds the device now, then the users whose is_notifiable may
		// change, locked in SID order (as deletes take users before their
		// bindings), then the binding itself, checked unchanged (a user's
		// delete may have taken it).
		old, err := tx.BindingByEndpoint(ctx, u.ServiceSid, bt, *in.Address)
		if err != nil && !errors.Is(err, parley.ErrNotFound) {
			return err
		}
		owners := []string{u.Sid}
		if old.UserSid != "" && old.UserSid != u.Sid {
			owners = append(owners, old.UserSid)
		}
		slices.Sort(owners)
		for _, sid := range owners {
			if _, err := tx.ForUpdate().UserBySid(ctx, u.ServiceSid, sid); errors.Is(err, parley.ErrNotFound) {
				return errLostRace // deleted meanwhile: the rules answer on the next run
			} else if err != nil {
				return err
			}
		}
		again, err := tx.ForUpdate().BindingByEndpoint(ctx, u.ServiceSid, bt, *in.Address)
		if err != nil && !errors.Is(err, parley.ErrNotFound) {
			return err
		}
		if again.Sid != old.Sid || again.UserSid != old.UserSid {
			return errLostRace // moved or registered meanwhile
		}
		now := a.clock()
		b = old
		if old.Sid == "" {
			b = parley.Binding{Sid: a.sids.New(parley.PrefixBinding), ServiceSid: u.ServiceSid, BindingType: bt,
				Endpoint: *in.Address, MessageTypes: slices.Clone(messageTypes), DateCreated: now}
		}
		b.UserSid, b.Identity, b.CredentialSid, b.DateUpdated = u.Sid, u.Identity, cred, now
		if old.Sid == "" {
			if err := tx.CreateBinding(ctx, b); errors.Is(err, parley.ErrConflict) {
				return errLostRace // the same device registered at once: take its binding
			} else if err != nil {
				return err
			}
		} else if err := tx.UpdateBinding(ctx, b); err != nil {
			return notFound(err)
		}
		if old.UserSid != "" && old.UserSid != u.Sid {
			if err := a.refreshNotifiable(ctx, tx, ev, u.ServiceSid, old.UserSid, opts); err != nil {
				return err
			}
		}
		return a.refreshNotifiable(ctx, tx, ev, u.ServiceSid, u.Sid, opts)
	})
	return b, err
}

// refreshNotifiable recomputes a user's is_notifiable after its bindings
// changed, with onUserUpdated when it changed.
func (a *App) refreshNotifiable(ctx context.Context, tx parley.Tx, ev *events, svc, userSid string, opts WriteOptions) error {
	before, err := tx.UserBySid(ctx, svc, userSid)
	if err != nil {
		return notFound(err)
	}
	if err := tx.RefreshNotifiable(ctx, userSid); err != nil {
		return notFound(err)
	}
	after, err := tx.UserBySid(ctx, svc, userSid)
	if err != nil {
		return notFound(err)
	}
	if before.IsNotifiable == nil || *before.IsNotifiable != *after.IsNotifiable {
		ev.add(userEvent(parley.EventUserUpdated, after, a.clock(), opts))
	}
	return nil
}

// FetchBinding returns a binding of svc.
func (a *App) FetchBinding(ctx context.Context, svc, sid string) (parley.Binding, error) {
	ref, err := serviceRef(svc)
	if err != nil {
		return parley.Binding{}, err
	}
	return read(ctx, a, func(tx parley.Tx) (parley.Binding, error) { return found(tx.Binding(ctx, ref, sid)) })
}

// FetchBindingByDevice returns the binding of a device, one (type,
// address) of svc.
func (a *App) FetchBindingByDevice(ctx context.Context, svc, bindingType, address string) (parley.Binding, error) {
	return read(ctx, a, func(tx parley.Tx) (parley.Binding, error) {
		return found(tx.BindingByEndpoint(ctx, svc, strings.ToLower(bindingType), address))
	})
}

// DeleteBinding unregisters a device; its user is no longer notifiable
// once it has no binding left.
func (a *App) DeleteBinding(ctx context.Context, svc, sid string, opts WriteOptions) error {
	ref, err := serviceRef(svc)
	if err != nil {
		return err
	}
	return a.update(ctx, func(tx parley.Tx, ev *events) error {
		b, err := tx.Binding(ctx, ref, sid)
		if err != nil {
			return notFound(err)
		}
		// The user first (a delete's order), then the binding again: a
		// registration may have moved it to another user in between.
		if _, err := tx.ForUpdate().UserBySid(ctx, b.ServiceSid, b.UserSid); errors.Is(err, parley.ErrNotFound) {
			return errLostRace // the user went, and its bindings with it
		} else if err != nil {
			return err
		}
		if again, err := tx.ForUpdate().Binding(ctx, b.ServiceSid, sid); err != nil {
			return notFound(err)
		} else if again.UserSid != b.UserSid {
			return errLostRace
		}
		if err := tx.DeleteBinding(ctx, b.ServiceSid, sid); err != nil {
			return notFound(err)
		}
		return a.refreshNotifiable(ctx, tx, ev, b.ServiceSid, b.UserSid, opts)
	})
}

// ListBindings lists a service's bindings, narrowed by f.
func (a *App) ListBindings(ctx context.Context, svc string, f parley.BindingFilter, q parley.PageQuery) (parley.Page[parley.Binding], error) {
	types := make([]string, len(f.BindingTypes))
	for i, t := range f.BindingTypes {
		types[i] = strings.ToLower(t)
		if !slices.Contains(bindingTypes, types[i]) {
			return parley.Page[parley.Binding]{}, parley.InvalidParam("Invalid BindingType: must be one of %s", strings.Join(bindingTypes, ", "))
		}
	}
	f.BindingTypes = types
	ref, err := serviceRef(svc)
	if err != nil {
		return parley.Page[parley.Binding]{}, err
	}
	return read(ctx, a, func(tx parley.Tx) (parley.Page[parley.Binding], error) {
		p, err := tx.ListBindings(ctx, ref, f, q)
		if err == nil && len(p.Items) == 0 {
			// An empty list and an unknown service look alike; only the
			// latter is a 404.
			_, err = found(tx.Service(ctx, ref))
		}
		return p, err
	})
}

// NotificationInput changes a service's push notification settings; nil
// leaves a setting as it is.
type NotificationInput struct {
	LogEnabled                                                       *bool
	NewMessageEnabled, NewMessageBadgeCountEnabled, WithMediaEnabled *bool
	NewMessageTemplate, NewMessageSound, WithMediaTemplate           *string
	AddedEnabled, RemovedEnabled                                     *bool
	AddedTemplate, AddedSound, RemovedTemplate, RemovedSound         *string
}

// MaxNotificationText bounds a template or sound name: parley's own limit
// (Twilio documents none; a push payload is at most 4 KiB anyway).
const MaxNotificationText = 4096

// UpdateNotifications changes a service's push notification settings.
// Empty text clears a template or sound (back to Twilio's default).
func (a *App) UpdateNotifications(ctx context.Context, svc string, in NotificationInput) (parley.ServiceConfig, error) {
	texts := []struct {
		param string
		v     *string
	}{
		{"NewMessage.Template", in.NewMessageTemplate}, {"NewMessage.Sound", in.NewMessageSound},
		{"NewMessage.WithMedia.Template", in.WithMediaTemplate},
		{"AddedToConversation.Template", in.AddedTemplate}, {"AddedToConversation.Sound", in.AddedSound},
		{"RemovedFromConversation.Template", in.RemovedTemplate}, {"RemovedFromConversation.Sound", in.RemovedSound},
	}
	for _, t := range texts {
		if t.v != nil && utf8.RuneCountInString(*t.v) > MaxNotificationText {
			return parley.ServiceConfig{}, parley.InvalidParam("Invalid %s: at most %d characters", t.param, MaxNotificationText)
		}
	}
	ref, err := serviceRef(svc)
	if err != nil {
		return parley.ServiceConfig{}, err
	}
	var cfg parley.ServiceConfig
	err = a.update(ctx, func(tx parley.Tx, _ *events) error {
		var err error
		if cfg, err = tx.ForUpdate().ServiceConfig(ctx, ref); err != nil {
			return notFound(err)
		}
		n := &cfg.Notifications
		setIf(&n.LogEnabled, in.LogEnabled)
		setIf(&n.NewMessage.Enabled, in.NewMessageEnabled)
		setIf(&n.NewMessageBadgeCount, in.NewMessageBadgeCountEnabled)
		setIf(&n.NewMessageWithMedia.Enabled, in.WithMediaEnabled)
		setIf(&n.AddedToConversation.Enabled, in.AddedEnabled)
		setIf(&n.RemovedFromConversation.Enabled, in.RemovedEnabled)
		for _, t := range []struct {
			dst **string
			v   *string
		}{
			{&n.NewMessage.Template, in.NewMessageTemplate}, {&n.NewMessage.Sound, in.NewMessageSound},
			{&n.NewMessageWithMedia.Template, in.WithMediaTemplate},
			{&n.AddedToConversation.Template, in.AddedTemplate}, {&n.AddedToConversation.Sound, in.AddedSound},
			{&n.RemovedFromConversation.Template, in.RemovedTemplate}, {&n.RemovedFromConversation.Sound, in.RemovedSound},
		} {
			if t.v != nil {
				*t.dst = emptyIsNil(t.v)
			}
		}
		return tx.PutServiceConfig(ctx, cfg)
	})
	return cfg, err
}
