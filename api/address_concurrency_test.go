package api_test

import (
	"fmt"
	"testing"

	"github.com/parleyhq/parley/parleytest"
)

// TestConcurrentAddressAndBindingWrites: partial updates of an address
// configuration and of a service's push settings keep every change; a
// contested address goes to one writer (409 20001 for the others); one
// device registering at once from several requests is one binding; and
// registrations racing their user's delete succeed or get 404, never a
// 500, leaving no binding behind.
func TestConcurrentAddressAndBindingWrites(t *testing.T) {
	t.Parallel()
	c := rawClient{t: t, srv: parleytest.New(t)}
	is := c.srv.DefaultServiceSid
	for i := range rounds {
		addr := fmt.Sprintf("%%2B1555200%04d", i)
		ig := c.must("POST", "/v1/Configuration/Addresses", "Type=sms&Address="+addr, 201)["sid"].(string)
		path := "/v1/Configuration/Addresses/" + ig
		for _, r := range c.together(
			[3]string{"POST", path, "FriendlyName=Named"},
			[3]string{"POST", path, "AutoCreation.Enabled=true"},
			[3]string{"POST", path, "AutoCreation.ConversationServiceSid=" + is},
			[3]string{"POST", "/v1/Services/" + is + "/Configuration/Notifications", "LogEnabled=true"},
			[3]string{"POST", "/v1/Services/" + is + "/Configuration/Notifications", fmt.Sprint("NewMessage.Sound=s", i)},
		) {
			if r.status != 200 {
				t.Fatalf("round %d: %d %s", i, r.status, r.raw)
			}
		}
		got := c.must("GET", path, "", 200)
		auto := got["auto_creation"].(map[string]any)
		if got["friendly_name"] != "Named" || auto["enabled"] != true || auto["type"] != "default" {
			t.Fatalf("round %d: a concurrent address configuration change was lost: %v", i, got)
		}
		// (conversation_service_sid shows for webhook and studio types.)
		c.must("POST", path, "AutoCreation.Type=webhook&AutoCreation.WebhookUrl=https%3A%2F%2Fa.test%2F", 200)
		if got := c.must("GET", path, "", 200)["auto_creation"].(map[string]any); got["conversation_service_sid"] != is {
			t.Fatalf("round %d: the service set concurrently was lost: %v", i, got)
		}
		n := c.must("GET", "/v1/Services/"+is+"/Configuration/Notifications", "", 200)
		if n["log_enabled"] != true || n["new_message"].(map[string]any)["sound"] != fmt.Sprint("s", i) {
			t.Fatalf("round %d: a concurrent push setting change was lost: %v", i, n)
		}

		var reqs [][3]string
		for range 6 {
			reqs = append(reqs, [3]string{"POST", "/v1/Configuration/Addresses", fmt.Sprintf("Type=whatsapp&Address=contested-%d", i)})
		}
		created := 0
		for _, r := range c.together(reqs...) {
			switch {
			case r.status == 201:
				created++
			case r.status == 409 && r.body["code"] == 20001.0:
			default:
				t.Fatalf("round %d: contested address: %d %s", i, r.status, r.raw)
			}
		}
		if created != 1 {
			t.Fatalf("round %d: contested address: %d creates succeeded, want 1", i, created)
		}

		// One device, registered six times at once for two users: one
		// binding.
		for _, id := range []string{"a", "b"} {
			c.must("POST", "/v1/Users", fmt.Sprint("Identity=", id, i), 201)
		}
		reqs = nil
		for j := range 6 {
			reqs = append(reqs, [3]string{"POST", "/parley/v1/Services/" + is + "/Bindings",
				fmt.Sprintf("Identity=%s%d&BindingType=twilsock&Address=device-%d", []string{"a", "b"}[j%2], i, i)})
		}
		sids := map[any]bool{}
		for _, r := range c.together(reqs...) {
			if r.status != 201 {
				t.Fatalf("round %d: registration: %d %s", i, r.status, r.raw)
			}
			sids[r.body["sid"]] = true
		}
		list := c.must("GET", "/v1/Services/"+is+"/Bindings", fmt.Sprint("Identity=a", i, "&Identity=b", i), 200)["bindings"].([]any)
		if len(sids) != 1 || len(list) != 1 {
			t.Fatalf("round %d: one device registered at once made %d SIDs and %d bindings", i, len(sids), len(list))
		}

		// Registrations racing the user's delete.
		victim := fmt.Sprint("victim", i)
		c.must("POST", "/v1/Users", "Identity="+victim, 201)
		c.must("POST", "/parley/v1/Services/"+is+"/Bindings", "Identity="+victim+"&BindingType=twilsock&Address=old-"+victim, 201)
		replies := c.together(
			[3]string{"POST", "/parley/v1/Services/" + is + "/Bindings", "Identity=" + victim + "&BindingType=twilsock&Address=new-" + victim},
			[3]string{"POST", "/parley/v1/Services/" + is + "/Bindings", "Identity=" + victim + "&BindingType=twilsock&Address=old-" + victim},
			[3]string{"DELETE", "/v1/Users/" + victim, ""},
		)
		for j, r := range replies[:2] {
			wantOneOf(t, fmt.Sprintf("round %d: registration %d racing its user's delete", i, j), r, []int{201, 404}, 20404)
		}
		wantOneOf(t, "user delete", replies[2], []int{204})
		left := c.must("GET", "/v1/Services/"+is+"/Bindings", "Identity="+victim, 200)["bindings"].([]any)
		if len(left) != 0 {
			t.Fatalf("round %d: %d bindings outlived their user", i, len(left))
		}
	}
}

// TestConcurrentInboundMessages: first messages of one pair arriving at
// once make one conversation, with every message in it, indexes unique.
func TestConcurrentInboundMessages(t *testing.T) {
	t.Parallel()
	c := rawClient{t: t, srv: parleytest.New(t)}
	c.must("POST", "/v1/Configuration/Addresses", "Type=sms&Address=%2B15559870001&AutoCreation.Enabled=true", 201)
	for i := range rounds {
		from := fmt.Sprintf("%%2B1555300%04d", i)
		var reqs [][3]string
		for j := range 5 {
			reqs = append(reqs, [3]string{"POST", "/parley/v1/Inbound", fmt.Sprintf("From=%s&To=%%2B15559870001&Body=m%d", from, j)})
		}
		convs, created := map[any]bool{}, 0
		for _, r := range c.together(reqs...) {
			if r.status != 201 {
				t.Fatalf("round %d: %d %s", i, r.status, r.raw)
			}
			convs[r.body["conversation_sid"]] = true
			if r.body["conversation_created"] == true {
				created++
			}
		}
		if len(convs) != 1 || created != 1 {
			t.Fatalf("round %d: first messages of one pair made %d conversations (%d said created), want 1", i, len(convs), created)
		}
		for conv := range convs {
			msgs := c.must("GET", fmt.Sprint("/v1/Conversations/", conv, "/Messages"), "", 200)["messages"].([]any)
			seen := map[float64]bool{}
			for _, m := range msgs {
				seen[m.(map[string]any)["index"].(float64)] = true
			}
			if len(msgs) != 5 || len(seen) != 5 {
				t.Fatalf("round %d: %d messages with %d distinct indexes, want 5", i, len(msgs), len(seen))
			}
		}
	}
}

// TestWritesRacingServiceDelete: writes that refer to a service (an
// address configuration creating conversations there, its push settings,
// a device registration, an inbound message auto-creating a
// conversation there) racing the service's delete succeed or get
// Twilio's 4xx, never a 500, and leave nothing behind in the service.
func TestWritesRacingServiceDelete(t *testing.T) {
	t.Parallel()
	c := rawClient{t: t, srv: parleytest.New(t)}
	for i := range rounds {
		svc := c.must("POST", "/v1/Services", "FriendlyName=doomed", 201)["sid"].(string)
		c.must("POST", "/v1/Services/"+svc+"/Users", "Identity=u", 201)
		to := fmt.Sprintf("%%2B1555400%04d", i)
		c.must("POST", "/v1/Configuration/Addresses", "Type=sms&Address="+to+"&AutoCreation.Enabled=true&AutoCreation.ConversationServiceSid="+svc, 201)
		replies := c.together(
			[3]string{"POST", "/v1/Configuration/Addresses", fmt.Sprintf("Type=sms&Address=%%2B1555500%04d&AutoCreation.ConversationServiceSid=%s", i, svc)},
			[3]string{"POST", "/v1/Services/" + svc + "/Configuration/Notifications", "LogEnabled=true"},
			[3]string{"POST", "/parley/v1/Services/" + svc + "/Bindings", "Identity=u&BindingType=twilsock&Address=device"},
			[3]string{"POST", "/parley/v1/Inbound", "From=%2B15551230001&To=" + to + "&Body=hi"},
			[3]string{"DELETE", "/v1/Services/" + svc, ""},
		)
		wantOneOf(t, fmt.Sprintf("round %d: address configuration", i), replies[0], []int{201, 400}, 20001)
		wantOneOf(t, fmt.Sprintf("round %d: push settings", i), replies[1], []int{200, 404}, 20404)
		wantOneOf(t, fmt.Sprintf("round %d: registration", i), replies[2], []int{201, 404}, 20404)
		wantOneOf(t, fmt.Sprintf("round %d: inbound", i), replies[3], []int{201, 404}, 20404)
		wantOneOf(t, fmt.Sprintf("round %d: delete", i), replies[4], []int{204})
		c.must("GET", "/v1/Services/"+svc+"/Bindings", "", 404)
		c.must("GET", "/v1/Services/"+svc+"/Conversations", "", 404)
	}
}
