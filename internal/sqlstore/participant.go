package sqlstore

import (
	"context"
	"strings"

	"github.com/parleyhq/parley"
)

// ---- Participants

const participantCols = `seq, sid, service_sid, conversation_sid, identity, user_sid, attributes, role_sid,
	binding_type, address, proxy_address, projected_address, last_read_message_index, last_read_timestamp,
	notification_level, date_created, date_updated`

func participantDest(p *parley.Participant) []any {
	return []any{&p.Seq, &p.Sid, &p.ServiceSid, &p.ConversationSid, nullString{&p.Identity}, nullString{&p.UserSid},
		&p.Attributes, nullString{&p.RoleSid}, &p.Binding.Type, nullString{&p.Binding.Address},
		nullString{&p.Binding.ProxyAddress}, nullString{&p.Binding.ProjectedAddress}, &p.LastReadMessageIndex,
		nullString{&p.LastReadTimestamp}, &p.NotificationLevel, seconds{&p.DateCreated}, seconds{&p.DateUpdated}}
}

func scanParticipant(s scanner) (parley.Participant, error) {
	var p parley.Participant
	err := s.Scan(participantDest(&p)...)
	return p, err
}

func (t *Tx) ParticipantBySid(ctx context.Context, conversationSid, sid string) (parley.Participant, error) {
	return get(t, ctx, scanParticipant, "SELECT "+participantCols+" FROM participants WHERE sid = ? AND conversation_sid = ?",
		sid, conversationSid)
}

func (t *Tx) ParticipantByIdentity(ctx context.Context, conversationSid, identity string) (parley.Participant, error) {
	return get(t, ctx, scanParticipant, "SELECT "+participantCols+" FROM participants WHERE conversation_sid = ? AND identity = ?",
		conversationSid, identity)
}

// ParticipantByAddress picks the earliest participant with the address:
// a consumer number may be in a conversation through one proxy at a time,
// but nothing stops two rows, and a message's author names one.
func (t *Tx) ParticipantByAddress(ctx context.Context, conversationSid, address string) (parley.Participant, error) {
	return get(t, ctx, scanParticipant, "SELECT "+participantCols+
		" FROM participants WHERE conversation_sid = ? AND address = ? ORDER BY seq LIMIT 1", conversationSid, address)
}

func (t *Tx) ParticipantByPair(ctx context.Context, address, proxyAddress string) (parley.Participant, error) {
	key := parley.Participant{Binding: parley.MessagingBinding{Address: &address, ProxyAddress: &proxyAddress}}.PairKey()
	return get(t, ctx, scanParticipant, "SELECT "+participantCols+" FROM participants WHERE pair_key = ?", *key)
}

func (t *Tx) ListParticipants(ctx context.Context, conversationSid string, q parley.PageQuery) (parley.Page[parley.Participant], error) {
	return page(t, ctx, participantCols, "FROM participants WHERE conversation_sid = ?", []any{conversationSid}, q,
		scanParticipant, bySeq(func(p parley.Participant) int64 { return p.Seq }))
}

func (t *Tx) CountParticipants(ctx context.Context, conversationSid string) (parley.ParticipantCounts, error) {
	var n parley.ParticipantCounts
	err := t.c.QueryRow(ctx, t.d.rebind(`SELECT COUNT(identity), COUNT(*) - COUNT(identity)
		FROM participants WHERE conversation_sid = ?`), conversationSid).Scan(&n.Chat, &n.NonChat)
	if err != nil {
		return n, t.d.mapError(err, false)
	}
	return n, nil
}

func (t *Tx) CountOpenConversations(ctx context.Context, userSid string) (int, error) {
	var n int
	err := t.c.QueryRow(ctx, t.d.rebind(`SELECT COUNT(*) FROM participants p
		JOIN conversations c ON c.sid = p.conversation_sid
		WHERE p.user_sid = ? AND c.state IN ('active', 'inactive')`), userSid).Scan(&n)
	if err != nil {
		return 0, t.d.mapError(err, false)
	}
	return n, nil
}

func (t *Tx) CreateParticipant(ctx context.Context, p parley.Participant) error {
	b := p.Binding
	_, err := t.exec(ctx, false, `INSERT INTO participants (sid, service_sid, conversation_sid, identity, user_sid,
		attributes, role_sid, binding_type, address, proxy_address, projected_address, pair_key,
		last_read_message_index, last_read_timestamp, notification_level, date_created, date_updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Sid, p.ServiceSid, p.ConversationSid, p.Identity, p.UserSid, p.Attributes, p.RoleSid, b.Type, b.Address,
		b.ProxyAddress, b.ProjectedAddress, p.PairKey(), p.LastReadMessageIndex, p.LastReadTimestamp,
		p.NotificationLevel, t.d.Seconds(p.DateCreated), t.d.Seconds(p.DateUpdated))
	return err
}

func (t *Tx) UpdateParticipant(ctx context.Context, p parley.Participant) error {
	b := p.Binding
	return t.execOne(ctx, false, `UPDATE participants SET identity = ?, user_sid = ?, attributes = ?, role_sid = ?,
		binding_type = ?, address = ?, proxy_address = ?, projected_address = ?, pair_key = ?,
		last_read_message_index = ?, last_read_timestamp = ?, notification_level = ?, date_created = ?,
		date_updated = ? WHERE sid = ?`,
		p.Identity, p.UserSid, p.Attributes, p.RoleSid, b.Type, b.Address, b.ProxyAddress, b.ProjectedAddress,
		p.PairKey(), p.LastReadMessageIndex, p.LastReadTimestamp, p.NotificationLevel, t.d.Seconds(p.DateCreated),
		t.d.Seconds(p.DateUpdated), p.Sid)
}

func (t *Tx) DeleteParticipant(ctx context.Context, conversationSid, sid string) error {
	return t.execOne(ctx, true, "DELETE FROM participants WHERE sid = ? AND conversation_sid = ?", sid, conversationSid)
}

// ---- Memberships: participants with their conversations

var membershipCols = qualify("p", participantCols) + ", " + conversationColsOf("c")

func scanMembership(s scanner) (parley.Membership, error) {
	var m parley.Membership
	err := s.Scan(append(participantDest(&m.Participant), conversationDest(&m.Conversation)...)...)
	return m, err
}

const membershipFrom = "FROM participants p JOIN conversations c ON c.sid = p.conversation_sid"

func (t *Tx) ListUserConversations(ctx context.Context, userSid string, q parley.PageQuery) (parley.Page[parley.Membership], error) {
	o := bySeq(func(m parley.Membership) int64 { return m.Participant.Seq })
	o.seq = "p.seq"
	return page(t, ctx, membershipCols, membershipFrom+" WHERE p.user_sid = ?", []any{userSid}, q, scanMembership, o)
}

func (t *Tx) ListParticipantConversations(ctx context.Context, serviceSid string, f parley.MembershipFilter, q parley.PageQuery) (parley.Page[parley.Membership], error) {
	from := membershipFrom + " WHERE p.service_sid = " + serviceRef
	args := []any{serviceSid}
	if f.Identity != "" {
		from, args = from+" AND p.identity = ?", append(args, f.Identity)
	} else {
		from, args = from+" AND p.address = ?", append(args, f.Address)
	}
	o := order[parley.Membership]{
		seq:    "p.seq",
		key:    "p.conversation_sid",
		keyArg: func(k string) (any, error) { return k, nil },
		keyOf:  func(m parley.Membership) string { return m.Conversation.Sid },
		seqOf:  func(m parley.Membership) int64 { return m.Participant.Seq },
	}
	return page(t, ctx, membershipCols, from, args, q, scanMembership, o)
}

// qualify prefixes each column of a column list with a table alias.
func qualify(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
