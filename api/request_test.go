package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/spec"
)

// accessorOp has a parameter of every type the spec uses.
var accessorOp = &spec.Operation{ID: "TestAccessors", Method: "POST", Path: "/t", Params: []spec.Param{
	{Name: "Name", In: spec.InForm, Type: spec.TypeString},
	{Name: "On", In: spec.InForm, Type: spec.TypeBoolean},
	{Name: "Count", In: spec.InForm, Type: spec.TypeInteger, HasMin: true, Min: 1, HasMax: true, Max: 5},
	{Name: "Order", In: spec.InForm, Type: spec.TypeEnum, Enum: []string{"asc", "desc"}},
	{Name: "DateCreated", In: spec.InForm, Type: spec.TypeDateTime},
	{Name: "Timers.Inactive", In: spec.InForm, Type: spec.TypeString},
	{Name: "ContentVariables", In: spec.InForm, Type: spec.TypeString},
	{Name: "Permission", In: spec.InForm, Type: spec.TypeStringArray},
	{Name: "BindingType", In: spec.InForm, Type: spec.TypeEnumArray, Enum: []string{"apn", "gcm", "fcm"}},
	{Name: "X-Twilio-Webhook-Enabled", In: spec.InHeader, Type: spec.TypeEnum, Enum: []string{"true", "false"}},
}}

type decoded struct {
	Name, Order, Inactive, Vars *string
	On                          *bool
	Count                       *int64
	Date                        *time.Time
	Perms, Bindings             []string
	Webhooks                    bool
}

func decodeAll(t *testing.T, body string, header map[string]string) (decoded, error) {
	t.Helper()
	s := &Server{maxBody: DefaultMaxBody}
	r := httptest.NewRequest(http.MethodPost, "/t", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	q, err := s.newReq(r, accessorOp)
	if err != nil {
		return decoded{}, err
	}
	d := decoded{Name: q.str("Name"), On: q.boolean("On"), Count: q.integer("Count"), Order: q.enum("Order"),
		Date: q.dateTime("DateCreated"), Inactive: q.duration("Timers.Inactive"), Vars: q.jsonText("ContentVariables"),
		Perms: q.list("Permission"), Bindings: q.list("BindingType"), Webhooks: q.webhooks().Webhooks}
	return d, q.err
}

func ptr[T any](v T) *T { return &v }

func TestAccessors(t *testing.T) {
	got, err := decodeAll(t, "Name=a+b&On=TRUE&Count=5&Order=DeSc&DateCreated=2019-12-16T23%3A18%3A37.5%2B01%3A00"+
		"&Timers.Inactive=PT1M&ContentVariables=%7B%221%22%3A%22x%22%7D&Permission=b&Permission=a&Permission=b"+
		"&BindingType=GCM&BindingType=apn", map[string]string{"X-Twilio-Webhook-Enabled": "True"})
	if err != nil {
		t.Fatal(err)
	}
	want := decoded{Name: ptr("a b"), On: ptr(true), Count: ptr(int64(5)), Order: ptr("desc"),
		Date: ptr(time.Date(2019, 12, 16, 22, 18, 37, 5e8, time.UTC)), Inactive: ptr("PT1M"), Vars: ptr(`{"1":"x"}`),
		Perms: []string{"b", "a", "b"}, Bindings: []string{"gcm", "apn"}, Webhooks: true}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("decoded (-want +got):\n%s", d)
	}

	empty, err := decodeAll(t, "", nil)
	if err != nil || cmp.Diff(decoded{}, empty) != "" {
		t.Fatalf("nothing sent: %+v, %v", empty, err)
	}

	// Each wrong value is Twilio's 400 20001, naming the parameter; the
	// first wrong one is the error.
	for _, tc := range []struct{ body, message string }{
		{"On=yes", "Invalid On: must be true or false"},
		{"Count=0", "Invalid Count: must be an integer from 1 to 5"},
		{"Count=6", "Invalid Count: must be an integer from 1 to 5"},
		{"Count=1.5", "Invalid Count: must be an integer from 1 to 5"},
		{"Order=sideways", "Invalid Order: must be one of asc, desc"},
		{"DateCreated=2019-12-16", `Invalid DateCreated: "2019-12-16" is not an ISO 8601 date-time such as 2019-12-16T22:18:37Z`},
		{"Timers.Inactive=10+minutes", `Invalid Timers.Inactive: "10 minutes" is not an ISO 8601 duration such as PT10M`},
		{"ContentVariables=%7Bnope", "Invalid ContentVariables: not valid JSON"},
		{"BindingType=apn&BindingType=sms", `Invalid BindingType: "sms" is not one of apn, gcm, fcm`},
		{"Name=a&Name=b", "Parameter Name was given more than once"},
		{"On=maybe&Count=9", "Invalid On: must be true or false"},
	} {
		_, err := decodeAll(t, tc.body, nil)
		e := parley.AsError(err)
		if e.Kind != parley.KindInvalid || e.Code != 20001 || e.Message != tc.message {
			t.Errorf("%s: %v, want 400 20001 %q", tc.body, err, tc.message)
		}
	}
	// An empty duration clears a timer, so it passes.
	if got, err := decodeAll(t, "Timers.Inactive=", nil); err != nil || got.Inactive == nil || *got.Inactive != "" {
		t.Fatalf("empty duration: %+v, %v", got, err)
	}
	// Anything but "true" leaves webhooks off.
	if got, _ := decodeAll(t, "", map[string]string{"X-Twilio-Webhook-Enabled": "yes"}); got.Webhooks {
		t.Fatal("X-Twilio-Webhook-Enabled: yes turned webhooks on")
	}
}

// TestAccessorOutsideTheSpec: reading a parameter the operation does not
// list, or as another type, is a programming error caught at once.
func TestAccessorOutsideTheSpec(t *testing.T) {
	s := &Server{maxBody: DefaultMaxBody}
	q, err := s.newReq(httptest.NewRequest(http.MethodPost, "/t", nil), accessorOp)
	if err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func(){
		"unlisted":      func() { q.str("Identity") },
		"wrong type":    func() { q.boolean("Name") },
		"scalar a list": func() { q.str("Permission") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			read()
		}()
	}
}
