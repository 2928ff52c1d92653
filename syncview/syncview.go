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

// Conversation is a conversation's document data. lastMessage, when the
// conversation has messages, is stamped with the conversation's last
// update.
func Conversation(c parley.Conversation) map[string]any {
	d := map[string]any{
		"friendlyName": c.FriendlyName, "uniqueName": c.UniqueName, "attributes": c.Attributes,
		"createdBy": c.CreatedBy, "dateCreated": Stamp(c.DateCreated), "dateUpdated": Stamp(c.DateUpdated),
		"state":    map[string]any{"current": string(c.State), "dateUpdated": Stamp(c.DateUpdated)},
		"bindings": map[string]any{},
		"messages": ID(c.Sid, Messages), "roster": ID(c.Sid, Roster),
	}
	if c.LastMessageIndex != nil {
		d["lastMessage"] = map[string]any{"index": *c.LastMessageIndex, "timestamp": Stamp(c.DateUpdated)}
	}
	return d
}

// Participant is a participant's roster item data.
func Participant(p parley.Participant) map[string]any {
	typ := p.Binding.Type
	if typ == "" {
		typ = "chat"
	}
	var userInfo any
	if p.UserSid != nil {
		userInfo = ID(*p.UserSid, Info)
	}
	var bindings any
	if p.Binding.Address != nil {
		bindings = map[string]any{p.Binding.Type: map[string]any{"address": p.Binding.Address, "proxy_address": p.Binding.ProxyAddress}}
	}
	return map[string]any{"identity": p.Identity, "attributes": p.Attributes, "dateCreated": Stamp(p.DateCreated),
		"dateUpdated": Stamp(p.DateUpdated), "roleSid": p.RoleSid, "lastConsumedMessageIndex": p.LastReadMessageIndex,
		"lastConsumptionTimestamp": p.LastReadTimestamp, "type": typ, "userInfo": userInfo, "bindings": bindings}
}

// Membership is a user's conversations-map item for their participant p.
func Membership(p parley.Participant) map[string]any {
	return map[string]any{"channel": ID(p.ConversationSid, Channel), "status": "joined",
		"lastConsumedMessageIndex": p.LastReadMessageIndex, "notificationLevel": p.NotificationLevel}
}

// Message is a message's list item data.
func Message(m parley.Message) map[string]any {
	typ := "text"
	var medias []map[string]any
	for _, md := range m.Media {
		typ = "media"
		medias = append(medias, map[string]any{"sid": md.Sid, "category": "media", "filename": md.Filename,
			"contentType": md.ContentType, "size": md.Size})
	}
	data := map[string]any{"sid": m.Sid, "text": m.Body, "author": m.Author, "attributes": m.Attributes,
		"timestamp": Stamp(m.DateCreated), "dateUpdated": Stamp(m.DateUpdated), "memberSid": m.ParticipantSid,
		"type": typ, "subject": m.Subject, "contentSid": m.ContentSid}
	if medias != nil {
		data["medias"] = medias
	}
	if m.Delivery != nil {
		data["delivery"] = json.RawMessage(*m.Delivery)
	}
	return data
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
