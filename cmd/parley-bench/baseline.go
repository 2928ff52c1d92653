package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// baselineCommand is the hidden subcommand that serves the baseline.
const baselineCommand = "baseline-server"

// baselinePrefix starts the line the baseline server prints once listening.
const baselinePrefix = "baseline serving at "

// serveBaseline is `parley-bench baseline-server --body FILE`: a bare
// net/http server on a free loopback port answering every request with the
// file's bytes as application/json. It is what HTTP alone costs on this
// machine, with nothing of parley's: no routing, no auth, no database, no
// encoding. It runs as its own process, as parley does, so that it competes
// with the load client for the CPUs the same way.
func serveBaseline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(baselineCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	bodyPath := fs.String("body", "", "file holding the response body")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body, err := os.ReadFile(*bodyPath)
	if err != nil {
		return err
	}
	length := strconv.Itoa(len(body))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Drain a form body as parley would; fetches have none.
		io.Copy(io.Discard, r.Body)
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		w.Write(body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	fmt.Fprintf(stdout, "%shttp://%s\n", baselinePrefix, ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

func parseBaselineBanner(line string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), baselinePrefix)
	if !ok {
		return "", false
	}
	return checkURL(strings.TrimSpace(rest))
}

// startBaseline writes body to dir and re-invokes this binary as the
// baseline server.
func startBaseline(ctx context.Context, dir string, body []byte) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	path := dir + "/baseline-body.json"
	if err := os.WriteFile(path, body, 0o644); err != nil {
		return nil, err
	}
	return startChild(ctx, "baseline server", self, []string{baselineCommand, "--body", path},
		dir+"/baseline.log", parseBaselineBanner, 30*time.Second)
}
