package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// writeJSON writes v as the response body. HTML escaping is off so that
// "<", ">" and "&" in attributes come back as sent, as Twilio returns them.
func writeJSON(w http.ResponseWriter, status int, v any) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	*bp = appendValue((*bp)[:0], v)
	writeRaw(w, status, *bp)
}

// appendValue appends v encoded by encoding/json, without HTML escaping and
// without the encoder's trailing newline.
func appendValue(b []byte, v any) []byte {
	buf := bytes.NewBuffer(b)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only unsupported types fail here: a programming error.
		panic("api: encoding " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// The header values every JSON response carries, allocated once.
var (
	jsonContentType = []string{"application/json"}
)

// writeRaw writes an encoded JSON body with its headers.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
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

// appendUser appends a user's JSON, field for field as the spec shows it.
// Users are the hot path (every fetch, and fifty per page), so this is
// written out by hand rather than through reflection; the scenario tests
// compare its output with the expected bodies exactly.
func (s *Server) appendUser(b []byte, base, prefix string, u parley.User) []byte {
	b = append(b, `{"sid":`...)
	b = appendString(b, u.Sid)
	b = append(b, `,"account_sid":`...)
	b = appendString(b, s.app.AccountSid())
	b = append(b, `,"chat_service_sid":`...)
	b = appendString(b, u.ServiceSid)
	b = append(b, `,"role_sid":`...)
	b = appendString(b, u.RoleSid)
	b = append(b, `,"identity":`...)
	b = appendString(b, u.Identity)
	b = append(b, `,"friendly_name":`...)
	if u.FriendlyName == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *u.FriendlyName)
	}
	b = append(b, `,"attributes":`...)
	b = appendString(b, u.Attributes)
	b = append(b, `,"is_online":`...)
	b = appendBool(b, u.IsOnline)
	b = append(b, `,"is_notifiable":`...)
	b = appendBool(b, u.IsNotifiable)
	b = append(b, `,"date_created":"`...)
	b = u.DateCreated.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","date_updated":"`...)
	b = u.DateUpdated.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","url":`...)
	self := len(b)
	b = appendString(b, base+prefix+"/Users/"+u.Sid)
	selfQuoted := b[self : len(b)-1] // the URL without its closing quote
	b = append(b, `,"links":{"user_conversations":`...)
	b = append(b, selfQuoted...)
	b = append(b, `/Conversations"}}`...)
	return b
}

func appendBool(b []byte, v *bool) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return strconv.AppendBool(b, *v)
}

// appendString appends s as a JSON string the way encoding/json writes it
// with HTML escaping off: quotes, backslashes and control characters
// escaped, U+2028 and U+2029 as \u2028 and \u2029, invalid UTF-8 as
// U+FFFD, everything else as is.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
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
