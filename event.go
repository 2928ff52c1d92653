package parley

import (
	"encoding/json"
	"time"
)

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

	EventConversationAdd          EventType = "onConversationAdd" // pre-event
	EventConversationAdded        EventType = "onConversationAdded"
	EventConversationUpdate       EventType = "onConversationUpdate" // pre-event
	EventConversationUpdated      EventType = "onConversationUpdated"
	EventConversationRemove       EventType = "onConversationRemove" // pre-event
	EventConversationRemoved      EventType = "onConversationRemoved"
	EventConversationStateUpdated EventType = "onConversationStateUpdated"

	EventParticipantAdd     EventType = "onParticipantAdd" // pre-event
	EventParticipantAdded   EventType = "onParticipantAdded"
	EventParticipantUpdate  EventType = "onParticipantUpdate" // pre-event
	EventParticipantUpdated EventType = "onParticipantUpdated"
	EventParticipantRemove  EventType = "onParticipantRemove" // pre-event
	EventParticipantRemoved EventType = "onParticipantRemoved"

	EventMessageAdd     EventType = "onMessageAdd" // pre-event
	EventMessageAdded   EventType = "onMessageAdded"
	EventMessageUpdate  EventType = "onMessageUpdate" // pre-event
	EventMessageUpdated EventType = "onMessageUpdated"
	EventMessageRemove  EventType = "onMessageRemove" // pre-event
	EventMessageRemoved EventType = "onMessageRemoved"

	EventDeliveryUpdated EventType = "onDeliveryUpdated"
)

// StateReason is what moved a conversation to another state, as
// onConversationStateUpdated reports it.
type StateReason string

// The reasons Twilio names.
const (
	ReasonAPI   StateReason = "API"   // a REST call set State
	ReasonTimer StateReason = "TIMER" // a timer fired
	ReasonEvent StateReason = "EVENT" // activity (a message, a participant) reactivated it
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
// client event log. The resource fields set depend on Type.
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
	// Conversation is set on conversation and participant events: the
	// conversation after the event (before, for its removal).
	Conversation *Conversation
	Participant  *Participant // participant events, likewise
	Message      *Message     // message events, likewise
	Receipt      *Receipt     // onDeliveryUpdated
	// State changes (onConversationStateUpdated): from, to, and why.
	StateFrom, StateTo ConversationState
	Reason             StateReason
}

// WebhookTarget is where a webhook goes.
type WebhookTarget struct {
	URL    string
	Method string // GET or POST
}

// SyncEvent is one change of a Sync object that client SDKs read
// (client-sdk-protocol.md §4.4–4.6): an item added, updated or removed in
// a map or list, or a document updated or removed. Object names the
// object ("CH….messages"); ID counts its events from 1 (shared by its
// items, strictly increasing in commit order); Key is the item's key, or
// a list item's index, and "" for a document; Data is the item's or the
// document's data after the change (before it, for a removed item).
type SyncEvent struct {
	Object      string
	ID          int64
	ServiceSid  string
	Type        string
	Key         string
	Data        json.RawMessage
	DateCreated time.Time
}
