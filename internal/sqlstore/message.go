package sqlstore

import (
	"context"

	"github.com/parleyhq/parley"
)

// ---- Messages

const messageCols = `seq, sid, service_sid, conversation_sid, idx, author, body, attributes, participant_sid,
	content_sid, subject, date_created, date_updated, delivery, media`

func scanMessage(s scanner) (parley.Message, error) {
	var m parley.Message
	err := s.Scan(&m.Seq, &m.Sid, &m.ServiceSid, &m.ConversationSid, &m.Index, &m.Author, nullString{&m.Body},
		&m.Attributes, nullString{&m.ParticipantSid}, nullString{&m.ContentSid}, nullString{&m.Subject},
		seconds{&m.DateCreated}, seconds{&m.DateUpdated}, nullString{&m.Delivery}, jsonList[parley.MediaRef]{&m.Media})
	return m, err
}

func (t *Tx) MessageBySid(ctx context.Context, conversationSid, sid string) (parley.Message, error) {
	return get(t, ctx, scanMessage, "SELECT "+messageCols+" FROM messages WHERE sid = ? AND conversation_sid = ?",
		sid, conversationSid)
}

// ListMessages pages by index, on the unique (conversation_sid, idx)
// index that the index's uniqueness needs anyway: a second index on
// (conversation_sid, seq) cost every send a page write more (migration
// 0010).
func (t *Tx) ListMessages(ctx context.Context, conversationSid string, q parley.PageQuery) (parley.Page[parley.Message], error) {
	return page(t, ctx, messageCols, "FROM messages WHERE conversation_sid = ?", []any{conversationSid}, q, scanMessage,
		messagesByIndex)
}

var messagesByIndex = order[parley.Message]{seq: "idx", shift: 1, seqOf: func(m parley.Message) int64 { return m.Index + 1 }}

func (t *Tx) NextMessageIndex(ctx context.Context, conversationSid string) (int64, error) {
	var next int64
	err := t.c.QueryRow(ctx, t.d.rebind(`UPDATE conversations SET last_message_index = COALESCE(last_message_index, -1) + 1
		WHERE sid = ? RETURNING last_message_index`), conversationSid).Scan(&next)
	if err != nil {
		return 0, t.d.mapError(err, false)
	}
	return next, nil
}

func (t *Tx) RaiseMessageIndex(ctx context.Context, conversationSid string, to int64) error {
	return t.execOne(ctx, false, `UPDATE conversations SET last_message_index =
		CASE WHEN COALESCE(last_message_index, -1) < ? THEN ? ELSE last_message_index END WHERE sid = ?`,
		to, to, conversationSid)
}

func (t *Tx) CountMessages(ctx context.Context, conversationSid string) (int64, error) {
	return count(t, ctx, `SELECT COUNT(*) FROM messages WHERE conversation_sid = ?`, conversationSid)
}

func (t *Tx) CreateMessage(ctx context.Context, m parley.Message) error {
	_, err := t.exec(ctx, false, `INSERT INTO messages (sid, service_sid, conversation_sid, idx, author, body, attributes,
		participant_sid, content_sid, subject, date_created, date_updated, delivery, media)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Sid, m.ServiceSid, m.ConversationSid, m.Index, m.Author, m.Body, m.Attributes, m.ParticipantSid, m.ContentSid,
		m.Subject, t.d.Seconds(m.DateCreated), t.d.Seconds(m.DateUpdated), m.Delivery, listArg(m.Media))
	return err
}

func (t *Tx) UpdateMessage(ctx context.Context, m parley.Message) error {
	return t.execOne(ctx, false, `UPDATE messages SET author = ?, body = ?, attributes = ?, participant_sid = ?,
		content_sid = ?, subject = ?, date_created = ?, date_updated = ?, delivery = ? WHERE sid = ?`,
		m.Author, m.Body, m.Attributes, m.ParticipantSid, m.ContentSid, m.Subject,
		t.d.Seconds(m.DateCreated), t.d.Seconds(m.DateUpdated), m.Delivery, m.Sid)
}

func (t *Tx) DeleteMessage(ctx context.Context, conversationSid, sid string) error {
	return t.execOne(ctx, true, "DELETE FROM messages WHERE sid = ? AND conversation_sid = ?", sid, conversationSid)
}

// ---- Receipts

const receiptCols = `seq, sid, service_sid, conversation_sid, message_sid, participant_sid, channel_message_sid,
	status, error_code, date_created, date_updated`

func scanReceipt(s scanner) (parley.Receipt, error) {
	var r parley.Receipt
	err := s.Scan(&r.Seq, &r.Sid, &r.ServiceSid, &r.ConversationSid, &r.MessageSid, &r.ParticipantSid,
		&r.ChannelMessageSid, &r.Status, &r.ErrorCode, seconds{&r.DateCreated}, seconds{&r.DateUpdated})
	return r, err
}

func (t *Tx) PutReceipt(ctx context.Context, r parley.Receipt) error {
	_, err := t.exec(ctx, false, `INSERT INTO receipts (sid, service_sid, conversation_sid, message_sid, participant_sid,
		channel_message_sid, status, error_code, date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (message_sid, participant_sid) DO UPDATE SET status = excluded.status,
		error_code = excluded.error_code, date_updated = excluded.date_updated`,
		r.Sid, r.ServiceSid, r.ConversationSid, r.MessageSid, r.ParticipantSid, r.ChannelMessageSid, r.Status, r.ErrorCode,
		t.d.Seconds(r.DateCreated), t.d.Seconds(r.DateUpdated))
	return err
}

func (t *Tx) ReceiptBySid(ctx context.Context, messageSid, sid string) (parley.Receipt, error) {
	return get(t, ctx, scanReceipt, "SELECT "+receiptCols+" FROM receipts WHERE sid = ? AND message_sid = ?", sid, messageSid)
}

func (t *Tx) Receipts(ctx context.Context, messageSid string) ([]parley.Receipt, error) {
	return list(t, ctx, scanReceipt, "SELECT "+receiptCols+" FROM receipts WHERE message_sid = ? ORDER BY seq", messageSid)
}

func (t *Tx) ListReceipts(ctx context.Context, messageSid string, q parley.PageQuery) (parley.Page[parley.Receipt], error) {
	return page(t, ctx, receiptCols, "FROM receipts WHERE message_sid = ?", []any{messageSid}, q, scanReceipt,
		bySeq(func(r parley.Receipt) int64 { return r.Seq }))
}
