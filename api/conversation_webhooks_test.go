package api_test

import (
	"fmt"
	"testing"
)

// hookBody is the expected JSON of conversation webhook $WH<n> of
// $CH<conv> at prefix, with target and configuration (a JSON literal).
func hookBody(prefix string, n, conv int, target, configuration string) string {
	svc := ""
	if prefix != "/v1" {
		svc = `"chat_service_sid":"$IS",`
	}
	return fmt.Sprintf(`{"sid":"$WH%d","account_sid":"$AC",%s"conversation_sid":"$CH%d","target":%q,
		"url":"$BASE%s/Conversations/$CH%d/Webhooks/$WH%d","configuration":%s,"date_created":"%s","date_updated":"%s"}`,
		n, svc, conv, target, prefix, conv, n, configuration, stamp, stamp)
}

func TestConversationWebhooks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []step
	}{
		{"targets, both scopes", []step{
			ok(post("/v1/Conversations", "UniqueName=room"), 201),
			want(post("/v1/Conversations/room/Webhooks", form("Target", "webhook", "Configuration.Url", "https://bot.test/hook",
				"Configuration.Filters", "onMessageAdded", "Configuration.Filters", "ONPARTICIPANTADDED")), 201,
				hookBody("/v1", 1, 1, "webhook", `{"url":"https://bot.test/hook","method":"post","filters":["onMessageAdded","onParticipantAdded"]}`)),
			want(post("/v1/Services/$IS/Conversations/$CH1/Webhooks", form("Target", "Trigger", "Configuration.Url", "https://bot.test/t",
				"Configuration.Method", "GET", "Configuration.Triggers", "help", "Configuration.Triggers", "agent")), 201,
				hookBody("/v1/Services/$IS", 2, 1, "trigger", `{"url":"https://bot.test/t","method":"get","filters":["help","agent"],"triggers":["help","agent"]}`)),
			want(post("/v1/Conversations/$CH1/Webhooks", form("Target", "studio", "Configuration.FlowSid", "FW0123456789abcdef0123456789abcdef")), 201,
				hookBody("/v1", 3, 1, "studio", `{"flow_sid":"FW0123456789abcdef0123456789abcdef"}`)),
			want(get("/v1/Conversations/room/Webhooks/$WH2"), 200,
				hookBody("/v1", 2, 1, "trigger", `{"url":"https://bot.test/t","method":"get","filters":["help","agent"],"triggers":["help","agent"]}`)),
			want(post("/v1/Conversations/room/Webhooks/$WH1", form("Configuration.Filters", "onMessageRemoved", "Configuration.Method", "get")), 200,
				hookBody("/v1", 1, 1, "webhook", `{"url":"https://bot.test/hook","method":"get","filters":["onMessageRemoved"]}`)),
			want(del("/v1/Conversations/room/Webhooks/$WH3"), 204, ""),
			// Pages of at most 5, the spec's maximum, by default too.
			want(get("/v1/Conversations/room/Webhooks"), 200, listBody("/v1/Conversations/room/Webhooks", "webhooks", 5,
				hookBody("/v1", 1, 1, "webhook", `{"url":"https://bot.test/hook","method":"get","filters":["onMessageRemoved"]}`),
				hookBody("/v1", 2, 1, "trigger", `{"url":"https://bot.test/t","method":"get","filters":["help","agent"],"triggers":["help","agent"]}`))),
			want(del("/v1/Conversations/room/Webhooks/$WH3"), 404, notFoundBody("/Conversations/room/Webhooks/$WH3")),
			want(get("/v1/Conversations/room/Webhooks/nope"), 404, notFoundBody("/Conversations/room/Webhooks/nope")),
		}},
		{"validation", []step{
			ok(post("/v1/Conversations", ""), 201),
			want(post("/v1/Conversations/$CH1/Webhooks", "Configuration.Url=https%3A%2F%2Fa.test"), 400, errBody(400, 50368, "Target is required")),
			want(post("/v1/Conversations/$CH1/Webhooks", "Target=email"), 400, errBody(400, 50364, `Invalid Target "email": must be webhook, trigger or studio`)),
			want(post("/v1/Conversations/$CH1/Webhooks", "Target=webhook&Configuration.Filters=onMessageAdded"), 400,
				errBody(400, 50369, "Configuration.Url is required for a webhook")),
			want(post("/v1/Conversations/$CH1/Webhooks", "Target=webhook&Configuration.Url=ftp%3A%2F%2Fa.test&Configuration.Filters=onMessageAdded"), 400,
				errBody(400, 50369, `Invalid Configuration.Url: "ftp://a.test" is not an absolute http or https URL`)),
			want(post("/v1/Conversations/$CH1/Webhooks", "Target=webhook&Configuration.Url=https%3A%2F%2Fa.test"), 400,
				errBody(400, 50370, "Configuration.Filters is required for a webhook")),
			want(post("/v1/Conversations/$CH1/Webhooks", "Target=webhook&Configuration.Url=https%3A%2F%2Fa.test&Configuration.Filters=onUserAdded"), 400,
				errBody(400, 50365, `Invalid Configuration.Filters: "onUserAdded" is not a conversation event`)),
			want(post("/v1/Conversations/$CH1/Webhooks", "Target=trigger&Configuration.Url=https%3A%2F%2Fa.test"), 400,
				errBody(400, 50371, "Configuration.Triggers is required for a trigger")),
			want(post("/v1/Conversations/$CH1/Webhooks", "Target=trigger&Configuration.Url=https%3A%2F%2Fa.test&Configuration.Triggers=a&Configuration.Triggers=b&Configuration.Triggers=c&Configuration.Triggers=d&Configuration.Triggers=e&Configuration.Triggers=f"), 400,
				errBody(400, 50362, "Too many Configuration.Triggers: at most 5")),
			want(post("/v1/Conversations/$CH1/Webhooks", "Target=trigger&Configuration.Url=https%3A%2F%2Fa.test&Configuration.Triggers="), 400,
				errBody(400, 50366, "Invalid Configuration.Triggers: a keyword cannot be empty")),
			want(post("/v1/Conversations/$CH1/Webhooks", "Target=studio"), 400,
				errBody(400, 50367, "Configuration.FlowSid must be a Studio flow SID (FW…)")),
			want(post("/v1/Conversations/$CH1/Webhooks", "Target=webhook&Configuration.Url=https%3A%2F%2Fa.test&Configuration.Filters=onMessageAdded&Configuration.ReplayAfter=-1"), 400,
				errBody(400, 20001, "Invalid Configuration.ReplayAfter: must be a message index")),
			want(post("/v1/Conversations/$CH9/Webhooks", "Target=studio&Configuration.FlowSid=FW0123456789abcdef0123456789abcdef"), 404,
				notFoundBody("/Conversations/$CH9/Webhooks")),
		}},
		{"at most five; none on a closed conversation", []step{
			ok(post("/v1/Conversations", ""), 201),
			ok(post("/v1/Conversations/$CH1/Webhooks", "Target=studio&Configuration.FlowSid=FW0123456789abcdef0123456789abcdef"), 201),
			ok(post("/v1/Conversations/$CH1/Webhooks", "Target=studio&Configuration.FlowSid=FW0123456789abcdef0123456789abcdef"), 201),
			ok(post("/v1/Conversations/$CH1/Webhooks", "Target=studio&Configuration.FlowSid=FW0123456789abcdef0123456789abcdef"), 201),
			ok(post("/v1/Conversations/$CH1/Webhooks", "Target=studio&Configuration.FlowSid=FW0123456789abcdef0123456789abcdef"), 201),
			ok(post("/v1/Conversations/$CH1/Webhooks", "Target=studio&Configuration.FlowSid=FW0123456789abcdef0123456789abcdef"), 201),
			want(post("/v1/Conversations/$CH1/Webhooks", "Target=studio&Configuration.FlowSid=FW0123456789abcdef0123456789abcdef"), 400,
				errBody(400, 50361, "Too many conversation webhooks: at most 5")),
			ok(post("/v1/Conversations/$CH1", "State=closed"), 200),
			want(del("/v1/Conversations/$CH1/Webhooks/$WH1"), 400, errBody(400, 50377, "Can't update conversation as it's in final closed state")),
			want(get("/v1/Conversations/$CH1/Webhooks/$WH1"), 200, hookBody("/v1", 1, 1, "studio", `{"flow_sid":"FW0123456789abcdef0123456789abcdef"}`)),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			newEnv(t).run(tc.steps...)
		})
	}
}
