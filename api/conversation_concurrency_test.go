package api_test

import (
	"fmt"
	"testing"

	"github.com/parleyhq/parley/parleytest"
)

// TestConcurrentConversationWrites: partial updates of a conversation and
// of a participant keep every change; contested unique names, identities
// and address pairs go to exactly one writer, the others get Twilio's 409.
func TestConcurrentConversationWrites(t *testing.T) {
	t.Parallel()
	c := rawClient{t: t, srv: parleytest.New(t)}
	for i := range rounds {
		ch := c.must("POST", "/v1/Conversations", "", 201)["sid"].(string)
		conv := "/v1/Conversations/" + ch
		for _, r := range c.together(
			[3]string{"POST", conv, "FriendlyName=Named"},
			[3]string{"POST", conv, "Attributes=%7B%22a%22%3A1%7D"},
			[3]string{"POST", conv, fmt.Sprint("UniqueName=room-", i)},
			[3]string{"POST", conv, "Timers.Closed=PT1H"},
		) {
			if r.status != 200 {
				t.Fatalf("round %d: %d %s", i, r.status, r.raw)
			}
		}
		got := c.must("GET", conv, "", 200)
		if got["friendly_name"] != "Named" || got["attributes"] != `{"a":1}` || got["unique_name"] != fmt.Sprint("room-", i) ||
			got["timers"].(map[string]any)["date_closed"] == nil {
			t.Fatalf("round %d: a concurrent conversation change was lost: %v", i, got)
		}

		p := c.must("POST", conv+"/Participants", "Identity=p", 201)["sid"].(string)
		c.together(
			[3]string{"POST", conv + "/Participants/" + p, "Attributes=%7B%22b%22%3A2%7D"},
			[3]string{"POST", conv + "/Participants/" + p, "LastReadMessageIndex=4"},
			[3]string{"POST", conv + "/Participants/" + p, "LastReadTimestamp=t"},
		)
		part := c.must("GET", conv+"/Participants/"+p, "", 200)
		if part["attributes"] != `{"b":2}` || part["last_read_message_index"] != 4.0 || part["last_read_timestamp"] != "t" {
			t.Fatalf("round %d: a concurrent participant change was lost: %v", i, part)
		}

		// Contested: one unique name, one identity (a new user each time),
		// one address pair.
		for _, contest := range []struct {
			what, path, form string
			code             float64
		}{
			{"unique name", "/v1/Conversations", fmt.Sprint("UniqueName=contested-", i), 50353},
			{"identity", conv + "/Participants", fmt.Sprint("Identity=contested-", i), 50433},
			{"pair", conv + "/Participants", fmt.Sprintf("MessagingBinding.Address=%%2B1555000%04d&MessagingBinding.ProxyAddress=%%2B15559990000", i), 50416},
		} {
			var reqs [][3]string
			for range 6 {
				reqs = append(reqs, [3]string{"POST", contest.path, contest.form})
			}
			created := 0
			for _, r := range c.together(reqs...) {
				switch {
				case r.status == 201:
					created++
				case r.status == 409 && r.body["code"] == contest.code:
				default:
					t.Fatalf("round %d: contested %s: %d %s", i, contest.what, r.status, r.raw)
				}
			}
			if created != 1 {
				t.Fatalf("round %d: contested %s: %d creates succeeded, want 1", i, contest.what, created)
			}
		}
		// The pair is held across conversations too.
		other := c.must("POST", "/v1/Conversations", "", 201)["sid"].(string)
		c.must("POST", "/v1/Conversations/"+other+"/Participants",
			fmt.Sprintf("MessagingBinding.Address=%%2B1555000%04d&MessagingBinding.ProxyAddress=%%2B15559990000", i), 409)
	}
}

// TestParticipantWritesRacingConversationDelete: adds, updates and
// removals of participants racing their conversation's delete or close
// succeed or get Twilio's 404 or 50377, never a 500, and leave no
// participant behind in a deleted conversation.
func TestParticipantWritesRacingConversationDelete(t *testing.T) {
	t.Parallel()
	c := rawClient{t: t, srv: parleytest.New(t)}
	for i := range rounds {
		ch := c.must("POST", "/v1/Conversations", "", 201)["sid"].(string)
		conv := "/v1/Conversations/" + ch
		c.must("POST", conv+"/Participants", "Identity=old", 201)
		closing := c.must("POST", "/v1/Conversations", "", 201)["sid"].(string)
		closingPath := "/v1/Conversations/" + closing
		c.must("POST", closingPath+"/Participants", "Identity=old", 201)
		replies := c.together(
			[3]string{"POST", conv + "/Participants", fmt.Sprint("Identity=late-", i)},
			[3]string{"POST", conv + "/Participants", fmt.Sprintf("MessagingBinding.Address=%%2B1555100%04d", i)},
			[3]string{"POST", conv + "/Participants/old", "Attributes=%7B%7D"},
			[3]string{"DELETE", conv + "/Participants/old", ""},
			[3]string{"POST", closingPath + "/Participants", fmt.Sprint("Identity=late-", i)},
			[3]string{"POST", closingPath + "/Participants/old", "Attributes=%7B%7D"},
			[3]string{"DELETE", conv, ""},
			[3]string{"POST", closingPath, "State=closed"},
		)
		for j, r := range replies[:4] {
			wantOneOf(t, fmt.Sprintf("round %d: write %d in a conversation being deleted", i, j), r, []int{200, 201, 204, 404}, 20404)
		}
		for j, r := range replies[4:6] {
			wantOneOf(t, fmt.Sprintf("round %d: write %d in a conversation being closed", i, j), r, []int{200, 201, 400}, 50377)
		}
		wantOneOf(t, "delete", replies[6], []int{204})
		wantOneOf(t, "close", replies[7], []int{200})
		c.must("GET", conv+"/Participants", "", 404)
	}
}

// TestConcurrentMessageWrites: partial edits of a message and of a
// conversation webhook keep every change, and receipts injected at once
// for different participants all count in the message's delivery.
func TestConcurrentMessageWrites(t *testing.T) {
	t.Parallel()
	c := rawClient{t: t, srv: parleytest.New(t)}
	ch := c.must("POST", "/v1/Conversations", "", 201)["sid"].(string)
	conv := "/v1/Conversations/" + ch
	a := c.must("POST", conv+"/Participants", "MessagingBinding.Address=%2B15551230001", 201)["sid"].(string)
	b := c.must("POST", conv+"/Participants", "MessagingBinding.Address=%2B15551230002", 201)["sid"].(string)
	for i := range rounds {
		m := c.must("POST", conv+"/Messages", "Body=first", 201)["sid"].(string)
		for _, r := range c.together(
			[3]string{"POST", conv + "/Messages/" + m, "Body=edited"},
			[3]string{"POST", conv + "/Messages/" + m, "Attributes=%7B%22e%22%3A1%7D"},
			[3]string{"POST", conv + "/Messages/" + m, "Author=someone"},
			[3]string{"POST", "/parley/v1" + conv[3:] + "/Messages/" + m + "/Receipts", "ParticipantSid=" + a + "&Status=read"},
			[3]string{"POST", "/parley/v1" + conv[3:] + "/Messages/" + m + "/Receipts", "ParticipantSid=" + b + "&Status=delivered"},
		) {
			if r.status != 200 && r.status != 201 {
				t.Fatalf("round %d: %d %s", i, r.status, r.raw)
			}
		}
		got := c.must("GET", conv+"/Messages/"+m, "", 200)
		d, _ := got["delivery"].(map[string]any)
		if got["body"] != "edited" || got["attributes"] != `{"e":1}` || got["author"] != "someone" ||
			d["total"] != 2.0 || d["delivered"] != "all" || d["read"] != "some" {
			t.Fatalf("round %d: a concurrent message change was lost: %v", i, got)
		}

		w := c.must("POST", conv+"/Webhooks", "Target=webhook&Configuration.Url=https%3A%2F%2Fa.test%2F&Configuration.Filters=onMessageAdded", 201)["sid"].(string)
		c.together(
			[3]string{"POST", conv + "/Webhooks/" + w, "Configuration.Url=https%3A%2F%2Fb.test%2F"},
			[3]string{"POST", conv + "/Webhooks/" + w, "Configuration.Method=GET"},
			[3]string{"POST", conv + "/Webhooks/" + w, "Configuration.Filters=onMessageRemoved"},
		)
		cfg := c.must("GET", conv+"/Webhooks/"+w, "", 200)["configuration"].(map[string]any)
		if cfg["url"] != "https://b.test/" || cfg["method"] != "get" || fmt.Sprint(cfg["filters"]) != "[onMessageRemoved]" {
			t.Fatalf("round %d: a concurrent webhook change was lost: %v", i, cfg)
		}
		c.must("DELETE", conv+"/Webhooks/"+w, "", 204)
	}
}

// TestMessageWritesRacingConversationDelete: sends, edits, deletes,
// receipts and webhook writes racing their conversation's delete succeed
// or get Twilio's 404, never a 500, and leave nothing behind.
func TestMessageWritesRacingConversationDelete(t *testing.T) {
	t.Parallel()
	c := rawClient{t: t, srv: parleytest.New(t)}
	for i := range rounds {
		ch := c.must("POST", "/v1/Conversations", "", 201)["sid"].(string)
		conv := "/v1/Conversations/" + ch
		p := c.must("POST", conv+"/Participants", "MessagingBinding.Address=%2B15551230001", 201)["sid"].(string)
		m := c.must("POST", conv+"/Messages", "Body=old", 201)["sid"].(string)
		w := c.must("POST", conv+"/Webhooks", "Target=studio&Configuration.FlowSid=FW0123456789abcdef0123456789abcdef", 201)["sid"].(string)
		replies := c.together(
			[3]string{"POST", conv + "/Messages", "Body=late"},
			[3]string{"POST", conv + "/Messages/" + m, "Body=edit"},
			[3]string{"DELETE", conv + "/Messages/" + m, ""},
			[3]string{"POST", "/parley/v1" + conv[3:] + "/Messages/" + m + "/Receipts", "ParticipantSid=" + p + "&Status=sent"},
			[3]string{"POST", conv + "/Webhooks", "Target=studio&Configuration.FlowSid=FW0123456789abcdef0123456789abcdef"},
			[3]string{"POST", conv + "/Webhooks/" + w, "Configuration.FlowSid=FW00000000000000000000000000000001"},
			[3]string{"DELETE", conv, ""},
		)
		for j, r := range replies[:6] {
			// A receipt for a message deleted by the racing delete reads as
			// an unknown message (404) too.
			wantOneOf(t, fmt.Sprintf("round %d: write %d racing the conversation's delete", i, j), r, []int{200, 201, 204, 404}, 20404)
		}
		wantOneOf(t, "delete", replies[6], []int{204})
		c.must("GET", conv+"/Messages", "", 404)
		c.must("GET", conv+"/Webhooks", "", 404)
	}
}

// TestConcurrentMediaWrites: media sent by several messages at once goes
// to exactly one (the others get 50508); a message carrying media racing
// its conversation's delete, and an upload racing its service's delete,
// succeed or get a 404, never a 500, and leave no media behind in what
// was deleted.
func TestConcurrentMediaWrites(t *testing.T) {
	t.Parallel()
	c := rawClient{t: t, srv: parleytest.New(t)}
	is := c.srv.DefaultServiceSid
	for i := range rounds {
		me := c.must(uploadMethod, "/v1/Services/"+is+"/Media", "\x89PNG", 201)["sid"].(string)
		a := c.must("POST", "/v1/Conversations", "", 201)["sid"].(string)
		b := c.must("POST", "/v1/Conversations", "", 201)["sid"].(string)
		var reqs [][3]string
		for j := range 6 {
			conv := []string{a, b}[j%2]
			reqs = append(reqs, [3]string{"POST", "/v1/Conversations/" + conv + "/Messages", "MediaSid=" + me})
		}
		sent := 0
		for _, r := range c.together(reqs...) {
			switch {
			case r.status == 201:
				sent++
			case r.status == 400 && r.body["code"] == 50508.0:
			default:
				t.Fatalf("round %d: contested media: %d %s", i, r.status, r.raw)
			}
		}
		if sent != 1 {
			t.Fatalf("round %d: %d messages carry one media, want 1", i, sent)
		}

		// A message with media racing its conversation's delete.
		me = c.must(uploadMethod, "/v1/Services/"+is+"/Media", "\x89PNG", 201)["sid"].(string)
		replies := c.together(
			[3]string{"POST", "/v1/Conversations/" + a + "/Messages", "MediaSid=" + me},
			[3]string{"DELETE", "/v1/Conversations/" + a, ""},
		)
		wantOneOf(t, fmt.Sprintf("round %d: media message racing the delete", i), replies[0], []int{201, 404}, 20404)
		wantOneOf(t, "delete", replies[1], []int{204})
		// Sent, it went with the conversation; not sent, it is still free.
		media := c.do("GET", "/v1/Services/"+is+"/Media/"+me, "")
		if (replies[0].status == 201) != (media.status == 404) || (media.status == 200 && media.body["message_sid"] != nil) {
			t.Fatalf("round %d: message %d, then media %d %s", i, replies[0].status, media.status, media.raw)
		}

		// An upload racing its service's delete.
		svc := c.must("POST", "/v1/Services", "FriendlyName=doomed", 201)["sid"].(string)
		replies = c.together(
			[3]string{uploadMethod, "/v1/Services/" + svc + "/Media", "\x89PNG"},
			[3]string{"DELETE", "/v1/Services/" + svc, ""},
		)
		wantOneOf(t, fmt.Sprintf("round %d: upload racing the service's delete", i), replies[0], []int{201, 404}, 20404)
		wantOneOf(t, "delete", replies[1], []int{204})
		if replies[0].status == 201 {
			c.must("GET", "/v1/Services/"+svc+"/Media/"+replies[0].body["sid"].(string), "", 404)
		}
	}
}
