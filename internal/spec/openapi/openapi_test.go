package openapi

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

func parseSpec(t *testing.T) *Document {
	t.Helper()
	f, err := os.Open("../twilio_conversations_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestParseTwilioSpec(t *testing.T) {
	doc := parseSpec(t)
	if doc.OpenAPI != "3.0.1" {
		t.Errorf("OpenAPI = %q", doc.OpenAPI)
	}
	if got := len(doc.Paths); got != 49 {
		t.Errorf("%d paths, want 49", got)
	}
	if got := len(doc.Operations()); got != 103 {
		t.Errorf("%d operations, want 103", got)
	}

	// Document order of paths and of methods within a path.
	if doc.Paths[0].Path != "/v1/Configuration" {
		t.Errorf("first path %q", doc.Paths[0].Path)
	}
	var methods []string
	for _, op := range doc.Path("/v1/Users/{Sid}").Operations {
		methods = append(methods, op.Method+" "+op.OperationID)
	}
	if want := []string{"POST UpdateUser", "DELETE DeleteUser", "GET FetchUser"}; !reflect.DeepEqual(methods, want) {
		t.Errorf("methods of /v1/Users/{Sid} = %q, want %q", methods, want)
	}

	// Property order is document order, not alphabetical.
	var keys []string
	for _, p := range doc.Schema("conversations.v1.service.service_configuration").Properties {
		keys = append(keys, p.Name)
	}
	want := []string{"chat_service_sid", "default_conversation_creator_role_sid", "default_conversation_role_sid",
		"default_chat_service_role_sid", "url", "links", "reachability_enabled"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("service_configuration keys = %q, want %q", keys, want)
	}

	// $ref resolution and enums.
	op := doc.Operation("UpdateUser")
	if op == nil || op.Path != "/v1/Users/{Sid}" || op.Method != "POST" {
		t.Fatalf("UpdateUser = %+v", op)
	}
	hdr := op.Parameters[1]
	if hdr.Name != "X-Twilio-Webhook-Enabled" || hdr.In != "header" {
		t.Fatalf("UpdateUser.Parameters[1] = %+v", hdr)
	}
	if hdr.Schema.Ref != "#/components/schemas/user_enum_webhook_enabled_type" ||
		!reflect.DeepEqual(hdr.Schema.Resolve().Enum, []string{"true", "false"}) {
		t.Errorf("header schema = %+v -> %+v", hdr.Schema, hdr.Schema.Resolve())
	}

	// Form body with required.
	form := doc.Operation("CreateRole").RequestBody.Form()
	if form == nil {
		t.Fatal("CreateRole has no form body")
	}
	var names []string
	for _, p := range form.Schema.Properties {
		names = append(names, p.Name)
		if !form.Schema.IsRequired(p.Name) {
			t.Errorf("CreateRole %s not required", p.Name)
		}
	}
	if !reflect.DeepEqual(names, []string{"FriendlyName", "Type", "Permission"}) {
		t.Errorf("CreateRole form = %q", names)
	}
	if len(form.Examples) != 1 || string(form.Examples[0].Value) != `{"FriendlyName":"Conversation Role","Type":"conversation","Permission":"sendMessage"}` {
		t.Errorf("CreateRole form examples = %s", form.Examples)
	}

	// x-twilio.
	x := doc.Path("/v1/Services/{ChatServiceSid}/Users").XTwilio
	if x.PathType != "list" || x.Parent != "/Services/{Sid}" || len(x.DependentProperties) != 1 {
		t.Errorf("x-twilio = %+v", x)
	}
	dp := x.DependentProperties[0]
	if dp.Name != "user_conversations" || dp.ResourceURL != "/v1/Services/{chat_service_sid}/Users/{user_sid}/Conversations" ||
		!reflect.DeepEqual(dp.Mapping, []Mapping{{"chat_service_sid", "chat_service_sid"}, {"user_sid", "sid"}}) {
		t.Errorf("dependent property = %+v", dp)
	}

	// Integer bounds.
	ps := doc.Operation("ListUser").Parameters[0]
	if ps.Name != "PageSize" || *ps.Schema.Minimum != 1 || *ps.Schema.Maximum != 50 {
		t.Errorf("PageSize = %+v", ps.Schema)
	}
}

func TestResponseExamples(t *testing.T) {
	doc := parseSpec(t)
	exs := doc.Operation("CreateConversationWithParticipants").ResponseExamples()
	var got []string
	for _, e := range exs {
		got = append(got, e.Name)
		if e.MediaType != "application/json" {
			t.Errorf("%s: media type %q", e.Name, e.MediaType)
		}
		if !json.Valid(e.Value) {
			t.Errorf("%s: invalid JSON", e.Name)
		}
	}
	want := []string{"create", "createNoTimersNoAttributes", "createWithParticipants",
		"createWithParticipantsMixedCaseHeaderIenumTrue", "createWithParticipantsMixedCaseHeaderIenumFalse"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("examples = %q, want %q", got, want)
	}
	if exs[0].Code != 201 || exs[2].Code != 202 {
		t.Errorf("codes %d, %d", exs[0].Code, exs[2].Code)
	}

	// The raw value keeps the spec's key order and spelling.
	ex := doc.Operation("FetchUser").ResponseExamples()[0]
	if !strings.HasPrefix(string(ex.Value), `{"sid":"USaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","account_sid":`) ||
		!strings.Contains(string(ex.Value), `"attributes":"{ \"duty\": \"tech\" }"`) {
		t.Errorf("FetchUser example = %s", ex.Value)
	}

	// Bodiless responses have no examples.
	if exs := doc.Operation("DeleteUser").ResponseExamples(); len(exs) != 0 {
		t.Errorf("DeleteUser examples: %v", exs)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"not json", `{`, "invalid JSON"},
		{"trailing", `{"openapi":"3.0.0","paths":{}} {}`, "trailing data"},
		{"duplicate key", `{"openapi":"3.0.0","openapi":"3.0.1","paths":{}}`, "duplicate key"},
		{"version", `{"openapi":"2.0","paths":{}}`, "unsupported version"},
		{"no paths", `{"openapi":"3.0.0"}`, "no paths"},
		{"dangling ref", `{"openapi":"3.0.0","paths":{"/a":{"get":{"responses":{"200":{"description":"","content":{"application/json":{"schema":{"$ref":"#/components/schemas/x"}}}}}}}}}`, "unresolved $ref"},
		{"foreign ref", `{"openapi":"3.0.0","paths":{"/a":{"get":{"responses":{"200":{"description":"","content":{"application/json":{"schema":{"$ref":"other.json#/x"}}}}}}}}}`, "unsupported $ref"},
		{"allOf", `{"openapi":"3.0.0","components":{"schemas":{"x":{"allOf":[]}}},"paths":{}}`, `"allOf" is not supported`},
		{"duplicate id", `{"openapi":"3.0.0","paths":{"/a":{"get":{"operationId":"A","responses":{}}},"/b":{"get":{"operationId":"A","responses":{}}}}}`, "already used"},
		{"wrong type", `{"openapi":"3.0.0","paths":{"/a":{"get":{"operationId":1,"responses":{}}}}}`, `paths["/a"].get.operationId: want string, got number`},
		{"non-integer bound", `{"openapi":"3.0.0","components":{"schemas":{"x":{"maximum":1.5}}},"paths":{}}`, "want an integer"},
		{"required not a property", `{"openapi":"3.0.0","components":{"schemas":{"x":{"type":"object","required":["a"]}}},"paths":{}}`, `"a" is not a property`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestRawJSONScalars(t *testing.T) {
	doc, err := Parse(strings.NewReader(`{"openapi":"3.0.0","paths":{"/a":{"get":{
		"parameters":[{"name":"Q","in":"query","schema":{"type":"string"},
		  "examples":{"s":{"value":"a<b&c"},"n":{"value":1.50},"b":{"value":true},"z":{"value":null},"o":{"value":{ "b" : 1, "a" : [ 2 ] }}}}],
		"responses":{"204":{"description":"No Content"}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range doc.Paths[0].Operations[0].Parameters[0].Examples {
		got = append(got, e.Name+"="+string(e.Value))
	}
	want := []string{`s="a<b&c"`, `n=1.50`, `b=true`, `z=null`, `o={"b":1,"a":[2]}`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("examples = %q, want %q", got, want)
	}
	if r := doc.Paths[0].Operations[0].Response(204); r == nil || r.Code != 204 || len(r.Content) != 0 {
		t.Errorf("204 response = %+v", r)
	}
}

func TestObjectMembers(t *testing.T) {
	ms, err := ObjectMembers(json.RawMessage(`{ "b": {"y": 1, "x": [true, null]}, "a": "s" }`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Member{{"b", json.RawMessage(`{"y":1,"x":[true,null]}`)}, {"a", json.RawMessage(`"s"`)}}
	if !reflect.DeepEqual(ms, want) {
		t.Errorf("members = %s, want %s", ms, want)
	}
	for _, bad := range []string{`[]`, `"x"`, `{"a":1,"a":2}`, `{"a":1} x`, `{`} {
		if _, err := ObjectMembers(json.RawMessage(bad)); err == nil {
			t.Errorf("ObjectMembers(%s): no error", bad)
		}
	}
}
