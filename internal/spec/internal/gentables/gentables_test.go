package gentables

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/spec/openapi"
)

// The happy path (the committed tables are what Generate yields) is tested
// in package spec. These tests break the spec on purpose and check that
// generation refuses it instead of emitting a wrong table.

func specText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../twilio_conversations_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func generate(t *testing.T, text string) ([]byte, error) {
	t.Helper()
	doc, err := openapi.Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return Generate(doc)
}

// replaceOnce replaces the first occurrence of old, failing if there is none.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("spec does not contain %q", old)
	}
	return strings.Replace(s, old, new, 1)
}

const (
	userURL  = `"url": "https://conversations.twilio.com/v1/Users/USaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`
	userLink = `"user_conversations": "https://conversations.twilio.com/v1/Users/USaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Conversations"`
)

func TestGenerateRefuses(t *testing.T) {
	text := specText(t)
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{
			"url disagreeing with the template",
			userURL, `"url": "https://conversations.twilio.com/v1/Users/USbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"`,
			"CreateUser/create",
		},
		{
			"link disagreeing with the template",
			userLink, `"user_conversations": "https://conversations.twilio.com/v1/Users/elsewhere/Conversations"`,
			"links.user_conversations",
		},
		{
			"link missing from an example",
			userLink, `"user_talks": "https://conversations.twilio.com/v1/Users/USaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Conversations"`,
			"links",
		},
		{
			"path parameter naming no property",
			`"/v1/Credentials/{Sid}": {`, `"/v1/Credentials/{CredentialSid}": {`,
			`names property "credential_sid"`,
		},
		{
			"unsupported parameter type",
			`"schema": {
              "type": "integer",
              "format": "int64",
              "minimum": 1,
              "maximum": 50
            }`, `"schema": {"type": "number"}`,
			`type "number" is not supported`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := generate(t, replaceOnce(t, text, tc.old, tc.new))
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// An inconsistent example can be excused in exampleExceptions, and an
// excuse that is no longer needed is itself an error.
func TestExampleExceptions(t *testing.T) {
	text := specText(t)
	saved := exampleExceptions
	t.Cleanup(func() { exampleExceptions = saved })
	exampleExceptions = map[string]string{"CreateUser/create": "test"}

	if _, err := generate(t, text); err == nil || !strings.Contains(err.Error(), "not needed any more") {
		t.Errorf("stale exception: err = %v", err)
	}
	broken := replaceOnce(t, text, userURL, `"url": "https://conversations.twilio.com/v1/Users/nobody"`)
	if _, err := generate(t, broken); err != nil {
		t.Errorf("excused example: %v", err)
	}
}

func TestGenerateHeader(t *testing.T) {
	src, err := generate(t, specText(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(src, []byte(Header+"\n\npackage spec\n")) {
		t.Errorf("output starts %q", src[:80])
	}
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"Sid": "sid", "ChatServiceSid": "chat_service_sid", "ConversationSid": "conversation_sid",
		"MessageSid": "message_sid", "UserSid": "user_sid",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
