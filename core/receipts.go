package core

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/parleyhq/parley"
)

// receiptStatuses are the statuses a receipt can carry, in the order a
// message moves through them when all goes well.
var receiptStatuses = []string{"sent", "delivered", "read", "failed", "undelivered"}

// ReceiptInput is an injected delivery status (parley's emulator control:
// decision 14, parley has no carriers).
type ReceiptInput struct {
	ParticipantSid string
	Status         string
	ErrorCode      *int64
}

// InjectReceipt records that a message reached (or failed to reach) a
// non-chat participant, as a carrier's status callback would: the latest
// status per (message, participant) is kept, the message's delivery
// aggregate follows, and onDeliveryUpdated is sent (always: it is not a
// REST action). Statuses may arrive after a conversation closed.
func (a *App) InjectReceipt(ctx context.Context, svc, convKey, messageSid string, in ReceiptInput) (parley.Receipt, error) {
	status := strings.ToLower(in.Status)
	switch {
	case !slices.Contains(receiptStatuses, status):
		return parley.Receipt{}, parley.InvalidParam("Invalid Status %q: must be one of %s", in.Status, strings.Join(receiptStatuses, ", "))
	case in.ErrorCode != nil && status != "failed" && status != "undelivered":
		return parley.Receipt{}, parley.InvalidParam("Invalid ErrorCode: only a failed or undelivered status carries one")
	case !parley.IsSID(parley.PrefixParticipant, in.ParticipantSid):
		return parley.Receipt{}, parley.InvalidParam("Invalid ParticipantSid %q", in.ParticipantSid)
	}
	var r parley.Receipt
	err := a.update(ctx, func(tx parley.Tx, ev *events) error {
		d, err := findMessage(ctx, tx.ForShare(), tx.ForUpdate(), svc, convKey, messageSid)
		if err != nil {
			return err
		}
		p, err := tx.ParticipantBySid(ctx, d.c.Sid, in.ParticipantSid)
		if err != nil || p.IsChat() {
			return parley.InvalidParam("Invalid ParticipantSid: %s is not a non-chat participant of %s", in.ParticipantSid, d.c.Sid)
		}
		now := a.clock()
		r = parley.Receipt{Sid: a.sids.New(parley.PrefixReceipt), ServiceSid: d.c.ServiceSid, ConversationSid: d.c.Sid,
			MessageSid: d.m.Sid, ParticipantSid: p.Sid, ChannelMessageSid: channelMessageSid(d.m.Sid, p.Sid),
			Status: status, ErrorCode: in.ErrorCode, DateCreated: now, DateUpdated: now}
		if err := tx.PutReceipt(ctx, r); err != nil {
			return notFound(err)
		}
		all, err := tx.Receipts(ctx, d.m.Sid)
		if err != nil {
			return err
		}
		for _, got := range all {
			if got.ParticipantSid == p.Sid {
				r = got // the row kept: its SID and date_created
			}
		}
		m := d.m
		m.Delivery = deliverySummary(all)
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return notFound(err)
		}
		ev.add(parley.Event{Type: parley.EventDeliveryUpdated, ServiceSid: r.ServiceSid, Source: parley.SourceAPI, At: now,
			Webhooks: true, Receipt: &r, Message: &m, Conversation: &d.c})
		return nil
	})
	return r, err
}

// channelMessageSid is the carrier's message SID a receipt shows: stable
// per (message, participant), shaped like Twilio's SM SIDs.
func channelMessageSid(message, participant string) string {
	return "SM" + message[2:18] + participant[2:18]
}

// deliverySummary is a message's delivery aggregate: of its receipts, how
// many have been sent (or gone further), delivered (or read), read,
// failed, undelivered, as "all", "some" or "none" (Twilio's values).
func deliverySummary(rs []parley.Receipt) *string {
	if len(rs) == 0 {
		return nil
	}
	reached := map[string][]string{
		"sent": {"sent", "delivered", "read"}, "delivered": {"delivered", "read"}, "read": {"read"},
		"failed": {"failed"}, "undelivered": {"undelivered"},
	}
	word := func(status string) string {
		n := 0
		for _, r := range rs {
			if slices.Contains(reached[status], r.Status) {
				n++
			}
		}
		switch n {
		case 0:
			return "none"
		case len(rs):
			return "all"
		}
		return "some"
	}
	b, _ := json.Marshal(struct {
		Total       int    `json:"total"`
		Sent        string `json:"sent"`
		Delivered   string `json:"delivered"`
		Read        string `json:"read"`
		Failed      string `json:"failed"`
		Undelivered string `json:"undelivered"`
	}{len(rs), word("sent"), word("delivered"), word("read"), word("failed"), word("undelivered")})
	s := string(b)
	return &s
}

// FetchReceipt returns one receipt of a message.
func (a *App) FetchReceipt(ctx context.Context, svc, convKey, messageSid, sid string) (parley.Receipt, error) {
	return read(ctx, a, func(tx parley.Tx) (parley.Receipt, error) {
		d, err := findMessage(ctx, tx, tx, svc, convKey, messageSid)
		if err != nil {
			return parley.Receipt{}, err
		}
		if !parley.IsSID(parley.PrefixReceipt, sid) {
			return parley.Receipt{}, parley.NotFound()
		}
		return found(tx.ReceiptBySid(ctx, d.m.Sid, sid))
	})
}

// ListReceipts returns one page of a message's receipts.
func (a *App) ListReceipts(ctx context.Context, svc, convKey, messageSid string, q parley.PageQuery) (parley.Page[parley.Receipt], error) {
	return read(ctx, a, func(tx parley.Tx) (parley.Page[parley.Receipt], error) {
		d, err := findMessage(ctx, tx, tx, svc, convKey, messageSid)
		if err != nil {
			return parley.Page[parley.Receipt]{}, err
		}
		return tx.ListReceipts(ctx, d.m.Sid, q)
	})
}
