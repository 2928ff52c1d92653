package api_test

import (
	"fmt"
	"strings"
	"testing"
)

// addressBody is the expected JSON of address configuration $IG<n>.
func addressBody(n int, typ, address, name, country, autoCreation string) string {
	return fmt.Sprintf(`{"sid":"$IG%d","account_sid":"$AC","type":%q,"address":%q,"friendly_name":%s,
		"auto_creation":%s,"date_created":"%s","date_updated":"%s","url":"$BASE/v1/Configuration/Addresses/$IG%d",
		"address_country":%s}`, n, typ, address, name, autoCreation, stamp, stamp, n, country)
}

const (
	autoWebhook = `{"enabled":true,"type":"webhook","conversation_service_sid":"$IS","webhook_url":"https://bot.test/in",
		"webhook_method":"POST","webhook_filters":["onParticipantAdded","onMessageAdded"]}`
	autoStudio = `{"enabled":false,"type":"studio","conversation_service_sid":null,
		"studio_flow_sid":"FW0123456789abcdef0123456789abcdef","studio_retry_count":3}`
	flow = "FW0123456789abcdef0123456789abcdef"
)

func TestAddressConfigurations(t *testing.T) {
	t.Parallel()
	webhookForm := form("Type", "SMS", "Address", "+15557654321", "FriendlyName", "Support", "AddressCountry", "us",
		"AutoCreation.Enabled", "true", "AutoCreation.Type", "webhook", "AutoCreation.ConversationServiceSid", IS,
		"AutoCreation.WebhookUrl", "https://bot.test/in", "AutoCreation.WebhookMethod", "post",
		"AutoCreation.WebhookFilters", "onparticipantadded", "AutoCreation.WebhookFilters", "onMessageAdded")
	sms := addressBody(1, "sms", "+15557654321", `"Support"`, `"US"`, autoWebhook)
	wa := addressBody(2, "whatsapp", "whatsapp:+15550001111", "null", "null", autoStudio)
	email := addressBody(3, "email", "help@example.com", "null", "null", `{"enabled":true,"type":"default"}`)
	e := newEnv(t)
	e.run(
		want(post("/v1/Configuration/Addresses", webhookForm), 201, sms),
		want(post("/v1/Configuration/Addresses", form("Type", "whatsapp", "Address", "whatsapp:+15550001111",
			"AutoCreation.Type", "studio", "AutoCreation.StudioFlowSid", flow, "AutoCreation.StudioRetryCount", "3")), 201, wa),
		// Auto-creation's type defaults to "default", which shows only
		// enabled and type.
		want(post("/v1/Configuration/Addresses", "Type=email&Address=help%40example.com&AutoCreation.Enabled=true"), 201, email),
		// Fetch by SID, or by the address itself (+ sent as %2B).
		want(get("/v1/Configuration/Addresses/$IG1"), 200, sms),
		want(get("/v1/Configuration/Addresses/%2B15557654321"), 200, sms),
		want(get("/v1/Configuration/Addresses/whatsapp:%2B15550001111"), 200, wa),
		want(get("/v1/Configuration/Addresses"), 200, listBody("/v1/Configuration/Addresses", "address_configurations", 50, sms, wa, email)),
		want(getQ("/v1/Configuration/Addresses", "Type=WhatsApp"), 200, strings.ReplaceAll(
			listBody("/v1/Configuration/Addresses", "address_configurations", 50, wa), "?PageSize", "?Type=WhatsApp&PageSize")),
		// One configuration per address (decision 7).
		want(post("/v1/Configuration/Addresses", "Type=sms&Address=%2B15557654321"), 409,
			errBody(409, 20001, "Address configuration already exists")),
		// Update: what is sent changes; a change of type shows that type's
		// fields, kept from before.
		want(post("/v1/Configuration/Addresses/%2B15557654321", "FriendlyName=&AutoCreation.WebhookMethod=GET"), 200,
			addressBody(1, "sms", "+15557654321", "null", `"US"`, strings.Replace(autoWebhook, `"POST"`, `"GET"`, 1))),
		want(post("/v1/Configuration/Addresses/$IG2", "AutoCreation.Enabled=true&AutoCreation.Type=webhook&AutoCreation.WebhookUrl=https%3A%2F%2Fa.test%2F"), 200,
			addressBody(2, "whatsapp", "whatsapp:+15550001111", "null", "null", `{"enabled":true,"type":"webhook",
				"conversation_service_sid":null,"webhook_url":"https://a.test/","webhook_method":"POST","webhook_filters":[]}`)),
		want(post("/v1/Configuration/Addresses/$IG2", "AutoCreation.Type=studio&AutoCreation.Enabled=false"), 200, wa),
		want(del("/v1/Configuration/Addresses/$IG2"), 204, ""),
		want(get("/v1/Configuration/Addresses/$IG2"), 404, notFoundBody("/Configuration/Addresses/$IG2")),
		want(del("/v1/Configuration/Addresses/help@example.com"), 204, ""),
		want(post("/v1/Configuration/Addresses/help@example.com", "FriendlyName=x"), 404, notFoundBody("/Configuration/Addresses/help@example.com")),
		want(get("/v1/Configuration/Addresses"), 200, listBody("/v1/Configuration/Addresses", "address_configurations", 50,
			addressBody(1, "sms", "+15557654321", "null", `"US"`, strings.Replace(autoWebhook, `"POST"`, `"GET"`, 1)))),
	)
}

func TestAddressConfigurationValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := func(form string, status, code int, message string) step {
		return want(post("/v1/Configuration/Addresses", form), status, errBody(status, code, message))
	}
	e.run(
		bad("Address=%2B15550001111", 400, 20001, "Missing required parameter Type in the post body"),
		bad("Type=sms", 400, 20001, "Missing required parameter Address in the post body"),
		bad("Type=fax&Address=1", 400, 20001, "Invalid Type: must be one of sms, whatsapp, messenger, gbm, email, rcs, apple, chat"),
		bad("Type=sms&Address=%2B1%0A", 400, 20001, "Invalid Address: at most 256 printable characters"),
		bad("Type=sms&Address=a&AddressCountry=USA", 400, 20001, `Invalid AddressCountry: "USA" is not an ISO 3166-1 alpha-2 country code`),
		bad(form("Type", "sms", "Address", "a", "FriendlyName", strings.Repeat("n", 257)), 400, 50003, "Friendly name too long"),
		bad("Type=sms&Address=a&AutoCreation.Type=flex", 400, 20001, "Invalid AutoCreation.Type: must be one of webhook, studio, default"),
		bad("Type=sms&Address=a&AutoCreation.Enabled=true&AutoCreation.Type=webhook", 400, 20001,
			"AutoCreation.WebhookUrl is required when auto-creation of type webhook is enabled"),
		bad("Type=sms&Address=a&AutoCreation.Enabled=true&AutoCreation.Type=studio", 400, 20001,
			"AutoCreation.StudioFlowSid is required when auto-creation of type studio is enabled"),
		bad("Type=sms&Address=a&AutoCreation.WebhookUrl=ftp%3A%2F%2Fx", 400, 20001,
			`Invalid AutoCreation.WebhookUrl: "ftp://x" is not an absolute http or https URL`),
		bad("Type=sms&Address=a&AutoCreation.WebhookFilters=onUserAdded", 400, 20001,
			`Invalid AutoCreation.WebhookFilters: "onUserAdded" is not a conversation event`),
		bad("Type=sms&Address=a&AutoCreation.StudioFlowSid=FW1", 400, 20001,
			`Invalid AutoCreation.StudioFlowSid: "FW1" is not a Studio flow SID (FW…)`),
		bad("Type=sms&Address=a&AutoCreation.StudioRetryCount=4", 400, 20001, "Invalid AutoCreation.StudioRetryCount: must be 0 to 3"),
		bad("Type=sms&Address=a&AutoCreation.ConversationServiceSid=IS1", 400, 20001,
			`Invalid AutoCreation.ConversationServiceSid: "IS1" is not a Conversation Service SID`),
		bad("Type=sms&Address=a&AutoCreation.ConversationServiceSid=IS0123456789abcdef0123456789abcdef", 400, 20001,
			"Invalid AutoCreation.ConversationServiceSid: there is no service IS0123456789abcdef0123456789abcdef"),
		want(getQ("/v1/Configuration/Addresses", "Type=fax"), 400,
			errBody(400, 20001, "Invalid Type: must be one of sms, whatsapp, messenger, gbm, email, rcs, apple, chat")),
		// Nothing refused was written.
		want(get("/v1/Configuration/Addresses"), 200, listBody("/v1/Configuration/Addresses", "address_configurations", 50)),
		ok(post("/v1/Configuration/Addresses", "Type=sms&Address=a"), 201),
		// An update is judged by the configuration it leaves.
		// ($IG1 was minted for the create refused for its missing service.)
		want(post("/v1/Configuration/Addresses/$IG2", "AutoCreation.Enabled=true&AutoCreation.Type=webhook"), 400,
			errBody(400, 20001, "AutoCreation.WebhookUrl is required when auto-creation of type webhook is enabled")),
		want(get("/v1/Configuration/Addresses/$IG2"), 200, addressBody(2, "sms", "a", "null", "null", `{"enabled":false,"type":"default"}`)),
	)
}

// bindingBody is the expected JSON of binding $BS<n> of user identity.
func bindingBody(n int, identity, typ, endpoint, credential string) string {
	return fmt.Sprintf(`{"sid":"$BS%d","account_sid":"$AC","chat_service_sid":"$IS","credential_sid":%s,
		"date_created":"%s","date_updated":"%s","endpoint":%q,"identity":%q,"binding_type":%q,
		"message_types":["removed_from_conversation","new_message","added_to_conversation"],
		"url":"$BASE/v1/Services/$IS/Bindings/$BS%d"}`, n, credential, stamp, stamp, endpoint, identity, typ, n)
}

func TestBindings(t *testing.T) {
	t.Parallel()
	const register = "/parley/v1/Services/$IS/Bindings"
	phone := bindingBody(1, "alice", "apn", "token-1", `"$CR1"`)
	tab := bindingBody(2, "alice", "twilsock", "tab-1", "null")
	android := bindingBody(3, "bob", "fcm", "token-2", `"$CR2"`)
	alice := userBody("/v1", 1, "alice", RL2, "null", "{}")
	list := func(query string, items ...string) string {
		b := listBody("/v1/Services/$IS/Bindings", "bindings", 50, items...)
		if query != "" {
			b = strings.ReplaceAll(b, "?PageSize", "?"+query+"&PageSize")
		}
		return b
	}
	e := newEnv(t)
	e.run(
		ok(post("/v1/Users", "Identity=alice"), 201),
		ok(post("/v1/Users", "Identity=bob"), 201),
		ok(post("/v1/Credentials", form("Type", "apn", "Certificate", testCert, "PrivateKey", testKey)), 201),
		ok(post("/v1/Credentials", "Type=fcm&Secret=s"), 201),
		ok(post("/v1/Services/$IS/Configuration", "ReachabilityEnabled=true"), 200),
		// Before any registration is_notifiable is unknown: null.
		want(get("/v1/Users/alice"), 200, alice),
		want(post(register, "Identity=alice&BindingType=APN&Address=token-1&CredentialSid=$CR1"), 201, phone),
		want(post(register, "Identity=alice&BindingType=twilsock&Address=tab-1"), 201, tab),
		want(post(register, "Identity=bob&BindingType=fcm&Address=token-2&CredentialSid=$CR2"), 201, android),
		want(get("/v1/Users/alice"), 200, with(alice, "is_notifiable", "null", "true")),
		want(get("/v1/Services/$IS/Bindings/$BS1"), 200, phone),
		want(get("/v1/Services/$IS/Bindings"), 200, list("", phone, tab, android)),
		want(getQ("/v1/Services/$IS/Bindings", "BindingType=fcm&BindingType=APN"), 200, list("BindingType=fcm&BindingType=apn", phone, android)),
		want(getQ("/v1/Services/$IS/Bindings", "Identity=bob"), 200, list("Identity=bob", android)),
		want(getQ("/v1/Services/$IS/Bindings", "Identity=alice&BindingType=twilsock"), 200,
			list("BindingType=twilsock&Identity=alice", tab)),
		// The same device registering again is the same binding, now bob's.
		want(post(register, "Identity=bob&BindingType=apn&Address=token-1&CredentialSid=$CR1"), 201,
			bindingBody(1, "bob", "apn", "token-1", `"$CR1"`)),
		want(del("/v1/Services/$IS/Bindings/$BS2"), 204, ""),
		// Alice has no binding left.
		want(get("/v1/Users/alice"), 200, with(alice, "is_notifiable", "null", "false")),
		want(get("/v1/Services/$IS/Bindings/$BS2"), 404, notFoundBody("/Services/$IS/Bindings/$BS2")),
		want(del("/v1/Services/$IS/Bindings/$BS2"), 404, notFoundBody("/Services/$IS/Bindings/$BS2")),
		want(getQ("/v1/Services/$IS/Bindings", "BindingType=email"), 400,
			errBody(400, 20001, `Invalid BindingType: "email" is not one of apn, gcm, fcm, twilsock`)),
		want(get("/v1/Services/IS0123456789abcdef0123456789abcdef/Bindings"), 404,
			notFoundBody("/Services/IS0123456789abcdef0123456789abcdef/Bindings")),
		// Bindings go with their user.
		ok(del("/v1/Users/bob"), 204),
		want(get("/v1/Services/$IS/Bindings"), 200, list("")),
	)
}

func TestBindingValidation(t *testing.T) {
	t.Parallel()
	const register = "/parley/v1/Services/$IS/Bindings"
	e := newEnv(t)
	bad := func(form string, status, code int, message string) step {
		return want(post(register, form), status, errBody(status, code, message))
	}
	e.run(
		ok(post("/v1/Users", "Identity=alice"), 201),
		ok(post("/v1/Credentials", "Type=gcm&ApiKey=k"), 201),
		bad("BindingType=gcm&Address=t", 400, 20001, "Missing required parameter Identity in the post body"),
		bad("Identity=alice&Address=t", 400, 20001, "Missing required parameter BindingType in the post body"),
		bad("Identity=alice&BindingType=gcm", 400, 20001, "Missing required parameter Address in the post body"),
		bad("Identity=alice&BindingType=sms&Address=t", 400, 20001, "Invalid BindingType: must be one of apn, gcm, fcm, twilsock"),
		bad("Identity=alice&BindingType=gcm&Address=t", 400, 20001, "Missing required parameter CredentialSid in the post body"),
		bad("Identity=alice&BindingType=twilsock&Address=t&CredentialSid=$CR1", 400, 20001, "Invalid CredentialSid: twilsock bindings take none"),
		bad("Identity=alice&BindingType=gcm&Address=t&CredentialSid=CR1", 400, 20001, `Invalid CredentialSid: "CR1" is not a credential SID`),
		bad("Identity=alice&BindingType=gcm&Address=t&CredentialSid=CR0123456789abcdef0123456789abcdef", 400, 20001,
			"Invalid CredentialSid: there is no credential CR0123456789abcdef0123456789abcdef"),
		bad("Identity=alice&BindingType=apn&Address=t&CredentialSid=$CR1", 400, 20001,
			"Invalid CredentialSid: credential $CR1 (type gcm) cannot push to apn bindings"),
		bad("Identity=nobody&BindingType=gcm&Address=t&CredentialSid=$CR1", 404, 20404, `No user with identity "nobody" in the service`),
		want(post("/parley/v1/Services/IS0123456789abcdef0123456789abcdef/Bindings", "Identity=alice&BindingType=twilsock&Address=t"), 404,
			notFoundBody("/parley/v1/Services/IS0123456789abcdef0123456789abcdef/Bindings")),
		want(get("/v1/Services/$IS/Bindings"), 200, listBody("/v1/Services/$IS/Bindings", "bindings", 50)),
	)
}

// notificationBody is a service's push settings.
func notificationBody(log bool, newMessage, added, removed string) string {
	return fmt.Sprintf(`{"account_sid":"$AC","chat_service_sid":"$IS","new_message":%s,"added_to_conversation":%s,
		"removed_from_conversation":%s,"log_enabled":%t,"url":"$BASE/v1/Services/$IS/Configuration/Notifications"}`,
		newMessage, added, removed, log)
}

func TestNotificationSettings(t *testing.T) {
	t.Parallel()
	const off = `{"enabled":false,"template":null,"sound":null}`
	const newOff = `{"enabled":false,"template":null,"sound":null,"badge_count_enabled":false,"with_media":{"enabled":false,"template":null}}`
	all := form("LogEnabled", "true", "NewMessage.Enabled", "true", "NewMessage.Template", "${PARTICIPANT}: ${MESSAGE}",
		"NewMessage.Sound", "ring", "NewMessage.BadgeCountEnabled", "true", "NewMessage.WithMedia.Enabled", "true",
		"NewMessage.WithMedia.Template", "${MEDIA_COUNT} files", "AddedToConversation.Enabled", "true",
		"AddedToConversation.Template", "Added to ${CONVERSATION}", "AddedToConversation.Sound", "a",
		"RemovedFromConversation.Enabled", "true", "RemovedFromConversation.Template", "Removed from ${CONVERSATION}",
		"RemovedFromConversation.Sound", "r")
	newOn := `{"enabled":true,"template":"${PARTICIPANT}: ${MESSAGE}","sound":"ring","badge_count_enabled":true,
		"with_media":{"enabled":true,"template":"${MEDIA_COUNT} files"}}`
	added := `{"enabled":true,"template":"Added to ${CONVERSATION}","sound":"a"}`
	removed := `{"enabled":true,"template":"Removed from ${CONVERSATION}","sound":"r"}`
	e := newEnv(t)
	e.run(
		want(get("/v1/Services/$IS/Configuration/Notifications"), 200, notificationBody(false, newOff, off, off)),
		want(post("/v1/Services/$IS/Configuration/Notifications", all), 200, notificationBody(true, newOn, added, removed)),
		want(get("/v1/Services/$IS/Configuration/Notifications"), 200, notificationBody(true, newOn, added, removed)),
		// A partial update keeps the rest; an empty template is unset again.
		want(post("/v1/Services/$IS/Configuration/Notifications", "AddedToConversation.Enabled=false&AddedToConversation.Template="), 200,
			notificationBody(true, newOn, `{"enabled":false,"template":null,"sound":"a"}`, removed)),
		want(post("/v1/Services/$IS/Configuration/Notifications", "LogEnabled=maybe"), 400,
			errBody(400, 20001, "Invalid LogEnabled: must be true or false")),
		want(post("/v1/Services/$IS/Configuration/Notifications", form("NewMessage.Sound", strings.Repeat("s", 4097))), 400,
			errBody(400, 20001, "Invalid NewMessage.Sound: at most 4096 characters")),
		want(get("/v1/Services/IS0123456789abcdef0123456789abcdef/Configuration/Notifications"), 404,
			notFoundBody("/Services/IS0123456789abcdef0123456789abcdef/Configuration/Notifications")),
		// The service's other configuration is untouched.
		want(get("/v1/Services/$IS/Configuration"), 200, serviceConfigBody(1, 2, 4, 3, false)),
	)
}

// inboundBody is the inbound control's answer.
func inboundBody(svc string, conv, part, msg int, config string, created bool) string {
	return fmt.Sprintf(`{"account_sid":"$AC","chat_service_sid":"%s","conversation_sid":"$CH%d","participant_sid":"$MB%d",
		"message_sid":"$IM%d","address_configuration_sid":%s,"conversation_created":%t,
		"url":"$BASE/v1/Services/%s/Conversations/$CH%d/Messages/$IM%d"}`, svc, conv, part, msg, config, created, svc, conv, msg)
}

func TestInboundMessages(t *testing.T) {
	t.Parallel()
	const inbound = "/parley/v1/Inbound"
	const from, to = "+15551230001", "+15559870001"
	binding := `{"type":"sms","address":"+15551230001","proxy_address":"+15559870001"}`
	msg := func(n, conv, idx int, body string) string {
		// No receipt yet, so no delivery aggregate.
		return msgBody("/v1", n, conv, idx, from, `"`+body+`"`, "{}", fmt.Sprintf(`"$MB%d"`, conv))
	}
	e := newEnv(t)
	e.run(
		ok(post("/v1/Configuration/Addresses", form("Type", "sms", "Address", to, "AutoCreation.Enabled", "true",
			"AutoCreation.Type", "webhook", "AutoCreation.WebhookUrl", "https://bot.test/in",
			"AutoCreation.WebhookFilters", "onMessageAdded")), 201),
		// Nothing holds the pair: the configuration creates a conversation
		// with the sender, its webhook, and the message.
		want(post(inbound, form("From", from, "To", to, "Body", "hello")), 201, inboundBody("$IS", 1, 1, 1, `"$IG1"`, true)),
		want(get("/v1/Conversations/$CH1/Participants"), 200, listBody("/v1/Conversations/$CH1/Participants", "participants", 50,
			partBody("/v1", 1, 1, "null", "null", binding, "{}"))),
		want(get("/v1/Conversations/$CH1/Messages"), 200, listBody("/v1/Conversations/$CH1/Messages", "messages", 50,
			msg(1, 1, 0, "hello"))),
		want(get("/v1/Conversations/$CH1/Webhooks"), 200, listBody("/v1/Conversations/$CH1/Webhooks", "webhooks", 5,
			hookBody("/v1", 1, 1, "webhook", `{"url":"https://bot.test/in","method":"post","filters":["onMessageAdded"]}`))),
		// The pair now has a conversation: the next message joins it.
		want(post(inbound, form("From", from, "To", to, "Body", "again")), 201, inboundBody("$IS", 1, 1, 2, "null", false)),
		want(get("/v1/Conversations/$CH1/Messages/$IM2"), 200, msg(2, 1, 1, "again")),
		// A closed conversation holds no pair: a new one is made.
		ok(post("/v1/Conversations/$CH1", "State=closed"), 200),
		want(post(inbound, form("From", from, "To", to, "Body", "back")), 201, inboundBody("$IS", 2, 2, 3, `"$IG1"`, true)),
		// Another service, as the configuration says.
		ok(post("/v1/Services", "FriendlyName=sales"), 201),
		ok(post("/v1/Configuration/Addresses", "Type=whatsapp&Address=whatsapp%3A%2B15559870002&AutoCreation.Enabled=true"+
			"&AutoCreation.ConversationServiceSid=$IS2"), 201),
		want(post(inbound, form("From", "whatsapp:"+from, "To", "whatsapp:+15559870002", "Body", "hi")), 201,
			inboundBody("$IS2", 3, 3, 4, `"$IG2"`, true)),
		want(get("/v1/Services/$IS2/Conversations/$CH3/Webhooks"), 200,
			listBody("/v1/Services/$IS2/Conversations/$CH3/Webhooks", "webhooks", 5)),
		// Its service deleted, the configuration still answers, can be
		// renamed, and says why it takes nothing.
		ok(del("/v1/Services/$IS2"), 204),
		want(post(inbound, form("From", "whatsapp:+15551230002", "To", "whatsapp:+15559870002", "Body", "hi")), 404, errBody(404, 20404,
			"Address configuration $IG2 creates conversations in service $IS2, which no longer exists")),
		ok(post("/v1/Configuration/Addresses/$IG2", "FriendlyName=orphan"), 200),
		// Nothing takes it.
		want(post(inbound, form("From", from, "To", "+15550000000", "Body", "hi")), 404, errBody(404, 20404,
			"No open conversation holds the pair (From, To), and +15550000000 has no address configuration to create one")),
		// A whatsapp message to a number configured for sms.
		want(post(inbound, form("From", "whatsapp:"+from, "To", "whatsapp:"+to, "Body", "hi")), 404, errBody(404, 20404,
			"No open conversation holds the pair (From, To), and whatsapp:+15559870001 has no address configuration to create one")),
		ok(post("/v1/Configuration/Addresses/$IG1", "AutoCreation.Enabled=false"), 200),
		want(post(inbound, form("From", "+15551230002", "To", to, "Body", "hi")), 404, errBody(404, 20404,
			"No open conversation holds the pair (From, To), and auto-creation is off in +15559870001's address configuration $IG1")),
		// Bad input.
		want(post(inbound, form("To", to, "Body", "hi")), 400, errBody(400, 20001, "Missing required parameter From in the post body")),
		want(post(inbound, form("From", from, "Body", "hi")), 400, errBody(400, 20001, "Missing required parameter To in the post body")),
		want(post(inbound, form("From", "alice", "To", to, "Body", "hi")), 400, errBody(400, 20001,
			`Invalid From: "alice" is not a phone number in E.164 (+15551234567), bare or after whatsapp: or rcs:`)),
		want(post(inbound, form("From", from, "To", to)), 400, errBody(400, 50503, "Message body not provided")),
		want(post(inbound, form("From", from, "To", to, "MediaSid", "ME0123456789abcdef0123456789abcdef",
			"MediaUrl", "https://a.test/x.png")), 400, errBody(400, 20001, "Send MediaUrl or MediaSid, not both")),
		want(post(inbound, form("From", from, "To", to, "MediaUrl", "ftp://a.test/x.png")), 400, errBody(400, 20001,
			`Invalid MediaUrl: "ftp://a.test/x.png" is not an absolute http or https URL`)),
	)
}
