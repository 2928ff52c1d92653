package storetest

import (
	"context"
	"testing"

	"github.com/parleyhq/parley"
)

func newConversationWebhook(c parley.Conversation) parley.ConversationWebhook {
	return parley.ConversationWebhook{Sid: sid(parley.PrefixWebhook), ServiceSid: c.ServiceSid, ConversationSid: c.Sid,
		Target: "webhook", URL: ptr("https://bot.test/hook"), Method: ptr("post"),
		Filters: []string{"onMessageAdded", "onParticipantAdded"}, Triggers: []string{"help"},
		FlowSid: ptr("FW0123456789abcdef0123456789abcdef"), DateCreated: t0, DateUpdated: t0}
}

func createConversationWebhooks(t testing.TB, s parley.Store, ws ...*parley.ConversationWebhook) {
	t.Helper()
	update(t, s, func(tx parley.Tx) error {
		for _, w := range ws {
			if err := tx.CreateConversationWebhook(context.Background(), *w); err != nil {
				return err
			}
		}
		return nil
	})
	for _, w := range ws {
		*w = mustView(t, s, func(tx parley.Tx) (parley.ConversationWebhook, error) {
			return tx.ConversationWebhookBySid(context.Background(), w.ConversationSid, w.Sid)
		})
	}
}

func testConversationWebhooks(t *testing.T, s parley.Store) {
	ctx := context.Background()
	f := newService(t, s, "scoped")
	c, other := newConversation(f), newConversation(f)
	createConversations(t, s, &c, &other)
	a, b := newConversationWebhook(c), newConversationWebhook(c)
	b.Target, b.URL, b.Method, b.Filters, b.Triggers, b.FlowSid = "studio", nil, nil, nil, nil, ptr("FW0123456789abcdef0123456789abcdef")
	want := []parley.ConversationWebhook{a, b}
	createConversationWebhooks(t, s, &a, &b)
	want[0].Seq, want[1].Seq = a.Seq, b.Seq
	diff(t, "stored webhooks", []parley.ConversationWebhook{a, b}, want)
	all := mustView(t, s, func(tx parley.Tx) ([]parley.ConversationWebhook, error) { return tx.ConversationWebhooks(ctx, c.Sid) })
	diff(t, "a conversation's webhooks", all, want)
	none := mustView(t, s, func(tx parley.Tx) ([]parley.ConversationWebhook, error) {
		return tx.ConversationWebhooks(ctx, other.Sid)
	})
	if len(none) != 0 {
		t.Fatalf("another conversation has %d webhooks", len(none))
	}
	_, err := view(t, s, func(tx parley.Tx) (parley.ConversationWebhook, error) {
		return tx.ConversationWebhookBySid(ctx, other.Sid, a.Sid)
	})
	wantErr(t, err, parley.ErrNotFound)
	checkPaging(t, all, func(q parley.PageQuery) (parley.Page[parley.ConversationWebhook], error) {
		return view(t, s, func(tx parley.Tx) (parley.Page[parley.ConversationWebhook], error) {
			return tx.ListConversationWebhooks(ctx, c.Sid, q)
		})
	}, func(w parley.ConversationWebhook) int64 { return w.Seq })

	a.URL, a.Method, a.Filters, a.Triggers, a.FlowSid, a.DateUpdated = ptr("https://bot.test/v2"), ptr("get"), []string{"onMessageRemoved"}, nil, nil, t0.Add(60e9)
	update(t, s, func(tx parley.Tx) error { return tx.UpdateConversationWebhook(ctx, a) })
	diff(t, "updated webhook", mustView(t, s, func(tx parley.Tx) (parley.ConversationWebhook, error) {
		return tx.ConversationWebhookBySid(ctx, c.Sid, a.Sid)
	}), a)
	update(t, s, func(tx parley.Tx) error { return tx.DeleteConversationWebhook(ctx, c.Sid, a.Sid) })
	err = s.Update(ctx, func(tx parley.Tx) error { return tx.DeleteConversationWebhook(ctx, c.Sid, a.Sid) })
	wantErr(t, err, parley.ErrNotFound)
	// Gone with the conversation.
	update(t, s, func(tx parley.Tx) error { return tx.DeleteConversation(ctx, f.svc.Sid, c.Sid) })
	left := mustView(t, s, func(tx parley.Tx) ([]parley.ConversationWebhook, error) { return tx.ConversationWebhooks(ctx, c.Sid) })
	if len(left) != 0 {
		t.Fatalf("%d webhooks outlive their conversation", len(left))
	}
}
