package storetest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// Conversations and participants: every field written and read back, the
// uniqueness rules, timers, memberships and cascades.

func newConversation(f fixture) parley.Conversation {
	return parley.Conversation{Sid: sid(parley.PrefixConversation), ServiceSid: f.svc.Sid, Attributes: "{}",
		State: parley.StateActive, CreatedBy: "system", DateCreated: t0, DateUpdated: t0}
}

func createConversations(t testing.TB, s parley.Store, cs ...*parley.Conversation) {
	t.Helper()
	update(t, s, func(tx parley.Tx) error {
		for _, c := range cs {
			if err := tx.CreateConversation(context.Background(), *c); err != nil {
				return err
			}
		}
		return nil
	})
}

func getConversation(t testing.TB, s parley.Store, svc, sid string) parley.Conversation {
	t.Helper()
	return mustView(t, s, func(tx parley.Tx) (parley.Conversation, error) {
		return tx.ConversationBySid(context.Background(), svc, sid)
	})
}

func testConversations(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := bootstrapped(t, s)
	other := newService(t, s, "other")
	inactive, closed := t0.Add(time.Minute), t0.Add(10*time.Minute)
	c := parley.Conversation{Sid: sid(parley.PrefixConversation), ServiceSid: f.svc.Sid, UniqueName: ptr("room 💬"),
		FriendlyName: ptr("Room"), Attributes: ` {"topic": "feedback"} `, MessagingServiceSid: ptr("MG0123456789abcdef0123456789abcdef"),
		State: parley.StateInactive, TimerInactive: ptr("PT1M"), TimerClosed: ptr("PT10M"), DateInactive: &inactive,
		DateClosed: &closed, EmailAddress: ptr("room@example.com"), EmailName: ptr("Room"), CreatedBy: "alice",
		DateCreated: t0, DateUpdated: t0.Add(time.Second)}
	createConversations(t, s, &c)
	diff(t, "conversation by sid", getConversation(t, s, f.svc.Sid, c.Sid), c)
	diff(t, "conversation by sid in the default service", getConversation(t, s, "", c.Sid), c)
	got := mustView(t, s, func(tx parley.Tx) (parley.Conversation, error) {
		return tx.ConversationByUniqueName(ctx, "", "room 💬")
	})
	diff(t, "conversation by unique name", got, c)
	_, err := view(t, s, func(tx parley.Tx) (parley.Conversation, error) {
		return tx.ConversationBySid(ctx, other.svc.Sid, c.Sid)
	})
	wantErr(t, err, parley.ErrNotFound)
	_, err = view(t, s, func(tx parley.Tx) (parley.Conversation, error) {
		return tx.ConversationByUniqueName(ctx, f.svc.Sid, "Room 💬")
	})
	wantErr(t, err, parley.ErrNotFound)

	// Unique names are unique per service; unset ones never collide.
	dup := newConversation(f)
	dup.UniqueName = ptr("room 💬")
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.CreateConversation(ctx, dup) })
	wantErr(t, err, parley.ErrConflict)
	elsewhere := newConversation(other)
	elsewhere.UniqueName = ptr("room 💬")
	plain1, plain2 := newConversation(f), newConversation(f)
	createConversations(t, s, &elsewhere, &plain1, &plain2)
	diff(t, "conversation with nothing set", getConversation(t, s, f.svc.Sid, plain1.Sid), plain1)

	// UpdateConversation writes every field it owns, each to a value unlike
	// the last, and not the service or the creator.
	changed := c
	changed.UniqueName, changed.FriendlyName, changed.Attributes = ptr("renamed"), nil, "{}"
	changed.MessagingServiceSid, changed.State = ptr("MGfedcba9876543210fedcba9876543210"), parley.StateActive
	changed.TimerInactive, changed.TimerClosed, changed.DateInactive, changed.DateClosed = nil, ptr("P1D"), nil, ptr(t0.Add(24*time.Hour))
	changed.EmailAddress, changed.EmailName = nil, ptr("Renamed")
	changed.DateCreated, changed.DateUpdated = t0.Add(-time.Hour), t0.Add(time.Hour)
	written := changed
	written.ServiceSid, written.CreatedBy = other.svc.Sid, "mallory"
	update(t, s, func(tx parley.Tx) error { return tx.UpdateConversation(ctx, written) })
	diff(t, "updated conversation", getConversation(t, s, f.svc.Sid, c.Sid), changed)
	taken := plain1
	taken.UniqueName = ptr("renamed")
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.UpdateConversation(ctx, taken) })
	wantErr(t, err, parley.ErrConflict)
	ghost := changed
	ghost.Sid = sid(parley.PrefixConversation)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.UpdateConversation(ctx, ghost) })
	wantErr(t, err, parley.ErrNotFound)

	err = s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteConversation(ctx, other.svc.Sid, c.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	update(t, s, func(tx parley.Tx) error { return tx.DeleteConversation(ctx, f.svc.Sid, c.Sid) })
	_, err = view(t, s, func(tx parley.Tx) (parley.Conversation, error) { return tx.ConversationBySid(ctx, f.svc.Sid, c.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteConversation(ctx, f.svc.Sid, c.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	// Its unique name is free again.
	reuse := newConversation(f)
	reuse.UniqueName = ptr("renamed")
	createConversations(t, s, &reuse)
}

func testConversationLists(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "svc")
	other := newService(t, s, "other")
	// Creation dates out of creation order, as imports make them; two
	// share a date, which the sequence then orders.
	days := []int{5, 1, 3, 3, 9, 2, 7, 4}
	var all []parley.Conversation
	for i, d := range days {
		c := newConversation(f)
		c.DateCreated = t0.AddDate(0, 0, d)
		if i%3 == 0 {
			c.State = parley.StateClosed
		}
		noise := newConversation(other)
		noise.DateCreated = c.DateCreated
		createConversations(t, s, &c, &noise)
		all = append(all, mustView(t, s, func(tx parley.Tx) (parley.Conversation, error) {
			return tx.ConversationBySid(ctx, f.svc.Sid, c.Sid)
		}))
	}
	list := func(fl parley.ConversationFilter) func(parley.PageQuery) (parley.Page[parley.Conversation], error) {
		return func(q parley.PageQuery) (parley.Page[parley.Conversation], error) {
			return view(t, s, func(tx parley.Tx) (parley.Page[parley.Conversation], error) {
				return tx.ListConversations(ctx, f.svc.Sid, fl, q)
			})
		}
	}
	seqOf := func(c parley.Conversation) int64 { return c.Seq }
	checkPaging(t, all, list(parley.ConversationFilter{}), seqOf)

	closed := slices.DeleteFunc(slices.Clone(all), func(c parley.Conversation) bool { return c.State != parley.StateClosed })
	checkPaging(t, closed, list(parley.ConversationFilter{State: parley.StateClosed}), seqOf)

	// With dates: created within [start, end], newest date first, then
	// newest sequence, whatever the query's Desc says.
	start, end := t0.AddDate(0, 0, 2), t0.AddDate(0, 0, 7)
	var window []parley.Conversation
	for _, c := range all {
		if !c.DateCreated.Before(start) && !c.DateCreated.After(end) {
			window = append(window, c)
		}
	}
	slices.SortFunc(window, func(a, b parley.Conversation) int {
		if c := b.DateCreated.Compare(a.DateCreated); c != 0 {
			return c
		}
		return int(b.Seq - a.Seq)
	})
	keyOf := func(c parley.Conversation) string { return strconv.FormatInt(c.DateCreated.Unix(), 10) }
	walkPages(t, window, list(parley.ConversationFilter{Start: &start, End: &end}), seqOf, keyOf, true)
	p, err := list(parley.ConversationFilter{Start: &start})(parley.PageQuery{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 7 || !p.Items[0].DateCreated.Equal(t0.AddDate(0, 0, 9)) {
		t.Fatalf("conversations created since day 2: %d, newest first %v", len(p.Items), p.Items[0].DateCreated)
	}
	p, err = list(parley.ConversationFilter{End: &start, State: parley.StateActive})(parley.PageQuery{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "active conversations created by day 2", p.Items, []parley.Conversation{all[5], all[1]})
}

func testConversationTimers(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "svc")
	next := func() *time.Time {
		return mustView(t, s, func(tx parley.Tx) (*time.Time, error) { return tx.NextConversationTimer(ctx) })
	}
	if n := next(); n != nil {
		t.Fatalf("next timer with no conversations: %v", n)
	}
	at := func(m int) *time.Time { return ptr(t0.Add(time.Duration(m) * time.Minute)) }
	// a: inactive timer at 5, closed at 20; b: closed at 3; c: inactive,
	// so only its closed timer (at 30) is pending; d: closed, nothing
	// pending; e: no timers.
	a, b, c, d, e := newConversation(f), newConversation(f), newConversation(f), newConversation(f), newConversation(f)
	a.DateInactive, a.DateClosed = at(5), at(20)
	b.DateClosed = at(3)
	c.State, c.DateInactive, c.DateClosed = parley.StateInactive, at(1), at(30)
	d.State, d.DateInactive, d.DateClosed = parley.StateClosed, at(1), at(2)
	createConversations(t, s, &a, &b, &c, &d, &e)
	if n := next(); n == nil || !n.Equal(*at(3)) {
		t.Fatalf("next timer = %v, want %v", n, at(3))
	}
	due := func(now time.Time, limit int) []string {
		var sids []string
		update(t, s, func(tx parley.Tx) error {
			cs, err := tx.DueConversations(ctx, now, limit)
			for _, c := range cs {
				sids = append(sids, c.Sid)
			}
			return err
		})
		return sids
	}
	countDue := func(now time.Time) int64 {
		return mustView(t, s, func(tx parley.Tx) (int64, error) { return tx.CountDueConversations(ctx, now) })
	}
	diff(t, "due at 2", due(*at(2), 10), []string(nil))
	diff(t, "count due at 2", countDue(*at(2)), int64(0))
	diff(t, "due at 5", due(*at(5), 10), []string{b.Sid, a.Sid})
	diff(t, "count due at 5", countDue(*at(5)), int64(2))
	diff(t, "due at 40, one at most", due(*at(40), 1), []string{b.Sid})
	diff(t, "due at 40", due(*at(40), 10), []string{b.Sid, a.Sid, c.Sid})
	// Firing a's inactive timer leaves its closed one pending.
	a.State = parley.StateInactive
	b.State = parley.StateClosed
	update(t, s, func(tx parley.Tx) error { return errors2(tx.UpdateConversation(ctx, a), tx.UpdateConversation(ctx, b)) })
	diff(t, "due at 25 after firing", due(*at(25), 10), []string{a.Sid})
	diff(t, "count due at 40 after firing", countDue(*at(40)), int64(2)) // a (closed at 20), c
	if n := next(); n == nil || !n.Equal(*at(20)) {
		t.Fatalf("next timer = %v, want %v", n, at(20))
	}
}

// errors2 returns the first of two errors.
func errors2(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// testConcurrentTimerClaims has goroutines take due conversations at once:
// none is taken twice while its taker's transaction is open.
func testConcurrentTimerClaims(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "svc")
	const n = 60
	var cs []*parley.Conversation
	for i := range n {
		c := newConversation(f)
		c.DateClosed = ptr(t0.Add(time.Duration(i) * time.Second))
		cs = append(cs, &c)
	}
	createConversations(t, s, cs...)
	now := t0.Add(time.Hour)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				var got []parley.Conversation
				err := s.Update(ctx, func(tx parley.Tx) error {
					var err error
					if got, err = tx.DueConversations(ctx, now, 4); err != nil {
						return err
					}
					for _, c := range got {
						c.State = parley.StateClosed // fired: no longer due
						if err := tx.UpdateConversation(ctx, c); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Errorf("take due conversations: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, c := range got {
					seen[c.Sid]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("fired %d distinct conversations, want %d", len(seen), n)
	}
	for sid, k := range seen {
		if k != 1 {
			t.Fatalf("conversation %s fired %d times", sid, k)
		}
	}
}

func chatParticipant(c parley.Conversation, u parley.User, role parley.Role) parley.Participant {
	return parley.Participant{Sid: sid(parley.PrefixParticipant), ServiceSid: c.ServiceSid, ConversationSid: c.Sid,
		Identity: ptr(u.Identity), UserSid: ptr(u.Sid), Attributes: "{}", RoleSid: ptr(role.Sid),
		NotificationLevel: "default", DateCreated: t0, DateUpdated: t0}
}

func smsParticipant(c parley.Conversation, address, proxy string) parley.Participant {
	return parley.Participant{Sid: sid(parley.PrefixParticipant), ServiceSid: c.ServiceSid, ConversationSid: c.Sid,
		Attributes: "{}", Binding: parley.MessagingBinding{Type: "sms", Address: ptr(address), ProxyAddress: ptr(proxy)},
		NotificationLevel: "default", DateCreated: t0, DateUpdated: t0}
}

func createParticipants(t testing.TB, s parley.Store, ps ...*parley.Participant) {
	t.Helper()
	update(t, s, func(tx parley.Tx) error {
		for _, p := range ps {
			if err := tx.CreateParticipant(context.Background(), *p); err != nil {
				return err
			}
		}
		return nil
	})
}

func getParticipant(t testing.TB, s parley.Store, conv, sid string) parley.Participant {
	t.Helper()
	return mustView(t, s, func(tx parley.Tx) (parley.Participant, error) {
		return tx.ParticipantBySid(context.Background(), conv, sid)
	})
}

func testParticipants(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "svc")
	alice := createUsers(t, s, f, 1, "alice")[0]
	c, c2 := newConversation(f), newConversation(f)
	createConversations(t, s, &c, &c2)

	chat := chatParticipant(c, alice, f.chAdm)
	chat.Attributes, chat.LastReadMessageIndex, chat.LastReadTimestamp = `{"seat": 1}`, ptr(int64(7)), ptr("2026-01-02T03:04:05Z")
	chat.Binding = parley.MessagingBinding{Type: "sms", ProjectedAddress: ptr("+15550001111")}
	chat.NotificationLevel, chat.DateUpdated = "muted", t0.Add(time.Second)
	sms := smsParticipant(c, "+15551230000", "+15559990000")
	createParticipants(t, s, &chat, &sms)
	diff(t, "chat participant", getParticipant(t, s, c.Sid, chat.Sid), chat)
	diff(t, "sms participant", getParticipant(t, s, c.Sid, sms.Sid), sms)
	got := mustView(t, s, func(tx parley.Tx) (parley.Participant, error) {
		return tx.ParticipantByIdentity(ctx, c.Sid, alice.Identity)
	})
	diff(t, "participant by identity", got, chat)
	got = mustView(t, s, func(tx parley.Tx) (parley.Participant, error) {
		return tx.ParticipantByPair(ctx, "+15551230000", "+15559990000")
	})
	diff(t, "participant by pair", got, sms)
	got = mustView(t, s, func(tx parley.Tx) (parley.Participant, error) {
		return tx.ParticipantByAddress(ctx, c.Sid, "+15551230000")
	})
	diff(t, "participant by address", got, sms)
	_, err0 := view(t, s, func(tx parley.Tx) (parley.Participant, error) {
		return tx.ParticipantByAddress(ctx, c2.Sid, "+15551230000")
	})
	wantErr(t, err0, parley.ErrNotFound)
	_, err := view(t, s, func(tx parley.Tx) (parley.Participant, error) { return tx.ParticipantBySid(ctx, c2.Sid, chat.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	_, err = view(t, s, func(tx parley.Tx) (parley.Participant, error) {
		return tx.ParticipantByPair(ctx, "+15559990000", "+15551230000")
	})
	wantErr(t, err, parley.ErrNotFound)

	// One identity per conversation; one open conversation per pair.
	again := chatParticipant(c, alice, f.chU)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.CreateParticipant(ctx, again) })
	wantErr(t, err, parley.ErrConflict)
	samePair := smsParticipant(c2, "+15551230000", "+15559990000")
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.CreateParticipant(ctx, samePair) })
	wantErr(t, err, parley.ErrConflict)
	otherProxy := smsParticipant(c2, "+15551230000", "+15558880000")
	elsewhere := chatParticipant(c2, alice, f.chU)
	createParticipants(t, s, &otherProxy, &elsewhere)

	counts := mustView(t, s, func(tx parley.Tx) (parley.ParticipantCounts, error) { return tx.CountParticipants(ctx, c.Sid) })
	diff(t, "participant counts", counts, parley.ParticipantCounts{Chat: 1, NonChat: 1})
	open := func() int {
		return mustView(t, s, func(tx parley.Tx) (int, error) { return tx.CountOpenConversations(ctx, alice.Sid) })
	}
	if n := open(); n != 2 {
		t.Fatalf("open conversations of alice = %d, want 2", n)
	}

	// UpdateParticipant writes every field it owns, and not the
	// conversation or service.
	changed := sms
	changed.Identity, changed.UserSid, changed.Attributes, changed.RoleSid = ptr("alice0000"), ptr(alice.Sid), `{"x":1}`, ptr(f.chU.Sid)
	changed.Binding = parley.MessagingBinding{Type: "whatsapp", Address: ptr("whatsapp:+1555"), ProxyAddress: ptr("whatsapp:+1666"),
		ProjectedAddress: ptr("+1777")}
	changed.LastReadMessageIndex, changed.LastReadTimestamp, changed.NotificationLevel = ptr(int64(3)), ptr("t"), "muted"
	changed.DateCreated, changed.DateUpdated = t0.Add(-time.Hour), t0.Add(time.Hour)
	update(t, s, func(tx parley.Tx) error { return tx.DeleteParticipant(ctx, c.Sid, chat.Sid) })
	written := changed
	written.ConversationSid, written.ServiceSid = c2.Sid, sid(parley.PrefixService)
	update(t, s, func(tx parley.Tx) error { return tx.UpdateParticipant(ctx, written) })
	diff(t, "updated participant", getParticipant(t, s, c.Sid, sms.Sid), changed)
	// The old pair is free, the new one held.
	createParticipants(t, s, &samePair)
	clash := smsParticipant(c2, "whatsapp:+1555", "whatsapp:+1666")
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.CreateParticipant(ctx, clash) })
	wantErr(t, err, parley.ErrConflict)
	ghost := changed
	ghost.Sid = sid(parley.PrefixParticipant)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.UpdateParticipant(ctx, ghost) })
	wantErr(t, err, parley.ErrNotFound)

	// Closing a conversation frees its pairs and the identity's slot.
	closedC := getConversation(t, s, f.svc.Sid, c2.Sid)
	closedC.State = parley.StateClosed
	update(t, s, func(tx parley.Tx) error { return tx.UpdateConversation(ctx, closedC) })
	if n := open(); n != 1 {
		t.Fatalf("open conversations of alice after a close = %d, want 1", n)
	}
	_, err = view(t, s, func(tx parley.Tx) (parley.Participant, error) {
		return tx.ParticipantByPair(ctx, "+15551230000", "+15559990000")
	})
	wantErr(t, err, parley.ErrNotFound)
	c3 := newConversation(f)
	createConversations(t, s, &c3)
	reuse := smsParticipant(c3, "+15551230000", "+15559990000")
	createParticipants(t, s, &reuse)
	// The closed conversation's participant is still there, its binding
	// unchanged.
	diff(t, "participant of a closed conversation", getParticipant(t, s, c2.Sid, samePair.Sid), samePair)

	err = s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteParticipant(ctx, c2.Sid, sms.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	update(t, s, func(tx parley.Tx) error { return tx.DeleteParticipant(ctx, c.Sid, sms.Sid) })
	_, err = view(t, s, func(tx parley.Tx) (parley.Participant, error) { return tx.ParticipantBySid(ctx, c.Sid, sms.Sid) })
	wantErr(t, err, parley.ErrNotFound)

	// Paging.
	var all []parley.Participant
	for i := range 7 {
		p := smsParticipant(c3, fmt.Sprintf("+1444%04d", i), "+15559990000")
		createParticipants(t, s, &p)
		all = append(all, getParticipant(t, s, c3.Sid, p.Sid))
	}
	all = append([]parley.Participant{getParticipant(t, s, c3.Sid, reuse.Sid)}, all...)
	checkPaging(t, all, func(q parley.PageQuery) (parley.Page[parley.Participant], error) {
		return view(t, s, func(tx parley.Tx) (parley.Page[parley.Participant], error) {
			return tx.ListParticipants(ctx, c3.Sid, q)
		})
	}, func(p parley.Participant) int64 { return p.Seq })
}

func testMemberships(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := bootstrapped(t, s)
	other := newService(t, s, "other")
	users := createUsers(t, s, f, 2, "member")
	bob := createUsers(t, s, other, 1, "member")[0] // the same identity in another service
	var alice, address []parley.Membership
	for i := range 7 {
		c := newConversation(f)
		c.FriendlyName = ptr(fmt.Sprintf("room %d", i))
		oc := newConversation(other)
		createConversations(t, s, &c, &oc)
		p := chatParticipant(c, users[0], f.chU)
		q := chatParticipant(c, users[1], f.chU)
		sms := smsParticipant(c, "+15550001111", fmt.Sprintf("+1999%04d", i))
		noise := chatParticipant(oc, bob, other.chU)
		createParticipants(t, s, &p, &q, &sms, &noise)
		c = getConversation(t, s, f.svc.Sid, c.Sid)
		alice = append(alice, parley.Membership{Participant: getParticipant(t, s, c.Sid, p.Sid), Conversation: c})
		address = append(address, parley.Membership{Participant: getParticipant(t, s, c.Sid, sms.Sid), Conversation: c})
	}
	seqOf := func(m parley.Membership) int64 { return m.Participant.Seq }
	checkPaging(t, alice, func(q parley.PageQuery) (parley.Page[parley.Membership], error) {
		return view(t, s, func(tx parley.Tx) (parley.Page[parley.Membership], error) {
			return tx.ListUserConversations(ctx, users[0].Sid, q)
		})
	}, seqOf)

	bySid := func(ms []parley.Membership) []parley.Membership {
		ms = slices.Clone(ms)
		slices.SortFunc(ms, func(a, b parley.Membership) int { return cmpString(a.Conversation.Sid, b.Conversation.Sid) })
		return ms
	}
	keyOf := func(m parley.Membership) string { return m.Conversation.Sid }
	for _, tc := range []struct {
		name string
		svc  string
		f    parley.MembershipFilter
		want []parley.Membership
	}{
		{"identity", f.svc.Sid, parley.MembershipFilter{Identity: users[0].Identity}, bySid(alice)},
		{"identity in the default service", "", parley.MembershipFilter{Identity: users[0].Identity}, bySid(alice)},
		{"address", f.svc.Sid, parley.MembershipFilter{Address: "+15550001111"}, bySid(address)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := func(q parley.PageQuery) (parley.Page[parley.Membership], error) {
				return view(t, s, func(tx parley.Tx) (parley.Page[parley.Membership], error) {
					return tx.ListParticipantConversations(ctx, tc.svc, tc.f, q)
				})
			}
			walkPages(t, tc.want, list, seqOf, keyOf, false)
			newestFirst := slices.Clone(tc.want)
			slices.Reverse(newestFirst)
			walkPages(t, newestFirst, list, seqOf, keyOf, true)
		})
	}
	none := mustView(t, s, func(tx parley.Tx) (parley.Page[parley.Membership], error) {
		return tx.ListParticipantConversations(ctx, f.svc.Sid, parley.MembershipFilter{Address: "+1"}, parley.PageQuery{Size: 50})
	})
	if len(none.Items) != 0 {
		t.Fatalf("%d memberships for an unknown address", len(none.Items))
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// testConversationCascades: deleting a conversation, a user or a service
// takes the participants with it; a role held by a participant cannot go.
func testConversationCascades(t *testing.T, s parley.Store) {
	ctx := context.Background()
	def := bootstrapped(t, s)
	f := newService(t, s, "doomed")
	users := createUsers(t, s, f, 2, "u")
	c, c2 := newConversation(f), newConversation(f)
	createConversations(t, s, &c, &c2)
	custom := parley.Role{Sid: sid(parley.PrefixRole), ServiceSid: f.svc.Sid, FriendlyName: "custom",
		Type: parley.RoleTypeConversation, Permissions: []string{"sendMessage"}, DateCreated: t0, DateUpdated: t0}
	update(t, s, func(tx parley.Tx) error { return tx.CreateRole(ctx, custom) })
	p0, p1 := chatParticipant(c, users[0], custom), chatParticipant(c, users[1], f.chU)
	sms := smsParticipant(c, "+15550001111", "+15550002222")
	p2 := chatParticipant(c2, users[0], f.chU)
	createParticipants(t, s, &p0, &p1, &sms, &p2)

	err := s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteRole(ctx, f.svc.Sid, custom.Sid) })
	wantErr(t, err, parley.ErrInUse)
	// A participant cannot refer to a user or role that does not exist.
	dangling := chatParticipant(c2, users[1], f.chU)
	dangling.RoleSid = ptr(sid(parley.PrefixRole))
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.CreateParticipant(ctx, dangling) })
	wantErr(t, err, parley.ErrDangling)
	dangling = chatParticipant(c2, users[1], f.chU)
	dangling.ConversationSid = sid(parley.PrefixConversation)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.CreateParticipant(ctx, dangling) })
	wantErr(t, err, parley.ErrDangling)

	// Deleting a user removes its participants (docs/compatibility.md).
	update(t, s, func(tx parley.Tx) error { return tx.DeleteUser(ctx, f.svc.Sid, users[0].Sid) })
	for _, p := range []parley.Participant{p0, p2} {
		_, err := view(t, s, func(tx parley.Tx) (parley.Participant, error) {
			return tx.ParticipantBySid(ctx, p.ConversationSid, p.Sid)
		})
		wantErr(t, err, parley.ErrNotFound)
	}
	update(t, s, func(tx parley.Tx) error { return tx.DeleteRole(ctx, f.svc.Sid, custom.Sid) })

	// Deleting a conversation removes its participants and frees pairs.
	update(t, s, func(tx parley.Tx) error { return tx.DeleteConversation(ctx, f.svc.Sid, c.Sid) })
	for _, p := range []parley.Participant{p1, sms} {
		_, err := view(t, s, func(tx parley.Tx) (parley.Participant, error) { return tx.ParticipantBySid(ctx, c.Sid, p.Sid) })
		wantErr(t, err, parley.ErrNotFound)
	}
	kept := newConversation(def)
	createConversations(t, s, &kept)
	again := smsParticipant(kept, "+15550001111", "+15550002222")
	createParticipants(t, s, &again)

	// Deleting the service removes its conversations; the default
	// service's stay.
	update(t, s, func(tx parley.Tx) error { return tx.DeleteService(ctx, f.svc.Sid) })
	_, err = view(t, s, func(tx parley.Tx) (parley.Conversation, error) { return tx.ConversationBySid(ctx, f.svc.Sid, c2.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	diff(t, "kept participant", getParticipant(t, s, kept.Sid, again.Sid), again)
}
