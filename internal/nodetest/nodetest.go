// Package nodetest finds node and the npm packages of sdktest/node for the
// tests that run the official JavaScript SDKs (twilio-node,
// @twilio/conversations) against parley: sdktest's own suites, and
// cmd/parley's, which run real SDK clients against parley processes.
package nodetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Require returns the path of node, or skips t (fails it, with
// PARLEY_REQUIRE_NODE=1 as in CI) when node ≥ 20 or the packages
// installed in dir (sdktest/node, relative to the test's package) are
// missing.
func Require(t testing.TB, dir string) string {
	t.Helper()
	const hint = "install node >= 20 and run `npm ci --prefix sdktest/node` from the repository root"
	missing := func(why string) {
		t.Helper()
		if os.Getenv("PARLEY_REQUIRE_NODE") == "1" {
			t.Fatalf("PARLEY_REQUIRE_NODE=1 but %s; %s", why, hint)
		}
		t.Skipf("skipping the Node SDK tests: %s; %s", why, hint)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	out, err := exec.Command(node, "-p", "process.versions.node").Output()
	if err != nil {
		missing(fmt.Sprintf("`node -p process.versions.node` failed: %v", err))
	}
	version := strings.TrimSpace(string(out))
	major, _, _ := strings.Cut(version, ".")
	if n, err := strconv.Atoi(major); err != nil || n < 20 {
		missing("node " + version + " is too old (twilio 6.2.0 needs node >= 20)")
	}
	for _, pkg := range []string{"twilio", "@twilio/conversations"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			missing("sdktest/node/node_modules/" + pkg + " is not installed")
		}
	}
	return node
}

// Env is the test's environment without what would send the SDKs
// elsewhere: TWILIO_EDGE and TWILIO_REGION rewrite the host, HTTP_PROXY
// makes twilio-node tunnel even loopback requests through a proxy, and
// stray TWILIO_*/PARLEY_* credentials must not leak in.
func Env(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "TWILIO_"), strings.HasPrefix(name, "PARLEY_"),
			strings.EqualFold(name, "HTTP_PROXY"), strings.EqualFold(name, "HTTPS_PROXY"):
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Script runs node on script in dir, with env added to the test's (Env),
// for at most timeout, and fails t if it fails or times out. Each line
// the script prints goes to onLine as it comes, with the script's stdin
// to answer on: how a script asks the Go side for what only it can do
// (restart a server, kill a node). It returns what the script printed.
func Script(t testing.TB, node, dir, script string, env []string, timeout time.Duration, onLine func(line string, stdin io.Writer)) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = dir
	cmd.Env = append(Env(os.Environ()), env...)
	// Don't wait forever for output pipes held by a stray grandchild.
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if onLine != nil {
			onLine(sc.Text(), stdin)
		}
	}
	err = cmd.Wait()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%s timed out after %v; output:\n%s%s", script, timeout, out.String(), stderr.String())
	}
	if err != nil {
		t.Fatalf("%s: %v; output:\n%s%s", script, err, out.String(), stderr.String())
	}
	return strings.TrimSpace(out.String())
}
