package api

import (
	"slices"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/spec"
)

// /parley/v1/WebhookDeliveries is a parley extension, under a prefix that
// cannot collide with Twilio's paths: the webhook outbox, for people testing
// their webhook handlers. It is described in the spec's own terms (an
// operation and a schema), so the generic handlers and the encoder serve it
// as they serve Twilio's resources.

// extensionSchemas are the response schemas of parley's own operations.
var extensionSchemas = map[string]*spec.Schema{
	deliverySchema.Name: &deliverySchema,
	mediaSchema.Name:    &mediaSchema,
	inboundSchema.Name:  &inboundSchema,
	clockSchema.Name:    &clockSchema,
	resetSchema.Name:    &resetSchema,
	faultSchema.Name:    &faultSchema,
}

var deliverySchema = spec.Schema{Name: "parley.v1.webhook_delivery", Properties: []spec.Property{
	{Key: "sid", Kind: spec.KindString},
	{Key: "event_type", Kind: spec.KindString},
	{Key: "chat_service_sid", Kind: spec.KindString},
	{Key: "target", Kind: spec.KindString},
	{Key: "method", Kind: spec.KindString},
	{Key: "params", Kind: spec.KindString},
	{Key: "status", Kind: spec.KindEnum, Enum: []string{"pending", "delivered", "failed", "recorded"}},
	{Key: "attempts", Kind: spec.KindInteger},
	{Key: "last_status_code", Kind: spec.KindInteger, Nullable: true},
	{Key: "last_error", Kind: spec.KindString, Nullable: true},
	// The start of the receiver's last answer (4 KiB of text at most);
	// null when the last attempt got no answer.
	{Key: "last_response", Kind: spec.KindString, Nullable: true},
	// Milliseconds, unlike Twilio's dates: retries are scheduled finer than
	// seconds.
	{Key: "next_attempt_at", Kind: spec.KindString, Nullable: true},
	{Key: "date_created", Kind: spec.KindString},
	{Key: "date_updated", Kind: spec.KindString},
}}

// extensions are parley's own operations, by ID.
var extensions = byID(slices.Concat([]*spec.Operation{&listDeliveryOp, &fetchDeliveryOp, &bindingRegistration, &inboundOp}, receiptInjections, mediaOps, emulatorOps, faultOps, fixtureOps))

// byID indexes operations by their IDs.
func byID(ops []*spec.Operation) map[string]*spec.Operation {
	m := make(map[string]*spec.Operation, len(ops))
	for _, op := range ops {
		m[op.ID] = op
	}
	return m
}

// listDeliveryOp is the outbox listing.
var listDeliveryOp = spec.Operation{
	ID: "ListWebhookDelivery", Method: "GET", Path: "/parley/v1/WebhookDeliveries", PathType: "list", Status: 200,
	Schema: deliverySchema.Name, ListKey: "webhook_deliveries",
	Params: []spec.Param{
		{Name: "PageSize", In: spec.InQuery, Type: spec.TypeInteger, HasMin: true, Min: 1, HasMax: true, Max: 100},
		{Name: "Page", In: spec.InQuery, Type: spec.TypeInteger, HasMin: true, Min: 0},
		{Name: "PageToken", In: spec.InQuery, Type: spec.TypeString},
		{Name: "Status", In: spec.InQuery, Type: spec.TypeEnum, Enum: []string{"pending", "delivered", "failed", "recorded"}},
		{Name: "EventType", In: spec.InQuery, Type: spec.TypeString},
		{Name: "Order", In: spec.InQuery, Type: spec.TypeEnum, Enum: []string{"asc", "desc"}},
	},
}

// deliverySid is the path parameter of one delivery.
var deliverySid = spec.Param{Name: "Sid", In: spec.InPath, Type: spec.TypeString, Required: true}

// fetchDeliveryOp is one delivery of the outbox.
var fetchDeliveryOp = spec.Operation{
	ID: "FetchWebhookDelivery", Method: "GET", Path: "/parley/v1/WebhookDeliveries/{Sid}", PathType: "instance", Status: 200,
	Schema: deliverySchema.Name, Params: []spec.Param{deliverySid},
}

// listDeliveries reads the outbox listing's filters: Status and EventType
// (Order, newest first with desc, is every list's).
func (s *Server) listDeliveries(q *req) lister[parley.Delivery] {
	var f parley.DeliveryFilter
	if status := q.enum("Status"); status != nil {
		f.Status = parley.DeliveryStatus(*status)
	}
	f.EventType = q.text("EventType")
	return func(pq parley.PageQuery) (parley.Page[parley.Delivery], error) {
		return s.app.ListDeliveries(q.ctx, f, pq)
	}
}

// preciseDate keeps milliseconds.
func preciseDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

var deliveryFields = fields[parley.Delivery]{
	"sid":              str(func(d *parley.Delivery) string { return d.Sid }),
	"event_type":       str(func(d *parley.Delivery) string { return d.EventType }),
	"chat_service_sid": str(func(d *parley.Delivery) string { return d.ServiceSid }),
	"target":           str(func(d *parley.Delivery) string { return d.URL }),
	"method":           str(func(d *parley.Delivery) string { return d.Method }),
	"params":           str(func(d *parley.Delivery) string { return d.Params }),
	"status":           str(func(d *parley.Delivery) string { return string(d.Status) }),
	"attempts":         integer(func(d *parley.Delivery) int64 { return int64(d.Attempts) }),
	"last_status_code": optInt(func(d *parley.Delivery) *int64 {
		if d.LastStatusCode == 0 {
			return nil
		}
		n := int64(d.LastStatusCode)
		return &n
	}),
	"last_error": optStr(func(d *parley.Delivery) *string {
		if d.LastError == "" {
			return nil
		}
		return &d.LastError
	}),
	"last_response": optStr(func(d *parley.Delivery) *string { return d.LastResponse }),
	"next_attempt_at": optStr(func(d *parley.Delivery) *string {
		if d.Status != parley.DeliveryPending {
			return nil
		}
		s := preciseDate(d.NextAttemptAt)
		return &s
	}),
	"date_created": str(func(d *parley.Delivery) string { return preciseDate(d.DateCreated) }),
	"date_updated": str(func(d *parley.Delivery) string { return preciseDate(d.DateUpdated) }),
}
