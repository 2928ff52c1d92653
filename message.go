package parley

import "time"

// Message is a message of a conversation.
type Message struct {
	Seq             int64
	Sid             string
	ServiceSid      string
	ConversationSid string
	// Index is the message's place in its conversation: from 0, strictly
	// increasing, never reused after a delete.
	Index      int64
	Author     string  // an identity, an address, or "system"
	Body       *string // nil for a message without text
	Attributes string  // JSON text; "{}" when unset
	// ParticipantSid is the author's participant when Author names one
	// (by identity or address); it stays after the participant leaves.
	ParticipantSid *string
	ContentSid     *string // a content template (HX…)
	Subject        *string // email conversations
	// Delivery is the aggregate of the message's receipts, as JSON text
	// ({"total":…,"sent":"all",…}); nil while it has none (decision 8).
	Delivery    *string
	DateCreated time.Time
	DateUpdated time.Time
}

// Receipt is the latest delivery status of a message for one non-chat
// participant. parley has no carriers: receipts exist when a test injects
// them (decision 14).
type Receipt struct {
	Seq               int64
	Sid               string
	ServiceSid        string
	ConversationSid   string
	MessageSid        string
	ParticipantSid    string
	ChannelMessageSid string // SM… (or WA…), as the carrier's message
	Status            string // sent, delivered, read, failed, undelivered
	ErrorCode         *int64 // for failed and undelivered
	DateCreated       time.Time
	DateUpdated       time.Time
}
