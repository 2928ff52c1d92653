package core

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// MaxCreateParticipants is how many participants one
// ConversationWithParticipants request may add (Twilio: 10, else 50426).
const MaxCreateParticipants = 10

// MaxUnreadMessages caps unread_messages_count, as Twilio does
// ("UnreadMessageCount returns a maximum value of 1000").
const MaxUnreadMessages = 1000

// ParseParticipantJSON reads one Participant value of a
// ConversationWithParticipants request: a JSON object with the keys of the
// Participant resource in snake case (identity, attributes, role_sid,
// messaging_binding.address/proxy_address/projected_address). Anything
// else is 50424. attributes may be a JSON string, as the form parameter
// is, or the JSON value itself.
func ParseParticipantJSON(s string) (ParticipantInput, error) {
	invalid := func(why string) (ParticipantInput, error) {
		return ParticipantInput{}, parley.Errorf(parley.KindInvalid, 50424,
			"One of the JSON requests for participant creation is invalid: %s", why)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &obj); err != nil || obj == nil {
		return invalid("not a JSON object")
	}
	var in ParticipantInput
	text := func(raw json.RawMessage) (*string, bool) {
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return nil, false
		}
		return &v, true
	}
	for key, raw := range obj {
		var ok bool
		switch key {
		case "identity":
			in.Identity, ok = text(raw)
		case "role_sid":
			in.RoleSid, ok = text(raw)
		case "date_created":
			in.DateCreated, ok = text(raw)
		case "date_updated":
			in.DateUpdated, ok = text(raw)
		case "attributes":
			if in.Attributes, ok = text(raw); !ok {
				v := string(raw)
				in.Attributes, ok = &v, true
			}
		case "messaging_binding":
			var mb map[string]json.RawMessage
			if ok = json.Unmarshal(raw, &mb) == nil && mb != nil; !ok {
				break
			}
			for k, v := range mb {
				switch k {
				case "address":
					in.Address, ok = text(v)
				case "proxy_address":
					in.ProxyAddress, ok = text(v)
				case "projected_address":
					in.ProjectedAddress, ok = text(v)
				case "name", "level":
					in.BindingNameOrLevel, ok = true, true
				default:
					return invalid("unknown key messaging_binding." + k)
				}
				if !ok {
					return invalid("messaging_binding." + k + " is not a string")
				}
			}
		default:
			return invalid("unknown key " + key)
		}
		if !ok {
			return invalid(key + " is not a string")
		}
	}
	return in, nil
}

// CreateConversationWithParticipants creates a conversation with up to ten
// participants (parley's decision 10): every rule is checked first, then
// the conversation and all its participants are written in one
// transaction, so there is never a half-made conversation; it answers
// active, where Twilio shows "initializing" until its asynchronous adds
// finish. A pair already bound elsewhere is 50425.
func (a *App) CreateConversationWithParticipants(ctx context.Context, svc string, in ConversationInput, participants []ParticipantInput, opts WriteOptions) (parley.Conversation, error) {
	ch, err := in.checkCreate()
	if err != nil {
		return parley.Conversation{}, err
	}
	if len(participants) > MaxCreateParticipants {
		return parley.Conversation{}, parley.Errorf(parley.KindInvalid, 50426,
			"Too many participants: at most %d may be created with a conversation", MaxCreateParticipants)
	}
	changes := make([]participantChange, len(participants))
	identities, pairs := map[string]bool{}, map[string]bool{}
	for i, p := range participants {
		if changes[i], err = p.check(true); err != nil {
			return parley.Conversation{}, err
		}
		if p.Identity != nil && *p.Identity != "" {
			if identities[*p.Identity] {
				return parley.Conversation{}, errParticipantExists
			}
			identities[*p.Identity] = true
		}
		if p.Address != nil && p.ProxyAddress != nil {
			k := *p.Address + " " + *p.ProxyAddress
			if pairs[k] {
				return parley.Conversation{}, parley.Errorf(parley.KindConflict, 50425,
					"The binding for address %s and proxy address %s is given twice", *p.Address, *p.ProxyAddress)
			}
			pairs[k] = true
		}
	}
	return a.createWith(ctx, svc, ch, changes, opts)
}

// findMembership finds user key's participant in conversation convKey,
// with both: 404 when either is unknown or the user is not a participant.
func findMembership(ctx context.Context, tx parley.Tx, svc, userKey, convKey string) (parley.Membership, error) {
	u, err := findUser(ctx, tx, svc, userKey)
	if err != nil {
		return parley.Membership{}, err
	}
	c, err := findConversation(ctx, tx, u.ServiceSid, convKey)
	if err != nil {
		return parley.Membership{}, err
	}
	p, err := tx.ParticipantByIdentity(ctx, c.Sid, u.Identity)
	if err != nil {
		return parley.Membership{}, notFound(err)
	}
	return parley.Membership{Participant: p, Conversation: c}, nil
}

// FetchUserConversation returns a user's membership of one conversation.
func (a *App) FetchUserConversation(ctx context.Context, svc, userKey, convKey string) (parley.Membership, error) {
	return read(ctx, a, func(tx parley.Tx) (parley.Membership, error) {
		return findMembership(ctx, tx, svc, userKey, convKey)
	})
}

// ListUserConversations returns one page of the conversations a user is a
// participant of, in the order they joined; closed ones too (decision 4).
func (a *App) ListUserConversations(ctx context.Context, svc, userKey string, q parley.PageQuery) (parley.Page[parley.Membership], error) {
	return read(ctx, a, func(tx parley.Tx) (parley.Page[parley.Membership], error) {
		u, err := findUser(ctx, tx, svc, userKey)
		if err != nil {
			return parley.Page[parley.Membership]{}, err
		}
		return tx.ListUserConversations(ctx, u.Sid, q)
	})
}

// UserConversationUpdate is an update of a user's membership: the
// participant's notification level and read horizon. nil is not sent.
type UserConversationUpdate struct {
	NotificationLevel    *string
	LastReadTimestamp    *string
	LastReadMessageIndex *string // "" clears it
}

// UpdateUserConversation changes a user's membership of a conversation:
// notification level (default or muted, else 50210) and read horizon.
func (a *App) UpdateUserConversation(ctx context.Context, svc, userKey, convKey string, in UserConversationUpdate, opts WriteOptions) (parley.Membership, error) {
	var level string
	if in.NotificationLevel != nil {
		level = strings.ToLower(*in.NotificationLevel)
		if level != "default" && level != "muted" {
			return parley.Membership{}, parley.Errorf(parley.KindInvalid, 50210,
				"Invalid NotificationLevel %q: must be default or muted", *in.NotificationLevel)
		}
	}
	if in.LastReadTimestamp != nil && *in.LastReadTimestamp != "" {
		if _, err := time.Parse(time.RFC3339Nano, *in.LastReadTimestamp); err != nil {
			return parley.Membership{}, parley.InvalidParam("Invalid LastReadTimestamp: %q is not an ISO 8601 date-time such as 2019-12-16T22:18:37Z", *in.LastReadTimestamp)
		}
	}
	ch, err := ParticipantInput{LastReadMessageIndex: in.LastReadMessageIndex, LastReadTimestamp: in.LastReadTimestamp}.check(false)
	if err != nil {
		return parley.Membership{}, err
	}
	var m parley.Membership
	err = a.update(ctx, func(tx parley.Tx, ev *events) error {
		found, err := findMembership(ctx, tx, svc, userKey, convKey)
		if err != nil {
			return err
		}
		c, err := tx.ForShare().ConversationBySid(ctx, found.Conversation.ServiceSid, found.Conversation.Sid)
		if err != nil {
			return notFound(err)
		}
		if err := writable(c); err != nil {
			return err
		}
		p, err := tx.ForUpdate().ParticipantBySid(ctx, c.Sid, found.Participant.Sid)
		if err != nil {
			return notFound(err)
		}
		ch.apply(&p, a.clock())
		if level != "" {
			p.NotificationLevel = level
		}
		if err := tx.UpdateParticipant(ctx, p); err != nil {
			return notFound(err)
		}
		ev.add(participantEvent(parley.EventParticipantUpdated, p, p.DateUpdated, opts))
		m = parley.Membership{Participant: p, Conversation: c}
		return nil
	})
	return m, err
}

// DeleteUserConversation removes a user from a conversation: its
// participant is deleted, as DeleteParticipant does.
func (a *App) DeleteUserConversation(ctx context.Context, svc, userKey, convKey string, opts WriteOptions) error {
	m, err := a.FetchUserConversation(ctx, svc, userKey, convKey)
	if err != nil {
		return err
	}
	return a.DeleteParticipant(ctx, m.Conversation.ServiceSid, m.Conversation.Sid, m.Participant.Sid, opts)
}

// ListParticipantConversations returns one page of the conversations in
// which the chat identity or the messaging address is a participant,
// sorted by conversation SID (Twilio's documented order). Exactly one of
// the two: both is 50451.
func (a *App) ListParticipantConversations(ctx context.Context, svc string, identity, address *string, q parley.PageQuery) (parley.Page[parley.Membership], error) {
	var f parley.MembershipFilter
	switch {
	case identity != nil && address != nil:
		return parley.Page[parley.Membership]{}, parley.Errorf(parley.KindInvalid, 50451,
			"One user identifier parameter for lookup at a time is allowed. Please, use either Identity or Address.")
	case identity != nil && *identity != "":
		f.Identity = *identity
	case address != nil && *address != "":
		f.Address = *address
	default:
		return parley.Page[parley.Membership]{}, parley.InvalidParam("Missing required parameter Identity or Address")
	}
	return read(ctx, a, func(tx parley.Tx) (parley.Page[parley.Membership], error) {
		ref, err := serviceRef(svc)
		if err != nil {
			return parley.Page[parley.Membership]{}, err
		}
		cfg, err := tx.ServiceConfig(ctx, ref)
		if err != nil {
			return parley.Page[parley.Membership]{}, notFound(err)
		}
		return tx.ListParticipantConversations(ctx, cfg.ServiceSid, f, q)
	})
}
