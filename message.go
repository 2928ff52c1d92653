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
	DateCreated    time.Time
	DateUpdated    time.Time
}
