package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/parleytest"
)

// The REST half of the concurrency promises, on whichever backend the
// tests run (CI runs this package on SQLite and on PostgreSQL): two
// concurrent partial updates keep both changes, and a write racing its
// parent's delete gets Twilio's 4xx, never a 500.

// rawClient makes requests against a parleytest server and decodes JSON.
type rawClient struct {
	t   *testing.T
	srv *parleytest.Server
}

type reply struct {
	status int
	body   map[string]any
	raw    string
	header http.Header
}

// uploadMethod is do's method for a media upload: a POST of form's bytes as an
// image/png file.
const uploadMethod = "UPLOAD"

func (c rawClient) do(method, path, form string) reply {
	ctype := "application/x-www-form-urlencoded"
	if method == uploadMethod {
		method, ctype = http.MethodPost, "image/png"
	}
	return c.send(method, path, ctype, form, nil)
}

// send is do with a content type and headers of the caller's.
func (c rawClient) send(method, path, ctype, form string, header map[string]string) reply {
	var body io.Reader
	target := c.srv.URL + path
	if method == http.MethodPost {
		body = strings.NewReader(form)
	} else if form != "" {
		target += "?" + form
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		c.t.Error(err)
		return reply{}
	}
	req.Header.Set("Content-Type", ctype)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	req.SetBasicAuth(c.srv.AccountSid, c.srv.AuthToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Error(err)
		return reply{}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := reply{status: res.StatusCode, raw: string(b), header: res.Header}
	if len(b) > 0 {
		json.Unmarshal(b, &r.body)
	}
	return r
}

func (c rawClient) must(method, path, form string, status int) map[string]any {
	c.t.Helper()
	r := c.do(method, path, form)
	if r.status != status {
		c.t.Fatalf("%s %s %s: %d %s, want %d", method, path, form, r.status, r.raw, status)
	}
	return r.body
}

// together runs the requests at once and returns their replies in order.
func (c rawClient) together(reqs ...[3]string) []reply {
	out := make([]reply, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() { out[i] = c.do(r[0], r[1], r[2]) })
	}
	wg.Wait()
	return out
}

// roleOf returns the SID of the named role of service svc.
func (c rawClient) roleOf(svc, name string) string {
	c.t.Helper()
	for _, r := range c.must("GET", "/v1/Services/"+svc+"/Roles", "", 200)["roles"].([]any) {
		if r := r.(map[string]any); r["friendly_name"] == name {
			return r["sid"].(string)
		}
	}
	c.t.Fatalf("no role %q in %s", name, svc)
	return ""
}

const rounds = 20

func TestConcurrentPartialUpdates(t *testing.T) {
	t.Parallel()
	c := rawClient{t: t, srv: parleytest.New(t)}
	is := c.srv.DefaultServiceSid
	admin := c.roleOf(is, "service admin")
	channelAdmin := c.roleOf(is, "channel admin")
	for i := range rounds {
		id := fmt.Sprint("u", i)
		c.must("POST", "/v1/Users", "Identity="+id, 201)
		for _, r := range c.together(
			[3]string{"POST", "/v1/Users/" + id, "FriendlyName=Named"},
			[3]string{"POST", "/v1/Users/" + id, "Attributes=%7B%22a%22%3A1%7D"},
			[3]string{"POST", "/v1/Users/" + id, "RoleSid=" + admin},
		) {
			if r.status != 200 {
				t.Fatalf("round %d: %d %s", i, r.status, r.raw)
			}
		}
		u := c.must("GET", "/v1/Users/"+id, "", 200)
		if u["friendly_name"] != "Named" || u["attributes"] != `{"a":1}` || u["role_sid"] != admin {
			t.Fatalf("round %d: a concurrent change was lost: %v", i, u)
		}

		// The service configuration and its webhooks share a row.
		cfgPath := "/v1/Services/" + is + "/Configuration"
		c.must("POST", cfgPath, "ReachabilityEnabled=false&DefaultConversationCreatorRoleSid="+channelAdmin, 200)
		c.must("POST", cfgPath+"/Webhooks", "PostWebhookUrl=&Method=POST", 200)
		c.together(
			[3]string{"POST", cfgPath, "ReachabilityEnabled=true"},
			[3]string{"POST", cfgPath, "DefaultConversationCreatorRoleSid=" + c.roleOf(is, "channel user")},
			[3]string{"POST", cfgPath + "/Webhooks", "PostWebhookUrl=https%3A%2F%2Fa.test%2Fpost"},
			[3]string{"POST", cfgPath + "/Webhooks", "Method=GET"},
		)
		cfg := c.must("GET", cfgPath, "", 200)
		hooks := c.must("GET", cfgPath+"/Webhooks", "", 200)
		if cfg["reachability_enabled"] != true || cfg["default_conversation_creator_role_sid"] == channelAdmin ||
			hooks["post_webhook_url"] != "https://a.test/post" || hooks["method"] != "GET" {
			t.Fatalf("round %d: a concurrent service configuration change was lost: %v %v", i, cfg, hooks)
		}

		// A credential's name and sandbox flag.
		cred := c.must("POST", "/v1/Credentials", "Type=apn&FriendlyName=a&Sandbox=false&Certificate="+
			url.QueryEscape("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----")+"&PrivateKey="+
			url.QueryEscape("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"), 201)["sid"].(string)
		c.together(
			[3]string{"POST", "/v1/Credentials/" + cred, "FriendlyName=b"},
			[3]string{"POST", "/v1/Credentials/" + cred, "Sandbox=true"},
		)
		if got := c.must("GET", "/v1/Credentials/"+cred, "", 200); got["friendly_name"] != "b" || got["sandbox"] != "True" {
			t.Fatalf("round %d: a concurrent credential change was lost: %v", i, got)
		}

		// /v1/Configuration and /v1/Configuration/Webhooks share a row too: a timer
		// change must not erase a webhook URL change.
		c.must("POST", "/v1/Configuration", "DefaultInactiveTimer=&DefaultClosedTimer=", 200)
		c.must("POST", "/v1/Configuration/Webhooks", "PostWebhookUrl=&Target=webhook", 200)
		c.together(
			[3]string{"POST", "/v1/Configuration", "DefaultInactiveTimer=PT5M"},
			[3]string{"POST", "/v1/Configuration", "DefaultClosedTimer=PT1H"},
			[3]string{"POST", "/v1/Configuration/Webhooks", "PostWebhookUrl=https%3A%2F%2Fa.test%2Faccount"},
			[3]string{"POST", "/v1/Configuration/Webhooks", "Target=flex"},
		)
		acct := c.must("GET", "/v1/Configuration", "", 200)
		acctHooks := c.must("GET", "/v1/Configuration/Webhooks", "", 200)
		if acct["default_inactive_timer"] != "PT5M" || acct["default_closed_timer"] != "PT1H" ||
			acctHooks["post_webhook_url"] != "https://a.test/account" || acctHooks["target"] != "flex" {
			t.Fatalf("round %d: a concurrent account configuration change was lost: %v %v", i, acct, acctHooks)
		}
	}
}

// wantOneOf fails unless r has one of the statuses, with Twilio's error
// body and one of the codes where it is an error.
func wantOneOf(t *testing.T, what string, r reply, statuses []int, codes ...int) {
	t.Helper()
	if !slices.Contains(statuses, r.status) {
		t.Fatalf("%s: %d %s, want one of %v", what, r.status, r.raw, statuses)
	}
	if r.status < 400 {
		return
	}
	code, _ := r.body["code"].(float64)
	status, _ := r.body["status"].(float64)
	if !slices.Contains(codes, int(code)) || int(status) != r.status {
		t.Fatalf("%s: error body %s, want one of codes %v", what, r.raw, codes)
	}
}

func TestWritesRacingParentDelete(t *testing.T) {
	t.Parallel()
	c := rawClient{t: t, srv: parleytest.New(t)}
	is := c.srv.DefaultServiceSid
	user := c.roleOf(is, "service user")
	c.must("POST", "/v1/Users", "Identity=holder", 201)
	for i := range rounds {
		// Writes in a service being deleted: success, or 404 once it is gone.
		svc := c.must("POST", "/v1/Services", "FriendlyName=doomed", 201)["sid"].(string)
		role := c.roleOf(svc, "service admin")
		p := "/v1/Services/" + svc
		replies := c.together(
			[3]string{"POST", p + "/Users", fmt.Sprint("Identity=late", i)},
			[3]string{"POST", p + "/Users", fmt.Sprintf("Identity=late-role%d&RoleSid=%s", i, role)},
			[3]string{"POST", p + "/Roles", "FriendlyName=late&Type=service&Permission=joinConversation"},
			[3]string{"POST", p + "/Roles/" + role, "Permission=joinConversation"},
			[3]string{"POST", p + "/Configuration", "ReachabilityEnabled=true&DefaultChatServiceRoleSid=" + role},
			[3]string{"POST", p + "/Configuration/Webhooks", "PostWebhookUrl=https%3A%2F%2Fa.test%2Flate"},
			[3]string{"POST", "/v1/Configuration", "DefaultChatServiceSid=" + svc},
			[3]string{"DELETE", p, ""},
		)
		what := []string{"create user", "create user with role", "create role", "update role",
			"update configuration", "update webhooks", "make default"}
		for j, r := range replies[:len(replies)-2] {
			// A role deleted with its service reads as "Role not found".
			wantOneOf(t, fmt.Sprintf("round %d: %s", i, what[j]), r, []int{200, 201, 400, 404}, 20404, 50100)
			if r.status == 400 && j != 1 && j != 4 {
				t.Fatalf("round %d: %s: %d %s", i, what[j], r.status, r.raw)
			}
		}
		// Making it the default either loses (400: gone) or wins, and then
		// the delete is refused (409) until the default moves back.
		wantOneOf(t, fmt.Sprintf("round %d: make default", i), replies[6], []int{200, 400}, 20001)
		wantOneOf(t, fmt.Sprintf("round %d: delete service", i), replies[7], []int{204, 409}, 20001)
		if replies[6].status == 200 {
			c.must("POST", "/v1/Configuration", "DefaultChatServiceSid="+is, 200)
			if replies[7].status == 409 {
				c.must("DELETE", p, "", 204)
			}
		}

		// A role being deleted while users take it: each user gets it
		// (and the delete is refused, 409) or is told it is gone (400 50100).
		custom := c.must("POST", "/v1/Roles", "FriendlyName=custom&Type=service&Permission=joinConversation", 201)["sid"].(string)
		replies = c.together(
			[3]string{"POST", "/v1/Users", fmt.Sprintf("Identity=r%d&RoleSid=%s", i, custom)},
			[3]string{"POST", "/v1/Users/holder", "RoleSid=" + custom},
			[3]string{"POST", "/v1/Services/" + is + "/Configuration", "DefaultChatServiceRoleSid=" + custom},
			[3]string{"DELETE", "/v1/Roles/" + custom, ""},
		)
		for j, r := range replies[:3] {
			wantOneOf(t, fmt.Sprintf("round %d: write %d with a role being deleted", i, j), r, []int{200, 201, 400}, 50100)
		}
		wantOneOf(t, fmt.Sprintf("round %d: delete role", i), replies[3], []int{204, 409}, 20001)
		// Put everything back for the next round.
		c.must("POST", "/v1/Services/"+is+"/Configuration", "DefaultChatServiceRoleSid="+user, 200)
		c.must("POST", "/v1/Users/holder", "RoleSid="+user, 200)
		if replies[0].status == 201 {
			c.must("DELETE", fmt.Sprintf("/v1/Users/r%d", i), "", 204)
		}
		if replies[3].status == 409 {
			c.must("DELETE", "/v1/Roles/"+custom, "", 204)
		}
	}
}
