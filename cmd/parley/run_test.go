package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley/internal/pgtest"
	"github.com/parleyhq/parley/twilsock"
	_ "modernc.org/sqlite"
)

// syncBuffer collects a running program's output for polling.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// instance is one call of run in the background.
type instance struct {
	url, account, token, service string
	local                        string // http://host:port actually listened on
	stdout, stderr               *syncBuffer
	stop                         context.CancelFunc
	done                         chan error
	once                         sync.Once
}

var banner = regexp.MustCompile(`(?s)serving Twilio's Conversations API at (\S+)\n\s+listening on\s+(\S+)\n.*account SID\s+(AC[0-9a-f]{32})\n\s+auth token\s+(\S+)\n\s+default service\s+(IS[0-9a-f]{32})\n`)

func start(t *testing.T, env map[string]string, args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{stdout: &syncBuffer{}, stderr: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	getenv := func(k string) string { return env[k] }
	go func() { in.done <- run(ctx, append([]string{"parley"}, args...), getenv, in.stdout, in.stderr) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := banner.FindStringSubmatch(in.stdout.String()); m != nil {
			in.url, in.local, in.account, in.token, in.service = m[1], "http://"+m[2], m[3], m[4], m[5]
			break
		}
		select {
		case err := <-in.done:
			t.Fatalf("run returned before serving: %v\nstderr: %s", err, in.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner after 10s; stdout: %s\nstderr: %s", in.stdout, in.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Wait for /healthz, as a load balancer would.
	res, err := http.Get(in.local + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	t.Cleanup(func() { in.shutdown(t) })
	return in
}

// shutdown cancels run's context, as SIGINT/SIGTERM do, and waits for it
// to return cleanly. It is idempotent.
func (in *instance) shutdown(t *testing.T) {
	t.Helper()
	in.once.Do(func() {
		in.stop()
		select {
		case err := <-in.done:
			if err != nil {
				t.Fatalf("run returned %v\nstderr: %s", err, in.stderr)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("run did not return after cancel")
		}
	})
}

func (in *instance) call(t *testing.T, method, path, form string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, in.local+path, strings.NewReader(form))
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	status, body, err := exchange(req, in.account, in.token)
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

// TestRunTwice: a restart on the same database finds the data, the
// credentials and the default service it left.
func TestRunTwice(t *testing.T) {
	db := filepath.Join(t.TempDir(), "parley.db")
	first := start(t, nil, "--addr", "127.0.0.1:0", "--db", db)
	if !strings.Contains(first.stdout.String(), "curl -u "+first.account+":"+first.token+" "+first.url+"/v1/Users") {
		t.Fatalf("banner has no working curl line:\n%s", first.stdout)
	}
	if st, body := first.call(t, "POST", "/v1/Users", "Identity=persisted&FriendlyName=P"); st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	first.shutdown(t)

	second := start(t, nil, "--addr", "127.0.0.1:0", "--db", db)
	if second.account != first.account || second.token != first.token || second.service != first.service {
		t.Fatalf("restart minted new credentials: %+v vs %+v", second, first)
	}
	st, body := second.call(t, "GET", "/v1/Users/persisted", "")
	if st != 200 || !strings.Contains(body, `"friendly_name":"P"`) || !strings.Contains(body, `"chat_service_sid":"`+first.service+`"`) {
		t.Fatalf("after restart: %d %s", st, body)
	}
}

// TestRunEnvironment: flags default to PARLEY_* variables, and a database
// refuses another account's SID.
func TestRunEnvironment(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"PARLEY_DB":          filepath.Join(dir, "env.db"),
		"PARLEY_ADDR":        "127.0.0.1:0",
		"PARLEY_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
		"PARLEY_AUTH_TOKEN":  "fixedToken42",
		"PARLEY_PUBLIC_URL":  "https://chat.example.com",
	}
	in := start(t, env)
	if in.account != env["PARLEY_ACCOUNT_SID"] || in.token != "fixedToken42" || in.url != "https://chat.example.com" {
		t.Fatalf("banner: %s", in.stdout)
	}
	in.shutdown(t)

	env["PARLEY_ACCOUNT_SID"] = "AC" + strings.Repeat("f", 32)
	err := run(context.Background(), []string{"parley"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "belongs to account AC0123456789abcdef0123456789abcdef") {
		t.Fatalf("other account SID: %v", err)
	}
	// A flag on the command line wins over its environment variable.
	again := start(t, env, "--account-sid", "AC0123456789abcdef0123456789abcdef")
	if again.account != "AC0123456789abcdef0123456789abcdef" {
		t.Fatalf("flag did not win over PARLEY_ACCOUNT_SID: %s", again.stdout)
	}
	again.shutdown(t)
	for _, bad := range []map[string]string{
		{"PARLEY_ACCOUNT_SID": "ACnope"},
		{"PARLEY_AUTH_TOKEN": "not-alphanumeric!"},
		{"PARLEY_LOG_LEVEL": "chatty"},
		{"PARLEY_WEBHOOK_MAX_ATTEMPTS": "ten"},
		{"PARLEY_WEBHOOK_MAX_ATTEMPTS": "0"},
		{"PARLEY_WEBHOOK_BACKOFF": "soon"},
		{"PARLEY_REST_PRE_WEBHOOKS": "yes please"},
		{"PARLEY_SHUTDOWN_GRACE": "forever"},
		{"PARLEY_SYNC_RETENTION": "a while"},
		{"PARLEY_SYNC_RETENTION": "30s"},
	} {
		bad["PARLEY_DB"] = filepath.Join(dir, "bad.db")
		bad["PARLEY_ADDR"] = "127.0.0.1:0"
		if err := run(context.Background(), []string{"parley"}, func(k string) string { return bad[k] }, io.Discard, io.Discard); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"parley", "--help"}, func(string) string { return "" }, io.Discard, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-addr", "PARLEY_ADDR", "-db", "PARLEY_DB", "-account-sid", "PARLEY_ACCOUNT_SID",
		"-auth-token", "PARLEY_AUTH_TOKEN", "-public-url", "PARLEY_PUBLIC_URL", "parley keys create",
		"-sync-retention", "PARLEY_SYNC_RETENTION"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("--help lacks %q:\n%s", want, out.String())
		}
	}
	if err := run(context.Background(), []string{"parley", "extra"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Fatal("a stray argument was accepted")
	}
}

// TestKeysCommand: keys made on the command line authenticate at once, and
// stop at once when revoked.
func TestKeysCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "keys.db")
	in := start(t, nil, "--addr", "127.0.0.1:0", "--db", db)
	sid, secret := createKey(t, db, "--name", "ci")
	get := func() int { return statusAs(t, in.local, sid, secret) }
	if st := get(); st != 200 {
		t.Fatalf("with the new key: %d", st)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"parley", "keys", "list", "--db", db}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(sid + `\s+ci\s+\S+Z\s+-\n`).MatchString(out.String()) {
		t.Fatalf("keys list:\n%s", out.String())
	}
	if err := run(context.Background(), []string{"parley", "keys", "revoke", "--db", db, sid}, func(string) string { return "" }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if st := get(); st != 401 {
		t.Fatalf("with the revoked key: %d", st)
	}
	if err := run(context.Background(), []string{"parley", "keys", "revoke", "--db", db, "SK" + strings.Repeat("0", 32)}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Fatal("revoking an unknown key succeeded")
	}
	// A mistyped --db is refused, and nothing is created there.
	missing := filepath.Join(t.TempDir(), "typo.db")
	err := run(context.Background(), []string{"parley", "keys", "create", "--db", missing}, func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no parley database at "+missing) {
		t.Fatalf("keys create on a missing database: %v", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("keys create made %s: %v", missing, err)
	}
}

// TestKeysRefuseForeignDatabase: `parley keys` on a database no parley has
// set up refuses without writing to it, and never prints a password.
func TestKeysRefuseForeignDatabase(t *testing.T) {
	noenv := func(string) string { return "" }
	// A SQLite file of some other program keeps exactly its own tables.
	other := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE notes (body TEXT)"); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"parley", "keys", "create", "--db", other}, noenv, io.Discard, io.Discard)
	if err == nil || err.Error() != "no parley database at "+other+": start `parley --db "+other+"` first" {
		t.Fatalf("keys create on a foreign SQLite file: %v", err)
	}
	var tables []string
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	if strings.Join(tables, ",") != "notes" {
		t.Fatalf("keys create wrote tables %v into a foreign database", tables)
	}

	// A fresh PostgreSQL schema, named in a URL with a password.
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "hunter2secret")
	withPassword := u.String()
	var stdout, stderr bytes.Buffer
	err = run(context.Background(), []string{"parley", "keys", "list", "--db", withPassword}, noenv, &stdout, &stderr)
	if err == nil || !strings.HasPrefix(err.Error(), "no parley database at ") {
		t.Fatalf("keys list on a fresh schema: %v", err)
	}
	for _, out := range []string{err.Error(), stdout.String(), stderr.String()} {
		if strings.Contains(out, "hunter2secret") {
			t.Fatalf("the password was printed: %s", out)
		}
	}
	if !strings.Contains(err.Error(), u.Redacted()) {
		t.Fatalf("error %q does not name the database %s", err, u.Redacted())
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = current_schema()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("keys list created %d tables in a schema no parley set up", n)
	}
}

// createKey runs `parley keys create` on db and returns the key's SID and
// secret as it printed them.
func createKey(t *testing.T, db string, args ...string) (sid, secret string) {
	t.Helper()
	var out bytes.Buffer
	argv := append([]string{"parley", "keys", "create", "--db", db}, args...)
	if err := run(context.Background(), argv, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`API key SID\s+(SK[0-9a-f]{32})\nsecret\s+([A-Za-z0-9]{32})\n`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("keys create printed:\n%s", out.String())
	}
	return m[1], m[2]
}

// statusAs is the status of GET /v1/Users at base with the given Basic
// credentials.
func statusAs(t *testing.T, base, user, pass string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/v1/Users", nil)
	req.SetBasicAuth(user, pass)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestShutdownFinishesInFlight: on SIGINT/SIGTERM (the context's
// cancellation) parley stops accepting but completes a request already
// being read.
func TestShutdownFinishesInFlight(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shutdown.db")
	in := start(t, nil, "--addr", "127.0.0.1:0", "--db", db)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", in.local+"/v1/Users", pr)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(in.account, in.token)
	type result struct {
		status int
		err    error
	}
	resc := make(chan result, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			resc <- result{err: err}
			return
		}
		res.Body.Close()
		resc <- result{status: res.StatusCode}
	}()
	pw.Write([]byte("Identity=in"))
	time.Sleep(100 * time.Millisecond) // the request is now in flight
	in.stop()
	time.Sleep(100 * time.Millisecond)
	pw.Write([]byte("flight"))
	pw.Close()
	r := <-resc
	if r.err != nil || r.status != 201 {
		t.Fatalf("in-flight request: %d %v", r.status, r.err)
	}
	in.shutdown(t)
	// New connections are refused now.
	if _, err := http.Get(in.local + "/healthz"); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

// TestTokenCommand: `parley token` mints an access token the running
// server accepts (on the Media Content Service, where client SDKs use
// one), signed with the newest key, or with a key it creates when there
// is none; revoking the key stops its tokens.
func TestTokenCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "token.db")
	in := start(t, nil, "--addr", "127.0.0.1:0", "--db", db)
	token := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"parley", "token", "--db", db}, args...), func(string) string { return "" }, &out, &errOut)
		return strings.TrimSpace(out.String()), errOut.String(), err
	}
	upload := func(tok string) (int, string) {
		req, _ := http.NewRequest("POST", in.local+"/v1/Services/"+in.service+"/Media", strings.NewReader("hi"))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("X-Twilio-Token", tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	tok, stderr, err := token("--identity", "alice", "--ttl", "10m")
	m := regexp.MustCompile(`^created API key (SK[0-9a-f]{32}) to sign tokens`).FindStringSubmatch(stderr)
	if err != nil || m == nil || strings.Count(tok, ".") != 2 {
		t.Fatalf("first token: %v %q %q", err, tok, stderr)
	}
	if st, body := upload(tok); st != 201 || !strings.Contains(body, `"author":"alice"`) {
		t.Fatalf("upload with the token: %d %s", st, body)
	}
	// The next token reuses that key, says nothing, and names the service.
	tok2, stderr, err := token("--identity", "bob", "--service", in.service)
	if err != nil || stderr != "" {
		t.Fatalf("second token: %v %q", err, stderr)
	}
	if st, body := upload(tok2); st != 201 || !strings.Contains(body, `"author":"bob"`) {
		t.Fatalf("upload with the second token: %d %s", st, body)
	}
	for _, args := range [][]string{{}, {"--identity", "alice", "--ttl", "25h"}, {"--identity", "alice", "--service", "IS" + strings.Repeat("0", 32)}} {
		if _, _, err := token(args...); err == nil {
			t.Errorf("parley token %v: accepted", args)
		}
	}
	if err := run(context.Background(), []string{"parley", "keys", "revoke", "--db", db, m[1]}, func(string) string { return "" }, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if st, body := upload(tok); st != 401 || !strings.Contains(body, `"code":20107`) {
		t.Fatalf("a revoked key's token: %d %s", st, body)
	}
}

// TestShutdownOffloadsClients: on SIGTERM a node tells its client SDK
// connections to reconnect elsewhere (twilsock close 308) before it stops.
func TestShutdownOffloadsClients(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clients.db")
	in := start(t, nil, "--addr", "127.0.0.1:0", "--db", db)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"parley", "token", "--db", db, "--identity", "alice"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(in.local, "http")+"/v3/wsconnect", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	// read returns the next frame other than a ping.
	read := func() (twilsock.Frame, error) {
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return twilsock.Frame{}, err
			}
			f, err := twilsock.Decode(b)
			if err != nil || f.Header.Method != "ping" {
				return f, err
			}
		}
	}
	b, _ := twilsock.Encode(twilsock.Frame{Header: twilsock.Header{Method: "init", ID: "TM1", Token: strings.TrimSpace(out.String())}})
	if err := ws.Write(ctx, websocket.MessageBinary, b); err != nil {
		t.Fatal(err)
	}
	if f, err := read(); err != nil || f.Header.Status == nil || f.Header.Status.Code != 200 {
		t.Fatalf("init: %+v %v", f.Header, err)
	}
	// Read while the node stops: a client answers the close handshake.
	type result struct {
		f   twilsock.Frame
		err error
	}
	got := make(chan result, 1)
	go func() {
		f, err := read()
		got <- result{f, err}
		for err == nil {
			_, err = read() // until the socket closes, as the SDK does
		}
	}()
	in.shutdown(t)
	if r := <-got; r.err != nil || r.f.Header.Method != "close" || r.f.Header.Status.Code != 308 {
		t.Fatalf("at shutdown: %+v %v", r.f.Header, r.err)
	}
}

// TestEmulatorFlag: --emulator (or PARLEY_EMULATOR) mounts the controls
// and says so in the banner; without it they are Twilio's 404.
func TestEmulatorFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		on   bool
	}{
		{"off", nil, nil, false},
		{"flag", nil, []string{"--emulator"}, true},
		{"env", map[string]string{"PARLEY_EMULATOR": "true"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := start(t, tc.env, append([]string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "e.db")}, tc.args...)...)
			if said := strings.Contains(in.stdout.String(), "Emulator mode is on: "+in.url+"/parley/v1/Clock"); said != tc.on {
				t.Errorf("banner says emulator mode: %v, want %v:\n%s", said, tc.on, in.stdout)
			}
			status, body := in.call(t, "POST", "/parley/v1/Clock", "Advance=PT1M")
			if tc.on && (status != 200 || !strings.Contains(body, `"offset_seconds":60,"movable":true`)) ||
				!tc.on && (status != 404 || body != `{"code":20404,"message":"The requested resource /parley/v1/Clock was not found",`+
					`"more_info":"https://www.twilio.com/docs/errors/20404","status":404}`) {
				t.Errorf("POST /parley/v1/Clock: %d %s", status, body)
			}
		})
	}
}

// TestSeed: --seed loads a fixture before serving; a restart with the
// same file changes nothing; a bad file stops parley with the place of
// the error.
func TestSeed(t *testing.T) {
	dir := t.TempDir()
	db, file := filepath.Join(dir, "s.db"), filepath.Join(dir, "seed.json")
	doc := `{"services":[{"friendly_name":"Seeded","default":true,"users":[{"identity":"alice"}],
		"conversations":[{"unique_name":"room","participants":[{"identity":"alice"}],"messages":[{"author":"alice","body":"hi"}]}]}]}`
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		in := start(t, nil, "--addr", "127.0.0.1:0", "--db", db, "--seed", file)
		status, body := in.call(t, "GET", "/v1/Conversations/room/Messages", "")
		if status != 200 || strings.Count(body, `"body":"hi"`) != 1 {
			t.Fatalf("run %d: messages %d %s", run, status, body)
		}
		if _, body := in.call(t, "GET", "/v1/Services", ""); strings.Count(body, `"sid":"IS`) != 1 || !strings.Contains(body, `"friendly_name":"Seeded"`) {
			t.Fatalf("run %d: services %s", run, body)
		}
		in.shutdown(t)
	}
	if err := os.WriteFile(file, []byte(`{"services":[{"friendly_name":"x","users":[{"identity":""}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"parley", "--addr", "127.0.0.1:0", "--db", db, "--seed", file},
		func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--seed "+file+": services[0].users[0].identity: ") {
		t.Fatalf("a bad seed: %v", err)
	}
}

// TestBadFlags: values parley cannot run with stop it with a clear
// message before it opens anything.
func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--webhook-retention", "1ms"}, "--webhook-retention must be at least 1m (or 0, which keeps deliveries)"},
		{[]string{"--webhook-retention", "-1h"}, "--webhook-retention must be at least 1m (or 0, which keeps deliveries)"},
		{[]string{"--rate-limits", "aws"}, `--rate-limits "aws": the one set of limits is twilio`},
		{[]string{"--sync-retention", "1s"}, "--sync-retention must be at least 1m"},
	} {
		args := append([]string{"parley", "--db", filepath.Join(t.TempDir(), "x.db")}, tc.args...)
		err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestBackup: `parley backup` copies a SQLite database while a server
// writes to it; parley started on the copy answers as the original did
// at that moment. PostgreSQL is pointed to pg_dump.
func TestBackup(t *testing.T) {
	dir := t.TempDir()
	db, copyPath := filepath.Join(dir, "live.db"), filepath.Join(dir, "copy.db")
	in := start(t, nil, "--addr", "127.0.0.1:0", "--db", db)
	for _, call := range [][2]string{
		{"/v1/Users", "Identity=alice&FriendlyName=Alice"},
		{"/v1/Conversations", "UniqueName=room"},
		{"/v1/Conversations/room/Participants", "Identity=alice"},
		{"/v1/Conversations/room/Messages", "Author=alice&Body=hello"},
	} {
		if status, body := in.call(t, "POST", call[0], call[1]); status != 201 {
			t.Fatalf("POST %s: %d %s", call[0], status, body)
		}
	}
	// Writes go on during the backup.
	stop := make(chan struct{})
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			req, _ := http.NewRequest("POST", in.local+"/v1/Users", strings.NewReader(fmt.Sprint("Identity=during", i)))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if _, _, err := exchange(req, in.account, in.token); err != nil {
				t.Errorf("a write during the backup: %v", err) // Errorf: not the test's goroutine
				return
			}
		}
	}()
	var out strings.Builder
	if err := run(context.Background(), []string{"parley", "backup", "--db", db, copyPath},
		func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	close(stop)
	<-writing
	if !strings.HasPrefix(out.String(), "backed up "+db+" to "+copyPath+" (") {
		t.Fatalf("backup said %q", out.String())
	}
	paths := []string{"/v1/Conversations/room", "/v1/Conversations/room/Messages", "/v1/Users/alice", "/v1/Configuration"}
	want := map[string]string{}
	for _, p := range paths {
		_, want[p] = in.call(t, "GET", p, "")
	}
	restored := start(t, nil, "--addr", "127.0.0.1:0", "--db", copyPath)
	if restored.account != in.account || restored.token != in.token {
		t.Fatalf("the copy's account %s/%s, the original's %s/%s", restored.account, restored.token, in.account, in.token)
	}
	for _, p := range paths {
		_, got := restored.call(t, "GET", p, "")
		if strings.ReplaceAll(got, restored.local, "") != strings.ReplaceAll(want[p], in.local, "") {
			t.Errorf("GET %s on the copy:\n  %s\nthe original:\n  %s", p, got, want[p])
		}
	}
	// The users written during the backup: the copy has a prefix of them.
	_, users := restored.call(t, "GET", "/v1/Users", "PageSize=1000")
	if !strings.Contains(users, `"identity":"alice"`) {
		t.Fatalf("the copy's users: %s", users)
	}

	err := run(context.Background(), []string{"parley", "backup", "--db", db, copyPath},
		func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("a backup onto an existing file: %v", err)
	}
	err = run(context.Background(), []string{"parley", "backup", "--db", "postgres://x@127.0.0.1/db", copyPath},
		func(string) string { return "" }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("a backup of PostgreSQL: %v", err)
	}
}

// TestReadyAndJSONLogs: /readyz answers 200 without credentials while
// parley serves and 503 once it is shutting down; --log-format json
// writes one JSON object a line, the debug request line carrying the
// request id the client saw.
func TestReadyAndJSONLogs(t *testing.T) {
	in := start(t, nil, "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "r.db"), "--log-format", "json", "--log-level", "debug")
	res, err := http.Get(in.local + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != `{"status":"ready"}` {
		t.Fatalf("readyz: %d %s", res.StatusCode, b)
	}
	req, _ := http.NewRequest("GET", in.local+"/v1/Users/nobody", nil)
	req.SetBasicAuth(in.account, in.token)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	id := res.Header.Get("Twilio-Request-Id")
	var logged map[string]any
	for line := range strings.Lines(in.stderr.String()) {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("a log line that is not JSON: %q", line)
		}
		if entry["request_id"] == id {
			logged = entry
		}
	}
	if logged == nil || logged["msg"] != "request" || logged["path"] != "/v1/Users/nobody" || logged["level"] != "DEBUG" ||
		logged["route"] != "GET /v1/Users/{Sid}" || logged["status"] != 404.0 || logged["method"] != "GET" {
		t.Fatalf("no JSON request line with request_id %s: %v\n%s", id, logged, in.stderr)
	}
	if d, ok := logged["duration"].(float64); !ok || d <= 0 {
		t.Fatalf("the request line's duration: %v", logged["duration"])
	}
	if err := run(context.Background(), []string{"parley", "--log-format", "xml"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil ||
		err.Error() != `--log-format "xml": text or json` {
		t.Fatalf("--log-format xml: %v", err)
	}
}
