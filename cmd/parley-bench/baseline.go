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
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// baselineCommand is the hidden subcommand that serves the baseline.
const baselineCommand = "baseline-server"

// baselinePrefix starts the line the baseline server prints once listening.
const baselinePrefix = "baseline serving at "

// serveBaseline is `parley-bench baseline-server [--body FILE]
// [--body-for PATH=FILE …]`: a bare net/http server on a free loopback port
// answering every request with a file's bytes as application/json: the
// file given for the request's path, else the --body one. A mode measuring
// operations of different sizes (a message, a page of fifty) thus gets a
// same-sized answer for each from one server. It is what HTTP alone costs
// on this machine, with nothing of parley's: no routing beyond one map
// lookup, no auth, no database, no encoding. It runs as its own process,
// as parley does, so that it competes with the load client for the CPUs
// the same way.
func serveBaseline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(baselineCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	paths := bodyFlag{}
	fs.Func("body", "`FILE` holding the response body for requests to any path without a --body-for", func(file string) error {
		paths[""] = file
		return nil
	})
	fs.Var(paths, "body-for", "`PATH=FILE`: the response body for requests to PATH; repeatable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(paths) == 0 {
		return errors.New("no --body or --body-for given")
	}
	type answer struct {
		body   []byte
		length string
	}
	answers := map[string]answer{}
	for path, file := range paths {
		body, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		answers[path] = answer{body, strconv.Itoa(len(body))}
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Drain a form body as parley would; fetches have none.
		io.Copy(io.Discard, r.Body)
		a, ok := answers[r.URL.Path]
		if !ok {
			if a, ok = answers[""]; !ok {
				http.NotFound(w, r)
				return
			}
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", a.length)
		w.Write(a.body)
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

// bodyFlag collects the body files by path: --body-for PATH=FILE (the
// path never holds '=', the file may), and --body FILE under "".
type bodyFlag map[string]string

func (f bodyFlag) String() string { return fmt.Sprint(map[string]string(f)) }

func (f bodyFlag) Set(v string) error {
	path, file, ok := strings.Cut(v, "=")
	if !ok || !strings.HasPrefix(path, "/") || file == "" {
		return fmt.Errorf("%q is not /PATH=FILE", v)
	}
	f[path] = file
	return nil
}

// startBaseline writes the bodies to dir and re-invokes this binary as the
// baseline server answering requests to each path with its body; the body
// under "" answers any other path.
func startBaseline(ctx context.Context, dir string, bodies map[string][]byte) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{baselineCommand}
	n := 0
	for path, body := range bodies {
		file := filepath.Join(dir, fmt.Sprintf("baseline-body-%d.json", n))
		n++
		if err := os.WriteFile(file, body, 0o644); err != nil {
			return nil, err
		}
		if path == "" {
			args = append(args, "--body", file)
		} else {
			args = append(args, "--body-for", path+"="+file)
		}
	}
	return startChild(ctx, "baseline server", self, args, filepath.Join(dir, "baseline.log"), parseBaselineBanner, 30*time.Second)
}
