package parleytest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
	conversations "github.com/twilio/twilio-go/rest/conversations/v1"
)

// TestSDKConversationsAccountScope drives every Conversations,
// Participants, ConversationWithParticipants, UserConversations and
// ParticipantConversations operation of the shortened (default service)
// URLs through twilio-go, by SID and by unique name or identity.
func TestSDKConversationsAccountScope(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := srv.Client().ConversationsV1
	mustConv := must[*conversations.ConversationsV1Conversation](t)
	mustPart := must[*conversations.ConversationsV1ConversationParticipant](t)

	conv := mustConv(c.CreateConversation((&conversations.CreateConversationParams{}).
		SetFriendlyName("Support").SetUniqueName("support-1").SetAttributes(`{"topic":"billing"}`).
		SetTimersInactive("PT5M").SetTimersClosed("PT1H").SetXTwilioWebhookEnabled("true")))
	if *conv.ChatServiceSid != srv.DefaultServiceSid || *conv.State != "active" || *conv.UniqueName != "support-1" ||
		*conv.Attributes != `{"topic":"billing"}` || conv.MessagingServiceSid != nil {
		t.Fatalf("created %+v", conv)
	}
	timers := (*conv.Timers).(map[string]any)
	inactive, _ := time.Parse(time.RFC3339, timers["date_inactive"].(string))
	if got := inactive.Sub(*conv.DateUpdated); got != 5*time.Minute {
		t.Fatalf("date_inactive %v after date_updated, want 5m: %v", got, timers)
	}
	byName := mustConv(c.FetchConversation("support-1"))
	if *byName.Sid != *conv.Sid || (*byName.Links)["participants"] != srv.URL+"/v1/Conversations/"+*conv.Sid+"/Participants" {
		t.Fatalf("fetched by unique name %+v", byName)
	}
	upd := mustConv(c.UpdateConversation("support-1", (&conversations.UpdateConversationParams{}).
		SetFriendlyName("Support (VIP)").SetState("inactive").SetTimersInactive("PT0S")))
	if *upd.FriendlyName != "Support (VIP)" || *upd.State != "inactive" {
		t.Fatalf("updated %+v", upd)
	}
	if _, err := c.CreateConversation((&conversations.CreateConversationParams{}).SetUniqueName("support-1")); err == nil {
		t.Fatal("a second conversation took the unique name")
	} else {
		restError(t, err, 409, 50353)
	}
	_, err := c.CreateConversation((&conversations.CreateConversationParams{}).SetTimersInactive("PT30S"))
	restError(t, err, 400, 50375)

	// Participants: chat (by identity) and SMS.
	alice := mustPart(c.CreateConversationParticipant("support-1", (&conversations.CreateConversationParticipantParams{}).
		SetIdentity("alice").SetAttributes(`{"vip":true}`)))
	if *alice.Identity != "alice" || alice.MessagingBinding != nil || alice.RoleSid == nil || *alice.ConversationSid != *conv.Sid {
		t.Fatalf("chat participant %+v", alice)
	}
	smsP := mustPart(c.CreateConversationParticipant(*conv.Sid, (&conversations.CreateConversationParticipantParams{}).
		SetMessagingBindingAddress("+15551230001").SetMessagingBindingProxyAddress("+15559870001")))
	binding := (*smsP.MessagingBinding).(map[string]any)
	if smsP.Identity != nil || smsP.RoleSid != nil || binding["type"] != "sms" || binding["address"] != "+15551230001" || binding["proxy_address"] != "+15559870001" {
		t.Fatalf("sms participant %+v %v", smsP, binding)
	}
	// Adding woke the conversation.
	if got := mustConv(c.FetchConversation(*conv.Sid)); *got.State != "active" {
		t.Fatalf("state after adding: %s", *got.State)
	}
	_, err = c.CreateConversationParticipant(*conv.Sid, (&conversations.CreateConversationParticipantParams{}).SetIdentity("alice"))
	restError(t, err, 409, 50433)
	other := mustConv(c.CreateConversation(&conversations.CreateConversationParams{}))
	_, err = c.CreateConversationParticipant(*other.Sid, (&conversations.CreateConversationParticipantParams{}).
		SetMessagingBindingAddress("+15551230001").SetMessagingBindingProxyAddress("+15559870001"))
	restError(t, err, 409, 50416)

	got := mustPart(c.FetchConversationParticipant("support-1", "alice"))
	if *got.Sid != *alice.Sid {
		t.Fatalf("fetched by identity %+v", got)
	}
	got = mustPart(c.UpdateConversationParticipant(*conv.Sid, *alice.Sid, (&conversations.UpdateConversationParticipantParams{}).
		SetLastReadMessageIndex(3).SetLastReadTimestamp("2026-01-01T00:00:00Z").SetAttributes("{}")))
	if *got.LastReadMessageIndex != 3 || *got.LastReadTimestamp != "2026-01-01T00:00:00Z" || *got.Attributes != "{}" {
		t.Fatalf("updated participant %+v", got)
	}
	parts := must[[]conversations.ConversationsV1ConversationParticipant](t)(c.ListConversationParticipant("support-1", nil))
	if len(parts) != 2 || *parts[0].Sid != *alice.Sid || *parts[1].Sid != *smsP.Sid {
		t.Fatalf("listed %d participants", len(parts))
	}

	// The user's view.
	ucs := must[[]conversations.ConversationsV1UserConversation](t)(c.ListUserConversation("alice", nil))
	if len(ucs) != 1 || *ucs[0].ConversationSid != *conv.Sid || *ucs[0].ParticipantSid != *alice.Sid ||
		*ucs[0].NotificationLevel != "default" || *ucs[0].LastReadMessageIndex != 3 || ucs[0].UnreadMessagesCount == nil || *ucs[0].UnreadMessagesCount != 0 {
		t.Fatalf("user conversations %+v", ucs)
	}
	uc := must[*conversations.ConversationsV1UserConversation](t)(c.UpdateUserConversation("alice", "support-1",
		(&conversations.UpdateUserConversationParams{}).SetNotificationLevel("muted").SetLastReadMessageIndex(5)))
	if *uc.NotificationLevel != "muted" || *uc.LastReadMessageIndex != 5 || *uc.UniqueName != "support-1" {
		t.Fatalf("updated user conversation %+v", uc)
	}
	uc = must[*conversations.ConversationsV1UserConversation](t)(c.FetchUserConversation(*alice.Identity, *conv.Sid))
	if *uc.NotificationLevel != "muted" {
		t.Fatalf("fetched user conversation %+v", uc)
	}
	pcs := must[[]conversations.ConversationsV1ParticipantConversation](t)(c.ListParticipantConversation(
		(&conversations.ListParticipantConversationParams{}).SetAddress("+15551230001")))
	if len(pcs) != 1 || *pcs[0].ConversationSid != *conv.Sid || *pcs[0].ParticipantSid != *smsP.Sid || *pcs[0].ConversationState != "active" {
		t.Fatalf("participant conversations %+v", pcs)
	}
	_, err = c.ListParticipantConversation((&conversations.ListParticipantConversationParams{}).SetAddress("+1").SetIdentity("a"))
	restError(t, err, 400, 50451)

	// ConversationWithParticipants.
	cwp := must[*conversations.ConversationsV1ConversationWithParticipants](t)(c.CreateConversationWithParticipants(
		(&conversations.CreateConversationWithParticipantsParams{}).SetFriendlyName("Team").
			SetParticipant([]string{`{"identity":"alice"}`, `{"identity":"bob"}`})))
	if *cwp.State != "active" || *cwp.FriendlyName != "Team" {
		t.Fatalf("conversation with participants %+v", cwp)
	}
	_, err = c.CreateConversationWithParticipants((&conversations.CreateConversationWithParticipantsParams{}).SetParticipant([]string{"nope"}))
	restError(t, err, 400, 50424)

	// Leaving, deleting, and lists with filters.
	if err := c.DeleteUserConversation("bob", *cwp.Sid); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteConversationParticipant(*conv.Sid, *smsP.Sid, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchConversationParticipant(*conv.Sid, *smsP.Sid)
	restError(t, err, 404, 20404)
	all := must[[]conversations.ConversationsV1Conversation](t)(c.ListConversation((&conversations.ListConversationParams{}).SetPageSize(1)))
	if len(all) != 3 || *all[0].Sid != *conv.Sid || *all[2].Sid != *cwp.Sid {
		t.Fatalf("listed %d conversations", len(all))
	}
	mustConv(c.UpdateConversation(*other.Sid, (&conversations.UpdateConversationParams{}).SetState("closed")))
	closed := must[[]conversations.ConversationsV1Conversation](t)(c.ListConversation((&conversations.ListConversationParams{}).SetState("closed")))
	if len(closed) != 1 || *closed[0].Sid != *other.Sid {
		t.Fatalf("closed conversations %d", len(closed))
	}
	_, err = c.UpdateConversation(*other.Sid, (&conversations.UpdateConversationParams{}).SetFriendlyName("x"))
	restError(t, err, 400, 50377)
	today := time.Now().UTC().Format(time.DateOnly)
	dated := must[[]conversations.ConversationsV1Conversation](t)(c.ListConversation((&conversations.ListConversationParams{}).SetStartDate(today)))
	if len(dated) != 3 || *dated[0].Sid != *cwp.Sid { // newest first
		t.Fatalf("conversations since today: %d", len(dated))
	}
	if err := c.DeleteConversation("support-1", nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchConversation(*conv.Sid)
	restError(t, err, 404, 20404)
}

// TestSDKConversationsServiceScope drives the service-scoped twins in a
// service of their own.
func TestSDKConversationsServiceScope(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := srv.Client().ConversationsV1
	is := *must[*conversations.ConversationsV1Service](t)(c.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("own"))).Sid
	mustConv := must[*conversations.ConversationsV1ServiceConversation](t)
	mustPart := must[*conversations.ConversationsV1ServiceConversationParticipant](t)

	conv := mustConv(c.CreateServiceConversation(is, (&conversations.CreateServiceConversationParams{}).SetUniqueName("room")))
	if *conv.ChatServiceSid != is || *conv.Url != srv.URL+"/v1/Services/"+is+"/Conversations/"+*conv.Sid {
		t.Fatalf("created %+v", conv)
	}
	if _, err := c.FetchConversation("room"); err == nil {
		t.Fatal("a conversation of another service was found on the default one")
	}
	mustConv(c.FetchServiceConversation(is, "room"))
	mustConv(c.UpdateServiceConversation(is, "room", (&conversations.UpdateServiceConversationParams{}).SetAttributes(`{"a":1}`)))
	p := mustPart(c.CreateServiceConversationParticipant(is, "room", (&conversations.CreateServiceConversationParticipantParams{}).SetIdentity("carol")))
	if *p.ChatServiceSid != is || *p.Identity != "carol" {
		t.Fatalf("participant %+v", p)
	}
	user := must[*conversations.ConversationsV1ServiceUser](t)(c.FetchServiceUser(is, "carol"))
	cfg := must[*conversations.ConversationsV1ServiceConfiguration](t)(c.FetchServiceConfiguration(is))
	if *user.RoleSid != *cfg.DefaultChatServiceRoleSid || *p.RoleSid != *cfg.DefaultConversationRoleSid {
		t.Fatalf("roles: user %s participant %s, config %+v", *user.RoleSid, *p.RoleSid, cfg)
	}
	mustPart(c.FetchServiceConversationParticipant(is, "room", "carol"))
	mustPart(c.UpdateServiceConversationParticipant(is, *conv.Sid, *p.Sid, (&conversations.UpdateServiceConversationParticipantParams{}).
		SetRoleSid(*cfg.DefaultConversationCreatorRoleSid)))
	ps := must[[]conversations.ConversationsV1ServiceConversationParticipant](t)(c.ListServiceConversationParticipant(is, "room", nil))
	if len(ps) != 1 || *ps[0].RoleSid != *cfg.DefaultConversationCreatorRoleSid {
		t.Fatalf("participants %+v", ps)
	}
	ucs := must[[]conversations.ConversationsV1ServiceUserConversation](t)(c.ListServiceUserConversation(is, "carol", nil))
	if len(ucs) != 1 || *ucs[0].ConversationSid != *conv.Sid {
		t.Fatalf("user conversations %+v", ucs)
	}
	must[*conversations.ConversationsV1ServiceUserConversation](t)(c.UpdateServiceUserConversation(is, "carol", "room",
		(&conversations.UpdateServiceUserConversationParams{}).SetNotificationLevel("muted")))
	uc := must[*conversations.ConversationsV1ServiceUserConversation](t)(c.FetchServiceUserConversation(is, *user.Sid, *conv.Sid))
	if *uc.NotificationLevel != "muted" {
		t.Fatalf("user conversation %+v", uc)
	}
	pcs := must[[]conversations.ConversationsV1ServiceParticipantConversation](t)(c.ListServiceParticipantConversation(is,
		(&conversations.ListServiceParticipantConversationParams{}).SetIdentity("carol")))
	if len(pcs) != 1 || *pcs[0].ParticipantSid != *p.Sid {
		t.Fatalf("participant conversations %+v", pcs)
	}
	cwp := must[*conversations.ConversationsV1ServiceConversationWithParticipants](t)(c.CreateServiceConversationWithParticipants(is,
		(&conversations.CreateServiceConversationWithParticipantsParams{}).SetParticipant([]string{`{"identity":"carol"}`})))
	if *cwp.ChatServiceSid != is {
		t.Fatalf("cwp %+v", cwp)
	}
	if err := c.DeleteServiceUserConversation(is, "carol", *cwp.Sid); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteServiceConversationParticipant(is, "room", "carol", nil); err != nil {
		t.Fatal(err)
	}
	// A user of the service, deleted in its scope, leaves its
	// conversations (decision 6).
	must[*conversations.ConversationsV1ServiceUser](t)(c.CreateServiceUser(is, (&conversations.CreateServiceUserParams{}).SetIdentity("dave")))
	mustPart(c.CreateServiceConversationParticipant(is, "room", (&conversations.CreateServiceConversationParticipantParams{}).SetIdentity("dave")))
	if err := c.DeleteServiceUser(is, "dave", nil); err != nil {
		t.Fatal(err)
	}
	_, err := c.FetchServiceUser(is, "dave")
	restError(t, err, 404, 20404)
	_, err = c.FetchServiceConversationParticipant(is, "room", "dave")
	restError(t, err, 404, 20404)
	convs := must[[]conversations.ConversationsV1ServiceConversation](t)(c.ListServiceConversation(is, nil))
	var sids []string
	for _, cv := range convs {
		sids = append(sids, *cv.Sid)
	}
	if !slices.Equal(sids, []string{*conv.Sid, *cwp.Sid}) {
		t.Fatalf("conversations %v", sids)
	}
	for _, sid := range sids {
		if err := c.DeleteServiceConversation(is, sid, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Deleting the service takes everything with it.
	mustConv(c.CreateServiceConversation(is, nil))
	if err := c.DeleteService(is); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListServiceConversation(is, nil)
	restError(t, err, 404, 20404)
}
