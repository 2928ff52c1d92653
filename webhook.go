package parley

import "time"

// WebhookConfig is the webhook part of the account or a service's
// configuration. Every field is nil until set, and shown as null.
type WebhookConfig struct {
	Method         *string  // "GET" or "POST"; POST when unset
	Filters        []string // nil: every event
	PreWebhookURL  *string
	PostWebhookURL *string
	Target         *string // account level only: "webhook" or "flex"
}

// Configured reports whether any webhook URL is set. A service with its own
// URLs overrides the account-level ones for its events, as on Twilio.
func (c WebhookConfig) Configured() bool {
	return c.PreWebhookURL != nil || c.PostWebhookURL != nil
}

// DeliveryStatus is where a post-event webhook delivery stands.
type DeliveryStatus string

// Delivery states: pending until a 2xx answer (delivered) or until the retry
// limit is spent (failed, kept for inspection).
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Delivery is one post-event webhook to one target: an outbox row written in
// the same transaction as the change it reports, and sent only after that
// transaction commits.
type Delivery struct {
	Seq        int64
	Sid        string // also sent as I-Twilio-Idempotency-Token, the same on every retry
	EventType  string
	ServiceSid string
	URL        string
	Method     string // GET or POST
	Params     string // the form-encoded parameters, fixed when the event happened
	Status     DeliveryStatus
	Attempts   int
	// NextAttemptAt is when the delivery is next due; LeaseUntil, when
	// claimed, is when a node that claimed it but died is given up on.
	NextAttemptAt  time.Time
	LeaseUntil     *time.Time
	LastStatusCode int // HTTP status of the last answer; 0 when none came
	LastError      string
	DateCreated    time.Time
	DateUpdated    time.Time
}
