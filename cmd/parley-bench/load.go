package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The operations, in the order each run measures them: the baseline right
// before the fetches it is compared with, and create last so that every
// other operation sees exactly the preloaded user count.
var allOps = []string{"baseline", "fetch_sid", "fetch_identity", "list_start", "list_middle", "list_end", "update", "create"}

// newHTTPClient is the one client every operation shares: keep-alive, an
// idle pool large enough that no worker ever has to dial again, no
// compression, no proxy.
func newHTTPClient(concurrency int) *http.Client {
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        0, // no overall limit
			MaxIdleConnsPerHost: concurrency + 8,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		// next_page_url and friends are followed explicitly, never redirects.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// newRequest builds a request with parley-bench's credentials; a non-empty
// form makes it a form-encoded POST.
func (b *bench) newRequest(ctx context.Context, method, u, form string) (*http.Request, error) {
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", b.auth)
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req, nil
}

// call is one request of an operation. idx ≥ 0 marks the create of user
// idx, whose SID is then read from the response.
type call struct {
	req *http.Request
	idx int
}

// nextCall builds the next request of op.
func (b *bench) nextCall(ctx context.Context, op string, rng *mrand.Rand) (call, error) {
	get := func(u string) (call, error) {
		req, err := b.newRequest(ctx, http.MethodGet, u, "")
		return call{req, -1}, err
	}
	switch op {
	case "baseline":
		_, sid := b.pool.random(rng)
		return get(b.baselineURL + "/v1/Users/" + sid)
	case "fetch_sid":
		_, sid := b.pool.random(rng)
		return get(b.base + "/v1/Users/" + sid)
	case "fetch_identity":
		i, _ := b.pool.random(rng)
		return get(b.base + "/v1/Users/" + url.PathEscape(b.pool.identity(i)))
	case "list_start":
		return get(b.listStart)
	case "list_middle":
		return get(b.listMiddle)
	case "list_end":
		return get(b.listEnd)
	case "update":
		i, sid := b.pool.random(rng)
		v := 1 + rng.IntN(1000)
		form := url.Values{"FriendlyName": {friendlyName(i, v)}, "Attributes": {attributes(i, v)}}.Encode()
		req, err := b.newRequest(ctx, http.MethodPost, b.base+"/v1/Users/"+sid, form)
		return call{req, -1}, err
	case "create":
		i := b.pool.claim(-1)
		req, err := b.createRequest(ctx, i)
		return call{req, i}, err
	}
	return b.messageCall(ctx, op, rng)
}

func (b *bench) createRequest(ctx context.Context, i int) (*http.Request, error) {
	form := url.Values{
		"Identity":     {b.pool.identity(i)},
		"FriendlyName": {friendlyName(i, 0)},
		"Attributes":   {attributes(i, 0)},
	}.Encode()
	return b.newRequest(ctx, http.MethodPost, b.base+"/v1/Users", form)
}

// outcome is what came of one request.
type outcome struct {
	ok  bool
	sid [sidLen]byte // for a successful create
	err string       // for a failure: method, path, status and body
}

// do sends c and reads the whole response: into buf when the body is
// needed (a create's SID, an error's example), otherwise into io.Discard.
func (b *bench) do(c call, buf *bytes.Buffer) outcome {
	resp, err := b.hc.Do(c.req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which the message already has
		}
		return outcome{err: fmt.Sprintf("%s %s: %v", c.req.Method, c.req.URL.RequestURI(), err)}
	}
	defer resp.Body.Close()
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if ok && c.idx < 0 {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return outcome{err: fmt.Sprintf("%s %s: reading the body: %v", c.req.Method, c.req.URL.RequestURI(), err)}
		}
		return outcome{ok: true}
	}
	buf.Reset()
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, 1<<20))
	switch {
	case !ok:
		return outcome{err: fmt.Sprintf("%s %s → %s: %s", c.req.Method, c.req.URL.RequestURI(), resp.Status, snippet(buf.Bytes(), 300))}
	case err != nil:
		return outcome{err: fmt.Sprintf("%s %s: reading the body: %v", c.req.Method, c.req.URL.RequestURI(), err)}
	}
	sid, found := extractSID(buf.Bytes())
	if !found {
		return outcome{err: fmt.Sprintf("%s %s → %s without a user SID: %s", c.req.Method, c.req.URL.RequestURI(), resp.Status, snippet(buf.Bytes(), 300))}
	}
	return outcome{ok: true, sid: sid}
}

func snippet(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// tally is one worker's record of a measurement.
type tally struct {
	lat        []time.Duration
	count      int
	errors     int
	firstErr   string
	firstErrAt time.Time
	lastDone   time.Time
	created    []created
}

func (t *tally) fail(msg string, at time.Time) {
	t.errors++
	if t.firstErr == "" {
		t.firstErr, t.firstErrAt = msg, at
	}
}

// measure runs op with clients workers, each sending one request after
// another, for warm-up plus duration. A request counts if it completes
// inside the window, which starts after the warm-up and ends when the last
// request issued before the deadline completes; throughput is what
// completed over the window's length.
// Errors are counted from the first request, warm-up included. CPU times of
// the serving process (pid, 0 if unknown), of parley-bench and of the whole
// machine are read at both ends of the window.
func (b *bench) measure(ctx context.Context, op string, pid, clients int) (opRun, error) {
	c := b.cfg
	start := time.Now()
	windowStart := start.Add(c.warmup)
	deadline := windowStart.Add(c.duration)

	var cpuMu sync.Mutex
	cpu0 := cpuTimes{-1, -1, -1}
	cpuTimer := time.AfterFunc(c.warmup, func() {
		cpuMu.Lock()
		defer cpuMu.Unlock()
		cpu0 = cpuNow(pid)
	})

	tallies := make([]tally, clients)
	var wg sync.WaitGroup
	var fatal atomic.Value
	for w := range tallies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := &tallies[w]
			t.lat = make([]time.Duration, 0, 4096)
			rng := mrand.New(mrand.NewPCG(uint64(start.UnixNano()), uint64(w)))
			var buf bytes.Buffer
			for ctx.Err() == nil && time.Now().Before(deadline) {
				cl, err := b.nextCall(ctx, op, rng)
				if err != nil {
					fatal.Store(err)
					return
				}
				t0 := time.Now()
				o := b.do(cl, &buf)
				done := time.Now()
				if o.ok && cl.idx >= 0 {
					t.created = append(t.created, created{cl.idx, o.sid})
				}
				if !o.ok {
					t.fail(o.err, t0) // warm-up included: every error is reported
				}
				if done.Before(windowStart) {
					continue // warm-up
				}
				t.lastDone = done
				if !o.ok {
					continue
				}
				t.count++
				t.lat = append(t.lat, done.Sub(t0))
			}
		}()
	}
	wg.Wait()
	cpuTimer.Stop()
	cpu1 := cpuNow(pid)
	if err := ctx.Err(); err != nil {
		return opRun{}, err
	}
	if err, _ := fatal.Load().(error); err != nil {
		return opRun{}, err
	}

	r := opRun{Op: op}
	var last time.Time
	var firstAt time.Time
	n := 0
	for _, t := range tallies {
		n += len(t.lat)
	}
	r.Latencies = make([]time.Duration, 0, n)
	for _, t := range tallies {
		b.pool.record(t.created)
		r.Count += t.count
		r.Errors += t.errors
		r.Latencies = append(r.Latencies, t.lat...)
		if t.lastDone.After(last) {
			last = t.lastDone
		}
		if t.firstErr != "" && (firstAt.IsZero() || t.firstErrAt.Before(firstAt)) {
			r.FirstErr, firstAt = t.firstErr, t.firstErrAt
		}
	}
	r.Elapsed = last.Sub(windowStart)
	cpuMu.Lock()
	defer cpuMu.Unlock()
	r.ServerCPU = since(cpu1.server, cpu0.server)
	r.ClientCPU = since(cpu1.client, cpu0.client)
	r.MachineCPU = since(cpu1.machine, cpu0.machine)
	return r, nil
}

// cpuTimes are CPU times used so far; -1 when unknown.
type cpuTimes struct {
	server  time.Duration // the serving process
	client  time.Duration // parley-bench
	machine time.Duration // every process on every CPU
}

// cpuNow reads the CPU time used so far by process pid (0: unknown), by
// parley-bench and by the whole machine.
func cpuNow(pid int) cpuTimes {
	t := cpuTimes{-1, -1, -1}
	if d, ok := procCPU(pid); ok && pid > 0 {
		t.server = d
	}
	if d, ok := selfCPU(); ok {
		t.client = d
	}
	if d, ok := machineBusy(); ok {
		t.machine = d
	}
	return t
}

// since is end - start, or -1 if either is unknown (or start was never
// read because the measurement was cut short).
func since(end, start time.Duration) time.Duration {
	if end < 0 || start < 0 {
		return -1
	}
	return end - start
}

// fillReport describes a fill: rows created through the API by many
// clients, to grow the database before measuring (users for the REST
// operations; conversations and messages for --messages).
type fillReport struct {
	Created  int     `json:"created"`
	Seconds  float64 `json:"seconds"`
	PerSec   float64 `json:"per_sec"`
	Errors   int     `json:"errors"`
	FirstErr string  `json:"first_error,omitempty"`
}

// preload creates users through the API with every worker until the pool
// holds target users.
func (b *bench) preload(ctx context.Context, target int) (fillReport, error) {
	want := target - int(b.pool.next.Load())
	if want <= 0 {
		return fillReport{}, nil
	}
	batches := make([][]created, b.cfg.preloadConc)
	rep, err := b.fill(ctx, "preload", "users", b.pool.size(), want, b.cfg.preloadConc,
		func(ctx context.Context, w, _ int, buf *bytes.Buffer) error {
			i := b.pool.claim(target)
			if i < 0 {
				return nil
			}
			req, err := b.createRequest(ctx, i)
			if err != nil {
				return err
			}
			o := b.do(call{req, i}, buf)
			if !o.ok {
				return errors.New(o.err)
			}
			batches[w] = append(batches[w], created{i, o.sid})
			return nil
		})
	for _, bt := range batches {
		b.pool.record(bt)
	}
	return rep, err
}

// fill calls do for items 0 to n-1 with workers concurrent clients, each
// taking the next item when done with one, and prints progress at least
// every two seconds ("preload 1,200/100,000 users"), counting before
// items already there. An item that fails counts as an error; fill gives
// up when errors pass 1% of before+n (at least 100), so that a server
// refusing everything stops the run rather than being hammered for hours.
func (b *bench) fill(ctx context.Context, verb, noun string, before, n, workers int,
	do func(ctx context.Context, worker, item int, buf *bytes.Buffer) error) (fillReport, error) {
	var rep fillReport
	target := before + n
	start := time.Now()
	var next, done, failed atomic.Int64
	var firstErr atomic.Value
	maxErrors := int64(max(100, target/100))
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()

	prevN, prevT := int64(0), start
	stopProgress := b.progress(func(now time.Time) string {
		d := done.Load()
		rate := float64(d-prevN) / now.Sub(prevT).Seconds()
		avg := float64(d) / now.Sub(start).Seconds()
		eta := "?"
		if avg > 0 {
			eta = (time.Duration(float64(int64(n)-d)/avg) * time.Second).Round(time.Second).String()
		}
		prevN, prevT = d, now
		return fmt.Sprintf("  %s %s/%s %s (%.0f%%)  %s/s now, %s/s average  ETA %s  errors %d\n",
			verb, commas(before+int(d)), commas(target), noun, 100*float64(before+int(d))/float64(target),
			commas(int(rate)), commas(int(avg)), eta, failed.Load())
	})

	var wg sync.WaitGroup
	for w := range min(workers, n) {
		wg.Go(func() {
			var buf bytes.Buffer
			for fctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if err := do(fctx, w, int(i), &buf); err != nil {
					firstErr.CompareAndSwap(nil, err.Error())
					if failed.Add(1) > maxErrors {
						cancel()
					}
					continue
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	stopProgress()
	rep.Created, rep.Errors = int(done.Load()), int(failed.Load())
	rep.Seconds = time.Since(start).Seconds()
	rep.PerSec = float64(rep.Created) / rep.Seconds
	rep.FirstErr, _ = firstErr.Load().(string)
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if failed.Load() > maxErrors || (n > 0 && rep.Created == 0) {
		return rep, fmt.Errorf("%s stopped after %d errors; the first: %s", verb, rep.Errors, rep.FirstErr)
	}
	return rep, nil
}

// walkReport describes following next_page_url from the first page of a
// list (of users, of messages) to the last.
type walkReport struct {
	Pages   int     `json:"pages"`
	Items   int     `json:"items"`
	Seconds float64 `json:"seconds"`
}

// walk pages through GET /v1/Users?PageSize=50 once, following
// meta.next_page_url, to find the URLs (with their PageTokens) of the
// middle page and of the last full page.
func (b *bench) walk(ctx context.Context) (walkReport, error) {
	pages, rep, err := b.walkList(ctx, b.base+"/v1/Users?PageSize=50", "users")
	if err != nil {
		return rep, err
	}
	b.listStart, b.listMiddle, b.listEnd = pages[0].url, pages[len(pages)/2].url, pages[lastFull(pages, 50)].url
	return rep, nil
}

// listPage is a page met on a walk: its URL, and how many items it held.
type listPage struct {
	url   string
	items int
}

// walkList pages through the list at first (a URL with its PageSize),
// following meta.next_page_url from page to page to the end, as a client
// reading all of it would, and returns every page's URL. noun is the
// list's key in the page body and in meta.key: "users" or "messages", the
// lists parley-bench walks. A list with no items is an error: there would
// be nothing to measure.
func (b *bench) walkList(ctx context.Context, first, noun string) ([]listPage, walkReport, error) {
	var rep walkReport
	var pages []listPage
	start := time.Now()
	lastNote := start
	for u := first; u != ""; {
		raw, err := b.get(ctx, u)
		if err != nil {
			return nil, rep, err
		}
		// Items are only counted: each decodes into an empty struct, which
		// keeps nothing of it.
		var body struct {
			Users    []struct{} `json:"users"`
			Messages []struct{} `json:"messages"`
			Meta     struct {
				Key         string  `json:"key"`
				NextPageURL *string `json:"next_page_url"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, rep, fmt.Errorf("GET %s: %v", u, err)
		}
		if body.Meta.Key != noun {
			return nil, rep, fmt.Errorf("GET %s: a page of %q, not of %s", u, body.Meta.Key, noun)
		}
		items := len(body.Users) + len(body.Messages)
		pages = append(pages, listPage{u, items})
		rep.Items += items
		u = ""
		if body.Meta.NextPageURL != nil {
			u = *body.Meta.NextPageURL
		}
		if time.Since(lastNote) >= 2*time.Second {
			lastNote = time.Now()
			fmt.Fprintf(b.log, "  walking the list: %s pages, %s %s\n", commas(len(pages)), commas(rep.Items), noun)
		}
	}
	rep.Pages, rep.Seconds = len(pages), time.Since(start).Seconds()
	if rep.Items == 0 {
		return nil, rep, fmt.Errorf("GET %s listed no %s", first, noun)
	}
	return pages, rep, nil
}

// lastFull is the index of the last page holding size items (the end of
// the list as a page of that size sees it), or 0 if none does.
func lastFull(pages []listPage, size int) int {
	end := len(pages) - 1
	for end > 0 && pages[end].items < size {
		end--
	}
	return end
}

// fetchBody returns a real user's body from parley, for the baseline.
func (b *bench) fetchBody(ctx context.Context) ([]byte, error) {
	_, sid := b.pool.random(mrand.New(mrand.NewPCG(1, 2)))
	return b.get(ctx, b.base+"/v1/Users/"+sid)
}

// get returns the body of a 200 answer to GET u (an absolute URL).
func (b *bench) get(ctx context.Context, u string) ([]byte, error) {
	req, err := b.newRequest(ctx, http.MethodGet, u, "")
	if err != nil {
		return nil, err
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s → %s: %s", req.URL.RequestURI(), resp.Status, snippet(body, 300))
	}
	return body, nil
}

// commas writes n with thousands separators.
func commas(n int) string {
	if n < 0 {
		return "-" + commas(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// progress writes line's text to the log every two seconds until the
// returned stop is called (which waits for the last line).
func (b *bench) progress(line func(now time.Time) string) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case now := <-tick.C:
				io.WriteString(b.log, line(now))
			}
		}
	}()
	return func() { close(quit); <-done }
}
