package core_test

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/core"
)

// TestFixtureSchema: docs/fixtures.schema.json names exactly the fields
// the fixture types read and write, so that the published format and the
// code cannot drift apart.
func TestFixtureSchema(t *testing.T) {
	b, err := os.ReadFile("../docs/fixtures.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	type object struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	var schema struct {
		object
		Defs map[string]object `json:"$defs"`
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	nested := func(o object, key string) object {
		var n object
		if err := json.Unmarshal(o.Properties[key], &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct {
		name string
		typ  reflect.Type
		obj  object
	}{
		{"root", reflect.TypeFor[core.Fixture](), schema.object},
		{"configuration", reflect.TypeFor[core.FixtureConfiguration](), nested(schema.object, "configuration")},
		{"webhooks", reflect.TypeFor[core.FixtureWebhooks](), schema.Defs["webhooks"]},
		{"notifications", reflect.TypeFor[core.FixtureNotifications](), nested(schema.Defs["service"], "notifications")},
		{"template", reflect.TypeFor[core.FixtureTemplate](), schema.Defs["template"]},
		{"conversation_webhook", reflect.TypeFor[core.FixtureConversationWebhook](), schema.Defs["conversation_webhook"]},
		{"service", reflect.TypeFor[core.FixtureService](), schema.Defs["service"]},
		{"role", reflect.TypeFor[core.FixtureRole](), schema.Defs["role"]},
		{"user", reflect.TypeFor[core.FixtureUser](), schema.Defs["user"]},
		{"conversation", reflect.TypeFor[core.FixtureConversation](), schema.Defs["conversation"]},
		{"timers", reflect.TypeFor[core.FixtureTimers](), nested(schema.Defs["conversation"], "timers")},
		{"participant", reflect.TypeFor[core.FixtureParticipant](), schema.Defs["participant"]},
		{"messaging_binding", reflect.TypeFor[core.FixtureBinding](), nested(schema.Defs["participant"], "messaging_binding")},
		{"message", reflect.TypeFor[core.FixtureMessage](), schema.Defs["message"]},
	} {
		var fields, props []string
		for f := range tc.typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			fields = append(fields, name)
		}
		for p := range tc.obj.Properties {
			props = append(props, p)
		}
		slices.Sort(fields)
		slices.Sort(props)
		if !slices.Equal(fields, props) {
			t.Errorf("%s: the type has %v, the schema %v", tc.name, fields, props)
		}
	}
}
