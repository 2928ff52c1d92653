// Package storetest is the conformance suite every parley.Store backend
// runs: the same calls, the same expected results and sentinel errors, so
// that SQLite and PostgreSQL behave alike by proof rather than by hope.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parleyhq/parley"
)

// Opener returns a fresh, empty, migrated store for one test; the suite
// closes it.
type Opener func(t *testing.T) parley.Store

// Run runs the whole suite against stores made by open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, parley.Store)
	}{
		{"Account", testAccount},
		{"AccountConfig", testAccountConfig},
		{"APIKeys", testAPIKeys},
		{"Credentials", testCredentials},
		{"AddressConfigs", testAddressConfigs},
		{"Bindings", testBindings},
		{"NotificationSettings", testNotificationSettings},
		{"Services", testServices},
		{"ServicePaging", testServicePaging},
		{"DeleteServiceCascades", testDeleteServiceCascades},
		{"ServiceConfig", testServiceConfig},
		{"DefaultServiceRef", testDefaultServiceRef},
		{"Roles", testRoles},
		{"RoleInUse", testRoleInUse},
		{"Users", testUsers},
		{"UserIdentityUnique", testUserIdentityUnique},
		{"UserPaging", testUserPaging},
		{"UpdateRollsBackOnError", testUpdateRollsBack},
		{"ConcurrentCreatesOneIdentity", testConcurrentCreates},
		{"ConcurrentIndependentWrites", testConcurrentIndependentWrites},
		{"Deliveries", testDeliveries},
		{"DeliveryFilters", testDeliveryFilters},
		{"DeliveryControls", testDeliveryControls},
		{"ConcurrentClaims", testConcurrentClaims},
		{"RetryRacesClaim", testRetryRacesClaim},
		{"Conversations", testConversations},
		{"ConversationLists", testConversationLists},
		{"ConversationTimers", testConversationTimers},
		{"ConcurrentTimerClaims", testConcurrentTimerClaims},
		{"Participants", testParticipants},
		{"Memberships", testMemberships},
		{"ConversationCascades", testConversationCascades},
		{"Messages", testMessages},
		{"ConcurrentSenders", testConcurrentSenders},
		{"ConversationWebhooks", testConversationWebhooks},
		{"Receipts", testReceipts},
		{"Media", testMedia},
		{"SyncEvents", testSyncEvents},
		{"ConcurrentSyncAppends", testConcurrentSyncAppends},
		{"Notify", testNotify},
		{"Presence", testPresence},
		{"ResetData", testResetData},
	}
	t.Run("EveryWriteIsCovered", testEveryWriteIsCovered)
	t.Run("ConcurrentPartialUpdates", func(t *testing.T) {
		t.Parallel()
		testConcurrentPartialUpdates(t, open)
	})
	t.Run("ParentDeleteRaces", func(t *testing.T) {
		t.Parallel()
		testParentDeleteRaces(t, open)
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// t0 is a fixed time with second precision, as parley stores resources.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

type seqSIDs struct {
	mu sync.Mutex
	n  int
}

func (s *seqSIDs) New(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return fmt.Sprintf("%s%032x", prefix, s.n)
}

var sids = &seqSIDs{}

func sid(prefix string) string { return sids.New(prefix) }

func ptr[T any](v T) *T { return &v }

func update(t testing.TB, s parley.Store, fn func(parley.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view[T any](t testing.TB, s parley.Store, fn func(parley.Tx) (T, error)) (T, error) {
	t.Helper()
	var v T
	err := s.View(context.Background(), func(tx parley.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v, err
}

func mustView[T any](t testing.TB, s parley.Store, fn func(parley.Tx) (T, error)) T {
	t.Helper()
	v, err := view(t, s, fn)
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return v
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

// fixture is a service with its four roles and configuration, as core
// creates them.
type fixture struct {
	svc                     parley.Service
	admin, user, chAdm, chU parley.Role
}

func newService(t testing.TB, s parley.Store, name string) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{svc: parley.Service{Sid: sid(parley.PrefixService), FriendlyName: name, DateCreated: t0, DateUpdated: t0}}
	mk := func(name string, typ parley.RoleType, perms ...string) parley.Role {
		return parley.Role{Sid: sid(parley.PrefixRole), ServiceSid: f.svc.Sid, FriendlyName: name, Type: typ,
			Permissions: perms, DateCreated: t0, DateUpdated: t0}
	}
	f.admin = mk("service admin", parley.RoleTypeService, "createConversation", "editAnyUserInfo")
	f.user = mk("service user", parley.RoleTypeService, "createConversation")
	f.chAdm = mk("channel admin", parley.RoleTypeConversation, "sendMessage", "removeParticipant")
	f.chU = mk("channel user", parley.RoleTypeConversation, "sendMessage")
	update(t, s, func(tx parley.Tx) error {
		if err := tx.CreateService(ctx, f.svc); err != nil {
			return err
		}
		for _, r := range []parley.Role{f.admin, f.user, f.chAdm, f.chU} {
			if err := tx.CreateRole(ctx, r); err != nil {
				return err
			}
		}
		return tx.PutServiceConfig(ctx, parley.ServiceConfig{ServiceSid: f.svc.Sid,
			DefaultChatServiceRoleSid: f.user.Sid, DefaultConversationRoleSid: f.chU.Sid,
			DefaultConversationCreatorRoleSid: f.chAdm.Sid})
	})
	f.svc = mustView(t, s, func(tx parley.Tx) (parley.Service, error) { return tx.Service(ctx, f.svc.Sid) })
	return f
}

// bootstrapped creates the account and its configuration naming f.
func bootstrapped(t *testing.T, s parley.Store) fixture {
	t.Helper()
	f := newService(t, s, "default")
	update(t, s, func(tx parley.Tx) error {
		if err := tx.CreateAccount(context.Background(), parley.Account{Sid: sid(parley.PrefixAccount),
			AuthToken: "token", PageKey: []byte("0123456789abcdef"), DateCreated: t0}); err != nil {
			return err
		}
		return tx.PutAccountConfig(context.Background(), parley.AccountConfig{DefaultChatServiceSid: f.svc.Sid})
	})
	return f
}

func newUser(f fixture, identity string) parley.User {
	return parley.User{Sid: sid(parley.PrefixUser), ServiceSid: f.svc.Sid, RoleSid: f.user.Sid,
		Identity: identity, Attributes: "{}", DateCreated: t0, DateUpdated: t0}
}

func createUsers(t testing.TB, s parley.Store, f fixture, n int, prefix string) []parley.User {
	t.Helper()
	users := make([]parley.User, n)
	update(t, s, func(tx parley.Tx) error {
		for i := range users {
			users[i] = newUser(f, fmt.Sprintf("%s%04d", prefix, i))
			if err := tx.CreateUser(context.Background(), users[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return users
}

// ignoreSeq compares rows without their store-assigned creation sequence.
var ignoreSeq = cmp.FilterPath(func(p cmp.Path) bool {
	return p.Last().String() == ".Seq"
}, cmp.Ignore())

func diff(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := cmp.Diff(want, got, ignoreSeq); d != "" {
		t.Fatalf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func testAccount(t *testing.T, s parley.Store) {
	ctx := context.Background()
	_, err := view(t, s, func(tx parley.Tx) (parley.Account, error) { return tx.Account(ctx) })
	wantErr(t, err, parley.ErrNotFound)

	a := parley.Account{Sid: sid(parley.PrefixAccount), AuthToken: "abc123", PageKey: []byte{1, 2, 3, 0, 255}, DateCreated: t0}
	update(t, s, func(tx parley.Tx) error { return tx.CreateAccount(ctx, a) })
	got := mustView(t, s, func(tx parley.Tx) (parley.Account, error) { return tx.Account(ctx) })
	diff(t, "account", got, a)

	err = s.Update(ctx, func(tx parley.Tx) error { return tx.CreateAccount(ctx, a) })
	wantErr(t, err, parley.ErrConflict)

	update(t, s, func(tx parley.Tx) error { return tx.SetAuthToken(ctx, "newtoken") })
	got = mustView(t, s, func(tx parley.Tx) (parley.Account, error) { return tx.Account(ctx) })
	a.AuthToken = "newtoken"
	diff(t, "account after SetAuthToken", got, a)
}

func testAccountConfig(t *testing.T, s parley.Store) {
	ctx := context.Background()
	_, err := view(t, s, func(tx parley.Tx) (parley.AccountConfig, error) { return tx.AccountConfig(ctx) })
	wantErr(t, err, parley.ErrNotFound)

	f := bootstrapped(t, s)
	got := mustView(t, s, func(tx parley.Tx) (parley.AccountConfig, error) { return tx.AccountConfig(ctx) })
	diff(t, "fresh config", got, parley.AccountConfig{DefaultChatServiceSid: f.svc.Sid})

	other := newService(t, s, "other")
	full := parley.AccountConfig{
		DefaultChatServiceSid:      other.svc.Sid,
		DefaultMessagingServiceSid: ptr("MG" + "0123456789abcdef0123456789abcdef"),
		DefaultInactiveTimer:       ptr("PT1M"),
		DefaultClosedTimer:         ptr("PT10M"),
		Webhooks: parley.WebhookConfig{Method: ptr("GET"), Filters: []string{"onUserAdded", "onUserUpdated"},
			PreWebhookURL: ptr("https://example.com/pre"), PostWebhookURL: ptr("https://example.com/post?x=1"),
			Target: ptr("webhook")},
	}
	update(t, s, func(tx parley.Tx) error { return tx.PutAccountConfig(ctx, full) })
	got = mustView(t, s, func(tx parley.Tx) (parley.AccountConfig, error) { return tx.AccountConfig(ctx) })
	diff(t, "full config", got, full)

	// An empty filter list is kept apart from an unset one.
	full.Webhooks.Filters = []string{}
	update(t, s, func(tx parley.Tx) error { return tx.PutAccountConfig(ctx, full) })
	got = mustView(t, s, func(tx parley.Tx) (parley.AccountConfig, error) { return tx.AccountConfig(ctx) })
	if got.Webhooks.Filters == nil || len(got.Webhooks.Filters) != 0 {
		t.Fatalf("empty filters came back as %#v", got.Webhooks.Filters)
	}

	// The default service must exist.
	full.DefaultChatServiceSid = sid(parley.PrefixService)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.PutAccountConfig(ctx, full) })
	wantErr(t, err, parley.ErrDangling)
}

func testAPIKeys(t *testing.T, s parley.Store) {
	ctx := context.Background()
	_, err := view(t, s, func(tx parley.Tx) (parley.APIKey, error) { return tx.APIKey(ctx, sid(parley.PrefixAPIKey)) })
	wantErr(t, err, parley.ErrNotFound)

	// k1 can verify what it signs; k2, like a key created before parley
	// kept signing states, cannot (nil stays nil).
	k1 := parley.APIKey{Sid: sid(parley.PrefixAPIKey), FriendlyName: "ci", SecretHash: []byte{9, 8, 7},
		SigningState: []byte{0, 1, 2, 255}, DateCreated: t0}
	k2 := parley.APIKey{Sid: sid(parley.PrefixAPIKey), FriendlyName: "", SecretHash: []byte{1}, DateCreated: t0.Add(time.Second)}
	update(t, s, func(tx parley.Tx) error {
		return errors.Join(tx.CreateAPIKey(ctx, k1), tx.CreateAPIKey(ctx, k2))
	})
	got := mustView(t, s, func(tx parley.Tx) (parley.APIKey, error) { return tx.APIKey(ctx, k1.Sid) })
	diff(t, "key", got, k1)

	revoked := t0.Add(time.Hour)
	update(t, s, func(tx parley.Tx) error { return tx.RevokeAPIKey(ctx, k1.Sid, revoked) })
	// Revoking again keeps the first revocation time.
	update(t, s, func(tx parley.Tx) error { return tx.RevokeAPIKey(ctx, k1.Sid, revoked.Add(time.Hour)) })
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.RevokeAPIKey(ctx, sid(parley.PrefixAPIKey), revoked) })
	wantErr(t, err, parley.ErrNotFound)

	k1.DateRevoked = &revoked
	list := mustView(t, s, func(tx parley.Tx) ([]parley.APIKey, error) { return tx.ListAPIKeys(ctx) })
	diff(t, "key list", list, []parley.APIKey{k1, k2})
}

// newCredential is an APN credential with every field set.
func newCredential() parley.Credential {
	return parley.Credential{Sid: sid(parley.PrefixCredential), FriendlyName: ptr("iOS"), Type: parley.CredentialAPN,
		APNCertificate: "certificate", APNPrivateKey: "key", DateCreated: t0, DateUpdated: t0}
}

func testCredentials(t *testing.T, s parley.Store) {
	ctx := context.Background()
	_, err := view(t, s, func(tx parley.Tx) (parley.Credential, error) { return tx.Credential(ctx, sid(parley.PrefixCredential)) })
	wantErr(t, err, parley.ErrNotFound)

	apn := newCredential()
	gcm := parley.Credential{Sid: sid(parley.PrefixCredential), Type: parley.CredentialGCM, GCMAPIKey: "gcm key",
		DateCreated: t0, DateUpdated: t0}
	update(t, s, func(tx parley.Tx) error {
		return errors.Join(tx.CreateCredential(ctx, apn), tx.CreateCredential(ctx, gcm))
	})
	got := mustView(t, s, func(tx parley.Tx) (parley.Credential, error) { return tx.Credential(ctx, apn.Sid) })
	diff(t, "apn credential", got, apn)
	got = mustView(t, s, func(tx parley.Tx) (parley.Credential, error) { return tx.Credential(ctx, gcm.Sid) })
	diff(t, "gcm credential (null name)", got, gcm)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.CreateCredential(ctx, apn) })
	wantErr(t, err, parley.ErrConflict)

	// Every field changes to a value unlike the last; the creation date
	// stays.
	changed := parley.Credential{Sid: apn.Sid, FriendlyName: nil, Type: parley.CredentialFCM, Sandbox: true,
		APNCertificate: "c2", APNPrivateKey: "k2", GCMAPIKey: "g2", FCMSecret: "f2",
		DateCreated: t0.Add(-time.Hour), DateUpdated: t0.Add(time.Hour)}
	update(t, s, func(tx parley.Tx) error { return tx.UpdateCredential(ctx, changed) })
	got = mustView(t, s, func(tx parley.Tx) (parley.Credential, error) { return tx.Credential(ctx, apn.Sid) })
	changed.DateCreated = t0
	diff(t, "updated credential", got, changed)
	ghost := changed
	ghost.Sid = sid(parley.PrefixCredential)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.UpdateCredential(ctx, ghost) })
	wantErr(t, err, parley.ErrNotFound)

	all := []parley.Credential{changed, gcm}
	for range 5 {
		c := newCredential()
		update(t, s, func(tx parley.Tx) error { return tx.CreateCredential(ctx, c) })
		all = append(all, c)
	}
	list := func(q parley.PageQuery) (parley.Page[parley.Credential], error) {
		return view(t, s, func(tx parley.Tx) (parley.Page[parley.Credential], error) { return tx.ListCredentials(ctx, q) })
	}
	stored, err := list(parley.PageQuery{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "credential list", stored.Items, all)
	checkPaging(t, stored.Items, list, func(c parley.Credential) int64 { return c.Seq })

	update(t, s, func(tx parley.Tx) error { return tx.DeleteCredential(ctx, gcm.Sid) })
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteCredential(ctx, gcm.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	_, err = view(t, s, func(tx parley.Tx) (parley.Credential, error) { return tx.Credential(ctx, gcm.Sid) })
	wantErr(t, err, parley.ErrNotFound)
}

func testServices(t *testing.T, s parley.Store) {
	ctx := context.Background()
	_, err := view(t, s, func(tx parley.Tx) (parley.Service, error) { return tx.Service(ctx, sid(parley.PrefixService)) })
	wantErr(t, err, parley.ErrNotFound)

	f := newService(t, s, "ünïcode service 💬")
	got := mustView(t, s, func(tx parley.Tx) (parley.Service, error) { return tx.Service(ctx, f.svc.Sid) })
	diff(t, "service", got, parley.Service{Sid: f.svc.Sid, FriendlyName: "ünïcode service 💬", DateCreated: t0, DateUpdated: t0})
	if got.Seq <= 0 {
		t.Fatalf("Seq = %d, want a positive creation sequence", got.Seq)
	}
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.CreateService(ctx, f.svc) })
	wantErr(t, err, parley.ErrConflict)

	err = s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteService(ctx, sid(parley.PrefixService)) })
	wantErr(t, err, parley.ErrNotFound)
	update(t, s, func(tx parley.Tx) error { return tx.DeleteService(ctx, f.svc.Sid) })
	_, err = view(t, s, func(tx parley.Tx) (parley.Service, error) { return tx.Service(ctx, f.svc.Sid) })
	wantErr(t, err, parley.ErrNotFound)
}

func testServicePaging(t *testing.T, s parley.Store) {
	ctx := context.Background()
	var all []parley.Service
	for i := range 7 {
		all = append(all, newService(t, s, fmt.Sprintf("svc %d", i)).svc)
	}
	checkPaging(t, all, func(q parley.PageQuery) (parley.Page[parley.Service], error) {
		return view(t, s, func(tx parley.Tx) (parley.Page[parley.Service], error) { return tx.ListServices(ctx, q) })
	}, func(v parley.Service) int64 { return v.Seq })
}

// checkPaging walks a list of all (in creation order) forward and
// backward in pages of 3, oldest first and newest first, and checks items,
// order, FirstSeq/LastSeq and HasNext/HasPrev at each step.
func checkPaging[T any](t *testing.T, all []T, list func(parley.PageQuery) (parley.Page[T], error), seqOf func(T) int64) {
	t.Helper()
	walkPages(t, all, list, seqOf, nil, false)
	newestFirst := slices.Clone(all)
	slices.Reverse(newestFirst)
	walkPages(t, newestFirst, list, seqOf, nil, true)
}

// walkPages walks a list of all (in list order) forward and backward in
// pages of 3. For lists ordered by a key, keyOf reads an item's key, which
// cursors carry beside its seq.
func walkPages[T any](t *testing.T, all []T, list func(parley.PageQuery) (parley.Page[T], error), seqOf func(T) int64,
	keyOf func(T) string, desc bool) {
	t.Helper()
	key := func(v T) string {
		if keyOf == nil {
			return ""
		}
		return keyOf(v)
	}
	const size = 3
	var got []T
	q := parley.PageQuery{Size: size, Desc: desc}
	var pages []parley.Page[T]
	for {
		// A store whose HasNext never turns false must fail, not hang.
		if len(pages) > len(all)/size+1 {
			t.Fatalf("desc=%v: forward walk of %d rows still going after %d pages", desc, len(all), len(pages))
		}
		p, err := list(q)
		if err != nil {
			t.Fatalf("list %+v: %v", q, err)
		}
		if wantPrev := len(pages) > 0; p.HasPrev != wantPrev {
			t.Fatalf("desc=%v page %d: HasPrev = %v, want %v", desc, len(pages), p.HasPrev, wantPrev)
		}
		if n := len(p.Items); n > 0 && (p.FirstSeq != seqOf(p.Items[0]) || p.LastSeq != seqOf(p.Items[n-1]) ||
			p.FirstKey != key(p.Items[0]) || p.LastKey != key(p.Items[n-1])) {
			t.Fatalf("desc=%v page %d: FirstSeq/LastSeq = %d/%d (keys %q/%q), items span %d..%d", desc, len(pages), p.FirstSeq,
				p.LastSeq, p.FirstKey, p.LastKey, seqOf(p.Items[0]), seqOf(p.Items[n-1]))
		}
		pages = append(pages, p)
		got = append(got, p.Items...)
		if !p.HasNext {
			break
		}
		q = parley.PageQuery{Size: size, After: p.LastSeq, Key: p.LastKey, Desc: desc}
	}
	diff(t, fmt.Sprintf("forward walk (desc=%v)", desc), got, all)
	if want := (len(all) + size - 1) / size; len(pages) != want {
		t.Fatalf("desc=%v: forward walk took %d pages, want %d", desc, len(pages), want)
	}
	// Backward from the last page reproduces every earlier page.
	for i := len(pages) - 1; i > 0; i-- {
		p, err := list(parley.PageQuery{Size: size, Before: pages[i].FirstSeq, Key: pages[i].FirstKey, Desc: desc})
		if err != nil {
			t.Fatal(err)
		}
		diff(t, fmt.Sprintf("backward page %d (desc=%v)", i-1, desc), p.Items, pages[i-1].Items)
		if !p.HasNext || p.HasPrev != (i-1 > 0) {
			t.Fatalf("desc=%v backward page %d: HasNext=%v HasPrev=%v", desc, i-1, p.HasNext, p.HasPrev)
		}
	}
	// Past the end: empty, nothing next, something behind.
	last := all[len(all)-1]
	p, err := list(parley.PageQuery{Size: size, After: seqOf(last), Key: key(last), Desc: desc})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 0 || p.HasNext || !p.HasPrev {
		t.Fatalf("desc=%v past the end: %d items, HasNext=%v HasPrev=%v", desc, len(p.Items), p.HasNext, p.HasPrev)
	}
}

func testDeleteServiceCascades(t *testing.T, s parley.Store) {
	ctx := context.Background()
	def := bootstrapped(t, s)
	doomed := newService(t, s, "doomed")
	keep := newService(t, s, "kept")
	createUsers(t, s, doomed, 5, "gone")
	kept := createUsers(t, s, keep, 2, "stay")
	extra := parley.Role{Sid: sid(parley.PrefixRole), ServiceSid: doomed.svc.Sid, FriendlyName: "custom",
		Type: parley.RoleTypeService, Permissions: []string{"editOwnUserInfo"}, DateCreated: t0, DateUpdated: t0}
	update(t, s, func(tx parley.Tx) error { return tx.CreateRole(ctx, extra) })

	// The account's default service refuses deletion.
	err := s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteService(ctx, def.svc.Sid) })
	wantErr(t, err, parley.ErrInUse)

	update(t, s, func(tx parley.Tx) error { return tx.DeleteService(ctx, doomed.svc.Sid) })
	for _, r := range []parley.Role{doomed.admin, doomed.user, doomed.chAdm, doomed.chU, extra} {
		_, err := view(t, s, func(tx parley.Tx) (parley.Role, error) { return tx.Role(ctx, doomed.svc.Sid, r.Sid) })
		wantErr(t, err, parley.ErrNotFound)
	}
	_, err = view(t, s, func(tx parley.Tx) (parley.ServiceConfig, error) { return tx.ServiceConfig(ctx, doomed.svc.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	_, err = view(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserByIdentity(ctx, doomed.svc.Sid, "gone0000") })
	wantErr(t, err, parley.ErrNotFound)
	users := mustView(t, s, func(tx parley.Tx) (parley.Page[parley.User], error) {
		return tx.ListUsers(ctx, doomed.svc.Sid, parley.PageQuery{Size: 50})
	})
	if len(users.Items) != 0 {
		t.Fatalf("%d users listed in a deleted service", len(users.Items))
	}
	roles := mustView(t, s, func(tx parley.Tx) (parley.Page[parley.Role], error) {
		return tx.ListRoles(ctx, doomed.svc.Sid, parley.PageQuery{Size: 50})
	})
	if len(roles.Items) != 0 {
		t.Fatalf("%d roles listed in a deleted service", len(roles.Items))
	}
	// The other service is untouched.
	stay := mustView(t, s, func(tx parley.Tx) (parley.Page[parley.User], error) {
		return tx.ListUsers(ctx, keep.svc.Sid, parley.PageQuery{Size: 50})
	})
	diff(t, "kept users", stay.Items, kept)
}

func testServiceConfig(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "svc")
	want := parley.ServiceConfig{ServiceSid: f.svc.Sid, DefaultChatServiceRoleSid: f.user.Sid,
		DefaultConversationRoleSid: f.chU.Sid, DefaultConversationCreatorRoleSid: f.chAdm.Sid}
	got := mustView(t, s, func(tx parley.Tx) (parley.ServiceConfig, error) { return tx.ServiceConfig(ctx, f.svc.Sid) })
	diff(t, "config", got, want)

	// Every field changes to a value unlike its default, so a store that
	// forgets one cannot pass.
	want.DefaultChatServiceRoleSid = f.admin.Sid
	want.DefaultConversationRoleSid = f.chAdm.Sid
	want.DefaultConversationCreatorRoleSid = f.chU.Sid
	want.ReachabilityEnabled = true
	want.Webhooks = parley.WebhookConfig{Method: ptr("GET"), PreWebhookURL: ptr("http://127.0.0.1:9/pre"),
		PostWebhookURL: ptr("http://127.0.0.1:9/post"), Filters: []string{"onUserAdded", "onUserUpdated"}}
	update(t, s, func(tx parley.Tx) error { return tx.PutServiceConfig(ctx, want) })
	got = mustView(t, s, func(tx parley.Tx) (parley.ServiceConfig, error) { return tx.ServiceConfig(ctx, f.svc.Sid) })
	diff(t, "updated config", got, want)
	// And back: null webhook fields and false stay apart from set ones.
	want.ReachabilityEnabled = false
	want.Webhooks = parley.WebhookConfig{}
	update(t, s, func(tx parley.Tx) error { return tx.PutServiceConfig(ctx, want) })
	got = mustView(t, s, func(tx parley.Tx) (parley.ServiceConfig, error) { return tx.ServiceConfig(ctx, f.svc.Sid) })
	diff(t, "config reset", got, want)

	// Roles must exist.
	want.DefaultConversationRoleSid = sid(parley.PrefixRole)
	err := s.Update(ctx, func(tx parley.Tx) error { return tx.PutServiceConfig(ctx, want) })
	wantErr(t, err, parley.ErrDangling)
	_, err = view(t, s, func(tx parley.Tx) (parley.ServiceConfig, error) {
		return tx.ServiceConfig(ctx, sid(parley.PrefixService))
	})
	wantErr(t, err, parley.ErrNotFound)
}

// testDefaultServiceRef: reads given "" for the service act on the account's
// default service, and follow a change of default at once.
func testDefaultServiceRef(t *testing.T, s parley.Store) {
	ctx := context.Background()
	def := bootstrapped(t, s)
	other := newService(t, s, "other")
	u := createUsers(t, s, def, 1, "in-default")[0]
	o := createUsers(t, s, other, 1, "in-other")[0]
	check := func(f fixture, u parley.User) {
		t.Helper()
		got := mustView(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserBySid(ctx, "", u.Sid) })
		diff(t, "user by SID in the default service", got, u)
		got = mustView(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserByIdentity(ctx, "", u.Identity) })
		diff(t, "user by identity in the default service", got, u)
		list := mustView(t, s, func(tx parley.Tx) (parley.Page[parley.User], error) {
			return tx.ListUsers(ctx, "", parley.PageQuery{Size: 10})
		})
		diff(t, "users of the default service", list.Items, []parley.User{u})
		svc := mustView(t, s, func(tx parley.Tx) (parley.Service, error) { return tx.Service(ctx, "") })
		diff(t, "default service", svc, f.svc)
		cfg := mustView(t, s, func(tx parley.Tx) (parley.ServiceConfig, error) { return tx.ServiceConfig(ctx, "") })
		if cfg.ServiceSid != f.svc.Sid {
			t.Fatalf("default configuration is %s's, want %s's", cfg.ServiceSid, f.svc.Sid)
		}
		role := mustView(t, s, func(tx parley.Tx) (parley.Role, error) { return tx.Role(ctx, "", f.user.Sid) })
		diff(t, "role of the default service", role, f.user)
		roles := mustView(t, s, func(tx parley.Tx) (parley.Page[parley.Role], error) {
			return tx.ListRoles(ctx, "", parley.PageQuery{Size: 10})
		})
		if len(roles.Items) != 4 || roles.Items[0].ServiceSid != f.svc.Sid {
			t.Fatalf("roles of the default service: %+v", roles.Items)
		}
	}
	check(def, u)
	// Another service's rows are not found through "".
	_, err := view(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserBySid(ctx, "", o.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	_, err = view(t, s, func(tx parley.Tx) (parley.Role, error) { return tx.Role(ctx, "", other.user.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	// A new default takes effect at once.
	update(t, s, func(tx parley.Tx) error {
		return tx.PutAccountConfig(ctx, parley.AccountConfig{DefaultChatServiceSid: other.svc.Sid})
	})
	check(other, o)
}

func testRoles(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "svc")
	other := newService(t, s, "other")
	got := mustView(t, s, func(tx parley.Tx) (parley.Role, error) { return tx.Role(ctx, f.svc.Sid, f.chAdm.Sid) })
	diff(t, "role", got, f.chAdm)
	// A role is only found in its own service.
	_, err := view(t, s, func(tx parley.Tx) (parley.Role, error) { return tx.Role(ctx, other.svc.Sid, f.chAdm.Sid) })
	wantErr(t, err, parley.ErrNotFound)

	r := f.chAdm
	r.Permissions = []string{"sendMessage", "sendMediaMessage", "leaveConversation"}
	r.DateUpdated = t0.Add(time.Minute)
	update(t, s, func(tx parley.Tx) error { return tx.UpdateRole(ctx, r) })
	got = mustView(t, s, func(tx parley.Tx) (parley.Role, error) { return tx.Role(ctx, f.svc.Sid, r.Sid) })
	diff(t, "updated role", got, r)
	wrong := r
	wrong.ServiceSid = other.svc.Sid
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.UpdateRole(ctx, wrong) })
	wantErr(t, err, parley.ErrNotFound)

	var all []parley.Role
	for i := range 4 {
		extra := parley.Role{Sid: sid(parley.PrefixRole), ServiceSid: f.svc.Sid, FriendlyName: fmt.Sprint("r", i),
			Type: parley.RoleTypeService, Permissions: []string{"joinConversation"}, DateCreated: t0, DateUpdated: t0}
		update(t, s, func(tx parley.Tx) error { return tx.CreateRole(ctx, extra) })
		all = append(all, extra)
	}
	page := mustView(t, s, func(tx parley.Tx) (parley.Page[parley.Role], error) {
		return tx.ListRoles(ctx, f.svc.Sid, parley.PageQuery{Size: 50})
	})
	diff(t, "role list", page.Items, append([]parley.Role{f.admin, f.user, r, f.chU}, all...))
	checkPaging(t, page.Items, func(q parley.PageQuery) (parley.Page[parley.Role], error) {
		return view(t, s, func(tx parley.Tx) (parley.Page[parley.Role], error) { return tx.ListRoles(ctx, f.svc.Sid, q) })
	}, func(v parley.Role) int64 { return v.Seq })

	update(t, s, func(tx parley.Tx) error { return tx.DeleteRole(ctx, f.svc.Sid, all[0].Sid) })
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteRole(ctx, f.svc.Sid, all[0].Sid) })
	wantErr(t, err, parley.ErrNotFound)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteRole(ctx, other.svc.Sid, all[1].Sid) })
	wantErr(t, err, parley.ErrNotFound)
}

func testRoleInUse(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "svc")
	// Named by the configuration.
	err := s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteRole(ctx, f.svc.Sid, f.user.Sid) })
	wantErr(t, err, parley.ErrInUse)
	// Held by a user.
	u := newUser(f, "holder")
	u.RoleSid = f.admin.Sid
	update(t, s, func(tx parley.Tx) error { return tx.CreateUser(ctx, u) })
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteRole(ctx, f.svc.Sid, f.admin.Sid) })
	wantErr(t, err, parley.ErrInUse)
	update(t, s, func(tx parley.Tx) error { return tx.DeleteUser(ctx, f.svc.Sid, u.Sid) })
	update(t, s, func(tx parley.Tx) error { return tx.DeleteRole(ctx, f.svc.Sid, f.admin.Sid) })
	// A user cannot hold a role that does not exist.
	bad := newUser(f, "ghost")
	bad.RoleSid = sid(parley.PrefixRole)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.CreateUser(ctx, bad) })
	wantErr(t, err, parley.ErrDangling)
}

func testUsers(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "svc")
	u := parley.User{Sid: sid(parley.PrefixUser), ServiceSid: f.svc.Sid, RoleSid: f.admin.Sid,
		Identity: "alice@example.com", FriendlyName: ptr("Alice Ünïcode 💬"),
		Attributes: ` { "b": [1, 2.50, "x"], "a": null } `, IsOnline: ptr(true), IsNotifiable: ptr(false),
		DateCreated: t0, DateUpdated: t0.Add(time.Second)}
	update(t, s, func(tx parley.Tx) error { return tx.CreateUser(ctx, u) })
	got := mustView(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserBySid(ctx, f.svc.Sid, u.Sid) })
	diff(t, "user by sid", got, u)
	got = mustView(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserByIdentity(ctx, f.svc.Sid, u.Identity) })
	diff(t, "user by identity", got, u)

	// Identities are case-sensitive, and users are found only in their service.
	_, err := view(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserByIdentity(ctx, f.svc.Sid, "Alice@example.com") })
	wantErr(t, err, parley.ErrNotFound)
	other := newService(t, s, "other")
	_, err = view(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserBySid(ctx, other.svc.Sid, u.Sid) })
	wantErr(t, err, parley.ErrNotFound)

	// UpdateUser writes every field it owns, each to a value unlike the
	// last (so a store that drops one fails), and nothing else: identity
	// and presence are not its to change.
	u.FriendlyName = ptr("Renamed")
	u.Attributes = `{"moved":true}`
	u.RoleSid = f.user.Sid
	u.DateUpdated = t0.Add(time.Hour)
	changed := u
	changed.Identity, changed.IsOnline, changed.IsNotifiable = "changed-identity", ptr(false), nil
	changed.DateCreated = t0.Add(-time.Hour)
	update(t, s, func(tx parley.Tx) error { return tx.UpdateUser(ctx, changed) })
	got = mustView(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserBySid(ctx, f.svc.Sid, u.Sid) })
	diff(t, "updated user", got, u)
	u.FriendlyName = nil
	u.Attributes = "{}"
	u.DateUpdated = t0.Add(2 * time.Hour)
	update(t, s, func(tx parley.Tx) error { return tx.UpdateUser(ctx, u) })
	got = mustView(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserBySid(ctx, f.svc.Sid, u.Sid) })
	diff(t, "user with name cleared", got, u)
	ghost := u
	ghost.Sid = sid(parley.PrefixUser)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.UpdateUser(ctx, ghost) })
	wantErr(t, err, parley.ErrNotFound)

	// SetOnline changes presence alone.
	for _, online := range []bool{false, true} {
		update(t, s, func(tx parley.Tx) error { return tx.SetOnline(ctx, u.Sid, online) })
		u.IsOnline = ptr(online)
		got = mustView(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserBySid(ctx, f.svc.Sid, u.Sid) })
		diff(t, fmt.Sprintf("user set online=%v", online), got, u)
	}
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.SetOnline(ctx, ghost.Sid, true) })
	wantErr(t, err, parley.ErrNotFound)

	err = s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteUser(ctx, other.svc.Sid, u.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	update(t, s, func(tx parley.Tx) error { return tx.DeleteUser(ctx, f.svc.Sid, u.Sid) })
	_, err = view(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserBySid(ctx, f.svc.Sid, u.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteUser(ctx, f.svc.Sid, u.Sid) })
	wantErr(t, err, parley.ErrNotFound)
}

func testUserIdentityUnique(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "svc")
	other := newService(t, s, "other")
	update(t, s, func(tx parley.Tx) error { return tx.CreateUser(ctx, newUser(f, "bob")) })
	err := s.Update(ctx, func(tx parley.Tx) error { return tx.CreateUser(ctx, newUser(f, "bob")) })
	wantErr(t, err, parley.ErrConflict)
	// Other case, other service: both fine.
	update(t, s, func(tx parley.Tx) error { return tx.CreateUser(ctx, newUser(f, "Bob")) })
	update(t, s, func(tx parley.Tx) error { return tx.CreateUser(ctx, newUser(other, "bob")) })
	// A duplicate SID is a conflict too.
	dup := newUser(f, "carol")
	update(t, s, func(tx parley.Tx) error { return tx.CreateUser(ctx, dup) })
	dup.Identity = "dave"
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.CreateUser(ctx, dup) })
	wantErr(t, err, parley.ErrConflict)
}

func testUserPaging(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "svc")
	other := newService(t, s, "other")
	createUsers(t, s, other, 4, "x") // interleaved rows of another service stay out
	a := createUsers(t, s, f, 5, "a")
	createUsers(t, s, other, 4, "y")
	b := createUsers(t, s, f, 5, "b")
	all := append(a, b...)
	// Creation order, not identity order.
	all[0], all[1] = all[1], all[0]
	update(t, s, func(tx parley.Tx) error {
		return errors.Join(tx.DeleteUser(ctx, f.svc.Sid, a[0].Sid), tx.DeleteUser(ctx, f.svc.Sid, a[1].Sid))
	})
	swapped := []parley.User{newUser(f, "z-late-1"), newUser(f, "a-late-2")}
	update(t, s, func(tx parley.Tx) error {
		return errors.Join(tx.CreateUser(ctx, swapped[0]), tx.CreateUser(ctx, swapped[1]))
	})
	want := append(slices.Clone(all[2:]), swapped...)
	list := func(q parley.PageQuery) (parley.Page[parley.User], error) {
		return view(t, s, func(tx parley.Tx) (parley.Page[parley.User], error) { return tx.ListUsers(ctx, f.svc.Sid, q) })
	}
	stored, err := list(parley.PageQuery{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "all users", stored.Items, want)
	want = stored.Items // now with their creation sequence
	checkPaging(t, want, list, func(u parley.User) int64 { return u.Seq })

	// Rows created after a cursor was taken appear on later pages; rows
	// before it are not repeated.
	first, err := list(parley.PageQuery{Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	late := newUser(f, "later")
	update(t, s, func(tx parley.Tx) error { return tx.CreateUser(ctx, late) })
	var rest []parley.User
	q := parley.PageQuery{Size: 3, After: first.LastSeq}
	for range len(want) {
		p, err := list(q)
		if err != nil {
			t.Fatal(err)
		}
		rest = append(rest, p.Items...)
		if !p.HasNext {
			break
		}
		q.After = p.LastSeq
	}
	diff(t, "pages after a concurrent create", append(first.Items, rest...), append(want, late))
}

func testUpdateRollsBack(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "svc")
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx parley.Tx) error {
		if err := tx.CreateUser(ctx, newUser(f, "half")); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, err, boom)
	_, err = view(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserByIdentity(ctx, f.svc.Sid, "half") })
	wantErr(t, err, parley.ErrNotFound)

	// A failed statement inside fn does not poison the writes that follow.
	update(t, s, func(tx parley.Tx) error { return tx.CreateUser(ctx, newUser(f, "first")) })
	err = s.Update(ctx, func(tx parley.Tx) error {
		if err := tx.CreateUser(ctx, newUser(f, "second")); err != nil {
			return err
		}
		return tx.CreateUser(ctx, newUser(f, "first"))
	})
	wantErr(t, err, parley.ErrConflict)
	_, err = view(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserByIdentity(ctx, f.svc.Sid, "second") })
	wantErr(t, err, parley.ErrNotFound)
	update(t, s, func(tx parley.Tx) error { return tx.CreateUser(ctx, newUser(f, "third")) })
}

func testConcurrentCreates(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "svc")
	const n = 48
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx parley.Tx) error { return tx.CreateUser(ctx, newUser(f, "same")) })
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, parley.ErrConflict):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d creates succeeded, want exactly 1", ok)
	}
}

func testConcurrentIndependentWrites(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "svc")
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx parley.Tx) error {
				if i%4 == 0 {
					// Failing writes in the same batches as good ones.
					_ = tx.CreateUser(ctx, newUser(f, fmt.Sprint("fail", i)))
					return errors.New("refused")
				}
				return tx.CreateUser(ctx, newUser(f, fmt.Sprint("u", i)))
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i%4 == 0) != (err != nil) {
			t.Fatalf("write %d: err = %v", i, err)
		}
	}
	p := mustView(t, s, func(tx parley.Tx) (parley.Page[parley.User], error) {
		return tx.ListUsers(ctx, f.svc.Sid, parley.PageQuery{Size: 100})
	})
	if len(p.Items) != n-n/4 {
		t.Fatalf("%d users stored, want %d", len(p.Items), n-n/4)
	}
	for _, u := range p.Items {
		if u.Identity[0] != 'u' {
			t.Fatalf("a refused write left %q behind", u.Identity)
		}
	}
}

// newDelivery is a pending delivery to target, due at at. Its Host is what
// the store must set from the URL; what the caller passes is ignored, and
// the rows read back must hold the store's.
func newDelivery(svc, target string, at time.Time) parley.Delivery {
	return parley.Delivery{Sid: sid(parley.PrefixDelivery), EventType: "onUserAdded", ServiceSid: svc,
		URL: target, Host: parley.DeliveryHost(target), Method: "POST", Params: "A=1&B=%C3%BC",
		Status: parley.DeliveryPending, NextAttemptAt: at, DateCreated: at, DateUpdated: at}
}

// testDeliveryFilters lists the outbox by status and event type, both
// orders, paged: the one filtered list the store has today, which every
// filtered list to come follows.
func testDeliveryFilters(t *testing.T, s parley.Store) {
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	svc := sid(parley.PrefixService)
	var all []parley.Delivery
	for i := range 12 {
		d := newDelivery(svc, "http://a.test/hook", at)
		if i%3 == 0 {
			d.EventType = "onUserUpdated"
		}
		all = append(all, d)
	}
	update(t, s, func(tx parley.Tx) error {
		for _, d := range all {
			if err := tx.EnqueueDelivery(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	// Every other one delivered.
	update(t, s, func(tx parley.Tx) error {
		for i := 0; i < len(all); i += 2 {
			all[i].Status, all[i].Attempts, all[i].LastStatusCode = parley.DeliveryDelivered, 1, 204
			if err := tx.FinishDelivery(ctx, all[i]); err != nil {
				return err
			}
		}
		return nil
	})
	list := func(f parley.DeliveryFilter) func(parley.PageQuery) (parley.Page[parley.Delivery], error) {
		return func(q parley.PageQuery) (parley.Page[parley.Delivery], error) {
			return view(t, s, func(tx parley.Tx) (parley.Page[parley.Delivery], error) { return tx.ListDeliveries(ctx, f, q) })
		}
	}
	for _, f := range []parley.DeliveryFilter{
		{}, {Status: parley.DeliveryDelivered}, {Status: parley.DeliveryPending}, {EventType: "onUserUpdated"},
		{Status: parley.DeliveryPending, EventType: "onUserUpdated"}, {Status: parley.DeliveryFailed},
	} {
		var want []parley.Delivery
		for _, d := range all {
			if (f.Status == "" || d.Status == f.Status) && (f.EventType == "" || d.EventType == f.EventType) {
				want = append(want, d)
			}
		}
		got, err := list(f)(parley.PageQuery{Size: 50})
		if err != nil {
			t.Fatal(err)
		}
		diff(t, fmt.Sprintf("deliveries matching %+v", f), got.Items, want)
		if len(want) > 0 {
			checkPaging(t, got.Items, list(f), func(d parley.Delivery) int64 { return d.Seq })
		}
	}
}

func testDeliveries(t *testing.T, s parley.Store) {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 123e6, time.UTC) // millisecond precision is kept
	svc := sid(parley.PrefixService)                       // deliveries outlive services: no foreign key
	const (
		hostA = "http://a.test:80"
		hostB = "https://b.test:8443"
		hostC = "https://c.test:443"
	)
	at := func(d time.Duration) time.Time { return now.Add(d) }
	a1 := newDelivery(svc, "http://a.test/hook", at(-2*time.Second))
	a2 := newDelivery(svc, "HTTP://A.Test:80/other?x=1", at(-time.Second)) // the same host, spelt otherwise
	a3 := newDelivery(svc, "http://a.test/hook", now)                      // due exactly now
	aLater := newDelivery(svc, "http://a.test/hook", at(time.Minute))
	b1 := newDelivery(svc, "https://b.test:8443/hook", now)
	bLater := newDelivery(svc, "https://b.test:8443/hook", at(time.Hour))
	c1 := newDelivery(svc, "https://user:pw@c.test/x#f", at(30*time.Second))
	for _, d := range []parley.Delivery{a1, a2, a3, aLater} {
		if d.Host != hostA {
			t.Fatalf("DeliveryHost(%q) = %q, want %q", d.URL, d.Host, hostA)
		}
	}
	if b1.Host != hostB || c1.Host != hostC {
		t.Fatalf("DeliveryHost: %q, %q", b1.Host, c1.Host)
	}
	// Queued out of due order, so that seq order and due order differ; one
	// with a Host of the caller's own, which the store overrides.
	bogus := a1
	bogus.Host = "http://elsewhere:80"
	update(t, s, func(tx parley.Tx) error {
		var errs []error
		for _, d := range []parley.Delivery{a3, b1, bogus, c1, aLater, a2, bLater} {
			errs = append(errs, tx.EnqueueDelivery(ctx, d))
		}
		return errors.Join(errs...)
	})
	list := func() []parley.Delivery {
		return mustView(t, s, func(tx parley.Tx) (parley.Page[parley.Delivery], error) {
			return tx.ListDeliveries(ctx, parley.DeliveryFilter{}, parley.PageQuery{Size: 20})
		}).Items
	}
	diff(t, "queued deliveries", list(), []parley.Delivery{a3, b1, a1, c1, aLater, a2, bLater})
	countPending := func() int64 {
		return mustView(t, s, func(tx parley.Tx) (int64, error) { return tx.CountPendingDeliveries(ctx) })
	}
	diff(t, "pending deliveries", countPending(), int64(7))

	pending := func(at time.Time) []parley.PendingHost {
		return mustView(t, s, func(tx parley.Tx) ([]parley.PendingHost, error) { return tx.PendingHosts(ctx, at) })
	}
	claim := func(at time.Time, limits map[string]int) []parley.Delivery {
		var got []parley.Delivery
		update(t, s, func(tx parley.Tx) error {
			var err error
			got, err = tx.ClaimDeliveries(ctx, at, at.Add(30*time.Second), limits)
			return err
		})
		return got
	}
	leased := func(until time.Time, ds ...*parley.Delivery) {
		for _, d := range ds {
			d.LeaseUntil = ptr(until)
		}
	}

	// Every host with unleased pending work, with its earliest due time,
	// due yet or not.
	diff(t, "pending hosts", pending(now), []parley.PendingHost{
		{Host: hostA, NextAttemptAt: a1.NextAttemptAt},
		{Host: hostB, NextAttemptAt: now},
		{Host: hostC, NextAttemptAt: c1.NextAttemptAt},
	})
	// Each host gets at most its limit, earliest due first; a host with
	// nothing due, a host with no deliveries and a limit of 0 get nothing.
	got := claim(now, map[string]int{hostA: 2, hostB: 5, hostC: 3, "http://nobody.test:80": 4, "": 0})
	leased(at(30*time.Second), &a1, &a2, &b1)
	diff(t, "first claim", got, []parley.Delivery{a1, a2, b1})
	if got := claim(now, map[string]int{hostA: 0, hostB: -1}); len(got) != 0 {
		t.Fatalf("claims with limits below 1 returned %d deliveries", len(got))
	}
	diff(t, "pending hosts after the claim", pending(now), []parley.PendingHost{
		{Host: hostA, NextAttemptAt: now}, // a3: a1 and a2 are leased
		{Host: hostB, NextAttemptAt: bLater.NextAttemptAt},
		{Host: hostC, NextAttemptAt: c1.NextAttemptAt},
	})
	// Leased deliveries are not claimed again while the lease holds.
	got = claim(at(time.Second), map[string]int{hostA: 10, hostB: 10})
	leased(at(31*time.Second), &a3)
	diff(t, "claim while leased", got, []parley.Delivery{a3})
	diff(t, "pending hosts with all due work leased", pending(at(time.Second)), []parley.PendingHost{
		{Host: hostA, NextAttemptAt: aLater.NextAttemptAt},
		{Host: hostB, NextAttemptAt: bLater.NextAttemptAt},
		{Host: hostC, NextAttemptAt: c1.NextAttemptAt},
	})

	// A delivery whose claimer died comes back after its lease: a1 and a2
	// (lease until now+30s) at now+30s, a3 only at now+31s.
	diff(t, "pending hosts after the first leases ran out", pending(at(30*time.Second)), []parley.PendingHost{
		{Host: hostA, NextAttemptAt: a1.NextAttemptAt},
		{Host: hostB, NextAttemptAt: b1.NextAttemptAt},
		{Host: hostC, NextAttemptAt: c1.NextAttemptAt},
	})
	got = claim(at(30*time.Second), map[string]int{hostA: 10, hostC: 10})
	leased(at(60*time.Second), &a1, &a2, &c1)
	diff(t, "claim after lease expiry", got, []parley.Delivery{a1, a2, c1})

	// The receiver's answers: an empty body is "", not NULL (an answer
	// came); text beyond ASCII comes back as it went.
	done := a1
	done.Status, done.Attempts, done.LastStatusCode, done.LeaseUntil = parley.DeliveryDelivered, 1, 204, nil
	done.DateUpdated, done.LastResponse = at(32*time.Second), ptr("")
	retry := a2
	retry.Attempts, retry.LastStatusCode, retry.LastError = 1, 500, "HTTP 500"
	retry.NextAttemptAt, retry.LeaseUntil, retry.DateUpdated = at(2*time.Hour), nil, at(32*time.Second)
	retry.LastResponse = ptr("upstream \u2192 down\n\tretry later")
	failed := c1
	failed.Status, failed.Attempts, failed.LastStatusCode, failed.LastError = parley.DeliveryFailed, 1, 404, "HTTP 404"
	failed.LeaseUntil, failed.DateUpdated, failed.LastResponse = nil, at(32*time.Second), ptr(`{"error":"no such hook"}`)
	update(t, s, func(tx parley.Tx) error {
		return errors.Join(tx.FinishDelivery(ctx, done), tx.FinishDelivery(ctx, retry), tx.FinishDelivery(ctx, failed))
	})
	err := s.Update(ctx, func(tx parley.Tx) error {
		return tx.FinishDelivery(ctx, newDelivery(svc, "http://a.test/hook", now))
	})
	wantErr(t, err, parley.ErrNotFound)
	diff(t, "pending deliveries after finishing two, leased or not", countPending(), int64(5))

	// Delivered and failed deliveries are never claimed or listed as
	// pending (c has none left); the retry waits for its time.
	diff(t, "pending hosts after finishing", pending(at(2*time.Minute)), []parley.PendingHost{
		{Host: hostA, NextAttemptAt: a3.NextAttemptAt}, // a3's lease ran out at now+31s
		{Host: hostB, NextAttemptAt: b1.NextAttemptAt},
	})
	got = claim(at(2*time.Minute), map[string]int{hostA: 10, hostB: 10, hostC: 10})
	leased(at(2*time.Minute+30*time.Second), &a3, &aLater, &b1)
	diff(t, "claim after finishing", got, []parley.Delivery{a3, aLater, b1})
	got = claim(at(3*time.Hour), map[string]int{hostA: 10, hostB: 10, hostC: 10})
	leased(at(3*time.Hour+30*time.Second), &a3, &aLater, &retry, &b1, &bLater)
	diff(t, "claim of everything pending", got, []parley.Delivery{a3, aLater, retry, b1, bLater})

	diff(t, "delivery list", list(), []parley.Delivery{a3, b1, done, failed, aLater, retry, bLater})
	if got := pending(at(3 * time.Hour)); len(got) != 0 {
		t.Fatalf("pending hosts with everything leased: %v", got)
	}
	// An attempt that got no answer clears the last one's.
	retry.Attempts, retry.LastStatusCode, retry.LastError, retry.LastResponse = 2, 0, "connection refused", nil
	retry.NextAttemptAt, retry.LeaseUntil, retry.DateUpdated = at(4*time.Hour), nil, at(3*time.Hour)
	update(t, s, func(tx parley.Tx) error { return tx.FinishDelivery(ctx, retry) })
	diff(t, "delivery after an attempt without an answer",
		mustView(t, s, func(tx parley.Tx) (parley.Delivery, error) { return tx.Delivery(ctx, retry.Sid) }), retry)
}

// testRetryRacesClaim sends deliveries again (RetryDelivery) while a
// dispatcher claims them: each is claimed once, and a retry either comes
// first or is refused with ErrInUse (the delivery is being sent) — never
// a retry that lands on a claimed delivery.
func testRetryRacesClaim(t *testing.T, s parley.Store) {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	lease := now.Add(time.Minute)
	target := "http://retry.test/hook"
	const n = 60
	var sids []string
	update(t, s, func(tx parley.Tx) error {
		for range n {
			d := newDelivery(sid(parley.PrefixService), target, now)
			sids = append(sids, d.Sid)
			if err := tx.EnqueueDelivery(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	claimed := map[string]int{}
	refused := map[string]bool{}
	var wg sync.WaitGroup
	wg.Go(func() {
		for len(claimed) < n {
			var got []parley.Delivery
			if err := s.Update(ctx, func(tx parley.Tx) (err error) {
				got, err = tx.ClaimDeliveries(ctx, now, lease, map[string]int{parley.DeliveryHost(target): 3})
				return err
			}); err != nil {
				t.Errorf("claim: %v", err)
				return
			}
			for _, d := range got {
				claimed[d.Sid]++
			}
		}
	})
	wg.Go(func() {
		for _, id := range sids {
			err := s.Update(ctx, func(tx parley.Tx) error { _, err := tx.RetryDelivery(ctx, id, now); return err })
			switch {
			case errors.Is(err, parley.ErrInUse):
				refused[id] = true
			case err != nil:
				t.Errorf("retry %s: %v", id, err)
			}
		}
	})
	wg.Wait()
	for _, id := range sids {
		if claimed[id] != 1 {
			t.Fatalf("delivery %s claimed %d times", id, claimed[id])
		}
		d := mustView(t, s, func(tx parley.Tx) (parley.Delivery, error) { return tx.Delivery(ctx, id) })
		if d.Status != parley.DeliveryPending || d.LeaseUntil == nil || !d.LeaseUntil.Equal(lease) {
			t.Fatalf("delivery %s after the race (retry refused: %v): %+v", id, refused[id], d)
		}
	}
}

// testConcurrentClaims has goroutines claim from three hosts at once, each
// with its own per-host limits: no delivery is claimed twice, none is
// missed, and no claim returns more for a host than its limit.
func testConcurrentClaims(t *testing.T, s parley.Store) {
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	targets := []string{"http://a.test/hook", "http://b.test:8080/hook", "https://c.test/hook"}
	const perHost = 40
	want := map[string]string{} // SID → host
	update(t, s, func(tx parley.Tx) error {
		for i := range perHost * len(targets) {
			d := newDelivery(sid(parley.PrefixService), targets[i%len(targets)], now.Add(-time.Duration(i%7)*time.Millisecond))
			want[d.Sid] = d.Host
			if err := tx.EnqueueDelivery(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	hosts := []string{parley.DeliveryHost(targets[0]), parley.DeliveryHost(targets[1]), parley.DeliveryHost(targets[2])}
	limitSets := []map[string]int{
		{hosts[0]: 2, hosts[1]: 3, hosts[2]: 1},
		{hosts[0]: 4},
		{hosts[1]: 1, hosts[2]: 5},
		{hosts[0]: 1, hosts[1]: 1, hosts[2]: 1, "http://nobody.test:80": 3},
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for g := range 8 {
		limits := limitSets[g%len(limitSets)]
		wg.Go(func() {
			// perHost×hosts claims at most: each returns at least one
			// delivery until its hosts are empty.
			for range perHost * len(targets) {
				var got []parley.Delivery
				err := s.Update(ctx, func(tx parley.Tx) error {
					var err error
					got, err = tx.ClaimDeliveries(ctx, now, now.Add(time.Minute), limits)
					return err
				})
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				per := map[string]int{}
				for _, d := range got {
					per[d.Host]++
					if d.LeaseUntil == nil || !d.LeaseUntil.Equal(now.Add(time.Minute)) || want[d.Sid] != d.Host {
						t.Errorf("claimed %+v", d)
					}
				}
				for h, n := range per {
					if n > limits[h] {
						t.Errorf("claimed %d deliveries of %s with a limit of %d", n, h, limits[h])
					}
				}
				mu.Lock()
				for _, d := range got {
					seen[d.Sid]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != len(want) {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(seen), len(want))
	}
	for sid, c := range seen {
		if c != 1 {
			t.Fatalf("delivery %s claimed %d times", sid, c)
		}
	}
	if got := mustView(t, s, func(tx parley.Tx) ([]parley.PendingHost, error) { return tx.PendingHosts(ctx, now) }); len(got) != 0 {
		t.Fatalf("pending hosts after claiming everything: %v", got)
	}
}

// testResetData: a reset leaves the account alone, and the API keys when
// asked to keep them; every row of the API goes.
func testResetData(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := bootstrapped(t, s)
	users := createUsers(t, s, f, 3, "u")
	conv := newConversation(f)
	createConversations(t, s, &conv)
	p := chatParticipant(conv, users[0], f.chU)
	createParticipants(t, s, &p)
	key := parley.APIKey{Sid: sid("SK"), FriendlyName: "k", SecretHash: []byte("h"), DateCreated: t0}
	update(t, s, func(tx parley.Tx) error {
		if err := tx.CreateAPIKey(ctx, key); err != nil {
			return err
		}
		return tx.EnqueueDelivery(ctx, newDelivery(f.svc.Sid, "https://x.test/", t0))
	})
	acct := mustView(t, s, func(tx parley.Tx) (parley.Account, error) { return tx.Account(ctx) })
	for _, keep := range []bool{true, false} {
		if err := s.Reset(ctx, keep, func(parley.Tx) error { return nil }); err != nil {
			t.Fatalf("Reset: %v", err)
		}
		got := mustView(t, s, func(tx parley.Tx) (parley.Account, error) { return tx.Account(ctx) })
		diff(t, "account after a reset", got, acct)
		_, err := view(t, s, func(tx parley.Tx) (parley.APIKey, error) { return tx.APIKey(ctx, key.Sid) })
		if keep {
			if err != nil {
				t.Fatalf("key after a reset keeping keys: %v", err)
			}
		} else {
			wantErr(t, err, parley.ErrNotFound)
		}
		_, err = view(t, s, func(tx parley.Tx) (parley.Service, error) { return tx.Service(ctx, f.svc.Sid) })
		wantErr(t, err, parley.ErrNotFound)
		_, err = view(t, s, func(tx parley.Tx) (parley.AccountConfig, error) { return tx.AccountConfig(ctx) })
		wantErr(t, err, parley.ErrNotFound)
		_, err = view(t, s, func(tx parley.Tx) (parley.Conversation, error) { return tx.ConversationBySid(ctx, f.svc.Sid, conv.Sid) })
		wantErr(t, err, parley.ErrNotFound)
		ds := mustView(t, s, func(tx parley.Tx) (parley.Page[parley.Delivery], error) {
			return tx.ListDeliveries(ctx, parley.DeliveryFilter{}, parley.PageQuery{Size: 50})
		})
		if len(ds.Items) != 0 {
			t.Fatalf("%d deliveries after a reset", len(ds.Items))
		}
	}
	// What fn writes is in the same transaction: a failing fn leaves the
	// data as it was; one that writes leaves its rows. (The service SID is
	// free again.)
	again := createUsers(t, s, newService(t, s, "later"), 1, "later")
	boom := errors.New("boom")
	if err := s.Reset(ctx, true, func(parley.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Reset with a failing fn: %v", err)
	}
	if _, err := view(t, s, func(tx parley.Tx) (parley.User, error) { return tx.UserBySid(ctx, again[0].ServiceSid, again[0].Sid) }); err != nil {
		t.Fatalf("a failed reset deleted: %v", err)
	}
	if err := s.Reset(ctx, true, func(tx parley.Tx) error { return tx.CreateService(ctx, f.svc) }); err != nil {
		t.Fatalf("Reset writing a service: %v", err)
	}
	got := mustView(t, s, func(tx parley.Tx) (parley.Page[parley.Service], error) {
		return tx.ListServices(ctx, parley.PageQuery{Size: 50})
	})
	if len(got.Items) != 1 || got.Items[0].Sid != f.svc.Sid {
		t.Fatalf("services after a reset that wrote one: %+v", got.Items)
	}
}

// testDeliveryControls: a delivery is fetched by SID; a finished one is
// made pending again, due at the time given, its attempts kept, while one
// a dispatcher holds and a recorded push are refused; finished ones are
// pruned by age, oldest first, pending ones never; and the outbox empties.
func testDeliveryControls(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := bootstrapped(t, s)
	old, done, held, rec := newDelivery(f.svc.Sid, "https://a.test/", t0), newDelivery(f.svc.Sid, "https://a.test/", t0),
		newDelivery(f.svc.Sid, "https://b.test/", t0), newDelivery(f.svc.Sid, "https://c.test/", t0)
	rec.Status = parley.DeliveryRecorded
	update(t, s, func(tx parley.Tx) error {
		for _, d := range []parley.Delivery{old, done, held, rec} {
			if err := tx.EnqueueDelivery(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	// old and done are delivered (old an hour earlier); held is claimed.
	var claimed []parley.Delivery
	update(t, s, func(tx parley.Tx) error {
		var err error
		claimed, err = tx.ClaimDeliveries(ctx, t0, t0.Add(24*time.Hour), map[string]int{parley.DeliveryHost(old.URL): 2, parley.DeliveryHost(held.URL): 1})
		if err != nil {
			return err
		}
		for _, d := range claimed {
			if d.Sid == held.Sid {
				continue
			}
			d.Status, d.Attempts, d.DateUpdated = parley.DeliveryDelivered, 1, t0.Add(2*time.Hour)
			if d.Sid == old.Sid {
				d.DateUpdated = t0.Add(time.Hour)
			}
			if err := tx.FinishDelivery(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	if len(claimed) != 3 {
		t.Fatalf("claimed %d deliveries, want 3", len(claimed))
	}
	got := mustView(t, s, func(tx parley.Tx) (parley.Delivery, error) { return tx.Delivery(ctx, done.Sid) })
	if got.Status != parley.DeliveryDelivered || got.Attempts != 1 || got.URL != done.URL {
		t.Fatalf("Delivery: %+v", got)
	}
	_, err := view(t, s, func(tx parley.Tx) (parley.Delivery, error) { return tx.Delivery(ctx, sid(parley.PrefixDelivery)) })
	wantErr(t, err, parley.ErrNotFound)

	at := t0.Add(3 * time.Hour)
	var retried parley.Delivery
	update(t, s, func(tx parley.Tx) error {
		var err error
		retried, err = tx.RetryDelivery(ctx, done.Sid, at)
		return err
	})
	if retried.Status != parley.DeliveryPending || retried.Attempts != 1 || !retried.NextAttemptAt.Equal(at) || !retried.DateUpdated.Equal(at) {
		t.Fatalf("retried: %+v", retried)
	}
	for _, refused := range []string{held.Sid, rec.Sid} {
		err := s.Update(ctx, func(tx parley.Tx) error { _, err := tx.RetryDelivery(ctx, refused, at); return err })
		wantErr(t, err, parley.ErrInUse)
	}
	err = s.Update(ctx, func(tx parley.Tx) error { _, err := tx.RetryDelivery(ctx, sid(parley.PrefixDelivery), at); return err })
	wantErr(t, err, parley.ErrNotFound)

	// Finished before t0+4h: old (delivered) and rec (recorded, t0);
	// done is pending again, held still pending. One at a time, oldest
	// first.
	prune := func(limit int) int {
		var n int
		update(t, s, func(tx parley.Tx) error {
			var err error
			n, err = tx.PruneDeliveries(ctx, t0.Add(4*time.Hour), limit)
			return err
		})
		return n
	}
	if n := prune(1); n != 1 {
		t.Fatalf("pruned %d, want 1", n)
	}
	if _, err := view(t, s, func(tx parley.Tx) (parley.Delivery, error) { return tx.Delivery(ctx, rec.Sid) }); !errors.Is(err, parley.ErrNotFound) {
		t.Fatalf("the oldest finished delivery was not the first pruned: %v", err)
	}
	if n := prune(10); n != 1 {
		t.Fatalf("pruned %d, want 1 (old)", n)
	}
	left := mustView(t, s, func(tx parley.Tx) (parley.Page[parley.Delivery], error) {
		return tx.ListDeliveries(ctx, parley.DeliveryFilter{}, parley.PageQuery{Size: 50})
	})
	if len(left.Items) != 2 || left.Items[0].Sid != done.Sid || left.Items[1].Sid != held.Sid {
		t.Fatalf("left after pruning: %+v", left.Items)
	}
	update(t, s, func(tx parley.Tx) error { return tx.DeleteDeliveries(ctx) })
	left = mustView(t, s, func(tx parley.Tx) (parley.Page[parley.Delivery], error) {
		return tx.ListDeliveries(ctx, parley.DeliveryFilter{}, parley.PageQuery{Size: 50})
	})
	if len(left.Items) != 0 {
		t.Fatalf("%d deliveries after DeleteDeliveries", len(left.Items))
	}
}
