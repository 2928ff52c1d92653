package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"
)

// bench is one invocation's state: the children it runs, the client, and
// the users it has created.
type bench struct {
	cfg  config
	tmp  string
	log  io.Writer
	pool *pool
	hc   *http.Client
	auth string

	bin      string // the parley binary; "" with --target
	db       string
	srv      *child // parley; nil with --target
	baseline *child
	base     string // parley's URL
	restarts int
	fresh    bool  // a fresh database for each user count
	peak     int64 // the server's peak RSS since it started, across VmHWM resets

	baselineURL                    string
	listStart, listMiddle, listEnd string
	msgs                           *messageWorld // --messages
}

// close stops the children, the baseline first.
func (b *bench) close() {
	if b.hc != nil {
		b.hc.CloseIdleConnections()
	}
	if b.baseline != nil {
		b.baseline.stop()
	}
	if b.srv != nil {
		b.srv.stop()
	}
}

// begin readies the client that every mode shares and returns the report
// with what every load mode records of its run.
func (b *bench) begin() *report {
	c := b.cfg
	b.hc = newHTTPClient(max(c.concurrency, c.preloadConc))
	b.auth = basicAuth(c.accountSid, c.authToken)
	return &report{
		Machine:     machine{CPUs: runtime.NumCPU(), Model: cpuModel(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()},
		Concurrency: c.concurrency,
		PreloadConc: c.preloadConc,
		DurationS:   c.duration.Seconds(),
		WarmupS:     c.warmup.Seconds(),
		Runs:        c.runs,
	}
}

// serveOwn starts parley for a mode that measures one database: the
// caller's --db, or a fresh SQLite file named file in the temp dir.
func (b *bench) serveOwn(ctx context.Context, rep *report, file string) error {
	if err := b.parleyBinary(ctx); err != nil {
		return err
	}
	b.db = b.cfg.db
	rep.Database = describeDB(b.db)
	if b.db == "" {
		b.db = filepath.Join(b.tmp, file)
		rep.Database = "SQLite, a fresh file in a temp dir"
	}
	if err := b.startServer(ctx); err != nil {
		return err
	}
	rep.Target = b.base
	fmt.Fprintf(b.log, "parley (pid %d) is serving at %s on %s\n", b.srv.pid(), b.base, b.db)
	return nil
}

func (b *bench) run(ctx context.Context) (*report, error) {
	c := b.cfg
	rep := b.begin()

	switch {
	case c.target != "":
		b.base = c.target
		rep.Target, rep.Database = c.target, "already running; one database grown through the user counts"
		if err := waitHealthy(ctx, b.hc, b.base, nil); err != nil {
			return nil, err
		}
	default:
		if err := b.parleyBinary(ctx); err != nil {
			return nil, err
		}
		// A database parley-bench owns is made afresh for each user count,
		// so that each count is measured on exactly that many users (the
		// creates measured at one count would otherwise swell the next) by
		// a server whose peak RSS is its own. A --db given by the caller is
		// theirs to reset, so it grows through the counts instead.
		b.fresh = c.db == ""
		if b.fresh {
			rep.Database = "SQLite, a fresh file in a temp dir for each user count"
		} else {
			b.db = c.db
			rep.Database = describeDB(c.db) + "; one database grown through the user counts"
		}
	}

	for i, n := range c.users {
		if b.bin != "" && (b.srv == nil || b.fresh) {
			if b.fresh {
				b.db = filepath.Join(b.tmp, fmt.Sprintf("parley-%d.db", n))
				b.pool = newPool()
			}
			if err := b.startServer(ctx); err != nil {
				return nil, err
			}
			rep.Target = b.base
			fmt.Fprintf(b.log, "parley (pid %d) is serving at %s on %s\n", b.srv.pid(), b.base, b.db)
		}
		if i == 0 {
			if err := b.checkAuth(ctx); err != nil {
				return nil, err
			}
		}
		sr, err := b.size(ctx, n)
		if err != nil {
			return nil, err
		}
		rep.Sizes = append(rep.Sizes, sr)
		if b.fresh && i < len(c.users)-1 {
			b.hc.CloseIdleConnections()
			b.srv.stop()
			b.srv = nil
			if !c.keep {
				for _, suffix := range []string{"", "-wal", "-shm"} {
					os.Remove(b.db + suffix)
				}
			}
		}
	}
	if b.srv != nil {
		st, err := b.startup(ctx)
		if err != nil {
			return nil, err
		}
		rep.Startup = st
	}
	return rep, nil
}

// parleyBinary sets the parley binary to run: --parley-bin, or
// ./cmd/parley built into the temp dir.
func (b *bench) parleyBinary(ctx context.Context) error {
	b.bin = b.cfg.parleyBin
	if b.bin != "" {
		return nil
	}
	fmt.Fprintln(b.log, "building ./cmd/parley …")
	bin, err := buildParley(ctx, b.tmp, b.log)
	b.bin = bin
	return err
}

// startServer starts parley on b.db; a fresh log file per start.
func (b *bench) startServer(ctx context.Context) error {
	logPath := filepath.Join(b.tmp, fmt.Sprintf("parley-%d.log", b.restarts))
	b.restarts++
	srv, err := startParley(ctx, b.bin, b.db, b.cfg.accountSid, b.cfg.authToken, logPath)
	if err != nil {
		return err
	}
	b.srv, b.base, b.peak = srv, srv.url, 0
	return nil
}

// checkAuth fails early, and clearly, on wrong credentials.
func (b *bench) checkAuth(ctx context.Context) error {
	req, err := b.newRequest(ctx, http.MethodGet, b.base+"/v1/Users?PageSize=1", "")
	if err != nil {
		return err
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v1/Users → %s: %s", resp.Status, snippet(body, 300))
	}
	return nil
}

// size grows the database to n users and measures every operation there.
func (b *bench) size(ctx context.Context, n int) (sizeReport, error) {
	c := b.cfg
	sr := sizeReport{Users: n}
	fmt.Fprintf(b.log, "\n== %s users\n", commas(n))
	var err error
	if sr.Preload, err = b.preload(ctx, n); err != nil {
		return sr, err
	}
	if sr.Preload.Created > 0 {
		fmt.Fprintf(b.log, "  preloaded %s users in %.1fs (%s/s), %d errors\n",
			commas(sr.Preload.Created), sr.Preload.Seconds, commas(int(sr.Preload.PerSec)), sr.Preload.Errors)
	}
	sr.Known = b.pool.size()
	if sr.Known == 0 {
		return sr, fmt.Errorf("no users to measure with")
	}
	if b.wants("baseline") && b.baseline == nil {
		body, err := b.fetchBody(ctx)
		if err != nil {
			return sr, err
		}
		if b.baseline, err = startBaseline(ctx, b.tmp, map[string][]byte{"": body}); err != nil {
			return sr, err
		}
		b.baselineURL = b.baseline.url
		fmt.Fprintf(b.log, "  baseline server (pid %d) is serving a %d-byte user body at %s\n",
			b.baseline.pid(), len(body), b.baselineURL)
	}
	if b.wants("list_start") || b.wants("list_middle") || b.wants("list_end") {
		w, err := b.walk(ctx)
		if err != nil {
			return sr, err
		}
		sr.Walk = &w
		fmt.Fprintf(b.log, "  walked %s pages (%s users) via next_page_url in %.2fs\n", commas(w.Pages), commas(w.Items), w.Seconds)
	}

	// Keep the peak so far (preloading included), then reset VmHWM so the
	// next reading is the peak while measuring at this size.
	measureReset := false
	if b.srv != nil {
		b.notePeak()
		measureReset = resetPeakMemory(b.srv.pid())
	}
	byOp := map[string][]opRun{}
	for run := range c.runs {
		var baseOps float64
		for _, op := range c.ops {
			pid := 0
			switch {
			case op == "baseline":
				pid = b.baseline.pid()
			case b.srv != nil:
				pid = b.srv.pid()
			}
			r, err := b.measure(ctx, op, pid, c.concurrency)
			if err != nil {
				return sr, fmt.Errorf("%s: %w", op, err)
			}
			for _, ch := range []*child{b.srv, b.baseline} {
				if ch == nil {
					continue
				}
				if dead, werr := ch.exited(); dead {
					return sr, fmt.Errorf("%s exited during %s (%v):\n%s", ch.name, op, werr, tail(ch.logPath, 20))
				}
			}
			if op == "baseline" {
				baseOps = r.opsPerSec()
			}
			r.Baseline = baseOps
			byOp[op] = append(byOp[op], r)
			note := ""
			if r.Errors > 0 {
				note = fmt.Sprintf("  %d errors, first: %s", r.Errors, r.FirstErr)
			}
			fmt.Fprintf(b.log, "  run %d/%d  %-15s %9s ops/s%s\n", run+1, c.runs, op, commas(int(r.opsPerSec())), note)
		}
	}
	for _, op := range c.ops {
		sr.Ops = append(sr.Ops, summarize(byOp[op]))
	}
	if b.srv != nil {
		if peak, cur, ok := procMemory(b.srv.pid()); ok {
			sr.ServerRSS = &rss{CurrentBytes: cur}
			if measureReset {
				sr.ServerRSS.MeasurePeakBytes = peak
			}
			b.notePeak()
			sr.ServerRSS.PeakBytes = b.peak
		}
	}
	if b.baseline != nil {
		if peak, _, ok := procMemory(b.baseline.pid()); ok {
			sr.BaselinePeakRSS = peak
		}
	}
	return sr, nil
}

// notePeak folds the server's VmHWM into b.peak, its peak RSS since it
// started, which survives the resets of VmHWM between sizes.
func (b *bench) notePeak() {
	if peak, _, ok := procMemory(b.srv.pid()); ok {
		b.peak = max(b.peak, peak)
	}
}

func (b *bench) wants(op string) bool { return slices.Contains(b.cfg.ops, op) }

// startup stops parley and starts it again on the same database, timing
// from process start until /healthz answers 200.
func (b *bench) startup(ctx context.Context) (*startupReport, error) {
	st := &startupReport{Users: b.pool.size()}
	b.hc.CloseIdleConnections()
	fmt.Fprintf(b.log, "\n== restart on %s users\n", commas(st.Users))
	st.StopSeconds = b.srv.stop().Seconds()
	if _, err := b.srv.exited(); err != nil {
		fmt.Fprintf(b.log, "  parley exited with %v on SIGTERM:\n%s\n", err, tail(b.srv.logPath, 10))
		st.StopError = err.Error()
	}
	if err := b.startServer(ctx); err != nil {
		return nil, err
	}
	if err := waitHealthy(ctx, b.hc, b.base, b.srv); err != nil {
		return nil, err
	}
	st.ServingSeconds = time.Since(b.srv.started).Seconds()
	st.BannerSeconds = b.srv.banner.Seconds()
	if peak, _, ok := procMemory(b.srv.pid()); ok {
		st.PeakRSSBytes = peak
	}
	// The first fetch after the restart: is the data there, and what does a
	// cold read cost?
	_, sid := b.pool.random(mrand.New(mrand.NewPCG(3, 4)))
	t0 := time.Now()
	req, err := b.newRequest(ctx, http.MethodGet, b.base+"/v1/Users/"+sid, "")
	if err != nil {
		return nil, err
	}
	o := b.do(call{req, -1}, new(bytes.Buffer))
	st.FirstFetchMs = ms(time.Since(t0))
	if !o.ok {
		st.FirstFetchError = o.err
	}
	fmt.Fprintf(b.log, "  stopped in %.2fs; serving again after %.0f ms (banner at %.0f ms); first fetch %.1f ms\n",
		st.StopSeconds, st.ServingSeconds*1000, st.BannerSeconds*1000, st.FirstFetchMs)
	return st, nil
}

// describeDB names the database for the report without its password.
func describeDB(db string) string {
	if isPostgres(db) {
		if u, err := url.Parse(db); err == nil {
			return "PostgreSQL " + u.Redacted()
		}
		return "PostgreSQL"
	}
	return "SQLite " + db
}
