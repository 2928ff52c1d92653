package core

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// Participant limits (semantics-conversations.md §3.3, Twilio's Limits
// page): chat participants per conversation, non-chat participants per
// conversation, open conversations per identity.
const (
	MaxChatParticipants      = 1000
	MaxNonChatParticipants   = 50
	MaxOpenConversations     = 1000
	MaxParticipantAttributes = 4 * 1024 // bytes
	MaxAddress               = 256      // characters, as for proxy addresses
)

// ParticipantInput is a participant create or update request; nil is a
// parameter not sent. Every field is as sent: the checks, with Twilio's
// codes, are here.
type ParticipantInput struct {
	Identity             *string
	Attributes           *string
	RoleSid              *string
	Address              *string // MessagingBinding.Address (create only)
	ProxyAddress         *string // MessagingBinding.ProxyAddress
	ProjectedAddress     *string // MessagingBinding.ProjectedAddress
	DateCreated          *string
	DateUpdated          *string
	LastReadMessageIndex *string // update only; "" clears it
	LastReadTimestamp    *string // update only; "" clears it
	// BindingNameOrLevel: MessagingBinding.Name or .Level was sent, which
	// only email bindings take (parley has none): 50420.
	BindingNameOrLevel bool
}

// participantChange is a checked ParticipantInput.
type participantChange struct {
	in               ParticipantInput
	created, updated *time.Time
	lastRead         *int64 // LastReadMessageIndex, when sent and not ""
}

// e164 is a phone number as Twilio's messaging addresses take it.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// channels are the messaging channels parley's participants can use, by
// address prefix; a bare number is SMS.
var channels = []string{"whatsapp", "rcs"}

// channelOf returns an address's channel and whether the address is well
// formed: a phone number in E.164, bare (SMS) or after "whatsapp:" or
// "rcs:". RCS senders may also be agent names, so "rcs:" takes any
// non-empty name.
func channelOf(addr string) (string, bool) {
	if len(addr) > MaxAddress {
		return "", false
	}
	for _, c := range channels {
		if rest, ok := strings.CutPrefix(addr, c+":"); ok {
			return c, e164.MatchString(rest) || (c == "rcs" && rest != "" && !strings.ContainsAny(rest, " \t\n"))
		}
	}
	return "sms", e164.MatchString(addr)
}

func (in ParticipantInput) check(create bool) (participantChange, error) {
	ch := participantChange{in: in}
	if in.Identity != nil && *in.Identity != "" {
		if err := checkIdentity(*in.Identity); err != nil {
			return ch, err
		}
	}
	if in.Attributes != nil && *in.Attributes != "" {
		if err := checkAttributes(*in.Attributes, MaxParticipantAttributes); err != nil {
			return ch, err
		}
	}
	if in.RoleSid != nil && !parley.IsSID(parley.PrefixRole, *in.RoleSid) {
		return ch, parley.InvalidParam("Invalid RoleSid")
	}
	if in.BindingNameOrLevel {
		return ch, parley.Errorf(parley.KindInvalid, 50420, "Binding type does not support given MessagingBinding params: Name and Level are for email bindings")
	}
	if create {
		if err := in.checkBinding(); err != nil {
			return ch, err
		}
	} else {
		if err := checkProxy(in.ProxyAddress, in.Address); err != nil {
			return ch, err
		}
		if err := checkProjected(in.ProjectedAddress); err != nil {
			return ch, err
		}
	}
	var err error
	if ch.created, err = parseDate(in.DateCreated, 20001, "DateCreated"); err != nil {
		return ch, err
	}
	if ch.updated, err = parseDate(in.DateUpdated, 20001, "DateUpdated"); err != nil {
		return ch, err
	}
	if v := in.LastReadMessageIndex; v != nil && *v != "" {
		n, err := strconv.ParseInt(*v, 10, 64)
		if err != nil || n < 0 {
			return ch, parley.Errorf(parley.KindInvalid, 50421, "Invalid LastReadMessageIndex: %q is not a message index", *v)
		}
		ch.lastRead = &n
	}
	return ch, nil
}

// checkBinding checks a create's identity and messaging binding: a chat
// participant has an Identity (and perhaps a projected address for Group
// MMS); a non-chat one an Address, with a ProxyAddress of the same
// channel unless it is a Group MMS member.
func (in ParticipantInput) checkBinding() error {
	identity := in.Identity != nil && *in.Identity != ""
	if in.Address == nil {
		if !identity {
			return parley.Errorf(parley.KindInvalid, 50204, "Identity not provided")
		}
		if in.ProxyAddress != nil {
			return parley.Errorf(parley.KindInvalid, 50441, "Failed to add a proxy address to a participant: a chat participant has no messaging binding address")
		}
		return checkProjected(in.ProjectedAddress)
	}
	if identity {
		return parley.Errorf(parley.KindInvalid, 50211, "Identity is not acceptable for a participant with a messaging binding address")
	}
	if in.ProjectedAddress != nil {
		return parley.Errorf(parley.KindInvalid, 50443, "Failed to add a projected address: only chat participants have one")
	}
	if *in.Address == "" {
		return parley.Errorf(parley.KindInvalid, 50411, "Address can't be empty")
	}
	if _, ok := channelOf(*in.Address); !ok {
		return parley.Errorf(parley.KindInvalid, 50407, "Invalid messaging binding address %q", *in.Address)
	}
	return checkProxy(in.ProxyAddress, in.Address)
}

// checkProxy checks a proxy address against the participant's address
// (nil on updates, which check the stored one later).
func checkProxy(proxy, addr *string) error {
	if proxy == nil {
		return nil
	}
	if *proxy == "" {
		if addr != nil {
			return parley.Errorf(parley.KindInvalid, 50412, "Proxy address can't be empty")
		}
		return nil // an update removing the proxy address
	}
	channel, ok := channelOf(*proxy)
	if !ok {
		return parley.Errorf(parley.KindInvalid, 50408, "Invalid messaging binding proxy address %q", *proxy)
	}
	if addr != nil {
		if *addr == *proxy {
			return parley.Errorf(parley.KindInvalid, 50409, "Address and proxy address can't be the same")
		}
		if c, _ := channelOf(*addr); c != channel {
			return parley.Errorf(parley.KindInvalid, 50414, "Address %q and proxy address %q are of different channels", *addr, *proxy)
		}
	}
	return nil
}

// checkProjected checks a Group MMS projected address: an SMS number; ""
// removes it on update.
func checkProjected(p *string) error {
	if p == nil || *p == "" {
		return nil
	}
	if c, ok := channelOf(*p); !ok || c != "sms" {
		return parley.Errorf(parley.KindInvalid, 50408, "Invalid projected address %q: it must be a phone number in E.164", *p)
	}
	return nil
}

// apply writes the change into p at now.
func (ch participantChange) apply(p *parley.Participant, now time.Time) {
	in := ch.in
	if in.Attributes != nil {
		p.Attributes = *in.Attributes
		if p.Attributes == "" {
			p.Attributes = "{}"
		}
	}
	if in.RoleSid != nil {
		p.RoleSid = in.RoleSid
	}
	if in.ProxyAddress != nil {
		p.Binding.ProxyAddress = emptyIsNil(in.ProxyAddress)
	}
	if in.ProjectedAddress != nil {
		p.Binding.ProjectedAddress = emptyIsNil(in.ProjectedAddress)
	}
	switch {
	case p.Binding.Address != nil:
		p.Binding.Type, _ = channelOf(*p.Binding.Address)
	case p.Binding.ProjectedAddress != nil:
		p.Binding.Type = "sms"
	default:
		p.Binding.Type = ""
	}
	if in.LastReadMessageIndex != nil {
		p.LastReadMessageIndex = ch.lastRead
	}
	if in.LastReadTimestamp != nil {
		p.LastReadTimestamp = emptyIsNil(in.LastReadTimestamp)
	}
	if ch.created != nil {
		p.DateCreated = *ch.created
	}
	p.DateUpdated = now
	if ch.updated != nil {
		p.DateUpdated = *ch.updated
	}
}

// findParticipant looks a participant of conversation up by its SID or
// its identity.
func findParticipant(ctx context.Context, tx parley.Tx, conversation, key string) (parley.Participant, error) {
	var p parley.Participant
	var err error
	if parley.IsSID(parley.PrefixParticipant, key) {
		p, err = tx.ParticipantBySid(ctx, conversation, key)
	} else {
		p, err = tx.ParticipantByIdentity(ctx, conversation, key)
	}
	return p, notFound(err)
}

// participantPreEvent makes a participant pre-event of type t (see
// askFirst).
func (a *App) participantPreEvent(t parley.EventType, opts WriteOptions) func(parley.Participant) parley.Event {
	return func(p parley.Participant) parley.Event { return participantEvent(t, p, a.clock(), opts) }
}

func participantEvent(t parley.EventType, p parley.Participant, at time.Time, opts WriteOptions) parley.Event {
	return parley.Event{Type: t, ServiceSid: p.ServiceSid, Source: opts.source(), ClientIdentity: opts.ClientIdentity, At: at, Webhooks: opts.Webhooks, Participant: &p}
}

// checkConversationRole checks that sid is a conversation role of svc:
// 50109 when there is none, 50105 when it is a service role.
func checkConversationRole(ctx context.Context, tx parley.Tx, svc, sid string) error {
	err := checkRole(ctx, tx, svc, sid, parley.RoleTypeConversation)
	var pe *parley.Error
	if errors.As(err, &pe) && pe.Code == 50100 {
		return parley.Errorf(parley.KindInvalid, 50109, "Conversation role not found")
	}
	return err
}

// errParticipantExists is the answer to an identity already in the
// conversation.
var errParticipantExists = parley.Errorf(parley.KindConflict, 50433, "Participant already exists")

// errPairTaken is the answer to an address pair held by a participant of
// an open conversation; apps parse the conversation SID out of it.
func errPairTaken(conversation string) error {
	return parley.Errorf(parley.KindConflict, 50416,
		"A binding for this participant and proxy address already exists in Conversation %s", conversation)
}

// errLostRace makes the store run a write again after it lost a race for
// a unique row (an identity's user, an address pair) that a concurrent
// write inserted after this one looked: the next run sees that row and
// answers as the rules do. (On PostgreSQL the failed insert aborted the
// transaction, so the answer cannot be read in this run.)
var errLostRace = fmt.Errorf("core: a concurrent write took a unique row first: %w", parley.ErrDangling)

// checkPair answers 50416 when p's address pair is held by another
// participant of an open conversation.
func checkPair(ctx context.Context, tx parley.Tx, p parley.Participant) error {
	if p.Binding.Address == nil || p.Binding.ProxyAddress == nil {
		return nil
	}
	other, err := tx.ParticipantByPair(ctx, *p.Binding.Address, *p.Binding.ProxyAddress)
	switch {
	case errors.Is(err, parley.ErrNotFound):
		return nil
	case err != nil:
		return err
	case other.Sid != p.Sid:
		return errPairTaken(other.ConversationSid)
	}
	return nil
}

// participantUser returns the user of identity in svc, creating it with
// the service's default role (as Twilio does for an identity it meets for
// the first time) in tx. The user is share-locked, so that it cannot be
// deleted before the participant refers to it.
func (a *App) participantUser(ctx context.Context, tx parley.Tx, ev *events, cfg parley.ServiceConfig, identity string, opts WriteOptions) (parley.User, error) {
	u, err := tx.ForShare().UserByIdentity(ctx, cfg.ServiceSid, identity)
	if !errors.Is(err, parley.ErrNotFound) {
		return u, err
	}
	now := a.clock()
	u = parley.User{Sid: a.sids.New(parley.PrefixUser), ServiceSid: cfg.ServiceSid, RoleSid: cfg.DefaultChatServiceRoleSid,
		Identity: identity, Attributes: "{}", DateCreated: now, DateUpdated: now}
	if err := tx.CreateUser(ctx, u); err != nil {
		if errors.Is(err, parley.ErrConflict) {
			return u, errLostRace
		}
		return u, err
	}
	ev.add(userEvent(parley.EventUserAdded, u, now, opts))
	return u, nil
}

// proposedParticipant is the participant a create would add, for the
// pre-event: checked by the rules that need no write.
func (a *App) proposedParticipant(ctx context.Context, tx parley.Tx, svc, convKey string, ch participantChange) (parley.Participant, error) {
	c, err := findConversation(ctx, tx, svc, convKey)
	if err != nil {
		return parley.Participant{}, err
	}
	if err := writable(c); err != nil {
		return parley.Participant{}, err
	}
	p := newParticipant("", c, ch, a.clock())
	if u, err := tx.UserByIdentity(ctx, c.ServiceSid, deref(p.Identity)); err == nil {
		p.UserSid = &u.Sid
	}
	return p, nil
}

// newParticipant is the participant ch describes, in conversation c.
func newParticipant(sid string, c parley.Conversation, ch participantChange, now time.Time) parley.Participant {
	p := parley.Participant{Sid: sid, ServiceSid: c.ServiceSid, ConversationSid: c.Sid, Attributes: "{}",
		NotificationLevel: "default", DateCreated: now}
	if id := ch.in.Identity; id != nil && *id != "" {
		p.Identity = id
	}
	p.Binding.Address = ch.in.Address
	ch.apply(&p, now)
	return p
}

// CreateParticipant adds a participant to the conversation with SID or
// unique name convKey: a chat participant by Identity (its User created
// when new), or a non-chat one by messaging binding. Adding to an inactive
// conversation reactivates it; activity restarts the timers.
func (a *App) CreateParticipant(ctx context.Context, svc, convKey string, in ParticipantInput, opts WriteOptions) (parley.Participant, error) {
	ch, err := in.check(true)
	if err != nil {
		return parley.Participant{}, err
	}
	if _, err := askFirst(ctx, a, opts, func(tx parley.Tx) (parley.Participant, error) {
		return a.proposedParticipant(ctx, tx, svc, convKey, ch)
	}, a.participantPreEvent(parley.EventParticipantAdd, opts)); err != nil {
		return parley.Participant{}, err
	}
	var p parley.Participant
	err = a.update(ctx, func(tx parley.Tx, ev *events) error {
		var err error
		p, err = a.addParticipant(ctx, tx, ev, svc, convKey, ch, opts)
		return err
	})
	return p, err
}

// addParticipant writes one participant in tx; CreateParticipant and
// ConversationWithParticipants share it. Locks in the order App.update
// gives: the role and the user (share), then the conversation (update),
// then the insert.
func (a *App) addParticipant(ctx context.Context, tx parley.Tx, ev *events, svc, convKey string, ch participantChange, opts WriteOptions) (parley.Participant, error) {
	ref, err := serviceRef(svc)
	if err != nil {
		return parley.Participant{}, err
	}
	cfg, err := tx.ServiceConfig(ctx, ref)
	if err != nil {
		return parley.Participant{}, notFound(err)
	}
	// The conversation first without a lock: a missing or closed one is
	// the first error, before any user is created. It is read again, locked,
	// once the rows it will refer to are.
	c, err := findConversation(ctx, tx, cfg.ServiceSid, convKey)
	if err != nil {
		return parley.Participant{}, err
	}
	if err := writable(c); err != nil {
		return parley.Participant{}, err
	}
	if ch.in.RoleSid != nil {
		if err := checkConversationRole(ctx, tx.ForShare(), cfg.ServiceSid, *ch.in.RoleSid); err != nil {
			return parley.Participant{}, err
		}
	}
	sid := a.sids.New(parley.PrefixParticipant)
	var user *parley.User
	if ch.in.Identity != nil && *ch.in.Identity != "" {
		u, err := a.participantUser(ctx, tx, ev, cfg, *ch.in.Identity, opts)
		if err != nil {
			return parley.Participant{}, err
		}
		user = &u
	}
	c, err = findConversation(ctx, tx.ForUpdate(), cfg.ServiceSid, convKey)
	if err != nil {
		return parley.Participant{}, err
	}
	if err := writable(c); err != nil {
		return parley.Participant{}, err
	}
	now := a.clock()
	p := newParticipant(sid, c, ch, now)
	if user != nil {
		p.UserSid = &user.Sid
		if p.RoleSid == nil {
			p.RoleSid = &cfg.DefaultConversationRoleSid
			// A client user joining the conversation they created gets the
			// creator's role ("system" creates what REST creates).
			if user.Identity == c.CreatedBy && c.CreatedBy != "system" {
				p.RoleSid = &cfg.DefaultConversationCreatorRoleSid
			}
		}
		if _, err := tx.ParticipantByIdentity(ctx, c.Sid, user.Identity); err == nil {
			return p, errParticipantExists
		} else if !errors.Is(err, parley.ErrNotFound) {
			return p, err
		}
		open, err := tx.CountOpenConversations(ctx, user.Sid)
		if err != nil {
			return p, err
		}
		if open >= a.limits.OpenConversations {
			return p, parley.Errorf(parley.KindForbidden, 50214, "User conversation limit exceeded: %s is in %d open conversations", user.Identity, open)
		}
	}
	if err := checkPair(ctx, tx, p); err != nil {
		return p, err
	}
	counts, err := tx.CountParticipants(ctx, c.Sid)
	if err != nil {
		return p, err
	}
	if p.IsChat() && counts.Chat >= a.limits.ChatParticipants {
		return p, parley.Errorf(parley.KindForbidden, 50417, "Conversation has reached its limit of %d chat participants", a.limits.ChatParticipants)
	}
	if !p.IsChat() && counts.NonChat >= a.limits.NonChatParticipants {
		return p, parley.Errorf(parley.KindForbidden, 50418, "Conversation has reached its limit of %d non-chat participants", a.limits.NonChatParticipants)
	}
	if err := tx.CreateParticipant(ctx, p); err != nil {
		if errors.Is(err, parley.ErrConflict) {
			return p, errLostRace
		}
		return p, err
	}
	ev.add(participantEvent(parley.EventParticipantAdded, p, now, opts))
	// A new participant is activity: an inactive conversation wakes up,
	// and the timers start again from now.
	from := c.State
	if reactivate(&c, now) || c.TimerInactive != nil || c.TimerClosed != nil {
		if err := tx.UpdateConversation(ctx, c); err != nil {
			return p, notFound(err)
		}
	}
	if c.State != from {
		ev.add(stateEvent(c, from, parley.ReasonEvent, now, opts.Webhooks))
	}
	return p, nil
}

// FetchParticipant returns the participant with SID or identity key of the
// conversation with SID or unique name convKey.
func (a *App) FetchParticipant(ctx context.Context, svc, convKey, key string) (parley.Participant, error) {
	return inConversation(ctx, a, svc, convKey, func(tx parley.Tx, conv string) (parley.Participant, error) {
		return findParticipant(ctx, tx, conv, key)
	})
}

// FetchParticipantOfUser returns the participant of conversation conv
// that is user userSid: by the user, never by a key that could also be a
// participant SID (an identity may look like one).
func (a *App) FetchParticipantOfUser(ctx context.Context, svc, conv, userSid string) (parley.Participant, error) {
	return inConversation(ctx, a, svc, conv, func(tx parley.Tx, conv string) (parley.Participant, error) {
		ref, err := serviceRef(svc)
		if err != nil {
			return parley.Participant{}, err
		}
		u, err := tx.UserBySid(ctx, ref, userSid)
		if err != nil {
			return parley.Participant{}, notFound(err)
		}
		p, err := tx.ParticipantByIdentity(ctx, conv, u.Identity)
		if err == nil && (p.UserSid == nil || *p.UserSid != userSid) {
			err = parley.ErrNotFound
		}
		return p, notFound(err)
	})
}

// ListParticipants returns one page of a conversation's participants in
// the order they joined.
func (a *App) ListParticipants(ctx context.Context, svc, convKey string, q parley.PageQuery) (parley.Page[parley.Participant], error) {
	return inConversation(ctx, a, svc, convKey, func(tx parley.Tx, conv string) (parley.Page[parley.Participant], error) {
		return tx.ListParticipants(ctx, conv, q)
	})
}

// UpdateParticipant changes a participant. Its conversation must not be
// closed (50377). A new Identity moves a chat participant to that
// identity's user (created when new); a proxy address needs a participant
// with an address (50441), a projected address a chat participant (50443).
func (a *App) UpdateParticipant(ctx context.Context, svc, convKey, key string, in ParticipantInput, opts WriteOptions) (parley.Participant, error) {
	ch, err := in.check(false)
	if err != nil {
		return parley.Participant{}, err
	}
	change := func(ctx context.Context, tx parley.Tx, ev *events, lock bool) (parley.Participant, error) {
		ref, err := serviceRef(svc)
		if err != nil {
			return parley.Participant{}, err
		}
		cfg, err := tx.ServiceConfig(ctx, ref)
		if err != nil {
			return parley.Participant{}, notFound(err)
		}
		c, err := findConversation(ctx, tx, cfg.ServiceSid, convKey)
		if err != nil {
			return parley.Participant{}, err
		}
		cur, err := findParticipant(ctx, tx, c.Sid, key)
		if err != nil {
			return cur, err
		}
		if err := writable(c); err != nil {
			return cur, err
		}
		if in.ProxyAddress != nil && cur.Binding.Address == nil {
			return cur, parley.Errorf(parley.KindInvalid, 50441, "Failed to add a proxy address to a participant: it has no messaging binding address")
		}
		if in.ProxyAddress != nil && *in.ProxyAddress != "" {
			if err := checkProxy(in.ProxyAddress, cur.Binding.Address); err != nil {
				return cur, err
			}
		}
		if in.ProjectedAddress != nil && !cur.IsChat() {
			return cur, parley.Errorf(parley.KindInvalid, 50443, "Failed to add a projected address: only chat participants have one")
		}
		identity := in.Identity != nil && *in.Identity != "" && (cur.Identity == nil || *in.Identity != *cur.Identity)
		if identity && !cur.IsChat() {
			return cur, parley.Errorf(parley.KindInvalid, 50444, "Failed to add an identity to a participant with a messaging binding address")
		}
		if in.Identity != nil && *in.Identity == "" && cur.IsChat() {
			return cur, parley.Errorf(parley.KindInvalid, 50204, "Identity not provided")
		}
		if in.RoleSid != nil {
			rt := tx
			if lock {
				rt = tx.ForShare()
			}
			if err := checkConversationRole(ctx, rt, cfg.ServiceSid, *in.RoleSid); err != nil {
				return cur, err
			}
		}
		var user *parley.User
		if identity {
			if !lock { // the pre-event's proposal: no user is created
				u := parley.User{Identity: *in.Identity}
				if got, err := tx.UserByIdentity(ctx, cfg.ServiceSid, *in.Identity); err == nil {
					u = got
				}
				user = &u
			} else {
				u, err := a.participantUser(ctx, tx, ev, cfg, *in.Identity, opts)
				if err != nil {
					return cur, err
				}
				user = &u
			}
		}
		if lock {
			if c, err = findConversation(ctx, tx.ForShare(), cfg.ServiceSid, convKey); err != nil {
				return cur, err
			}
			if err := writable(c); err != nil {
				return cur, err
			}
			if cur, err = findParticipant(ctx, tx.ForUpdate(), c.Sid, cur.Sid); err != nil {
				return cur, err
			}
		}
		p := cur
		ch.apply(&p, a.clock())
		if user != nil {
			p.Identity, p.UserSid = &user.Identity, &user.Sid
			if user.Sid == "" {
				p.UserSid = nil
			}
			if other, err := tx.ParticipantByIdentity(ctx, c.Sid, user.Identity); err == nil && other.Sid != p.Sid {
				return p, errParticipantExists
			}
		}
		if err := checkPair(ctx, tx, p); err != nil {
			return p, err
		}
		if !lock {
			return p, nil
		}
		if err := tx.UpdateParticipant(ctx, p); err != nil {
			if errors.Is(err, parley.ErrConflict) {
				return p, errLostRace
			}
			return p, notFound(err)
		}
		ev.add(participantEvent(parley.EventParticipantUpdated, p, p.DateUpdated, opts))
		return p, nil
	}
	if _, err := askFirst(ctx, a, opts, func(tx parley.Tx) (parley.Participant, error) { return change(ctx, tx, nil, false) },
		a.participantPreEvent(parley.EventParticipantUpdate, opts)); err != nil {
		return parley.Participant{}, err
	}
	var p parley.Participant
	err = a.update(ctx, func(tx parley.Tx, ev *events) error {
		var err error
		p, err = change(ctx, tx, ev, true)
		return err
	})
	return p, err
}

// DeleteParticipant removes a participant from its conversation, freeing
// its address pair; its messages stay. A closed conversation's members
// stay with it (50377).
func (a *App) DeleteParticipant(ctx context.Context, svc, convKey, key string, opts WriteOptions) error {
	find := func(tx parley.Tx, lock bool) (parley.Participant, error) {
		ct, pt := lockedOrNot(tx, lock)
		c, err := findConversation(ctx, ct, svc, convKey)
		if err != nil {
			return parley.Participant{}, err
		}
		p, err := findParticipant(ctx, pt, c.Sid, key)
		if err != nil {
			return p, err
		}
		return p, writable(c)
	}
	if _, err := askFirst(ctx, a, opts, func(tx parley.Tx) (parley.Participant, error) { return find(tx, false) },
		a.participantPreEvent(parley.EventParticipantRemove, opts)); err != nil {
		return err
	}
	return a.update(ctx, func(tx parley.Tx, ev *events) error {
		p, err := find(tx, true)
		if err != nil {
			return err
		}
		if err := tx.DeleteParticipant(ctx, p.ConversationSid, p.Sid); err != nil {
			return notFound(err)
		}
		ev.add(participantEvent(parley.EventParticipantRemoved, p, a.clock(), opts))
		return nil
	})
}
