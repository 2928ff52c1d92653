package clientapi

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/twilsock"
)

// A conversation is three Sync objects for the SDK (client-sdk-protocol.md
// §4.4): its document "CH….channel" (the conversation's row), its roster
// map "CH….roster" (its participants, keyed by MB SID) and its messages
// list "CH….messages" (its messages, item index = message index). A
// client reads those of the conversations it is a participant of.

// conversationOf reads the conversation a Sync object of it names, if
// the client is one of its participants.
func (h *Handler) conversationOf(r *request, sid string) (parley.Conversation, error) {
	if !parley.IsSID(parley.PrefixConversation, sid) {
		return parley.Conversation{}, parley.NotFound()
	}
	c, err := h.App.FetchConversation(r.ctx, r.grant.ServiceSid, sid)
	if err != nil {
		return c, err
	}
	if _, err := h.App.FetchParticipantOfUser(r.ctx, r.grant.ServiceSid, sid, r.grant.UserSid); err != nil {
		var pe *parley.Error
		if errors.As(err, &pe) && pe.Kind == parley.KindNotFound {
			return c, parley.Errorf(parley.KindForbidden, 20403, "Forbidden: %s is not a participant of %s", r.grant.Identity, sid)
		}
		return c, err
	}
	return c, nil
}

// stamp is a Sync date: RFC 3339 in UTC, with milliseconds.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// documentData is a conversation as its Sync document shows it.
func documentData(c parley.Conversation) map[string]any {
	d := map[string]any{
		"friendlyName": c.FriendlyName, "uniqueName": c.UniqueName, "attributes": c.Attributes,
		"createdBy": c.CreatedBy, "dateCreated": stamp(c.DateCreated), "dateUpdated": stamp(c.DateUpdated),
		"state":    map[string]any{"current": string(c.State), "dateUpdated": stamp(c.DateUpdated)},
		"bindings": map[string]any{},
		"messages": c.Sid + ".messages", "roster": c.Sid + ".roster",
	}
	if c.LastMessageIndex != nil {
		d["lastMessage"] = map[string]any{"index": *c.LastMessageIndex, "timestamp": stamp(c.DateUpdated)}
	}
	return d
}

// document is GET /v3/Documents/CH….channel.
func (h *Handler) document(r *request, id string) (twilsock.Response, error) {
	o, err := h.object(r, id, "channel")
	if err != nil {
		return twilsock.Response{}, err
	}
	c := o.conv
	return ok(map[string]any{"sid": id, "unique_name": id, "url": r.link("/v3/Documents/%s", id), "revision": "0",
		"last_event_id": 0, "data": documentData(c), "date_updated": stamp(c.DateUpdated), "date_expires": nil})
}

// rosterItems are a conversation's participants as roster items, by key.
func (h *Handler) rosterItems(r *request, c parley.Conversation, id string) ([]mapItem, error) {
	p, err := h.App.ListParticipants(r.ctx, r.grant.ServiceSid, c.Sid, parley.PageQuery{Size: 2000})
	if err != nil {
		return nil, err
	}
	base := r.link("/v3/Maps/%s/Items/", id)
	var out []mapItem
	for _, p := range p.Items {
		typ := p.Binding.Type
		if typ == "" {
			typ = "chat"
		}
		var userInfo any
		if p.UserSid != nil {
			userInfo = *p.UserSid + ".info"
		}
		out = append(out, mapItem{Key: p.Sid, URL: base + p.Sid, Revision: "0", DateUpdated: stamp(p.DateUpdated),
			Data: map[string]any{"identity": p.Identity, "attributes": p.Attributes, "dateCreated": stamp(p.DateCreated),
				"dateUpdated": stamp(p.DateUpdated), "roleSid": p.RoleSid, "lastConsumedMessageIndex": p.LastReadMessageIndex,
				"lastConsumptionTimestamp": p.LastReadTimestamp, "type": typ, "userInfo": userInfo,
				"bindings": bindingData(p.Binding)}})
	}
	slices.SortFunc(out, func(a, b mapItem) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// bindingData is a non-chat participant's binding; nil for chat.
func bindingData(b parley.MessagingBinding) any {
	if b.Address == nil {
		return nil
	}
	return map[string]any{b.Type: map[string]any{"address": b.Address, "proxy_address": b.ProxyAddress}}
}

// messageItem is a message as its list item shows it.
func messageItem(m parley.Message, base string) map[string]any {
	typ := "text"
	var medias []map[string]any
	for _, md := range m.Media {
		typ = "media"
		medias = append(medias, map[string]any{"sid": md.Sid, "category": "media", "filename": md.Filename,
			"contentType": md.ContentType, "size": md.Size})
	}
	data := map[string]any{"sid": m.Sid, "text": m.Body, "author": m.Author, "attributes": m.Attributes,
		"timestamp": stamp(m.DateCreated), "dateUpdated": stamp(m.DateUpdated), "memberSid": m.ParticipantSid,
		"type": typ, "subject": m.Subject, "contentSid": m.ContentSid}
	if medias != nil {
		data["medias"] = medias
	}
	if m.Delivery != nil {
		data["delivery"] = json.RawMessage(*m.Delivery)
	}
	idx := strconv.FormatInt(m.Index, 10)
	return map[string]any{"index": m.Index, "url": base + idx, "revision": "0", "last_event_id": 0,
		"date_updated": stamp(m.DateUpdated), "date_expires": nil, "data": data}
}

// list is GET /v3/Lists/CH….messages.
func (h *Handler) list(r *request, id string) (twilsock.Response, error) {
	o, err := h.object(r, id, "messages")
	if err != nil {
		return twilsock.Response{}, err
	}
	c := o.conv
	return ok(listDescriptor(r, id, c))
}

func listDescriptor(r *request, id string, c parley.Conversation) map[string]any {
	return map[string]any{"sid": id, "unique_name": id, "url": r.link("/v3/Lists/%s", id), "revision": "0",
		"last_event_id": 0, "date_updated": stamp(c.DateUpdated), "date_expires": nil,
		"links": map[string]string{"items": r.link("/v3/Lists/%s/Items", id)}}
}

// listItems is GET /v3/Lists/CH….messages/Items: one message by Index, or
// a page of PageSize (50 by default) from From (inclusive) in Order.
func (h *Handler) listItems(r *request, id string) (twilsock.Response, error) {
	o, err := h.object(r, id, "messages")
	if err != nil {
		return twilsock.Response{}, err
	}
	c := o.conv
	base := r.link("/v3/Lists/%s/Items/", id)
	size := 50
	if n, err := strconv.Atoi(r.param("PageSize")); err == nil && n > 0 && n <= 100 {
		size = n
	}
	q := parley.PageQuery{Size: size, Desc: strings.EqualFold(r.param("Order"), "desc")}
	if v := r.param("Index"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return twilsock.Response{}, parley.InvalidParam("Invalid Index %q", v)
		}
		q = parley.PageQuery{Size: 1, After: n} // the row after index n-1: index n, if it exists
	} else if v := r.param("From"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return twilsock.Response{}, parley.InvalidParam("Invalid From %q", v)
		}
		// Cursors are index + 1 (the row a page follows): from n onwards is
		// after n-1; down from n is after n+1 in descending order.
		q.After = n
		if q.Desc {
			q.After = n + 2
		}
	}
	p, err := h.App.ListMessages(r.ctx, r.grant.ServiceSid, c.Sid, q)
	if err != nil {
		return twilsock.Response{}, err
	}
	items := []map[string]any{}
	for _, m := range p.Items {
		if r.param("Index") != "" && strconv.FormatInt(m.Index, 10) != r.param("Index") {
			continue
		}
		items = append(items, messageItem(m, base))
	}
	if r.param("Index") != "" && len(items) == 0 {
		return twilsock.Response{}, parley.Errorf(parley.KindNotFound, 54151, "List Item not found")
	}
	return ok(map[string]any{"items": items, "meta": pageMeta(p.HasPrev, p.HasNext)})
}

// pageMeta is Sync's paging meta; the SDK reads the tokens only as
// whether there is more (and pages by From).
func pageMeta(prev, next bool) map[string]any {
	token := func(b bool) any {
		if b {
			return "more"
		}
		return nil
	}
	return map[string]any{"previous_token": token(prev), "next_token": token(next)}
}
