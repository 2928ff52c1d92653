package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The webhook mode (--webhooks) measures parley's post-event webhook
// dispatcher, with receivers in this process on loopback:
//
//   - throughput: a service's PostWebhookUrl points at a receiver that
//     answers 204 at once. While --webhook-deliveries users are created in it
//     (X-Twilio-Webhook-Enabled: true, so each queues one onUserAdded
//     delivery), the receiver holds the requests it gets (for at most 4 s,
//     less than parley's 5 s timeout, so that none is retried), so that the
//     queue fills; then it lets go, and deliveries per second are counted
//     from that moment to the arrival of the last one. The receiver also
//     reports the most requests it had in flight at once (parley's per-host
//     limit) and any delivery it got twice.
//   - isolation: the time from the 201 of a user create in a service whose
//     webhook points at a healthy receiver to that webhook's arrival, over
//     --webhook-samples creates one after another, first with nothing else
//     queued (the same-run baseline), then with --webhook-queued deliveries
//     queued for a receiver that never answers (each request waits out
//     parley's 5 s timeout), then with as many again queued for a host that
//     refuses connections (every attempt fails at once and is retried).

// webhookReport is what the webhook mode measured.
type webhookReport struct {
	Deliveries  int     `json:"deliveries"`
	FillSeconds float64 `json:"fill_seconds"` // creating the users that queued them
	// DuringFill were answered while the queue filled (held 4 s each);
	// Drained arrived after the receiver let go, over DrainSeconds.
	DuringFill   int     `json:"delivered_during_fill"`
	Drained      int     `json:"drained"`
	DrainSeconds float64 `json:"drain_seconds"`
	PerSec       float64 `json:"deliveries_per_sec"`
	PeakInFlight int64   `json:"peak_in_flight"` // most requests the receiver had at once
	Duplicates   int     `json:"duplicates"`     // requests beyond the first for one delivery

	Queued       int     `json:"slow_host_queued"`
	QueueSeconds float64 `json:"slow_host_fill_seconds"`
	SlowReceived int64   `json:"slow_host_requests"` // requests the slow host got meanwhile
	Samples      int     `json:"samples"`
	Baseline     delays  `json:"healthy_delay_nothing_queued"`
	Loaded       delays  `json:"healthy_delay_slow_host_queued"`
	// LoadedDead is with as many again queued for a host that refuses
	// connections, on top of the slow host's.
	LoadedDead       delays  `json:"healthy_delay_slow_and_dead_hosts_queued"`
	DeadQueueSeconds float64 `json:"dead_host_fill_seconds"`

	CreateErrors  int    `json:"create_errors"`
	FirstCreateEr string `json:"first_create_error,omitempty"`
}

// delays summarises the healthy host's samples.
type delays struct {
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

func summarizeDelays(samples []time.Duration) delays {
	s := slices.Clone(samples)
	slices.Sort(s)
	return delays{P50Ms: ms(percentile(s, 50)), P99Ms: ms(percentile(s, 99)), MaxMs: ms(percentile(s, 100))}
}

// receiver is a webhook receiver on loopback: it records which deliveries
// arrived (by I-Twilio-Idempotency-Token) and when (by Identity), counts
// requests in flight, and answers 204 at once, or after gate is closed, or
// (never) only when parley gives up on the request.
type receiver struct {
	srv   *http.Server
	url   string
	never bool
	gate  chan struct{} // while open, requests wait; closed by release

	inflight, peak, requests atomic.Int64

	mu       sync.Mutex
	tokens   map[string]int
	released time.Time                 // when the gate opened
	after    int                       // deliveries that first arrived after that
	last     time.Time                 // the latest first arrival of a delivery
	waiting  map[string]chan time.Time // identity → who waits for it
	arrived  map[string]time.Time      // identities nobody waited for yet
	closing  chan struct{}             // closed when the receiver shuts down
}

func startReceiver(never, gated bool) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String(), never: never, tokens: map[string]int{},
		waiting: map[string]chan time.Time{}, arrived: map[string]time.Time{}, closing: make(chan struct{})}
	if gated {
		r.gate = make(chan struct{})
	}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	n := r.inflight.Add(1)
	defer r.inflight.Add(-1)
	for p := r.peak.Load(); n > p && !r.peak.CompareAndSwap(p, n); p = r.peak.Load() {
	}
	r.requests.Add(1)
	req.ParseForm()
	identity, token := req.PostForm.Get("Identity"), req.Header.Get("I-Twilio-Idempotency-Token")
	r.mu.Lock()
	r.tokens[token]++
	if r.tokens[token] == 1 {
		r.last = at
		if !r.released.IsZero() {
			r.after++
		}
	}
	if c, ok := r.waiting[identity]; ok {
		c <- at
		delete(r.waiting, identity)
	} else {
		r.arrived[identity] = at
	}
	r.mu.Unlock()
	switch {
	case r.never:
		select {
		case <-req.Context().Done(): // parley gave up (its 5 s timeout)
		case <-r.closing:
		}
		// Drop the connection without an answer, rather than let net/http
		// answer 200 for a handler that wrote nothing.
		panic(http.ErrAbortHandler)
	case r.gate != nil:
		// Held until the gate opens, but answered before parley's 5 s
		// timeout, so that a long fill causes no retries.
		select {
		case <-r.gate:
		case <-time.After(maxHold):
		case <-req.Context().Done():
		case <-r.closing:
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// maxHold is how long a gated receiver holds a request: less than
// parley's 5 s timeout.
const maxHold = 4 * time.Second

// release opens the gate and returns how many deliveries arrived before.
func (r *receiver) release() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	close(r.gate)
	r.released = time.Now()
	return len(r.tokens)
}

// arrival returns a channel that gets the time identity's webhook arrived.
func (r *receiver) arrival(identity string) <-chan time.Time {
	c := make(chan time.Time, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if at, ok := r.arrived[identity]; ok {
		c <- at
		delete(r.arrived, identity)
	} else {
		r.waiting[identity] = c
	}
	return c
}

// delivered returns how many distinct deliveries arrived (in all, and
// since the gate opened), how many requests repeated one, and when the
// latest first arrived.
func (r *receiver) delivered() (distinct, after, dups int, last time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.tokens {
		dups += n - 1
	}
	return len(r.tokens), r.after, dups, r.last
}

func (r *receiver) close() {
	close(r.closing)
	r.srv.Close()
}

// webhooks is the webhook mode: start parley (unless --target), measure,
// report.
func (b *bench) webhooks(ctx context.Context) (*report, error) {
	c := b.cfg
	b.hc = newHTTPClient(c.concurrency)
	b.auth = basicAuth(c.accountSid, c.authToken)
	rep := &report{
		Machine:     machine{CPUs: runtime.NumCPU(), Model: cpuModel(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()},
		Concurrency: c.concurrency,
	}
	return rep, b.measureWebhooks(ctx, rep)
}

func (b *bench) measureWebhooks(ctx context.Context, rep *report) error {
	c := b.cfg
	switch {
	case c.target != "":
		b.base = c.target
		rep.Target, rep.Database = c.target, "already running (its receivers must reach this machine's loopback)"
		if err := waitHealthy(ctx, b.hc, b.base, nil); err != nil {
			return err
		}
	default:
		if err := b.serveOwn(ctx, rep, "parley-webhooks.db"); err != nil {
			return err
		}
	}
	if err := b.checkAuth(ctx); err != nil {
		return err
	}
	fast, err := startReceiver(false, true)
	if err != nil {
		return err
	}
	defer fast.close()
	healthy, err := startReceiver(false, false)
	if err != nil {
		return err
	}
	defer healthy.close()
	slow, err := startReceiver(true, false)
	if err != nil {
		return err
	}
	defer slow.close()

	w := &webhookReport{Deliveries: c.webhookDeliveries, Queued: c.webhookQueued, Samples: c.webhookSamples}
	rep.Webhooks = w
	fail := func(n int, first string) {
		w.CreateErrors += n
		if w.FirstCreateEr == "" {
			w.FirstCreateEr = first
		}
	}

	// Throughput: fill the queue while the receiver holds what it gets,
	// then let go and count.
	fmt.Fprintf(b.log, "\n== webhook throughput: %s deliveries to one fast receiver\n", commas(c.webhookDeliveries))
	svc, err := b.webhookService(ctx, "webhook-throughput", fast.url+"/hook")
	if err != nil {
		return err
	}
	start := time.Now()
	n, first := b.createUsers(ctx, svc, "fast", c.webhookDeliveries)
	fail(n, first)
	w.FillSeconds = time.Since(start).Seconds()
	fmt.Fprintf(b.log, "  queued by %s creates in %.1fs; the receiver is holding %d requests\n",
		commas(c.webhookDeliveries-n), w.FillSeconds, fast.inflight.Load())
	want := c.webhookDeliveries - n
	released := time.Now()
	before := fast.release()
	deadline := released.Add(2*time.Minute + time.Duration(want)*10*time.Millisecond)
	for {
		got, _, _, _ := fast.delivered()
		if got >= want {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d webhooks arrived within %v", got, want, deadline.Sub(released).Round(time.Second))
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(time.Millisecond)
	}
	_, after, dups, last := fast.delivered()
	w.DuringFill, w.Drained = before, after
	if after > 0 {
		w.DrainSeconds = last.Sub(released).Seconds()
		w.PerSec = float64(after) / w.DrainSeconds
	}
	w.PeakInFlight, w.Duplicates = fast.peak.Load(), dups
	fmt.Fprintf(b.log, "  %s delivered during the fill, %s in %.2fs after the receiver let go: %s/s; at most %d in flight; %d duplicates\n",
		commas(before), commas(after), w.DrainSeconds, commas(int(w.PerSec)), w.PeakInFlight, dups)

	// Isolation: the healthy host's delay, without and with a slow host's
	// queue.
	fmt.Fprintf(b.log, "\n== a healthy host's webhook delay, %d samples each\n", c.webhookSamples)
	healthySvc, err := b.webhookService(ctx, "webhook-healthy", healthy.url+"/hook")
	if err != nil {
		return err
	}
	slowSvc, err := b.webhookService(ctx, "webhook-slow", slow.url+"/hook")
	if err != nil {
		return err
	}
	baseline, err := b.sampleDelays(ctx, healthySvc, healthy, "base", c.webhookSamples)
	if err != nil {
		return err
	}
	w.Baseline = summarizeDelays(baseline)
	fmt.Fprintf(b.log, "  nothing queued: p50 %.1f ms, p99 %.1f ms\n", w.Baseline.P50Ms, w.Baseline.P99Ms)
	start = time.Now()
	n, first = b.createUsers(ctx, slowSvc, "slow", c.webhookQueued)
	fail(n, first)
	w.QueueSeconds = time.Since(start).Seconds()
	fmt.Fprintf(b.log, "  queued %s deliveries for the slow host in %.1fs; it holds %d requests\n",
		commas(c.webhookQueued-n), w.QueueSeconds, slow.inflight.Load())
	loaded, err := b.sampleDelays(ctx, healthySvc, healthy, "loaded", c.webhookSamples)
	if err != nil {
		return err
	}
	w.Loaded = summarizeDelays(loaded)
	w.SlowReceived = slow.requests.Load()
	fmt.Fprintf(b.log, "  %s queued for the slow host: p50 %.1f ms, p99 %.1f ms (the slow host got %d requests meanwhile)\n",
		commas(c.webhookQueued), w.Loaded.P50Ms, w.Loaded.P99Ms, w.SlowReceived)

	// And as many again for a host that refuses connections: every attempt
	// fails at once and is retried with backoff.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	dead := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	deadSvc, err := b.webhookService(ctx, "webhook-dead", dead)
	if err != nil {
		return err
	}
	start = time.Now()
	n, first = b.createUsers(ctx, deadSvc, "dead", c.webhookQueued)
	fail(n, first)
	w.DeadQueueSeconds = time.Since(start).Seconds()
	both, err := b.sampleDelays(ctx, healthySvc, healthy, "dead", c.webhookSamples)
	if err != nil {
		return err
	}
	w.LoadedDead = summarizeDelays(both)
	fmt.Fprintf(b.log, "  and %s more for a host that refuses connections: p50 %.1f ms, p99 %.1f ms\n",
		commas(c.webhookQueued), w.LoadedDead.P50Ms, w.LoadedDead.P99Ms)
	if w.CreateErrors > 0 {
		return fmt.Errorf("%d creates failed; the first: %s", w.CreateErrors, w.FirstCreateEr)
	}
	return nil
}

// webhookService creates a service whose post-event webhooks go to target.
func (b *bench) webhookService(ctx context.Context, name, target string) (string, error) {
	var svc struct {
		Sid string `json:"sid"`
	}
	if err := b.post(ctx, "/v1/Services", url.Values{"FriendlyName": {name}}, false, &svc); err != nil {
		return "", err
	}
	err := b.post(ctx, "/v1/Services/"+svc.Sid+"/Configuration/Webhooks",
		url.Values{"PostWebhookUrl": {target}, "Method": {"POST"}}, false, nil)
	return svc.Sid, err
}

// post sends a form and decodes a 2xx JSON answer into out (if not nil).
func (b *bench) post(ctx context.Context, path string, form url.Values, webhooks bool, out any) error {
	req, err := b.newRequest(ctx, http.MethodPost, b.base+path, form.Encode())
	if err != nil {
		return err
	}
	if webhooks {
		req.Header.Set("X-Twilio-Webhook-Enabled", "true")
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s → %s: %s", path, resp.Status, snippet(body, 300))
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// createUsers creates n users in svc with webhooks on, with every worker,
// and returns how many failed and the first failure.
func (b *bench) createUsers(ctx context.Context, svc, prefix string, n int) (int, string) {
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range min(b.cfg.concurrency, n) {
		wg.Go(func() {
			var buf bytes.Buffer
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				req, err := b.userRequest(ctx, svc, fmt.Sprintf("%s-%s-%d", prefix, b.pool.nonce, i))
				if err == nil {
					if o := b.do(call{req, -1}, &buf); !o.ok {
						err = errors.New(o.err)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	wg.Wait()
	first, _ := firstErr.Load().(string)
	return int(failed.Load()), first
}

func (b *bench) userRequest(ctx context.Context, svc, identity string) (*http.Request, error) {
	req, err := b.newRequest(ctx, http.MethodPost, b.base+"/v1/Services/"+svc+"/Users",
		url.Values{"Identity": {identity}}.Encode())
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Twilio-Webhook-Enabled", "true")
	return req, nil
}

// sampleGap is the pause between two samples.
const sampleGap = 150 * time.Millisecond

// sampleDelays creates n users in svc one after another and measures, for
// each, the time from its 201 to the arrival of its webhook at recv. A
// webhook can arrive before the client has read the 201 (parley sends it
// once the write commits): that counts as no delay.
func (b *bench) sampleDelays(ctx context.Context, svc string, recv *receiver, prefix string, n int) ([]time.Duration, error) {
	var out []time.Duration
	var buf bytes.Buffer
	for i := range n {
		identity := fmt.Sprintf("%s-%s-%d", prefix, b.pool.nonce, i)
		arrived := recv.arrival(identity)
		req, err := b.userRequest(ctx, svc, identity)
		if err != nil {
			return nil, err
		}
		if o := b.do(call{req, -1}, &buf); !o.ok {
			return nil, errors.New(o.err)
		}
		created := time.Now()
		select {
		case at := <-arrived:
			out = append(out, max(0, at.Sub(created)))
		case <-time.After(30 * time.Second):
			return nil, fmt.Errorf("the webhook for %s did not arrive within 30s", identity)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		// Samples apart, not a burst, and spread over more than parley's
		// 5 s timeout, so that the slow host's requests time out and are
		// retried while they are taken.
		time.Sleep(sampleGap)
	}
	return out, nil
}
