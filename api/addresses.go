package api

import (
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/spec"
)

// Address configurations, push bindings, a service's notification
// settings, and parley's inbound-message control (decision 14).

var addressConfigFields = fields[parley.AddressConfig]{
	"sid":             str(func(c *parley.AddressConfig) string { return c.Sid }),
	"type":            str(func(c *parley.AddressConfig) string { return c.Type }),
	"address":         str(func(c *parley.AddressConfig) string { return c.Address }),
	"friendly_name":   optStr(func(c *parley.AddressConfig) *string { return c.FriendlyName }),
	"auto_creation":   rawJSON(func(c *parley.AddressConfig) string { return autoCreationJSON(c.AutoCreation) }),
	"date_created":    date(func(c *parley.AddressConfig) time.Time { return c.DateCreated }),
	"date_updated":    date(func(c *parley.AddressConfig) time.Time { return c.DateUpdated }),
	"address_country": optStr(func(c *parley.AddressConfig) *string { return c.AddressCountry }),
}

// autoCreationJSON shows what the configuration's type uses, as Twilio's
// examples do: webhook {enabled, type, conversation_service_sid,
// webhook_url, webhook_method, webhook_filters}; studio {enabled, type,
// conversation_service_sid, studio_flow_sid, studio_retry_count};
// default {enabled, type}.
func autoCreationJSON(ac parley.AutoCreation) string {
	var svc *string
	if ac.ServiceSid != "" {
		svc = &ac.ServiceSid
	}
	var v any
	switch ac.Type {
	case "webhook":
		filters := ac.WebhookFilters
		if filters == nil {
			filters = []string{}
		}
		v = struct {
			Enabled bool     `json:"enabled"`
			Type    string   `json:"type"`
			Service *string  `json:"conversation_service_sid"`
			URL     *string  `json:"webhook_url"`
			Method  string   `json:"webhook_method"`
			Filters []string `json:"webhook_filters"`
		}{ac.Enabled, ac.Type, svc, ac.WebhookURL, ac.WebhookMethod, filters}
	case "studio":
		v = struct {
			Enabled    bool    `json:"enabled"`
			Type       string  `json:"type"`
			Service    *string `json:"conversation_service_sid"`
			FlowSid    *string `json:"studio_flow_sid"`
			RetryCount *int64  `json:"studio_retry_count"`
		}{ac.Enabled, ac.Type, svc, ac.StudioFlowSid, ac.StudioRetryCount}
	default:
		v = struct {
			Enabled bool   `json:"enabled"`
			Type    string `json:"type"`
		}{ac.Enabled, ac.Type}
	}
	return marshal(v)
}

// addressConfigInput reads a configuration's parameters; Type, Address
// and AddressCountry only where the operation has them (create).
func addressConfigInput(q *req, create bool) core.AddressConfigInput {
	in := core.AddressConfigInput{FriendlyName: q.str("FriendlyName"), Enabled: q.boolean("AutoCreation.Enabled"),
		AutoType: q.enum("AutoCreation.Type"), ServiceSid: q.str("AutoCreation.ConversationServiceSid"),
		WebhookURL: q.str("AutoCreation.WebhookUrl"), WebhookMethod: q.enum("AutoCreation.WebhookMethod"),
		WebhookFilters: q.list("AutoCreation.WebhookFilters"), StudioFlowSid: q.str("AutoCreation.StudioFlowSid"),
		StudioRetryCount: q.integer("AutoCreation.StudioRetryCount")}
	if create {
		in.Type, in.Address, in.AddressCountry = q.enum("Type"), q.str("Address"), q.str("AddressCountry")
	}
	return in
}

func (s *Server) createAddressConfig(q *req) call[parley.AddressConfig] {
	in := addressConfigInput(q, true)
	return func() (parley.AddressConfig, error) { return s.app.CreateAddressConfig(q.ctx, in) }
}

func (s *Server) updateAddressConfig(q *req) call[parley.AddressConfig] {
	key, in := q.path("Sid"), addressConfigInput(q, false)
	return func() (parley.AddressConfig, error) { return s.app.UpdateAddressConfig(q.ctx, key, in) }
}

func (s *Server) listAddressConfigs(q *req) lister[parley.AddressConfig] {
	typ := q.str("Type")
	return func(pq parley.PageQuery) (parley.Page[parley.AddressConfig], error) {
		return s.app.ListAddressConfigs(q.ctx, typ, pq)
	}
}

var bindingFields = fields[parley.Binding]{
	"sid":              str(func(b *parley.Binding) string { return b.Sid }),
	"chat_service_sid": str(func(b *parley.Binding) string { return b.ServiceSid }),
	"credential_sid":   optStr(func(b *parley.Binding) *string { return b.CredentialSid }),
	"date_created":     date(func(b *parley.Binding) time.Time { return b.DateCreated }),
	"date_updated":     date(func(b *parley.Binding) time.Time { return b.DateUpdated }),
	"endpoint":         str(func(b *parley.Binding) string { return b.Endpoint }),
	"identity":         str(func(b *parley.Binding) string { return b.Identity }),
	"binding_type":     str(func(b *parley.Binding) string { return b.BindingType }),
	"message_types":    strs(func(b *parley.Binding) []string { return b.MessageTypes }),
}

// bindingRegistration is parley's control that registers a device for
// push, as a client SDK does on Twilio (decision 14).
var bindingRegistration = spec.Operation{
	ID: "CreateServiceBinding", Method: "POST", Path: "/parley/v1/Services/{ChatServiceSid}/Bindings", PathType: "list",
	Status: 201, Schema: "conversations.v1.service.service_binding", URL: "/v1/Services/{chat_service_sid}/Bindings/{sid}",
	Params: []spec.Param{
		{Name: "ChatServiceSid", In: spec.InPath, Type: spec.TypeString, Required: true},
		{Name: "Identity", In: spec.InForm, Type: spec.TypeString, Required: true},
		{Name: "BindingType", In: spec.InForm, Type: spec.TypeString, Required: true},
		{Name: "Address", In: spec.InForm, Type: spec.TypeString, Required: true},
		{Name: "CredentialSid", In: spec.InForm, Type: spec.TypeString},
		{Name: "X-Twilio-Webhook-Enabled", In: spec.InHeader, Type: spec.TypeEnum, Enum: []string{"true", "false"}},
	},
}

func (s *Server) registerBinding(q *req) call[parley.Binding] {
	svc, opts := q.service(), q.webhooks()
	in := core.BindingInput{Identity: q.str("Identity"), BindingType: q.str("BindingType"), Address: q.str("Address"),
		CredentialSid: q.str("CredentialSid")}
	return func() (parley.Binding, error) { return s.app.RegisterBinding(q.ctx, svc, in, opts) }
}

func (s *Server) fetchBinding(q *req) call[parley.Binding] {
	svc, sid := q.service(), q.path("Sid")
	return func() (parley.Binding, error) { return s.app.FetchBinding(q.ctx, svc, sid) }
}

func (s *Server) listBindings(q *req) lister[parley.Binding] {
	svc := q.service()
	f := parley.BindingFilter{BindingTypes: q.list("BindingType"), Identities: q.list("Identity")}
	return func(pq parley.PageQuery) (parley.Page[parley.Binding], error) {
		return s.app.ListBindings(q.ctx, svc, f, pq)
	}
}

// notificationFields show a service's push settings: unset templates and
// sounds are null (Twilio's own defaults apply).
var notificationFields = fields[parley.ServiceConfig]{
	"chat_service_sid": str(func(c *parley.ServiceConfig) string { return c.ServiceSid }),
	"new_message": rawJSON(func(c *parley.ServiceConfig) string {
		n := c.Notifications
		return marshal(struct {
			Enabled   bool    `json:"enabled"`
			Template  *string `json:"template"`
			Sound     *string `json:"sound"`
			Badge     bool    `json:"badge_count_enabled"`
			WithMedia any     `json:"with_media"`
		}{n.NewMessage.Enabled, n.NewMessage.Template, n.NewMessage.Sound, n.NewMessageBadgeCount, struct {
			Enabled  bool    `json:"enabled"`
			Template *string `json:"template"`
		}{n.NewMessageWithMedia.Enabled, n.NewMessageWithMedia.Template}})
	}),
	"added_to_conversation": rawJSON(func(c *parley.ServiceConfig) string {
		return templateJSON(c.Notifications.AddedToConversation)
	}),
	"removed_from_conversation": rawJSON(func(c *parley.ServiceConfig) string {
		return templateJSON(c.Notifications.RemovedFromConversation)
	}),
	"log_enabled": boolean(func(c *parley.ServiceConfig) bool { return c.Notifications.LogEnabled }),
}

func templateJSON(t parley.NotificationTemplate) string {
	return marshal(struct {
		Enabled  bool    `json:"enabled"`
		Template *string `json:"template"`
		Sound    *string `json:"sound"`
	}{t.Enabled, t.Template, t.Sound})
}

func (s *Server) updateNotifications(q *req) call[parley.ServiceConfig] {
	svc := q.service()
	in := core.NotificationInput{LogEnabled: q.boolean("LogEnabled"),
		NewMessageEnabled: q.boolean("NewMessage.Enabled"), NewMessageTemplate: q.str("NewMessage.Template"),
		NewMessageSound: q.str("NewMessage.Sound"), NewMessageBadgeCountEnabled: q.boolean("NewMessage.BadgeCountEnabled"),
		WithMediaEnabled: q.boolean("NewMessage.WithMedia.Enabled"), WithMediaTemplate: q.str("NewMessage.WithMedia.Template"),
		AddedEnabled: q.boolean("AddedToConversation.Enabled"), AddedTemplate: q.str("AddedToConversation.Template"),
		AddedSound: q.str("AddedToConversation.Sound"), RemovedEnabled: q.boolean("RemovedFromConversation.Enabled"),
		RemovedTemplate: q.str("RemovedFromConversation.Template"), RemovedSound: q.str("RemovedFromConversation.Sound")}
	return func() (parley.ServiceConfig, error) { return s.app.UpdateNotifications(q.ctx, svc, in) }
}

// inboundSchema is the answer of the inbound control: where the message
// went.
var inboundSchema = spec.Schema{Name: "parley.v1.inbound", Properties: []spec.Property{
	{Key: "account_sid", Kind: spec.KindString},
	{Key: "chat_service_sid", Kind: spec.KindString},
	{Key: "conversation_sid", Kind: spec.KindString},
	{Key: "participant_sid", Kind: spec.KindString},
	{Key: "message_sid", Kind: spec.KindString},
	{Key: "address_configuration_sid", Kind: spec.KindString, Nullable: true},
	{Key: "conversation_created", Kind: spec.KindBoolean},
	{Key: "url", Kind: spec.KindURI},
}}

var inboundFields = fields[core.Inbound]{
	"chat_service_sid": str(func(in *core.Inbound) string { return in.ServiceSid }),
	"conversation_sid": str(func(in *core.Inbound) string { return in.ConversationSid }),
	"participant_sid":  str(func(in *core.Inbound) string { return in.ParticipantSid }),
	"message_sid":      str(func(in *core.Inbound) string { return in.MessageSid }),
	"address_configuration_sid": optStr(func(in *core.Inbound) *string {
		if in.AddressConfigSid == "" {
			return nil
		}
		return &in.AddressConfigSid
	}),
	"conversation_created": boolean(func(in *core.Inbound) bool { return in.Created }),
}

// inboundOp is the control itself: POST /parley/v1/Inbound. Its url is
// the message's.
var inboundOp = spec.Operation{
	ID: "CreateInbound", Method: "POST", Path: "/parley/v1/Inbound", PathType: "list", Status: 201,
	Schema: inboundSchema.Name, URL: "/v1/Services/{chat_service_sid}/Conversations/{conversation_sid}/Messages/{message_sid}",
	Params: []spec.Param{
		{Name: "From", In: spec.InForm, Type: spec.TypeString, Required: true},
		{Name: "To", In: spec.InForm, Type: spec.TypeString, Required: true},
		{Name: "Body", In: spec.InForm, Type: spec.TypeString},
		{Name: "MediaSid", In: spec.InForm, Type: spec.TypeString},
		{Name: "MediaUrl", In: spec.InForm, Type: spec.TypeString},
	},
}

func (s *Server) receiveInbound(q *req) call[core.Inbound] {
	in := core.InboundInput{From: q.str("From"), To: q.str("To"), Body: q.str("Body"), MediaSid: q.str("MediaSid"),
		MediaURL: q.str("MediaUrl")}
	return func() (core.Inbound, error) { return s.app.ReceiveInbound(q.ctx, in) }
}
