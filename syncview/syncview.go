// Package syncview says how parley's rows look to client SDKs: the Sync
// objects @twilio/conversations reads (client-sdk-protocol.md §4.4), their
// names, and the data of their items and documents. The tables stay the
// one source of truth; these are views over them. The client API reads
// through them, and core builds the events of each write with them, so a
// client sees the same data whether it reads an object or is told of a
// change to it.
package syncview

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// The views: a user's info map and conversations map, a conversation's
// document ("channel"), roster map and messages list.
const (
	Info          = "info"
	Conversations = "conversations"
	Channel       = "channel"
	Roster        = "roster"
	Messages      = "messages"
)

// The Sync event types parley sends (twilio-sync's names).
const (
	MapItemAdded    = "map_item_added"
	MapItemUpdated  = "map_item_updated"
	MapItemRemoved  = "map_item_removed"
	ListItemAdded   = "list_item_added"
	ListItemUpdated = "list_item_updated"
	ListItemRemoved = "list_item_removed"
	DocumentUpdated = "document_updated"
	DocumentRemoved = "document_removed"
)

// ID names the view of owner (a user or conversation SID): "CH….roster".
func ID(owner, view string) string { return owner + "." + view }

// Parse splits an object id into its owner and view.
func Parse(id string) (owner, view string) {
	owner, view, _ = strings.Cut(id, ".")
	return owner, view
}

// Kind is the Sync type of a view: map, list or document.
func Kind(view string) string {
	switch view {
	case Channel:
		return "document"
	case Messages:
		return "list"
	}
	return "map"
}

// Stamp is a Sync date: RFC 3339 in UTC, with milliseconds.
func Stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// The data of each view, as structs: the write path marshals them for
// every event, and encoding/json sorts a map's keys each time.

// ConversationData is a conversation's document.
type ConversationData struct {
	FriendlyName *string      `json:"friendlyName"`
	UniqueName   *string      `json:"uniqueName"`
	Attributes   string       `json:"attributes"`
	CreatedBy    string       `json:"createdBy"`
	DateCreated  string       `json:"dateCreated"`
	DateUpdated  string       `json:"dateUpdated"`
	State        StateData    `json:"state"`
	Bindings     struct{}     `json:"bindings"`
	Messages     string       `json:"messages"`
	Roster       string       `json:"roster"`
	LastMessage  *LastMessage `json:"lastMessage,omitempty"`
}

// StateData is a conversation's state in its document.
type StateData struct {
	Current     string `json:"current"`
	DateUpdated string `json:"dateUpdated"`
}

// LastMessage is where a conversation's messages end.
type LastMessage struct {
	Index     int64  `json:"index"`
	Timestamp string `json:"timestamp"`
}

// Conversation is a conversation's document data. lastMessage, when the
// conversation has messages, is stamped with the conversation's last
// update.
func Conversation(c parley.Conversation) ConversationData {
	d := ConversationData{FriendlyName: c.FriendlyName, UniqueName: c.UniqueName, Attributes: c.Attributes,
		CreatedBy: c.CreatedBy, DateCreated: Stamp(c.DateCreated), DateUpdated: Stamp(c.DateUpdated),
		State:    StateData{Current: string(c.State), DateUpdated: Stamp(c.DateUpdated)},
		Messages: ID(c.Sid, Messages), Roster: ID(c.Sid, Roster)}
	if c.LastMessageIndex != nil {
		d.LastMessage = &LastMessage{Index: *c.LastMessageIndex, Timestamp: Stamp(c.DateUpdated)}
	}
	return d
}

// ParticipantData is a participant's roster item.
type ParticipantData struct {
	Identity                 *string `json:"identity"`
	Attributes               string  `json:"attributes"`
	DateCreated              string  `json:"dateCreated"`
	DateUpdated              string  `json:"dateUpdated"`
	RoleSid                  *string `json:"roleSid"`
	LastConsumedMessageIndex *int64  `json:"lastConsumedMessageIndex"`
	LastConsumptionTimestamp *string `json:"lastConsumptionTimestamp"`
	Type                     string  `json:"type"`
	UserInfo                 *string `json:"userInfo"`
	Bindings                 any     `json:"bindings"`
}

// Participant is a participant's roster item data.
func Participant(p parley.Participant) ParticipantData {
	d := ParticipantData{Identity: p.Identity, Attributes: p.Attributes, DateCreated: Stamp(p.DateCreated),
		DateUpdated: Stamp(p.DateUpdated), RoleSid: p.RoleSid, LastConsumedMessageIndex: p.LastReadMessageIndex,
		LastConsumptionTimestamp: p.LastReadTimestamp, Type: p.Binding.Type}
	if d.Type == "" {
		d.Type = "chat"
	}
	if p.UserSid != nil {
		info := ID(*p.UserSid, Info)
		d.UserInfo = &info
	}
	if p.Binding.Address != nil {
		d.Bindings = map[string]any{p.Binding.Type: map[string]any{"address": p.Binding.Address, "proxy_address": p.Binding.ProxyAddress}}
	}
	return d
}

// MembershipData is a user's conversations-map item.
type MembershipData struct {
	Channel                  string `json:"channel"`
	Status                   string `json:"status"`
	LastConsumedMessageIndex *int64 `json:"lastConsumedMessageIndex"`
	NotificationLevel        string `json:"notificationLevel"`
}

// Membership is a user's conversations-map item for their participant p.
func Membership(p parley.Participant) MembershipData {
	return MembershipData{Channel: ID(p.ConversationSid, Channel), Status: "joined",
		LastConsumedMessageIndex: p.LastReadMessageIndex, NotificationLevel: p.NotificationLevel}
}

// MessageData is a message's list item.
type MessageData struct {
	Sid         string          `json:"sid"`
	Text        *string         `json:"text"`
	Author      string          `json:"author"`
	Attributes  string          `json:"attributes"`
	Timestamp   string          `json:"timestamp"`
	DateUpdated string          `json:"dateUpdated"`
	MemberSid   *string         `json:"memberSid"`
	Type        string          `json:"type"`
	Subject     *string         `json:"subject"`
	ContentSid  *string         `json:"contentSid"`
	Medias      []MediaData     `json:"medias,omitempty"`
	Delivery    json.RawMessage `json:"delivery,omitempty"`
}

// MediaData is one media of a message.
type MediaData struct {
	Sid         string  `json:"sid"`
	Category    string  `json:"category"`
	Filename    *string `json:"filename"`
	ContentType string  `json:"contentType"`
	Size        int64   `json:"size"`
}

// Message is a message's list item data.
func Message(m parley.Message) MessageData {
	d := MessageData{Sid: m.Sid, Text: m.Body, Author: m.Author, Attributes: m.Attributes,
		Timestamp: Stamp(m.DateCreated), DateUpdated: Stamp(m.DateUpdated), MemberSid: m.ParticipantSid,
		Type: "text", Subject: m.Subject, ContentSid: m.ContentSid}
	for _, md := range m.Media {
		d.Type = "media"
		d.Medias = append(d.Medias, MediaData{Sid: md.Sid, Category: "media", Filename: md.Filename,
			ContentType: md.ContentType, Size: md.Size})
	}
	if m.Delivery != nil {
		d.Delivery = json.RawMessage(*m.Delivery)
	}
	return d
}

// Item is one item of a map: its key and data.
type Item struct {
	Key  string
	Data any
}

// UserInfo is a user's info map, in key order. Presence is as stored
// (false when unknown): the REST rule that shows it null in lists does not
// apply inside the client protocol.
func UserInfo(u parley.User) []Item {
	online, notifiable := u.IsOnline != nil && *u.IsOnline, u.IsNotifiable != nil && *u.IsNotifiable
	return []Item{
		{"attributes", map[string]any{"value": u.Attributes}},
		{"friendlyName", map[string]any{"value": u.FriendlyName}},
		{"reachability", map[string]any{"online": online, "notifiable": notifiable}},
	}
}
