package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/spec"
	"github.com/parleyhq/parley/parleytest"
)

// FuzzRequests throws arbitrary methods, paths, bodies and content types at
// a real server, on the backend PARLEY_TEST_BACKEND names (.ci/run fuzzes
// SQLite and PostgreSQL for a bounded time), and checks the promise every
// request gets: never a 5xx, and every error a Twilio-shaped JSON body
// whose status matches the HTTP one. `go test` runs the seeds;
// `go test -fuzz FuzzRequests ./api` explores.
//
// The seeds are every operation of the spec, with {IS} and {RL} standing
// for the default service and one of its roles (replaced at run time, so
// mutations that keep them reach real resources) and the other path
// segments naming users, identities, a conversation (by unique name), its
// participants, a message and a webhook that exist.
func FuzzRequests(f *testing.F) {
	srv := parleytest.New(f)
	call := func(method, path, ctype, body string) (*http.Response, []byte, error) {
		return fuzzCall(srv, method, path, ctype, body)
	}
	const form = "application/x-www-form-urlencoded"
	if res, b, err := call("POST", "/v1/Users", form, "Identity=alice&FriendlyName=Alice"); err != nil || res.StatusCode != 201 {
		f.Fatalf("setup: %v %s", err, b)
	}
	// A conversation named alice with alice in it, an SMS participant, a
	// message and a webhook, so that every conversation, participant,
	// message, webhook and membership path below reaches a row: {MB},
	// {IM} and {WH} stand for the SMS participant, the message and the
	// webhook.
	sids := map[string]string{}
	for _, setup := range []struct{ path, form, placeholder string }{
		{"/v1/Conversations", "UniqueName=alice&Timers.Inactive=PT1M", ""},
		{"/v1/Conversations/alice/Participants", "Identity=alice", ""},
		{"/v1/Conversations/alice/Participants", "MessagingBinding.Address=%2B15551230001&MessagingBinding.ProxyAddress=%2B15559870001", "{MB}"},
		{"/v1/Conversations/alice/Messages", "Author=alice&Body=hello", "{IM}"},
		{"/v1/Conversations/alice/Webhooks", "Target=webhook&Configuration.Url=https%3A%2F%2Fbot.test%2F&Configuration.Filters=onMessageAdded", "{WH}"},
	} {
		res, b, err := call("POST", setup.path, form, setup.form)
		if err != nil || res.StatusCode != 201 {
			f.Fatalf("setup %s: %v %s", setup.path, err, b)
		}
		var made struct{ Sid string }
		json.Unmarshal(b, &made)
		sids[setup.placeholder] = made.Sid
	}
	// Uploaded media, {ME}, free for a message to carry.
	res, b, err := call("POST", "/v1/Services/"+srv.DefaultServiceSid+"/Media?Filename=a.png", "image/png", "\x89PNG")
	if err != nil || res.StatusCode != 201 {
		f.Fatalf("setup media: %v %s", err, b)
	}
	var media struct{ Sid string }
	json.Unmarshal(b, &media)
	sids["{ME}"] = media.Sid
	// An address configuration keyed "alice" (so that the spec seeds'
	// /Addresses/alice reach it), taking inbound messages; a binding,
	// {BS}, of alice's device.
	if res, b, err := call("POST", "/v1/Configuration/Addresses", form, "Type=sms&Address=alice&AutoCreation.Enabled=true"); err != nil || res.StatusCode != 201 {
		f.Fatalf("setup address: %v %s", err, b)
	}
	res, b, err = call("POST", "/parley/v1/Services/"+srv.DefaultServiceSid+"/Bindings", form, "Identity=alice&BindingType=twilsock&Address=tab")
	if err != nil || res.StatusCode != 201 {
		f.Fatalf("setup binding: %v %s", err, b)
	}
	var binding struct{ Sid string }
	json.Unmarshal(b, &binding)
	sids["{BS}"] = binding.Sid
	_, b, err = call("POST", "/v1/Roles", form, "FriendlyName=r&Type=service&Permission=joinConversation")
	if err != nil {
		f.Fatal(err)
	}
	var role struct{ Sid string }
	json.Unmarshal(b, &role)

	placeholder := regexp.MustCompile(`\{[A-Za-z]+\}`)
	for _, op := range spec.Operations {
		path := placeholder.ReplaceAllStringFunc(op.Path, func(m string) string {
			switch m {
			case "{ChatServiceSid}":
				return "{IS}"
			case "{UserSid}":
				return "alice"
			case "{MessageSid}":
				return "{IM}"
			}
			if strings.HasSuffix(op.Path, "/Messages/{Sid}") {
				return "{IM}"
			}
			if strings.HasSuffix(op.Path, "/Webhooks/{Sid}") {
				return "{WH}"
			}
			if strings.HasSuffix(op.Path, "/Bindings/{Sid}") {
				return "{BS}"
			}
			if strings.HasPrefix(op.Path, "/v1/Roles") || strings.Contains(op.Path, "/Roles/") {
				return "{RL}"
			}
			return "alice"
		})
		var body []string
		for _, p := range op.Params {
			switch p.Type {
			case spec.TypeBoolean:
				body = append(body, p.Name+"=true")
			case spec.TypeInteger:
				body = append(body, p.Name+"=1")
			case spec.TypeEnum, spec.TypeEnumArray:
				if len(p.Enum) > 0 {
					body = append(body, p.Name+"="+p.Enum[0])
				}
			case spec.TypeDateTime:
				body = append(body, p.Name+"=2019-12-16T22:18:37Z")
			default:
				if p.In != spec.InPath {
					body = append(body, p.Name+"=x")
				}
			}
		}
		q := strings.Join(body, "&")
		if op.Method == "POST" {
			f.Add(op.Method, path, form, q)
		} else {
			f.Add(op.Method, path+"?"+q, "", "")
		}
	}
	for _, seed := range []struct{ method, path, ctype, body string }{
		{"POST", "/v1/Users/alice", form, "FriendlyName=%FF&RoleSid=RL"},
		{"GET", "/v1/Users?PageSize=0&PageToken=PTxx", "", ""},
		{"POST", "/v1/Services/IS00000000000000000000000000000000/Configuration", "text/plain", "ReachabilityEnabled=maybe"},
		{"POST", "/v1/Configuration/Webhooks", form, "PostWebhookUrl=http://%zz"},
		{"POST", "/v1/Configuration", form, "DefaultInactiveTimer=PT99999999999999999999S&DefaultClosedTimer=P1Y"},
		{"PATCH", "/v1/%2e%2e/Users", "application/json", `{"Identity":1}`},
		{"GET", "/v1/Users/a%00b", "", ""},
		{"POST", "/v1/ConversationWithParticipants", form, "Timers.Closed"}, // an empty timer once panicked the duration parser
		{"DELETE", "/v1/Services/{IS}", "", ""},
		{"GET", "/parley/v1/WebhookDeliveries?PageSize=100&Page=2147483647", "", ""},
		// parley's receipt injection control, in both scopes.
		{"POST", "/parley/v1/Conversations/alice/Messages/{IM}/Receipts", form, "ParticipantSid={MB}&Status=read"},
		{"POST", "/parley/v1/Services/{IS}/Conversations/alice/Messages/{IM}/Receipts", form, "ParticipantSid={MB}&Status=failed&ErrorCode=30008"},
		// The Media Content Service: raw and multipart uploads, the record,
		// the content, a message carrying media.
		{"POST", "/v1/Services/{IS}/Media?Filename=x.txt&Category=media", "text/plain", "hello"},
		{"POST", "/v1/Services/{IS}/Media", "multipart/form-data; boundary=b",
			"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.bin\"\r\nContent-Type: application/octet-stream\r\n\r\nxyz\r\n--b--\r\n"},
		{"GET", "/v1/Services/{IS}/Media/{ME}", "", ""},
		{"GET", "/v1/Services/{IS}/Media/{ME}/Content", "", ""},
		{"POST", "/v1/Conversations/alice/Messages", form, "MediaSid={ME}&Body=look"},
		// parley's binding registration and inbound messages.
		{"POST", "/parley/v1/Services/{IS}/Bindings", form, "Identity=alice&BindingType=apn&Address=t&CredentialSid=CR0"},
		{"POST", "/parley/v1/Inbound", form, "From=%2B15551230009&To=alice&Body=hi"},
		{"POST", "/parley/v1/Inbound", form, "From=%2B15551230001&To=%2B15559870001&Body=hi"},
		{"POST", "/parley/v1/Inbound", form, "From=whatsapp%3A%2B15551230009&To=whatsapp%3Aalice&MediaUrl=http%3A%2F%2F127.0.0.1%3A1%2Fx"},
	} {
		f.Add(seed.method, seed.path, seed.ctype, seed.body)
	}
	f.Fuzz(func(t *testing.T, method, path, ctype, body string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		fill := strings.NewReplacer("{IS}", srv.DefaultServiceSid, "{RL}", role.Sid, "{MB}", sids["{MB}"], "{IM}", sids["{IM}"],
			"{WH}", sids["{WH}"], "{ME}", sids["{ME}"], "{BS}", sids["{BS}"])
		path, body = fill.Replace(path), fill.Replace(body)
		res, b, err := call(method, path, ctype, body)
		if err != nil {
			return // not a request a client could send, or refused by net/http before parley
		}
		checkFuzzAnswer(t, method, path, ctype, body, res, b)
	})
}

// fuzzCall sends one request to srv with the account's credentials, as a
// REST write that fires webhooks (X-Twilio-Webhook-Enabled), and reads
// the answer; an error when no request could be sent.
func fuzzCall(srv *parleytest.Server, method, path, ctype, body string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("X-Twilio-Webhook-Enabled", "true")
	req.SetBasicAuth(srv.AccountSid, srv.AuthToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b, nil
}

// checkFuzzAnswer fails t unless the answer to a fuzzed request is what
// every answer must be: never a 5xx, a JSON object as the body (but media
// content, and net/http's own refusal of a malformed request), and every
// error Twilio's body with its code, message, more_info and the HTTP
// status.
func checkFuzzAnswer(t *testing.T, method, path, ctype, body string, res *http.Response, b []byte) {
	t.Helper()
	if res.StatusCode >= 500 {
		t.Fatalf("%s %s (%s) %q: %d %s", method, path, ctype, body, res.StatusCode, b)
	}
	if res.StatusCode == http.StatusNoContent || method == http.MethodHead {
		return
	}
	if res.StatusCode == http.StatusOK && strings.HasSuffix(res.Request.URL.Path, "/Content") {
		return // media content: the bytes as uploaded
	}
	if res.StatusCode == http.StatusBadRequest && res.Header.Get("Content-Type") != "application/json" {
		return // net/http's own answer to a malformed request line
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s %s: %d body is not a JSON object: %q", method, path, res.StatusCode, b)
	}
	if res.StatusCode >= 400 {
		code, _ := v["code"].(float64)
		status, _ := v["status"].(float64)
		if code == 0 || int(status) != res.StatusCode || v["message"] == "" || v["more_info"] == nil {
			t.Fatalf("%s %s: error body %s", method, path, b)
		}
	}
}
