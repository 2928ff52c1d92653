// Package spec holds Twilio's OpenAPI description of Conversations v1 and
// the tables parley's HTTP layer is driven by, generated from it.
//
// Why tables: parley must answer byte for byte like Twilio, and the SDKs are
// generated from this same spec. Hand-writing 103 operations, 29 response
// shapes and several hundred parameters invites drift (a key out of order, a
// missing enum value, a wrong page-size bound) that no SDK test would catch
// until a user does. Generating them from the spec makes the spec the single
// source of truth, and the tests in this package check the tables against
// the spec's own examples.
//
// The tables are:
//
//   - Schemas: every response (item) schema, its keys in spec order with the
//     kind of each value, so an encoder can emit them in that order.
//   - Operations: every operation (method, path, success status, response
//     schema, list envelope key, parameters with type, enum values, bounds),
//     and the templates of each returned item's "url" and "links".
//   - Meta: the "meta" object of list responses.
//
// A list response is {"<ListKey>": [items…], "meta": {…}}: the item array
// first, then meta, the order of the spec's envelope schema (most of the
// spec's list examples put meta first; the schema wins, as for keys).
//
// Regenerate with `go generate ./internal/spec` after replacing
// twilio_conversations_v1.json; see README.md.
package spec

//go:generate go run ./gen -in twilio_conversations_v1.json -out tables_gen.go

import (
	_ "embed"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/parleyhq/parley/internal/spec/openapi"
)

// OpenAPIJSON is the vendored spec, twilio_conversations_v1.json, byte for
// byte. It is embedded for tests (which replay its examples) and costs the
// server binary nothing unless referenced: the linker drops unreferenced
// embedded data.
//
//go:embed twilio_conversations_v1.json
var OpenAPIJSON string

// OpenAPI returns the vendored spec, parsed. It is parsed once; callers
// share the result and must not modify it. OpenAPIJSON is referenced from
// this function's body only, never from an initializer, so a binary that
// does not call it does not carry the spec.
func OpenAPI() (*openapi.Document, error) {
	parse.once.Do(func() { parse.doc, parse.err = openapi.Parse(strings.NewReader(OpenAPIJSON)) })
	return parse.doc, parse.err
}

var parse struct {
	once sync.Once
	doc  *openapi.Document
	err  error
}

// Kind is the kind of a response property's value: what the encoder must
// write for it.
type Kind uint8

const (
	_ Kind = iota
	// KindString is a plain string ("type": "string", no special format).
	KindString
	// KindDateTime is a string with format date-time; Twilio writes RFC 3339
	// UTC with second precision, "2019-12-16T22:18:37Z".
	KindDateTime
	// KindURI is a string with format uri: the resource's own "url" (built
	// from Operation.URL), and the service webhook configuration's
	// pre_webhook_url and post_webhook_url (the account-level webhook
	// configuration declares the same two as plain strings).
	KindURI
	// KindInteger is a JSON number without fraction.
	KindInteger
	// KindBoolean is true or false.
	KindBoolean
	// KindEnum is a string restricted to Property.Enum.
	KindEnum
	// KindStringArray is an array of strings (permissions, filters,
	// message_types).
	KindStringArray
	// KindURIMap is an object whose values are absolute URLs: "links",
	// built from Operation.Links.
	KindURIMap
	// KindJSON is anything the spec leaves untyped or structured (timers,
	// bindings, delivery, messaging_binding, auto_creation, configuration,
	// new_message, media…). The encoder writes it as raw JSON.
	KindJSON
)

var kindNames = [...]string{"invalid", "string", "date-time", "uri", "integer", "boolean", "enum", "string-array", "uri-map", "json"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Property is one key of a response schema.
type Property struct {
	Key  string // snake_case, as on the wire
	Kind Kind
	Enum []string // the allowed values, in spec order, for KindEnum
	// Nullable is the spec's "nullable". Almost every property is. The
	// integers index and error_code are not. Enums never are, but only
	// because OpenAPI 3.0 ignores everything beside a $ref: the spec's own
	// example of an empty service webhook configuration has "method": null,
	// so an encoder must still be able to write null for an enum.
	Nullable bool
}

// Schema is a response schema: the object an operation returns (or, for a
// list, each item of the list).
type Schema struct {
	Name       string     // the spec's component name, "conversations.v1.user"
	Properties []Property // in spec order, which is the order to encode
}

// Property returns the property with the given key, or nil.
func (s *Schema) Property(key string) *Property {
	for i := range s.Properties {
		if s.Properties[i].Key == key {
			return &s.Properties[i]
		}
	}
	return nil
}

// In is where a request parameter travels.
type In uint8

const (
	_        In = iota
	InPath      // a {Placeholder} of the path
	InQuery     // the URL query (list filters and paging)
	InHeader    // an HTTP header (X-Twilio-Webhook-Enabled)
	InForm      // the application/x-www-form-urlencoded body
)

var inNames = [...]string{"invalid", "path", "query", "header", "form"}

func (i In) String() string {
	if int(i) < len(inNames) {
		return inNames[i]
	}
	return "In(" + strconv.Itoa(int(i)) + ")"
}

// Type is the type of a request parameter: how the decoder must parse and
// validate its text.
type Type uint8

const (
	_               Type = iota
	TypeString           // any string; see Pattern, MinLength, MaxLength
	TypeInteger          // a decimal integer; see Min, Max
	TypeBoolean          // "true" or "false"
	TypeDateTime         // string, format date-time (an ISO 8601 timestamp)
	TypeURI              // string, format uri
	TypeEnum             // one of Enum
	TypeStringArray      // the key repeated, each value any string
	TypeEnumArray        // the key repeated, each value one of Enum
)

var typeNames = [...]string{"invalid", "string", "integer", "boolean", "date-time", "uri", "enum", "string-array", "enum-array"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Param is one request parameter of an operation.
type Param struct {
	// Name is exactly as in the spec and on the wire: "PageSize",
	// "X-Twilio-Webhook-Enabled", and dotted names for nested form fields,
	// "Timers.Inactive", "MessagingBinding.Address".
	Name     string
	In       In
	Type     Type
	Enum     []string // allowed values in spec order, for TypeEnum and TypeEnumArray
	Required bool
	// Nullable is set on the few form fields that can be cleared
	// (LastReadMessageIndex).
	Nullable bool
	// Integer bounds, each valid only when its Has flag is set (a bound of
	// 0 is meaningful: Page has minimum 0).
	HasMin, HasMax bool
	Min, Max       int64
	// String constraints; zero when the spec gives none. SIDs carry all
	// three, e.g. ^RL[0-9a-fA-F]{32}$ with length 34.
	Pattern              string
	MinLength, MaxLength int
}

// Link is one entry of a resource's "links" object.
type Link struct {
	Key string // "user_conversations"
	// Template is the link's path; each {placeholder} names a property of
	// the same schema ("/v1/Users/{sid}/Conversations"). See Expand.
	Template string
}

// Operation is one operation of the spec.
type Operation struct {
	ID       string // operationId, "FetchServiceUser"
	Method   string // GET, POST or DELETE
	Path     string // as in the spec: "/v1/Services/{ChatServiceSid}/Users/{Sid}"
	PathType string // "list" or "instance" (x-twilio.pathType)
	// Status is the success status: 201 for creates, 200 for fetch, update
	// and list, 204 for deletes. When the spec lists several 2xx statuses it
	// is the lowest, and the others are in OtherStatuses (only the two
	// ConversationWithParticipants creates, which list 201 and 202).
	Status        int
	OtherStatuses []int
	// Schema names the response schema (for a list, the item schema); ""
	// when the operation returns no body.
	Schema string
	// ListKey is the envelope key holding the items of a list response
	// ("users"); "" for operations that return a single resource.
	ListKey string
	// URL is the template of each returned item's "url", placeholders naming
	// properties of Schema ("/v1/Services/{chat_service_sid}/Users/{sid}");
	// "" when the schema has no url.
	URL string
	// Links are the templates of each returned item's "links", in the order
	// to encode them; nil when the schema has no links.
	Links []Link
	// Params lists every parameter: path, query and header ones in spec
	// order, then the form fields in spec order.
	Params []Param
}

// Param returns the named parameter, or nil.
func (o *Operation) Param(name string) *Param {
	for i := range o.Params {
		if o.Params[i].Name == name {
			return &o.Params[i]
		}
	}
	return nil
}

// ItemSchema returns the operation's response schema, or nil when it
// returns no body.
func (o *Operation) ItemSchema() *Schema { return SchemaByName(o.Schema) }

// The tables. They are shared, read-only data: never modify them.
var (
	// Schemas holds every response schema an operation returns, sorted by
	// name.
	Schemas = schemas
	// Operations holds every operation of the spec, in document order
	// (paths as they appear in the spec, methods as they appear in a path).
	Operations = operations
	// Meta is the "meta" object of every list response. Its key order is
	// the one 39 of the spec's 42 list examples use: page, page_size,
	// first_page_url, previous_page_url, url, next_page_url, key. The spec's
	// inline schema lists the same keys alphabetically (sorted, unlike
	// every other object in it), so here the examples win.
	Meta = meta
)

var (
	schemaIndex = func() map[string]*Schema {
		m := make(map[string]*Schema, len(schemas))
		for i := range schemas {
			m[schemas[i].Name] = &schemas[i]
		}
		return m
	}()
	opIndex = func() map[string]*Operation {
		m := make(map[string]*Operation, len(operations))
		for i := range operations {
			m[operations[i].ID] = &operations[i]
		}
		return m
	}()
	routeIndex = func() map[string]*Operation {
		m := make(map[string]*Operation, len(operations))
		for i := range operations {
			m[operations[i].Method+" "+operations[i].Path] = &operations[i]
		}
		return m
	}()
)

// SchemaByName returns the schema with the given name, or nil.
func SchemaByName(name string) *Schema { return schemaIndex[name] }

// OperationByID returns the operation with the given operationId, or nil.
func OperationByID(id string) *Operation { return opIndex[id] }

// OperationFor returns the operation for a method and a path in spec form
// ("/v1/Users/{Sid}", not a concrete URL), or nil.
func OperationFor(method, path string) *Operation { return routeIndex[method+" "+path] }

// Expand fills a URL or link template: each {name} is replaced by
// value(name), path-escaped so that a value can never add a path segment.
// The generator guarantees that every placeholder names a property of the
// operation's schema. Text outside braces is copied as is.
func Expand(template string, value func(name string) string) string {
	var b strings.Builder
	b.Grow(len(template) + 64)
	for {
		i := strings.IndexByte(template, '{')
		if i < 0 {
			b.WriteString(template)
			return b.String()
		}
		j := strings.IndexByte(template[i:], '}')
		if j < 0 {
			b.WriteString(template)
			return b.String()
		}
		b.WriteString(template[:i])
		b.WriteString(url.PathEscape(value(template[i+1 : i+j])))
		template = template[i+j+1:]
	}
}
