package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/parleytest"
	conversations "github.com/twilio/twilio-go/rest/conversations/v1"
)

// firefox is a headless Firefox driven over WebDriver BiDi, the W3C
// protocol Firefox speaks itself (--remote-debugging-port), so no driver
// binary is needed: a few commands (navigate, evaluate) are all the
// test uses, and the page is driven through its own DOM.
type firefox struct {
	t   *testing.T
	ws  *websocket.Conn
	ctx context.Context
	id  int
	top string // the browsing context (tab) the test drives
}

// startFirefox starts Debian's firefox-esr (or the one PARLEY_FIREFOX
// names) for t. Without one the test is skipped, unless
// PARLEY_REQUIRE_BROWSER is set (as .ci/run sets it).
func startFirefox(t *testing.T) *firefox {
	t.Helper()
	path := findBrowser(t, "Firefox", "PARLEY_FIREFOX", "firefox-esr", "firefox-esr", "firefox")
	profile := t.TempDir()
	// Keep Firefox from reaching for Mozilla's hosts, which a closed
	// network refuses.
	prefs := `user_pref("app.update.disabledForTesting", true);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("services.settings.server", "http://127.0.0.1:9/");
user_pref("browser.safebrowsing.update.enabled", false);
`
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(prefs), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, path, "--headless", "--no-remote", "--remote-debugging-port=0", "--profile", profile, "about:blank")
	cmd.Env = append(os.Environ(), "MOZ_HEADLESS=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	address := make(chan string, 1)
	go func() {
		scan := bufio.NewScanner(stderr)
		for scan.Scan() {
			line := scan.Text()
			if a, ok := strings.CutPrefix(line, "WebDriver BiDi listening on "); ok {
				address <- a
			}
		}
	}()
	var ws string
	select {
	case ws = <-address:
	case <-time.After(60 * time.Second):
		t.Fatal("Firefox did not open WebDriver BiDi within 60 s")
	}
	conn, _, err := websocket.Dial(ctx, ws+"/session", nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(64 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	f := &firefox{t: t, ws: conn, ctx: ctx}
	f.call("session.new", map[string]any{"capabilities": map[string]any{}})
	tree := f.call("browsingContext.getTree", map[string]any{})
	var contexts struct {
		Contexts []struct{ Context string } `json:"contexts"`
	}
	json.Unmarshal(tree, &contexts)
	if len(contexts.Contexts) == 0 {
		t.Fatalf("no browsing context: %s", tree)
	}
	f.top = contexts.Contexts[0].Context
	f.call("browsingContext.setViewport", map[string]any{"context": f.top, "viewport": map[string]any{"width": 1280, "height": 800}})
	return f
}

// call sends one command and returns its result, skipping the events in
// between.
func (f *firefox) call(method string, params any) json.RawMessage {
	f.t.Helper()
	f.id++
	msg, _ := json.Marshal(map[string]any{"id": f.id, "method": method, "params": params})
	ctx, cancel := context.WithTimeout(f.ctx, 60*time.Second)
	defer cancel()
	if err := f.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		f.t.Fatalf("%s: %v", method, err)
	}
	for {
		_, data, err := f.ws.Read(ctx)
		if err != nil {
			f.t.Fatalf("%s: %v", method, err)
		}
		var answer struct {
			ID      int             `json:"id"`
			Type    string          `json:"type"`
			Result  json.RawMessage `json:"result"`
			Error   string          `json:"error"`
			Message string          `json:"message"`
		}
		json.Unmarshal(data, &answer)
		if answer.ID != f.id {
			continue
		}
		if answer.Type == "error" {
			f.t.Fatalf("%s: %s: %s", method, answer.Error, answer.Message)
		}
		return answer.Result
	}
}

// eval runs a JavaScript expression in the page and returns its value as
// JSON text (the expression is wrapped in JSON.stringify, so any value
// comes back whole).
func (f *firefox) eval(expr string) string {
	f.t.Helper()
	res := f.call("script.evaluate", map[string]any{
		"expression":   "(async () => JSON.stringify(await (" + expr + ")))()",
		"target":       map[string]any{"context": f.top},
		"awaitPromise": true,
	})
	var out struct {
		Type             string `json:"type"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
	}
	json.Unmarshal(res, &out)
	if out.Type == "exception" {
		f.t.Fatalf("evaluate %s: %s", expr, out.ExceptionDetails.Text)
	}
	return out.Result.Value
}

// until waits up to 30 s for a JavaScript expression to be true.
func (f *firefox) until(step, expr string) {
	f.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); f.eval("!!("+expr+")") != "true"; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			f.t.Fatalf("%s: still not %s; the page showed:\n%s", step, expr, f.eval(`location.hash + "\n" + document.body.innerText`))
		}
	}
}

// fill sets a form's fields and submits it, as typing and a click would.
func (f *firefox) fill(form string, fields map[string]string) {
	f.t.Helper()
	values, _ := json.Marshal(fields)
	f.eval(fmt.Sprintf(`(() => {
		const form = document.querySelector(%q);
		for (const [name, value] of Object.entries(%s)) {
			form.elements[name].value = value;
			form.elements[name].dispatchEvent(new Event("input", { bubbles: true }));
		}
		form.requestSubmit();
		return true;
	})()`, form, values))
}

// TestConsoleInFirefox runs the console's main flow in a real headless
// Firefox: sign in, create a conversation and send a message through the
// forms, see a message written over REST arrive live with its picture,
// and read the webhook delivery it caused.
func TestConsoleInFirefox(t *testing.T) {
	f := startFirefox(t)
	srv := parleytest.New(t, parleytest.Emulator())
	svc := srv.DefaultServiceSid
	rest := srv.Client().ConversationsV1
	hookSrv := httptest.NewServer(&receiver{})
	t.Cleanup(hookSrv.Close)
	if _, err := rest.UpdateServiceWebhookConfiguration(svc, (&conversations.UpdateServiceWebhookConfigurationParams{}).
		SetPostWebhookUrl(hookSrv.URL).SetFilters([]string{"onMessageAdded"}).SetMethod("POST")); err != nil {
		t.Fatal(err)
	}

	f.call("browsingContext.navigate", map[string]any{"context": f.top, "url": srv.URL + "/console/", "wait": "complete"})
	f.until("the sign-in form", `document.querySelector("#signin")`)
	f.fill("#signin", map[string]string{"user": srv.AccountSid, "pass": srv.AuthToken})
	f.until("signed in", `document.querySelector("#create-conversation")`)
	if got := f.eval(`document.querySelector("header.top .badge").textContent`); got != `"emulator"` {
		t.Fatalf("emulator badge: %s", got)
	}

	f.fill("#create-conversation", map[string]string{"FriendlyName": "Firefox chat"})
	f.until("the conversation's page", `document.querySelector("#send-message")`)
	convSid := strings.Trim(f.eval(`location.hash.slice("#/conversations/".length)`), `"`)
	if got := f.eval(`document.querySelector("main h1").textContent`); got != `"Firefox chat active"` {
		t.Fatalf("conversation heading: %s", got)
	}
	f.fill("#send-message", map[string]string{"Author": "fox", "Body": "Hello from Firefox"})
	f.until("the message shows", `document.querySelector('#messages article[data-index="0"] .body')?.textContent === "Hello from Firefox"`)
	msgs, err := rest.ListServiceConversationMessage(svc, convSid, nil)
	if err != nil || len(msgs) != 1 || *msgs[0].Author != "fox" || *msgs[0].Body != "Hello from Firefox" {
		t.Fatalf("messages after the form: %v %+v", err, msgs)
	}

	mediaSid := uploadPNG(t, srv, svc)
	if _, err := rest.CreateServiceConversationMessage(svc, convSid, (&conversations.CreateServiceConversationMessageParams{}).
		SetAuthor("bob").SetBody("A picture").SetMediaSid(mediaSid)); err != nil {
		t.Fatal(err)
	}
	f.until("the picture arrives and loads", fmt.Sprintf(
		`document.querySelector('#messages article[data-index="1"] img[data-media=%q]')?.naturalWidth === 64`, mediaSid))

	f.eval(`location.hash = "#/webhooks"`)
	f.until("the delivery shows", `document.querySelector("#deliveries tr[data-sid]")`)
	f.eval(`document.querySelector("#deliveries tr[data-sid]").click()`)
	f.until("its parameters show", `document.querySelector("tr[data-details] .params")?.textContent.includes("Hello from Firefox")`)
	if got := f.eval(`document.querySelector("tr[data-details] .answer").textContent`); got != `"{\"received\":true}"` {
		t.Fatalf("the receiver's answer shown: %s", got)
	}
	if got := f.eval(`document.querySelectorAll("button.retry").length`); got != "1" {
		t.Fatalf("%s Retry buttons in emulator mode", got)
	}
}
