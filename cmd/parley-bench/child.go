package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a process parley-bench started: the parley server or the
// baseline server. Its stdout and stderr go to a log file in the temp dir;
// the line announcing its URL is picked out of stdout as it passes.
type child struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	url     string
	started time.Time     // just before the process was started
	banner  time.Duration // from started until its URL line was read
	done    chan struct{} // closed once the process has exited
	err     error         // Wait's result, valid after done
	stop1   sync.Once
}

// startChild runs bin with args and waits until parse recognises a line of
// its stdout as the URL announcement, or the process exits, or timeout.
func startChild(ctx context.Context, name, bin string, args []string, logPath string,
	parse func(string) (string, bool), timeout time.Duration) (*child, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logf
	cmd.SysProcAttr = childAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	c := &child{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	c.started = time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		found := false
		for sc.Scan() {
			line := sc.Text()
			if !found {
				if u, ok := parse(line); ok {
					found = true
					urls <- u
				}
			}
			fmt.Fprintln(logf, line)
		}
		io.Copy(logf, out)
		c.err = cmd.Wait()
		logf.Close()
		close(c.done)
	}()

	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case c.url = <-urls:
		c.banner = time.Since(c.started)
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("%s exited before serving (%v):\n%s", name, c.err, tail(logPath, 20))
	case <-t.C:
		c.stop()
		return nil, fmt.Errorf("%s did not announce its URL within %v:\n%s", name, timeout, tail(logPath, 20))
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
}

// pid is the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// exited reports whether the child has died, and how, without waiting.
func (c *child) exited() (bool, error) {
	select {
	case <-c.done:
		return true, c.err
	default:
		return false, nil
	}
}

// stop asks the child to shut down gracefully (SIGTERM), gives it 30
// seconds, then kills it. It returns how long the child took to exit.
func (c *child) stop() time.Duration {
	var took time.Duration
	c.stop1.Do(func() {
		start := time.Now()
		if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			c.cmd.Process.Kill()
		}
		select {
		case <-c.done:
		case <-time.After(30 * time.Second):
			c.cmd.Process.Kill()
			<-c.done
		}
		took = time.Since(start)
	})
	return took
}

// bannerPrefix starts the line cmd/parley prints once it is listening.
const bannerPrefix = "parley is serving Twilio's Conversations API at "

// parseBanner picks the server's URL out of parley's banner line.
func parseBanner(line string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), bannerPrefix)
	if !ok {
		return "", false
	}
	return checkURL(strings.TrimSpace(rest))
}

// checkURL accepts absolute http(s) URLs with a host, without a trailing
// slash.
func checkURL(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return strings.TrimRight(s, "/"), true
}

// buildParley compiles ./cmd/parley into dir. It builds the package by its
// import path, so it works from anywhere inside the module.
func buildParley(ctx context.Context, dir string, stderr io.Writer) (string, error) {
	bin := filepath.Join(dir, "parley")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/parleyhq/parley/cmd/parley")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building parley (run from inside the module, or pass --parley-bin): %v\n%s", err, out.String())
	}
	return bin, nil
}

// startParley runs parley on db with the given credentials, listening on a
// free loopback port.
func startParley(ctx context.Context, bin, db, sid, token, logPath string) (*child, error) {
	args := []string{"--addr", "127.0.0.1:0", "--db", db, "--account-sid", sid, "--auth-token", token}
	return startChild(ctx, "parley", bin, args, logPath, parseBanner, 5*time.Minute)
}

// waitHealthy polls GET base/healthz until it answers 200.
func waitHealthy(ctx context.Context, hc *http.Client, base string, c *child) error {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if c != nil {
			if dead, werr := c.exited(); dead {
				return fmt.Errorf("%s exited (%v):\n%s", c.name, werr, tail(c.logPath, 20))
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/healthz did not answer 200 within 5 minutes (last error: %v)", base, err)
		}
		time.Sleep(time.Millisecond)
	}
}

// tail returns the last n lines of the file at path, indented.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "  (no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}
