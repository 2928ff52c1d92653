package spec_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/spec"
	"github.com/parleyhq/parley/internal/spec/internal/gentables"
	"github.com/parleyhq/parley/internal/spec/openapi"
)

func doc(t *testing.T) *openapi.Document {
	t.Helper()
	d, err := spec.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The vendored file is Twilio's, unmodified: twilio/twilio-oai at
// d50069b44ea8, spec/json/twilio_conversations_v1.json.
func TestVendoredSpec(t *testing.T) {
	const want = "34913a501fc216448067292fe6aaa57fa1589d68e422db95bcf52452349e8241"
	sum := sha256.Sum256([]byte(spec.OpenAPIJSON))
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("sha256 of the embedded spec = %s, want %s (the file was changed: update README.md and this hash together)", got, want)
	}
	lic, err := os.ReadFile("twilio_conversations_v1.LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(lic, []byte("MIT License\n")) {
		t.Errorf("LICENSE does not start with the MIT licence")
	}
}

// tables_gen.go is exactly what the generator makes of the vendored spec.
func TestTablesUpToDate(t *testing.T) {
	got, err := gentables.Generate(doc(t))
	if err != nil {
		t.Fatal(err)
	}
	again, err := gentables.Generate(doc(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, again) {
		t.Fatal("Generate is not deterministic")
	}
	file, err := os.ReadFile("tables_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, file) {
		gl, fl := strings.Split(string(got), "\n"), strings.Split(string(file), "\n")
		for i := 0; i < len(gl) || i < len(fl); i++ {
			var g, f string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(fl) {
				f = fl[i]
			}
			if g != f {
				t.Fatalf("tables_gen.go is stale: run `go generate ./internal/spec`\nline %d: file %q\n         generated %q", i+1, f, g)
			}
		}
	}
	if !bytes.HasPrefix(file, []byte(gentables.Header+"\n")) {
		t.Error("tables_gen.go lacks the generated-code header")
	}
}

// successCodes returns an operation's 2xx statuses in ascending order.
func successCodes(op *openapi.Operation) []int {
	var codes []int
	for _, r := range op.Responses {
		if r.Code >= 200 && r.Code < 300 {
			codes = append(codes, r.Code)
		}
	}
	slices.Sort(codes)
	return codes
}

// shape reads an operation's response schema straight from the spec.
func shape(t *testing.T, op *openapi.Operation) (schema, listKey string) {
	t.Helper()
	r := op.Response(successCodes(op)[0])
	mt := r.JSON()
	if mt == nil {
		return "", ""
	}
	if mt.Schema.Ref != "" {
		return mt.Schema.Resolve().Name, ""
	}
	for _, p := range mt.Schema.Properties {
		if p.Name != "meta" {
			return p.Schema.Items.Resolve().Name, p.Name
		}
	}
	t.Fatalf("%s: no list in the envelope", op.OperationID)
	return "", ""
}

func TestEveryOperation(t *testing.T) {
	d := doc(t)
	ops := d.Operations()
	if len(ops) != 103 || len(spec.Operations) != 103 {
		t.Fatalf("%d operations in the spec, %d in the table; want 103", len(ops), len(spec.Operations))
	}
	paths := map[string]bool{}
	methods := map[string]int{}
	for i, op := range ops {
		o := &spec.Operations[i]
		if o.ID != op.OperationID {
			t.Errorf("Operations[%d] = %s, spec has %s there", i, o.ID, op.OperationID)
			continue
		}
		if spec.OperationByID(o.ID) != o || spec.OperationFor(op.Method, op.Path) != o {
			t.Errorf("%s: lookups do not find it", o.ID)
		}
		paths[o.Path] = true
		methods[o.Method]++
		if o.Method != op.Method || o.Path != op.Path || o.PathType != op.PathItem.XTwilio.PathType {
			t.Errorf("%s: %s %s (%s), spec says %s %s (%s)", o.ID, o.Method, o.Path, o.PathType, op.Method, op.Path, op.PathItem.XTwilio.PathType)
		}
		codes := successCodes(op)
		if !slices.Equal(append([]int{o.Status}, o.OtherStatuses...), codes) || o.OtherStatuses != nil && len(o.OtherStatuses) == 0 {
			t.Errorf("%s: status %d %v, spec has %v", o.ID, o.Status, o.OtherStatuses, codes)
		}
		schema, listKey := shape(t, op)
		if o.Schema != schema || o.ListKey != listKey {
			t.Errorf("%s: schema %q list %q, spec has %q %q", o.ID, o.Schema, o.ListKey, schema, listKey)
		}
		if schema != "" && o.ItemSchema() == nil {
			t.Errorf("%s: schema %s is not in Schemas", o.ID, schema)
		}
		if (o.Method == "DELETE") != (schema == "") || (o.Method == "DELETE") != (o.Status == 204) {
			t.Errorf("%s: %s with status %d and schema %q", o.ID, o.Method, o.Status, schema)
		}
		if (o.ListKey != "") != (o.Method == "GET" && o.PathType == "list") {
			t.Errorf("%s: ListKey %q on a %s %s", o.ID, o.ListKey, o.Method, o.PathType)
		}
	}
	if len(paths) != 49 || !reflect.DeepEqual(methods, map[string]int{"GET": 47, "POST": 38, "DELETE": 18}) {
		t.Errorf("%d paths, methods %v", len(paths), methods)
	}
	if spec.OperationByID("Nope") != nil || spec.OperationFor("PUT", "/v1/Users") != nil || spec.SchemaByName("nope") != nil {
		t.Error("lookups of unknown names return something")
	}
}

func TestSchemas(t *testing.T) {
	d := doc(t)
	used := map[string]bool{}
	for _, o := range spec.Operations {
		if o.Schema != "" {
			used[o.Schema] = true
		}
	}
	if len(spec.Schemas) != len(used) || len(spec.Schemas) != 29 {
		t.Errorf("%d schemas, %d used by operations, want 29", len(spec.Schemas), len(used))
	}
	for i, s := range spec.Schemas {
		if i > 0 && spec.Schemas[i-1].Name >= s.Name {
			t.Errorf("Schemas not sorted at %s", s.Name)
		}
		if spec.SchemaByName(s.Name) != &spec.Schemas[i] {
			t.Errorf("SchemaByName(%s) is not Schemas[%d]", s.Name, i)
		}
		// Keys in spec order, and a kind for every key.
		src := d.Schema(s.Name)
		var want []string
		for _, p := range src.Properties {
			want = append(want, p.Name)
		}
		if got := keys(s.Properties); !slices.Equal(got, want) {
			t.Errorf("%s: keys %q, spec %q", s.Name, got, want)
		}
		for _, p := range s.Properties {
			if p.Kind < spec.KindString || p.Kind > spec.KindJSON {
				t.Errorf("%s.%s: kind %v", s.Name, p.Key, p.Kind)
			}
			if (p.Kind == spec.KindEnum) != (len(p.Enum) > 0) {
				t.Errorf("%s.%s: kind %v with enum %q", s.Name, p.Key, p.Kind, p.Enum)
			}
		}
		if s.Property("url") != nil && s.Property("url").Kind != spec.KindURI ||
			s.Property("links") != nil && s.Property("links").Kind != spec.KindURIMap {
			t.Errorf("%s: url or links of the wrong kind", s.Name)
		}
	}
}

func keys(ps []spec.Property) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Key
	}
	return out
}

// Every operation returning a schema carries the same url and links
// templates as the others returning it, and exactly when the schema has
// url and links.
func TestTemplatesPerSchema(t *testing.T) {
	first := map[string]*spec.Operation{}
	for i := range spec.Operations {
		o := &spec.Operations[i]
		if o.Schema == "" {
			if o.URL != "" || o.Links != nil {
				t.Errorf("%s: templates without a schema", o.ID)
			}
			continue
		}
		s := o.ItemSchema()
		if (s.Property("url") != nil) != (o.URL != "") || (s.Property("links") != nil) != (o.Links != nil) {
			t.Errorf("%s: URL %q, %d links, for schema %s", o.ID, o.URL, len(o.Links), s.Name)
		}
		for _, tmpl := range append([]string{o.URL}, linkTemplates(o)...) {
			for _, ph := range placeholders(tmpl) {
				if s.Property(ph) == nil {
					t.Errorf("%s: template %s names %q, not a property of %s", o.ID, tmpl, ph, s.Name)
				}
			}
		}
		if f, ok := first[o.Schema]; !ok {
			first[o.Schema] = o
		} else if f.URL != o.URL || !reflect.DeepEqual(f.Links, o.Links) {
			t.Errorf("%s and %s return %s with different templates", f.ID, o.ID, o.Schema)
		}
	}
}

func linkTemplates(o *spec.Operation) []string {
	var out []string
	for _, l := range o.Links {
		out = append(out, l.Template)
	}
	return out
}

func placeholders(tmpl string) []string {
	var out []string
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(tmpl, '}')
		out = append(out, tmpl[i+1:j])
		tmpl = tmpl[j+1:]
	}
}

// Params follow the spec: path, query and header parameters in spec order,
// then the form fields, with the spec's types, enums and requirements.
func TestParams(t *testing.T) {
	d := doc(t)
	inOf := map[string]spec.In{"path": spec.InPath, "query": spec.InQuery, "header": spec.InHeader}
	for _, op := range d.Operations() {
		o := spec.OperationByID(op.OperationID)
		type want struct {
			name     string
			in       spec.In
			required bool
			schema   *openapi.Schema
		}
		var ws []want
		for _, p := range op.Parameters {
			ws = append(ws, want{p.Name, inOf[p.In], p.Required, p.Schema})
		}
		if op.RequestBody != nil {
			fs := op.RequestBody.Form().Schema
			for _, p := range fs.Properties {
				ws = append(ws, want{p.Name, spec.InForm, fs.IsRequired(p.Name), p.Schema})
			}
		}
		if len(ws) != len(o.Params) {
			t.Errorf("%s: %d params, spec has %d", o.ID, len(o.Params), len(ws))
			continue
		}
		for i, w := range ws {
			p := o.Params[i]
			if p.Name != w.name || p.In != w.in || p.Required != w.required {
				t.Errorf("%s: param %d = %s %v required=%v, spec %s %v %v", o.ID, i, p.Name, p.In, p.Required, w.name, w.in, w.required)
			}
			if p.Pattern != "" {
				if _, err := regexp.Compile(p.Pattern); err != nil {
					t.Errorf("%s.%s: pattern: %v", o.ID, p.Name, err)
				}
			}
			if o.Param(p.Name) != &o.Params[i] {
				t.Errorf("%s: Param(%s) does not find it", o.ID, p.Name)
			}
			if p.In == spec.InPath && (!p.Required || !strings.Contains(o.Path, "{"+p.Name+"}")) {
				t.Errorf("%s: path param %s is not required or not in the path", o.ID, p.Name)
			}
			r := w.schema.Resolve()
			enum := r.Enum
			if r.Type == "array" {
				enum = r.Items.Resolve().Enum
			}
			if !slices.Equal(p.Enum, enum) || (p.Type == spec.TypeEnum || p.Type == spec.TypeEnumArray) != (len(enum) > 0) {
				t.Errorf("%s.%s: type %v enum %q, spec enum %q", o.ID, p.Name, p.Type, p.Enum, enum)
			}
		}
	}
}

// exampleItem is one resource object out of a response example.
type exampleItem struct {
	label   string // "OperationID/example"
	members []openapi.Member
}

func (it exampleItem) str(key string) (string, bool) {
	for _, m := range it.members {
		if m.Key == key {
			var s *string
			if json.Unmarshal(m.Value, &s) != nil || s == nil {
				return "", false
			}
			return *s, true
		}
	}
	return "", false
}

func (it exampleItem) raw(key string) json.RawMessage {
	for _, m := range it.members {
		if m.Key == key {
			return m.Value
		}
	}
	return nil
}

// listExample is the envelope of a list example.
type listExample struct {
	label     string
	topKeys   []string
	metaKeys  []string
	metaValue []openapi.Member
}

// examples splits an operation's response examples into resource objects
// and list envelopes.
func examples(t *testing.T, op *openapi.Operation, o *spec.Operation) (items []exampleItem, lists []listExample) {
	t.Helper()
	for _, ex := range op.ResponseExamples() {
		label := op.OperationID + "/" + ex.Name
		top, err := openapi.ObjectMembers(ex.Value)
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if o.ListKey == "" {
			items = append(items, exampleItem{label, top})
			continue
		}
		le := listExample{label: label}
		for _, m := range top {
			le.topKeys = append(le.topKeys, m.Key)
			switch m.Key {
			case "meta":
				if le.metaValue, err = openapi.ObjectMembers(m.Value); err != nil {
					t.Fatalf("%s: meta: %v", label, err)
				}
				for _, mm := range le.metaValue {
					le.metaKeys = append(le.metaKeys, mm.Key)
				}
			case o.ListKey:
				var elems []json.RawMessage
				if err := json.Unmarshal(m.Value, &elems); err != nil {
					t.Fatalf("%s: %v", label, err)
				}
				for _, e := range elems {
					ms, err := openapi.ObjectMembers(e)
					if err != nil {
						t.Fatalf("%s: %v", label, err)
					}
					items = append(items, exampleItem{label, ms})
				}
			default:
				t.Errorf("%s: unexpected envelope key %q", label, m.Key)
			}
		}
		lists = append(lists, le)
	}
	return items, lists
}

func hostless(t *testing.T, label, abs string) string {
	t.Helper()
	u, err := url.Parse(abs)
	if err != nil || u.Host == "" {
		t.Errorf("%s: %q is not an absolute URL", label, abs)
		return ""
	}
	return u.Path
}

// The url and links templates, filled with an example's own values,
// reproduce the example's url and links.
func TestTemplatesReproduceExamples(t *testing.T) {
	d := doc(t)
	checked := 0
	for _, op := range d.Operations() {
		o := spec.OperationByID(op.OperationID)
		items, _ := examples(t, op, o)
		if o.Schema != "" && len(op.ResponseExamples()) == 0 {
			t.Errorf("%s returns %s but has no example", o.ID, o.Schema)
		}
		for _, it := range items {
			value := func(name string) string {
				v, ok := it.str(name)
				if !ok {
					t.Errorf("%s: placeholder {%s} has no string value", it.label, name)
				}
				return v
			}
			if o.URL != "" {
				u, _ := it.str("url")
				if got, want := spec.Expand(o.URL, value), hostless(t, it.label, u); got != want {
					t.Errorf("%s: url %s gives %q, example has %q", it.label, o.URL, got, want)
				}
				checked++
			}
			if o.Links != nil {
				links, err := openapi.ObjectMembers(it.raw("links"))
				if err != nil {
					t.Fatalf("%s: links: %v", it.label, err)
				}
				if len(links) != len(o.Links) {
					t.Errorf("%s: %d links, table has %d", it.label, len(links), len(o.Links))
					continue
				}
				for i, l := range o.Links {
					var abs string
					if err := json.Unmarshal(links[i].Value, &abs); err != nil {
						t.Errorf("%s: links.%s: %v", it.label, links[i].Key, err)
					}
					if links[i].Key != l.Key {
						t.Errorf("%s: links[%d] is %q, table has %q", it.label, i, links[i].Key, l.Key)
					} else if got, want := spec.Expand(l.Template, value), hostless(t, it.label, abs); got != want {
						t.Errorf("%s: links.%s %s gives %q, example has %q", it.label, l.Key, l.Template, got, want)
					}
					checked++
				}
			}
		}
	}
	if checked != 355 { // every url and links entry of the vendored examples
		t.Errorf("%d urls and links checked, want 355", checked)
	}
}

// Where the spec's examples list a schema's keys in another order than the
// schema, the schema wins (it is the order the tables carry). These are the
// schemas whose examples disagree in the vendored spec; the test fails if
// another one starts to, or if one of these stops, so the list stays true.
// Run with -v to see each example's order.
var exampleOrderDiffers = map[string]bool{
	"conversations.v1.configuration.configuration_webhook":                                                            true,
	"conversations.v1.configuration_address":                                                                          true,
	"conversations.v1.conversation":                                                                                   true,
	"conversations.v1.conversation.conversation_message":                                                              true,
	"conversations.v1.conversation.conversation_message.conversation_message_receipt":                                 true,
	"conversations.v1.conversation.conversation_scoped_webhook":                                                       true,
	"conversations.v1.conversation_with_participants":                                                                 true,
	"conversations.v1.participant_conversation":                                                                       true,
	"conversations.v1.service":                                                                                        true,
	"conversations.v1.service.service_binding":                                                                        true,
	"conversations.v1.service.service_configuration":                                                                  true,
	"conversations.v1.service.service_configuration.service_notification":                                             true,
	"conversations.v1.service.service_configuration.service_webhook_configuration":                                    true,
	"conversations.v1.service.service_conversation":                                                                   true,
	"conversations.v1.service.service_conversation.service_conversation_message":                                      true,
	"conversations.v1.service.service_conversation.service_conversation_message.service_conversation_message_receipt": true,
	"conversations.v1.service.service_conversation.service_conversation_scoped_webhook":                               true,
	"conversations.v1.service.service_conversation_with_participants":                                                 true,
	"conversations.v1.service.service_participant_conversation":                                                       true,
}

// Null values of properties the spec does not mark nullable, by
// "OperationID/example.key". Enums cannot be marked nullable in OpenAPI 3.0
// (siblings of $ref are ignored), so this is an artefact of the spec, not a
// contradiction: the encoder must still allow null there.
var exampleNullsOfNonNullable = map[string]bool{
	"FetchServiceWebhookConfiguration/fetchEmpty.method": true,
}

// Every example carries exactly the schema's keys, each value of the kind
// the table says; key-order differences are reported, and must be the
// known ones.
func TestExamplesMatchSchemas(t *testing.T) {
	d := doc(t)
	differs := map[string]bool{}
	nulls := map[string]bool{}
	seen := map[string]bool{}
	for _, op := range d.Operations() {
		o := spec.OperationByID(op.OperationID)
		if o.Schema == "" {
			continue
		}
		s := o.ItemSchema()
		want := keys(s.Properties)
		items, _ := examples(t, op, o)
		for _, it := range items {
			var got []string
			for _, m := range it.members {
				got = append(got, m.Key)
			}
			a, b := slices.Clone(got), slices.Clone(want)
			slices.Sort(a)
			slices.Sort(b)
			if !slices.Equal(a, b) {
				t.Errorf("%s: keys %q, schema %s has %q", it.label, got, s.Name, want)
				continue
			}
			if !slices.Equal(got, want) {
				differs[s.Name] = true
				if !seen[s.Name+strings.Join(got, ",")] {
					seen[s.Name+strings.Join(got, ",")] = true
					t.Logf("%s: example order %s\n\tschema order %s", it.label, strings.Join(got, ","), strings.Join(want, ","))
				}
			}
			for _, m := range it.members {
				p := s.Property(m.Key)
				if string(m.Value) == "null" {
					if !p.Nullable {
						nulls[it.label+"."+m.Key] = true
					}
					continue
				}
				if err := checkKind(p, m.Value); err != nil {
					t.Errorf("%s.%s: %v", it.label, m.Key, err)
				}
			}
		}
	}
	for name := range differs {
		if !exampleOrderDiffers[name] {
			t.Errorf("examples of %s now differ from the schema's key order: add it to exampleOrderDiffers and report it", name)
		}
	}
	for name := range exampleOrderDiffers {
		if !differs[name] {
			t.Errorf("examples of %s now follow the schema's key order: remove it from exampleOrderDiffers", name)
		}
	}
	if !reflect.DeepEqual(nulls, exampleNullsOfNonNullable) {
		t.Errorf("nulls of non-nullable properties = %v, want %v", nulls, exampleNullsOfNonNullable)
	}
}

// checkKind checks an example value (not null) against a property's kind.
func checkKind(p *spec.Property, raw json.RawMessage) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	switch p.Kind {
	case spec.KindString, spec.KindURI, spec.KindDateTime, spec.KindEnum:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s is not a string (%v)", raw, p.Kind)
		}
		switch p.Kind {
		case spec.KindDateTime:
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				return err
			}
		case spec.KindURI:
			if u, err := url.Parse(s); err != nil || !u.IsAbs() {
				return fmt.Errorf("%q is not an absolute URL", s)
			}
		case spec.KindEnum:
			if !slices.Contains(p.Enum, s) {
				return fmt.Errorf("%q is not one of %q", s, p.Enum)
			}
		}
	case spec.KindInteger:
		n, ok := v.(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			return fmt.Errorf("%s is not an integer", raw)
		}
	case spec.KindBoolean:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s is not a boolean", raw)
		}
	case spec.KindStringArray:
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s is not an array", raw)
		}
		for _, e := range a {
			if _, ok := e.(string); !ok {
				return fmt.Errorf("%s is not an array of strings", raw)
			}
		}
	case spec.KindURIMap:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s is not an object", raw)
		}
		for _, e := range m {
			if s, ok := e.(string); !ok || !strings.HasPrefix(s, "https://") {
				return fmt.Errorf("%s is not a map of URLs", raw)
			}
		}
	case spec.KindJSON:
	default:
		return fmt.Errorf("kind %v", p.Kind)
	}
	return nil
}

// List examples whose meta keys come in another order than Meta's.
var metaOrderDiffers = map[string]bool{
	"ListConfigurationAddress/readBlank":             true,
	"ListConversationScopedWebhook/readEmpty":        true,
	"ListServiceConversationScopedWebhook/readEmpty": true,
}

// Every list example has the envelope {ListKey, meta}, meta with Meta's
// keys and key equal to ListKey. The spec's examples disagree about the
// envelope's order (meta first in most of them); the tables follow the
// envelope schema, items first.
func TestListEnvelopes(t *testing.T) {
	d := doc(t)
	want := keys(spec.Meta.Properties)
	if !slices.Equal(want, []string{"page", "page_size", "first_page_url", "previous_page_url", "url", "next_page_url", "key"}) {
		t.Errorf("Meta keys = %q", want)
	}
	differs := map[string]bool{}
	var metaFirst, listFirst []string
	for _, op := range d.Operations() {
		o := spec.OperationByID(op.OperationID)
		if o.ListKey == "" {
			continue
		}
		_, lists := examples(t, op, o)
		if len(lists) == 0 {
			t.Errorf("%s: no list example", o.ID)
		}
		for _, le := range lists {
			switch {
			case slices.Equal(le.topKeys, []string{"meta", o.ListKey}):
				metaFirst = append(metaFirst, le.label)
			case slices.Equal(le.topKeys, []string{o.ListKey, "meta"}):
				listFirst = append(listFirst, le.label)
			default:
				t.Errorf("%s: envelope keys %q", le.label, le.topKeys)
			}
			a, b := slices.Clone(le.metaKeys), slices.Clone(want)
			slices.Sort(a)
			slices.Sort(b)
			if !slices.Equal(a, b) {
				t.Errorf("%s: meta keys %q, want %q", le.label, le.metaKeys, want)
			} else if !slices.Equal(le.metaKeys, want) {
				differs[le.label] = true
			}
			for _, m := range le.metaValue {
				if m.Key == "key" && string(m.Value) != `"`+o.ListKey+`"` {
					t.Errorf("%s: meta.key = %s, want %q", le.label, m.Value, o.ListKey)
				}
			}
		}
	}
	if !reflect.DeepEqual(differs, metaOrderDiffers) {
		t.Errorf("examples with another meta order = %v, want %v", differs, metaOrderDiffers)
	}
	t.Logf("list examples with meta first: %d; with the items first: %d %q", len(metaFirst), len(listFirst), listFirst)
}

// Spot checks with values read off the spec by hand.
func TestSpotChecks(t *testing.T) {
	o := spec.OperationByID("FetchServiceUser")
	if o.Method != "GET" || o.Path != "/v1/Services/{ChatServiceSid}/Users/{Sid}" || o.PathType != "instance" ||
		o.Status != 200 || o.Schema != "conversations.v1.service.service_user" || o.ListKey != "" ||
		o.URL != "/v1/Services/{chat_service_sid}/Users/{sid}" ||
		!reflect.DeepEqual(o.Links, []spec.Link{{Key: "user_conversations", Template: "/v1/Services/{chat_service_sid}/Users/{sid}/Conversations"}}) {
		t.Errorf("FetchServiceUser = %+v", *o)
	}
	if !reflect.DeepEqual(o.Params, []spec.Param{
		{Name: "ChatServiceSid", In: spec.InPath, Type: spec.TypeString, Required: true, Pattern: "^IS[0-9a-fA-F]{32}$", MinLength: 34, MaxLength: 34},
		{Name: "Sid", In: spec.InPath, Type: spec.TypeString, Required: true},
	}) {
		t.Errorf("FetchServiceUser params = %+v", o.Params)
	}

	o = spec.OperationByID("ListUser")
	if o.ListKey != "users" || o.URL != "/v1/Users/{sid}" || o.Status != 200 || o.Schema != "conversations.v1.user" {
		t.Errorf("ListUser = %+v", *o)
	}
	if p := o.Param("PageSize"); p == nil || !reflect.DeepEqual(*p, spec.Param{Name: "PageSize", In: spec.InQuery, Type: spec.TypeInteger, HasMin: true, Min: 1, HasMax: true, Max: 50}) {
		t.Errorf("ListUser PageSize = %+v", p)
	}
	if p := o.Param("Page"); p == nil || !p.HasMin || p.Min != 0 || p.HasMax {
		t.Errorf("ListUser Page = %+v", p)
	}

	o = spec.OperationByID("UpdateUser")
	if !reflect.DeepEqual(o.Params, []spec.Param{
		{Name: "Sid", In: spec.InPath, Type: spec.TypeString, Required: true},
		{Name: "X-Twilio-Webhook-Enabled", In: spec.InHeader, Type: spec.TypeEnum, Enum: []string{"true", "false"}},
		{Name: "FriendlyName", In: spec.InForm, Type: spec.TypeString},
		{Name: "Attributes", In: spec.InForm, Type: spec.TypeString},
		{Name: "RoleSid", In: spec.InForm, Type: spec.TypeString, Pattern: "^RL[0-9a-fA-F]{32}$", MinLength: 34, MaxLength: 34},
	}) {
		t.Errorf("UpdateUser params = %+v", o.Params)
	}

	o = spec.OperationByID("CreateRole")
	if o.Status != 201 || o.Method != "POST" || o.Path != "/v1/Roles" || o.URL != "/v1/Roles/{sid}" || o.Links != nil {
		t.Errorf("CreateRole = %+v", *o)
	}
	if !reflect.DeepEqual(o.Params, []spec.Param{
		{Name: "FriendlyName", In: spec.InForm, Type: spec.TypeString, Required: true},
		{Name: "Type", In: spec.InForm, Type: spec.TypeEnum, Enum: []string{"conversation", "service"}, Required: true},
		{Name: "Permission", In: spec.InForm, Type: spec.TypeStringArray, Required: true},
	}) {
		t.Errorf("CreateRole params = %+v", o.Params)
	}

	if got := keys(spec.SchemaByName("conversations.v1.service.service_configuration").Properties); !slices.Equal(got, []string{
		"chat_service_sid", "default_conversation_creator_role_sid", "default_conversation_role_sid",
		"default_chat_service_role_sid", "url", "links", "reachability_enabled"}) {
		t.Errorf("service_configuration keys = %q", got)
	}

	o = spec.OperationByID("FetchServiceConfiguration")
	if o.URL != "/v1/Services/{chat_service_sid}/Configuration" || !reflect.DeepEqual(o.Links, []spec.Link{
		{Key: "notifications", Template: "/v1/Services/{chat_service_sid}/Configuration/Notifications"},
		{Key: "webhooks", Template: "/v1/Services/{chat_service_sid}/Configuration/Webhooks"},
	}) {
		t.Errorf("FetchServiceConfiguration = %+v", *o)
	}
	o = spec.OperationByID("FetchConfiguration")
	if o.URL != "/v1/Configuration" || !reflect.DeepEqual(o.Links, []spec.Link{
		{Key: "service", Template: "/v1/Services/{default_chat_service_sid}/Configuration"},
		{Key: "webhooks", Template: "/v1/Configuration/Webhooks"},
	}) {
		t.Errorf("FetchConfiguration = %+v", *o)
	}
	o = spec.OperationByID("CreateConversationWithParticipants")
	if o.Status != 201 || !slices.Equal(o.OtherStatuses, []int{202}) || o.URL != "/v1/Conversations/{sid}" || len(o.Links) != 3 {
		t.Errorf("CreateConversationWithParticipants = %+v", *o)
	}
	o = spec.OperationByID("ListUserConversation")
	if o.ListKey != "conversations" || o.URL != "/v1/Users/{user_sid}/Conversations/{conversation_sid}" || !reflect.DeepEqual(o.Links, []spec.Link{
		{Key: "participant", Template: "/v1/Conversations/{conversation_sid}/Participants/{participant_sid}"},
		{Key: "conversation", Template: "/v1/Conversations/{conversation_sid}"},
	}) {
		t.Errorf("ListUserConversation = %+v", *o)
	}
	o = spec.OperationByID("ListParticipantConversation")
	if o.URL != "" || len(o.Links) != 2 {
		t.Errorf("ListParticipantConversation = %+v", *o)
	}
	o = spec.OperationByID("DeleteUser")
	if o.Status != 204 || o.Schema != "" || o.URL != "" || o.Links != nil {
		t.Errorf("DeleteUser = %+v", *o)
	}
	// Services: the examples' link order, not dependentProperties'.
	o = spec.OperationByID("FetchService")
	var lk []string
	for _, l := range o.Links {
		lk = append(lk, l.Key)
	}
	if !slices.Equal(lk, []string{"conversations", "users", "roles", "bindings", "configuration", "participant_conversations", "conversation_with_participants"}) {
		t.Errorf("FetchService links = %q", lk)
	}
	u := spec.SchemaByName("conversations.v1.user")
	if p := u.Property("is_online"); p == nil || p.Kind != spec.KindBoolean {
		t.Errorf("user.is_online = %+v", p)
	}
	if p := spec.SchemaByName("conversations.v1.role").Property("type"); p == nil || p.Kind != spec.KindEnum || !slices.Equal(p.Enum, []string{"conversation", "service"}) {
		t.Errorf("role.type = %+v", p)
	}
	m := spec.SchemaByName("conversations.v1.conversation.conversation_message")
	for key, kind := range map[string]spec.Kind{"index": spec.KindInteger, "media": spec.KindJSON, "delivery": spec.KindJSON, "date_created": spec.KindDateTime} {
		if p := m.Property(key); p == nil || p.Kind != kind {
			t.Errorf("conversation_message.%s = %+v, want %v", key, p, kind)
		}
	}
	if p := spec.OperationByID("UpdateConversationParticipant").Param("LastReadMessageIndex"); p == nil || p.Type != spec.TypeInteger || !p.Nullable {
		t.Errorf("LastReadMessageIndex = %+v", p)
	}
	if p := spec.OperationByID("ListServiceBinding").Param("BindingType"); p == nil || p.Type != spec.TypeEnumArray || !slices.Equal(p.Enum, []string{"apn", "gcm", "fcm", "twilsock"}) {
		t.Errorf("BindingType = %+v", p)
	}
	if p := spec.OperationByID("CreateConversation").Param("Timers.Inactive"); p == nil || p.In != spec.InForm || p.Type != spec.TypeString {
		t.Errorf("Timers.Inactive = %+v", p)
	}
	if p := spec.OperationByID("CreateConversation").Param("DateCreated"); p == nil || p.Type != spec.TypeDateTime {
		t.Errorf("DateCreated = %+v", p)
	}
}

// Facts about the spec's request (form) examples that the form decoder must
// live with, pinned so that a new spec revision is noticed.
var (
	// Form example fields that are not parameters of their operation.
	formUnknownFields = map[string]bool{
		"CreateConversationParticipant/createRcsWithFallback.MessagingBinding.ProxyAddressFallback":        true,
		"CreateServiceConversationParticipant/createRcsWithFallback.MessagingBinding.ProxyAddressFallback": true,
	}
	// Enum values sent in another case than the spec lists: Twilio matches
	// enums case-insensitively (the response examples' names say "ienum").
	formEnumCase = map[string]bool{
		"CreateConfigurationAddress/createWhatsappCaseInsensitive.Type=whAtsAPP": true,
		"CreateCredential/createPushTypeGcm.Type=GcM":                            true,
		"CreateCredential/createPushTypeFcm.Type=FcM":                            true,
	}
)

func TestFormExamples(t *testing.T) {
	d := doc(t)
	unknown, enumCase := map[string]bool{}, map[string]bool{}
	n := 0
	for _, op := range d.Operations() {
		if op.RequestBody == nil {
			continue
		}
		o := spec.OperationByID(op.OperationID)
		for _, ex := range op.RequestBody.Form().Examples {
			label := op.OperationID + "/" + ex.Name
			ms, err := openapi.ObjectMembers(ex.Value)
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			for _, m := range ms {
				n++
				p := o.Param(m.Key)
				if p == nil || p.In != spec.InForm {
					unknown[label+"."+m.Key] = true
					continue
				}
				var v any
				if err := json.Unmarshal(m.Value, &v); err != nil {
					t.Fatal(err)
				}
				vals := []any{v}
				if a, ok := v.([]any); ok && (p.Type == spec.TypeStringArray || p.Type == spec.TypeEnumArray) {
					vals = a // a single value is also fine: the key is sent once
				}
				for _, v := range vals {
					if err := checkFormValue(p, v); err != nil {
						t.Errorf("%s.%s: %v", label, m.Key, err)
					}
					if s, ok := v.(string); ok && len(p.Enum) > 0 && !slices.Contains(p.Enum, s) {
						enumCase[label+"."+m.Key+"="+s] = true
					}
				}
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d form example fields", n)
	}
	if !reflect.DeepEqual(unknown, formUnknownFields) {
		t.Errorf("unknown form example fields = %v, want %v", unknown, formUnknownFields)
	}
	if !reflect.DeepEqual(enumCase, formEnumCase) {
		t.Errorf("form enum values in another case = %v, want %v", enumCase, formEnumCase)
	}
}

// checkFormValue checks one value of a form example against its parameter.
func checkFormValue(p *spec.Param, v any) error {
	switch p.Type {
	case spec.TypeInteger:
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) || p.HasMin && int64(f) < p.Min || p.HasMax && int64(f) > p.Max {
			return fmt.Errorf("%v is not an integer in bounds", v)
		}
	case spec.TypeBoolean:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%v is not a boolean", v)
		}
	case spec.TypeEnum, spec.TypeEnumArray:
		s, ok := v.(string)
		if !ok || !slices.ContainsFunc(p.Enum, func(e string) bool { return strings.EqualFold(e, s) }) {
			return fmt.Errorf("%v is not one of %q", v, p.Enum)
		}
	case spec.TypeDateTime:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%v is not a string", v)
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return err
		}
	default:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%v is not a string", v)
		}
		if p.MaxLength > 0 && (len(s) < p.MinLength || len(s) > p.MaxLength) {
			return fmt.Errorf("%q has the wrong length", s)
		}
		if p.Pattern != "" && !regexp.MustCompile(p.Pattern).MatchString(s) {
			return fmt.Errorf("%q does not match %s", s, p.Pattern)
		}
	}
	return nil
}

func TestExpand(t *testing.T) {
	vals := map[string]string{"chat_service_sid": "IS1", "sid": "a b/c"}
	got := spec.Expand("/v1/Services/{chat_service_sid}/Users/{sid}", func(k string) string { return vals[k] })
	if want := "/v1/Services/IS1/Users/a%20b%2Fc"; got != want {
		t.Errorf("Expand = %q, want %q", got, want)
	}
	if got := spec.Expand("/v1/Configuration", nil); got != "/v1/Configuration" {
		t.Errorf("Expand without placeholders = %q", got)
	}
	if got := spec.Expand("/x/{open", func(string) string { return "!" }); got != "/x/{open" {
		t.Errorf("Expand of an unclosed brace = %q", got)
	}
}

func TestStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{spec.KindString.String(), "string"},
		{spec.KindJSON.String(), "json"},
		{spec.Kind(0).String(), "invalid"},
		{spec.Kind(99).String(), "Kind(99)"},
		{spec.InForm.String(), "form"},
		{spec.In(9).String(), "In(9)"},
		{spec.TypeEnumArray.String(), "enum-array"},
		{spec.Type(42).String(), "Type(42)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
