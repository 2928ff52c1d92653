package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run parley as a real process and kill it with SIGKILL: no
// deferred function, no shutdown, no flush gets to run.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// parleyBinary builds ./cmd/parley once per test run.
func parleyBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parley-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "parley")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is parley running as a child process.
type process struct {
	cmd                 *exec.Cmd
	url, account, token string
	stderr              *syncBuffer
	exited              chan struct{}
}

func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(parleyBinary(t), append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		var all strings.Builder
		for sc.Scan() {
			all.WriteString(sc.Text() + "\n")
			if m := banner.FindStringSubmatch(all.String()); m != nil {
				lines <- all.String()
				io.Copy(io.Discard, stdout)
				return
			}
		}
		close(lines)
	}()
	select {
	case out, ok := <-lines:
		if !ok {
			t.Fatalf("parley exited before serving: %s", p.stderr)
		}
		m := banner.FindStringSubmatch(out)
		p.url, p.account, p.token = "http://"+m[2], m[3], m[4]
	case <-time.After(20 * time.Second):
		t.Fatalf("no banner; stderr: %s", p.stderr)
	}
	return p
}

func (p *process) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

func (p *process) do(t *testing.T, method, path, form string, webhooks bool) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, p.url+path, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if webhooks {
		req.Header.Set("X-Twilio-Webhook-Enabled", "true")
	}
	status, body, err := exchange(req, p.account, p.token)
	if err != nil {
		return 0, err.Error()
	}
	return status, body
}

// exchange sends req with the account's credentials and returns the
// status and body of the answer.
func exchange(req *http.Request, account, token string) (int, string, error) {
	req.SetBasicAuth(account, token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), nil
}

// TestCrashDeliversWebhookAfterRestart: a webhook whose 201 went out is
// delivered even if the process is killed at once, by the next process on
// the same database.
func TestCrashDeliversWebhookAfterRestart(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "crash.db")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the receiver is down while the first process runs

	first := startProcess(t, "--db", db, "--webhook-backoff", "50ms")
	if st, body := first.do(t, "POST", "/v1/Configuration/Webhooks", "PostWebhookUrl="+url.QueryEscape("http://"+addr+"/hook"), false); st != 200 {
		t.Fatalf("configure: %d %s", st, body)
	}
	st, body := first.do(t, "POST", "/v1/Users", "Identity=survivor", true)
	if st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	first.kill()

	type delivery struct{ identity, token string }
	got := make(chan delivery, 10)
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("could not listen on %s again: %v", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got <- delivery{r.PostForm.Get("Identity"), r.Header.Get("I-Twilio-Idempotency-Token")}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	second := startProcess(t, "--db", db, "--webhook-backoff", "50ms")
	select {
	case d := <-got:
		if d.identity != "survivor" || !strings.HasPrefix(d.token, "WD") {
			t.Fatalf("delivered %+v", d)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the webhook was not delivered after restart; stderr: %s", second.stderr)
	}
	// Delivered once, and recorded as delivered.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := second.do(t, "GET", "/parley/v1/WebhookDeliveries", "", false)
		if strings.Contains(body, `"status":"delivered"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case d := <-got:
		t.Fatalf("delivered twice: %+v", d)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestCrashLosesNoAcknowledgedWrite: creates race a SIGKILL; every create
// that was answered 201 is there after a restart.
func TestCrashLosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "acked.db")
	first := startProcess(t, "--db", db)
	acked := createUntilKilled(t, []*process{first}, func() {
		time.Sleep(300 * time.Millisecond)
		first.kill()
	})
	second := startProcess(t, "--db", db)
	for _, id := range acked {
		if st, body := second.do(t, "GET", "/v1/Users/"+id, "", false); st != 200 {
			t.Fatalf("acknowledged user %s lost: %d %s", id, st, body)
		}
	}
}

// createUntilKilled has 16 workers create users through nodes (in turn)
// while kill runs, and returns the identities that were answered 201.
func createUntilKilled(t *testing.T, nodes []*process, kill func()) []string {
	t.Helper()
	var mu sync.Mutex
	var acked []string
	writeUntilKilled(t, nodes, 16, 50, func(node *process, w, i int) bool {
		id := fmt.Sprintf("w%d-%d", w, i)
		st, _ := node.do(t, "POST", "/v1/Users", "Identity="+id, false)
		if st == 201 {
			mu.Lock()
			acked = append(acked, id)
			mu.Unlock()
		}
		return st != 0
	}, func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }, kill)
	return acked
}

// writeUntilKilled has workers write through nodes (in turn) until kill
// has run: write makes worker w's i-th write and reports false once its
// node stops answering. acked counts the writes acknowledged so far; kill
// runs once enough are, and the test fails if fewer ever were.
func writeUntilKilled(t *testing.T, nodes []*process, workers, enough int, write func(node *process, w, i int) bool, acked func() int, kill func()) {
	t.Helper()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range workers {
		node := nodes[w%len(nodes)]
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if !write(node, w, i) {
					return // the process is gone
				}
			}
		})
	}
	// Kill only once the writers are well under way: on a loaded machine
	// (a parallel -race run) nodes are slow to warm up, and a kill timed
	// from the start alone would find too few acknowledged writes.
	eventually(30*time.Second, func() bool { return acked() >= enough })
	kill()
	close(stop)
	wg.Wait()
	if n := acked(); n < enough {
		t.Fatalf("only %d writes acknowledged around the kill", n)
	}
}

// eventually polls cond every 10 ms until it holds or timeout has passed,
// and reports whether it held.
func eventually(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
