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
	Delivery *string
	// Media are the files the message carries; nil for none.
	Media       []MediaRef
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

// Media is a file stored by parley's Media Content Service (decision 15):
// uploaded to a service on its own, then carried by at most one message.
// Its bytes live in the database in chunks, read and written one chunk at a
// time, so that no copy of a whole file is ever held in memory.
type Media struct {
	Seq         int64
	Sid         string // ME…
	ServiceSid  string
	ContentType string
	Filename    *string
	Category    string // media (a file of a message), body or history
	Author      string // "system" for REST uploads
	Size        int64
	// ConversationSid and MessageSid are the message that carries the
	// media; nil until one does.
	ConversationSid *string
	MessageSid      *string
	DateCreated     time.Time
	DateUpdated     time.Time
}

// MediaRef is a message's reference to media it carries: what the
// message's "media" array shows of it.
type MediaRef struct {
	Sid         string  `json:"sid"`
	Size        int64   `json:"size"`
	ContentType string  `json:"content_type"`
	Filename    *string `json:"filename"`
}
