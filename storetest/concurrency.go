package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// The concurrency half of the suite. Two promises are checked for every
// write a store offers, and a test (EveryWriteIsCovered) fails when a Tx
// method is added without saying which promise covers it:
//
//   - Two read-modify-writes of different fields of one row, run at once,
//     keep both changes: the read in each goes through ForUpdate, and a
//     store that does not lock (on PostgreSQL, READ COMMITTED lets both
//     read the old row) loses one. Each writer pauses between its read and
//     its write, so that without a lock the loss is near certain.
//   - A write that refers to a parent (a user to its service and role, a
//     configuration to its roles, …) racing the parent's delete ends in
//     success or ErrNotFound (the rules' "no such parent"), never in a
//     driver error, and never leaves a row referring to nothing.

// pause is how long a writer waits between its read and its write, long
// enough for the other writers to read the same row without a lock.
const pause = 20 * time.Millisecond

// partialUpdate is an updatable resource: how to make one, and writers
// that each change one field through a read-modify-write.
type partialUpdate struct {
	name string
	// methods are the Tx writes these read-modify-writes exercise.
	methods []string
	// setup makes the row and returns what the writers and check need.
	setup func(t *testing.T, s parley.Store) any
	// writers each read the row through ForUpdate, pause, change their own
	// field and write the row back.
	writers []func(ctx context.Context, tx parley.Tx, row any) error
	// check fails unless every writer's change is in the row.
	check func(t *testing.T, s parley.Store, row any)
}

// participantRow is what the participant writers share.
type participantRow struct {
	f fixture
	p parley.Participant
}

// userRow is what the user writers share.
type userRow struct {
	f fixture
	u parley.User
}

// rowWriter makes one writer of a partial-update race: it reads the row
// (what setup returned, as R, names it) through ForUpdate, pauses so that
// the writers overlap, changes its own field and writes the row back whole,
// as core's read-modify-writes do.
func rowWriter[T, R any](read func(context.Context, parley.Tx, R) (T, error), write func(parley.Tx, context.Context, T) error,
	change func(*T, R)) func(context.Context, parley.Tx, any) error {
	return func(ctx context.Context, tx parley.Tx, row any) error {
		r := row.(R)
		v, err := read(ctx, tx.ForUpdate(), r)
		time.Sleep(pause)
		if err != nil {
			return err
		}
		change(&v, r)
		return write(tx, ctx, v)
	}
}

// alone adapts a change that needs only the row itself.
func alone[T, R any](change func(*T)) func(*T, R) { return func(v *T, _ R) { change(v) } }

func partialUpdates() []partialUpdate {
	userWriter := func(change func(*parley.User, userRow)) func(context.Context, parley.Tx, any) error {
		return rowWriter(func(ctx context.Context, tx parley.Tx, r userRow) (parley.User, error) {
			return tx.UserBySid(ctx, r.f.svc.Sid, r.u.Sid)
		}, parley.Tx.UpdateUser, change)
	}
	serviceConfigWriter := func(change func(*parley.ServiceConfig, fixture)) func(context.Context, parley.Tx, any) error {
		return rowWriter(func(ctx context.Context, tx parley.Tx, f fixture) (parley.ServiceConfig, error) {
			return tx.ServiceConfig(ctx, f.svc.Sid)
		}, parley.Tx.PutServiceConfig, change)
	}
	accountWriter := func(change func(*parley.AccountConfig, fixture)) func(context.Context, parley.Tx, any) error {
		return rowWriter(func(ctx context.Context, tx parley.Tx, _ fixture) (parley.AccountConfig, error) {
			return tx.AccountConfig(ctx)
		}, parley.Tx.PutAccountConfig, change)
	}
	credentialWriter := func(change func(*parley.Credential)) func(context.Context, parley.Tx, any) error {
		return rowWriter(func(ctx context.Context, tx parley.Tx, c parley.Credential) (parley.Credential, error) {
			return tx.Credential(ctx, c.Sid)
		}, parley.Tx.UpdateCredential, alone[parley.Credential, parley.Credential](change))
	}
	addressWriter := func(change func(*parley.AddressConfig)) func(context.Context, parley.Tx, any) error {
		return rowWriter(func(ctx context.Context, tx parley.Tx, c parley.AddressConfig) (parley.AddressConfig, error) {
			return tx.AddressConfig(ctx, c.Sid)
		}, parley.Tx.UpdateAddressConfig, alone[parley.AddressConfig, parley.AddressConfig](change))
	}
	conversationWriter := func(change func(*parley.Conversation)) func(context.Context, parley.Tx, any) error {
		return rowWriter(func(ctx context.Context, tx parley.Tx, c parley.Conversation) (parley.Conversation, error) {
			return tx.ConversationBySid(ctx, c.ServiceSid, c.Sid)
		}, parley.Tx.UpdateConversation, alone[parley.Conversation, parley.Conversation](change))
	}
	participantWriter := func(change func(*parley.Participant, participantRow)) func(context.Context, parley.Tx, any) error {
		return rowWriter(func(ctx context.Context, tx parley.Tx, r participantRow) (parley.Participant, error) {
			return tx.ParticipantBySid(ctx, r.p.ConversationSid, r.p.Sid)
		}, parley.Tx.UpdateParticipant, change)
	}
	messageWriter := func(change func(*parley.Message)) func(context.Context, parley.Tx, any) error {
		return rowWriter(func(ctx context.Context, tx parley.Tx, m parley.Message) (parley.Message, error) {
			return tx.MessageBySid(ctx, m.ConversationSid, m.Sid)
		}, parley.Tx.UpdateMessage, alone[parley.Message, parley.Message](change))
	}
	webhookWriter := func(change func(*parley.ConversationWebhook)) func(context.Context, parley.Tx, any) error {
		return rowWriter(func(ctx context.Context, tx parley.Tx, w parley.ConversationWebhook) (parley.ConversationWebhook, error) {
			return tx.ConversationWebhookBySid(ctx, w.ConversationSid, w.Sid)
		}, parley.Tx.UpdateConversationWebhook, alone[parley.ConversationWebhook, parley.ConversationWebhook](change))
	}
	return []partialUpdate{
		{
			name:    "Message",
			methods: []string{"UpdateMessage"},
			setup: func(t *testing.T, s parley.Store) any {
				c := newConversation(newService(t, s, "svc"))
				createConversations(t, s, &c)
				return createMessages(t, s, c, 1)[0]
			},
			writers: []func(context.Context, parley.Tx, any) error{
				messageWriter(func(m *parley.Message) { m.Body = ptr("edited") }),
				messageWriter(func(m *parley.Message) { m.Attributes = `{"changed":1}` }),
				messageWriter(func(m *parley.Message) { m.Author = "someone" }),
				messageWriter(func(m *parley.Message) { m.Subject = ptr("subject") }),
			},
			check: func(t *testing.T, s parley.Store, row any) {
				want := row.(parley.Message)
				got := mustView(t, s, func(tx parley.Tx) (parley.Message, error) {
					return tx.MessageBySid(context.Background(), want.ConversationSid, want.Sid)
				})
				want.Body, want.Attributes, want.Author, want.Subject = ptr("edited"), `{"changed":1}`, "someone", ptr("subject")
				diff(t, "message after concurrent partial updates", got, want)
			},
		},
		{
			name:    "ConversationWebhook",
			methods: []string{"UpdateConversationWebhook"},
			setup: func(t *testing.T, s parley.Store) any {
				c := newConversation(newService(t, s, "svc"))
				createConversations(t, s, &c)
				w := newConversationWebhook(c)
				createConversationWebhooks(t, s, &w)
				return w
			},
			writers: []func(context.Context, parley.Tx, any) error{
				webhookWriter(func(w *parley.ConversationWebhook) { w.URL = ptr("https://changed.test/") }),
				webhookWriter(func(w *parley.ConversationWebhook) { w.Method = ptr("get") }),
				webhookWriter(func(w *parley.ConversationWebhook) { w.Filters = []string{"onMessageRemoved"} }),
				webhookWriter(func(w *parley.ConversationWebhook) { w.Triggers = []string{"stop"} }),
			},
			check: func(t *testing.T, s parley.Store, row any) {
				want := row.(parley.ConversationWebhook)
				got := mustView(t, s, func(tx parley.Tx) (parley.ConversationWebhook, error) {
					return tx.ConversationWebhookBySid(context.Background(), want.ConversationSid, want.Sid)
				})
				want.URL, want.Method, want.Filters, want.Triggers = ptr("https://changed.test/"), ptr("get"), []string{"onMessageRemoved"}, []string{"stop"}
				diff(t, "conversation webhook after concurrent partial updates", got, want)
			},
		},
		{
			name:    "Conversation",
			methods: []string{"UpdateConversation"},
			setup: func(t *testing.T, s parley.Store) any {
				c := newConversation(newService(t, s, "svc"))
				createConversations(t, s, &c)
				return c
			},
			writers: []func(context.Context, parley.Tx, any) error{
				conversationWriter(func(c *parley.Conversation) { c.FriendlyName = ptr("Renamed") }),
				conversationWriter(func(c *parley.Conversation) { c.UniqueName = ptr("unique") }),
				conversationWriter(func(c *parley.Conversation) { c.Attributes = `{"changed":1}` }),
				conversationWriter(func(c *parley.Conversation) { c.State = parley.StateInactive }),
				conversationWriter(func(c *parley.Conversation) { c.TimerClosed, c.DateClosed = ptr("PT1H"), ptr(t0.Add(time.Hour)) }),
			},
			check: func(t *testing.T, s parley.Store, row any) {
				want := row.(parley.Conversation)
				got := getConversation(t, s, want.ServiceSid, want.Sid)
				want.FriendlyName, want.UniqueName, want.Attributes, want.State = ptr("Renamed"), ptr("unique"), `{"changed":1}`, parley.StateInactive
				want.TimerClosed, want.DateClosed = ptr("PT1H"), ptr(t0.Add(time.Hour))
				diff(t, "conversation after concurrent partial updates", got, want)
			},
		},
		{
			name:    "Participant",
			methods: []string{"UpdateParticipant"},
			setup: func(t *testing.T, s parley.Store) any {
				f := newService(t, s, "svc")
				c := newConversation(f)
				createConversations(t, s, &c)
				p := chatParticipant(c, createUsers(t, s, f, 1, "member")[0], f.chU)
				createParticipants(t, s, &p)
				return participantRow{f: f, p: p}
			},
			writers: []func(context.Context, parley.Tx, any) error{
				participantWriter(func(p *parley.Participant, _ participantRow) { p.Attributes = `{"changed":1}` }),
				participantWriter(func(p *parley.Participant, r participantRow) { p.RoleSid = ptr(r.f.chAdm.Sid) }),
				participantWriter(func(p *parley.Participant, _ participantRow) { p.LastReadMessageIndex = ptr(int64(4)) }),
				participantWriter(func(p *parley.Participant, _ participantRow) { p.NotificationLevel = "muted" }),
				participantWriter(func(p *parley.Participant, _ participantRow) { p.Binding.ProjectedAddress = ptr("+15550001111") }),
			},
			check: func(t *testing.T, s parley.Store, row any) {
				r := row.(participantRow)
				want := r.p
				got := getParticipant(t, s, want.ConversationSid, want.Sid)
				want.Attributes, want.RoleSid, want.LastReadMessageIndex = `{"changed":1}`, ptr(r.f.chAdm.Sid), ptr(int64(4))
				want.NotificationLevel, want.Binding.ProjectedAddress = "muted", ptr("+15550001111")
				diff(t, "participant after concurrent partial updates", got, want)
			},
		},
		{
			name:    "User",
			methods: []string{"UpdateUser"},
			setup: func(t *testing.T, s parley.Store) any {
				f := newService(t, s, "svc")
				return userRow{f: f, u: createUsers(t, s, f, 1, "partial")[0]}
			},
			writers: []func(context.Context, parley.Tx, any) error{
				userWriter(func(u *parley.User, _ userRow) { u.FriendlyName = ptr("Renamed") }),
				userWriter(func(u *parley.User, _ userRow) { u.Attributes = `{"changed":1}` }),
				userWriter(func(u *parley.User, r userRow) { u.RoleSid = r.f.admin.Sid }),
			},
			check: func(t *testing.T, s parley.Store, row any) {
				r := row.(userRow)
				got := mustView(t, s, func(tx parley.Tx) (parley.User, error) {
					return tx.UserBySid(context.Background(), r.f.svc.Sid, r.u.Sid)
				})
				want := r.u
				want.FriendlyName, want.Attributes, want.RoleSid = ptr("Renamed"), `{"changed":1}`, r.f.admin.Sid
				diff(t, "user after concurrent partial updates", got, want)
			},
		},
		{
			name:    "ServiceConfig",
			methods: []string{"PutServiceConfig"},
			setup:   func(t *testing.T, s parley.Store) any { return newService(t, s, "svc") },
			writers: []func(context.Context, parley.Tx, any) error{
				serviceConfigWriter(func(c *parley.ServiceConfig, f fixture) { c.DefaultChatServiceRoleSid = f.admin.Sid }),
				serviceConfigWriter(func(c *parley.ServiceConfig, f fixture) { c.DefaultConversationRoleSid = f.chAdm.Sid }),
				serviceConfigWriter(func(c *parley.ServiceConfig, f fixture) { c.DefaultConversationCreatorRoleSid = f.chU.Sid }),
				serviceConfigWriter(func(c *parley.ServiceConfig, _ fixture) { c.ReachabilityEnabled = true }),
				serviceConfigWriter(func(c *parley.ServiceConfig, _ fixture) { c.Webhooks.PostWebhookURL = ptr("http://127.0.0.1:9/post") }),
				serviceConfigWriter(func(c *parley.ServiceConfig, _ fixture) { c.Webhooks.Filters = []string{"onUserAdded"} }),
				serviceConfigWriter(func(c *parley.ServiceConfig, _ fixture) { c.Notifications.LogEnabled = true }),
				serviceConfigWriter(func(c *parley.ServiceConfig, _ fixture) { c.Notifications.NewMessage.Sound = ptr("ring") }),
			},
			check: func(t *testing.T, s parley.Store, row any) {
				f := row.(fixture)
				got := mustView(t, s, func(tx parley.Tx) (parley.ServiceConfig, error) {
					return tx.ServiceConfig(context.Background(), f.svc.Sid)
				})
				diff(t, "service configuration after concurrent partial updates", got, parley.ServiceConfig{
					ServiceSid: f.svc.Sid, DefaultChatServiceRoleSid: f.admin.Sid, DefaultConversationRoleSid: f.chAdm.Sid,
					DefaultConversationCreatorRoleSid: f.chU.Sid, ReachabilityEnabled: true,
					Webhooks:      parley.WebhookConfig{PostWebhookURL: ptr("http://127.0.0.1:9/post"), Filters: []string{"onUserAdded"}},
					Notifications: parley.NotificationSettings{LogEnabled: true, NewMessage: parley.NotificationTemplate{Sound: ptr("ring")}},
				})
			},
		},
		{
			name:    "AddressConfig",
			methods: []string{"UpdateAddressConfig"},
			setup: func(t *testing.T, s parley.Store) any {
				n := sid("")
				c := newAddressConfig("+1555" + n[len(n)-8:])
				update(t, s, func(tx parley.Tx) error { return tx.CreateAddressConfig(context.Background(), c) })
				return c
			},
			writers: []func(context.Context, parley.Tx, any) error{
				addressWriter(func(c *parley.AddressConfig) { c.FriendlyName = ptr("Renamed") }),
				addressWriter(func(c *parley.AddressConfig) { c.AutoCreation.Enabled = false }),
				addressWriter(func(c *parley.AddressConfig) { c.AutoCreation.WebhookURL = ptr("https://changed.test/") }),
				addressWriter(func(c *parley.AddressConfig) { c.AutoCreation.WebhookFilters = []string{"onMessageRemoved"} }),
			},
			check: func(t *testing.T, s parley.Store, row any) {
				want := row.(parley.AddressConfig)
				got := mustView(t, s, func(tx parley.Tx) (parley.AddressConfig, error) {
					return tx.AddressConfig(context.Background(), want.Sid)
				})
				want.FriendlyName, want.AutoCreation.Enabled = ptr("Renamed"), false
				want.AutoCreation.WebhookURL, want.AutoCreation.WebhookFilters = ptr("https://changed.test/"), []string{"onMessageRemoved"}
				diff(t, "address configuration after concurrent partial updates", got, want)
			},
		},
		{
			name:    "Credential",
			methods: []string{"UpdateCredential"},
			setup: func(t *testing.T, s parley.Store) any {
				c := newCredential()
				update(t, s, func(tx parley.Tx) error { return tx.CreateCredential(context.Background(), c) })
				return c
			},
			writers: []func(context.Context, parley.Tx, any) error{
				credentialWriter(func(c *parley.Credential) { c.FriendlyName = ptr("Renamed") }),
				credentialWriter(func(c *parley.Credential) { c.Sandbox = true }),
				credentialWriter(func(c *parley.Credential) { c.APNCertificate = "new certificate" }),
				credentialWriter(func(c *parley.Credential) { c.APNPrivateKey = "new key" }),
			},
			check: func(t *testing.T, s parley.Store, row any) {
				want := row.(parley.Credential)
				got := mustView(t, s, func(tx parley.Tx) (parley.Credential, error) {
					return tx.Credential(context.Background(), want.Sid)
				})
				want.FriendlyName, want.Sandbox, want.APNCertificate, want.APNPrivateKey = ptr("Renamed"), true, "new certificate", "new key"
				diff(t, "credential after concurrent partial updates", got, want)
			},
		},
		{
			// /v1/Configuration and /v1/Configuration/Webhooks share the
			// row: a timer change must not erase a webhook change.
			name:    "AccountConfig",
			methods: []string{"PutAccountConfig"},
			setup: func(t *testing.T, s parley.Store) any {
				// A fresh account configuration each round, pointing back at
				// the first service.
				def := ensureBootstrapped(t, s)
				update(t, s, func(tx parley.Tx) error {
					return tx.PutAccountConfig(context.Background(), parley.AccountConfig{DefaultChatServiceSid: def})
				})
				return newService(t, s, "other")
			},
			writers: []func(context.Context, parley.Tx, any) error{
				accountWriter(func(c *parley.AccountConfig, f fixture) { c.DefaultChatServiceSid = f.svc.Sid }),
				accountWriter(func(c *parley.AccountConfig, _ fixture) { c.DefaultInactiveTimer = ptr("PT5M") }),
				accountWriter(func(c *parley.AccountConfig, _ fixture) { c.DefaultClosedTimer = ptr("PT1H") }),
				accountWriter(func(c *parley.AccountConfig, _ fixture) {
					c.DefaultMessagingServiceSid = ptr("MG0123456789abcdef0123456789abcdef")
				}),
				accountWriter(func(c *parley.AccountConfig, _ fixture) { c.Webhooks.PostWebhookURL = ptr("http://127.0.0.1:9/post") }),
				accountWriter(func(c *parley.AccountConfig, _ fixture) { c.Webhooks.Method = ptr("GET") }),
				accountWriter(func(c *parley.AccountConfig, _ fixture) { c.Webhooks.Target = ptr("flex") }),
			},
			check: func(t *testing.T, s parley.Store, row any) {
				f := row.(fixture)
				got := mustView(t, s, func(tx parley.Tx) (parley.AccountConfig, error) { return tx.AccountConfig(context.Background()) })
				diff(t, "account configuration after concurrent partial updates", got, parley.AccountConfig{
					DefaultChatServiceSid: f.svc.Sid, DefaultInactiveTimer: ptr("PT5M"), DefaultClosedTimer: ptr("PT1H"),
					DefaultMessagingServiceSid: ptr("MG0123456789abcdef0123456789abcdef"),
					Webhooks:                   parley.WebhookConfig{PostWebhookURL: ptr("http://127.0.0.1:9/post"), Method: ptr("GET"), Target: ptr("flex")},
				})
			},
		},
	}
}

// testConcurrentPartialUpdates runs every resource's writers at once, a
// few rounds each, and checks that no change was lost.
func testConcurrentPartialUpdates(t *testing.T, open Opener) {
	for _, pu := range partialUpdates() {
		t.Run(pu.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() { s.Close() })
			for range 3 {
				row := pu.setup(t, s)
				errs := make([]error, len(pu.writers))
				var wg sync.WaitGroup
				for i, w := range pu.writers {
					wg.Go(func() {
						errs[i] = s.Update(context.Background(), func(tx parley.Tx) error { return w(context.Background(), tx, row) })
					})
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("writer %d: %v", i, err)
					}
				}
				pu.check(t, s, row)
			}
		})
	}
}

// parentRace is a write that refers to a parent, raced against the
// parent's delete.
type parentRace struct {
	name    string
	methods []string // the Tx writes raced
	// setup returns what write and remove act on.
	setup func(t *testing.T, s parley.Store) any
	// write reads the parent (as core does before writing), pauses, and
	// writes; it returns ErrNotFound when the parent is gone.
	write func(ctx context.Context, tx parley.Tx, x any) error
	// remove deletes the parent.
	remove func(ctx context.Context, tx parley.Tx, x any) error
	// removeMayFail lists the errors the delete may meet when the write
	// got there first (ErrInUse where a reference refuses deletes).
	removeMayFail []error
	// orphans counts rows left referring to the deleted parent, which
	// must be none whatever the order.
	orphans func(ctx context.Context, tx parley.Tx, x any) (int, error)
}

// mediaRace is a race fixture with media of its service.
type mediaRace struct {
	raceFixture
	media parley.Media
}

// mediaLeft counts what is left of a media race's media once its parent
// is deleted: the record and its first chunk.
func mediaLeft(ctx context.Context, tx parley.Tx, x any) (int, error) {
	r := x.(mediaRace)
	n := 0
	for _, err := range []error{
		func() error { _, err := tx.MediaBySid(ctx, r.f.svc.Sid, r.media.Sid); return err }(),
		func() error { _, err := tx.MediaChunk(ctx, r.media.Sid, 0); return err }(),
	} {
		switch {
		case err == nil:
			n++
		case !errors.Is(err, parley.ErrNotFound):
			return n, err
		}
	}
	return n, nil
}

// raceFixture is a service and a role of it, with a user holding the
// default role, and a conversation with another user as participant.
type raceFixture struct {
	f        fixture
	role     parley.Role // a custom service role
	convRole parley.Role // a custom conversation role
	user     parley.User
	conv     parley.Conversation
	member   parley.Participant // of conv
}

func newRaceFixture(t *testing.T, s parley.Store, bootstrap bool) raceFixture {
	if bootstrap {
		ensureBootstrapped(t, s)
	}
	f := newService(t, s, "raced")
	role := parley.Role{Sid: sid(parley.PrefixRole), ServiceSid: f.svc.Sid, FriendlyName: "custom",
		Type: parley.RoleTypeService, Permissions: []string{"editOwnUserInfo"}, DateCreated: t0, DateUpdated: t0}
	convRole := parley.Role{Sid: sid(parley.PrefixRole), ServiceSid: f.svc.Sid, FriendlyName: "custom conversation role",
		Type: parley.RoleTypeConversation, Permissions: []string{"sendMessage"}, DateCreated: t0, DateUpdated: t0}
	update(t, s, func(tx parley.Tx) error {
		return errors.Join(tx.CreateRole(context.Background(), role), tx.CreateRole(context.Background(), convRole))
	})
	users := createUsers(t, s, f, 2, "racer")
	conv := newConversation(f)
	createConversations(t, s, &conv)
	member := chatParticipant(conv, users[1], f.chU)
	createParticipants(t, s, &member)
	return raceFixture{f: f, role: role, convRole: convRole, user: users[0], conv: conv, member: member}
}

// ensureBootstrapped creates the account on the first call for s and
// returns the SID of its default service.
func ensureBootstrapped(t *testing.T, s parley.Store) string {
	cfg, err := view(t, s, func(tx parley.Tx) (parley.AccountConfig, error) { return tx.AccountConfig(context.Background()) })
	if errors.Is(err, parley.ErrNotFound) {
		return bootstrapped(t, s).svc.Sid
	}
	if err != nil {
		t.Fatal(err)
	}
	return cfg.DefaultChatServiceSid
}

func parentRaces() []parentRace {
	deleteService := func(ctx context.Context, tx parley.Tx, x any) error {
		return tx.DeleteService(ctx, x.(raceFixture).f.svc.Sid)
	}
	deleteRole := func(ctx context.Context, tx parley.Tx, x any) error {
		r := x.(raceFixture)
		return tx.DeleteRole(ctx, r.f.svc.Sid, r.role.Sid)
	}
	usersIn := func(ctx context.Context, tx parley.Tx, x any) (int, error) {
		p, err := tx.ListUsers(ctx, x.(raceFixture).f.svc.Sid, parley.PageQuery{Size: 50})
		return len(p.Items), err
	}
	rolesIn := func(ctx context.Context, tx parley.Tx, x any) (int, error) {
		p, err := tx.ListRoles(ctx, x.(raceFixture).f.svc.Sid, parley.PageQuery{Size: 50})
		return len(p.Items), err
	}
	noOrphans := func(context.Context, parley.Tx, any) (int, error) { return 0, nil } // the foreign keys say so
	sleepThen := func(err error) error {
		time.Sleep(pause)
		return err
	}
	deleteConversation := func(ctx context.Context, tx parley.Tx, x any) error {
		r := x.(raceFixture)
		return tx.DeleteConversation(ctx, r.f.svc.Sid, r.conv.Sid)
	}
	deleteUser := func(ctx context.Context, tx parley.Tx, x any) error {
		r := x.(raceFixture)
		return tx.DeleteUser(ctx, r.f.svc.Sid, r.user.Sid)
	}
	conversationsIn := func(ctx context.Context, tx parley.Tx, x any) (int, error) {
		p, err := tx.ListConversations(ctx, x.(raceFixture).f.svc.Sid, parley.ConversationFilter{}, parley.PageQuery{Size: 50})
		return len(p.Items), err
	}
	participantsIn := func(ctx context.Context, tx parley.Tx, x any) (int, error) {
		p, err := tx.ListParticipants(ctx, x.(raceFixture).conv.Sid, parley.PageQuery{Size: 50})
		return len(p.Items), err
	}
	receiptsIn := func(ctx context.Context, tx parley.Tx, x any) (int, error) {
		ms, err := tx.ListMessages(ctx, x.(raceFixture).conv.Sid, parley.PageQuery{Size: 1})
		if err != nil || len(ms.Items) == 0 {
			return 0, err
		}
		rs, err := tx.Receipts(ctx, ms.Items[0].Sid)
		return len(rs), err
	}
	webhooksIn := func(ctx context.Context, tx parley.Tx, x any) (int, error) {
		ws, err := tx.ConversationWebhooks(ctx, x.(raceFixture).conv.Sid)
		return len(ws), err
	}
	bindingsOf := func(ctx context.Context, tx parley.Tx, x any) (int, error) {
		r := x.(raceFixture)
		p, err := tx.ListBindings(ctx, r.f.svc.Sid, parley.BindingFilter{Identities: []string{r.user.Identity}}, parley.PageQuery{Size: 50})
		return len(p.Items), err
	}
	messagesIn := func(ctx context.Context, tx parley.Tx, x any) (int, error) {
		m, err := tx.ListMessages(ctx, x.(raceFixture).conv.Sid, parley.PageQuery{Size: 50})
		return len(m.Items), err
	}
	userMemberships := func(ctx context.Context, tx parley.Tx, x any) (int, error) {
		return tx.CountOpenConversations(ctx, x.(raceFixture).user.Sid)
	}
	// addParticipant does what core does to add one: the user and role it
	// refers to for share, the conversation for update, then the insert.
	addParticipant := func(ctx context.Context, tx parley.Tx, r raceFixture, role string) error {
		if _, err := tx.ForShare().UserBySid(ctx, r.f.svc.Sid, r.user.Sid); err != nil {
			return err
		}
		if _, err := tx.ForShare().Role(ctx, r.f.svc.Sid, role); err != nil {
			return err
		}
		c, err := tx.ForUpdate().ConversationBySid(ctx, r.f.svc.Sid, r.conv.Sid)
		if err := sleepThen(err); err != nil {
			return err
		}
		return tx.CreateParticipant(ctx, chatParticipant(c, r.user, parley.Role{Sid: role}))
	}
	updateParticipant := func(ctx context.Context, tx parley.Tx, r raceFixture, role string) error {
		if _, err := tx.ForShare().Role(ctx, r.f.svc.Sid, role); err != nil {
			return err
		}
		if _, err := tx.ForUpdate().ConversationBySid(ctx, r.f.svc.Sid, r.conv.Sid); err != nil {
			return err
		}
		p, err := tx.ForUpdate().ParticipantBySid(ctx, r.conv.Sid, r.member.Sid)
		if err := sleepThen(err); err != nil {
			return err
		}
		p.RoleSid = ptr(role)
		return tx.UpdateParticipant(ctx, p)
	}
	return []parentRace{
		{
			name: "CreateConversationInDeletedService", methods: []string{"CreateConversation"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				_, err := tx.ServiceConfig(ctx, r.f.svc.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				return tx.CreateConversation(ctx, newConversation(r.f))
			},
			remove: deleteService, orphans: conversationsIn,
		},
		{
			name: "UpdateConversationInDeletedService", methods: []string{"UpdateConversation"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				c, err := tx.ForUpdate().ConversationBySid(ctx, r.f.svc.Sid, r.conv.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				c.FriendlyName = ptr("late")
				return tx.UpdateConversation(ctx, c)
			},
			remove: deleteService, orphans: conversationsIn,
		},
		{
			// What core does to send: the conversation's next index (which
			// locks its row), then the insert.
			name: "CreateMessageInDeletedConversation", methods: []string{"CreateMessage", "NextMessageIndex"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				i, err := tx.NextMessageIndex(ctx, r.conv.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				return tx.CreateMessage(ctx, newMessage(r.conv, i))
			},
			remove: deleteConversation, orphans: messagesIn,
		},
		{
			name: "UpdateMessageInDeletedConversation", methods: []string{"UpdateMessage"},
			setup: func(t *testing.T, s parley.Store) any {
				r := newRaceFixture(t, s, false)
				createMessages(t, s, r.conv, 1)
				return r
			},
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				if _, err := tx.ForShare().ConversationBySid(ctx, r.f.svc.Sid, r.conv.Sid); err != nil {
					return err
				}
				ms, err := tx.ForUpdate().ListMessages(ctx, r.conv.Sid, parley.PageQuery{Size: 1})
				if err := sleepThen(err); err != nil {
					return err
				}
				if len(ms.Items) == 0 {
					return parley.ErrNotFound
				}
				m := ms.Items[0]
				m.Body = ptr("late edit")
				return tx.UpdateMessage(ctx, m)
			},
			remove: deleteConversation, orphans: messagesIn,
		},
		{
			name: "PutReceiptForDeletedMessage", methods: []string{"PutReceipt"},
			setup: func(t *testing.T, s parley.Store) any {
				r := newRaceFixture(t, s, false)
				createMessages(t, s, r.conv, 1)
				return r
			},
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				ms, err := tx.ListMessages(ctx, r.conv.Sid, parley.PageQuery{Size: 1})
				if err != nil || len(ms.Items) == 0 {
					return errors.Join(err, parley.ErrNotFound)
				}
				m, err := tx.ForUpdate().MessageBySid(ctx, r.conv.Sid, ms.Items[0].Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				return tx.PutReceipt(ctx, newReceipt(m, r.member.Sid, "delivered"))
			},
			remove: deleteConversation, orphans: receiptsIn,
		},
		{
			// An upload's first step racing its service's delete.
			name: "CreateMediaInDeletedService", methods: []string{"CreateMedia"},
			setup: func(t *testing.T, s parley.Store) any {
				r := newRaceFixture(t, s, false)
				return mediaRace{r, newMedia(r.f)}
			},
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(mediaRace)
				_, err := tx.ForShare().Service(ctx, r.f.svc.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				return errors.Join(tx.CreateMedia(ctx, r.media), tx.AppendMediaChunk(ctx, r.media.Sid, 0, []byte("x")),
					tx.CompleteMedia(ctx, r.media.Sid, 1))
			},
			remove: func(ctx context.Context, tx parley.Tx, x any) error {
				return deleteService(ctx, tx, x.(mediaRace).raceFixture)
			},
			orphans: mediaLeft,
		},
		{
			// A chunk arriving as the upload is deleted (a failed upload
			// cleaned up, or the service deleted under it).
			name: "AppendMediaChunkToDeletedUpload", methods: []string{"AppendMediaChunk"},
			setup: func(t *testing.T, s parley.Store) any {
				r := newRaceFixture(t, s, false)
				m := newMedia(r.f)
				update(t, s, func(tx parley.Tx) error { return tx.CreateMedia(context.Background(), m) })
				return mediaRace{r, m}
			},
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(mediaRace)
				if err := sleepThen(nil); err != nil {
					return err
				}
				return tx.AppendMediaChunk(ctx, r.media.Sid, 0, []byte("late"))
			},
			remove: func(ctx context.Context, tx parley.Tx, x any) error {
				return tx.DeleteMedia(ctx, x.(mediaRace).media.Sid)
			},
			orphans: mediaLeft,
		},
		{
			// A message carrying media, sent as its conversation is deleted.
			name: "AttachMediaInDeletedConversation", methods: []string{"AttachMedia"},
			setup: func(t *testing.T, s parley.Store) any {
				r := newRaceFixture(t, s, false)
				return mediaRace{r, uploadMedia(t, s, newMedia(r.f), []byte("x"))}
			},
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(mediaRace)
				if _, err := tx.ForUpdate().ConversationBySid(ctx, r.f.svc.Sid, r.conv.Sid); err != nil {
					return err
				}
				md, err := tx.ForUpdate().MediaBySid(ctx, r.f.svc.Sid, r.media.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				i, err := tx.NextMessageIndex(ctx, r.conv.Sid)
				if err != nil {
					return err
				}
				m := newMessage(r.conv, i)
				m.Media = []parley.MediaRef{{Sid: md.Sid, Size: md.Size, ContentType: md.ContentType}}
				return errors.Join(tx.CreateMessage(ctx, m), tx.AttachMedia(ctx, md.Sid, r.conv.Sid, m.Sid))
			},
			remove: func(ctx context.Context, tx parley.Tx, x any) error {
				return deleteConversation(ctx, tx, x.(mediaRace).raceFixture)
			},
			orphans: func(ctx context.Context, tx parley.Tx, x any) (int, error) {
				// The media is either still free (the message never came)
				// or gone with the message; never attached to nothing.
				// And no message is left in the deleted conversation.
				r := x.(mediaRace)
				md, err := tx.MediaBySid(ctx, r.f.svc.Sid, r.media.Sid)
				switch {
				case err == nil && md.MessageSid != nil:
					return 1, nil
				case err != nil && !errors.Is(err, parley.ErrNotFound):
					return 0, err
				}
				return messagesIn(ctx, tx, r.raceFixture)
			},
		},
		{
			// core locks the user, then writes the binding.
			name: "CreateBindingForDeletedUser", methods: []string{"CreateBinding"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				u, err := tx.ForUpdate().UserBySid(ctx, r.f.svc.Sid, r.user.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				return tx.CreateBinding(ctx, newBinding(u, "twilsock", "tab-"+u.Sid, nil))
			},
			remove: deleteUser, orphans: bindingsOf,
		},
		{
			name: "UpdateBindingOfDeletedUser", methods: []string{"UpdateBinding"},
			setup: func(t *testing.T, s parley.Store) any {
				r := newRaceFixture(t, s, false)
				b := newBinding(r.user, "twilsock", "tab-"+r.user.Sid, nil)
				update(t, s, func(tx parley.Tx) error { return tx.CreateBinding(context.Background(), b) })
				return r
			},
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				if _, err := tx.ForUpdate().UserBySid(ctx, r.f.svc.Sid, r.user.Sid); err != nil {
					return err
				}
				b, err := tx.ForUpdate().BindingByEndpoint(ctx, r.f.svc.Sid, "twilsock", "tab-"+r.user.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				b.MessageTypes = []string{"new_message"}
				return tx.UpdateBinding(ctx, b)
			},
			remove: deleteUser, orphans: bindingsOf,
		},
		{
			name: "CreateConversationWebhookInDeletedConversation", methods: []string{"CreateConversationWebhook"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				_, err := tx.ForUpdate().ConversationBySid(ctx, r.f.svc.Sid, r.conv.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				return tx.CreateConversationWebhook(ctx, newConversationWebhook(r.conv))
			},
			remove: deleteConversation, orphans: webhooksIn,
		},
		{
			name: "UpdateConversationWebhookInDeletedConversation", methods: []string{"UpdateConversationWebhook"},
			setup: func(t *testing.T, s parley.Store) any {
				r := newRaceFixture(t, s, false)
				w := newConversationWebhook(r.conv)
				createConversationWebhooks(t, s, &w)
				return r
			},
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				if _, err := tx.ForShare().ConversationBySid(ctx, r.f.svc.Sid, r.conv.Sid); err != nil {
					return err
				}
				ws, err := tx.ConversationWebhooks(ctx, r.conv.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				if len(ws) == 0 {
					return parley.ErrNotFound
				}
				ws[0].URL = ptr("https://late.test/")
				return tx.UpdateConversationWebhook(ctx, ws[0])
			},
			remove: deleteConversation, orphans: webhooksIn,
		},
		{
			name: "CreateParticipantInDeletedConversation", methods: []string{"CreateParticipant"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				return addParticipant(ctx, tx, r, r.f.chU.Sid)
			},
			remove: deleteConversation, orphans: participantsIn,
		},
		{
			name: "CreateParticipantOfDeletedUser", methods: []string{"CreateParticipant"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				return addParticipant(ctx, tx, r, r.f.chU.Sid)
			},
			remove: deleteUser, orphans: userMemberships,
		},
		{
			name: "CreateParticipantWithDeletedRole", methods: []string{"CreateParticipant"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				return addParticipant(ctx, tx, r, r.convRole.Sid)
			},
			remove: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				return tx.DeleteRole(ctx, r.f.svc.Sid, r.convRole.Sid)
			},
			removeMayFail: []error{parley.ErrInUse}, orphans: noOrphans,
		},
		{
			name: "UpdateParticipantInDeletedConversation", methods: []string{"UpdateParticipant"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				return updateParticipant(ctx, tx, r, r.f.chAdm.Sid)
			},
			remove: deleteConversation, orphans: participantsIn,
		},
		{
			name: "UpdateParticipantToDeletedRole", methods: []string{"UpdateParticipant"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				return updateParticipant(ctx, tx, r, r.convRole.Sid)
			},
			remove: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				return tx.DeleteRole(ctx, r.f.svc.Sid, r.convRole.Sid)
			},
			removeMayFail: []error{parley.ErrInUse}, orphans: noOrphans,
		},
		{
			name: "CreateUserInDeletedService", methods: []string{"CreateUser"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				cfg, err := tx.ServiceConfig(ctx, r.f.svc.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				u := newUser(r.f, "late")
				u.RoleSid = cfg.DefaultChatServiceRoleSid
				return tx.CreateUser(ctx, u)
			},
			remove: deleteService, orphans: usersIn,
		},
		{
			name: "CreateUserWithDeletedRole", methods: []string{"CreateUser"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				_, err := tx.Role(ctx, r.f.svc.Sid, r.role.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				u := newUser(r.f, "late")
				u.RoleSid = r.role.Sid
				return tx.CreateUser(ctx, u)
			},
			remove: deleteRole, removeMayFail: []error{parley.ErrInUse}, orphans: noOrphans,
		},
		{
			name: "UpdateUserToDeletedRole", methods: []string{"UpdateUser"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				// As core does: what the write refers to first, for share,
				// then the row it rewrites, for update.
				r := x.(raceFixture)
				if _, err := tx.ForShare().Role(ctx, r.f.svc.Sid, r.role.Sid); err != nil {
					return err
				}
				u, err := tx.ForUpdate().UserBySid(ctx, r.f.svc.Sid, r.user.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				u.RoleSid = r.role.Sid
				return tx.UpdateUser(ctx, u)
			},
			remove: deleteRole, removeMayFail: []error{parley.ErrInUse}, orphans: noOrphans,
		},
		{
			name: "UpdateUserInDeletedService", methods: []string{"UpdateUser"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				u, err := tx.ForUpdate().UserBySid(ctx, r.f.svc.Sid, r.user.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				u.FriendlyName = ptr("late")
				return tx.UpdateUser(ctx, u)
			},
			remove: deleteService, orphans: usersIn,
		},
		{
			name: "CreateRoleInDeletedService", methods: []string{"CreateRole"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				_, err := tx.Service(ctx, r.f.svc.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				role := r.role
				role.Sid, role.FriendlyName = sid(parley.PrefixRole), "late"
				return tx.CreateRole(ctx, role)
			},
			remove: deleteService, orphans: rolesIn,
		},
		{
			name: "UpdateRoleInDeletedService", methods: []string{"UpdateRole"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				role, err := tx.ForUpdate().Role(ctx, r.f.svc.Sid, r.role.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				role.Permissions = []string{"joinConversation"}
				return tx.UpdateRole(ctx, role)
			},
			remove: deleteService, orphans: rolesIn,
		},
		{
			name: "ServiceWebhooksOfDeletedService", methods: []string{"PutServiceConfig"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, false) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				cfg, err := tx.ForUpdate().ServiceConfig(ctx, r.f.svc.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				cfg.Webhooks.PostWebhookURL = ptr("http://127.0.0.1:9/late")
				return tx.PutServiceConfig(ctx, cfg)
			},
			remove: deleteService,
			orphans: func(ctx context.Context, tx parley.Tx, x any) (int, error) {
				_, err := tx.ServiceConfig(ctx, x.(raceFixture).f.svc.Sid)
				if errors.Is(err, parley.ErrNotFound) {
					return 0, nil
				}
				return 1, err
			},
		},
		{
			name: "ServiceConfigToDeletedRole", methods: []string{"PutServiceConfig"},
			setup: func(t *testing.T, s parley.Store) any {
				r := newRaceFixture(t, s, false)
				return r
			},
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				if _, err := tx.ForShare().Role(ctx, r.f.svc.Sid, r.role.Sid); err != nil {
					return err
				}
				cfg, err := tx.ForUpdate().ServiceConfig(ctx, r.f.svc.Sid)
				if err := sleepThen(err); err != nil {
					return err
				}
				cfg.DefaultChatServiceRoleSid = r.role.Sid
				return tx.PutServiceConfig(ctx, cfg)
			},
			remove: deleteRole, removeMayFail: []error{parley.ErrInUse}, orphans: noOrphans,
		},
		{
			name: "AccountDefaultToDeletedService", methods: []string{"PutAccountConfig"},
			setup: func(t *testing.T, s parley.Store) any { return newRaceFixture(t, s, true) },
			write: func(ctx context.Context, tx parley.Tx, x any) error {
				r := x.(raceFixture)
				if _, err := tx.ForShare().Service(ctx, r.f.svc.Sid); err != nil {
					return err
				}
				cfg, err := tx.ForUpdate().AccountConfig(ctx)
				if err := sleepThen(err); err != nil {
					return err
				}
				cfg.DefaultChatServiceSid = r.f.svc.Sid
				return tx.PutAccountConfig(ctx, cfg)
			},
			remove: deleteService, removeMayFail: []error{parley.ErrInUse}, orphans: noOrphans,
		},
	}
}

// testParentDeleteRaces runs each write against its parent's delete, the
// delete starting while the write pauses between its read and its write.
func testParentDeleteRaces(t *testing.T, open Opener) {
	for _, race := range parentRaces() {
		t.Run(race.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() { s.Close() })
			ctx := context.Background()
			for round := range 3 {
				x := race.setup(t, s)
				var writeErr, removeErr error
				var wg sync.WaitGroup
				wg.Go(func() {
					writeErr = s.Update(ctx, func(tx parley.Tx) error { return race.write(ctx, tx, x) })
				})
				wg.Go(func() {
					// Mostly while the write pauses; in round 0, before it reads.
					if round > 0 {
						time.Sleep(pause / 2)
					}
					removeErr = s.Update(ctx, func(tx parley.Tx) error { return race.remove(ctx, tx, x) })
				})
				wg.Wait()
				if writeErr != nil && !errors.Is(writeErr, parley.ErrNotFound) {
					t.Fatalf("round %d: the write racing the delete failed with %v, want success or ErrNotFound", round, writeErr)
				}
				if removeErr != nil && !slices.ContainsFunc(race.removeMayFail, func(e error) bool { return errors.Is(removeErr, e) }) {
					t.Fatalf("round %d: the delete failed with %v", round, removeErr)
				}
				if removeErr == nil {
					n, err := view(t, s, func(tx parley.Tx) (int, error) { return race.orphans(ctx, tx, x) })
					if err != nil || n != 0 {
						t.Fatalf("round %d: %d rows left referring to the deleted parent (%v)", round, n, err)
					}
				}
			}
		})
	}
}

// readOnly, and writes that are one statement with no read before them,
// need neither promise; every other Tx method must be in partialUpdates or
// parentRaces.
var (
	readMethods = []string{"ForUpdate", "ForShare", "Account", "AccountConfig", "APIKey", "ListAPIKeys", "Service",
		"ListServices", "ServiceConfig", "Role", "ListRoles", "UserBySid", "UserByIdentity", "ListUsers",
		"ListDeliveries", "Delivery", "PendingHosts", "CountPendingDeliveries", "CountDueConversations", "Credential", "ListCredentials", "ConversationBySid",
		"ConversationByUniqueName", "ListConversations", "NextConversationTimer", "ParticipantBySid",
		"ParticipantByIdentity", "ParticipantByPair", "ParticipantByAddress", "ListParticipants", "CountParticipants",
		"CountOpenConversations", "ListUserConversations", "ListParticipantConversations", "MessageBySid",
		"ListMessages", "ConversationWebhookBySid", "ConversationWebhooks", "ListConversationWebhooks", "ReceiptBySid", "Receipts", "ListReceipts",
		"MediaBySid", "MediaChunk", "AddressConfig", "AddressConfigByAddress", "ListAddressConfigs", "Binding",
		"BindingByEndpoint", "ListBindings", "SyncEventsAfter", "LastSyncEventID", "CountMessages", "NotificationSettings", "UserConnected",
		// DueConversations locks the rows it returns, skipping rows others
		// hold (testConcurrentTimerClaims races it).
		"DueConversations"}
	// singleStatementWrites change a row in one statement whose outcome
	// does not depend on a prior read, or only insert rows nothing else
	// refers to, or only delete (a delete racing a write is the other side
	// of parentRaces). ClaimDeliveries runs one statement per host, each
	// picking and leasing its rows by itself (SKIP LOCKED where claims run
	// side by side; testConcurrentClaims races them); FinishDelivery
	// writes back a row its caller holds the lease on.
	singleStatementWrites = []string{"CreateAccount", "SetAuthToken", "CreateAPIKey", "RevokeAPIKey",
		"CreateService", "DeleteService", "DeleteRole", "DeleteUser", "EnqueueDelivery", "ClaimDeliveries",
		"FinishDelivery", "RaiseMessageIndex", "CreateCredential", "DeleteCredential", "DeleteConversation", "DeleteParticipant", "DeleteMessage", "DeleteConversationWebhook",
		// PutReceipt is one upsert keyed by (message, participant); core
		// runs it under the message's row lock (PutReceiptForDeletedMessage
		// races it against the message's delete).
		"PutReceipt",
		// CompleteMedia sets the size of an upload still under way, in one
		// statement; DeleteStaleUploads only deletes.
		"CompleteMedia", "DeleteMedia", "DeleteStaleUploads",
		// An address configuration refers to no row (its service is a
		// setting checked when written, not a key); RefreshNotifiable
		// recomputes a user's flag from its bindings in one statement.
		"CreateAddressConfig", "DeleteAddressConfig", "DeleteBinding", "RefreshNotifiable",
		// SetOnline writes one column of a user, in one statement; core
		// runs it, and the connection counts, under the user's row lock.
		// RenewNode upserts a node's own row; AddConnection and
		// RemoveConnection add to a count in one statement each (and the
		// count's row goes with its user); ReapNodes only deletes.
		"SetOnline", "RenewNode", "AddConnection", "RemoveConnection", "ReapNodes",
		// The Sync log: AdvanceSyncObjects is one upsert that adds to
		// counters (testConcurrentSyncAppends races it); events are only
		// inserted, referred to by nothing, and only deleted by age.
		"AdvanceSyncObjects", "AppendSyncEvents", "TrimSyncEvents",
		// Notify writes no row: PostgreSQL queues the notification with
		// the transaction (api's TestLiveAcrossNodes proves it across
		// nodes).
		"Notify",
		// The outbox controls: RetryDelivery is one guarded UPDATE (a
		// delivery a dispatcher holds is refused, not raced:
		// testRetryRacesClaim), then a read; the others only delete.
		"RetryDelivery", "DeleteDeliveries", "PruneDeliveries"}
)

// testEveryWriteIsCovered fails for a Tx method that no part of the suite
// accounts for: a new resource's writes must join the concurrency tests.
func testEveryWriteIsCovered(t *testing.T) {
	covered := map[string]string{}
	for _, m := range readMethods {
		covered[m] = "read"
	}
	for _, m := range singleStatementWrites {
		covered[m] = "single statement"
	}
	for _, pu := range partialUpdates() {
		for _, m := range pu.methods {
			covered[m] = "partial update"
		}
	}
	raced := map[string]bool{}
	for _, r := range parentRaces() {
		for _, m := range r.methods {
			raced[m] = true
		}
	}
	var missing []string
	tx := reflect.TypeFor[parley.Tx]()
	for i := range tx.NumMethod() {
		name := tx.Method(i).Name
		how, ok := covered[name]
		switch {
		case !ok && !raced[name]:
			missing = append(missing, name+" (in no test: add it to partialUpdates, parentRaces, or the read or single-statement lists)")
		case how == "partial update" && !raced[name] && writesReferences(name):
			missing = append(missing, name+" (refers to parents but is not raced against their delete)")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("Tx methods not covered by the concurrency suite:\n  %s", strings.Join(missing, "\n  "))
	}
}

// referenceFree are the writes whose rows refer to no other row, so there
// is no parent whose delete they could race: credentials and address
// configurations belong to the account alone.
var referenceFree = []string{"UpdateCredential", "UpdateAddressConfig"}

// writesReferences reports whether a write's row refers to other rows.
func writesReferences(method string) bool {
	if slices.Contains(referenceFree, method) {
		return false
	}
	return strings.HasPrefix(method, "Update") || strings.HasPrefix(method, "Put") || strings.HasPrefix(method, "Create")
}
