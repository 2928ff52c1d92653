package api_test

import (
	"fmt"
	"strings"
	"testing"
)

func serviceBody(n int, name string) string {
	self := fmt.Sprintf("$BASE/v1/Services/$IS%d", n)
	return fmt.Sprintf(`{"account_sid":"$AC","sid":"$IS%d","friendly_name":%q,"date_created":"%s","date_updated":"%s",
		"url":"%s","links":{"conversations":"%s/Conversations","users":"%s/Users","roles":"%s/Roles",
		"bindings":"%s/Bindings","configuration":"%s/Configuration",
		"participant_conversations":"%s/ParticipantConversations",
		"conversation_with_participants":"%s/ConversationWithParticipants"}}`,
		n, name, stamp, stamp, self, self, self, self, self, self, self, self)
}

// roleBody is the expected JSON of role $RL<n> in service $IS<svc>.
func roleBody(prefix string, n, svc int, name, typ string, perms ...string) string {
	return fmt.Sprintf(`{"sid":"$RL%d","account_sid":"$AC","chat_service_sid":"$IS%d","friendly_name":%q,
		"type":%q,"permissions":["%s"],"date_created":"%s","date_updated":"%s","url":"$BASE%s/Roles/$RL%d"}`,
		n, svc, name, typ, strings.Join(perms, `","`), stamp, stamp, prefix, n)
}

func serviceConfigBody(svc, chatRole, convRole, creatorRole int, reach bool) string {
	self := fmt.Sprintf("$BASE/v1/Services/$IS%d/Configuration", svc)
	return fmt.Sprintf(`{"chat_service_sid":"$IS%d","default_conversation_creator_role_sid":"$RL%d",
		"default_conversation_role_sid":"$RL%d","default_chat_service_role_sid":"$RL%d","url":"%s",
		"links":{"notifications":"%s/Notifications","webhooks":"%s/Webhooks"},"reachability_enabled":%v}`,
		svc, creatorRole, convRole, chatRole, self, self, self, reach)
}

var (
	adminPerms = []string{"addParticipant", "createConversation", "deleteAnyMessage", "deleteConversation",
		"editAnyMessage", "editAnyMessageAttributes", "editAnyUserInfo", "editConversationAttributes",
		"editConversationName", "editOwnMessage", "editOwnMessageAttributes", "editOwnUserInfo",
		"joinConversation", "removeParticipant"}
	userPerms         = []string{"createConversation", "editOwnMessage", "editOwnMessageAttributes", "editOwnUserInfo", "joinConversation"}
	channelAdminPerms = []string{"addParticipant", "deleteAnyMessage", "deleteOwnMessage", "deleteConversation",
		"editAnyMessage", "editAnyMessageAttributes", "editAnyUserInfo", "editConversationAttributes",
		"editConversationName", "editOwnMessage", "editOwnMessageAttributes", "editOwnUserInfo",
		"leaveConversation", "removeParticipant", "sendMediaMessage", "sendMessage"}
	channelUserPerms = []string{"deleteOwnMessage", "editOwnMessage", "editOwnMessageAttributes", "editOwnUserInfo",
		"leaveConversation", "sendMediaMessage", "sendMessage"}
)

// defaultRoles are the four roles a service with roles $RL<first>… gets.
func defaultRoles(prefix string, first, svc int) []string {
	return []string{
		roleBody(prefix, first, svc, "service admin", "service", adminPerms...),
		roleBody(prefix, first+1, svc, "service user", "service", userPerms...),
		roleBody(prefix, first+2, svc, "channel admin", "conversation", channelAdminPerms...),
		roleBody(prefix, first+3, svc, "channel user", "conversation", channelUserPerms...),
	}
}

func TestServices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.run(
		want(get("/v1/Services/$IS"), 200, strings.ReplaceAll(serviceBody(1, "Default Conversations Service"), "$IS1", "$IS")),
		want(post("/v1/Services", "FriendlyName=Support+desk"), 201, serviceBody(2, "Support desk")),
		want(get("/v1/Services/$IS2"), 200, serviceBody(2, "Support desk")),
		want(post("/v1/Services", ""), 400, errBody(400, 20001, "Missing required parameter FriendlyName in the post body")),
		want(post("/v1/Services", form("FriendlyName", strings.Repeat("s", 257))), 400, errBody(400, 50003, "Friendly name too long")),
		ok(post("/v1/Services", form("FriendlyName", strings.Repeat("s", 256))), 201),
		want(get("/v1/Services/$IS9"), 404, notFoundBody("/Services/$IS9")),
		want(get("/v1/Services/nope"), 404, notFoundBody("/Services/nope")),
		// A new service has the default roles and configuration.
		want(get("/v1/Services/$IS2/Roles"), 200, listBody("/v1/Services/$IS2/Roles", "roles", 50, defaultRoles("/v1/Services/$IS2", 5, 2)...)),
		want(get("/v1/Services/$IS2/Configuration"), 200, serviceConfigBody(2, 6, 8, 7, false)),
	)
	// Paging: default 50, maximum 100 (clamped).
	e.run(want(getQ("/v1/Services", "PageSize=1000&Page=0"), 200, listBody("/v1/Services", "services", 100,
		strings.ReplaceAll(serviceBody(1, "Default Conversations Service"), "$IS1", "$IS"),
		serviceBody(2, "Support desk"), serviceBody(3, strings.Repeat("s", 256)))))
	e.run(
		want(del("/v1/Services/$IS3"), 204, ""),
		want(get("/v1/Services/$IS3"), 404, notFoundBody("/Services/$IS3")),
		want(del("/v1/Services/$IS3"), 404, notFoundBody("/Services/$IS3")),
		// The default service is protected until another is made default.
		want(del("/v1/Services/$IS"), 409, errBody(409, 20001,
			"The default Conversation Service cannot be deleted: make another service the default first (POST /v1/Configuration DefaultChatServiceSid)")),
		ok(post("/v1/Configuration", "DefaultChatServiceSid=$IS2"), 200),
		want(del("/v1/Services/$IS"), 204, ""),
		want(del("/v1/Services/$IS2"), 409, errBody(409, 20001,
			"The default Conversation Service cannot be deleted: make another service the default first (POST /v1/Configuration DefaultChatServiceSid)")),
	)
}

// TestDeleteServiceCascade deletes a populated service and proves nothing
// of it can be fetched or listed afterwards, while other services are
// untouched.
func TestDeleteServiceCascade(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.run(
		ok(post("/v1/Services", "FriendlyName=doomed"), 201),                                                     // $IS2, roles $RL5-8
		ok(post("/v1/Services/$IS2/Roles", "FriendlyName=custom&Type=service&Permission=joinConversation"), 201), // $RL9
		ok(post("/v1/Services/$IS2/Users", "Identity=u1&RoleSid=$RL9"), 201),
		ok(post("/v1/Services/$IS2/Users", "Identity=u2"), 201),
		ok(post("/v1/Services/$IS2/Configuration/Webhooks", "PostWebhookUrl=http://127.0.0.1:9/hook"), 200),
		ok(post("/v1/Users", "Identity=u1"), 201), // same identity in the default service: kept
		want(del("/v1/Services/$IS2"), 204, ""),
	)
	for _, path := range []string{
		"/v1/Services/$IS2", "/v1/Services/$IS2/Users", "/v1/Services/$IS2/Users/u1", "/v1/Services/$IS2/Users/$US1",
		"/v1/Services/$IS2/Roles", "/v1/Services/$IS2/Roles/$RL9", "/v1/Services/$IS2/Roles/$RL5",
		"/v1/Services/$IS2/Configuration", "/v1/Services/$IS2/Configuration/Webhooks",
	} {
		e.run(want(get(path), 404, notFoundBody(strings.TrimPrefix(path, "/v1"))))
	}
	e.run(
		want(get("/v1/Users"), 200, listBody("/v1/Users", "users", 50, userBody("/v1", 3, "u1", RL2, "null", "{}"))),
		want(get("/v1/Services"), 200, listBody("/v1/Services", "services", 50,
			strings.ReplaceAll(serviceBody(1, "Default Conversations Service"), "$IS1", "$IS"))),
		// Its role can no longer be given to anyone.
		want(post("/v1/Users", "Identity=x&RoleSid=$RL9"), 400, errBody(400, 50100, "Role not found")),
	)
}

func TestRoles(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"/v1", "/v1/Services/$IS"} {
		t.Run(prefix, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.run(
				want(get(prefix+"/Roles"), 200, listBody(prefix+"/Roles", "roles", 50,
					strings.ReplaceAll(strings.Join(defaultRoles(prefix, 1, 1), ","), "$IS1", "$IS"))),
				want(get(prefix+"/Roles/$RL3"), 200, strings.ReplaceAll(roleBody(prefix, 3, 1, "channel admin", "conversation", channelAdminPerms...), "$IS1", "$IS")),
				want(post(prefix+"/Roles", "FriendlyName=mod&Type=conversation&Permission=sendMessage&Permission=removeParticipant&Permission=sendMessage"), 201,
					strings.ReplaceAll(roleBody(prefix, 5, 1, "mod", "conversation", "sendMessage", "removeParticipant"), "$IS1", "$IS")),
				// Update replaces the whole set; FriendlyName and Type are not changed by it.
				want(post(prefix+"/Roles/$RL5", "Permission=leaveConversation&FriendlyName=x&Type=service"), 200,
					strings.ReplaceAll(roleBody(prefix, 5, 1, "mod", "conversation", "leaveConversation"), "$IS1", "$IS")),
				want(post(prefix+"/Roles/$RL5", ""), 400, errBody(400, 20001, "Missing required parameter Permission in the post body")),
				want(post(prefix+"/Roles/$RL5", "Permission=createConversation"), 400, errBody(400, 50104, "Permission not found")),
				want(post(prefix+"/Roles", "Type=service&Permission=joinConversation"), 400,
					errBody(400, 20001, "Missing required parameter FriendlyName in the post body")),
				want(post(prefix+"/Roles", "FriendlyName=r&Permission=joinConversation"), 400,
					errBody(400, 20001, "Missing required parameter Type in the post body")),
				want(post(prefix+"/Roles", "FriendlyName=r&Type=service"), 400,
					errBody(400, 20001, "Missing required parameter Permission in the post body")),
				want(post(prefix+"/Roles", "FriendlyName=r&Type=channel&Permission=joinConversation"), 400,
					errBody(400, 50105, "Invalid role type")),
				want(post(prefix+"/Roles", "FriendlyName=r&Type=service&Permission=sendMessage"), 400,
					errBody(400, 50104, "Permission not found")),
				want(post(prefix+"/Roles", "FriendlyName=r&Type=service&Permission=nonsense"), 400,
					errBody(400, 50104, "Permission not found")),
				want(post(prefix+"/Roles", form("FriendlyName", strings.Repeat("r", 65), "Type", "service", "Permission", "joinConversation")), 400,
					errBody(400, 50003, "Friendly name too long")),
				// Permissions accepted in practice beyond the documented lists.
				ok(post(prefix+"/Roles", "FriendlyName=p&Type=service&Permission=editNotificationLevel"), 201), // $RL6
				want(get(prefix+"/Roles/$RL99"), 404, notFoundBody(strings.TrimPrefix(prefix, "/v1")+"/Roles/$RL99")),
				want(get(prefix+"/Roles/nope"), 404, notFoundBody(strings.TrimPrefix(prefix, "/v1")+"/Roles/nope")),
				// In use: named by the configuration, or held by a user.
				want(del(prefix+"/Roles/$RL2"), 409, errBody(409, 20001, "Role $RL2 is a default role in the service configuration and cannot be deleted")),
				ok(post(prefix+"/Users", "Identity=holder&RoleSid=$RL6"), 201),
				want(del(prefix+"/Roles/$RL6"), 409, errBody(409, 20001, "Role $RL6 is held by users or participants and cannot be deleted")),
				ok(del(prefix+"/Users/holder"), 204),
				want(del(prefix+"/Roles/$RL6"), 204, ""),
				want(del(prefix+"/Roles/$RL5"), 204, ""),
				want(get(prefix+"/Roles/$RL5"), 404, notFoundBody(strings.TrimPrefix(prefix, "/v1")+"/Roles/$RL5")),
				want(del(prefix+"/Roles/$RL5"), 404, notFoundBody(strings.TrimPrefix(prefix, "/v1")+"/Roles/$RL5")),
			)
		})
	}
	// A role of one service is not reachable through another.
	e := newEnv(t)
	e.run(
		ok(post("/v1/Services", "FriendlyName=two"), 201),
		want(get("/v1/Services/$IS2/Roles/$RL1"), 404, notFoundBody("/Services/$IS2/Roles/$RL1")),
		want(get("/v1/Roles/$RL5"), 404, notFoundBody("/Roles/$RL5")),
		want(get("/v1/Services/$IS9/Roles"), 404, notFoundBody("/Services/$IS9/Roles")),
		want(post("/v1/Services/$IS9/Roles", "FriendlyName=r&Type=service&Permission=joinConversation"), 404, notFoundBody("/Services/$IS9/Roles")),
	)
}

func TestServiceConfiguration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.run(
		want(get("/v1/Services/$IS/Configuration"), 200, strings.ReplaceAll(serviceConfigBody(1, 2, 4, 3, false), "$IS1", "$IS")),
		ok(post("/v1/Roles", "FriendlyName=vip&Type=service&Permission=createConversation"), 201), // $RL5
		ok(post("/v1/Roles", "FriendlyName=guest&Type=conversation&Permission=sendMessage"), 201), // $RL6
		want(post("/v1/Services/$IS/Configuration", "DefaultChatServiceRoleSid=$RL5&DefaultConversationRoleSid=$RL6&DefaultConversationCreatorRoleSid=$RL6&ReachabilityEnabled=true"), 200,
			strings.ReplaceAll(serviceConfigBody(1, 5, 6, 6, true), "$IS1", "$IS")),
		// New users take the new default role at once.
		want(post("/v1/Users", "Identity=new"), 201, userBody("/v1", 1, "new", "$RL5", "null", "{}")),
		want(post("/v1/Services/$IS/Configuration", "DefaultChatServiceRoleSid=$RL6"), 400, errBody(400, 50105, "Invalid role type")),
		want(post("/v1/Services/$IS/Configuration", "DefaultConversationRoleSid=$RL5"), 400, errBody(400, 50105, "Invalid role type")),
		want(post("/v1/Services/$IS/Configuration", "DefaultConversationCreatorRoleSid=$RL99"), 400, errBody(400, 50100, "Role not found")),
		want(post("/v1/Services/$IS/Configuration", "DefaultChatServiceRoleSid=bad"), 400, errBody(400, 20001, "Invalid DefaultChatServiceRoleSid")),
		want(post("/v1/Services/$IS/Configuration", "ReachabilityEnabled=maybe"), 400, errBody(400, 20001, "Invalid ReachabilityEnabled: must be true or false")),
		// Refused updates change nothing.
		want(get("/v1/Services/$IS/Configuration"), 200, strings.ReplaceAll(serviceConfigBody(1, 5, 6, 6, true), "$IS1", "$IS")),
		want(get("/v1/Services/$IS9/Configuration"), 404, notFoundBody("/Services/$IS9/Configuration")),
		want(post("/v1/Services/$IS9/Configuration", "ReachabilityEnabled=true"), 404, notFoundBody("/Services/$IS9/Configuration")),
		// A role of another service cannot be a default here.
		ok(post("/v1/Services", "FriendlyName=two"), 201), // $IS2, $RL7-10
		want(post("/v1/Services/$IS/Configuration", "DefaultChatServiceRoleSid=$RL8"), 400, errBody(400, 50100, "Role not found")),
	)
}

func accountConfigBody(svc string, msg, inactive, closed string) string {
	return fmt.Sprintf(`{"account_sid":"$AC","default_chat_service_sid":"%s","default_messaging_service_sid":%s,
		"default_inactive_timer":%s,"default_closed_timer":%s,"url":"$BASE/v1/Configuration",
		"links":{"service":"$BASE/v1/Services/%s/Configuration","webhooks":"$BASE/v1/Configuration/Webhooks"}}`,
		svc, msg, inactive, closed, svc)
}

func TestAccountConfiguration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mg := "MG0123456789abcdef0123456789abcdef"
	e.run(
		want(get("/v1/Configuration"), 200, accountConfigBody("$IS", "null", "null", "null")),
		ok(post("/v1/Services", "FriendlyName=two"), 201),
		want(post("/v1/Configuration", "DefaultChatServiceSid=$IS2&DefaultMessagingServiceSid="+mg+"&DefaultInactiveTimer=PT1M&DefaultClosedTimer=PT10M"), 200,
			accountConfigBody("$IS2", `"`+mg+`"`, `"PT1M"`, `"PT10M"`)),
		// Shortened URLs follow the new default at once.
		want(post("/v1/Users", "Identity=moved"), 201, strings.ReplaceAll(userBody("/v1", 1, "moved", "$RL6", "null", "{}"), `"chat_service_sid":"$IS"`, `"chat_service_sid":"$IS2"`)),
		want(get("/v1/Services/$IS2/Users/moved"), 200, strings.ReplaceAll(userBody("/v1/Services/$IS2", 1, "moved", "$RL6", "null", "{}"), `"chat_service_sid":"$IS"`, `"chat_service_sid":"$IS2"`)),
		want(get("/v1/Services/$IS/Users/moved"), 404, notFoundBody("/Services/$IS/Users/moved")),
		want(get("/v1/Roles/$RL5"), 200, roleBody("/v1", 5, 2, "service admin", "service", adminPerms...)),
		// Validation.
		want(post("/v1/Configuration", "DefaultChatServiceSid=$IS9"), 400, errBody(400, 20001, "Invalid DefaultChatServiceSid: no Conversation Service $IS9")),
		want(post("/v1/Configuration", "DefaultChatServiceSid=IS1"), 400, errBody(400, 20001, "Invalid DefaultChatServiceSid")),
		want(post("/v1/Configuration", "DefaultMessagingServiceSid=MGxyz"), 400, errBody(400, 20001, "Invalid DefaultMessagingServiceSid")),
		want(post("/v1/Configuration", "DefaultInactiveTimer=10+minutes"), 400,
			errBody(400, 20001, `Invalid DefaultInactiveTimer: "10 minutes" is not an ISO 8601 duration such as PT10M`)),
		want(post("/v1/Configuration", "DefaultClosedTimer=PT"), 400,
			errBody(400, 20001, `Invalid DefaultClosedTimer: "PT" is not an ISO 8601 duration such as PT10M`)),
		want(post("/v1/Configuration", "DefaultClosedTimer=P1DT"), 400,
			errBody(400, 20001, `Invalid DefaultClosedTimer: "P1DT" is not an ISO 8601 duration such as PT10M`)),
		want(get("/v1/Configuration"), 200, accountConfigBody("$IS2", `"`+mg+`"`, `"PT1M"`, `"PT10M"`)),
		// Timers below the spec's minimums (1 minute inactive, 10 minutes
		// closed) are refused; PT0S switches a timer off.
		want(post("/v1/Configuration", "DefaultInactiveTimer=PT59S"), 400,
			errBody(400, 50375, `Invalid DefaultInactiveTimer: "PT59S" is shorter than the minimum of PT1M (PT0S switches the timer off)`)),
		want(post("/v1/Configuration", "DefaultClosedTimer=PT9M59.5S"), 400,
			errBody(400, 50376, `Invalid DefaultClosedTimer: "PT9M59.5S" is shorter than the minimum of PT10M (PT0S switches the timer off)`)),
		want(post("/v1/Configuration", "DefaultInactiveTimer=PT1M&DefaultClosedTimer=PT1.5S"), 400,
			errBody(400, 50376, `Invalid DefaultClosedTimer: "PT1.5S" is shorter than the minimum of PT10M (PT0S switches the timer off)`)),
		want(get("/v1/Configuration"), 200, accountConfigBody("$IS2", `"`+mg+`"`, `"PT1M"`, `"PT10M"`)),
		want(post("/v1/Configuration", "DefaultInactiveTimer=PT0S&DefaultClosedTimer=PT600S"), 200,
			accountConfigBody("$IS2", `"`+mg+`"`, `"PT0S"`, `"PT600S"`)),
		// Empty values clear the optional fields; P1DT12H and P1Y are durations.
		want(post("/v1/Configuration", "DefaultMessagingServiceSid=&DefaultInactiveTimer=P1DT12H&DefaultClosedTimer=P1Y"), 200,
			accountConfigBody("$IS2", "null", `"P1DT12H"`, `"P1Y"`)),
		want(post("/v1/Configuration", "DefaultChatServiceSid=$IS&DefaultInactiveTimer=&DefaultClosedTimer="), 200,
			accountConfigBody("$IS", "null", "null", "null")),
	)
}
