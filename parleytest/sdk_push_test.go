package parleytest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
	"github.com/twilio/twilio-go/client"
	conversations "github.com/twilio/twilio-go/rest/conversations/v1"
)

// These tests drive address configurations, push bindings, a service's
// notification settings and the inbound-message control through
// twilio-go, with parley's own controls (which no Twilio SDK wraps)
// called over plain HTTP.

// pushErr checks that err is the TwilioRestError status/code/message.
func pushErr(t *testing.T, err error, status, code int, message string) {
	t.Helper()
	var re *client.TwilioRestError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T), want a TwilioRestError %d/%d %q", err, err, status, code, message)
	}
	if re.Status != status || re.Code != code || re.Message != message {
		t.Fatalf("TwilioRestError %d/%d %q, want %d/%d %q", re.Status, re.Code, re.Message, status, code, message)
	}
}

// pushControl posts form to one of parley's controls with the account's
// credentials, and decodes the JSON answer.
func pushControl(t *testing.T, srv *parleytest.Server, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	status, b := postAs(t, srv, path, "application/x-www-form-urlencoded", form.Encode())
	var v map[string]any
	if err := json.Unmarshal([]byte(b), &v); err != nil {
		t.Fatalf("POST %s: %d %s: %v", path, status, b, err)
	}
	return status, v
}

// pushControlErr checks a control's error answer: Twilio's JSON error.
func pushControlErr(t *testing.T, status int, body map[string]any, wantStatus, code int, message string) {
	t.Helper()
	if status != wantStatus || body["status"] != float64(wantStatus) || body["code"] != float64(code) || body["message"] != message {
		t.Fatalf("answer %d %v, want %d/%d %q", status, body, wantStatus, code, message)
	}
}

// pushDeepEqual fails unless the SDK's decoded JSON (an *interface{}) is
// want exactly.
func pushDeepEqual(t *testing.T, what string, got *interface{}, want any) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: missing, want %#v", what, want)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("%s:\n got %#v\nwant %#v", what, *got, want)
	}
}

func pushStrIs(p *string, want string) bool { return p != nil && *p == want }

const pushFlow = "FW0123456789abcdef0123456789abcdef"

// TestSDKAddressConfigurations drives every address configuration
// operation through twilio-go: the three shapes of auto_creation, fetches
// by SID and by address, updates that keep what they do not name, the
// Type filter, deletes, and Twilio's errors.
func TestSDKAddressConfigurations(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := srv.Client().ConversationsV1
	mustAddr := must[*conversations.ConversationsV1ConfigurationAddress](t)
	support := must[*conversations.ConversationsV1Service](t)(c.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("Support")))

	check := func(what string, got *conversations.ConversationsV1ConfigurationAddress, sid, typ, address string, name *string, auto map[string]any) {
		t.Helper()
		if sid != "" && !pushStrIs(got.Sid, sid) {
			t.Fatalf("%s: sid %v, want %s", what, got.Sid, sid)
		}
		if got.Sid == nil || !strings.HasPrefix(*got.Sid, "IG") || len(*got.Sid) != 34 || !pushStrIs(got.AccountSid, srv.AccountSid) ||
			!pushStrIs(got.Type, typ) || !pushStrIs(got.Address, address) || !pushStrIs(got.Url, srv.URL+"/v1/Configuration/Addresses/"+*got.Sid) ||
			got.AddressCountry != nil || got.DateCreated == nil || got.DateUpdated == nil {
			t.Fatalf("%s: %+v", what, got)
		}
		if (name == nil) != (got.FriendlyName == nil) || (name != nil && *name != *got.FriendlyName) {
			t.Fatalf("%s: friendly_name %v, want %v", what, got.FriendlyName, name)
		}
		pushDeepEqual(t, what+": auto_creation", got.AutoCreation, auto)
	}
	frontDesk, reception := "Front desk", "Reception"

	// An sms address with auto-creation of type webhook: the method comes
	// back upper case.
	before := time.Now().UTC().Truncate(time.Second)
	sms := mustAddr(c.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).
		SetType("sms").SetAddress("+15557654321").SetFriendlyName(frontDesk).
		SetAutoCreationEnabled(true).SetAutoCreationType("webhook").SetAutoCreationConversationServiceSid(*support.Sid).
		SetAutoCreationWebhookUrl("https://example.com/inbound").SetAutoCreationWebhookMethod("get").
		SetAutoCreationWebhookFilters([]string{"onMessageAdded", "onParticipantAdded"})))
	smsAuto := map[string]any{"enabled": true, "type": "webhook", "conversation_service_sid": *support.Sid,
		"webhook_url": "https://example.com/inbound", "webhook_method": "GET",
		"webhook_filters": []any{"onMessageAdded", "onParticipantAdded"}}
	check("sms created", sms, "", "sms", "+15557654321", &frontDesk, smsAuto)
	if sms.DateCreated.Before(before) || !sms.DateCreated.Equal(*sms.DateUpdated) {
		t.Fatalf("dates %v %v", sms.DateCreated, sms.DateUpdated)
	}

	// A whatsapp address with studio, in the default service (null).
	wa := mustAddr(c.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).
		SetType("whatsapp").SetAddress("whatsapp:+15550001111").
		SetAutoCreationEnabled(true).SetAutoCreationType("studio").
		SetAutoCreationStudioFlowSid(pushFlow).SetAutoCreationStudioRetryCount(2)))
	waAuto := map[string]any{"enabled": true, "type": "studio", "conversation_service_sid": nil,
		"studio_flow_sid": pushFlow, "studio_retry_count": 2.0}
	check("whatsapp created", wa, "", "whatsapp", "whatsapp:+15550001111", nil, waAuto)

	// An email address with type default: enabled and type only.
	email := mustAddr(c.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).
		SetType("email").SetAddress("support@example.com").SetAutoCreationEnabled(true).SetAutoCreationType("default")))
	emailAuto := map[string]any{"enabled": true, "type": "default"}
	check("email created", email, "", "email", "support@example.com", nil, emailAuto)

	// Nothing said about auto-creation: off, of type default.
	plain := mustAddr(c.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).
		SetType("SMS").SetAddress("+15550002222").SetAddressCountry("us")))
	if !pushStrIs(plain.Type, "sms") || !pushStrIs(plain.AddressCountry, "US") {
		t.Fatalf("plain created %+v", plain)
	}
	pushDeepEqual(t, "plain auto_creation", plain.AutoCreation, map[string]any{"enabled": false, "type": "default"})

	// Fetch by SID and by address: twilio-go puts the address into the
	// path as is ("+", ":" and "@" unescaped), and parley takes it.
	for _, key := range []string{*sms.Sid, "+15557654321"} {
		check("fetch sms by "+key, mustAddr(c.FetchConfigurationAddress(key)), *sms.Sid, "sms", "+15557654321", &frontDesk, smsAuto)
	}
	for _, key := range []string{*wa.Sid, "whatsapp:+15550001111"} {
		check("fetch whatsapp by "+key, mustAddr(c.FetchConfigurationAddress(key)), *wa.Sid, "whatsapp", "whatsapp:+15550001111", nil, waAuto)
	}
	check("fetch email by address", mustAddr(c.FetchConfigurationAddress("support@example.com")), *email.Sid, "email", "support@example.com", nil, emailAuto)
	// "%2B" (the escaped "+", as other SDKs send it) reaches the same one.
	check("fetch sms by %2B", mustAddr(c.FetchConfigurationAddress("%2B15557654321")), *sms.Sid, "sms", "+15557654321", &frontDesk, smsAuto)

	// Lists, with and without the Type filter (any case).
	sids := func(list []conversations.ConversationsV1ConfigurationAddress) []string {
		var out []string
		for _, a := range list {
			out = append(out, *a.Sid)
		}
		return out
	}
	listAddrs := func(params *conversations.ListConfigurationAddressParams) []string {
		t.Helper()
		return sids(must[[]conversations.ConversationsV1ConfigurationAddress](t)(c.ListConfigurationAddress(params)))
	}
	all := must[[]conversations.ConversationsV1ConfigurationAddress](t)(c.ListConfigurationAddress(nil))
	if got := sids(all); !slices.Equal(got, []string{*sms.Sid, *wa.Sid, *email.Sid, *plain.Sid}) {
		t.Fatalf("listed %v", got)
	}
	check("listed sms", &all[0], *sms.Sid, "sms", "+15557654321", &frontDesk, smsAuto)
	check("listed whatsapp", &all[1], *wa.Sid, "whatsapp", "whatsapp:+15550001111", nil, waAuto)
	check("listed email", &all[2], *email.Sid, "email", "support@example.com", nil, emailAuto)
	for typ, want := range map[string][]string{
		"sms": {*sms.Sid, *plain.Sid}, "SMS": {*sms.Sid, *plain.Sid}, "whatsapp": {*wa.Sid}, "email": {*email.Sid}, "rcs": nil,
	} {
		if got := listAddrs((&conversations.ListConfigurationAddressParams{}).SetType(typ)); !slices.Equal(got, want) {
			t.Fatalf("Type=%s listed %v, want %v", typ, got, want)
		}
	}
	if got := listAddrs((&conversations.ListConfigurationAddressParams{}).SetPageSize(1)); len(got) != 4 {
		t.Fatalf("paged by 1: %v", got)
	}
	_, err := c.ListConfigurationAddress((&conversations.ListConfigurationAddressParams{}).SetType("fax"))
	pushErr(t, err, 400, 20001, "Invalid Type: must be one of sms, whatsapp, messenger, gbm, email, rcs, apple, chat")

	// One configuration per address, whatever its type.
	_, err = c.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15557654321"))
	pushErr(t, err, 409, 20001, "Address configuration already exists")
	_, err = c.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).SetType("whatsapp").SetAddress("+15557654321"))
	pushErr(t, err, 409, 20001, "Address configuration already exists")

	// Create's other errors.
	create := func(p *conversations.CreateConfigurationAddressParams) error {
		_, err := c.CreateConfigurationAddress(p)
		return err
	}
	newAddr := func() *conversations.CreateConfigurationAddressParams {
		return (&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15559990000")
	}
	for _, tc := range []struct {
		p       *conversations.CreateConfigurationAddressParams
		message string
	}{
		{(&conversations.CreateConfigurationAddressParams{}).SetAddress("+15559990000"), "Missing required parameter Type in the post body"},
		{(&conversations.CreateConfigurationAddressParams{}).SetType("sms"), "Missing required parameter Address in the post body"},
		{newAddr().SetType("fax"), "Invalid Type: must be one of sms, whatsapp, messenger, gbm, email, rcs, apple, chat"},
		{newAddr().SetAutoCreationEnabled(true).SetAutoCreationType("webhook"),
			"AutoCreation.WebhookUrl is required when auto-creation of type webhook is enabled"},
		{newAddr().SetAutoCreationEnabled(true).SetAutoCreationType("studio"),
			"AutoCreation.StudioFlowSid is required when auto-creation of type studio is enabled"},
		{newAddr().SetAutoCreationStudioFlowSid("XX123"), `Invalid AutoCreation.StudioFlowSid: "XX123" is not a Studio flow SID (FW…)`},
		{newAddr().SetAutoCreationStudioRetryCount(4), "Invalid AutoCreation.StudioRetryCount: must be 0 to 3"},
		{newAddr().SetAutoCreationType("flow"), "Invalid AutoCreation.Type: must be one of webhook, studio, default"},
		{newAddr().SetAutoCreationWebhookMethod("put"), "Invalid AutoCreation.WebhookMethod: must be one of get, post"},
		{newAddr().SetAutoCreationWebhookUrl("ftp://example.com"),
			`Invalid AutoCreation.WebhookUrl: "ftp://example.com" is not an absolute http or https URL`},
		{newAddr().SetAutoCreationWebhookFilters([]string{"onMessageAdded", "onBogus"}),
			`Invalid AutoCreation.WebhookFilters: "onBogus" is not a conversation event`},
		{newAddr().SetAutoCreationConversationServiceSid("IS00000000000000000000000000000000"),
			"Invalid AutoCreation.ConversationServiceSid: there is no service IS00000000000000000000000000000000"},
		{newAddr().SetAutoCreationConversationServiceSid("CH00000000000000000000000000000000"),
			`Invalid AutoCreation.ConversationServiceSid: "CH00000000000000000000000000000000" is not a Conversation Service SID`},
	} {
		pushErr(t, create(tc.p), 400, 20001, tc.message)
	}
	if got := listAddrs(nil); len(got) != 4 {
		t.Fatalf("refused creates left %v", got)
	}

	// Update by address: what is not sent is kept; filters are written as
	// Twilio spells them.
	got := mustAddr(c.UpdateConfigurationAddress("+15557654321", (&conversations.UpdateConfigurationAddressParams{}).
		SetFriendlyName(reception).SetAutoCreationWebhookFilters([]string{"onmessageadded", "ONCONVERSATIONUPDATED"})))
	smsAuto["webhook_filters"] = []any{"onMessageAdded", "onConversationUpdated"}
	check("updated filters", got, *sms.Sid, "sms", "+15557654321", &reception, smsAuto)
	if !got.DateCreated.Equal(*sms.DateCreated) || got.DateUpdated.Before(*got.DateCreated) {
		t.Fatalf("update dates %v %v", got.DateCreated, got.DateUpdated)
	}
	// To type default and back: the webhook's settings are kept, not shown.
	got = mustAddr(c.UpdateConfigurationAddress(*sms.Sid, (&conversations.UpdateConfigurationAddressParams{}).SetAutoCreationType("default")))
	check("updated to default", got, *sms.Sid, "sms", "+15557654321", &reception, map[string]any{"enabled": true, "type": "default"})
	got = mustAddr(c.UpdateConfigurationAddress(*sms.Sid, (&conversations.UpdateConfigurationAddressParams{}).
		SetAutoCreationType("webhook").SetAutoCreationWebhookMethod("POST").SetAutoCreationConversationServiceSid(srv.DefaultServiceSid)))
	smsAuto["webhook_method"], smsAuto["conversation_service_sid"] = "POST", srv.DefaultServiceSid
	check("back to webhook", got, *sms.Sid, "sms", "+15557654321", &reception, smsAuto)
	// An update is judged by the configuration it leaves.
	_, err = c.UpdateConfigurationAddress(*sms.Sid, (&conversations.UpdateConfigurationAddressParams{}).SetAutoCreationWebhookUrl(""))
	pushErr(t, err, 400, 20001, "AutoCreation.WebhookUrl is required when auto-creation of type webhook is enabled")
	got = mustAddr(c.UpdateConfigurationAddress(*sms.Sid, (&conversations.UpdateConfigurationAddressParams{}).
		SetAutoCreationEnabled(false).SetAutoCreationWebhookUrl("").SetFriendlyName("")))
	smsAuto["enabled"], smsAuto["webhook_url"] = false, nil
	check("disabled, url cleared", got, *sms.Sid, "sms", "+15557654321", nil, smsAuto)
	_, err = c.UpdateConfigurationAddress(*sms.Sid, (&conversations.UpdateConfigurationAddressParams{}).SetAutoCreationEnabled(true))
	pushErr(t, err, 400, 20001, "AutoCreation.WebhookUrl is required when auto-creation of type webhook is enabled")
	check("after refused update", mustAddr(c.FetchConfigurationAddress(*sms.Sid)), *sms.Sid, "sms", "+15557654321", nil, smsAuto)

	got = mustAddr(c.UpdateConfigurationAddress("whatsapp:+15550001111", (&conversations.UpdateConfigurationAddressParams{}).
		SetAutoCreationStudioRetryCount(0).SetAutoCreationConversationServiceSid(*support.Sid)))
	waAuto["studio_retry_count"], waAuto["conversation_service_sid"] = 0.0, *support.Sid
	check("whatsapp updated", got, *wa.Sid, "whatsapp", "whatsapp:+15550001111", nil, waAuto)
	_, err = c.UpdateConfigurationAddress(*wa.Sid, (&conversations.UpdateConfigurationAddressParams{}).SetAutoCreationStudioFlowSid(""))
	pushErr(t, err, 400, 20001, "AutoCreation.StudioFlowSid is required when auto-creation of type studio is enabled")
	_, err = c.UpdateConfigurationAddress("+15550009999", (&conversations.UpdateConfigurationAddressParams{}).SetFriendlyName("x"))
	pushErr(t, err, 404, 20404, "The requested resource /Configuration/Addresses/+15550009999 was not found")

	// Deletes, by address and by SID.
	if err := c.DeleteConfigurationAddress("support@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteConfigurationAddress(*sms.Sid); err != nil {
		t.Fatal(err)
	}
	_, err = c.FetchConfigurationAddress(*sms.Sid)
	pushErr(t, err, 404, 20404, "The requested resource /Configuration/Addresses/"+*sms.Sid+" was not found")
	_, err = c.FetchConfigurationAddress("+15557654321")
	pushErr(t, err, 404, 20404, "The requested resource /Configuration/Addresses/+15557654321 was not found")
	err = c.DeleteConfigurationAddress("support@example.com")
	pushErr(t, err, 404, 20404, "The requested resource /Configuration/Addresses/support@example.com was not found")
	if got := listAddrs(nil); !slices.Equal(got, []string{*wa.Sid, *plain.Sid}) {
		t.Fatalf("after deletes: %v", got)
	}
	// The address is free again.
	again := mustAddr(c.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).SetType("sms").SetAddress("+15557654321")))
	if *again.Sid == *sms.Sid {
		t.Fatalf("SID reused: %s", *again.Sid)
	}
}

// TestSDKBindings registers devices through parley's control and reads,
// filters and deletes their bindings through twilio-go; a user is
// notifiable while it has one.
func TestSDKBindings(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := srv.Client().ConversationsV1
	is := srv.DefaultServiceSid
	mustCred := must[*conversations.ConversationsV1Credential](t)
	mustUser := must[*conversations.ConversationsV1User](t)
	const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
	const key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"
	apn := mustCred(c.CreateCredential((&conversations.CreateCredentialParams{}).SetType("apn").SetCertificate(cert).SetPrivateKey(key)))
	apn2 := mustCred(c.CreateCredential((&conversations.CreateCredentialParams{}).SetType("apn").SetCertificate(cert).SetPrivateKey(key).SetSandbox(true)))
	gcm := mustCred(c.CreateCredential((&conversations.CreateCredentialParams{}).SetType("gcm").SetApiKey("gcm-key")))
	fcm := mustCred(c.CreateCredential((&conversations.CreateCredentialParams{}).SetType("fcm").SetSecret("fcm-key")))
	alice := mustUser(c.CreateUser((&conversations.CreateUserParams{}).SetIdentity("alice")))
	bob := mustUser(c.CreateUser((&conversations.CreateUserParams{}).SetIdentity("bob")))
	carol := mustUser(c.CreateUser((&conversations.CreateUserParams{}).SetIdentity("carol")))

	path := "/parley/v1/Services/" + is + "/Bindings"
	register := func(identity, typ, address, cred string) map[string]any {
		t.Helper()
		form := url.Values{"Identity": {identity}, "BindingType": {typ}, "Address": {address}}
		if cred != "" {
			form.Set("CredentialSid", cred)
		}
		status, b := pushControl(t, srv, path, form)
		if status != 201 {
			t.Fatalf("register %s %s %s: %d %v", identity, typ, address, status, b)
		}
		return b
	}
	// The control's answer is the binding as Twilio shows it.
	before := time.Now().UTC().Truncate(time.Second)
	reg := register("alice", "apn", "apn-token-1", *apn.Sid)
	sid, _ := reg["sid"].(string)
	if !strings.HasPrefix(sid, "BS") || len(sid) != 34 {
		t.Fatalf("registered %v", reg)
	}
	created, _ := reg["date_created"].(string)
	wantReg := map[string]any{"sid": sid, "account_sid": srv.AccountSid, "chat_service_sid": is, "credential_sid": *apn.Sid,
		"date_created": created, "date_updated": created, "endpoint": "apn-token-1", "identity": "alice", "binding_type": "apn",
		"message_types": []any{"removed_from_conversation", "new_message", "added_to_conversation"},
		"url":           srv.URL + "/v1/Services/" + is + "/Bindings/" + sid}
	if !reflect.DeepEqual(reg, wantReg) {
		t.Fatalf("registered\n got %v\nwant %v", reg, wantReg)
	}

	checkBinding := func(what string, b *conversations.ConversationsV1ServiceBinding, sid, identity, typ, endpoint, cred string) {
		t.Helper()
		if !pushStrIs(b.Sid, sid) || !pushStrIs(b.AccountSid, srv.AccountSid) || !pushStrIs(b.ChatServiceSid, is) ||
			!pushStrIs(b.Identity, identity) || !pushStrIs(b.BindingType, typ) || !pushStrIs(b.Endpoint, endpoint) ||
			!pushStrIs(b.Url, srv.URL+"/v1/Services/"+is+"/Bindings/"+sid) || b.DateCreated == nil || b.DateUpdated == nil ||
			b.MessageTypes == nil || !slices.Equal(*b.MessageTypes, []string{"removed_from_conversation", "new_message", "added_to_conversation"}) {
			t.Fatalf("%s: %+v", what, b)
		}
		if (cred == "") != (b.CredentialSid == nil) || (cred != "" && *b.CredentialSid != cred) {
			t.Fatalf("%s: credential_sid %v, want %q", what, b.CredentialSid, cred)
		}
	}
	b := must[*conversations.ConversationsV1ServiceBinding](t)(c.FetchServiceBinding(is, sid))
	checkBinding("fetched", b, sid, "alice", "apn", "apn-token-1", *apn.Sid)
	if b.DateCreated.Before(before) || !b.DateCreated.Equal(*b.DateUpdated) {
		t.Fatalf("dates %v %v", b.DateCreated, b.DateUpdated)
	}

	// gcm and fcm bindings take either Google credential; twilsock none.
	aliceGCM := register("alice", "gcm", "gcm-token-1", *fcm.Sid)["sid"].(string)
	bobFCM := register("bob", "FCM", "fcm-token-1", *gcm.Sid)["sid"].(string)
	bobSock := register("bob", "twilsock", "sock-1", "")
	if bobSock["credential_sid"] != nil || bobSock["binding_type"] != "twilsock" {
		t.Fatalf("twilsock %v", bobSock)
	}
	sock := bobSock["sid"].(string)

	listBindings := func(params *conversations.ListServiceBindingParams) []conversations.ConversationsV1ServiceBinding {
		t.Helper()
		return must[[]conversations.ConversationsV1ServiceBinding](t)(c.ListServiceBinding(is, params))
	}
	sidsOf := func(list []conversations.ConversationsV1ServiceBinding) []string {
		var out []string
		for _, b := range list {
			out = append(out, *b.Sid)
		}
		return out
	}
	all := listBindings(nil)
	if got := sidsOf(all); !slices.Equal(got, []string{sid, aliceGCM, bobFCM, sock}) {
		t.Fatalf("listed %v", got)
	}
	checkBinding("listed apn", &all[0], sid, "alice", "apn", "apn-token-1", *apn.Sid)
	checkBinding("listed gcm", &all[1], aliceGCM, "alice", "gcm", "gcm-token-1", *fcm.Sid)
	checkBinding("listed fcm", &all[2], bobFCM, "bob", "fcm", "fcm-token-1", *gcm.Sid)
	checkBinding("listed twilsock", &all[3], sock, "bob", "twilsock", "sock-1", "")
	for _, tc := range []struct {
		types, identities, want []string
	}{
		{[]string{"apn"}, nil, []string{sid}},
		{[]string{"gcm", "fcm"}, nil, []string{aliceGCM, bobFCM}},
		{[]string{"TWILSOCK"}, nil, []string{sock}},
		{nil, []string{"bob"}, []string{bobFCM, sock}},
		{nil, []string{"alice", "bob"}, []string{sid, aliceGCM, bobFCM, sock}},
		{[]string{"fcm", "apn"}, []string{"alice"}, []string{sid}},
		{[]string{"gcm"}, []string{"bob"}, nil},
		{nil, []string{"carol"}, nil},
	} {
		params := &conversations.ListServiceBindingParams{}
		if tc.types != nil {
			params.SetBindingType(tc.types)
		}
		if tc.identities != nil {
			params.SetIdentity(tc.identities)
		}
		if got := sidsOf(listBindings(params)); !slices.Equal(got, tc.want) {
			t.Fatalf("BindingType=%v Identity=%v listed %v, want %v", tc.types, tc.identities, got, tc.want)
		}
	}
	if got := sidsOf(listBindings((&conversations.ListServiceBindingParams{}).SetPageSize(3))); len(got) != 4 {
		t.Fatalf("paged by 3: %v", got)
	}
	_, err := c.ListServiceBinding(is, (&conversations.ListServiceBindingParams{}).SetBindingType([]string{"sms"}))
	pushErr(t, err, 400, 20001, `Invalid BindingType: "sms" is not one of apn, gcm, fcm, twilsock`)

	// Presence is null until the service turns reachability on.
	if u := mustUser(c.FetchUser("alice")); u.IsNotifiable != nil {
		t.Fatalf("is_notifiable without reachability: %v", *u.IsNotifiable)
	}
	must[*conversations.ConversationsV1ServiceConfiguration](t)(c.UpdateServiceConfiguration(is,
		(&conversations.UpdateServiceConfigurationParams{}).SetReachabilityEnabled(true)))
	notifiable := func(identity string) *bool {
		t.Helper()
		return mustUser(c.FetchUser(identity)).IsNotifiable
	}
	isTrue := func(p *bool) bool { return p != nil && *p }
	isFalse := func(p *bool) bool { return p != nil && !*p }
	if !isTrue(notifiable("alice")) || !isTrue(notifiable(*bob.Sid)) {
		t.Fatalf("registered users not notifiable: %v %v", notifiable("alice"), notifiable("bob"))
	}
	// A user that never had a registration stays null (twilio-go's doc of
	// is_notifiable: null "if the User has never had a notification
	// registration, even if the Service's reachability_enabled is true").
	if got := notifiable(*carol.Sid); got != nil {
		t.Fatalf("carol, never registered: is_notifiable %v, want null", *got)
	}
	if u := must[*conversations.ConversationsV1ServiceUser](t)(c.FetchServiceUser(is, *alice.Sid)); !isTrue(u.IsNotifiable) || u.IsOnline != nil {
		t.Fatalf("service-scoped fetch: %+v", u)
	}

	// The same device registered for another user moves: same SID, new
	// identity and credential.
	moved := register("carol", "apn", "apn-token-1", *apn.Sid)
	if moved["sid"] != sid || moved["identity"] != "carol" || moved["date_created"] != created {
		t.Fatalf("moved %v", moved)
	}
	b = must[*conversations.ConversationsV1ServiceBinding](t)(c.FetchServiceBinding(is, sid))
	checkBinding("moved", b, sid, "carol", "apn", "apn-token-1", *apn.Sid)
	if got := sidsOf(listBindings((&conversations.ListServiceBindingParams{}).SetIdentity([]string{"carol"}))); !slices.Equal(got, []string{sid}) {
		t.Fatalf("carol's bindings %v", got)
	}
	if got := sidsOf(listBindings((&conversations.ListServiceBindingParams{}).SetIdentity([]string{"alice"}))); !slices.Equal(got, []string{aliceGCM}) {
		t.Fatalf("alice's bindings %v", got)
	}
	if !isTrue(notifiable("carol")) || !isTrue(notifiable("alice")) {
		t.Fatalf("after the move: carol %v alice %v", notifiable("carol"), notifiable("alice"))
	}
	// The same address under another type is another device.
	other := register("alice", "fcm", "apn-token-1", *fcm.Sid)["sid"].(string)
	if other == sid {
		t.Fatal("a fcm binding took the apn binding's SID")
	}
	// Moved back, with another credential: carol loses her only binding.
	back := register("alice", "apn", "apn-token-1", *apn2.Sid)
	if back["sid"] != sid || back["identity"] != "alice" || back["credential_sid"] != *apn2.Sid {
		t.Fatalf("moved back %v", back)
	}
	checkBinding("moved back", must[*conversations.ConversationsV1ServiceBinding](t)(c.FetchServiceBinding(is, sid)),
		sid, "alice", "apn", "apn-token-1", *apn2.Sid)
	if !isFalse(notifiable("carol")) || !isTrue(notifiable("alice")) {
		t.Fatalf("after the move back: carol %v alice %v", notifiable("carol"), notifiable("alice"))
	}
	// Registering again for the same user changes nothing but the date.
	if again := register("alice", "apn", "apn-token-1", *apn2.Sid); again["sid"] != sid || again["date_created"] != created {
		t.Fatalf("registered again %v", again)
	}
	if got := sidsOf(listBindings((&conversations.ListServiceBindingParams{}).SetIdentity([]string{"alice"}))); !slices.Equal(got, []string{sid, aliceGCM, other}) {
		t.Fatalf("alice's bindings %v", got)
	}

	// Deleting bindings: the user stays notifiable until its last one goes.
	for _, s := range []string{aliceGCM, other, sid} {
		if !isTrue(notifiable("alice")) {
			t.Fatalf("alice not notifiable before deleting %s", s)
		}
		if err := c.DeleteServiceBinding(is, s); err != nil {
			t.Fatal(err)
		}
	}
	if !isFalse(notifiable("alice")) {
		t.Fatalf("alice after her last binding: %v", notifiable("alice"))
	}
	if !isFalse(notifiable("carol")) || !isTrue(notifiable("bob")) {
		t.Fatalf("carol %v bob %v", notifiable("carol"), notifiable("bob"))
	}
	_, err = c.FetchServiceBinding(is, sid)
	pushErr(t, err, 404, 20404, "The requested resource /Services/"+is+"/Bindings/"+sid+" was not found")
	err = c.DeleteServiceBinding(is, sid)
	pushErr(t, err, 404, 20404, "The requested resource /Services/"+is+"/Bindings/"+sid+" was not found")
	if got := sidsOf(listBindings(nil)); !slices.Equal(got, []string{bobFCM, sock}) {
		t.Fatalf("after deletes: %v", got)
	}

	// The control's errors, as Twilio's JSON.
	refuse := func(form url.Values, status, code int, message string) {
		t.Helper()
		got, body := pushControl(t, srv, path, form)
		pushControlErr(t, got, body, status, code, message)
	}
	dev := func(identity, typ, cred string) url.Values {
		v := url.Values{"Identity": {identity}, "BindingType": {typ}, "Address": {"device-x"}}
		if cred != "" {
			v.Set("CredentialSid", cred)
		}
		return v
	}
	refuse(url.Values{"BindingType": {"apn"}, "Address": {"a"}}, 400, 20001, "Missing required parameter Identity in the post body")
	refuse(url.Values{"Identity": {"alice"}, "Address": {"a"}}, 400, 20001, "Missing required parameter BindingType in the post body")
	refuse(url.Values{"Identity": {"alice"}, "BindingType": {"apn"}}, 400, 20001, "Missing required parameter Address in the post body")
	refuse(dev("alice", "sms", ""), 400, 20001, "Invalid BindingType: must be one of apn, gcm, fcm, twilsock")
	refuse(dev("alice", "apn", ""), 400, 20001, "Missing required parameter CredentialSid in the post body")
	refuse(dev("alice", "twilsock", *apn.Sid), 400, 20001, "Invalid CredentialSid: twilsock bindings take none")
	refuse(dev("alice", "apn", *gcm.Sid), 400, 20001, "Invalid CredentialSid: credential "+*gcm.Sid+" (type gcm) cannot push to apn bindings")
	refuse(dev("alice", "apn", *fcm.Sid), 400, 20001, "Invalid CredentialSid: credential "+*fcm.Sid+" (type fcm) cannot push to apn bindings")
	refuse(dev("alice", "fcm", *apn.Sid), 400, 20001, "Invalid CredentialSid: credential "+*apn.Sid+" (type apn) cannot push to fcm bindings")
	refuse(dev("alice", "gcm", *apn.Sid), 400, 20001, "Invalid CredentialSid: credential "+*apn.Sid+" (type apn) cannot push to gcm bindings")
	refuse(dev("alice", "gcm", "IS00000000000000000000000000000000"), 400, 20001,
		`Invalid CredentialSid: "IS00000000000000000000000000000000" is not a credential SID`)
	refuse(dev("alice", "gcm", "CR00000000000000000000000000000000"), 400, 20001,
		"Invalid CredentialSid: there is no credential CR00000000000000000000000000000000")
	refuse(dev("nobody", "gcm", *gcm.Sid), 404, 20404, `No user with identity "nobody" in the service`)
	got, body := pushControl(t, srv, "/parley/v1/Services/IS00000000000000000000000000000000/Bindings", dev("alice", "gcm", *gcm.Sid))
	if got != 404 || body["code"] != 20404.0 {
		t.Fatalf("unknown service: %d %v", got, body)
	}
	if got := sidsOf(listBindings(nil)); !slices.Equal(got, []string{bobFCM, sock}) {
		t.Fatalf("refused registrations left %v", got)
	}
	_, err = c.ListServiceBinding("IS00000000000000000000000000000000", nil)
	pushErr(t, err, 404, 20404, "The requested resource /Services/IS00000000000000000000000000000000/Bindings was not found")

	// Bindings belong to their service: another service's is not found
	// through this one, and the same device may register in both.
	svc := must[*conversations.ConversationsV1Service](t)(c.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("Other")))
	must[*conversations.ConversationsV1ServiceUser](t)(c.CreateServiceUser(*svc.Sid, (&conversations.CreateServiceUserParams{}).SetIdentity("bob")))
	st, ob := pushControl(t, srv, "/parley/v1/Services/"+*svc.Sid+"/Bindings",
		url.Values{"Identity": {"bob"}, "BindingType": {"fcm"}, "Address": {"fcm-token-1"}, "CredentialSid": {*fcm.Sid}})
	osid, _ := ob["sid"].(string)
	if st != 201 || osid == bobFCM || ob["chat_service_sid"] != *svc.Sid {
		t.Fatalf("other service: %d %v", st, ob)
	}
	_, err = c.FetchServiceBinding(is, osid)
	pushErr(t, err, 404, 20404, "The requested resource /Services/"+is+"/Bindings/"+osid+" was not found")
	if got := sidsOf(must[[]conversations.ConversationsV1ServiceBinding](t)(c.ListServiceBinding(*svc.Sid, nil))); !slices.Equal(got, []string{osid}) {
		t.Fatalf("other service's bindings %v", got)
	}

	// A deleted user's bindings go with it.
	if err := c.DeleteUser("bob", nil); err != nil {
		t.Fatal(err)
	}
	if got := sidsOf(listBindings(nil)); len(got) != 0 {
		t.Fatalf("after deleting bob: %v", got)
	}
	_, err = c.FetchServiceBinding(is, bobFCM)
	pushErr(t, err, 404, 20404, "The requested resource /Services/"+is+"/Bindings/"+bobFCM+" was not found")
	if got := sidsOf(must[[]conversations.ConversationsV1ServiceBinding](t)(c.ListServiceBinding(*svc.Sid, nil))); !slices.Equal(got, []string{osid}) {
		t.Fatalf("other service's bindings after deleting the default service's bob: %v", got)
	}
}

// TestSDKNotifications reads and writes a service's push notification
// settings through twilio-go.
func TestSDKNotifications(t *testing.T) {
	t.Parallel()
	srv := parleytest.New(t)
	c := srv.Client().ConversationsV1
	svc := must[*conversations.ConversationsV1Service](t)(c.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("Push")))
	is := *svc.Sid
	mustN := must[*conversations.ConversationsV1ServiceNotification](t)

	type want struct {
		log                   bool
		newMessage, withMedia map[string]any
		added, removed        map[string]any
	}
	check := func(what, is string, n *conversations.ConversationsV1ServiceNotification, w want) {
		t.Helper()
		if !pushStrIs(n.AccountSid, srv.AccountSid) || !pushStrIs(n.ChatServiceSid, is) ||
			!pushStrIs(n.Url, srv.URL+"/v1/Services/"+is+"/Configuration/Notifications") || n.LogEnabled == nil || *n.LogEnabled != w.log {
			t.Fatalf("%s: %+v", what, n)
		}
		nm := map[string]any{}
		for k, v := range w.newMessage {
			nm[k] = v
		}
		nm["with_media"] = w.withMedia
		pushDeepEqual(t, what+": new_message", n.NewMessage, nm)
		pushDeepEqual(t, what+": added_to_conversation", n.AddedToConversation, w.added)
		pushDeepEqual(t, what+": removed_from_conversation", n.RemovedFromConversation, w.removed)
	}
	fresh := want{
		newMessage: map[string]any{"enabled": false, "template": nil, "sound": nil, "badge_count_enabled": false},
		withMedia:  map[string]any{"enabled": false, "template": nil},
		added:      map[string]any{"enabled": false, "template": nil, "sound": nil},
		removed:    map[string]any{"enabled": false, "template": nil, "sound": nil},
	}
	check("fresh", is, mustN(c.FetchServiceNotification(is)), fresh)
	check("fresh default service", srv.DefaultServiceSid, mustN(c.FetchServiceNotification(srv.DefaultServiceSid)), fresh)

	// Every parameter at once.
	full := want{log: true,
		newMessage: map[string]any{"enabled": true, "template": "${USER}: ${MESSAGE}", "sound": "ping.caf", "badge_count_enabled": true},
		withMedia:  map[string]any{"enabled": true, "template": "${USER} sent a file"},
		added:      map[string]any{"enabled": true, "template": "You joined ${CONVERSATION}", "sound": "join.caf"},
		removed:    map[string]any{"enabled": true, "template": "You left ${CONVERSATION}", "sound": "leave.caf"},
	}
	n := mustN(c.UpdateServiceNotification(is, (&conversations.UpdateServiceNotificationParams{}).
		SetLogEnabled(true).
		SetNewMessageEnabled(true).SetNewMessageTemplate("${USER}: ${MESSAGE}").SetNewMessageSound("ping.caf").
		SetNewMessageBadgeCountEnabled(true).
		SetNewMessageWithMediaEnabled(true).SetNewMessageWithMediaTemplate("${USER} sent a file").
		SetAddedToConversationEnabled(true).SetAddedToConversationTemplate("You joined ${CONVERSATION}").SetAddedToConversationSound("join.caf").
		SetRemovedFromConversationEnabled(true).SetRemovedFromConversationTemplate("You left ${CONVERSATION}").SetRemovedFromConversationSound("leave.caf")))
	check("updated", is, n, full)
	check("fetched", is, mustN(c.FetchServiceNotification(is)), full)
	// The other service is untouched.
	check("default service untouched", srv.DefaultServiceSid, mustN(c.FetchServiceNotification(srv.DefaultServiceSid)), fresh)

	// A partial update keeps the rest; empty text clears to null.
	n = mustN(c.UpdateServiceNotification(is, (&conversations.UpdateServiceNotificationParams{}).
		SetNewMessageTemplate("New: ${MESSAGE}").SetAddedToConversationEnabled(false).SetRemovedFromConversationSound("")))
	partial := full
	partial.newMessage = map[string]any{"enabled": true, "template": "New: ${MESSAGE}", "sound": "ping.caf", "badge_count_enabled": true}
	partial.added = map[string]any{"enabled": false, "template": "You joined ${CONVERSATION}", "sound": "join.caf"}
	partial.removed = map[string]any{"enabled": true, "template": "You left ${CONVERSATION}", "sound": nil}
	check("partial", is, n, partial)
	check("partial fetched", is, mustN(c.FetchServiceNotification(is)), partial)
	n = mustN(c.UpdateServiceNotification(is, (&conversations.UpdateServiceNotificationParams{}).
		SetLogEnabled(false).SetNewMessageWithMediaTemplate("").SetNewMessageBadgeCountEnabled(false)))
	partial.log = false
	partial.withMedia = map[string]any{"enabled": true, "template": nil}
	partial.newMessage = map[string]any{"enabled": true, "template": "New: ${MESSAGE}", "sound": "ping.caf", "badge_count_enabled": false}
	check("second partial", is, n, partial)
	// Nothing sent changes nothing.
	check("empty update", is, mustN(c.UpdateServiceNotification(is, &conversations.UpdateServiceNotificationParams{})), partial)

	_, err := c.UpdateServiceNotification(is, (&conversations.UpdateServiceNotificationParams{}).SetNewMessageTemplate(strings.Repeat("x", 4097)))
	pushErr(t, err, 400, 20001, "Invalid NewMessage.Template: at most 4096 characters")
	check("after refused update", is, mustN(c.FetchServiceNotification(is)), partial)
	_, err = c.FetchServiceNotification("IS00000000000000000000000000000000")
	pushErr(t, err, 404, 20404, "The requested resource /Services/IS00000000000000000000000000000000/Configuration/Notifications was not found")
}

// TestSDKInbound: a message that arrives at an address with an address
// configuration creates a conversation, which twilio-go then reads; the
// next message of the same pair joins it.
func TestSDKInbound(t *testing.T) {
	t.Parallel()
	type hit struct {
		method string
		path   string
		form   url.Values
	}
	hits := make(chan hit, 64)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		hits <- hit{r.Method, r.URL.Path, r.PostForm}
	}))
	t.Cleanup(hook.Close)

	srv := parleytest.New(t)
	c := srv.Client().ConversationsV1
	is := srv.DefaultServiceSid
	const from, to = "+15551230001", "+15557654321"
	ac := must[*conversations.ConversationsV1ConfigurationAddress](t)(c.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).
		SetType("sms").SetAddress(to).SetAutoCreationEnabled(true).SetAutoCreationType("webhook").
		SetAutoCreationWebhookUrl(hook.URL + "/auto").SetAutoCreationWebhookMethod("POST").
		SetAutoCreationWebhookFilters([]string{"onMessageAdded", "onConversationUpdated"})))

	inbound := func(form url.Values) map[string]any {
		t.Helper()
		status, b := pushControl(t, srv, "/parley/v1/Inbound", form)
		if status != 201 {
			t.Fatalf("inbound %v: %d %v", form, status, b)
		}
		return b
	}
	first := inbound(url.Values{"From": {from}, "To": {to}, "Body": {"Hello?"}})
	conv, _ := first["conversation_sid"].(string)
	part, _ := first["participant_sid"].(string)
	msg, _ := first["message_sid"].(string)
	if !strings.HasPrefix(conv, "CH") || !strings.HasPrefix(part, "MB") || !strings.HasPrefix(msg, "IM") {
		t.Fatalf("inbound %v", first)
	}
	wantFirst := map[string]any{"account_sid": srv.AccountSid, "chat_service_sid": is, "conversation_sid": conv,
		"participant_sid": part, "message_sid": msg, "address_configuration_sid": *ac.Sid, "conversation_created": true,
		"url": srv.URL + "/v1/Services/" + is + "/Conversations/" + conv + "/Messages/" + msg}
	if !reflect.DeepEqual(first, wantFirst) {
		t.Fatalf("inbound\n got %v\nwant %v", first, wantFirst)
	}

	// The conversation, as twilio-go reads it.
	cv := must[*conversations.ConversationsV1Conversation](t)(c.FetchConversation(conv))
	if !pushStrIs(cv.Sid, conv) || !pushStrIs(cv.ChatServiceSid, is) || !pushStrIs(cv.AccountSid, srv.AccountSid) || !pushStrIs(cv.State, "active") ||
		cv.UniqueName != nil || !pushStrIs(cv.Attributes, "{}") || !pushStrIs(cv.Url, srv.URL+"/v1/Conversations/"+conv) {
		t.Fatalf("conversation %+v", cv)
	}
	if list := must[[]conversations.ConversationsV1Conversation](t)(c.ListConversation(nil)); len(list) != 1 || *list[0].Sid != conv {
		t.Fatalf("conversations %v", list)
	}
	parts := must[[]conversations.ConversationsV1ConversationParticipant](t)(c.ListConversationParticipant(conv, nil))
	if len(parts) != 1 || !pushStrIs(parts[0].Sid, part) || parts[0].Identity != nil || !pushStrIs(parts[0].ConversationSid, conv) {
		t.Fatalf("participants %+v", parts)
	}
	pushDeepEqual(t, "messaging_binding", parts[0].MessagingBinding, map[string]any{"type": "sms", "address": from, "proxy_address": to})
	msgs := must[[]conversations.ConversationsV1ConversationMessage](t)(c.ListConversationMessage(conv, nil))
	if len(msgs) != 1 || !pushStrIs(msgs[0].Sid, msg) || msgs[0].Index != 0 || !pushStrIs(msgs[0].Author, from) ||
		!pushStrIs(msgs[0].ParticipantSid, part) || !pushStrIs(msgs[0].Body, "Hello?") || msgs[0].Media != nil {
		t.Fatalf("messages %+v", msgs)
	}
	hooks := must[[]conversations.ConversationsV1ConversationScopedWebhook](t)(c.ListConversationScopedWebhook(conv, nil))
	if len(hooks) != 1 || !pushStrIs(hooks[0].Target, "webhook") || !pushStrIs(hooks[0].ConversationSid, conv) ||
		!strings.HasPrefix(*hooks[0].Sid, "WH") || !pushStrIs(hooks[0].Url, srv.URL+"/v1/Conversations/"+conv+"/Webhooks/"+*hooks[0].Sid) {
		t.Fatalf("scoped webhooks %+v", hooks)
	}
	pushDeepEqual(t, "scoped webhook configuration", hooks[0].Configuration,
		map[string]any{"url": hook.URL + "/auto", "method": "post", "filters": []any{"onMessageAdded", "onConversationUpdated"}})

	// The conversation's webhook hears of the message, from SMS.
	waitHit := func() hit {
		t.Helper()
		select {
		case h := <-hits:
			return h
		case <-time.After(10 * time.Second):
			t.Fatal("no webhook delivery")
		}
		panic("unreachable")
	}
	h := waitHit()
	if h.method != "POST" || h.path != "/auto" || h.form.Get("EventType") != "onMessageAdded" || h.form.Get("Source") != "SMS" ||
		h.form.Get("ConversationSid") != conv || h.form.Get("MessageSid") != msg || h.form.Get("Author") != from ||
		h.form.Get("ParticipantSid") != part || h.form.Get("Body") != "Hello?" || h.form.Get("WebhookSid") != *hooks[0].Sid {
		t.Fatalf("delivery %s %s %v", h.method, h.path, h.form)
	}

	// The same pair again: the same conversation, no configuration.
	second := inbound(url.Values{"From": {from}, "To": {to}, "Body": {"Anyone there?"}})
	msg2, _ := second["message_sid"].(string)
	wantSecond := map[string]any{"account_sid": srv.AccountSid, "chat_service_sid": is, "conversation_sid": conv,
		"participant_sid": part, "message_sid": msg2, "address_configuration_sid": nil, "conversation_created": false,
		"url": srv.URL + "/v1/Services/" + is + "/Conversations/" + conv + "/Messages/" + msg2}
	if !reflect.DeepEqual(second, wantSecond) || msg2 == msg {
		t.Fatalf("second inbound\n got %v\nwant %v", second, wantSecond)
	}
	m2 := must[*conversations.ConversationsV1ConversationMessage](t)(c.FetchConversationMessage(conv, msg2))
	if m2.Index != 1 || !pushStrIs(m2.Author, from) || !pushStrIs(m2.ParticipantSid, part) || !pushStrIs(m2.Body, "Anyone there?") {
		t.Fatalf("second message %+v", m2)
	}
	if h := waitHit(); h.form.Get("EventType") != "onMessageAdded" || h.form.Get("MessageSid") != msg2 || h.form.Get("Index") != "1" {
		t.Fatalf("second delivery %v", h.form)
	}
	if n := len(must[[]conversations.ConversationsV1Conversation](t)(c.ListConversation(nil))); n != 1 {
		t.Fatalf("%d conversations after the second message", n)
	}
	if n := len(must[[]conversations.ConversationsV1ConversationScopedWebhook](t)(c.ListConversationScopedWebhook(conv, nil))); n != 1 {
		t.Fatalf("%d scoped webhooks after the second message", n)
	}

	// Another sender to the same address: a conversation of its own.
	third := inbound(url.Values{"From": {"+15551230002"}, "To": {to}, "Body": {"Hi"}})
	if third["conversation_sid"] == conv || third["conversation_created"] != true || third["address_configuration_sid"] != *ac.Sid {
		t.Fatalf("third inbound %v", third)
	}
	waitHit()

	// A whatsapp address with studio, configured by its bare number: the
	// conversation goes to the configuration's service and gets a studio
	// webhook, which parley never runs.
	support := must[*conversations.ConversationsV1Service](t)(c.CreateService((&conversations.CreateServiceParams{}).SetFriendlyName("Support")))
	wa := must[*conversations.ConversationsV1ConfigurationAddress](t)(c.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).
		SetType("whatsapp").SetAddress("+15550001111").SetAutoCreationEnabled(true).SetAutoCreationType("studio").
		SetAutoCreationStudioFlowSid(pushFlow).SetAutoCreationConversationServiceSid(*support.Sid)))
	w := inbound(url.Values{"From": {"whatsapp:+15551230001"}, "To": {"whatsapp:+15550001111"}, "Body": {"Hola"}})
	wconv, _ := w["conversation_sid"].(string)
	if w["chat_service_sid"] != *support.Sid || w["address_configuration_sid"] != *wa.Sid || w["conversation_created"] != true {
		t.Fatalf("whatsapp inbound %v", w)
	}
	wparts := must[[]conversations.ConversationsV1ServiceConversationParticipant](t)(c.ListServiceConversationParticipant(*support.Sid, wconv, nil))
	if len(wparts) != 1 {
		t.Fatalf("whatsapp participants %+v", wparts)
	}
	pushDeepEqual(t, "whatsapp messaging_binding", wparts[0].MessagingBinding,
		map[string]any{"type": "whatsapp", "address": "whatsapp:+15551230001", "proxy_address": "whatsapp:+15550001111"})
	whooks := must[[]conversations.ConversationsV1ServiceConversationScopedWebhook](t)(c.ListServiceConversationScopedWebhook(*support.Sid, wconv, nil))
	if len(whooks) != 1 || !pushStrIs(whooks[0].Target, "studio") {
		t.Fatalf("whatsapp webhooks %+v", whooks)
	}
	pushDeepEqual(t, "studio webhook configuration", whooks[0].Configuration, map[string]any{"flow_sid": pushFlow})
	_, err := c.FetchConversation(wconv)
	pushErr(t, err, 404, 20404, "The requested resource /Conversations/"+wconv+" was not found")

	// What parley refuses.
	refuse := func(form url.Values, status, code int, message string) {
		t.Helper()
		got, body := pushControl(t, srv, "/parley/v1/Inbound", form)
		pushControlErr(t, got, body, status, code, message)
	}
	refuse(url.Values{"To": {to}, "Body": {"x"}}, 400, 20001, "Missing required parameter From in the post body")
	refuse(url.Values{"From": {from}, "Body": {"x"}}, 400, 20001, "Missing required parameter To in the post body")
	refuse(url.Values{"From": {"alice"}, "To": {to}, "Body": {"x"}}, 400, 20001,
		`Invalid From: "alice" is not a phone number in E.164 (+15551234567), bare or after whatsapp: or rcs:`)
	refuse(url.Values{"From": {from}, "To": {"+15550009999"}, "Body": {"x"}}, 404, 20404,
		"No open conversation holds the pair (From, To), and +15550009999 has no address configuration to create one")
	must[*conversations.ConversationsV1ConfigurationAddress](t)(c.UpdateConfigurationAddress(to,
		(&conversations.UpdateConfigurationAddressParams{}).SetAutoCreationEnabled(false)))
	refuse(url.Values{"From": {"+15551230003"}, "To": {to}, "Body": {"x"}}, 404, 20404,
		"No open conversation holds the pair (From, To), and auto-creation is off in "+to+"'s address configuration "+*ac.Sid)
	// An existing pair still lands in its conversation.
	if got := inbound(url.Values{"From": {from}, "To": {to}, "Body": {"still here"}}); got["conversation_sid"] != conv {
		t.Fatalf("with auto-creation off: %v", got)
	}
	if n := len(must[[]conversations.ConversationsV1ConversationMessage](t)(c.ListConversationMessage(conv, nil))); n != 3 {
		t.Fatalf("%d messages", n)
	}
	waitHit()
	refuse(url.Values{"From": {from}, "To": {to}}, 400, 50503, "Message body not provided")

	// Deleting the configuration leaves what it created: the
	// conversation, and the pair's messages still land in it.
	if err := c.DeleteConfigurationAddress(to); err != nil {
		t.Fatal(err)
	}
	if got := inbound(url.Values{"From": {from}, "To": {to}, "Body": {"after the delete"}}); got["conversation_sid"] != conv ||
		got["conversation_created"] != false {
		t.Fatalf("after deleting the configuration: %v", got)
	}
	must[*conversations.ConversationsV1Conversation](t)(c.FetchConversation(conv))
	refuse(url.Values{"From": {"+15551230004"}, "To": {to}, "Body": {"x"}}, 404, 20404,
		"No open conversation holds the pair (From, To), and "+to+" has no address configuration to create one")

	// Type default: a conversation and its participant, no webhook.
	plain := must[*conversations.ConversationsV1ConfigurationAddress](t)(c.CreateConfigurationAddress((&conversations.CreateConfigurationAddressParams{}).
		SetType("sms").SetAddress("+15550003333").SetAutoCreationEnabled(true).SetAutoCreationType("default")))
	d := inbound(url.Values{"From": {from}, "To": {"+15550003333"}, "Body": {"plain"}})
	dconv, _ := d["conversation_sid"].(string)
	if dconv == conv || d["conversation_created"] != true || d["address_configuration_sid"] != *plain.Sid || d["chat_service_sid"] != is {
		t.Fatalf("default-type inbound %v", d)
	}
	if n := len(must[[]conversations.ConversationsV1ConversationScopedWebhook](t)(c.ListConversationScopedWebhook(dconv, nil))); n != 0 {
		t.Fatalf("%d scoped webhooks on a default-type conversation", n)
	}
	dparts := must[[]conversations.ConversationsV1ConversationParticipant](t)(c.ListConversationParticipant(dconv, nil))
	if len(dparts) != 1 || !pushStrIs(dparts[0].Sid, d["participant_sid"].(string)) {
		t.Fatalf("default-type participants %+v", dparts)
	}
	pushDeepEqual(t, "default-type messaging_binding", dparts[0].MessagingBinding, map[string]any{"type": "sms", "address": from, "proxy_address": "+15550003333"})
}
