package parley

import "time"

// EventType names what happened, in Twilio's webhook vocabulary.
type EventType string

// The events parley reports. Twilio's names; the pre-events (onUserUpdate)
// are asked before a write, the others reported after it commits.
// EventUserRemoved is a parley extension: Twilio has no user-removed event,
// so webhooks carry it only when a configuration's Filters name it.
const (
	EventUserAdded   EventType = "onUserAdded"
	EventUserUpdate  EventType = "onUserUpdate" // pre-event
	EventUserUpdated EventType = "onUserUpdated"
	EventUserRemoved EventType = "onUserRemoved"
)

// EventSource is who caused an event: a REST call or a client SDK.
type EventSource string

// Event sources, as Twilio's webhooks name them.
const (
	SourceAPI EventSource = "API"
	SourceSDK EventSource = "SDK"
)

// Event is one thing a write did, typed, so that every consumer reads the
// same facts: the webhook outbox (written from it inside the write's
// transaction), in-process subscribers (told after commit), and later the
// client event log. Exactly one of the resource fields is set, by Type.
type Event struct {
	Type       EventType
	ServiceSid string
	Source     EventSource
	// ClientIdentity is the identity of the SDK user who acted; "" for
	// REST calls.
	ClientIdentity string
	// At is when it happened (for removals: when the row was deleted).
	At time.Time
	// Webhooks says whether post-event webhooks are due: a REST call asks
	// for them with X-Twilio-Webhook-Enabled: true, as on Twilio.
	Webhooks bool

	User *User // user events: the user as it is after the event (before, for removals)
}

// WebhookTarget is where a webhook goes.
type WebhookTarget struct {
	URL    string
	Method string // GET or POST
}
