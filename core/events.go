package core

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// events collects the events of one write, in the order they happened.
type events struct {
	list   []parley.Event
	queued int // webhook deliveries written for them
	// scoped holds conversations' own webhooks, read once per write;
	// a conversation delete puts them here before the cascade takes them.
	scoped map[string][]parley.ConversationWebhook
	// gone holds, by conversation or user SID, the participants a delete
	// of it cascades to (keepGone).
	gone map[string][]parley.Participant
	// sync are the Sync events recordSync appended, with their ids.
	sync []syncEvent
}

func (ev *events) add(e parley.Event) { ev.list = append(ev.list, e) }

// record writes, inside the write's own transaction, what its events owe
// the outside world: an outbox row per post-event webhook due, to the
// service's (or account's) target and to the conversation's own webhooks,
// and the Sync events client SDKs are to see (recordSync).
// So a change that commits has its deliveries committed with it, and a
// change that does not commit has none.
func (a *App) record(ctx context.Context, tx parley.Tx, ev *events) error {
	if err := a.webhooks(ctx, tx, ev); err != nil {
		return err
	}
	if err := a.recordPushes(ctx, tx, ev); err != nil {
		return err
	}
	return a.recordSync(ctx, tx, ev)
}

// webhooks queues the post-event deliveries a write's events owe.
func (a *App) webhooks(ctx context.Context, tx parley.Tx, ev *events) error {
	targets := map[string]parley.WebhookConfig{} // per service, read once per write
	for _, e := range ev.list {
		if !e.Webhooks {
			continue
		}
		cfg, ok := targets[e.ServiceSid]
		if !ok {
			var err error
			if cfg, err = webhookTarget(ctx, tx, e.ServiceSid); err != nil {
				return err
			}
			targets[e.ServiceSid] = cfg
		}
		if cfg.PostWebhookURL != nil && wants(cfg, e.Type) {
			if err := a.enqueue(ctx, tx, ev, e, *cfg.PostWebhookURL, method(cfg), ""); err != nil {
				return err
			}
		}
		conv := eventConversation(e)
		if conv == "" {
			continue
		}
		hooks, ok := ev.scoped[conv]
		if !ok {
			var err error
			if hooks, err = tx.ConversationWebhooks(ctx, conv); err != nil {
				return err
			}
			ev.keepScoped(conv, hooks)
		}
		for _, h := range hooks {
			if h.URL != nil && scopedWants(h, e) {
				if err := a.enqueue(ctx, tx, ev, e, *h.URL, strings.ToUpper(deref(h.Method)), h.Sid); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// keepScoped remembers a conversation's webhooks for the rest of the
// write.
func (ev *events) keepScoped(conv string, hooks []parley.ConversationWebhook) {
	if ev.scoped == nil {
		ev.scoped = map[string][]parley.ConversationWebhook{}
	}
	ev.scoped[conv] = hooks
}

// enqueue writes one outbox row for e to target; webhookSid, when set,
// is the conversation webhook it goes to, which its payload names.
func (a *App) enqueue(ctx context.Context, tx parley.Tx, ev *events, e parley.Event, target, method, webhookSid string) error {
	params := a.postParams(e)
	if webhookSid != "" {
		params.Set("WebhookSid", webhookSid)
	}
	if method == "" {
		method = "POST"
	}
	now := a.now().UTC()
	d := parley.Delivery{
		Sid:           a.sids.New(parley.PrefixDelivery),
		EventType:     string(e.Type),
		ServiceSid:    e.ServiceSid,
		URL:           target,
		Method:        method,
		Params:        params.Encode(),
		Status:        parley.DeliveryPending,
		NextAttemptAt: now,
		DateCreated:   now,
		DateUpdated:   now,
	}
	if err := tx.EnqueueDelivery(ctx, d); err != nil {
		return err
	}
	ev.queued++
	return nil
}

// eventConversation is the conversation an event belongs to, or "".
func eventConversation(e parley.Event) string {
	switch {
	case e.Message != nil:
		return e.Message.ConversationSid
	case e.Participant != nil:
		return e.Participant.ConversationSid
	case e.Conversation != nil:
		return e.Conversation.Sid
	}
	return ""
}

// scopedWants reports whether a conversation webhook gets e: a webhook
// target the events its filters name; a trigger target the messages whose
// body holds one of its keywords (any case); a studio target nothing
// (parley runs no flows).
func scopedWants(h parley.ConversationWebhook, e parley.Event) bool {
	switch h.Target {
	case "webhook":
		return slices.Contains(h.Filters, string(e.Type))
	case "trigger":
		if e.Type != parley.EventMessageAdded || e.Message.Body == nil {
			return false
		}
		body := strings.ToLower(*e.Message.Body)
		return slices.ContainsFunc(h.Triggers, func(k string) bool { return strings.Contains(body, strings.ToLower(k)) })
	}
	return false
}

// subscribers are told what each write did, after it commits.
type subscribers[T any] struct {
	mu   sync.RWMutex
	next int
	fns  map[int]func(T)
}

// add registers fn and returns the function that removes it.
func (s *subscribers[T]) add(fn func(T)) (remove func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fns == nil {
		s.fns = map[int]func(T){}
	}
	id := s.next
	s.next++
	s.fns[id] = fn
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.fns, id)
	}
}

// all returns the registered functions.
func (s *subscribers[T]) all() []func(T) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fns := make([]func(T), 0, len(s.fns))
	for _, fn := range s.fns {
		fns = append(fns, fn)
	}
	return fns
}

// Subscribe registers fn to be told, after each write commits, the events
// it made, in order. fn runs on the writing request's goroutine, so it must
// hand work off rather than block. The returned function unsubscribes.
func (a *App) Subscribe(fn func(parley.Event)) (unsubscribe func()) { return a.subs.add(fn) }

// publish tells the subscribers a committed write's events and Sync
// events.
func (a *App) publish(ev *events) {
	if len(ev.list) > 0 {
		fns := a.subs.all()
		for _, e := range ev.list {
			for _, fn := range fns {
				fn(e)
			}
		}
	}
	if fns := a.syncSubs.all(); len(ev.sync) > 0 && len(fns) > 0 {
		// The data, made now, outside the write.
		list := make([]parley.SyncEvent, 0, len(ev.sync))
		for _, e := range ev.sync {
			if e.Data == nil && e.view != nil {
				var err error
				if e.Data, err = json.Marshal(e.view); err != nil {
					a.log.Error("sync: event data", "object", e.Object, "err", err)
					continue
				}
			}
			list = append(list, e.SyncEvent)
		}
		for _, fn := range fns {
			fn(list)
		}
	}
}

// webhookTarget picks the configuration that governs a service's events:
// the service's own when it has any webhook URL, else the account's. On
// Twilio, "service-scoped webhooks override your global webhook settings
// such that only the service-scoped hooks will fire" (Per-Service Webhook
// Resource docs).
func webhookTarget(ctx context.Context, tx parley.Tx, svc string) (parley.WebhookConfig, error) {
	scfg, err := tx.ServiceConfig(ctx, svc)
	if err != nil {
		return parley.WebhookConfig{}, notFound(err)
	}
	if scfg.Webhooks.Configured() {
		return scfg.Webhooks, nil
	}
	acfg, err := tx.AccountConfig(ctx)
	if err != nil {
		return parley.WebhookConfig{}, err
	}
	return acfg.Webhooks, nil
}

// wants reports whether the configuration asks for event.
func wants(cfg parley.WebhookConfig, event parley.EventType) bool {
	if event == parley.EventUserRemoved {
		return slices.Contains(cfg.Filters, string(event))
	}
	return len(cfg.Filters) == 0 || slices.Contains(cfg.Filters, string(event))
}

func method(cfg parley.WebhookConfig) string {
	if cfg.Method != nil {
		return *cfg.Method
	}
	return "POST"
}

// preEvents reports whether a write runs pre-event webhooks: a client
// SDK's always (as on Twilio); a REST call's only with the parley
// extension on and X-Twilio-Webhook-Enabled: true.
func (a *App) preEvents(opts WriteOptions) bool {
	return opts.Webhooks && a.preHook != nil && (a.restPreEvents || opts.Source == parley.SourceSDK)
}

// askFirst runs a pre-event before a write when the REST extension asks
// for it: propose reads, in a View, what the write would leave, after the
// rules have passed it (so the app is never asked about a write the rules
// refuse), and event makes the pre-event of it. It returns the app's
// answer or its refusal.
func askFirst[T any](ctx context.Context, a *App, opts WriteOptions, propose func(tx parley.Tx) (T, error), event func(T) parley.Event) (PreAnswer, error) {
	if !a.preEvents(opts) {
		return PreAnswer{}, nil
	}
	v, err := read(ctx, a, propose)
	if err != nil {
		return PreAnswer{}, err
	}
	return a.preEvent(ctx, event(v))
}

// preEvent runs a pre-event webhook before a write (callers check
// preEvents first). A rejection comes back as the error to return to the
// caller; an answer asking for changes, as the PreAnswer to apply.
func (a *App) preEvent(ctx context.Context, e parley.Event) (PreAnswer, error) {
	var cfg parley.WebhookConfig
	err := a.store.View(ctx, func(tx parley.Tx) error {
		var err error
		cfg, err = webhookTarget(ctx, tx, e.ServiceSid)
		return err
	})
	if err != nil {
		return PreAnswer{}, err
	}
	if cfg.PreWebhookURL == nil || !wants(cfg, e.Type) {
		return PreAnswer{}, nil
	}
	body, err := a.preHook.Call(ctx, parley.WebhookTarget{URL: *cfg.PreWebhookURL, Method: method(cfg)}, a.webhookParams(e))
	if err != nil {
		return PreAnswer{}, err
	}
	return parsePreAnswer(e.Type, body)
}

// PreAnswer is what an app's answer to a pre-event asks to change. Twilio:
// "only friendly_name" for onConversationAdd and onConversationUpdate;
// missing keys leave the value as it is; an invalid value is an error to
// the caller.
type PreAnswer struct {
	FriendlyName *string
	// Body, Author and Attributes: what an answer to onMessageAdd or
	// onMessageUpdate may change.
	Body, Author, Attributes *string
}

// parsePreAnswer reads the JSON object of a pre-event's answer. An empty
// or non-JSON body (a plain "OK") changes nothing, as an empty object.
func parsePreAnswer(t parley.EventType, body []byte) (PreAnswer, error) {
	var ans PreAnswer
	var keys map[string]**string
	switch t {
	case parley.EventConversationAdd, parley.EventConversationUpdate:
		keys = map[string]**string{"friendly_name": &ans.FriendlyName}
	case parley.EventMessageAdd, parley.EventMessageUpdate:
		keys = map[string]**string{"body": &ans.Body, "author": &ans.Author, "attributes": &ans.Attributes}
	default:
		return ans, nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return ans, nil
	}
	for key, dst := range keys {
		raw, ok := fields[key]
		if !ok {
			continue
		}
		var v string
		err := json.Unmarshal(raw, &v)
		switch {
		case err == nil && key == "friendly_name" && utf8.RuneCountInString(v) > MaxFriendlyName:
			err = errors.New("too long")
		case err == nil && key == "attributes" && v != "":
			err = checkAttributes(v, MaxMessageAttributes)
		case err == nil && key == "body" && len(v) > MaxBody:
			err = errors.New("too long")
		}
		if err != nil {
			return ans, parley.Errorf(parley.KindInvalid, 50057,
				"The %s webhook answered with an invalid %s", t, key)
		}
		*dst = &v
	}
	return ans, nil
}

// applyTo applies the answer to the conversation about to be written.
func (ans PreAnswer) applyTo(c *parley.Conversation) {
	if ans.FriendlyName != nil {
		c.FriendlyName = emptyIsNil(ans.FriendlyName)
	}
}

// webhookParams are the form parameters of an event's webhook: the common
// AccountSid, EventType and Source (and ClientIdentity for SDK actions),
// then what the event type's formatter adds.
func (a *App) webhookParams(e parley.Event) url.Values {
	v := url.Values{
		"AccountSid": {a.account.Sid},
		"EventType":  {string(e.Type)},
		"Source":     {string(e.Source)},
	}
	if e.ClientIdentity != "" {
		v.Set("ClientIdentity", e.ClientIdentity)
	}
	formatters[e.Type](v, e)
	return v
}

// postParams are a post-event's parameters: webhookParams and Twilio's
// RetryCount, which the dispatcher sets on each attempt (0 on the first).
func (a *App) postParams(e parley.Event) url.Values {
	v := a.webhookParams(e)
	v.Set("RetryCount", "0")
	return v
}

// formatters hold, per event type, the parameters Twilio's webhook
// documentation lists for it. Unset values are sent empty.
var formatters = map[parley.EventType]func(url.Values, parley.Event){
	parley.EventUserAdded: func(v url.Values, e parley.Event) {
		userParams(v, e.User)
		v.Set("DateCreated", formatTime(e.User.DateCreated))
	},
	parley.EventUserUpdate: func(v url.Values, e parley.Event) {
		userParams(v, e.User)
		v.Set("DateUpdated", formatTime(e.User.DateUpdated))
	},
	parley.EventUserUpdated: func(v url.Values, e parley.Event) {
		userParams(v, e.User)
		v.Set("DateCreated", formatTime(e.User.DateCreated))
		v.Set("DateUpdated", formatTime(e.User.DateUpdated))
		v.Set("isOnline", optBool(e.User.IsOnline))
		v.Set("isNotifiable", optBool(e.User.IsNotifiable))
	},
	parley.EventUserRemoved: func(v url.Values, e parley.Event) {
		userParams(v, e.User)
		v.Set("DateCreated", formatTime(e.User.DateCreated))
		v.Set("DateUpdated", formatTime(e.User.DateUpdated))
		v.Set("DateRemoved", formatTime(e.At))
	},

	// Conversation events (semantics-conversations.md §8.4): dates with
	// milliseconds, ChatServiceSid on each, empty optional values left out
	// (docs/compatibility.md).
	parley.EventConversationAdd: func(v url.Values, e parley.Event) {
		conversationParams(v, e.Conversation)
		// Auto-creation asks with the sender's binding and the message
		// that caused it (§8.4); REST creates have neither.
		if p := e.Participant; p != nil {
			setOpt(v, "MessagingBinding.Address", p.Binding.Address)
			setOpt(v, "MessagingBinding.ProxyAddress", p.Binding.ProxyAddress)
			setOpt(v, "MessagingBinding.AuthorAddress", p.Binding.Address)
		}
		if m := e.Message; m != nil {
			setOpt(v, "MessageBody", m.Body)
			if len(m.Media) > 0 {
				v.Set("Media", mediaParam(m.Media))
			}
		}
	},
	parley.EventConversationAdded: func(v url.Values, e parley.Event) {
		conversationParams(v, e.Conversation)
		conversationIdentity(v, e.Conversation)
	},
	parley.EventConversationUpdate: func(v url.Values, e parley.Event) {
		conversationParams(v, e.Conversation)
		conversationIdentity(v, e.Conversation)
	},
	parley.EventConversationUpdated: func(v url.Values, e parley.Event) {
		conversationParams(v, e.Conversation)
		conversationIdentity(v, e.Conversation)
	},
	parley.EventConversationRemove: func(v url.Values, e parley.Event) {
		conversationParams(v, e.Conversation)
		conversationIdentity(v, e.Conversation)
	},
	parley.EventConversationRemoved: func(v url.Values, e parley.Event) {
		conversationParams(v, e.Conversation)
		conversationIdentity(v, e.Conversation)
		v.Set("DateRemoved", formatMillis(e.At))
	},
	parley.EventConversationStateUpdated: func(v url.Values, e parley.Event) {
		c := e.Conversation
		v.Set("ChatServiceSid", c.ServiceSid)
		v.Set("ConversationSid", c.Sid)
		v.Set("StateUpdated", formatMillis(e.At))
		v.Set("StateFrom", string(e.StateFrom))
		v.Set("StateTo", string(e.StateTo))
		v.Set("Reason", string(e.Reason))
		setOpt(v, "MessagingServiceSid", c.MessagingServiceSid)
	},
	parley.EventMessageAdd: messageParams,
	parley.EventMessageAdded: func(v url.Values, e parley.Event) {
		messageParams(v, e)
		messageIdentity(v, e.Message)
		setOpt(v, "MessagingServiceSid", e.Conversation.MessagingServiceSid)
	},
	parley.EventMessageUpdate:  messageEdited,
	parley.EventMessageUpdated: messageEdited,
	parley.EventMessageRemove:  messageEdited,
	parley.EventMessageRemoved: func(v url.Values, e parley.Event) {
		messageEdited(v, e)
		v.Set("DateRemoved", formatMillis(e.At))
	},
	parley.EventDeliveryUpdated: func(v url.Values, e parley.Event) {
		r := e.Receipt
		v.Set("ChatServiceSid", r.ServiceSid)
		v.Set("ConversationSid", r.ConversationSid)
		v.Set("MessageSid", r.MessageSid)
		v.Set("DeliveryReceiptSid", r.Sid)
		v.Set("ChannelMessageSid", r.ChannelMessageSid)
		v.Set("ParticipantSid", r.ParticipantSid)
		v.Set("Status", r.Status)
		if r.ErrorCode != nil {
			v.Set("ErrorCode", strconv.FormatInt(*r.ErrorCode, 10))
		}
		v.Set("DateCreated", formatMillis(r.DateCreated))
		v.Set("DateUpdated", formatMillis(r.DateUpdated))
	},
	parley.EventParticipantAdd: func(v url.Values, e parley.Event) {
		participantParams(v, e.Participant)
	},
	parley.EventParticipantAdded: func(v url.Values, e parley.Event) {
		participantParams(v, e.Participant)
		v.Set("ParticipantSid", e.Participant.Sid)
		v.Set("DateCreated", formatMillis(e.Participant.DateCreated))
	},
	parley.EventParticipantUpdate: func(v url.Values, e parley.Event) {
		participantParams(v, e.Participant)
		participantDates(v, e.Participant)
	},
	parley.EventParticipantUpdated: func(v url.Values, e parley.Event) {
		participantParams(v, e.Participant)
		participantDates(v, e.Participant)
		if i := e.Participant.LastReadMessageIndex; i != nil {
			v.Set("LastReadMessageIndex", strconv.FormatInt(*i, 10))
		}
	},
	parley.EventParticipantRemove: func(v url.Values, e parley.Event) {
		participantParams(v, e.Participant)
		participantDates(v, e.Participant)
	},
	parley.EventParticipantRemoved: func(v url.Values, e parley.Event) {
		participantParams(v, e.Participant)
		participantDates(v, e.Participant)
		v.Set("DateRemoved", formatMillis(e.At))
	},
}

// messageParams are the fields every message event carries. Empty
// optional values are left out (decision 3).
func messageParams(v url.Values, e parley.Event) {
	m := e.Message
	v.Set("ChatServiceSid", m.ServiceSid)
	v.Set("ConversationSid", m.ConversationSid)
	setOpt(v, "Body", m.Body)
	v.Set("Author", m.Author)
	setOpt(v, "ParticipantSid", m.ParticipantSid)
	v.Set("Attributes", m.Attributes)
	if len(m.Media) > 0 {
		v.Set("Media", mediaParam(m.Media))
	}
}

// mediaParam is a message's media as the Media parameter of its events
// (decision 3): a JSON array with Event Streams' keys.
func mediaParam(media []parley.MediaRef) string {
	type item struct {
		Sid         string
		Filename    *string
		ContentType string
		Size        int64
	}
	items := make([]item, len(media))
	for i, m := range media {
		items[i] = item{Sid: m.Sid, Filename: m.Filename, ContentType: m.ContentType, Size: m.Size}
	}
	b, err := json.Marshal(items)
	if err != nil {
		panic("core: marshal media: " + err.Error()) // strings and numbers always marshal
	}
	return string(b)
}

// messageIdentity is what a message event adds once the message exists.
func messageIdentity(v url.Values, m *parley.Message) {
	v.Set("MessageSid", m.Sid)
	v.Set("Index", strconv.FormatInt(m.Index, 10))
	v.Set("DateCreated", formatMillis(m.DateCreated))
}

// messageEdited is what the update and remove events add.
func messageEdited(v url.Values, e parley.Event) {
	messageParams(v, e)
	messageIdentity(v, e.Message)
	v.Set("DateUpdated", formatMillis(e.Message.DateUpdated))
}

// conversationParams are the fields every conversation event carries.
// REST-created conversations have no messaging binding of their own, so
// the MessagingBinding.* parameters, empty, are left out.
func conversationParams(v url.Values, c *parley.Conversation) {
	v.Set("ChatServiceSid", c.ServiceSid)
	setOpt(v, "FriendlyName", c.FriendlyName)
	setOpt(v, "UniqueName", c.UniqueName)
	v.Set("Attributes", c.Attributes)
	setOpt(v, "MessagingServiceSid", c.MessagingServiceSid)
	v.Set("State", string(c.State))
}

// conversationIdentity is what a conversation event adds once the
// conversation exists: its SID and dates.
func conversationIdentity(v url.Values, c *parley.Conversation) {
	v.Set("ConversationSid", c.Sid)
	v.Set("DateCreated", formatMillis(c.DateCreated))
	v.Set("DateUpdated", formatMillis(c.DateUpdated))
}

// participantParams are the fields every participant event carries.
// MessagingBinding.Type is upper case in webhooks (SMS, WHATSAPP, and
// CHAT for chat participants).
func participantParams(v url.Values, p *parley.Participant) {
	v.Set("ChatServiceSid", p.ServiceSid)
	v.Set("ConversationSid", p.ConversationSid)
	setOpt(v, "Identity", p.Identity)
	setOpt(v, "RoleSid", p.RoleSid)
	v.Set("Attributes", p.Attributes)
	setOpt(v, "MessagingBinding.Address", p.Binding.Address)
	setOpt(v, "MessagingBinding.ProxyAddress", p.Binding.ProxyAddress)
	setOpt(v, "MessagingBinding.ProjectedAddress", p.Binding.ProjectedAddress)
	typ := strings.ToUpper(p.Binding.Type)
	if typ == "" {
		typ = "CHAT"
	}
	v.Set("MessagingBinding.Type", typ)
}

func participantDates(v url.Values, p *parley.Participant) {
	v.Set("ParticipantSid", p.Sid)
	v.Set("DateCreated", formatMillis(p.DateCreated))
	v.Set("DateUpdated", formatMillis(p.DateUpdated))
}

// setOpt sets an optional parameter, leaving it out when unset or empty.
func setOpt(v url.Values, key string, p *string) {
	if p != nil && *p != "" {
		v.Set(key, *p)
	}
}

// formatMillis is a date as conversation webhooks carry it: UTC with
// milliseconds (2021-08-10T18:00:58.111Z), where REST bodies show seconds.
func formatMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// userParams are the user fields every user event carries.
func userParams(v url.Values, u *parley.User) {
	v.Set("ChatServiceSid", u.ServiceSid)
	v.Set("UserSid", u.Sid)
	v.Set("Identity", u.Identity)
	v.Set("RoleSid", u.RoleSid)
	v.Set("Attributes", u.Attributes)
	v.Set("FriendlyName", deref(u.FriendlyName))
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func optBool(p *bool) string {
	if p == nil {
		return ""
	}
	return strconv.FormatBool(*p)
}

// ListDeliveries returns one page of the webhook outbox, the deliveries f
// matches: what was sent where, how often, and how it went (a parley
// extension for people testing their webhook handlers).
func (a *App) ListDeliveries(ctx context.Context, f parley.DeliveryFilter, q parley.PageQuery) (parley.Page[parley.Delivery], error) {
	return read(ctx, a, func(tx parley.Tx) (parley.Page[parley.Delivery], error) { return tx.ListDeliveries(ctx, f, q) })
}
