// Package openapi reads the part of an OpenAPI 3.0 document that Twilio's
// published specs use (twilio/twilio-oai) into Go structs.
//
// It exists because parley's wire tables are generated from Twilio's spec
// (see package spec), and because tests elsewhere replay the spec's own
// response examples through parley's encoder. Both need two things the
// standard library's map-based JSON decoding cannot give: the order of
// object members (a schema's properties are listed in the order Twilio
// serialises them) and the examples as raw JSON, byte for byte as the spec
// wrote them. So Parse walks the document token by token, keeps every
// object ordered, and hands examples out as json.RawMessage.
//
// The parser is deliberately narrow: it reads paths, operations,
// parameters, form request bodies, responses, components.schemas, local
// $refs and Twilio's x-twilio extension, and ignores everything else
// (descriptions of headers, security, tags). Schema composition (allOf,
// oneOf, anyOf, not) is refused rather than ignored, because ignoring it
// would silently produce wrong tables.
package openapi

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Document is a parsed OpenAPI document.
type Document struct {
	OpenAPI string      // the "openapi" version string, e.g. "3.0.1"
	Servers []string    // top-level server URLs
	Paths   []*PathItem // in document order
	Schemas []*Schema   // components.schemas, in document order

	schemaByName map[string]*Schema
	pathByName   map[string]*PathItem
	opByID       map[string]*Operation
	operations   []*Operation
}

// Schema returns the component schema with the given name
// ("conversations.v1.user"), or nil.
func (d *Document) Schema(name string) *Schema { return d.schemaByName[name] }

// Path returns the path item for a path exactly as the document spells it
// ("/v1/Users/{Sid}"), or nil.
func (d *Document) Path(path string) *PathItem { return d.pathByName[path] }

// Operation returns the operation with the given operationId, or nil.
func (d *Document) Operation(id string) *Operation { return d.opByID[id] }

// Operations returns every operation in document order: paths in the order
// they appear, and within a path its methods in the order they appear.
func (d *Document) Operations() []*Operation { return d.operations }

// PathItem is one entry of "paths".
type PathItem struct {
	Path        string // "/v1/Services/{ChatServiceSid}/Users/{Sid}"
	Description string
	Servers     []string
	XTwilio     XTwilio
	Operations  []*Operation // in document order
}

// XTwilio is Twilio's x-twilio extension on a path item. It carries what
// the spec has no standard place for: whether the path addresses a list or
// one instance, the parent resource, and the "links" a resource exposes.
type XTwilio struct {
	PathType                string // "list" or "instance"
	Parent                  string // parent path without the version, "/Services/{Sid}"
	MountName               string
	ClassName               string
	DefaultOutputProperties []string
	DependentProperties     []DependentProperty // in document order
}

// DependentProperty is one entry of x-twilio.dependentProperties: a link
// named Name whose URL is ResourceURL with each {placeholder} replaced by
// the value of the property Mapping names.
type DependentProperty struct {
	Name        string // the key in the resource's "links", e.g. "user_conversations"
	ResourceURL string // "/v1/Services/{chat_service_sid}/Users/{user_sid}/Conversations"
	Mapping     []Mapping
}

// Mapping maps a placeholder of a DependentProperty's ResourceURL to the
// property of the resource that fills it ({"user_sid": "sid"}).
type Mapping struct {
	Placeholder string
	Property    string
}

// Operation is one method of a path item.
type Operation struct {
	PathItem    *PathItem
	Path        string // same as PathItem.Path
	Method      string // upper case: GET, POST, DELETE…
	OperationID string
	Summary     string
	Description string
	Parameters  []*Parameter // path, query and header parameters, in document order
	RequestBody *RequestBody // nil when the operation takes no body
	Responses   []*Response  // in document order
}

// Response returns the response for a status code, or nil.
func (o *Operation) Response(code int) *Response {
	for _, r := range o.Responses {
		if r.Code == code {
			return r
		}
	}
	return nil
}

// ResponseExample is one named example of an operation's response body.
type ResponseExample struct {
	Code      int    // the response's status code
	MediaType string // "application/json"
	Name      string // the example's key, e.g. "readFull"
	Value     json.RawMessage
}

// ResponseExamples returns every response example of the operation, in
// document order (responses in order, then each response's media types,
// then their examples). Value is the example's compact JSON with the
// spec's own key order.
func (o *Operation) ResponseExamples() []ResponseExample {
	var out []ResponseExample
	for _, r := range o.Responses {
		for _, mt := range r.Content {
			for _, ex := range mt.Examples {
				out = append(out, ResponseExample{Code: r.Code, MediaType: mt.Type, Name: ex.Name, Value: ex.Value})
			}
		}
	}
	return out
}

// Parameter is a path, query, header or cookie parameter.
type Parameter struct {
	Name        string // exactly as in the spec: "PageSize", "X-Twilio-Webhook-Enabled"
	In          string // "path", "query", "header" or "cookie"
	Description string
	Required    bool
	Schema      *Schema
	Examples    []Example
}

// RequestBody is an operation's request body.
type RequestBody struct {
	Required bool
	Content  []*MediaType
}

// Media returns the body's content for a media type, or nil.
func (b *RequestBody) Media(typ string) *MediaType { return media(b.Content, typ) }

// Form returns the application/x-www-form-urlencoded content, the only kind
// Twilio's v1 APIs accept, or nil.
func (b *RequestBody) Form() *MediaType { return b.Media("application/x-www-form-urlencoded") }

// Response is one entry of an operation's responses.
type Response struct {
	Status      string // the key as written: "200", "default"
	Code        int    // Status as a number; 0 for "default" and ranges
	Description string
	Content     []*MediaType // empty for bodiless responses (204)
}

// Media returns the response's content for a media type, or nil.
func (r *Response) Media(typ string) *MediaType { return media(r.Content, typ) }

// JSON returns the application/json content, or nil.
func (r *Response) JSON() *MediaType { return r.Media("application/json") }

func media(ms []*MediaType, typ string) *MediaType {
	for _, m := range ms {
		if m.Type == typ {
			return m
		}
	}
	return nil
}

// MediaType is one entry of a "content" object.
type MediaType struct {
	Type     string // "application/json"
	Schema   *Schema
	Examples []Example // in document order
}

// Example is a named example. Value is compact JSON with the spec's own key
// order and number spelling.
type Example struct {
	Name    string
	Summary string
	Value   json.RawMessage
}

// Schema is a JSON schema, either a component (Name set), an inline one, or
// a reference (Ref set, resolved to Target by Parse).
type Schema struct {
	Name        string // the components.schemas key, "" for inline schemas
	Ref         string // "#/components/schemas/…" when the schema is a reference
	Target      *Schema
	Type        string // "string", "integer", "boolean", "array", "object", "number" or ""
	Format      string // "date-time", "uri", "uri-map", "int64"…
	Title       string
	Description string
	Enum        []string
	Nullable    bool
	Pattern     string
	MinLength   *int64
	MaxLength   *int64
	Minimum     *int64
	Maximum     *int64
	Default     json.RawMessage
	Items       *Schema
	Properties  []*Property // in document order
	Required    []string
}

// Property is a named member of an object schema.
type Property struct {
	Name   string
	Schema *Schema
}

// Resolve follows references and returns the schema that carries the
// content. It returns s itself when s is not a reference.
func (s *Schema) Resolve() *Schema {
	for s != nil && s.Ref != "" {
		s = s.Target
	}
	return s
}

// Property returns the schema of the named property, or nil.
func (s *Schema) Property(name string) *Schema {
	for _, p := range s.Properties {
		if p.Name == name {
			return p.Schema
		}
	}
	return nil
}

// IsRequired reports whether an object schema lists name as required.
func (s *Schema) IsRequired(name string) bool {
	for _, r := range s.Required {
		if r == name {
			return true
		}
	}
	return false
}

// Parse reads an OpenAPI document. It resolves every local $ref and fails
// on references it cannot resolve, on duplicate operationIds and on schema
// constructs the tables could not represent.
func Parse(r io.Reader) (*Document, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("openapi: reading: %w", err)
	}
	root, err := parseTree(data)
	if err != nil {
		return nil, err
	}
	p := &parser{}
	doc, err := p.document(root)
	if err != nil {
		return nil, err
	}
	for _, s := range p.refs {
		const prefix = "#/components/schemas/"
		name, ok := strings.CutPrefix(s.Ref, prefix)
		if !ok {
			return nil, fmt.Errorf("openapi: unsupported $ref %q (only %s… is)", s.Ref, prefix)
		}
		if s.Target = doc.schemaByName[name]; s.Target == nil {
			return nil, fmt.Errorf("openapi: unresolved $ref %q", s.Ref)
		}
	}
	return doc, nil
}

// parser builds the typed document from the tree. It collects every
// reference so they can be resolved once all components are known.
type parser struct {
	refs []*Schema
}

// errAt reports a problem at a location given as a readable path into the
// document, e.g. `paths["/v1/Users"].post.parameters[0]`.
func errAt(loc, format string, args ...any) error {
	return fmt.Errorf("openapi: %s: %s", loc, fmt.Sprintf(format, args...))
}

func expect(n *node, k nodeKind, loc string) error {
	if n.kind != k {
		return errAt(loc, "want %v, got %v", k, n.kind)
	}
	return nil
}

func (p *parser) str(n *node, loc string) (string, error) {
	if n == nil {
		return "", nil
	}
	if err := expect(n, kindString, loc); err != nil {
		return "", err
	}
	return n.str, nil
}

func (p *parser) boolean(n *node, loc string) (bool, error) {
	if n == nil {
		return false, nil
	}
	if err := expect(n, kindBool, loc); err != nil {
		return false, err
	}
	return n.b, nil
}

func (p *parser) stringList(n *node, loc string) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	if err := expect(n, kindArray, loc); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(n.elems))
	for i, e := range n.elems {
		s, err := p.str(e, fmt.Sprintf("%s[%d]", loc, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (p *parser) integer(n *node, loc string) (*int64, error) {
	if n == nil {
		return nil, nil
	}
	if err := expect(n, kindNumber, loc); err != nil {
		return nil, err
	}
	v, err := strconv.ParseInt(n.str, 10, 64)
	if err != nil {
		return nil, errAt(loc, "want an integer, got %s", n.str)
	}
	return &v, nil
}

func (p *parser) servers(n *node, loc string) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	if err := expect(n, kindArray, loc); err != nil {
		return nil, err
	}
	var out []string
	for i, e := range n.elems {
		l := fmt.Sprintf("%s[%d]", loc, i)
		if err := expect(e, kindObject, l); err != nil {
			return nil, err
		}
		u, err := p.str(e.get("url"), l+".url")
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

func (p *parser) document(root *node) (*Document, error) {
	if err := expect(root, kindObject, "document"); err != nil {
		return nil, err
	}
	d := &Document{
		schemaByName: map[string]*Schema{},
		pathByName:   map[string]*PathItem{},
		opByID:       map[string]*Operation{},
	}
	var err error
	if d.OpenAPI, err = p.str(root.get("openapi"), "openapi"); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(d.OpenAPI, "3.") {
		return nil, errAt("openapi", "unsupported version %q (want 3.x)", d.OpenAPI)
	}
	if d.Servers, err = p.servers(root.get("servers"), "servers"); err != nil {
		return nil, err
	}

	// Components first, so that operations can be checked against them.
	if comps := root.get("components"); comps != nil {
		if err := expect(comps, kindObject, "components"); err != nil {
			return nil, err
		}
		if schemas := comps.get("schemas"); schemas != nil {
			if err := expect(schemas, kindObject, "components.schemas"); err != nil {
				return nil, err
			}
			for i, name := range schemas.keys {
				s, err := p.schema(schemas.vals[i], fmt.Sprintf("components.schemas[%q]", name))
				if err != nil {
					return nil, err
				}
				s.Name = name
				d.Schemas = append(d.Schemas, s)
				d.schemaByName[name] = s
			}
		}
	}

	paths := root.get("paths")
	if paths == nil {
		return nil, errAt("document", "no paths")
	}
	if err := expect(paths, kindObject, "paths"); err != nil {
		return nil, err
	}
	for i, path := range paths.keys {
		pi, err := p.pathItem(path, paths.vals[i])
		if err != nil {
			return nil, err
		}
		d.Paths = append(d.Paths, pi)
		d.pathByName[path] = pi
		for _, op := range pi.Operations {
			if op.OperationID != "" {
				if prev := d.opByID[op.OperationID]; prev != nil {
					return nil, errAt(fmt.Sprintf("paths[%q].%s", path, strings.ToLower(op.Method)),
						"operationId %q already used by %s %s", op.OperationID, prev.Method, prev.Path)
				}
				d.opByID[op.OperationID] = op
			}
			d.operations = append(d.operations, op)
		}
	}
	return d, nil
}

// httpMethods are the operation keys of a path item, per OpenAPI 3.0.
var httpMethods = map[string]bool{
	"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true,
}

func (p *parser) pathItem(path string, n *node) (*PathItem, error) {
	loc := fmt.Sprintf("paths[%q]", path)
	if err := expect(n, kindObject, loc); err != nil {
		return nil, err
	}
	if n.get("parameters") != nil {
		// Twilio puts parameters on operations; path-level ones would have
		// to be merged into each operation, which nothing needs yet.
		return nil, errAt(loc, "path-level parameters are not supported")
	}
	if n.get("$ref") != nil {
		return nil, errAt(loc, "path item $ref is not supported")
	}
	pi := &PathItem{Path: path}
	var err error
	if pi.Description, err = p.str(n.get("description"), loc+".description"); err != nil {
		return nil, err
	}
	if pi.Servers, err = p.servers(n.get("servers"), loc+".servers"); err != nil {
		return nil, err
	}
	if x := n.get("x-twilio"); x != nil {
		if pi.XTwilio, err = p.xTwilio(x, loc+".x-twilio"); err != nil {
			return nil, err
		}
	}
	for i, key := range n.keys {
		if !httpMethods[key] {
			continue
		}
		op, err := p.operation(pi, key, n.vals[i], loc+"."+key)
		if err != nil {
			return nil, err
		}
		pi.Operations = append(pi.Operations, op)
	}
	return pi, nil
}

func (p *parser) xTwilio(n *node, loc string) (XTwilio, error) {
	var x XTwilio
	if err := expect(n, kindObject, loc); err != nil {
		return x, err
	}
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"pathType", &x.PathType},
		{"parent", &x.Parent},
		{"mountName", &x.MountName},
		{"className", &x.ClassName},
	} {
		if *f.dst, err = p.str(n.get(f.key), loc+"."+f.key); err != nil {
			return x, err
		}
	}
	if x.DefaultOutputProperties, err = p.stringList(n.get("defaultOutputProperties"), loc+".defaultOutputProperties"); err != nil {
		return x, err
	}
	if dp := n.get("dependentProperties"); dp != nil {
		l := loc + ".dependentProperties"
		if err := expect(dp, kindObject, l); err != nil {
			return x, err
		}
		for i, name := range dp.keys {
			li := fmt.Sprintf("%s[%q]", l, name)
			v := dp.vals[i]
			if err := expect(v, kindObject, li); err != nil {
				return x, err
			}
			prop := DependentProperty{Name: name}
			if prop.ResourceURL, err = p.str(v.get("resource_url"), li+".resource_url"); err != nil {
				return x, err
			}
			if m := v.get("mapping"); m != nil {
				if err := expect(m, kindObject, li+".mapping"); err != nil {
					return x, err
				}
				for j, ph := range m.keys {
					prop2, err := p.str(m.vals[j], fmt.Sprintf("%s.mapping[%q]", li, ph))
					if err != nil {
						return x, err
					}
					prop.Mapping = append(prop.Mapping, Mapping{Placeholder: ph, Property: prop2})
				}
			}
			x.DependentProperties = append(x.DependentProperties, prop)
		}
	}
	return x, nil
}

func (p *parser) operation(pi *PathItem, method string, n *node, loc string) (*Operation, error) {
	if err := expect(n, kindObject, loc); err != nil {
		return nil, err
	}
	op := &Operation{PathItem: pi, Path: pi.Path, Method: strings.ToUpper(method)}
	var err error
	if op.OperationID, err = p.str(n.get("operationId"), loc+".operationId"); err != nil {
		return nil, err
	}
	if op.Summary, err = p.str(n.get("summary"), loc+".summary"); err != nil {
		return nil, err
	}
	if op.Description, err = p.str(n.get("description"), loc+".description"); err != nil {
		return nil, err
	}
	if params := n.get("parameters"); params != nil {
		if err := expect(params, kindArray, loc+".parameters"); err != nil {
			return nil, err
		}
		for i, e := range params.elems {
			prm, err := p.parameter(e, fmt.Sprintf("%s.parameters[%d]", loc, i))
			if err != nil {
				return nil, err
			}
			op.Parameters = append(op.Parameters, prm)
		}
	}
	if rb := n.get("requestBody"); rb != nil {
		l := loc + ".requestBody"
		if err := expect(rb, kindObject, l); err != nil {
			return nil, err
		}
		if rb.get("$ref") != nil {
			return nil, errAt(l, "requestBody $ref is not supported")
		}
		op.RequestBody = &RequestBody{}
		if op.RequestBody.Required, err = p.boolean(rb.get("required"), l+".required"); err != nil {
			return nil, err
		}
		if op.RequestBody.Content, err = p.content(rb.get("content"), l+".content"); err != nil {
			return nil, err
		}
	}
	resps := n.get("responses")
	if resps == nil {
		return nil, errAt(loc, "no responses")
	}
	if err := expect(resps, kindObject, loc+".responses"); err != nil {
		return nil, err
	}
	for i, status := range resps.keys {
		l := fmt.Sprintf("%s.responses[%q]", loc, status)
		v := resps.vals[i]
		if err := expect(v, kindObject, l); err != nil {
			return nil, err
		}
		if v.get("$ref") != nil {
			return nil, errAt(l, "response $ref is not supported")
		}
		r := &Response{Status: status}
		if c, err := strconv.Atoi(status); err == nil {
			r.Code = c
		}
		if r.Description, err = p.str(v.get("description"), l+".description"); err != nil {
			return nil, err
		}
		if r.Content, err = p.content(v.get("content"), l+".content"); err != nil {
			return nil, err
		}
		op.Responses = append(op.Responses, r)
	}
	return op, nil
}

func (p *parser) parameter(n *node, loc string) (*Parameter, error) {
	if err := expect(n, kindObject, loc); err != nil {
		return nil, err
	}
	if n.get("$ref") != nil {
		return nil, errAt(loc, "parameter $ref is not supported")
	}
	prm := &Parameter{}
	var err error
	if prm.Name, err = p.str(n.get("name"), loc+".name"); err != nil {
		return nil, err
	}
	if prm.In, err = p.str(n.get("in"), loc+".in"); err != nil {
		return nil, err
	}
	switch prm.In {
	case "path", "query", "header", "cookie":
	default:
		return nil, errAt(loc, "parameter %q: unknown location %q", prm.Name, prm.In)
	}
	if prm.Description, err = p.str(n.get("description"), loc+".description"); err != nil {
		return nil, err
	}
	if prm.Required, err = p.boolean(n.get("required"), loc+".required"); err != nil {
		return nil, err
	}
	s := n.get("schema")
	if s == nil {
		return nil, errAt(loc, "parameter %q has no schema", prm.Name)
	}
	if prm.Schema, err = p.schema(s, loc+".schema"); err != nil {
		return nil, err
	}
	if prm.Examples, err = p.examples(n.get("examples"), loc+".examples"); err != nil {
		return nil, err
	}
	return prm, nil
}

func (p *parser) content(n *node, loc string) ([]*MediaType, error) {
	if n == nil {
		return nil, nil
	}
	if err := expect(n, kindObject, loc); err != nil {
		return nil, err
	}
	var out []*MediaType
	for i, typ := range n.keys {
		l := fmt.Sprintf("%s[%q]", loc, typ)
		v := n.vals[i]
		if err := expect(v, kindObject, l); err != nil {
			return nil, err
		}
		mt := &MediaType{Type: typ}
		if s := v.get("schema"); s != nil {
			var err error
			if mt.Schema, err = p.schema(s, l+".schema"); err != nil {
				return nil, err
			}
		}
		var err error
		if mt.Examples, err = p.examples(v.get("examples"), l+".examples"); err != nil {
			return nil, err
		}
		out = append(out, mt)
	}
	return out, nil
}

func (p *parser) examples(n *node, loc string) ([]Example, error) {
	if n == nil {
		return nil, nil
	}
	if err := expect(n, kindObject, loc); err != nil {
		return nil, err
	}
	var out []Example
	for i, name := range n.keys {
		l := fmt.Sprintf("%s[%q]", loc, name)
		v := n.vals[i]
		if err := expect(v, kindObject, l); err != nil {
			return nil, err
		}
		if v.get("$ref") != nil || v.get("externalValue") != nil {
			return nil, errAt(l, "only inline example values are supported")
		}
		ex := Example{Name: name}
		var err error
		if ex.Summary, err = p.str(v.get("summary"), l+".summary"); err != nil {
			return nil, err
		}
		val := v.get("value")
		if val == nil {
			return nil, errAt(l, "example has no value")
		}
		if ex.Value, err = val.rawJSON(); err != nil {
			return nil, errAt(l, "%v", err)
		}
		out = append(out, ex)
	}
	return out, nil
}

// unsupportedSchemaKeys are keywords whose meaning the tables cannot carry;
// a schema using one is refused rather than misread.
var unsupportedSchemaKeys = []string{"allOf", "oneOf", "anyOf", "not", "additionalProperties", "discriminator"}

func (p *parser) schema(n *node, loc string) (*Schema, error) {
	if err := expect(n, kindObject, loc); err != nil {
		return nil, err
	}
	for _, k := range unsupportedSchemaKeys {
		if n.get(k) != nil {
			return nil, errAt(loc, "schema keyword %q is not supported", k)
		}
	}
	s := &Schema{}
	var err error
	if ref := n.get("$ref"); ref != nil {
		if s.Ref, err = p.str(ref, loc+".$ref"); err != nil {
			return nil, err
		}
		p.refs = append(p.refs, s)
		return s, nil // siblings of $ref are ignored, per OpenAPI 3.0
	}
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"type", &s.Type},
		{"format", &s.Format},
		{"title", &s.Title},
		{"description", &s.Description},
		{"pattern", &s.Pattern},
	} {
		if *f.dst, err = p.str(n.get(f.key), loc+"."+f.key); err != nil {
			return nil, err
		}
	}
	if s.Nullable, err = p.boolean(n.get("nullable"), loc+".nullable"); err != nil {
		return nil, err
	}
	if s.Enum, err = p.stringList(n.get("enum"), loc+".enum"); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		key string
		dst **int64
	}{
		{"minLength", &s.MinLength},
		{"maxLength", &s.MaxLength},
		{"minimum", &s.Minimum},
		{"maximum", &s.Maximum},
	} {
		if *f.dst, err = p.integer(n.get(f.key), loc+"."+f.key); err != nil {
			return nil, err
		}
	}
	if d := n.get("default"); d != nil {
		if s.Default, err = d.rawJSON(); err != nil {
			return nil, errAt(loc+".default", "%v", err)
		}
	}
	if it := n.get("items"); it != nil {
		if s.Items, err = p.schema(it, loc+".items"); err != nil {
			return nil, err
		}
	}
	if props := n.get("properties"); props != nil {
		if err := expect(props, kindObject, loc+".properties"); err != nil {
			return nil, err
		}
		for i, name := range props.keys {
			ps, err := p.schema(props.vals[i], fmt.Sprintf("%s.properties[%q]", loc, name))
			if err != nil {
				return nil, err
			}
			s.Properties = append(s.Properties, &Property{Name: name, Schema: ps})
		}
	}
	if s.Required, err = p.stringList(n.get("required"), loc+".required"); err != nil {
		return nil, err
	}
	for _, r := range s.Required {
		if s.Property(r) == nil {
			return nil, errAt(loc+".required", "%q is not a property", r)
		}
	}
	return s, nil
}

// Member is one member of a JSON object.
type Member struct {
	Key   string
	Value json.RawMessage
}

// ObjectMembers returns the members of a JSON object in the order they are
// written. It is for reading examples, whose key order matters and which a
// map would lose. It fails when raw is not an object or repeats a key.
func ObjectMembers(raw json.RawMessage) ([]Member, error) {
	n, err := parseTree(raw)
	if err != nil {
		return nil, err
	}
	if n.kind != kindObject {
		return nil, fmt.Errorf("openapi: want a JSON object, got %v", n.kind)
	}
	out := make([]Member, len(n.keys))
	for i, k := range n.keys {
		v, err := n.vals[i].rawJSON()
		if err != nil {
			return nil, err
		}
		out[i] = Member{Key: k, Value: v}
	}
	return out, nil
}
