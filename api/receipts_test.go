package api_test

import (
	"fmt"
	"testing"
)

// receiptBody is the expected JSON of receipt $DY<n> of message $IM<msg>
// in $CH1 for participant $MB<part>.
func receiptBody(prefix string, n, msg, part int, status, errorCode string) string {
	svc := ""
	if prefix != "/v1" {
		svc = `"chat_service_sid":"$IS",`
	}
	return fmt.Sprintf(`{"account_sid":"$AC",%s"conversation_sid":"$CH1","sid":"$DY%d","message_sid":"$IM%d",
		"channel_message_sid":"SM%s%s","participant_sid":"$MB%d","status":%q,"error_code":%s,
		"date_created":"%s","date_updated":"%s","url":"$BASE%s/Conversations/$CH1/Messages/$IM%d/Receipts/$DY%d"}`,
		svc, n, msg, sidN("IM", msg)[2:18], sidN("MB", part)[2:18], part, status, errorCode, stamp, stamp, prefix, msg, n)
}

func TestReceipts(t *testing.T) {
	t.Parallel()
	const inject = "/parley/v1/Conversations/$CH1/Messages/$IM1/Receipts"
	delivery := func(total int, sent, delivered, read, failed, undelivered string) string {
		return fmt.Sprintf(`{"total":%d,"sent":%q,"delivered":%q,"read":%q,"failed":%q,"undelivered":%q}`,
			total, sent, delivered, read, failed, undelivered)
	}
	msg := func(d string) string {
		return with(msgBody("/v1", 1, 1, 0, "system", `"hi"`, "{}", "null"), "delivery", "null", d)
	}
	newEnv(t).run(
		ok(post("/v1/Conversations", ""), 201),
		ok(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=%2B15559870001"), 201),
		ok(post("/v1/Conversations/$CH1/Participants", "MessagingBinding.Address=%2B15551230002&MessagingBinding.ProxyAddress=%2B15559870001"), 201),
		ok(post("/v1/Conversations/$CH1/Participants", "Identity=alice"), 201),
		ok(post("/v1/Conversations/$CH1/Messages", "Body=hi"), 201),
		want(get("/v1/Conversations/$CH1/Messages/$IM1/Receipts"), 200, listBody("/v1/Conversations/$CH1/Messages/$IM1/Receipts", "delivery_receipts", 50)),
		// Injected: the latest status per participant, the aggregate on the message.
		want(post(inject, "ParticipantSid=$MB1&Status=sent"), 201, receiptBody("/v1", 1, 1, 1, "sent", "null")),
		want(get("/v1/Conversations/$CH1/Messages/$IM1"), 200, msg(delivery(1, "all", "none", "none", "none", "none"))),
		want(post(inject, "ParticipantSid=$MB2&Status=UNDELIVERED&ErrorCode=30003"), 201, receiptBody("/v1", 2, 1, 2, "undelivered", "30003")),
		want(post(inject, "ParticipantSid=$MB1&Status=read"), 201, receiptBody("/v1", 1, 1, 1, "read", "null")),
		want(get("/v1/Conversations/$CH1/Messages/$IM1"), 200, msg(delivery(2, "some", "some", "some", "none", "some"))),
		want(get("/v1/Services/$IS/Conversations/$CH1/Messages/$IM1/Receipts/$DY2"), 200, receiptBody("/v1/Services/$IS", 2, 1, 2, "undelivered", "30003")),
		want(get("/v1/Conversations/$CH1/Messages/$IM1/Receipts"), 200, listBody("/v1/Conversations/$CH1/Messages/$IM1/Receipts", "delivery_receipts", 50,
			receiptBody("/v1", 1, 1, 1, "read", "null"), receiptBody("/v1", 2, 1, 2, "undelivered", "30003"))),
		want(get("/v1/Conversations/$CH1/Messages/$IM1/Receipts/$DY9"), 404, notFoundBody("/Conversations/$CH1/Messages/$IM1/Receipts/$DY9")),
		want(get("/v1/Conversations/$CH1/Messages/$IM9/Receipts"), 404, notFoundBody("/Conversations/$CH1/Messages/$IM9/Receipts")),
		// The control checks what it is told.
		want(post(inject, "ParticipantSid=$MB3&Status=sent"), 400,
			errBody(400, 20001, "Invalid ParticipantSid: $MB3 is not a non-chat participant of $CH1")),
		want(post(inject, "ParticipantSid=$MB1&Status=lost"), 400,
			errBody(400, 20001, `Invalid Status "lost": must be one of sent, delivered, read, failed, undelivered`)),
		want(post(inject, "ParticipantSid=$MB1&Status=sent&ErrorCode=1"), 400,
			errBody(400, 20001, "Invalid ErrorCode: only a failed or undelivered status carries one")),
		want(post(inject, "ParticipantSid=nobody&Status=sent"), 400, errBody(400, 20001, `Invalid ParticipantSid "nobody"`)),
		want(post("/parley/v1/Conversations/$CH1/Messages/$IM9/Receipts", "ParticipantSid=$MB1&Status=sent"), 404,
			notFoundBody("/parley/v1/Conversations/$CH1/Messages/$IM9/Receipts")),
		want(post("/parley/v1/Services/$IS/Conversations/$CH1/Messages/$IM1/Receipts", "ParticipantSid=$MB1&Status=delivered"), 201,
			receiptBody("/v1/Services/$IS", 1, 1, 1, "delivered", "null")),
	)
}
