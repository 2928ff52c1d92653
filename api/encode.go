package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeJSON writes v as the response body. HTML escaping is off so that
// "<", ">" and "&" in attributes come back as sent, as Twilio returns them.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only unsupported types fail here: a programming error.
		http.Error(w, `{"code":20500,"message":"Internal server error","more_info":"https://www.twilio.com/docs/errors/20500","status":500}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// noContent answers a delete: 204 with an empty body, the only status
// twilio-cli counts as success.
func noContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}

// date renders Twilio's RFC 3339, second precision, UTC.
func date(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ---- Wire shapes: one constructor per resource, the only place that knows
// Twilio's JSON field names and null rules.

type userJSON struct {
	Sid            string    `json:"sid"`
	AccountSid     string    `json:"account_sid"`
	ChatServiceSid string    `json:"chat_service_sid"`
	RoleSid        string    `json:"role_sid"`
	Identity       string    `json:"identity"`
	FriendlyName   *string   `json:"friendly_name"`
	Attributes     string    `json:"attributes"`
	IsOnline       *bool     `json:"is_online"`
	IsNotifiable   *bool     `json:"is_notifiable"`
	DateCreated    string    `json:"date_created"`
	DateUpdated    string    `json:"date_updated"`
	URL            string    `json:"url"`
	Links          userLinks `json:"links"`
}

type userLinks struct {
	UserConversations string `json:"user_conversations"`
}

// prefix is "/v1" for shortened URLs or "/v1/Services/IS…" for
// service-scoped ones: resources link back the way they were addressed.
func (s *Server) user(base, prefix string, u parley.User) userJSON {
	self := base + prefix + "/Users/" + u.Sid
	return userJSON{
		Sid:            u.Sid,
		AccountSid:     s.app.AccountSid(),
		ChatServiceSid: u.ServiceSid,
		RoleSid:        u.RoleSid,
		Identity:       u.Identity,
		FriendlyName:   u.FriendlyName,
		Attributes:     u.Attributes,
		IsOnline:       u.IsOnline,
		IsNotifiable:   u.IsNotifiable,
		DateCreated:    date(u.DateCreated),
		DateUpdated:    date(u.DateUpdated),
		URL:            self,
		Links:          userLinks{UserConversations: self + "/Conversations"},
	}
}

type serviceJSON struct {
	AccountSid   string       `json:"account_sid"`
	Sid          string       `json:"sid"`
	FriendlyName string       `json:"friendly_name"`
	DateCreated  string       `json:"date_created"`
	DateUpdated  string       `json:"date_updated"`
	URL          string       `json:"url"`
	Links        serviceLinks `json:"links"`
}

type serviceLinks struct {
	Conversations                string `json:"conversations"`
	Users                        string `json:"users"`
	Roles                        string `json:"roles"`
	Bindings                     string `json:"bindings"`
	Configuration                string `json:"configuration"`
	ParticipantConversations     string `json:"participant_conversations"`
	ConversationWithParticipants string `json:"conversation_with_participants"`
}

func (s *Server) service(base string, v parley.Service) serviceJSON {
	self := base + "/v1/Services/" + v.Sid
	return serviceJSON{
		AccountSid:   s.app.AccountSid(),
		Sid:          v.Sid,
		FriendlyName: v.FriendlyName,
		DateCreated:  date(v.DateCreated),
		DateUpdated:  date(v.DateUpdated),
		URL:          self,
		Links: serviceLinks{
			Conversations:                self + "/Conversations",
			Users:                        self + "/Users",
			Roles:                        self + "/Roles",
			Bindings:                     self + "/Bindings",
			Configuration:                self + "/Configuration",
			ParticipantConversations:     self + "/ParticipantConversations",
			ConversationWithParticipants: self + "/ConversationWithParticipants",
		},
	}
}

type roleJSON struct {
	Sid            string   `json:"sid"`
	AccountSid     string   `json:"account_sid"`
	ChatServiceSid string   `json:"chat_service_sid"`
	FriendlyName   string   `json:"friendly_name"`
	Type           string   `json:"type"`
	Permissions    []string `json:"permissions"`
	DateCreated    string   `json:"date_created"`
	DateUpdated    string   `json:"date_updated"`
	URL            string   `json:"url"`
}

func (s *Server) role(base, prefix string, r parley.Role) roleJSON {
	return roleJSON{
		Sid:            r.Sid,
		AccountSid:     s.app.AccountSid(),
		ChatServiceSid: r.ServiceSid,
		FriendlyName:   r.FriendlyName,
		Type:           string(r.Type),
		Permissions:    r.Permissions,
		DateCreated:    date(r.DateCreated),
		DateUpdated:    date(r.DateUpdated),
		URL:            base + prefix + "/Roles/" + r.Sid,
	}
}

type serviceConfigJSON struct {
	ChatServiceSid                    string             `json:"chat_service_sid"`
	DefaultConversationCreatorRoleSid string             `json:"default_conversation_creator_role_sid"`
	DefaultConversationRoleSid        string             `json:"default_conversation_role_sid"`
	DefaultChatServiceRoleSid         string             `json:"default_chat_service_role_sid"`
	URL                               string             `json:"url"`
	Links                             serviceConfigLinks `json:"links"`
	ReachabilityEnabled               bool               `json:"reachability_enabled"`
}

type serviceConfigLinks struct {
	Notifications string `json:"notifications"`
	Webhooks      string `json:"webhooks"`
}

func serviceConfig(base string, c parley.ServiceConfig) serviceConfigJSON {
	self := base + "/v1/Services/" + c.ServiceSid + "/Configuration"
	return serviceConfigJSON{
		ChatServiceSid:                    c.ServiceSid,
		DefaultConversationCreatorRoleSid: c.DefaultConversationCreatorRoleSid,
		DefaultConversationRoleSid:        c.DefaultConversationRoleSid,
		DefaultChatServiceRoleSid:         c.DefaultChatServiceRoleSid,
		URL:                               self,
		Links:                             serviceConfigLinks{Notifications: self + "/Notifications", Webhooks: self + "/Webhooks"},
		ReachabilityEnabled:               c.ReachabilityEnabled,
	}
}

type accountConfigJSON struct {
	AccountSid                 string             `json:"account_sid"`
	DefaultChatServiceSid      string             `json:"default_chat_service_sid"`
	DefaultMessagingServiceSid *string            `json:"default_messaging_service_sid"`
	DefaultInactiveTimer       *string            `json:"default_inactive_timer"`
	DefaultClosedTimer         *string            `json:"default_closed_timer"`
	URL                        string             `json:"url"`
	Links                      accountConfigLinks `json:"links"`
}

type accountConfigLinks struct {
	Service  string `json:"service"`
	Webhooks string `json:"webhooks"`
}

func (s *Server) accountConfig(base string, c parley.AccountConfig) accountConfigJSON {
	return accountConfigJSON{
		AccountSid:                 s.app.AccountSid(),
		DefaultChatServiceSid:      c.DefaultChatServiceSid,
		DefaultMessagingServiceSid: c.DefaultMessagingServiceSid,
		DefaultInactiveTimer:       c.DefaultInactiveTimer,
		DefaultClosedTimer:         c.DefaultClosedTimer,
		URL:                        base + "/v1/Configuration",
		Links: accountConfigLinks{
			Service:  base + "/v1/Services/" + c.DefaultChatServiceSid + "/Configuration",
			Webhooks: base + "/v1/Configuration/Webhooks",
		},
	}
}

// accountWebhooksJSON is /v1/Configuration/Webhooks.
type accountWebhooksJSON struct {
	AccountSid     string   `json:"account_sid"`
	Method         *string  `json:"method"`
	Filters        []string `json:"filters"`
	PreWebhookURL  *string  `json:"pre_webhook_url"`
	PostWebhookURL *string  `json:"post_webhook_url"`
	Target         *string  `json:"target"`
	URL            string   `json:"url"`
}

func (s *Server) accountWebhooks(base string, c parley.WebhookConfig) accountWebhooksJSON {
	return accountWebhooksJSON{
		AccountSid:     s.app.AccountSid(),
		Method:         c.Method,
		Filters:        c.Filters,
		PreWebhookURL:  c.PreWebhookURL,
		PostWebhookURL: c.PostWebhookURL,
		Target:         c.Target,
		URL:            base + "/v1/Configuration/Webhooks",
	}
}

// serviceWebhooksJSON is /v1/Services/IS…/Configuration/Webhooks.
type serviceWebhooksJSON struct {
	AccountSid     string   `json:"account_sid"`
	ChatServiceSid string   `json:"chat_service_sid"`
	PreWebhookURL  *string  `json:"pre_webhook_url"`
	PostWebhookURL *string  `json:"post_webhook_url"`
	Filters        []string `json:"filters"`
	Method         *string  `json:"method"`
	URL            string   `json:"url"`
}

func (s *Server) serviceWebhooks(base, svc string, c parley.WebhookConfig) serviceWebhooksJSON {
	return serviceWebhooksJSON{
		AccountSid:     s.app.AccountSid(),
		ChatServiceSid: svc,
		PreWebhookURL:  c.PreWebhookURL,
		PostWebhookURL: c.PostWebhookURL,
		Filters:        c.Filters,
		Method:         c.Method,
		URL:            base + "/v1/Services/" + svc + "/Configuration/Webhooks",
	}
}
