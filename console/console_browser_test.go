package console_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parleyhq/parley/parleytest"
	conversations "github.com/twilio/twilio-go/rest/conversations/v1"
)

// browser starts a headless Chromium for t: Debian's chromium, or the one
// PARLEY_CHROMIUM names. Without one the test is skipped, unless
// PARLEY_REQUIRE_BROWSER is set (as .ci/run sets it), when it fails.
func browser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := findBrowser(t, "Chromium", "PARLEY_CHROMIUM", "chromium", "chromium", "chromium-browser", "google-chrome")
	// The flags keep Chromium from reaching for Google's hosts, which a
	// closed network refuses.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// consoleLog keeps what the page wrote to its console and what it threw,
// for the message of a failed step.
type consoleLog struct {
	mu         sync.Mutex
	lines      []string
	exceptions []string
}

func (l *consoleLog) watch(ctx context.Context) {
	for m, err := range chromedp.Console(ctx) {
		if err != nil {
			return
		}
		l.mu.Lock()
		l.lines = append(l.lines, m.String()+" "+m.URL)
		if m.IsException() {
			l.exceptions = append(l.exceptions, m.String())
		}
		l.mu.Unlock()
	}
}

// noExceptions fails t if the page threw anything it did not catch (an
// unhandled promise rejection included).
func (l *consoleLog) noExceptions(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.exceptions) > 0 {
		t.Fatalf("the page threw:\n%s", strings.Join(l.exceptions, "\n"))
	}
}

func (l *consoleLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// page drives one browser tab through steps, each with its own deadline;
// a failed step fails the test with what the page showed.
type page struct {
	t       *testing.T
	ctx     context.Context
	shots   string
	console *consoleLog
}

// run runs one action of a step and returns its value.
func run[T any](p *page, step string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		dump, stop := context.WithTimeout(p.ctx, 5*time.Second)
		defer stop()
		text, _ := chromedp.Run(dump, chromedp.Evaluate[string](`location.hash + "\n" + document.body.innerText`))
		p.t.Fatalf("%s: %v\nthe page showed:\n%s\nits console:\n%s", step, err, text, p.console)
	}
	return v
}

func (p *page) do(step string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	run(p, step, chromedp.Steps(steps...))
}

// eval is the value of a JavaScript expression.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	return run(p, "evaluate "+expr, chromedp.Evaluate[T](expr))
}

// text is the text of the first element sel matches, once it is visible.
func (p *page) text(sel string) string {
	p.t.Helper()
	p.do("wait for "+sel, visible(sel))
	return strings.TrimSpace(run(p, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// until waits for a JavaScript expression to be true: the console polls,
// so what the server changes shows within a second or two.
func (p *page) until(step, expr string) {
	p.t.Helper()
	run(p, step, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond)))
}

// open goes to one of the console's views by its fragment and waits until
// the view has rendered (the console marks main with the fragment it
// shows).
func (p *page) open(fragment string) {
	p.t.Helper()
	eval[string](p, fmt.Sprintf(`location.hash = %q`, fragment))
	p.until("render "+fragment, fmt.Sprintf(`document.querySelector("main")?.dataset.view === %q`, fragment))
}

// shot writes a PNG of the window to the screenshot directory and checks
// that it is one.
func (p *page) shot(name string) {
	p.t.Helper()
	eval[int](p, `window.scrollTo(0, 0), 0`)
	p.do("settle", chromedp.Sleep(300*time.Millisecond))
	buf := run(p, "screenshot "+name, chromedp.CaptureScreenshot())
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if b := img.Bounds(); b.Dx() != 1280 {
		p.t.Fatalf("screenshot %s is %d×%d, want 1280 wide", name, b.Dx(), b.Dy())
	}
	if err := os.WriteFile(filepath.Join(p.shots, name+".png"), buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}
func typeIn(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), text)
}
func setValue(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SetValue(chromedp.CSS(sel), text)
}

// findBrowser is the path of a browser: the one the environment variable
// env names, or the first of names on PATH. Without one the test is
// skipped, unless PARLEY_REQUIRE_BROWSER is set (as .ci/run sets it),
// when it fails; pkg is Debian's package for it.
func findBrowser(t *testing.T, browser, env, pkg string, names ...string) string {
	t.Helper()
	if path := os.Getenv(env); path != "" {
		return path
	}
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("PARLEY_REQUIRE_BROWSER") != "" {
		t.Fatalf("no %s found (apt-get install %s, or set %s)", browser, pkg, env)
	}
	t.Skipf("no %s found: apt-get install %s (required when PARLEY_REQUIRE_BROWSER is set)", browser, pkg)
	return ""
}

// receiver is a webhook endpoint that counts what it is sent and
// answers with a small JSON body.
type receiver struct{ n atomic.Int32 }

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.n.Add(1)
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"received":true}`)
}

func (rc *receiver) count() int { return int(rc.n.Load()) }

// TestConsoleInBrowser signs in to the console in a real headless
// Chromium and drives it as a developer would: create a user and a
// conversation, add a participant, send a message, watch what the server
// changes behind the page's back show up live (a message with a picture,
// a read horizon, a user coming online), read a webhook delivery's
// parameters and answer and send it again, search users and filter
// conversations. It writes the README's screenshots to
// PARLEY_CONSOLE_SCREENSHOTS (docs/console when regenerated) or a
// temporary directory.
func TestConsoleInBrowser(t *testing.T) {
	ctx := browser(t)
	srv := parleytest.New(t, parleytest.Emulator())
	svc := srv.DefaultServiceSid
	rest := srv.Client().ConversationsV1

	hooks := &receiver{}
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)
	if _, err := rest.UpdateServiceWebhookConfiguration(svc, (&conversations.UpdateServiceWebhookConfigurationParams{}).
		SetPostWebhookUrl(hookSrv.URL+"/hooks").SetFilters([]string{"onMessageAdded", "onMessageRemoved"}).SetMethod("POST")); err != nil {
		t.Fatal(err)
	}
	if _, err := rest.UpdateServiceConfiguration(svc, (&conversations.UpdateServiceConfigurationParams{}).SetReachabilityEnabled(true)); err != nil {
		t.Fatal(err)
	}

	shots := os.Getenv("PARLEY_CONSOLE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	p := &page{t: t, ctx: ctx, shots: shots, console: &consoleLog{}}
	go p.console.watch(ctx)

	// Wrong credentials are refused with a clear message; the right ones
	// sign in.
	p.do("open the console", chromedp.Navigate(srv.URL+"/console/"), visible("#signin"))
	p.do("sign in wrongly",
		typeIn(`#signin input[name=user]`, srv.AccountSid),
		typeIn(`#signin input[name=pass]`, "not-the-token"),
		click(`#signin button[type=submit]`))
	if got := p.text("#signin .error"); got != "These credentials are not valid for this parley." {
		t.Fatalf("wrong credentials: %q", got)
	}
	p.shot("sign-in")
	p.do("sign in",
		setValue(`#signin input[name=pass]`, srv.AuthToken),
		click(`#signin button[type=submit]`),
		visible("#create-conversation"))
	if got := p.text("header.top .badge"); got != "emulator" {
		t.Fatalf("emulator badge: %q", got)
	}

	// A user, through the console's form.
	p.do("create a user",
		click(`nav.side a[href="#/users"]`),
		visible(`#create-user`),
		typeIn(`#create-user input[name=Identity]`, "alice"),
		typeIn(`#create-user input[name=FriendlyName]`, "Alice Liddell"),
		click(`#create-user button[type=submit]`),
		visible(`tr[data-identity="alice"]`))
	users, err := rest.ListServiceUser(svc, nil)
	if err != nil || len(users) != 1 || *users[0].Identity != "alice" || *users[0].FriendlyName != "Alice Liddell" {
		t.Fatalf("users after the form: %v %+v", err, users)
	}

	// A conversation, then its page.
	p.do("create a conversation",
		click(`nav.side a[href="#/conversations"]`),
		visible(`#create-conversation`),
		typeIn(`#create-conversation input[name=FriendlyName]`, "Support chat"),
		typeIn(`#create-conversation input[name=UniqueName]`, "support-1"),
		click(`#create-conversation button[type=submit]`),
		visible(`#add-participant`))
	hash := eval[string](p, `location.hash`)
	convSid := strings.TrimPrefix(hash, "#/conversations/")
	conv, err := rest.FetchServiceConversation(svc, convSid)
	if err != nil || *conv.FriendlyName != "Support chat" || *conv.UniqueName != "support-1" {
		t.Fatalf("conversation after the form (%s): %v %+v", hash, err, conv)
	}
	if got := p.text("main h1"); got != "Support chat active" {
		t.Fatalf("conversation heading: %q", got)
	}

	// A participant and a message, through the forms.
	p.do("add a participant",
		typeIn(`#add-participant input[name=Identity]`, "alice"),
		click(`#add-participant button[type=submit]`),
		visible(`#participants tr[data-identity="alice"]`))
	if got := p.text(`#participants tr[data-identity="alice"] .horizon`); got != "nothing read" {
		t.Fatalf("alice's read horizon before reading: %q", got)
	}
	p.do("send a message",
		typeIn(`#send-message input[name=Author]`, "alice"),
		typeIn(`#send-message textarea[name=Body]`, "Hello from the console"),
		click(`#send-message button[type=submit]`),
		visible(`#messages article[data-index="0"]`))
	if got := p.text(`#messages article[data-index="0"] .body`); got != "Hello from the console" {
		t.Fatalf("message 0 body: %q", got)
	}
	msgs, err := rest.ListServiceConversationMessage(svc, convSid, nil)
	if err != nil || len(msgs) != 1 || *msgs[0].Author != "alice" || *msgs[0].Body != "Hello from the console" {
		t.Fatalf("messages after the form: %v %+v", err, msgs)
	}

	// What changes behind the page shows live: a user signing in comes
	// online, a message with a picture arrives, a read horizon moves.
	parleytest.DialClient(t, srv, "alice")
	p.until("alice comes online", `document.querySelector('#participants tr[data-identity="alice"] .pill')?.textContent === "online"`)
	mediaSid := uploadPNG(t, srv, svc)
	if _, err := rest.CreateServiceConversationMessage(svc, convSid, (&conversations.CreateServiceConversationMessageParams{}).
		SetAuthor("bob").SetBody("A picture from twilio-go").SetMediaSid(mediaSid).SetXTwilioWebhookEnabled("true")); err != nil {
		t.Fatal(err)
	}
	p.until("the picture arrives and loads", fmt.Sprintf(
		`document.querySelector('#messages article[data-index="1"] img[data-media=%q]')?.naturalWidth === 64`, mediaSid))
	if got := p.text(`#messages article[data-index="1"] .body`); got != "A picture from twilio-go" {
		t.Fatalf("message 1 body: %q", got)
	}
	order := eval[[]string](p, `[...document.querySelectorAll('#messages article')].map(a => a.dataset.index)`)
	if strings.Join(order, ",") != "1,0" {
		t.Fatalf("messages shown in order %v, want newest first", order)
	}
	parts, err := rest.ListServiceConversationParticipant(svc, convSid, nil)
	if err != nil || len(parts) != 1 {
		t.Fatalf("participants: %v %+v", err, parts)
	}
	if _, err := rest.UpdateServiceConversationParticipant(svc, convSid, *parts[0].Sid,
		(&conversations.UpdateServiceConversationParticipantParams{}).SetLastReadMessageIndex(1)); err != nil {
		t.Fatal(err)
	}
	p.until("alice's read horizon moves", `document.querySelector('#participants tr[data-identity="alice"] .horizon')?.textContent.startsWith("#1")`)
	if got := p.text(`#messages article[data-index="1"] .meta`); !strings.HasSuffix(got, "read by alice\ndelete") {
		t.Fatalf("message 1 meta: %q", got)
	}
	p.shot("conversation")

	// A file attached in the form is uploaded to the Media Content
	// Service and sent as the message's media.
	pngPath := filepath.Join(t.TempDir(), "form.png")
	if err := os.WriteFile(pngPath, gradientPNG(t), 0o644); err != nil {
		t.Fatal(err)
	}
	p.do("send a picture",
		typeIn(`#send-message textarea[name=Body]`, "A picture from the form"),
		chromedp.SetUploadFiles(chromedp.CSS(`#send-message input[name=file]`), []string{pngPath}),
		click(`#send-message button[type=submit]`))
	p.until("the form's picture shows", `document.querySelector('#messages article[data-index="2"] img')?.naturalWidth === 64`)
	msgs, err = rest.ListServiceConversationMessage(svc, convSid, nil)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("messages: %v %+v", err, msgs)
	}
	withMedia := msgs[2]
	if withMedia.Media == nil || *withMedia.Body != "A picture from the form" || *withMedia.Author != "alice" {
		t.Fatalf("message 2: %+v", withMedia)
	}
	if media := (*withMedia.Media)[0].(map[string]any); media["filename"] != "form.png" || media["content_type"] != "image/png" {
		t.Fatalf("message 2's media: %v", media)
	}

	// Paging: opened afresh, the page shows the newest 20, older ones on
	// demand.
	for i := 3; i < 25; i++ {
		if _, err := rest.CreateServiceConversationMessage(svc, convSid, (&conversations.CreateServiceConversationMessageParams{}).
			SetAuthor("bob").SetBody(fmt.Sprintf("message %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	p.open("#/conversations")
	p.open("#/conversations/" + convSid)
	p.until("the newest page shows", `document.querySelector('#messages article')?.dataset.index === "24"`)
	if n := eval[int](p, `document.querySelectorAll('#messages article').length`); n != 20 {
		t.Fatalf("%d messages shown, want the newest page of 20", n)
	}
	p.do("load older messages", click(`main .toolbar button`))
	p.until("all 25 show", `document.querySelectorAll('#messages article').length === 25`)
	if hidden := eval[bool](p, `document.querySelector('main .toolbar button').hidden`); !hidden {
		t.Fatal(`"Older messages" still offered with every message shown`)
	}

	// The webhook deliveries: both messages', with their exact parameters
	// and the receiver's answer; Retry sends one again.
	var first parleytest.Delivery
	for deadline := time.Now().Add(10 * time.Second); ; {
		if ds := srv.Deliveries(t); len(ds) == 3 && ds[0].Status == "delivered" && ds[1].Status == "delivered" && ds[2].Status == "delivered" {
			first = ds[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries: %+v", srv.Deliveries(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
	row := fmt.Sprintf(`#deliveries tr[data-sid=%q]`, first.Sid)
	p.do("open the deliveries",
		click(`nav.side a[href="#/webhooks"]`),
		visible(row))
	if got := p.text(row + " td:nth-child(2)"); got != "onMessageAdded" {
		t.Fatalf("delivery event: %q", got)
	}
	if got := p.text(row + " td:nth-child(3)"); got != hookSrv.URL+"/hooks" {
		t.Fatalf("delivery target: %q", got)
	}
	details := fmt.Sprintf(`tr[data-details=%q]`, first.Sid)
	p.do("open a delivery", click(row), visible(details))
	sent, _ := url.ParseQuery(first.Params)
	shown := eval[map[string]string](p, fmt.Sprintf(
		`Object.fromEntries([...document.querySelectorAll('%s .params tbody tr')].filter(r => r.cells.length === 2).map(r => [r.cells[0].textContent, r.cells[1].textContent]))`,
		strings.ReplaceAll(details, `"`, `\"`)))
	if len(shown) != len(sent) || shown["Body"] != "Hello from the console" || shown["EventType"] != "onMessageAdded" || shown["ConversationSid"] != convSid {
		t.Fatalf("parameters shown %v, sent %v", shown, sent)
	}
	for k, v := range sent {
		if shown[k] != v[0] {
			t.Fatalf("parameter %s shown as %q, sent as %q", k, shown[k], v[0])
		}
	}
	if got := p.text(details + " .answer"); got != `{"received":true}` {
		t.Fatalf("the receiver's answer shown: %q", got)
	}
	p.shot("webhook-delivery")
	before := hooks.count()
	p.do("retry it", click(details+" button.retry"))
	p.until("the retry is sent and counted", fmt.Sprintf(`document.querySelector('%s td.attempts')?.textContent === "2"`, strings.ReplaceAll(row, `"`, `\"`)))
	if got := hooks.count(); got != before+1 {
		t.Fatalf("the receiver got %d requests after Retry, want %d", got, before+1)
	}

	// Users: search by prefix shows the conversation count and presence.
	p.do("search users",
		click(`nav.side a[href="#/users"]`),
		visible(`#user-filters`),
		typeIn(`#user-filters input[name=prefix]`, "ali"),
		click(`#user-filters button[type=submit]`))
	p.until("alice's count", `document.querySelector('tr[data-identity="alice"] td.count')?.textContent === "1"`)
	if got := p.text(`tr[data-identity="alice"] .pill`); got != "online" {
		t.Fatalf("alice's presence in the users list: %q", got)
	}
	p.shot("users")
	p.do("search users that are not there",
		setValue(`#user-filters input[name=prefix]`, "bob"),
		click(`#user-filters button[type=submit]`))
	p.until("no user matches", `document.querySelector('main p.muted')?.textContent === "0 users"`)

	// Conversations: filtered by participant, by state, by unique name.
	for _, c := range []struct {
		query string
		want  bool
	}{
		{"identity=alice", true},
		{"identity=bob", false},
		{"state=closed", false},
		{"state=active", true},
		{"unique=support-1", true},
		{"unique=support-1&state=inactive", false},
		{"unique=nope", false},
	} {
		p.open("#/conversations?" + c.query)
		rows := eval[[]string](p, `[...document.querySelectorAll('#conversation-list tr[data-sid]')].map(r => r.dataset.sid)`)
		if got := len(rows) == 1 && rows[0] == convSid; got != c.want || !c.want && len(rows) != 0 {
			t.Fatalf("conversations with %s: %v", c.query, rows)
		}
	}

	// Services: the default service with its roles and configuration.
	p.do("open the services",
		click(`nav.side a[href="#/services"]`),
		visible(fmt.Sprintf(`section.service[data-sid=%q]`, svc)))
	roles := eval[[]string](p, `[...document.querySelectorAll('section.service tbody tr td:first-child')].map(td => td.firstChild.textContent)`)
	apiRoles, err := rest.ListServiceRole(svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range apiRoles {
		want = append(want, *r.FriendlyName)
	}
	if strings.Join(roles, ",") != strings.Join(want, ",") || len(want) != 4 {
		t.Fatalf("roles shown: %v, the API's: %v", roles, want)
	}
	p.shot("services")

	// What anyone can write (a message's body and attributes, a file's
	// type) shows as text, never as markup or script.
	hostile := `<img src=x onerror="window.pwned=1"><b>bold</b>`
	if _, err := rest.CreateServiceConversationMessage(svc, convSid, (&conversations.CreateServiceConversationMessageParams{}).
		SetAuthor(`<i>mallory</i>`).SetBody(hostile).SetAttributes(`{"x":"<script>window.pwned=2</script>"}`).
		SetMediaSid(upload(t, srv, svc, "page.html", "text/html", []byte(`<script>window.pwned=3</script>`)))); err != nil {
		t.Fatal(err)
	}
	p.open("#/conversations/" + convSid)
	p.until("the hostile message shows", `document.querySelector('#messages article[data-index="25"] a[data-media]')`)
	if got := eval[string](p, `document.querySelector('#messages article[data-index="25"] .body').textContent`); got != hostile {
		t.Fatalf("the body shown: %q", got)
	}
	if got := eval[string](p, `document.querySelector('#messages article[data-index="25"] .meta b').textContent`); got != "<i>mallory</i>" {
		t.Fatalf("the author shown: %q", got)
	}
	if n := eval[int](p, `document.querySelectorAll('#messages article[data-index="25"] img, #messages article[data-index="25"] b:not(.meta b), script:not([src])').length`); n != 0 {
		t.Fatalf("%d elements made from a message's text", n)
	}
	if got := eval[string](p, `document.querySelector('#messages article[data-index="25"] a[data-media]').getAttribute("download")`); got != "page.html" {
		t.Fatalf("the HTML file is offered as %q, want a download", got)
	}
	// (The console's CSP keeps even its own script from reading a blob
	// URL back: the link carries the blob's type.)
	if got := eval[string](p, `document.querySelector('#messages article[data-index="25"] a[data-media]').type`); got != "application/octet-stream" {
		t.Fatalf("the HTML file's blob is %q, want bytes without a type", got)
	}
	if pwned := eval[bool](p, `"pwned" in window`); pwned {
		t.Fatal("a message's text ran as script")
	}

	// Driving the conversation: delete a message, change the state,
	// remove a participant.
	p.do("delete the hostile message", click(`#messages article[data-index="25"] button.delete`))
	p.until("it is gone", `!document.querySelector('#messages article[data-index="25"]')`)
	if msgs, err := rest.ListServiceConversationMessage(svc, convSid, nil); err != nil || len(msgs) != 25 || msgs[24].Index != 24 {
		t.Fatalf("messages after the delete: %v, %d", err, len(msgs))
	}
	// The console's deletes ask for webhooks too (X-Twilio-Webhook-Enabled).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ds := srv.Deliveries(t)
		if last := ds[len(ds)-1]; last.EventType == "onMessageRemoved" && strings.Contains(last.Params, "Index=25") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no onMessageRemoved delivery for the console's delete: %+v", ds)
		}
	}
	p.do("close the conversation",
		chromedp.SetValue(chromedp.CSS(`#conversation-state select[name=State]`), "inactive"),
		click(`#conversation-state button[type=submit]`))
	p.until("the heading says so", `document.querySelector("main h1").textContent === "Support chat inactive"`)
	if c, err := rest.FetchServiceConversation(svc, convSid); err != nil || *c.State != "inactive" {
		t.Fatalf("the conversation after the state form: %v %+v", err, c)
	}
	p.do("remove alice", click(`#participants tr[data-identity="alice"] button.remove`))
	p.until("alice is gone", `!document.querySelector('#participants tr[data-identity="alice"]') && document.querySelector("#participants").textContent.includes("No participant yet.")`)
	if parts, err := rest.ListServiceConversationParticipant(svc, convSid, nil); err != nil || len(parts) != 0 {
		t.Fatalf("participants after the removal: %v %+v", err, parts)
	}

	// A view left while it is still loading does not go on polling under
	// the next one: the conversation's scoped webhooks are held back
	// while the page moves on to Services.
	p.open("#/users")
	eval[bool](p, `(() => {
		const real = window.fetch;
		window.calls = [];
		window.fetch = async (url, init) => {
			window.calls.push(String(url));
			if (String(url).includes("/Webhooks")) await new Promise((r) => setTimeout(r, 800));
			return real(url, init);
		};
		return true;
	})()`)
	eval[string](p, fmt.Sprintf(`location.hash = "#/conversations/%s"`, convSid))
	p.until("the conversation's webhooks are asked for", `window.calls.some((u) => u.includes("/Webhooks"))`)
	p.open("#/services")
	p.do("wait past the held answer and two polls", chromedp.Sleep(2500*time.Millisecond))
	if calls := eval[[]string](p, `window.calls.filter((u) => u.includes("/Messages"))`); len(calls) != 0 {
		t.Fatalf("the left conversation is still polled: %v", calls)
	}
	p.console.noExceptions(t)

	// A reload that meets a passing server error keeps the credentials
	// and offers to try again.
	srv.Fault(t, parleytest.Fault{Method: "GET", Path: "/v1/Configuration", Status: 503, Count: 1})
	p.do("reload into a fault", chromedp.Reload())
	p.until("the error and Try again", `document.querySelector(".error")?.textContent === "Service unavailable (20503)" && document.querySelector("main") === null`)
	p.do("try again", click(`.signin button.primary`), visible(`nav.side`))
	if stored := eval[bool](p, `sessionStorage.getItem("parley.console") !== null`); !stored {
		t.Fatal("a passing error forgot the credentials")
	}

	// Signing out forgets the credentials.
	p.do("sign out", click(`header.top button`), visible("#signin"))
	stored := eval[bool](p, `sessionStorage.getItem("parley.console") !== null`)
	if stored {
		t.Fatal("the credentials outlived sign-out")
	}
}

// TestConsoleWithoutEmulator signs in with an API key rather than the
// auth token, and checks that the console tells emulator mode apart:
// without it, no badge and no Retry button (the control would be
// Twilio's 404).
func TestConsoleWithoutEmulator(t *testing.T) {
	ctx := browser(t)
	srv := parleytest.New(t)
	hookSrv := httptest.NewServer(&receiver{})
	t.Cleanup(hookSrv.Close)
	rest := srv.Client().ConversationsV1
	if _, err := rest.UpdateServiceWebhookConfiguration(srv.DefaultServiceSid, (&conversations.UpdateServiceWebhookConfigurationParams{}).
		SetPostWebhookUrl(hookSrv.URL).SetFilters([]string{"onConversationAdded"}).SetMethod("POST")); err != nil {
		t.Fatal(err)
	}
	conv, err := rest.CreateServiceConversation(srv.DefaultServiceSid, (&conversations.CreateServiceConversationParams{}).SetXTwilioWebhookEnabled("true"))
	if err != nil {
		t.Fatal(err)
	}
	key, secret, err := srv.App.CreateAPIKey(context.Background(), "console")
	if err != nil {
		t.Fatal(err)
	}
	p := &page{t: t, ctx: ctx, shots: t.TempDir(), console: &consoleLog{}}
	go p.console.watch(ctx)
	p.do("sign in",
		chromedp.Navigate(srv.URL+"/console/#/webhooks"),
		typeIn(`#signin input[name=user]`, key.Sid),
		typeIn(`#signin input[name=pass]`, secret),
		click(`#signin button[type=submit]`),
		visible(`#deliveries tr[data-sid]`))
	if got := p.text("header.top .who"); got != key.Sid {
		t.Fatalf("signed in as %q, want the key %s", got, key.Sid)
	}
	if got := eval[int](p, `document.querySelectorAll("header.top .badge").length`); got != 0 {
		t.Fatalf("%d emulator badges without emulator mode", got)
	}
	if got := p.text(`#deliveries tr[data-sid] td:nth-child(2)`); got != "onConversationAdded" {
		t.Fatalf("delivery event: %q", got)
	}
	p.do("open the delivery", click(`#deliveries tr[data-sid]`), visible(`tr[data-details]`))
	if got := p.text(`tr[data-details] .params`); !strings.Contains(got, *conv.Sid) {
		t.Fatalf("the delivery's parameters do not name %s: %q", *conv.Sid, got)
	}
	if got := eval[int](p, `document.querySelectorAll("button.retry").length`); got != 0 {
		t.Fatalf("%d Retry buttons without emulator mode", got)
	}
	p.console.noExceptions(t)

	// A key revoked while the page polls signs it out.
	if err := srv.App.RevokeAPIKey(context.Background(), key.Sid); err != nil {
		t.Fatal(err)
	}
	p.do("signed out by the poll", visible(`#signin .error`))
	if got := p.text(`#signin .error`); got != "Signed out: the credentials no longer work." {
		t.Fatalf("after the revocation: %q", got)
	}
}

// gradientPNG is a 64×64 picture.
func gradientPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for x := range 64 {
		for y := range 64 {
			img.Set(x, y, color.RGBA{uint8(4 * x), uint8(4 * y), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// uploadPNG stores a 64×64 picture in the service's media and returns
// its SID.
func uploadPNG(t *testing.T, srv *parleytest.Server, svc string) string {
	t.Helper()
	return upload(t, srv, svc, "gradient.png", "image/png", gradientPNG(t))
}

// upload stores a file in the service's media, as an SDK uploads to the
// Media Content Service, and returns its SID.
func upload(t *testing.T, srv *parleytest.Server, svc, name, ctype string, file []byte) string {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/v1/Services/"+svc+"/Media?Filename="+url.QueryEscape(name), bytes.NewReader(file))
	req.SetBasicAuth(srv.AccountSid, srv.AuthToken)
	req.Header.Set("Content-Type", ctype)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 201 {
		t.Fatalf("upload: %d %s", res.StatusCode, body)
	}
	_, rest, _ := strings.Cut(string(body), `"sid":"`)
	sid, _, _ := strings.Cut(rest, `"`)
	return sid
}
