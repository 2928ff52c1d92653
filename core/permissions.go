package core

import (
	"context"
	"errors"
	"slices"

	"github.com/parleyhq/parley"
)

// What a client SDK user may do (semantics.md §5): what their service
// role grants and, in a conversation they are a participant of, what
// their participant's conversation role grants too. REST callers hold the
// account's credentials and are never checked.

// Grants is what a user may do, in one conversation or in the service.
type Grants struct {
	User parley.User
	// Conversation is the conversation asked about, if any.
	Conversation parley.Conversation
	// Participant is the user's participant in the conversation asked
	// about; nil when they are not one (or no conversation was asked
	// about).
	Participant *parley.Participant
	perms       []string
}

// Has reports whether any of perms is granted.
func (g Grants) Has(perms ...string) bool {
	return slices.ContainsFunc(perms, func(p string) bool { return slices.Contains(g.perms, p) })
}

// Require is nil when any of perms is granted, else Twilio's 50107.
func (g Grants) Require(perms ...string) error {
	if g.Has(perms...) {
		return nil
	}
	return errNotPermitted
}

// errNotPermitted is Twilio's refusal of an action the user's roles do
// not grant (the catalogue's text without its "Programmable Chat: "
// prefix, as live answers carry it).
var errNotPermitted = parley.Errorf(parley.KindForbidden, 50107, "User not authorized for command")

// errNotMember is the answer to a client acting as a participant of a
// conversation it is not in.
var errNotMember = parley.Errorf(parley.KindNotFound, 50430, "Participant is not a member of conversation")

// Member is nil when the grants are a participant's, else 50430.
func (g Grants) Member() error {
	if g.Participant == nil {
		return errNotMember
	}
	return nil
}

// GrantsOf reads what user userSid of service svc may do in conversation
// conv ("" for the service alone). An unknown conversation is a 404.
func (a *App) GrantsOf(ctx context.Context, svc, userSid, conv string) (Grants, error) {
	return read(ctx, a, func(tx parley.Tx) (Grants, error) {
		var g Grants
		u, err := tx.UserBySid(ctx, svc, userSid)
		if err != nil {
			return g, notFound(err)
		}
		g.User = u
		role, err := tx.Role(ctx, svc, u.RoleSid)
		if err != nil && !errors.Is(err, parley.ErrNotFound) {
			return g, err
		}
		g.perms = append(g.perms, role.Permissions...)
		if conv == "" {
			return g, nil
		}
		c, err := tx.ConversationBySid(ctx, svc, conv)
		if err != nil {
			return g, notFound(err)
		}
		g.Conversation = c
		p, err := tx.ParticipantByIdentity(ctx, c.Sid, u.Identity)
		switch {
		case errors.Is(err, parley.ErrNotFound) || err == nil && (p.UserSid == nil || *p.UserSid != u.Sid):
			return g, nil
		case err != nil:
			return g, err
		}
		g.Participant = &p
		if p.RoleSid != nil {
			crole, err := tx.Role(ctx, svc, *p.RoleSid)
			if err != nil && !errors.Is(err, parley.ErrNotFound) {
				return g, err
			}
			g.perms = append(g.perms, crole.Permissions...)
		}
		return g, nil
	})
}

// UnreadMessages is how many messages lie past a membership's read
// horizon, from the conversation's last index, without counting rows:
// nil while the horizon is unset, at most MaxUnreadMessages (as Twilio
// caps it). Indexes skip deleted messages, so after deletes it counts
// them too, as an index difference does on Twilio.
func UnreadMessages(m parley.Membership) *int64 {
	horizon := m.Participant.LastReadMessageIndex
	if horizon == nil {
		return nil
	}
	var n int64
	if last := m.Conversation.LastMessageIndex; last != nil {
		n = min(max(*last-*horizon, 0), MaxUnreadMessages)
	}
	return &n
}
