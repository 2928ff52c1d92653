package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

func newAddressConfig(address string) parley.AddressConfig {
	return parley.AddressConfig{Sid: sid(parley.PrefixAddress), Type: "sms", Address: address, FriendlyName: ptr("Support line"),
		AddressCountry: ptr("US"), AutoCreation: parley.AutoCreation{Enabled: true, Type: "webhook",
			WebhookURL: ptr("https://bot.test/hook"), WebhookMethod: "POST", WebhookFilters: []string{"onMessageAdded"}},
		DateCreated: t0, DateUpdated: t0}
}

func testAddressConfigs(t *testing.T, s parley.Store) {
	ctx := context.Background()
	_, err := view(t, s, func(tx parley.Tx) (parley.AddressConfig, error) {
		return tx.AddressConfig(ctx, sid(parley.PrefixAddress))
	})
	wantErr(t, err, parley.ErrNotFound)

	sms := newAddressConfig("+15550001111")
	wa := parley.AddressConfig{Sid: sid(parley.PrefixAddress), Type: "whatsapp", Address: "whatsapp:+15550002222",
		AutoCreation: parley.AutoCreation{Type: "studio", ServiceSid: sid(parley.PrefixService),
			StudioFlowSid: ptr(sid("FW")), StudioRetryCount: ptr(int64(3)), WebhookMethod: "POST"},
		DateCreated: t0, DateUpdated: t0}
	update(t, s, func(tx parley.Tx) error {
		return errors.Join(tx.CreateAddressConfig(ctx, sms), tx.CreateAddressConfig(ctx, wa))
	})
	got := mustView(t, s, func(tx parley.Tx) (parley.AddressConfig, error) { return tx.AddressConfig(ctx, sms.Sid) })
	diff(t, "sms address configuration", got, sms)
	got = mustView(t, s, func(tx parley.Tx) (parley.AddressConfig, error) { return tx.AddressConfigByAddress(ctx, wa.Address) })
	diff(t, "whatsapp address configuration by address", got, wa)
	_, err = view(t, s, func(tx parley.Tx) (parley.AddressConfig, error) {
		return tx.AddressConfigByAddress(ctx, "+15550001112")
	})
	wantErr(t, err, parley.ErrNotFound)

	// One configuration per address.
	dup := newAddressConfig(sms.Address)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.CreateAddressConfig(ctx, dup) })
	wantErr(t, err, parley.ErrConflict)

	// Update writes name and auto-creation, every field to a new value;
	// type, address, country and creation date stay.
	changed := sms
	changed.FriendlyName = nil
	changed.AutoCreation = parley.AutoCreation{Type: "default", ServiceSid: sid(parley.PrefixService), WebhookMethod: "GET",
		WebhookFilters: []string{"onParticipantAdded", "onMessageRemoved"}, StudioFlowSid: ptr(sid("FW")), StudioRetryCount: ptr(int64(0))}
	changed.DateUpdated = t0.Add(time.Hour)
	write := changed
	write.Type, write.Address, write.AddressCountry, write.DateCreated = "email", "x@example.com", nil, t0.Add(-time.Hour)
	update(t, s, func(tx parley.Tx) error { return tx.UpdateAddressConfig(ctx, write) })
	got = mustView(t, s, func(tx parley.Tx) (parley.AddressConfig, error) { return tx.AddressConfig(ctx, sms.Sid) })
	diff(t, "updated address configuration", got, changed)
	ghost := changed
	ghost.Sid = sid(parley.PrefixAddress)
	wantErr(t, s.Update(ctx, func(tx parley.Tx) error { return tx.UpdateAddressConfig(ctx, ghost) }), parley.ErrNotFound)

	all := []parley.AddressConfig{changed, wa}
	for i := range 5 {
		c := newAddressConfig("+1555000300" + string(rune('0'+i)))
		update(t, s, func(tx parley.Tx) error { return tx.CreateAddressConfig(ctx, c) })
		all = append(all, c)
	}
	list := func(typ string) func(q parley.PageQuery) (parley.Page[parley.AddressConfig], error) {
		return func(q parley.PageQuery) (parley.Page[parley.AddressConfig], error) {
			return view(t, s, func(tx parley.Tx) (parley.Page[parley.AddressConfig], error) {
				return tx.ListAddressConfigs(ctx, typ, q)
			})
		}
	}
	stored, err := list("")(parley.PageQuery{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "address configuration list", stored.Items, all)
	checkPaging(t, stored.Items, list(""), func(c parley.AddressConfig) int64 { return c.Seq })
	smsOnly, err := list("sms")(parley.PageQuery{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "sms address configurations", smsOnly.Items, append([]parley.AddressConfig{changed}, all[2:]...))
	checkPaging(t, smsOnly.Items, list("sms"), func(c parley.AddressConfig) int64 { return c.Seq })

	update(t, s, func(tx parley.Tx) error { return tx.DeleteAddressConfig(ctx, wa.Sid) })
	wantErr(t, s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteAddressConfig(ctx, wa.Sid) }), parley.ErrNotFound)
	_, err = view(t, s, func(tx parley.Tx) (parley.AddressConfig, error) { return tx.AddressConfigByAddress(ctx, wa.Address) })
	wantErr(t, err, parley.ErrNotFound)
	// Its address is free again.
	update(t, s, func(tx parley.Tx) error { return tx.CreateAddressConfig(ctx, newAddressConfig(wa.Address)) })
}

func newBinding(u parley.User, typ, endpoint string, credential *string) parley.Binding {
	return parley.Binding{Sid: sid(parley.PrefixBinding), ServiceSid: u.ServiceSid, UserSid: u.Sid, Identity: u.Identity,
		BindingType: typ, Endpoint: endpoint, CredentialSid: credential,
		MessageTypes: []string{"removed_from_conversation", "new_message", "added_to_conversation"},
		DateCreated:  t0, DateUpdated: t0}
}

func testBindings(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "push")
	users := createUsers(t, s, f, 3, "device-owner")
	alice, bob := users[0], users[1]
	_, err := view(t, s, func(tx parley.Tx) (parley.Binding, error) {
		return tx.Binding(ctx, f.svc.Sid, sid(parley.PrefixBinding))
	})
	wantErr(t, err, parley.ErrNotFound)

	cred := ptr(sid(parley.PrefixCredential))
	phone := newBinding(alice, "apn", "device-token-1", cred)
	browser := newBinding(alice, "twilsock", "tab-1", nil)
	update(t, s, func(tx parley.Tx) error {
		return errors.Join(tx.CreateBinding(ctx, phone), tx.CreateBinding(ctx, browser), tx.RefreshNotifiable(ctx, alice.Sid))
	})
	got := mustView(t, s, func(tx parley.Tx) (parley.Binding, error) { return tx.Binding(ctx, f.svc.Sid, phone.Sid) })
	diff(t, "apn binding", got, phone)
	got = mustView(t, s, func(tx parley.Tx) (parley.Binding, error) {
		return tx.BindingByEndpoint(ctx, f.svc.Sid, "twilsock", "tab-1")
	})
	diff(t, "twilsock binding by endpoint", got, browser)
	_, err = view(t, s, func(tx parley.Tx) (parley.Binding, error) {
		return tx.BindingByEndpoint(ctx, f.svc.Sid, "gcm", "tab-1")
	})
	wantErr(t, err, parley.ErrNotFound)
	// Another service's binding is not this one's.
	other := newService(t, s, "other")
	_, err = view(t, s, func(tx parley.Tx) (parley.Binding, error) { return tx.Binding(ctx, other.svc.Sid, phone.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	notifiable := func(u parley.User) *bool {
		return mustView(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserBySid(ctx, u.ServiceSid, u.Sid) }).IsNotifiable
	}
	if n := notifiable(alice); n == nil || !*n {
		t.Fatalf("is_notifiable of a user with bindings = %v, want true", n)
	}
	if n := notifiable(bob); n != nil {
		t.Fatalf("is_notifiable of a user never registered = %v, want nil", *n)
	}

	// One binding per (service, type, endpoint).
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.CreateBinding(ctx, newBinding(bob, "apn", "device-token-1", cred)) })
	wantErr(t, err, parley.ErrConflict)

	// A device moves to bob: every written field changes.
	moved := phone
	moved.UserSid, moved.Identity, moved.CredentialSid, moved.MessageTypes = bob.Sid, bob.Identity, nil, []string{"new_message"}
	moved.DateUpdated = t0.Add(time.Minute)
	update(t, s, func(tx parley.Tx) error {
		return errors.Join(tx.UpdateBinding(ctx, moved), tx.RefreshNotifiable(ctx, alice.Sid), tx.RefreshNotifiable(ctx, bob.Sid))
	})
	got = mustView(t, s, func(tx parley.Tx) (parley.Binding, error) { return tx.Binding(ctx, f.svc.Sid, phone.Sid) })
	diff(t, "moved binding", got, moved)
	ghost := moved
	ghost.Sid = sid(parley.PrefixBinding)
	wantErr(t, s.Update(ctx, func(tx parley.Tx) error { return tx.UpdateBinding(ctx, ghost) }), parley.ErrNotFound)
	wantErr(t, s.Update(ctx, func(tx parley.Tx) error { return tx.RefreshNotifiable(ctx, sid(parley.PrefixUser)) }), parley.ErrNotFound)

	gcm := newBinding(users[2], "gcm", "android-1", cred)
	fcm := newBinding(bob, "fcm", "android-2", cred)
	update(t, s, func(tx parley.Tx) error { return errors.Join(tx.CreateBinding(ctx, gcm), tx.CreateBinding(ctx, fcm)) })
	all := []parley.Binding{moved, browser, gcm, fcm}
	list := func(flt parley.BindingFilter) func(q parley.PageQuery) (parley.Page[parley.Binding], error) {
		return func(q parley.PageQuery) (parley.Page[parley.Binding], error) {
			return view(t, s, func(tx parley.Tx) (parley.Page[parley.Binding], error) {
				return tx.ListBindings(ctx, f.svc.Sid, flt, q)
			})
		}
	}
	for _, tc := range []struct {
		name string
		f    parley.BindingFilter
		want []parley.Binding
	}{
		{"all", parley.BindingFilter{}, all},
		{"by type", parley.BindingFilter{BindingTypes: []string{"gcm", "fcm"}}, []parley.Binding{gcm, fcm}},
		{"by identity", parley.BindingFilter{Identities: []string{bob.Identity}}, []parley.Binding{moved, fcm}},
		{"both", parley.BindingFilter{BindingTypes: []string{"apn", "gcm"}, Identities: []string{bob.Identity, users[2].Identity}},
			[]parley.Binding{moved, gcm}},
		{"none", parley.BindingFilter{Identities: []string{"nobody"}}, nil},
	} {
		p, err := list(tc.f)(parley.PageQuery{Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "bindings "+tc.name, p.Items, tc.want)
		if len(tc.want) > 0 {
			checkPaging(t, p.Items, list(tc.f), func(b parley.Binding) int64 { return b.Seq })
		}
	}
	// Alice's last binding goes: she is no longer notifiable.
	update(t, s, func(tx parley.Tx) error {
		return errors.Join(tx.DeleteBinding(ctx, f.svc.Sid, browser.Sid), tx.RefreshNotifiable(ctx, alice.Sid))
	})
	wantErr(t, s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteBinding(ctx, f.svc.Sid, browser.Sid) }), parley.ErrNotFound)
	if n := notifiable(alice); n == nil || *n {
		t.Fatalf("is_notifiable after the last binding went = %v, want false", n)
	}
	// Bindings go with their user, and with their service.
	update(t, s, func(tx parley.Tx) error { return tx.DeleteUser(ctx, f.svc.Sid, bob.Sid) })
	p, err := list(parley.BindingFilter{})(parley.PageQuery{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "bindings after their user's delete", p.Items, []parley.Binding{gcm})
	update(t, s, func(tx parley.Tx) error { return tx.DeleteService(ctx, f.svc.Sid) })
	_, err = view(t, s, func(tx parley.Tx) (parley.Binding, error) { return tx.Binding(ctx, f.svc.Sid, gcm.Sid) })
	wantErr(t, err, parley.ErrNotFound)
}

// testNotificationSettings round-trips every push setting of a service's
// configuration.
func testNotificationSettings(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "notifications")
	cfg := mustView(t, s, func(tx parley.Tx) (parley.ServiceConfig, error) { return tx.ServiceConfig(ctx, f.svc.Sid) })
	diff(t, "settings of a new service", cfg.Notifications, parley.NotificationSettings{})
	cfg.Notifications = parley.NotificationSettings{LogEnabled: true,
		NewMessage:           parley.NotificationTemplate{Enabled: true, Template: ptr("${MESSAGE}"), Sound: ptr("ring")},
		NewMessageBadgeCount: true,
		NewMessageWithMedia:  parley.NotificationTemplate{Enabled: true, Template: ptr("${MEDIA_COUNT} files")},
		AddedToConversation:  parley.NotificationTemplate{Enabled: true, Template: ptr("added ${CONVERSATION}"), Sound: ptr("a")},
		RemovedFromConversation: parley.NotificationTemplate{Enabled: true, Template: ptr("removed ${CONVERSATION}"),
			Sound: ptr("r")}}
	update(t, s, func(tx parley.Tx) error { return tx.PutServiceConfig(ctx, cfg) })
	got := mustView(t, s, func(tx parley.Tx) (parley.ServiceConfig, error) { return tx.ServiceConfig(ctx, f.svc.Sid) })
	diff(t, "service configuration with push settings", got, cfg)
	ns := mustView(t, s, func(tx parley.Tx) (parley.NotificationSettings, error) {
		return tx.NotificationSettings(ctx, f.svc.Sid)
	})
	diff(t, "push settings alone", ns, cfg.Notifications)
	_, err := view(t, s, func(tx parley.Tx) (parley.NotificationSettings, error) {
		return tx.NotificationSettings(ctx, sid(parley.PrefixService))
	})
	wantErr(t, err, parley.ErrNotFound)
}
