package clientapi

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/syncview"
	"github.com/parleyhq/parley/twilsock"
)

// A conversation is three Sync objects for the SDK (client-sdk-protocol.md
// §4.4): its document "CH….channel" (the conversation's row), its roster
// map "CH….roster" (its participants, keyed by MB SID) and its messages
// list "CH….messages" (its messages, item index = message index). A
// client reads those of the conversations it is a participant of.

// conversationOf reads the conversation a Sync object of it names, if
// the client is one of its participants; or, for its document (peek),
// if the client created it or may join it (joinConversation): the SDK
// opens the document of a conversation it has just created or has left.
func (h *Handler) conversationOf(r *request, sid string, peek bool) (parley.Conversation, error) {
	g, err := h.grants(r, sid) // the conversation, the user's participant and roles, in one read
	if err != nil || g.Participant != nil {
		return g.Conversation, err
	}
	if peek && (g.Conversation.CreatedBy == r.grant.Identity || g.Has("joinConversation")) {
		return g.Conversation, nil
	}
	return g.Conversation, parley.Errorf(parley.KindForbidden, 20403, "Forbidden: %s is not a participant of %s", r.grant.Identity, sid)
}

// stamp is a Sync date.
func stamp(t time.Time) string { return syncview.Stamp(t) }

// document is GET /v3/Documents/CH….channel.
func (h *Handler) document(r *request, id string) (twilsock.Response, error) {
	o, err := h.object(r, id, "channel")
	if err != nil {
		return twilsock.Response{}, err
	}
	// The id is read before the row (parseObject read it before, too):
	// events after it change the document.
	last, err := h.App.LastSyncEventID(r.ctx, id)
	if err != nil {
		return twilsock.Response{}, err
	}
	c, err := h.App.FetchConversation(r.ctx, r.grant.ServiceSid, o.owner)
	if err != nil {
		return twilsock.Response{}, err
	}
	return ok(map[string]any{"sid": id, "unique_name": id, "url": r.link("/v3/Documents/%s", id), "revision": rev(last),
		"last_event_id": last, "data": syncview.Conversation(c), "date_updated": stamp(c.DateUpdated), "date_expires": nil})
}

// rosterItems are a conversation's participants as roster items, by key.
func (h *Handler) rosterItems(r *request, c parley.Conversation, id string, last int64) ([]mapItem, error) {
	p, err := h.App.ListParticipants(r.ctx, r.grant.ServiceSid, c.Sid, parley.PageQuery{Size: 2000})
	if err != nil {
		return nil, err
	}
	base := r.link("/v3/Maps/%s/Items/", id)
	var out []mapItem
	for _, p := range p.Items {
		out = append(out, mapItem{Key: p.Sid, URL: base + p.Sid, Revision: rev(last), LastEventID: last,
			DateUpdated: stamp(p.DateUpdated), Data: syncview.Participant(p)})
	}
	slices.SortFunc(out, func(a, b mapItem) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// messageItem is a message as its list item shows it.
func messageItem(m parley.Message, base string, last int64) map[string]any {
	idx := strconv.FormatInt(m.Index, 10)
	return map[string]any{"index": m.Index, "url": base + idx, "revision": rev(last), "last_event_id": last,
		"date_updated": stamp(m.DateUpdated), "date_expires": nil, "data": syncview.Message(m)}
}

// list is GET /v3/Lists/CH….messages.
func (h *Handler) list(r *request, id string) (twilsock.Response, error) {
	o, err := h.object(r, id, "messages")
	if err != nil {
		return twilsock.Response{}, err
	}
	last, err := h.App.LastSyncEventID(r.ctx, id)
	if err != nil {
		return twilsock.Response{}, err
	}
	return ok(map[string]any{"sid": id, "unique_name": id, "url": r.link("/v3/Lists/%s", id), "revision": rev(last),
		"last_event_id": last, "date_updated": stamp(o.conv.DateUpdated), "date_expires": nil,
		"links": map[string]string{"items": r.link("/v3/Lists/%s/Items", id)}})
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
	last, err := h.App.LastSyncEventID(r.ctx, id)
	if err != nil {
		return twilsock.Response{}, err
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
		items = append(items, messageItem(m, base, last))
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
