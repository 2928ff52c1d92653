package parley

import (
	"net/url"
	"strings"
	"time"
)

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
// limit is spent (failed, kept for inspection). A push parley would send
// is recorded and never sent (it has no APNs or FCM connection).
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryFailed    DeliveryStatus = "failed"
	DeliveryRecorded  DeliveryStatus = "recorded"
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
	// Host is DeliveryHost(URL), set by the store when the delivery is
	// enqueued: the outbox is queued per host, so that a receiver that is
	// slow or down holds back only its own deliveries.
	Host     string
	Method   string // GET or POST
	Params   string // the form-encoded parameters, fixed when the event happened
	Status   DeliveryStatus
	Attempts int
	// NextAttemptAt is when the delivery is next due; LeaseUntil, when
	// claimed, is when a node that claimed it but died is given up on.
	NextAttemptAt  time.Time
	LeaseUntil     *time.Time
	LastStatusCode int // HTTP status of the last answer; 0 when none came
	LastError      string
	// LastResponse is the start of the last answer's body (MaxResponse
	// bytes at most, valid UTF-8 without NUL, so that both backends can
	// store it as text); nil when the last attempt got no answer, or none
	// was made. It is what a receiver said when it refused a delivery.
	LastResponse *string
	DateCreated  time.Time
	DateUpdated  time.Time
}

// MaxResponse caps Delivery.LastResponse: enough for an error message or
// a JSON error body, little enough that a receiver answering with pages
// of HTML does not grow the outbox.
const MaxResponse = 4 << 10

// DeliveryFilter narrows a listing of the outbox; a zero field matches
// every delivery.
type DeliveryFilter struct {
	Status    DeliveryStatus
	EventType string
}

// DeliveryHost is the receiving host of a webhook URL, the key deliveries
// are queued and limited by: scheme, host and port, lowercased, with the
// scheme's default port made explicit. So http://A.test/x and
// http://a.test:80/y are one host, while http://a.test and https://a.test
// (another port, other connections) are two. Userinfo, path, query and
// fragment are left out. A URL without scheme and host (core stores none)
// is its own host.
//
// Migration 0002 computes the same key in SQL for rows queued before it;
// change both together.
func DeliveryHost(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return rawURL
	}
	host := strings.ToLower(u.Host)
	// A colon after an IPv6 literal's closing bracket starts the port.
	if !strings.Contains(host, ":") || strings.HasSuffix(host, "]") {
		if strings.EqualFold(u.Scheme, "https") {
			host += ":443"
		} else {
			host += ":80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + host
}

// PendingHost is a host with pending deliveries that nobody holds a lease
// on, and when the earliest of them is due (possibly later than now: a
// retry waiting out its backoff).
type PendingHost struct {
	Host          string
	NextAttemptAt time.Time
}

// ConversationWebhook is a webhook of one conversation (Twilio's
// conversation-scoped webhook): a URL that gets the conversation's events
// (Target webhook), or a URL called when a message body holds one of its
// keywords (trigger), or a Studio flow (studio: stored; parley runs no
// flows).
type ConversationWebhook struct {
	Seq             int64
	Sid             string
	ServiceSid      string
	ConversationSid string
	Target          string // "webhook", "trigger" or "studio"
	URL             *string
	Method          *string  // "get" or "post", lower case as Twilio shows it
	Filters         []string // post-event names (webhook)
	Triggers        []string // keywords (trigger)
	FlowSid         *string  // studio
	DateCreated     time.Time
	DateUpdated     time.Time
}
