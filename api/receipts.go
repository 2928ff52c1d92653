package api

import (
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/spec"
)

// receiptFields is how delivery receipts appear on the wire, in both
// scopes and as the answer of parley's injection control.
var receiptFields = fields[parley.Receipt]{
	"sid":                 str(func(r *parley.Receipt) string { return r.Sid }),
	"chat_service_sid":    str(func(r *parley.Receipt) string { return r.ServiceSid }),
	"conversation_sid":    str(func(r *parley.Receipt) string { return r.ConversationSid }),
	"message_sid":         str(func(r *parley.Receipt) string { return r.MessageSid }),
	"channel_message_sid": str(func(r *parley.Receipt) string { return r.ChannelMessageSid }),
	"participant_sid":     str(func(r *parley.Receipt) string { return r.ParticipantSid }),
	"status":              str(func(r *parley.Receipt) string { return r.Status }),
	"error_code":          optInt(func(r *parley.Receipt) *int64 { return r.ErrorCode }),
	"date_created":        date(func(r *parley.Receipt) time.Time { return r.DateCreated }),
	"date_updated":        date(func(r *parley.Receipt) time.Time { return r.DateUpdated }),
}

// receiptInjections are the receipt injection control, a parley
// extension (decision 14), in both scopes: a test says what a carrier
// would have reported for a message and a non-chat participant.
var receiptInjections = func() []*spec.Operation {
	params := []spec.Param{
		{Name: "ConversationSid", In: spec.InPath, Type: spec.TypeString, Required: true},
		{Name: "MessageSid", In: spec.InPath, Type: spec.TypeString, Required: true},
		{Name: "ParticipantSid", In: spec.InForm, Type: spec.TypeString, Required: true},
		{Name: "Status", In: spec.InForm, Type: spec.TypeString, Required: true},
		{Name: "ErrorCode", In: spec.InForm, Type: spec.TypeInteger},
	}
	const schema = "conversations.v1.conversation.conversation_message.conversation_message_receipt"
	return []*spec.Operation{{
		ID: "CreateReceipt", Method: "POST", Path: "/parley/v1/Conversations/{ConversationSid}/Messages/{MessageSid}/Receipts",
		PathType: "list", Status: 201, Schema: schema, Params: params,
		URL: "/v1/Conversations/{conversation_sid}/Messages/{message_sid}/Receipts/{sid}",
	}, {
		ID: "CreateServiceReceipt", Method: "POST", PathType: "list", Status: 201,
		Schema: "conversations.v1.service.service_conversation.service_conversation_message.service_conversation_message_receipt",
		Path:   "/parley/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Messages/{MessageSid}/Receipts",
		Params: append([]spec.Param{{Name: "ChatServiceSid", In: spec.InPath, Type: spec.TypeString, Required: true}}, params...),
		URL:    "/v1/Services/{chat_service_sid}/Conversations/{conversation_sid}/Messages/{message_sid}/Receipts/{sid}",
	}}
}()

func (s *Server) injectReceipt(q *req) call[parley.Receipt] {
	svc, conv, msg := q.service(), q.path("ConversationSid"), q.path("MessageSid")
	in := core.ReceiptInput{ParticipantSid: q.text("ParticipantSid"), Status: q.text("Status"), ErrorCode: q.integer("ErrorCode")}
	return func() (parley.Receipt, error) { return s.app.InjectReceipt(q.ctx, svc, conv, msg, in) }
}

func (s *Server) fetchReceipt(q *req) call[parley.Receipt] {
	svc, conv, msg, sid := q.service(), q.path("ConversationSid"), q.path("MessageSid"), q.path("Sid")
	return func() (parley.Receipt, error) { return s.app.FetchReceipt(q.ctx, svc, conv, msg, sid) }
}

func (s *Server) listReceipts(q *req) lister[parley.Receipt] {
	svc, conv, msg := q.service(), q.path("ConversationSid"), q.path("MessageSid")
	return func(pq parley.PageQuery) (parley.Page[parley.Receipt], error) {
		return s.app.ListReceipts(q.ctx, svc, conv, msg, pq)
	}
}
