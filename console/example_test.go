package console_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parleyhq/parley/internal/nodetest"
	"github.com/parleyhq/parley/parleytest"
)

// TestExamplePageInBrowser runs the other page parley serves, the
// two-tab chat at /parley/example/, in headless Chromium: two tabs sign
// in with access tokens and chat through @twilio/conversations itself.
// The page loads the SDK from Twilio's CDN; the browser's resolver sends
// sdk.twilio.com to a local server with the same file from
// sdktest/node's npm packages, so the test runs offline.
func TestExamplePageInBrowser(t *testing.T) {
	nodetest.Require(t, "../sdktest/node")
	sdk, err := os.ReadFile(filepath.Join("..", "sdktest", "node", "node_modules", "@twilio", "conversations", "builds", "twilio-conversations.js"))
	if err != nil {
		t.Fatal(err)
	}
	const sdkPath = "/js/conversations/releases/2.7.0/twilio-conversations.min.js"
	cdn := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != sdkPath {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(sdk)
	}))
	t.Cleanup(cdn.Close)
	ctx := browser(t,
		chromedp.Flag("host-resolver-rules", "MAP sdk.twilio.com "+strings.TrimPrefix(cdn.URL, "https://")),
		chromedp.IgnoreCertErrors)
	srv := parleytest.New(t)

	tab := func(identity, peer string) *page {
		t.Helper()
		tabCtx, cancel := chromedp.NewContext(ctx)
		t.Cleanup(cancel)
		p := &page{t: t, ctx: tabCtx, shots: t.TempDir(), console: &consoleLog{}}
		if err := chromedp.Do(tabCtx); err != nil {
			t.Fatal(err)
		}
		go p.console.watch(tabCtx)
		p.do("open the example as "+identity,
			chromedp.Navigate(srv.URL+"/parley/example/"),
			typeIn("#token", parleytest.Token(t, srv, identity, "")),
			typeIn("#peer", peer),
			click("#signin button"))
		p.until(identity+" is connected", fmt.Sprintf(`document.querySelector("#status").textContent === %q`, identity+", talking to "+peer))
		return p
	}
	alice := tab("alice", "bob")
	bob := tab("bob", "alice")

	alice.do("alice says hello", typeIn("#text", "hello bob"), click("#send button"))
	bob.until("bob reads it", `[...document.querySelectorAll("#log p.them")].some((p) => p.textContent === "alice: hello bob")`)
	bob.do("bob answers", typeIn("#text", "hi alice"), click("#send button"))
	alice.until("alice reads it", `[...document.querySelectorAll("#log p.them")].some((p) => p.textContent === "bob: hi alice")`)
	// Bob's tab marks what it shows as read, and alice sees it.
	alice.until("alice sees bob read", `[...document.querySelectorAll("#log p.note")].some((p) => p.textContent === "bob has read up to here")`)

	msgs, err := srv.Client().ConversationsV1.ListConversationMessage("alice-bob", nil)
	if err != nil || len(msgs) != 2 || *msgs[0].Author != "alice" || *msgs[0].Body != "hello bob" || *msgs[1].Author != "bob" || *msgs[1].Body != "hi alice" {
		t.Fatalf("the conversation over REST: %v %+v", err, msgs)
	}
	alice.console.noExceptions(t)
	bob.console.noExceptions(t)
}
