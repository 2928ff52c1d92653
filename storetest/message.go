package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/parleyhq/parley"
)

// newMessage is message index i of c with every field set.
func newMessage(c parley.Conversation, i int64) parley.Message {
	return parley.Message{Sid: sid(parley.PrefixMessage), ServiceSid: c.ServiceSid, ConversationSid: c.Sid, Index: i,
		Author: "alice", Body: ptr(fmt.Sprint("message ", i)), Attributes: `{"i":1}`, ParticipantSid: ptr(sid(parley.PrefixParticipant)),
		ContentSid: ptr("HX0123456789abcdef0123456789abcdef"), Subject: ptr("s"), DateCreated: t0, DateUpdated: t0.Add(1)}
}

// createMessages sends n messages to c as core does (next index, then
// insert), one transaction each, and returns them as stored.
func createMessages(t testing.TB, s parley.Store, c parley.Conversation, n int) []parley.Message {
	t.Helper()
	var out []parley.Message
	for range n {
		update(t, s, func(tx parley.Tx) error {
			i, err := tx.NextMessageIndex(context.Background(), c.Sid)
			if err != nil {
				return err
			}
			m := newMessage(c, i)
			m.DateUpdated = t0
			out = append(out, m)
			return tx.CreateMessage(context.Background(), m)
		})
	}
	for i := range out {
		out[i] = mustView(t, s, func(tx parley.Tx) (parley.Message, error) {
			return tx.MessageBySid(context.Background(), c.Sid, out[i].Sid)
		})
	}
	return out
}

func testMessages(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "messages")
	c := newConversation(f)
	other := newConversation(f)
	createConversations(t, s, &c, &other)
	if c.LastMessageIndex != nil {
		t.Fatalf("a new conversation has last message index %d", *c.LastMessageIndex)
	}
	ms := createMessages(t, s, c, 5)
	for i, m := range ms {
		want := newMessage(c, int64(i))
		want.Seq, want.Sid, want.ParticipantSid, want.DateUpdated = m.Seq, m.Sid, m.ParticipantSid, t0
		diff(t, "stored message", m, want)
	}
	if got := getConversation(t, s, f.svc.Sid, c.Sid); got.LastMessageIndex == nil || *got.LastMessageIndex != 4 {
		t.Fatalf("last message index %v, want 4", got.LastMessageIndex)
	}
	// Another conversation counts from 0.
	if o := createMessages(t, s, other, 1)[0]; o.Index != 0 {
		t.Fatalf("first index of another conversation: %d", o.Index)
	}
	_, err := view(t, s, func(tx parley.Tx) (parley.Message, error) { return tx.MessageBySid(ctx, other.Sid, ms[0].Sid) })
	wantErr(t, err, parley.ErrNotFound)

	// Update writes every field but the index; a deleted index is not reused.
	m := ms[2]
	m.Body, m.Attributes, m.Author, m.ParticipantSid, m.ContentSid, m.Subject = nil, "{}", "system", nil, nil, nil
	m.DateUpdated = t0.Add(60e9)
	update(t, s, func(tx parley.Tx) error { return tx.UpdateMessage(ctx, m) })
	diff(t, "updated message", mustView(t, s, func(tx parley.Tx) (parley.Message, error) { return tx.MessageBySid(ctx, c.Sid, m.Sid) }), m)
	update(t, s, func(tx parley.Tx) error { return tx.DeleteMessage(ctx, c.Sid, ms[4].Sid) })
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteMessage(ctx, c.Sid, ms[4].Sid) })
	wantErr(t, err, parley.ErrNotFound)
	if next := createMessages(t, s, c, 1)[0]; next.Index != 5 {
		t.Fatalf("index after a delete: %d, want 5", next.Index)
	}
	all := mustView(t, s, func(tx parley.Tx) (parley.Page[parley.Message], error) {
		return tx.ListMessages(ctx, c.Sid, parley.PageQuery{Size: 50})
	}).Items
	var idx []int64
	for _, m := range all {
		idx = append(idx, m.Index)
	}
	if fmt.Sprint(idx) != "[0 1 2 3 5]" {
		t.Fatalf("indexes %v", idx)
	}
	for conv, want := range map[string]int64{c.Sid: 5, other.Sid: 1, sid(parley.PrefixConversation): 0} {
		if n := mustView(t, s, func(tx parley.Tx) (int64, error) { return tx.CountMessages(ctx, conv) }); n != want {
			t.Fatalf("CountMessages(%s) = %d, want %d", conv, n, want)
		}
	}
	checkPaging(t, all, func(q parley.PageQuery) (parley.Page[parley.Message], error) {
		return view(t, s, func(tx parley.Tx) (parley.Page[parley.Message], error) { return tx.ListMessages(ctx, c.Sid, q) })
	}, func(m parley.Message) int64 { return m.Index + 1 }) // messages page by index, cursors from 1

	// RaiseMessageIndex only raises: below the last index it changes
	// nothing; above, the next message follows the raised index.
	for _, to := range []int64{2, 40} {
		update(t, s, func(tx parley.Tx) error { return tx.RaiseMessageIndex(ctx, c.Sid, to) })
	}
	var next int64
	update(t, s, func(tx parley.Tx) (err error) { next, err = tx.NextMessageIndex(ctx, c.Sid); return err })
	if next != 41 {
		t.Fatalf("the index after raising to 40: %d", next)
	}
	update(t, s, func(tx parley.Tx) error { return tx.RaiseMessageIndex(ctx, c.Sid, 7) })
	if got := mustView(t, s, func(tx parley.Tx) (parley.Conversation, error) { return tx.ConversationBySid(ctx, f.svc.Sid, c.Sid) }); got.LastMessageIndex == nil || *got.LastMessageIndex != 41 {
		t.Fatalf("a raise below the last index lowered it: %v", got.LastMessageIndex)
	}

	// Gone with the conversation; a conversation that is gone has no index.
	update(t, s, func(tx parley.Tx) error { return tx.DeleteConversation(ctx, f.svc.Sid, c.Sid) })
	_, err = view(t, s, func(tx parley.Tx) (parley.Message, error) { return tx.MessageBySid(ctx, c.Sid, ms[0].Sid) })
	wantErr(t, err, parley.ErrNotFound)
	err = s.Update(ctx, func(tx parley.Tx) error { _, err := tx.NextMessageIndex(ctx, c.Sid); return err })
	wantErr(t, err, parley.ErrNotFound)
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.RaiseMessageIndex(ctx, c.Sid, 5) })
	wantErr(t, err, parley.ErrNotFound)
}

// testConcurrentSenders: many senders into one conversation get every
// index once, with no gaps, and seq follows the index.
func testConcurrentSenders(t *testing.T, s parley.Store) {
	ctx := context.Background()
	c := newConversation(newService(t, s, "senders"))
	createConversations(t, s, &c)
	const senders, each = 16, 8
	var wg sync.WaitGroup
	errs := make(chan error, senders*each)
	for range senders {
		wg.Go(func() {
			for range each {
				errs <- s.Update(ctx, func(tx parley.Tx) error {
					i, err := tx.NextMessageIndex(ctx, c.Sid)
					if err != nil {
						return err
					}
					return tx.CreateMessage(ctx, newMessage(c, i))
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	all := mustView(t, s, func(tx parley.Tx) (parley.Page[parley.Message], error) {
		return tx.ListMessages(ctx, c.Sid, parley.PageQuery{Size: senders*each + 1})
	}).Items
	if len(all) != senders*each {
		t.Fatalf("%d messages, want %d", len(all), senders*each)
	}
	for i, m := range all {
		if m.Index != int64(i) {
			t.Fatalf("message %d in seq order has index %d: seq and index disagree or an index repeats", i, m.Index)
		}
	}
}

func newReceipt(m parley.Message, participant, status string) parley.Receipt {
	return parley.Receipt{Sid: sid(parley.PrefixReceipt), ServiceSid: m.ServiceSid, ConversationSid: m.ConversationSid,
		MessageSid: m.Sid, ParticipantSid: participant, ChannelMessageSid: "SM0123456789abcdef0123456789abcdef",
		Status: status, DateCreated: t0, DateUpdated: t0}
}

func testReceipts(t *testing.T, s parley.Store) {
	ctx := context.Background()
	c := newConversation(newService(t, s, "receipts"))
	createConversations(t, s, &c)
	ms := createMessages(t, s, c, 2)
	a, b := sid(parley.PrefixParticipant), sid(parley.PrefixParticipant)
	ra, rb := newReceipt(ms[0], a, "sent"), newReceipt(ms[0], b, "failed")
	rb.ErrorCode = ptr(int64(30003))
	update(t, s, func(tx parley.Tx) error { return errors.Join(tx.PutReceipt(ctx, ra), tx.PutReceipt(ctx, rb)) })
	got := mustView(t, s, func(tx parley.Tx) ([]parley.Receipt, error) { return tx.Receipts(ctx, ms[0].Sid) })
	ra.Seq, rb.Seq = got[0].Seq, got[1].Seq
	diff(t, "receipts", got, []parley.Receipt{ra, rb})
	// A later status rewrites the pair's row; its SID and date_created stay.
	later := newReceipt(ms[0], a, "read")
	later.DateUpdated = t0.Add(60e9)
	update(t, s, func(tx parley.Tx) error { return tx.PutReceipt(ctx, later) })
	one := mustView(t, s, func(tx parley.Tx) (parley.Receipt, error) { return tx.ReceiptBySid(ctx, ms[0].Sid, ra.Sid) })
	ra.Status, ra.DateUpdated = "read", later.DateUpdated
	diff(t, "receipt after a later status", one, ra)
	_, err := view(t, s, func(tx parley.Tx) (parley.Receipt, error) { return tx.ReceiptBySid(ctx, ms[0].Sid, later.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	_, err = view(t, s, func(tx parley.Tx) (parley.Receipt, error) { return tx.ReceiptBySid(ctx, ms[1].Sid, ra.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	all := mustView(t, s, func(tx parley.Tx) ([]parley.Receipt, error) { return tx.Receipts(ctx, ms[0].Sid) })
	checkPaging(t, all, func(q parley.PageQuery) (parley.Page[parley.Receipt], error) {
		return view(t, s, func(tx parley.Tx) (parley.Page[parley.Receipt], error) { return tx.ListReceipts(ctx, ms[0].Sid, q) })
	}, func(r parley.Receipt) int64 { return r.Seq })

	// The aggregate is kept on the message.
	m := ms[0]
	m.Delivery = ptr(`{"total":2}`)
	update(t, s, func(tx parley.Tx) error { return tx.UpdateMessage(ctx, m) })
	if got := mustView(t, s, func(tx parley.Tx) (parley.Message, error) { return tx.MessageBySid(ctx, c.Sid, m.Sid) }); got.Delivery == nil || *got.Delivery != `{"total":2}` {
		t.Fatalf("delivery %v", got.Delivery)
	}
	// Receipts go with their message; a receipt of a deleted message is
	// dangling.
	update(t, s, func(tx parley.Tx) error { return tx.DeleteMessage(ctx, c.Sid, m.Sid) })
	if n := mustView(t, s, func(tx parley.Tx) ([]parley.Receipt, error) { return tx.Receipts(ctx, m.Sid) }); len(n) != 0 {
		t.Fatalf("%d receipts outlive their message", len(n))
	}
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.PutReceipt(ctx, newReceipt(m, a, "sent")) })
	wantErr(t, err, parley.ErrDangling)
}
