// Package clientapi answers the requests @twilio/conversations tunnels
// through its socket (client-sdk-protocol.md §4): the client API ("aim":
// configuration, the user's conversations…) and the Twilio Sync objects
// the SDK reads its state from. The Sync objects are views over parley's
// tables, named after what they show: a user's info map is
// "US….info", their conversations map "US….conversations".
package clientapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/syncview"
	"github.com/parleyhq/parley/twilsock"
)

// Handler answers tunnelled requests for one parley.
type Handler struct {
	App *core.App
	// Hub feeds subscribed connections their objects' events.
	Hub *Hub
}

// request is one tunnelled request of a signed-in client.
type request struct {
	ctx   context.Context
	conn  *twilsock.Conn
	grant twilsock.Grant
	http  twilsock.HTTPRequest
	body  []byte
	// segs are the path's segments, decoded.
	segs []string
}

// param is a query parameter as the client sent it (not URL-decoded,
// twilsock's params being split, not decoded).
func (r *request) param(name string) string {
	switch v := r.http.Params[name].(type) {
	case string:
		s, err := url.QueryUnescape(v)
		if err != nil {
			return v
		}
		return s
	}
	return ""
}

// Serve answers one request (twilsock.Options.Upstream).
func (h *Handler) Serve(ctx context.Context, c *twilsock.Conn, req twilsock.HTTPRequest, body []byte) twilsock.Response {
	path, _, _ := strings.Cut(req.Path, "?")
	var segs []string
	for _, s := range strings.Split(strings.Trim(path, "/"), "/") {
		if d, err := url.PathUnescape(s); err == nil {
			segs = append(segs, d)
		} else {
			segs = append(segs, s)
		}
	}
	r := &request{ctx: ctx, conn: c, grant: c.Grant(), http: req, body: body, segs: segs}
	res, err := h.route(r)
	if err != nil {
		return errorResponse(err, path)
	}
	return res
}

// route picks the answer by method and path; the host the client names is
// only a label.
func (h *Handler) route(r *request) (twilsock.Response, error) {
	s, m := r.segs, r.http.Method
	switch {
	case m == "GET" && match(s, "Client", "v2", "Configuration"):
		return h.configuration(r)
	case m == "GET" && match(s, "Client", "v2", "Services", "*", "Users", "Me", "Conversations"):
		return h.myConversations(r)
	case m == "GET" && match(s, "Client", "v2", "Services", "*", "Users", "*") && s[5] != "Me":
		return h.user(r, s[3], s[5])
	case m == "POST" && match(s, "Client", "v2", "Services", "*", "Users", "*") && s[5] != "Me":
		return h.updateUser(r, s[3], s[5])
	case m == "GET" && match(s, "Client", "v2", "Services", "*", "Users", "Me", "Conversations", "*"):
		return h.myConversation(r, s[3], s[7])
	case m == "POST" && match(s, "Client", "v2", "Services", "*", "Users", "Me", "Conversations", "*"):
		return h.updateMyConversation(r, s[3], s[7])
	case m == "POST" && match(s, "Client", "v2", "Services", "*", "Typing"):
		return h.typing(r, s[3])
	case m == "POST" && match(s, "Client", "v2", "Services", "*", "Conversations"):
		return h.createConversation(r, s[3])
	case m == "GET" && match(s, "Client", "v2", "Services", "*", "Conversations", "*"):
		return h.peekConversation(r, s[3], s[5])
	case m == "POST" && match(s, "Client", "v2", "Services", "*", "Conversations", "*"):
		return h.updateConversation(r, s[3], s[5])
	case m == "DELETE" && match(s, "Client", "v2", "Services", "*", "Conversations", "*"):
		return h.deleteConversation(r, s[3], s[5])
	case m == "POST" && match(s, "Client", "v2", "Services", "*", "Conversations", "*", "Messages"):
		return h.sendMessage(r, s[3], s[5])
	case m == "POST" && match(s, "Client", "v2", "Services", "*", "Conversations", "*", "Messages", "*"):
		return h.updateMessage(r, s[3], s[5], s[7])
	case m == "DELETE" && match(s, "Client", "v2", "Services", "*", "Conversations", "*", "Messages", "*"):
		return h.deleteMessage(r, s[3], s[5], s[7])
	case m == "GET" && match(s, "Client", "v2", "Services", "*", "Conversations", "*", "Messages", "*", "Receipts"):
		return h.receipts(r, s[3], s[5], s[7])
	case m == "GET" && match(s, "Client", "v2", "Services", "*", "Conversations", "*", "Messages", "*", "ChannelMetadata"):
		return h.channelMetadata(r, s[3], s[5], s[7])
	case m == "POST" && match(s, "Client", "v2", "Services", "*", "Conversations", "*", "Participants"):
		return h.addParticipant(r, s[3], s[5])
	case m == "POST" && match(s, "Client", "v2", "Services", "*", "Conversations", "*", "Participants", "*"):
		return h.updateParticipant(r, s[3], s[5], s[7])
	case m == "DELETE" && match(s, "Client", "v2", "Services", "*", "Conversations", "*", "Participants", "*"):
		return h.removeParticipant(r, s[3], s[5], s[7])
	case m == "GET" && match(s, "v3", "Maps", "*"):
		return h.mapDescriptor(r, s[2])
	case m == "GET" && match(s, "v3", "Maps", "*", "Items"):
		return h.mapItems(r, s[2])
	case m == "GET" && match(s, "v3", "Documents", "*"):
		return h.document(r, s[2])
	case m == "GET" && match(s, "v3", "Lists", "*"):
		return h.list(r, s[2])
	case m == "GET" && match(s, "v3", "Lists", "*", "Items"):
		return h.listItems(r, s[2])
	case m == "POST" && match(s, "v1", "registrations"):
		return h.registerPush(r)
	case m == "DELETE" && match(s, "v1", "registrations", "*"):
		return h.unregisterPush(r, s[2])
	case m == "DELETE" && match(s, "v1", "registrations"):
		return h.unregisterDevice(r)
	case m == "POST" && match(s, "v4", "Subscriptions"):
		return h.subscriptions(r)
	}
	return twilsock.Response{}, parley.NotFound()
}

// match reports whether segs are pattern, "*" matching any one segment.
func match(segs []string, pattern ...string) bool {
	if len(segs) != len(pattern) {
		return false
	}
	for i, p := range pattern {
		if p != "*" && p != segs[i] {
			return false
		}
	}
	return true
}

// ok is a 200 with v as JSON.
func ok(v any) (twilsock.Response, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return twilsock.Response{}, err
	}
	return twilsock.Response{Status: http.StatusOK, Body: b}, nil
}

// errorResponse is an error in Twilio's JSON, which the SDK surfaces
// (code, message, status).
func errorResponse(err error, path string) twilsock.Response {
	body := parley.AsError(err).Body(path)
	b, _ := json.Marshal(body) // ints and strings always marshal
	return twilsock.Response{Status: body.Status, Body: b}
}

// links are the absolute URLs of the client API on the host the client
// connected to (the SDK requires absolute http(s) URLs, and tunnels them).
func (r *request) link(format string, args ...any) string {
	return r.conn.BaseURL + fmt.Sprintf(format, args...)
}

// configuration is GET Client/v2/Configuration: who the user is, the
// service's options, the user's two Sync maps, and the links the SDK
// follows.
func (h *Handler) configuration(r *request) (twilsock.Response, error) {
	cfg, err := h.App.FetchServiceConfig(r.ctx, r.grant.ServiceSid)
	if err != nil {
		return twilsock.Response{}, err
	}
	svc := r.link("/Client/v2/Services/%s", r.grant.ServiceSid)
	mb := h.App.MaxMediaSize() / (1 << 20)
	return ok(map[string]any{
		"identity": r.grant.Identity,
		"url":      r.link("/Client/v2/Configuration"),
		"options": map[string]any{
			"consumption_report_interval": "PT5S", "user_infos_to_subscribe": 100,
			"reachability_enabled": cfg.ReachabilityEnabled, "http_cache_interval": "PT5S",
			"my_conversations_page_size": 100, "media_attachments_count_limit": 1,
			"media_attachment_size_limit_in_mb": mb, "media_attachments_total_size_limit_in_mb": mb,
			"email_histories_allowed_mime_types": []string{}, "email_bodies_allowed_mime_types": []string{},
		},
		"sync_objects": map[string]string{
			"my_conversations": syncview.ID(r.grant.UserSid, syncview.Conversations),
			"my_user_info":     syncview.ID(r.grant.UserSid, syncview.Info),
		},
		"links": map[string]string{
			"my_conversations":  svc + "/Users/Me/Conversations",
			"conversations":     svc + "/Conversations",
			"users":             svc + "/Users",
			"current_user":      svc + "/Users/Me",
			"typing":            svc + "/Typing",
			"media_service":     r.link("/v1/Services/%s/Media", r.grant.ServiceSid),
			"media_set_service": r.link("/v1/Services/%s/MediaSet", r.grant.ServiceSid),
			"messages_receipts": svc + "/Conversations/%s/Messages/%s/Receipts",
		},
	})
}

// myConversations is GET {links.my_conversations}: the conversations the
// user is a participant of.
func (h *Handler) myConversations(r *request) (twilsock.Response, error) {
	if r.segs[3] != r.grant.ServiceSid {
		return twilsock.Response{}, parley.NotFound()
	}
	ms, err := h.memberships(r, r.grant.UserSid)
	if err != nil {
		return twilsock.Response{}, err
	}
	items := []map[string]any{}
	for _, m := range ms {
		items = append(items, map[string]any{
			"conversation_sid": m.Conversation.Sid, "status": "joined",
			"notification_level": m.Participant.NotificationLevel, "last_read_message_index": m.Participant.LastReadMessageIndex,
			"sync_objects": conversationObjects(m.Conversation.Sid),
		})
	}
	return ok(map[string]any{"conversations": items, "meta": map[string]any{"next_token": nil}})
}

// memberships are a user's participants with their conversations, all in
// one page: a user is in at most 1,000 open conversations
// (core.MaxOpenConversations), and the SDK wants them all.
func (h *Handler) memberships(r *request, userSid string) ([]parley.Membership, error) {
	p, err := h.App.ListUserConversations(r.ctx, r.grant.ServiceSid, userSid, parley.PageQuery{Size: 2000})
	return p.Items, err
}

// user is GET {links.users}/{identity} (getUser, participant.getUser):
// where the user's info lives. A client may look up itself and those it
// shares a conversation with.
func (h *Handler) user(r *request, svc, identity string) (twilsock.Response, error) {
	if svc != r.grant.ServiceSid {
		return twilsock.Response{}, parley.NotFound()
	}
	u, err := h.App.FetchUserRaw(r.ctx, svc, identity)
	if err != nil {
		return twilsock.Response{}, err
	}
	if _, err := h.parseObject(r, syncview.ID(u.Sid, syncview.Info)); err != nil {
		return twilsock.Response{}, err
	}
	return ok(userView(r, u))
}

// userView is a user as the client API answers it.
func userView(r *request, u parley.User) map[string]any {
	return map[string]any{"identity": u.Identity, "friendly_name": u.FriendlyName, "attributes": u.Attributes,
		"is_online": u.IsOnline, "is_notifiable": u.IsNotifiable,
		"sync_objects": map[string]string{"user_info_map": syncview.ID(u.Sid, syncview.Info)},
		"url":          r.link("/Client/v2/Services/%s/Users/%s", u.ServiceSid, url.PathEscape(u.Identity))}
}

// syncObject is what a Sync object id names: whose (a user or a
// conversation SID), and which view; for a conversation's, the
// conversation, read when the client's right to it was checked.
type syncObject struct {
	owner string
	view  string // info, conversations (a user's); channel, roster, messages (a conversation's)
	conv  parley.Conversation
}

// parseObject reads a Sync object id and checks that the client may read
// it: its own maps, a co-participant's info, the objects of a
// conversation it is a participant of.
func (h *Handler) parseObject(r *request, id string) (syncObject, error) {
	owner, view := syncview.Parse(id)
	o := syncObject{owner: owner, view: view}
	switch {
	case parley.IsSID(parley.PrefixUser, owner) && (view == syncview.Info || view == syncview.Conversations):
		if owner == r.grant.UserSid {
			return o, nil
		}
		if view == syncview.Info {
			if co, err := h.coParticipant(r, owner); err != nil || co {
				return o, err
			}
		}
		return o, parley.Errorf(parley.KindForbidden, 20403, "Forbidden: %s is another user's", id)
	case parley.IsSID(parley.PrefixConversation, owner) &&
		(view == syncview.Channel || view == syncview.Roster || view == syncview.Messages):
		var err error
		o.conv, err = h.conversationOf(r, owner, view == syncview.Channel)
		return o, err
	}
	return o, parley.NotFound()
}

// object is parseObject for a request that serves only some views (the
// map routes serve maps, the document route documents…): another view's
// id is not found there.
func (h *Handler) object(r *request, id string, views ...string) (syncObject, error) {
	o, err := h.parseObject(r, id)
	if err == nil && !slices.Contains(views, o.view) {
		err = parley.NotFound()
	}
	return o, err
}

// coParticipant reports whether the client's user shares a conversation
// with user userSid (whose info it may then read): two reads, the two
// users' memberships, whatever their number.
func (h *Handler) coParticipant(r *request, userSid string) (bool, error) {
	theirs, err := h.memberships(r, userSid)
	if err != nil || len(theirs) == 0 {
		return false, err
	}
	mine, err := h.memberships(r, r.grant.UserSid)
	if err != nil {
		return false, err
	}
	shared := make(map[string]bool, len(mine))
	for _, m := range mine {
		shared[m.Conversation.Sid] = true
	}
	return slices.ContainsFunc(theirs, func(m parley.Membership) bool { return shared[m.Conversation.Sid] }), nil
}

// mapItem is a Sync map item as the SDK reads it.
type mapItem struct {
	Key         string  `json:"key"`
	URL         string  `json:"url"`
	Revision    string  `json:"revision"`
	LastEventID int64   `json:"last_event_id"`
	DateUpdated string  `json:"date_updated"`
	DateExpires *string `json:"date_expires"`
	Data        any     `json:"data"`
}

// mapItemsOf reads the items of a map object (a user's info or
// conversations, a conversation's roster), in key order. Each carries
// last, the object's last event id, read before them: events after it
// change what they show.
func (h *Handler) mapItemsOf(r *request, o syncObject, id string, last int64) ([]mapItem, error) {
	base := r.link("/v3/Maps/%s/Items/", url.PathEscape(id))
	var out []mapItem
	switch o.view {
	case syncview.Roster:
		return h.rosterItems(r, o.conv, id, last)
	case syncview.Info:
		u, err := h.App.FetchUserRaw(r.ctx, r.grant.ServiceSid, o.owner)
		if err != nil {
			return nil, err
		}
		for _, it := range syncview.UserInfo(u) {
			out = append(out, mapItem{Key: it.Key, URL: base + it.Key, Revision: rev(last), LastEventID: last,
				Data: it.Data, DateUpdated: stamp(u.DateUpdated)})
		}
	case syncview.Conversations:
		ms, err := h.memberships(r, o.owner)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			out = append(out, mapItem{Key: m.Conversation.Sid, URL: base + m.Conversation.Sid, Revision: rev(last),
				LastEventID: last, DateUpdated: stamp(m.Participant.DateUpdated), Data: syncview.Membership(m.Participant)})
		}
	}
	return out, nil
}

// mapViews are the objects that are Sync maps.
var mapViews = []string{syncview.Info, syncview.Conversations, syncview.Roster}

// mapDescriptor is GET /v3/Maps/{id}, with its items when Include=items.
func (h *Handler) mapDescriptor(r *request, id string) (twilsock.Response, error) {
	o, err := h.object(r, id, mapViews...)
	if err != nil {
		return twilsock.Response{}, err
	}
	last, err := h.App.LastSyncEventID(r.ctx, id)
	if err != nil {
		return twilsock.Response{}, err
	}
	d := map[string]any{"sid": id, "unique_name": id, "url": r.link("/v3/Maps/%s", url.PathEscape(id)), "revision": rev(last),
		"last_event_id": last, "date_updated": stamp(time.Unix(0, 0)), "date_expires": nil,
		"links": map[string]string{"items": r.link("/v3/Maps/%s/Items", url.PathEscape(id))}}
	if r.param("Include") == "items" {
		items, err := h.mapItemsOf(r, o, id, last)
		if err != nil {
			return twilsock.Response{}, err
		}
		d["items"] = items
	}
	return ok(d)
}

// mapItems is GET {links.items}: one item by Key, or a page from From.
func (h *Handler) mapItems(r *request, id string) (twilsock.Response, error) {
	o, err := h.object(r, id, mapViews...)
	if err != nil {
		return twilsock.Response{}, err
	}
	last, err := h.App.LastSyncEventID(r.ctx, id)
	if err != nil {
		return twilsock.Response{}, err
	}
	items, err := h.mapItemsOf(r, o, id, last)
	if err != nil {
		return twilsock.Response{}, err
	}
	if key := r.param("Key"); key != "" {
		for _, it := range items {
			if it.Key == key {
				return ok(map[string]any{"items": []mapItem{it}, "meta": map[string]any{"previous_token": nil, "next_token": nil}})
			}
		}
		return twilsock.Response{}, parley.Errorf(parley.KindNotFound, 54201, "Map Item not found")
	}
	desc := strings.EqualFold(r.param("Order"), "desc")
	from := r.param("From")
	var page []mapItem
	for i := range items {
		it := items[i]
		if desc {
			it = items[len(items)-1-i]
		}
		if from != "" && ((!desc && it.Key < from) || (desc && it.Key > from)) {
			continue
		}
		page = append(page, it)
	}
	if page == nil {
		page = []mapItem{}
	}
	return ok(map[string]any{"items": page, "meta": map[string]any{"previous_token": nil, "next_token": nil}})
}

// maxSubscriptionBatch is the max_batch_size parley announces: the SDK
// sends at most that many objects per request.
const maxSubscriptionBatch = 100

// subscriptionRequest is POST /v4/Subscriptions.
type subscriptionRequest struct {
	Action        string `json:"action"`
	CorrelationID int64  `json:"correlation_id"`
	Requests      []struct {
		ObjectSid   string `json:"object_sid"`
		ObjectType  string `json:"object_type"`
		LastEventID *int64 `json:"last_event_id"`
	} `json:"requests"`
}

// subscriptions establishes or cancels subscriptions: the answer, then,
// through the connection's feed, the replay of what each object's
// subscriber missed and a twilio.sync.event saying which objects are
// subscribed (and which were refused).
func (h *Handler) subscriptions(r *request) (twilsock.Response, error) {
	var req subscriptionRequest
	if err := json.Unmarshal(r.body, &req); err != nil {
		return twilsock.Response{}, parley.InvalidParam("Invalid subscription request: %v", err)
	}
	if len(req.Requests) > maxSubscriptionBatch {
		return twilsock.Response{}, parley.InvalidParam("Too many subscription requests: at most %d at once", maxSubscriptionBatch)
	}
	change := &subscriptionChange{cancel: req.Action == "cancel", correlation: req.CorrelationID}
	for _, q := range req.Requests {
		if _, err := h.parseObject(r, q.ObjectSid); err != nil {
			e := parley.AsError(err)
			if e.Kind == parley.KindInternal {
				return twilsock.Response{}, err
			}
			msg := e.Message
			if msg == "" {
				msg = "Object " + q.ObjectSid + " not found"
			}
			change.failed = append(change.failed, map[string]any{"object_sid": q.ObjectSid, "object_type": q.ObjectType,
				"error": map[string]any{"message": msg, "status": e.Kind.Status(), "code": e.Code}})
			continue
		}
		change.objects = append(change.objects, subscribed{id: q.ObjectSid, kind: q.ObjectType, last: q.LastEventID})
	}
	res, err := ok(map[string]any{"estimated_delivery_in_ms": 1000, "max_batch_size": maxSubscriptionBatch, "ttl_in_s": 3600})
	res.After = func(ctx context.Context, c *twilsock.Conn) {
		h.Hub.feedOf(c).push(job{change: change})
	}
	return res, err
}

// rev is a Sync revision: parley's are the object's last event id.
func rev(last int64) string { return strconv.FormatInt(last, 10) }
