package parleytest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
	"github.com/twilio/twilio-go/client"
	conversations "github.com/twilio/twilio-go/rest/conversations/v1"
)

// These tests drive parley with the official twilio-go SDK, unchanged but
// for the base URL, over a real loopback listener.

func restError(t *testing.T, err error, status, code int) {
	t.Helper()
	var re *client.TwilioRestError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T), want a TwilioRestError %d/%d", err, err, status, code)
	}
	if re.Status != status || re.Code != code {
		t.Fatalf("TwilioRestError status %d code %d (%s), want %d/%d", re.Status, re.Code, re.Message, status, code)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestSDKUsers(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := srv.Client().ConversationsV1
	mustUser := must[*conversations.ConversationsV1User](t)

	// The service's default roles, for RoleSid.
	roles := must[[]conversations.ConversationsV1Role](t)(c.ListRole(nil))
	var admin, user string
	for _, r := range roles {
		switch *r.FriendlyName {
		case "service admin":
			admin = *r.Sid
		case "service user":
			user = *r.Sid
		}
	}

	before := time.Now().UTC().Truncate(time.Second)
	alice := mustUser(c.CreateUser((&conversations.CreateUserParams{}).
		SetIdentity("alice@example.com").SetFriendlyName("Alice").
		SetAttributes(`{"team":"blue"}`).SetRoleSid(admin).SetXTwilioWebhookEnabled("true")))
	if *alice.Identity != "alice@example.com" || *alice.FriendlyName != "Alice" || *alice.Attributes != `{"team":"blue"}` ||
		*alice.RoleSid != admin || *alice.AccountSid != srv.AccountSid || *alice.ChatServiceSid != srv.DefaultServiceSid ||
		alice.IsOnline != nil || alice.IsNotifiable != nil || !strings.HasPrefix(*alice.Sid, "US") {
		t.Fatalf("created %+v", alice)
	}
	if alice.DateCreated.Before(before) || !alice.DateCreated.Equal(*alice.DateUpdated) {
		t.Fatalf("dates %v %v", alice.DateCreated, alice.DateUpdated)
	}
	wantURL := srv.URL + "/v1/Users/" + *alice.Sid
	if *alice.Url != wantURL || (*alice.Links)["user_conversations"] != wantURL+"/Conversations" {
		t.Fatalf("url %s links %v", *alice.Url, *alice.Links)
	}

	spaced := mustUser(c.CreateUser((&conversations.CreateUserParams{}).SetIdentity("bob the builder")))
	if *spaced.RoleSid != user || *spaced.Attributes != "{}" || spaced.FriendlyName != nil {
		t.Fatalf("defaults: %+v", spaced)
	}
	for _, key := range []string{*alice.Sid, "alice@example.com"} {
		got := mustUser(c.FetchUser(key))
		if *got.Sid != *alice.Sid || *got.Identity != "alice@example.com" {
			t.Fatalf("fetch %q: %+v", key, got)
		}
	}
	if got := mustUser(c.FetchUser("bob the builder")); *got.Sid != *spaced.Sid {
		t.Fatalf("fetch by spaced identity: %+v", got)
	}

	// Update each field, then reset the attributes.
	got := mustUser(c.UpdateUser("alice@example.com", (&conversations.UpdateUserParams{}).SetFriendlyName("Alicia")))
	if *got.FriendlyName != "Alicia" || *got.Attributes != `{"team":"blue"}` || *got.RoleSid != admin {
		t.Fatalf("update name: %+v", got)
	}
	got = mustUser(c.UpdateUser(*alice.Sid, (&conversations.UpdateUserParams{}).SetAttributes(`{"team":"red"}`)))
	if *got.Attributes != `{"team":"red"}` || *got.FriendlyName != "Alicia" {
		t.Fatalf("update attributes: %+v", got)
	}
	got = mustUser(c.UpdateUser(*alice.Sid, (&conversations.UpdateUserParams{}).SetRoleSid(user).SetXTwilioWebhookEnabled("true")))
	if *got.RoleSid != user {
		t.Fatalf("update role: %+v", got)
	}
	got = mustUser(c.UpdateUser(*alice.Sid, (&conversations.UpdateUserParams{}).SetAttributes("")))
	if *got.Attributes != "{}" {
		t.Fatalf("attributes reset: %+v", got)
	}

	// Errors come back as Twilio sends them.
	_, err := c.CreateUser((&conversations.CreateUserParams{}).SetIdentity("alice@example.com"))
	restError(t, err, 409, 50201)
	_, err = c.CreateUser((&conversations.CreateUserParams{}).SetIdentity("x").SetAttributes("{"))
	restError(t, err, 400, 50304)
	_, err = c.CreateUser(&conversations.CreateUserParams{})
	restError(t, err, 400, 20001)

	if err := c.DeleteUser(*alice.Sid, (&conversations.DeleteUserParams{}).SetXTwilioWebhookEnabled("true")); err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchUser(*alice.Sid)
	restError(t, err, 404, 20404)
	err = c.DeleteUser("alice@example.com", nil)
	restError(t, err, 404, 20404)

	// "." and ".." cannot name a user: the SDK gets Twilio's 404 (or 400
	// on create), never a redirect it would follow to another resource and
	// report as a success.
	for _, key := range []string{".", ".."} {
		restError(t, c.DeleteUser(key, nil), 404, 20404)
		_, err = c.FetchUser(key)
		restError(t, err, 404, 20404)
		_, err = c.UpdateUser(key, (&conversations.UpdateUserParams{}).SetFriendlyName("x"))
		restError(t, err, 404, 20404)
		_, err = c.CreateUser((&conversations.CreateUserParams{}).SetIdentity(key))
		restError(t, err, 400, 20001)
	}
}

func TestSDKPaging(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := srv.Client().ConversationsV1
	const n = 120
	var want []string
	for i := range n {
		u, err := c.CreateServiceUser(srv.DefaultServiceSid, (&conversations.CreateServiceUserParams{}).
			SetIdentity(fmt.Sprintf("user-%03d", (i*37)%n))) // creation order differs from identity order
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, *u.Sid)
	}
	// ListUser follows meta.next_page_url through three pages of 50.
	users, err := c.ListUser(&conversations.ListUserParams{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range users {
		got = append(got, *u.Sid)
		if u.IsOnline != nil || u.IsNotifiable != nil {
			t.Fatalf("list carries presence: %+v", u)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d users, want all %d once in creation order", len(got), n)
	}
	// A limit makes the SDK ask for PageSize=min(limit, 1000): clamped to 50.
	limited, err := c.ListServiceUser(srv.DefaultServiceSid, (&conversations.ListServiceUserParams{}).SetLimit(70))
	if err != nil {
		t.Fatal(err)
	}
	if len(limited) != 70 || *limited[69].Sid != want[69] {
		t.Fatalf("limit 70 gave %d users", len(limited))
	}
	// Streaming with small pages.
	ch, errs := c.StreamUser((&conversations.ListUserParams{}).SetPageSize(7))
	got = got[:0]
	for u := range ch {
		got = append(got, *u.Sid)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("streamed %d users, want %d in order", len(got), n)
	}
}

// TestSDKServicesRolesConfiguration drives every Services, Roles and
// Configuration operation, then creates a user in a second service with a
// custom role, as an app that sets up its own service does.
func TestSDKServicesRolesConfiguration(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := srv.Client().ConversationsV1

	svc := must[*conversations.ConversationsV1Service](t)(c.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("Support")))
	if *svc.FriendlyName != "Support" || *svc.Url != srv.URL+"/v1/Services/"+*svc.Sid ||
		(*svc.Links)["users"] != *svc.Url+"/Users" || (*svc.Links)["configuration"] != *svc.Url+"/Configuration" {
		t.Fatalf("service %+v", svc)
	}
	if got := must[*conversations.ConversationsV1Service](t)(c.FetchService(*svc.Sid)); *got.Sid != *svc.Sid {
		t.Fatalf("fetch service %+v", got)
	}
	services := must[[]conversations.ConversationsV1Service](t)(c.ListService(nil))
	if len(services) != 2 || *services[0].Sid != srv.DefaultServiceSid || *services[1].Sid != *svc.Sid {
		t.Fatalf("services %v", services)
	}

	// Roles in the new service.
	agent := must[*conversations.ConversationsV1ServiceRole](t)(c.CreateServiceRole(*svc.Sid, (&conversations.CreateServiceRoleParams{}).
		SetFriendlyName("agent").SetType("service").SetPermission([]string{"createConversation", "joinConversation"})))
	if *agent.Type != "service" || !slices.Equal(*agent.Permissions, []string{"createConversation", "joinConversation"}) ||
		*agent.Url != srv.URL+"/v1/Services/"+*svc.Sid+"/Roles/"+*agent.Sid {
		t.Fatalf("service role %+v", agent)
	}
	agent = must[*conversations.ConversationsV1ServiceRole](t)(c.UpdateServiceRole(*svc.Sid, *agent.Sid,
		(&conversations.UpdateServiceRoleParams{}).SetPermission([]string{"joinConversation", "editOwnUserInfo"})))
	if !slices.Equal(*agent.Permissions, []string{"joinConversation", "editOwnUserInfo"}) {
		t.Fatalf("updated role %+v", agent)
	}
	if got := must[*conversations.ConversationsV1ServiceRole](t)(c.FetchServiceRole(*svc.Sid, *agent.Sid)); *got.FriendlyName != "agent" {
		t.Fatalf("fetched role %+v", got)
	}
	svcRoles := must[[]conversations.ConversationsV1ServiceRole](t)(c.ListServiceRole(*svc.Sid, nil))
	if len(svcRoles) != 5 || *svcRoles[4].Sid != *agent.Sid {
		t.Fatalf("%d service roles", len(svcRoles))
	}
	_, err := c.CreateServiceRole(*svc.Sid, (&conversations.CreateServiceRoleParams{}).
		SetFriendlyName("bad").SetType("service").SetPermission([]string{"sendMessage"}))
	restError(t, err, 400, 50104)
	temp := must[*conversations.ConversationsV1ServiceRole](t)(c.CreateServiceRole(*svc.Sid, (&conversations.CreateServiceRoleParams{}).
		SetFriendlyName("temp").SetType("conversation").SetPermission([]string{"sendMessage"})))
	if err := c.DeleteServiceRole(*svc.Sid, *temp.Sid); err != nil {
		t.Fatal(err)
	}

	// Roles in the default service, through the shortened URLs.
	mod := must[*conversations.ConversationsV1Role](t)(c.CreateRole((&conversations.CreateRoleParams{}).
		SetFriendlyName("moderator").SetType("conversation").SetPermission([]string{"sendMessage", "deleteAnyMessage"})))
	if *mod.ChatServiceSid != srv.DefaultServiceSid || *mod.Url != srv.URL+"/v1/Roles/"+*mod.Sid {
		t.Fatalf("role %+v", mod)
	}
	mod = must[*conversations.ConversationsV1Role](t)(c.UpdateRole(*mod.Sid, (&conversations.UpdateRoleParams{}).SetPermission([]string{"sendMessage"})))
	if got := must[*conversations.ConversationsV1Role](t)(c.FetchRole(*mod.Sid)); !slices.Equal(*got.Permissions, []string{"sendMessage"}) {
		t.Fatalf("role %+v", got)
	}
	if roles := must[[]conversations.ConversationsV1Role](t)(c.ListRole(nil)); len(roles) != 5 {
		t.Fatalf("%d roles in the default service", len(roles))
	}
	if err := c.DeleteRole(*mod.Sid); err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchRole(*mod.Sid)
	restError(t, err, 404, 20404)

	// Service configuration: the custom role becomes the users' default.
	cfg := must[*conversations.ConversationsV1ServiceConfiguration](t)(c.UpdateServiceConfiguration(*svc.Sid,
		(&conversations.UpdateServiceConfigurationParams{}).SetDefaultChatServiceRoleSid(*agent.Sid).SetReachabilityEnabled(true)))
	if *cfg.DefaultChatServiceRoleSid != *agent.Sid || !*cfg.ReachabilityEnabled ||
		(*cfg.Links)["webhooks"] != srv.URL+"/v1/Services/"+*svc.Sid+"/Configuration/Webhooks" {
		t.Fatalf("service configuration %+v", cfg)
	}
	if got := must[*conversations.ConversationsV1ServiceConfiguration](t)(c.FetchServiceConfiguration(*svc.Sid)); *got.DefaultChatServiceRoleSid != *agent.Sid {
		t.Fatalf("fetched configuration %+v", got)
	}
	u := must[*conversations.ConversationsV1ServiceUser](t)(c.CreateServiceUser(*svc.Sid, (&conversations.CreateServiceUserParams{}).SetIdentity("agent-1")))
	if *u.RoleSid != *agent.Sid || *u.ChatServiceSid != *svc.Sid || *u.Url != srv.URL+"/v1/Services/"+*svc.Sid+"/Users/"+*u.Sid {
		t.Fatalf("user in second service %+v", u)
	}
	if got := must[*conversations.ConversationsV1ServiceUser](t)(c.FetchServiceUser(*svc.Sid, "agent-1")); *got.Sid != *u.Sid {
		t.Fatalf("fetch service user %+v", got)
	}
	u = must[*conversations.ConversationsV1ServiceUser](t)(c.UpdateServiceUser(*svc.Sid, *u.Sid, (&conversations.UpdateServiceUserParams{}).SetFriendlyName("Agent One")))
	if *u.FriendlyName != "Agent One" {
		t.Fatalf("update service user %+v", u)
	}
	if list := must[[]conversations.ConversationsV1ServiceUser](t)(c.ListServiceUser(*svc.Sid, nil)); len(list) != 1 {
		t.Fatalf("%d users in the second service", len(list))
	}
	_, err = c.CreateServiceUser(*svc.Sid, (&conversations.CreateServiceUserParams{}).SetIdentity("x").SetRoleSid(*temp.Sid))
	restError(t, err, 400, 50100)

	// Account configuration: switch the default service, and back.
	acfg := must[*conversations.ConversationsV1Configuration](t)(c.UpdateConfiguration((&conversations.UpdateConfigurationParams{}).
		SetDefaultChatServiceSid(*svc.Sid).SetDefaultInactiveTimer("PT1M").SetDefaultClosedTimer("PT10M")))
	if *acfg.DefaultChatServiceSid != *svc.Sid || *acfg.DefaultInactiveTimer != "PT1M" || *acfg.DefaultClosedTimer != "PT10M" {
		t.Fatalf("configuration %+v", acfg)
	}
	if got := must[*conversations.ConversationsV1User](t)(c.FetchUser("agent-1")); *got.Sid != *u.Sid {
		t.Fatalf("shortened URL does not follow the new default: %+v", got)
	}
	err = c.DeleteService(*svc.Sid)
	restError(t, err, 409, 20001)
	acfg = must[*conversations.ConversationsV1Configuration](t)(c.UpdateConfiguration((&conversations.UpdateConfigurationParams{}).
		SetDefaultChatServiceSid(srv.DefaultServiceSid)))
	if got := must[*conversations.ConversationsV1Configuration](t)(c.FetchConfiguration()); *got.DefaultChatServiceSid != srv.DefaultServiceSid {
		t.Fatalf("configuration %+v", got)
	}

	// Webhook configuration, account and service level.
	aw := must[*conversations.ConversationsV1ConfigurationWebhook](t)(c.UpdateConfigurationWebhook((&conversations.UpdateConfigurationWebhookParams{}).
		SetPostWebhookUrl("https://example.com/post").SetMethod("GET").SetFilters([]string{"onUserAdded"}).SetTarget("webhook")))
	if *aw.PostWebhookUrl != "https://example.com/post" || *aw.Method != "GET" || !slices.Equal(*aw.Filters, []string{"onUserAdded"}) {
		t.Fatalf("account webhooks %+v", aw)
	}
	if got := must[*conversations.ConversationsV1ConfigurationWebhook](t)(c.FetchConfigurationWebhook()); *got.Target != "webhook" {
		t.Fatalf("account webhooks %+v", got)
	}
	sw := must[*conversations.ConversationsV1ServiceWebhookConfiguration](t)(c.UpdateServiceWebhookConfiguration(*svc.Sid,
		(&conversations.UpdateServiceWebhookConfigurationParams{}).SetPreWebhookUrl("https://example.com/pre").SetMethod("POST")))
	if *sw.PreWebhookUrl != "https://example.com/pre" || sw.PostWebhookUrl != nil || *sw.ChatServiceSid != *svc.Sid {
		t.Fatalf("service webhooks %+v", sw)
	}
	if got := must[*conversations.ConversationsV1ServiceWebhookConfiguration](t)(c.FetchServiceWebhookConfiguration(*svc.Sid)); *got.Method != "POST" {
		t.Fatalf("service webhooks %+v", got)
	}

	// Deleting the service removes what was in it.
	if err := c.DeleteService(*svc.Sid); err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchServiceUser(*svc.Sid, *u.Sid)
	restError(t, err, 404, 20404)
	_, err = c.FetchService(*svc.Sid)
	restError(t, err, 404, 20404)
}

// TestSDKAPIKey: an app signs its REST calls with an API key; a revoked key
// is refused at once.
func TestSDKAPIKey(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	ctx := context.Background()
	key, secret, err := srv.App.CreateAPIKey(ctx, "ci")
	if err != nil {
		t.Fatal(err)
	}
	c := parleytest.NewClient(srv.URL, key.Sid, secret, srv.AccountSid).ConversationsV1
	u, err := c.CreateUser((&conversations.CreateUserParams{}).SetIdentity("keyed"))
	if err != nil {
		t.Fatal(err)
	}
	if *u.AccountSid != srv.AccountSid {
		t.Fatalf("user %+v", u)
	}
	wrong := parleytest.NewClient(srv.URL, key.Sid, secret+"x", srv.AccountSid).ConversationsV1
	_, err = wrong.FetchUser("keyed")
	restError(t, err, 401, 20003)

	if err := srv.App.RevokeAPIKey(ctx, key.Sid); err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchUser("keyed")
	restError(t, err, 401, 20003)
	// The auth token still works.
	if _, err := srv.Client().ConversationsV1.FetchUser("keyed"); err != nil {
		t.Fatal(err)
	}
}

// TestSDKCredentials: push credentials through twilio-go, secrets never
// coming back, sandbox as Twilio's string.
func TestSDKCredentials(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := srv.Client().ConversationsV1
	mustCred := must[*conversations.ConversationsV1Credential](t)
	const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
	const key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"
	apn := mustCred(c.CreateCredential((&conversations.CreateCredentialParams{}).SetType("apn").
		SetFriendlyName("iOS").SetCertificate(cert).SetPrivateKey(key).SetSandbox(true)))
	if !strings.HasPrefix(*apn.Sid, "CR") || *apn.Type != "apn" || *apn.Sandbox != "True" || *apn.FriendlyName != "iOS" ||
		*apn.AccountSid != srv.AccountSid || *apn.Url != srv.URL+"/v1/Credentials/"+*apn.Sid {
		t.Fatalf("created %+v", apn)
	}
	fcm := mustCred(c.CreateCredential((&conversations.CreateCredentialParams{}).SetType("fcm").SetSecret("server-key")))
	if *fcm.Type != "fcm" || *fcm.Sandbox != "False" || fcm.FriendlyName != nil {
		t.Fatalf("created %+v", fcm)
	}
	got := mustCred(c.UpdateCredential(*apn.Sid, (&conversations.UpdateCredentialParams{}).SetSandbox(false).SetFriendlyName("iPhone")))
	if *got.Sandbox != "False" || *got.FriendlyName != "iPhone" || *got.Type != "apn" {
		t.Fatalf("updated %+v", got)
	}
	if got := mustCred(c.FetchCredential(*fcm.Sid)); *got.Sid != *fcm.Sid || *got.Type != "fcm" {
		t.Fatalf("fetched %+v", got)
	}
	list := must[[]conversations.ConversationsV1Credential](t)(c.ListCredential(nil))
	if len(list) != 2 || *list[0].Sid != *apn.Sid || *list[1].Sid != *fcm.Sid {
		t.Fatalf("listed %+v", list)
	}
	_, err := c.CreateCredential((&conversations.CreateCredentialParams{}).SetType("gcm"))
	restError(t, err, 400, 20001)
	if err := c.DeleteCredential(*fcm.Sid); err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchCredential(*fcm.Sid)
	restError(t, err, 404, 20404)
}
