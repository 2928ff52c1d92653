package clientapi

import (
	"encoding/json"
	"net/url"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/syncview"
	"github.com/parleyhq/parley/twilsock"
)

// The client API's writes (client-sdk-protocol.md §4.3): each checks the
// user's permissions (core.Grants), then runs the same core operation as
// its REST counterpart, as the SDK user (Source SDK, ClientIdentity), so
// webhooks, pre-events included, and Sync events follow as for REST. The
// SDK sends JSON with snake_case names and attributes as JSON strings.

// body is a request's JSON object, field by field.
type body map[string]json.RawMessage

// parseBody reads a JSON object; an empty body is an empty object.
func parseBody(r *request) (body, error) {
	b := body{}
	if len(r.body) == 0 {
		return b, nil
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		return nil, parley.InvalidParam("Invalid request body: %v", err)
	}
	return b, nil
}

// str reads a string field: nil when absent, "" when null.
func (b body) str(name string) (*string, error) {
	raw, ok := b[name]
	if !ok {
		return nil, nil
	}
	var v *string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, parley.InvalidParam("Invalid %s: must be a string", name)
	}
	if v == nil {
		v = new(string)
	}
	return v, nil
}

// strs reads string fields into the pointers dsts names.
func (b body) strs(dsts map[string]**string) error {
	for name, dst := range dsts {
		v, err := b.str(name)
		if err != nil {
			return err
		}
		*dst = v
	}
	return nil
}

// sdk is how a client's write is reported: as its user's.
func (r *request) sdk() core.WriteOptions {
	return core.WriteOptions{Webhooks: true, Source: parley.SourceSDK, ClientIdentity: r.grant.Identity}
}

// inService checks that a request addresses the client's own service.
func (r *request) inService(svc string) error {
	if svc != r.grant.ServiceSid {
		return parley.NotFound()
	}
	return nil
}

// grants reads what the client's user may do in conversation conv.
func (h *Handler) grants(r *request, conv string) (core.Grants, error) {
	if conv != "" && !parley.IsSID(parley.PrefixConversation, conv) {
		return core.Grants{}, parley.NotFound()
	}
	return h.App.GrantsOf(r.ctx, r.grant.ServiceSid, r.grant.UserSid, conv)
}

// conversationView is a conversation as the client API answers it.
func conversationView(r *request, c parley.Conversation) map[string]any {
	self := r.link("/Client/v2/Services/%s/Conversations/%s", c.ServiceSid, c.Sid)
	return map[string]any{"sid": c.Sid, "friendly_name": c.FriendlyName, "unique_name": c.UniqueName,
		"attributes": c.Attributes, "created_by": c.CreatedBy, "date_created": stamp(c.DateCreated),
		"date_updated": stamp(c.DateUpdated), "state": string(c.State), "url": self,
		"links":        map[string]string{"messages": self + "/Messages", "participants": self + "/Participants"},
		"sync_objects": conversationObjects(c.Sid)}
}

// conversationObjects name a conversation's three Sync objects.
func conversationObjects(sid string) map[string]string {
	return map[string]string{"conversation": syncview.ID(sid, syncview.Channel),
		"messages": syncview.ID(sid, syncview.Messages), "participants": syncview.ID(sid, syncview.Roster)}
}

// participantView is a participant as the client API answers it.
func participantView(p parley.Participant) map[string]any {
	var binding any
	if p.Binding.Address != nil {
		binding = map[string]any{"type": p.Binding.Type, "address": p.Binding.Address, "proxy_address": p.Binding.ProxyAddress}
	}
	return map[string]any{"sid": p.Sid, "conversation_sid": p.ConversationSid, "identity": p.Identity,
		"attributes": p.Attributes, "date_created": stamp(p.DateCreated), "date_updated": stamp(p.DateUpdated),
		"role_sid": p.RoleSid, "messaging_binding": binding}
}

// messageView is a message as the client API answers it.
func messageView(m parley.Message) map[string]any {
	return map[string]any{"sid": m.Sid, "index": m.Index, "conversation_sid": m.ConversationSid, "author": m.Author,
		"body": m.Body, "attributes": m.Attributes, "participant_sid": m.ParticipantSid,
		"date_created": stamp(m.DateCreated), "date_updated": stamp(m.DateUpdated)}
}

// membershipView is the user's view of a conversation they are in
// (GET and POST {my_conversations}/{CH}).
func membershipView(r *request, m parley.Membership) map[string]any {
	v := conversationView(r, m.Conversation)
	v["conversation_sid"] = m.Conversation.Sid
	v["status"] = "joined"
	v["notification_level"] = m.Participant.NotificationLevel
	v["last_read_message_index"] = m.Participant.LastReadMessageIndex
	v["unread_messages_count"] = core.UnreadMessages(m)
	return v
}

// write is the start every write shares: the path's service must be the
// client's, the body (JSON, or empty) is read, and so is what the user
// may do in conversation conv ("" for the service).
func (h *Handler) write(r *request, svc, conv string) (body, core.Grants, error) {
	if err := r.inService(svc); err != nil {
		return nil, core.Grants{}, err
	}
	b, err := parseBody(r)
	if err != nil {
		return nil, core.Grants{}, err
	}
	g, err := h.grants(r, conv)
	return b, g, err
}

// done is the answer to a write: 200 with v, or the error.
func done(v any, err error) (twilsock.Response, error) {
	if err != nil {
		return twilsock.Response{}, err
	}
	return ok(v)
}

// made is the answer to a create: 201 with v, or the error.
func made(v any, err error) (twilsock.Response, error) {
	res, err := done(v, err)
	if err == nil {
		res.Status = 201
	}
	return res, err
}

// empty is the answer to a delete: 200 with {}, or the error.
func empty(err error) (twilsock.Response, error) { return done(map[string]any{}, err) }

// peekConversation is GET {conversations}/{CH} (peekConversationBySid,
// getParticipantsCount, getMessagesCount), for whoever may read its
// document.
func (h *Handler) peekConversation(r *request, svc, conv string) (twilsock.Response, error) {
	if err := r.inService(svc); err != nil {
		return twilsock.Response{}, err
	}
	c, err := h.conversationOf(r, conv, true)
	if err != nil {
		return twilsock.Response{}, err
	}
	participants, messages, err := h.App.ConversationCounts(r.ctx, svc, c.Sid)
	v := conversationView(r, c)
	v["participants_count"], v["messages_count"] = participants, messages
	return done(v, err)
}

// conversationInput reads a conversation's fields from a client's body.
func conversationInput(b body) (core.ConversationInput, error) {
	var in core.ConversationInput
	err := b.strs(map[string]**string{"friendly_name": &in.FriendlyName, "unique_name": &in.UniqueName, "attributes": &in.Attributes})
	return in, err
}

// createConversation is POST {conversations} (createConversation): the
// user becomes its creator, not yet a participant (the SDK joins next).
func (h *Handler) createConversation(r *request, svc string) (twilsock.Response, error) {
	b, g, err := h.write(r, svc, "")
	if err == nil {
		err = g.Require("createConversation")
	}
	var in core.ConversationInput
	if err == nil {
		in, err = conversationInput(b)
	}
	if err != nil {
		return twilsock.Response{}, err
	}
	c, err := h.App.CreateConversation(r.ctx, svc, in, r.sdk())
	return made(conversationView(r, c), err)
}

// updateConversation is POST {conversations}/{CH}: its friendly name,
// unique name (editConversationName) or attributes
// (editConversationAttributes).
func (h *Handler) updateConversation(r *request, svc, conv string) (twilsock.Response, error) {
	b, g, err := h.write(r, svc, conv)
	var in core.ConversationInput
	if err == nil {
		in, err = conversationInput(b)
	}
	if err == nil && (in.FriendlyName != nil || in.UniqueName != nil) {
		err = g.Require("editConversationName")
	}
	if err == nil && in.Attributes != nil {
		err = g.Require("editConversationAttributes")
	}
	if err != nil {
		return twilsock.Response{}, err
	}
	c, err := h.App.UpdateConversation(r.ctx, svc, conv, in, r.sdk())
	return done(conversationView(r, c), err)
}

// deleteConversation is DELETE {conversations}/{CH}.
func (h *Handler) deleteConversation(r *request, svc, conv string) (twilsock.Response, error) {
	_, g, err := h.write(r, svc, conv)
	if err == nil {
		err = g.Require("deleteConversation")
	}
	if err == nil {
		err = h.App.DeleteConversation(r.ctx, svc, conv, r.sdk())
	}
	return empty(err)
}

// sendMessage is POST {conversations}/{CH}/Messages: a message by the
// user, with a body (sendMessage) or the media it uploaded
// (sendMediaMessage).
func (h *Handler) sendMessage(r *request, svc, conv string) (twilsock.Response, error) {
	b, g, err := h.write(r, svc, conv)
	if err == nil {
		err = g.Member()
	}
	in := core.MessageInput{Author: &r.grant.Identity}
	if err == nil {
		err = b.strs(map[string]**string{"body": &in.Body, "attributes": &in.Attributes, "subject": &in.Subject,
			"content_sid": &in.ContentSid, "content_variables": &in.ContentVariables})
	}
	var media []string
	if raw, ok := b["media_sids"]; err == nil && ok && string(raw) != "null" {
		if json.Unmarshal(raw, &media) != nil {
			err = parley.InvalidParam("Invalid media_sids: must be a list of media SIDs")
		}
	}
	if err == nil {
		switch len(media) {
		case 0:
			err = g.Require("sendMessage")
		case 1:
			in.MediaSid = &media[0]
			err = g.Require("sendMediaMessage")
		default:
			err = parley.InvalidParam("Too many media: parley's messages carry one (media_attachments_count_limit)")
		}
	}
	if err != nil {
		return twilsock.Response{}, err
	}
	if in.Body != nil && *in.Body == "" {
		in.Body = nil // a media message's empty text
	}
	m, err := h.App.CreateMessage(r.ctx, svc, conv, in, r.sdk())
	return made(messageView(m), err)
}

// ownOrAny are the permissions that allow an action on something of the
// user's own (either) or on another's (the "any" one only).
func ownOrAny(own bool, ownPerm, anyPerm string) []string {
	if own {
		return []string{ownPerm, anyPerm}
	}
	return []string{anyPerm}
}

// ownMessage reports whether a message is the user's.
func (h *Handler) ownMessage(r *request, svc, conv, sid string) (bool, error) {
	m, err := h.App.FetchMessage(r.ctx, svc, conv, sid)
	return m.Author == r.grant.Identity, err
}

// updateMessage is POST {conversations}/{CH}/Messages/{IM}: its body
// (editOwnMessage, editAnyMessage) or attributes (editOwnMessageAttributes,
// editAnyMessageAttributes).
func (h *Handler) updateMessage(r *request, svc, conv, sid string) (twilsock.Response, error) {
	b, g, err := h.write(r, svc, conv)
	var own bool
	if err == nil {
		own, err = h.ownMessage(r, svc, conv, sid)
	}
	var in core.MessageInput
	if err == nil {
		err = b.strs(map[string]**string{"body": &in.Body, "attributes": &in.Attributes})
	}
	if err == nil && in.Body != nil {
		err = g.Require(ownOrAny(own, "editOwnMessage", "editAnyMessage")...)
	}
	if err == nil && in.Attributes != nil {
		err = g.Require(ownOrAny(own, "editOwnMessageAttributes", "editAnyMessageAttributes")...)
	}
	if err != nil {
		return twilsock.Response{}, err
	}
	m, err := h.App.UpdateMessage(r.ctx, svc, conv, sid, in, r.sdk())
	return done(messageView(m), err)
}

// deleteMessage is DELETE {conversations}/{CH}/Messages/{IM}.
func (h *Handler) deleteMessage(r *request, svc, conv, sid string) (twilsock.Response, error) {
	_, g, err := h.write(r, svc, conv)
	var own bool
	if err == nil {
		own, err = h.ownMessage(r, svc, conv, sid)
	}
	if err == nil {
		err = g.Require(ownOrAny(own, "deleteOwnMessage", "deleteAnyMessage")...)
	}
	if err == nil {
		err = h.App.DeleteMessage(r.ctx, svc, conv, sid, r.sdk())
	}
	return empty(err)
}

// addParticipant is POST {conversations}/{CH}/Participants: joining (the
// user's own identity: joinConversation), adding another user
// (addParticipant) or a non-chat participant (addNonChatParticipant).
func (h *Handler) addParticipant(r *request, svc, conv string) (twilsock.Response, error) {
	b, g, err := h.write(r, svc, conv)
	var in core.ParticipantInput
	if err == nil {
		err = b.strs(map[string]**string{"identity": &in.Identity, "attributes": &in.Attributes})
	}
	if raw, ok := b["messaging_binding"]; err == nil && ok && string(raw) != "null" {
		var mb body
		var name, level *string
		if json.Unmarshal(raw, &mb) != nil {
			err = parley.InvalidParam("Invalid messaging_binding: must be an object")
		} else {
			err = mb.strs(map[string]**string{"address": &in.Address, "proxy_address": &in.ProxyAddress, "name": &name, "level": &level})
		}
		in.BindingNameOrLevel = name != nil || level != nil
	}
	if err == nil {
		switch {
		case in.Address != nil:
			err = g.Require("addNonChatParticipant", "addParticipant")
		case in.Identity != nil && *in.Identity == r.grant.Identity:
			err = g.Require("joinConversation", "addParticipant")
		default:
			err = g.Require("addParticipant")
		}
	}
	if err != nil {
		return twilsock.Response{}, err
	}
	p, err := h.App.CreateParticipant(r.ctx, svc, conv, in, r.sdk())
	return made(participantView(p), err)
}

// participantOf reads the participant key names and whether it is the
// user's own.
func (h *Handler) participantOf(r *request, g core.Grants, svc, conv, key string) (p parley.Participant, own bool, err error) {
	if g.Participant != nil && (key == r.grant.Identity || key == g.Participant.Sid) {
		return *g.Participant, true, nil
	}
	p, err = h.App.FetchParticipant(r.ctx, svc, conv, key)
	return p, g.Participant != nil && g.Participant.Sid == p.Sid, err
}

// updateParticipant is POST {conversations}/{CH}/Participants/{MB}: its
// attributes, the user's own participant's (editOwnParticipantAttributes)
// or another's (editAnyParticipantAttributes).
func (h *Handler) updateParticipant(r *request, svc, conv, key string) (twilsock.Response, error) {
	b, g, err := h.write(r, svc, conv)
	var p parley.Participant
	var own bool
	if err == nil {
		p, own, err = h.participantOf(r, g, svc, conv, key)
	}
	if err == nil {
		err = g.Require(ownOrAny(own, "editOwnParticipantAttributes", "editAnyParticipantAttributes")...)
	}
	var in core.ParticipantInput
	if err == nil {
		err = b.strs(map[string]**string{"attributes": &in.Attributes})
	}
	if err != nil {
		return twilsock.Response{}, err
	}
	p, err = h.App.UpdateParticipant(r.ctx, svc, conv, p.Sid, in, r.sdk())
	return done(participantView(p), err)
}

// removeParticipant is DELETE {conversations}/{CH}/Participants/{key}:
// leaving (the user's own: leaveConversation) or removing another
// (removeParticipant).
func (h *Handler) removeParticipant(r *request, svc, conv, key string) (twilsock.Response, error) {
	_, g, err := h.write(r, svc, conv)
	var p parley.Participant
	var own bool
	if err == nil {
		p, own, err = h.participantOf(r, g, svc, conv, key)
	}
	if err == nil {
		err = g.Require(ownOrAny(own, "leaveConversation", "removeParticipant")...)
	}
	if err == nil {
		err = h.App.DeleteParticipant(r.ctx, svc, conv, p.Sid, r.sdk())
	}
	return empty(err)
}

// updateUser is POST {users}/{identity}: a friendly name or attributes,
// the user's own (editOwnUserInfo) or another's (editAnyUserInfo).
func (h *Handler) updateUser(r *request, svc, identity string) (twilsock.Response, error) {
	b, g, err := h.write(r, svc, "")
	if err == nil {
		err = g.Require(ownOrAny(identity == r.grant.Identity, "editOwnUserInfo", "editAnyUserInfo")...)
	}
	var in core.UserUpdate
	if err == nil {
		err = b.strs(map[string]**string{"friendly_name": &in.FriendlyName, "attributes": &in.Attributes})
	}
	var u parley.User
	if err == nil {
		u, err = h.App.FetchUserRaw(r.ctx, svc, identity)
	}
	if err != nil {
		return twilsock.Response{}, err
	}
	u, err = h.App.UpdateUser(r.ctx, svc, u.Sid, in, r.sdk())
	return done(userView(r, u), err)
}

// myConversation is GET {my_conversations}/{CH or unique name}: the
// user's membership of it (getConversationByUniqueName,
// getUnreadMessagesCount).
func (h *Handler) myConversation(r *request, svc, key string) (twilsock.Response, error) {
	if err := r.inService(svc); err != nil {
		return twilsock.Response{}, err
	}
	m, err := h.App.FetchUserConversation(r.ctx, svc, r.grant.UserSid, key)
	return done(membershipView(r, m), memberErr(err))
}

// memberErr is a membership lookup's not-found as the SDK's 50430.
func memberErr(err error) error {
	if err != nil && parley.AsError(err).Kind == parley.KindNotFound {
		return parley.Errorf(parley.KindNotFound, 50430, "Participant is not a member of conversation")
	}
	return err
}

// updateMyConversation is POST {my_conversations}/{CH}: the read horizon
// (last_read_message_index, a number or null) or the notification level.
// Setting the horizon stamps it now, as the roster shows
// (lastConsumptionTimestamp).
func (h *Handler) updateMyConversation(r *request, svc, conv string) (twilsock.Response, error) {
	if err := r.inService(svc); err != nil {
		return twilsock.Response{}, err
	}
	b, err := parseBody(r)
	var in core.UserConversationUpdate
	if err == nil {
		in.NotificationLevel, err = b.str("notification_level")
	}
	if raw, ok := b["last_read_message_index"]; err == nil && ok {
		var idx *int64
		if json.Unmarshal(raw, &idx) != nil || idx != nil && *idx < 0 {
			return twilsock.Response{}, parley.Errorf(parley.KindInvalid, 50421, "Invalid last read message index format")
		}
		v, now := "", h.App.Now().UTC().Format(time.RFC3339)
		if idx != nil {
			v = strconv.FormatInt(*idx, 10)
		}
		in.LastReadMessageIndex, in.LastReadTimestamp = &v, &now
	}
	if err != nil {
		return twilsock.Response{}, err
	}
	m, err := h.App.UpdateUserConversation(r.ctx, svc, r.grant.UserSid, conv, in, r.sdk())
	return done(membershipView(r, m), memberErr(err))
}

// typingTimeout is how long a typing indicator lasts, in seconds: Twilio's
// default. Notifications carry one more (the SDK's source says Twilio
// adds one there, src/services/typing-indicator.ts).
const typingTimeout = 5

// typing is POST {typing} (ChannelSid=CH…, a form): the user is typing
// in a conversation they are in; its other participants' connections are
// told, on every node, and nothing is stored.
func (h *Handler) typing(r *request, svc string) (twilsock.Response, error) {
	if err := r.inService(svc); err != nil {
		return twilsock.Response{}, err
	}
	form, err := url.ParseQuery(string(r.body))
	if err != nil {
		return twilsock.Response{}, parley.InvalidParam("Invalid form body: %v", err)
	}
	conv := form.Get("ChannelSid")
	g, err := h.grants(r, conv)
	if err == nil {
		err = g.Member()
	}
	var ps parley.Page[parley.Participant]
	if err == nil {
		ps, err = h.App.ListParticipants(r.ctx, svc, conv, parley.PageQuery{Size: 2000})
	}
	if err != nil {
		return twilsock.Response{}, err
	}
	var users []string
	for _, p := range ps.Items {
		if p.UserSid != nil && *p.UserSid != r.grant.UserSid {
			users = append(users, *p.UserSid)
		}
	}
	payload, err := json.Marshal(map[string]any{"channel_sid": conv, "identity": r.grant.Identity, "typing_timeout": typingTimeout + 1})
	if err == nil {
		// This node's connections, then the other nodes'.
		h.Hub.notifyUsers(users, "twilio.ipmsg.typing_indicator", payload)
		err = h.App.SendNotice(r.ctx, core.Notice{MessageType: "twilio.ipmsg.typing_indicator", Users: users, Payload: payload})
	}
	return done(map[string]any{"typing_timeout": typingTimeout}, err)
}

// receipts is GET {messages_receipts} (getDetailedDeliveryReceipts): a
// message's delivery receipts, PageSize (50 by default, at most 100) at a
// time from PageToken, for the conversation's participants.
func (h *Handler) receipts(r *request, svc, conv, msg string) (twilsock.Response, error) {
	_, g, err := h.write(r, svc, conv)
	if err == nil {
		err = g.Member()
	}
	q := parley.PageQuery{Size: 50}
	if v := r.param("PageSize"); err == nil && v != "" {
		if n, e := strconv.Atoi(v); e != nil || n < 1 || n > 100 {
			err = parley.InvalidParam("Invalid PageSize %q: 1 to 100", v)
		} else {
			q.Size = n
		}
	}
	if v := r.param("PageToken"); err == nil && v != "" {
		if q.After, err = strconv.ParseInt(v, 10, 64); err != nil || q.After < 1 {
			err = parley.InvalidParam("Invalid PageToken %q", v)
		}
	}
	if err != nil {
		return twilsock.Response{}, err
	}
	p, err := h.App.ListReceipts(r.ctx, svc, conv, msg, q)
	items := make([]map[string]any, 0, len(p.Items))
	for _, d := range p.Items {
		items = append(items, map[string]any{"sid": d.Sid, "message_sid": d.MessageSid, "conversation_sid": d.ConversationSid,
			"channel_message_sid": d.ChannelMessageSid, "participant_sid": d.ParticipantSid, "status": d.Status,
			"error_code": d.ErrorCode, "date_created": stamp(d.DateCreated), "date_updated": stamp(d.DateUpdated)})
	}
	var next any
	if p.HasNext {
		next = strconv.FormatInt(p.LastSeq, 10)
	}
	return done(map[string]any{"delivery_receipts": items, "meta": map[string]any{"previous_token": nil, "next_token": next}}, err)
}

// channelMetadata is GET …/Messages/{IM}/ChannelMetadata: what a carrier
// said of a message. parley has no carriers, so a member is told there is
// none (404 50530, which the SDK takes as "no metadata").
func (h *Handler) channelMetadata(r *request, svc, conv, msg string) (twilsock.Response, error) {
	_, g, err := h.write(r, svc, conv)
	if err == nil {
		err = g.Member()
	}
	if err == nil {
		_, err = h.App.FetchMessage(r.ctx, svc, conv, msg)
	}
	if err == nil {
		err = parley.Errorf(parley.KindNotFound, 50530, "Channel Metadata not found")
	}
	return twilsock.Response{}, err
}
