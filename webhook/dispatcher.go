package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Timeout is how long parley waits for a webhook answer: Twilio's
// Conversations webhooks time out after 5 seconds.
const Timeout = 5 * time.Second

// DispatcherOptions configure a Dispatcher; zero values take the defaults.
type DispatcherOptions struct {
	Store     parley.Store
	AuthToken string
	// Client sends the webhooks; one with Timeout and no redirects when nil.
	Client *http.Client
	// MaxAttempts is how many times a delivery is tried before it is kept
	// as failed (default 10).
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled for each further
	// one, with jitter, up to MaxBackoff (defaults 1s and 5m).
	Backoff, MaxBackoff time.Duration
	// PerTarget bounds concurrent requests to one host, per node (default
	// 4), so a slow receiver holds only its own share.
	PerTarget int
	// Workers bounds concurrent requests in all, per node (default 32).
	Workers int
	// Poll is how often the outbox is looked at without a wake-up (default
	// 500ms). This node's writes wake the dispatcher (Wake), freed slots
	// and due retries it notices itself; polls find other nodes' events
	// and the deliveries of a node that died.
	Poll time.Duration
	// Lease is how long a claimed delivery is reserved for this node; if
	// the node dies, another takes the delivery over after it (default 10s:
	// Timeout plus as long again for recording the outcome).
	Lease  time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// newClient is the HTTP client webhooks go out with: Twilio's timeout, and
// no redirects followed, since a redirect is an answer, not a delivery.
func newClient() *http.Client {
	return &http.Client{
		Timeout:       Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

const (
	// maxPrefetch bounds the deliveries claimed for a host beyond those it
	// can be sent at once.
	maxPrefetch = 64
	// maxRecordBatch bounds the outcomes recorded in one Update, so that a
	// burst of failures cannot hold the SQLite writer for long.
	maxRecordBatch = 256
)

// Dispatcher delivers the webhook outbox. Every delivery was written in the
// same transaction as the change it reports, so nothing is sent for a change
// that did not commit and nothing committed goes unsent: a delivery stays
// pending (and is retried by whichever node finds it due) until a 2xx answer
// or the attempt limit. Claims are leased, so several nodes on one database
// never send the same delivery at once.
//
// The outbox is served per receiving host (parley.DeliveryHost). Each wake-up
// asks the store which hosts have due work (one index probe per host, not a
// row per delivery) and claims, for each host only, what it can start now:
// a host at its PerTarget limit is not claimed from at all, so deliveries
// queued by the thousand for a receiver that never answers cost the others
// nothing. A freed slot wakes the dispatcher at once. For a host that has
// been answering fast, a few more are claimed than can start (a prefetch,
// sized to what the host gets through in a fraction of the lease), so that
// a freed slot goes straight to the next delivery without a round trip to
// the database; a held delivery that waited too long for its slot is handed
// back rather than sent late in its lease. Outcomes are recorded in batches,
// one Update for whatever finished meanwhile, since each Update is a commit.
type Dispatcher struct {
	o    DispatcherOptions
	hold time.Duration // how long a claimed delivery may wait to start; 0: no prefetch
	wake chan struct{} // Wake, polls, due retries: look at the outbox
	kick chan struct{} // a slot freed or a prefetch ran low: claim for hosts known to be due
	rec  recorder
	wg   sync.WaitGroup // sends in flight

	mu       sync.Mutex
	hosts    map[string]*hostState
	inflight int       // sends in flight, all hosts
	nextAt   time.Time // the earliest known due time after the last look; zero when none
	stopping bool      // Run is returning: start nothing more
	turn     int       // rotates which host is served first when Workers runs short
	// attempts counts the attempts made, per event type (Attempts).
	attempts map[string]AttemptCounts
}

// AttemptCounts are the attempts a dispatcher made of one event type's
// deliveries since it started, and how many of them failed.
type AttemptCounts struct {
	// Attempts counts the requests sent (a retry is another attempt).
	Attempts uint64
	// Failures counts the attempts that got no 2xx answer: an error or a
	// timeout, or any other status, retried or final.
	Failures uint64
}

// Attempts returns, per event type (onMessageAdded, …), the attempts this
// dispatcher has made and how many failed: cumulative counts, for
// metrics. They are kept here and read by whoever reports them (api's
// /metrics reads them at each scrape) rather than pushed through a hook
// to a metrics library: the dispatcher is made before the HTTP server
// whose registry reports them (the app it serves needs its Wake), so a
// count it keeps is right from the first attempt whatever is wired
// after, and the package needs no Prometheus. Event types are parley's
// own few, so the map stays small.
func (d *Dispatcher) Attempts() map[string]AttemptCounts {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.attempts)
}

// hostState is what the dispatcher knows of one receiving host.
type hostState struct {
	inflight int
	held     []held // claimed, waiting for a slot, in due order
	// due says the host had due deliveries nobody leased at the last look,
	// and no claim has since come back short.
	due bool
	// latency is the smoothed time the host takes to answer; 0 until it
	// first answered, and Timeout after it failed to: prefetch is for
	// hosts known to be fast.
	latency time.Duration
}

// held is a delivery claimed but not yet started.
type held struct {
	d  parley.Delivery
	at time.Time // when it was claimed
}

// NewDispatcher returns a Dispatcher; call Run to start it.
func NewDispatcher(o DispatcherOptions) *Dispatcher {
	if o.Client == nil {
		o.Client = newClient()
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.PerTarget <= 0 {
		o.PerTarget = 4
	}
	if o.Workers <= 0 {
		o.Workers = 32
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Lease <= 0 {
		o.Lease = 2 * Timeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{
		o: o,
		// A held delivery must start early enough that its send (up to
		// Timeout) and the recording of its outcome end within the lease:
		// it may wait half of what the lease leaves after a send.
		hold:     max(0, (o.Lease-Timeout)/2),
		wake:     make(chan struct{}, 1),
		kick:     make(chan struct{}, 1),
		hosts:    map[string]*hostState{},
		attempts: map[string]AttemptCounts{},
	}
	d.rec = recorder{d: d, signal: make(chan struct{}, 1)}
	return d
}

// Wake asks the dispatcher to look at the outbox now; it never blocks, so
// request handlers can call it after every commit.
func (d *Dispatcher) Wake() { signal(d.wake) }

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is cancelled, then hands back the deliveries it
// holds but has not started, waits for those in flight (each bounded by
// Timeout), records every outcome, and returns.
func (d *Dispatcher) Run(ctx context.Context) {
	recorded := make(chan struct{})
	go func() { d.rec.run(); close(recorded) }()
	poll := time.NewTicker(d.o.Poll)
	defer poll.Stop()
	due := time.NewTimer(time.Hour)
	defer due.Stop()
	look := true
	for ctx.Err() == nil {
		d.fill(ctx, look)
		d.mu.Lock()
		if next := d.nextAt; next.IsZero() {
			due.Stop()
		} else {
			due.Reset(max(0, next.Sub(d.o.Now())))
		}
		d.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-d.wake:
			look = true
		case <-poll.C:
			look = true
		case <-due.C:
			look = true
		case <-d.kick:
			look = false
		}
	}
	d.mu.Lock()
	d.stopping = true
	for _, h := range d.hosts {
		for _, hd := range h.held {
			d.rec.add(hd.d, true)
		}
		h.held = nil
	}
	d.mu.Unlock()
	d.wg.Wait()
	d.rec.stop()
	<-recorded
}

// fill claims and starts what the hosts with due work can take. With look,
// it first asks the store which hosts have due work; without, it claims
// for the hosts the last look found due (a slot freed, and nothing new need
// have been queued).
func (d *Dispatcher) fill(ctx context.Context, look bool) {
	now := d.o.Now()
	var pending []parley.PendingHost
	if look {
		err := d.o.Store.View(ctx, func(tx parley.Tx) error {
			var err error
			pending, err = tx.PendingHosts(ctx, now)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				d.o.Logger.Error("webhook outbox: looking for due deliveries failed", "err", err)
			}
			// Try again at the next poll, not at once: a due time already
			// passed would otherwise make the loop spin on the failure.
			d.mu.Lock()
			d.nextAt = time.Time{}
			d.mu.Unlock()
			return
		}
	}
	d.mu.Lock()
	if look {
		d.sawPending(pending, now)
	}
	d.releaseStale(now)
	limits := d.limits()
	d.mu.Unlock()
	if len(limits) == 0 {
		return
	}
	var claimed []parley.Delivery
	err := d.o.Store.Update(ctx, func(tx parley.Tx) error {
		var err error
		claimed, err = tx.ClaimDeliveries(ctx, now, now.Add(d.o.Lease), limits)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			d.o.Logger.Error("webhook outbox: claim failed", "err", err)
		}
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	got := map[string]int{}
	for _, del := range claimed {
		h := d.host(del.Host)
		h.held = append(h.held, held{del, now})
		got[del.Host]++
	}
	for host, n := range limits {
		if got[host] < n {
			// Nothing more is due there (or another node holds it) until
			// the next look says otherwise.
			d.host(host).due = false
		}
	}
	d.releaseStale(d.o.Now()) // the claim took a while; what waited too long goes back
	d.start(ctx)
}

// sawPending takes in what the store says is pending: which hosts have due
// work, and the earliest due time to wake up at. Hosts with nothing pending
// and nothing in flight are forgotten.
func (d *Dispatcher) sawPending(pending []parley.PendingHost, now time.Time) {
	listed := make(map[string]bool, len(pending))
	for _, p := range pending {
		listed[p.Host] = true
	}
	for name, h := range d.hosts {
		h.due = false
		if h.inflight == 0 && len(h.held) == 0 && !listed[name] {
			delete(d.hosts, name)
		}
	}
	if !d.nextAt.After(now) {
		d.nextAt = time.Time{}
	}
	for _, p := range pending {
		if p.NextAttemptAt.After(now) {
			d.wakeAt(p.NextAttemptAt)
		} else {
			d.host(p.Host).due = true
		}
	}
}

// wakeAt makes the dispatcher look at the outbox by t; it reports whether
// that is sooner than it would have.
func (d *Dispatcher) wakeAt(t time.Time) bool {
	if d.nextAt.IsZero() || t.Before(d.nextAt) {
		d.nextAt = t
		return true
	}
	return false
}

func (d *Dispatcher) host(name string) *hostState {
	h := d.hosts[name]
	if h == nil {
		h = &hostState{}
		d.hosts[name] = h
	}
	return h
}

// limits says how many deliveries to claim from each due host: what its
// free slots can start now, within Workers, plus its prefetch. A host whose
// prefetch is still half full is left alone, so that a fast host is
// claimed from in batches rather than once per freed slot.
func (d *Dispatcher) limits() map[string]int {
	if d.stopping || d.rec.backlog() >= maxRecordBatch {
		// Claim nothing while outcomes wait to be recorded by the batch
		// (the recorder kicks when it has written one): sending faster
		// than the store records would let the backlog, and the time a
		// claimed delivery takes to be recorded, grow until leases ran out.
		return nil
	}
	names := make([]string, 0, len(d.hosts))
	for name, h := range d.hosts {
		if h.due {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	free := d.o.Workers - d.inflight
	limits := map[string]int{}
	d.turn++
	for i := range names {
		if free <= 0 {
			// Every worker is busy: claim nothing, not even a prefetch,
			// so that hosts take turns as workers free up.
			break
		}
		name := names[(i+d.turn)%len(names)]
		h := d.hosts[name]
		want := d.wants(h)
		if want == 0 {
			continue
		}
		idle := max(0, d.o.PerTarget-h.inflight-len(h.held))
		if idle > free {
			want = free // Workers is the limit: claim only what can start
		}
		free -= min(idle, want)
		limits[name] = want
	}
	return limits
}

// wants is how many deliveries h should be claimed: enough for its free
// slots plus its prefetch; none while its slots are busy and its prefetch
// is more than half full, so that a fast host is claimed from in batches
// rather than once per freed slot.
func (d *Dispatcher) wants(h *hostState) int {
	target := d.o.PerTarget + d.prefetch(h)
	want := target - h.inflight - len(h.held)
	idle := d.o.PerTarget - h.inflight - len(h.held) // slots with nothing to start
	if want <= 0 || (idle <= 0 && 2*want < target) {
		return 0
	}
	return want
}

// prefetch is how many deliveries to hold for h beyond its slots: what it
// gets through in a quarter of the hold time at the pace it has been
// answering, so that held deliveries start well within their lease.
func (d *Dispatcher) prefetch(h *hostState) int {
	if h.latency <= 0 || d.hold <= 0 {
		return 0
	}
	n := int(d.hold / 4 * time.Duration(d.o.PerTarget) / h.latency)
	return min(n, maxPrefetch)
}

// start sends held deliveries while their hosts and Workers have room.
func (d *Dispatcher) start(ctx context.Context) {
	for _, h := range d.hosts {
		for !d.stopping && len(h.held) > 0 && h.inflight < d.o.PerTarget && d.inflight < d.o.Workers {
			next := h.held[0].d
			h.held = h.held[1:]
			h.inflight++
			d.inflight++
			d.wg.Add(1)
			go d.work(ctx, h, next)
		}
	}
}

// releaseStale hands back held deliveries that waited too long for a slot
// (their host turned slow), so that they are claimed afresh, here or by
// another node, rather than sent late in their lease.
func (d *Dispatcher) releaseStale(now time.Time) {
	for _, h := range d.hosts {
		d.releaseStaleOf(h, now)
	}
}

func (d *Dispatcher) releaseStaleOf(h *hostState, now time.Time) {
	for len(h.held) > 0 && now.Sub(h.held[0].at) > d.hold {
		d.rec.add(h.held[0].d, true)
		h.held = h.held[1:]
	}
}

// work sends del, then the host's next held delivery, and so on while the
// host has one, then gives its slot back and wakes the dispatcher to fill
// it.
func (d *Dispatcher) work(ctx context.Context, h *hostState, del parley.Delivery) {
	defer d.wg.Done()
	for {
		began := time.Now()
		sent, answered := d.deliver(ctx, del)
		took := time.Since(began)

		d.mu.Lock()
		if sent.Attempts > del.Attempts { // not when nothing could be sent
			n := d.attempts[sent.EventType]
			n.Attempts++
			if sent.Status != parley.DeliveryDelivered {
				n.Failures++
			}
			d.attempts[sent.EventType] = n
		}
		// Counted before it is recorded: whoever sees the outcome in the
		// outbox sees it counted.
		d.rec.add(sent, false)
		if !answered {
			took = Timeout // no prefetch for a host that does not answer
		}
		if h.latency == 0 {
			h.latency = took
		} else {
			h.latency += (took - h.latency) / 8
		}
		d.releaseStaleOf(h, d.o.Now())
		if d.stopping || len(h.held) == 0 {
			h.inflight--
			d.inflight--
			d.mu.Unlock()
			signal(d.kick)
			return
		}
		del = h.held[0].d
		h.held = h.held[1:]
		more := h.due && d.wants(h) > 0
		d.mu.Unlock()
		if more {
			signal(d.kick)
		}
	}
}

// deliver sends one delivery and returns it with the attempt's outcome, and
// whether an answer came. The send runs to the end even during shutdown
// (bounded by Timeout), so an answer received is never forgotten.
func (d *Dispatcher) deliver(ctx context.Context, del parley.Delivery) (parley.Delivery, bool) {
	params, err := url.ParseQuery(del.Params)
	if err != nil {
		del.Status, del.LastError = parley.DeliveryFailed, "stored parameters are unreadable: "+err.Error()
		del.LastResponse = nil // nothing was sent
		return del, true
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), Timeout)
	defer cancel()
	if params.Has("RetryCount") {
		// Twilio's RetryCount: 0 on the first attempt, then the retries
		// so far. It is part of what the signature covers, so it is set
		// here, per attempt, not when the delivery was queued.
		params.Set("RetryCount", strconv.Itoa(del.Attempts))
	}
	req := Build(d.o.AuthToken, del.Method, del.URL, params)
	status, answer, sendErr := send(ctx, d.o.Client, req, del.Sid)
	del.Attempts++
	del.LastStatusCode = status
	del.LastError = ""
	del.LastResponse = nil
	if sendErr == nil {
		text := responseText(answer)
		del.LastResponse = &text
	}
	switch {
	case sendErr == nil && status >= 200 && status < 300:
		del.Status = parley.DeliveryDelivered
	case sendErr != nil || status == http.StatusTooManyRequests || status >= 500:
		switch {
		case sendErr != nil && ctx.Err() == context.DeadlineExceeded:
			del.LastError = fmt.Sprintf("no answer within %v", Timeout)
		case sendErr != nil:
			del.LastError = sendErr.Error()
		default:
			del.LastError = fmt.Sprintf("HTTP %d", status)
		}
		if del.Attempts >= d.o.MaxAttempts {
			del.Status = parley.DeliveryFailed
		} else {
			del.NextAttemptAt = d.o.Now().Add(d.backoff(del.Attempts))
		}
	default:
		// Any other answer (a 4xx, a redirect) is final: retrying the same
		// request would get the same answer.
		del.Status = parley.DeliveryFailed
		del.LastError = fmt.Sprintf("HTTP %d", status)
	}
	d.o.Logger.Debug("webhook", "event", del.EventType, "url", del.URL, "status", status,
		"attempt", del.Attempts, "outcome", del.Status, "err", del.LastError)
	return del, sendErr == nil
}

// backoff is Backoff × 2^(attempts-1), capped at MaxBackoff, with "equal
// jitter": somewhere between half and all of it, so that retries from a
// burst of failures spread out instead of arriving together.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	wait := d.o.MaxBackoff
	if attempts < 32 {
		if w := d.o.Backoff << (attempts - 1); w > 0 && w < wait {
			wait = w
		}
	}
	return wait/2 + rand.N(wait/2+1)
}

// recorder writes outcomes to the outbox in batches: whatever finished
// while the previous batch was being written goes in the next, one Update
// each, so that a node sending a thousand webhooks a second does not ask
// for a thousand commits.
type recorder struct {
	d      *Dispatcher
	signal chan struct{}
	mu     sync.Mutex
	queue  []record
	done   bool
}

// record is a delivery to write back: an attempt's outcome, or (release) a
// held delivery handed back unsent, its lease cleared and nothing else
// changed.
type record struct {
	d       parley.Delivery
	release bool
}

func (r *recorder) add(d parley.Delivery, release bool) {
	r.mu.Lock()
	r.queue = append(r.queue, record{d, release})
	r.mu.Unlock()
	signal(r.signal)
}

// backlog is how many outcomes wait to be written.
func (r *recorder) backlog() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue)
}

// stop makes run return once everything added so far is written.
func (r *recorder) stop() {
	r.mu.Lock()
	r.done = true
	r.mu.Unlock()
	signal(r.signal)
}

func (r *recorder) run() {
	for range r.signal {
		for {
			r.mu.Lock()
			n := min(len(r.queue), maxRecordBatch)
			batch := r.queue[:n:n]
			r.queue = r.queue[n:]
			done := r.done && len(r.queue) == 0
			r.mu.Unlock()
			if n > 0 {
				r.write(batch)
			}
			if done {
				return
			}
			if n == 0 {
				break
			}
		}
	}
}

// write records a batch in one Update, and then makes the dispatcher look
// for what it made due: handed-back deliveries at once, retries at their
// time.
func (r *recorder) write(batch []record) {
	now := r.d.o.Now()
	err := r.d.o.Store.Update(context.Background(), func(tx parley.Tx) error {
		for _, rec := range batch {
			del := rec.d
			if !rec.release {
				del.DateUpdated = now
			}
			err := tx.FinishDelivery(context.Background(), del)
			if err != nil && !errors.Is(err, parley.ErrNotFound) { // a row gone has nothing to record
				return err
			}
		}
		return nil
	})
	if err != nil {
		// The leases run out and the deliveries are tried again: at least
		// once, never lost.
		r.d.o.Logger.Error("webhook outbox: recording attempts failed", "deliveries", len(batch), "err", err)
		signal(r.d.kick)
		return
	}
	sooner := len(batch) == maxRecordBatch // claims may have waited for this write
	r.d.mu.Lock()
	for _, rec := range batch {
		switch {
		case rec.release:
			r.d.host(rec.d.Host).due = true
			sooner = true
		case rec.d.Status == parley.DeliveryPending:
			sooner = r.d.wakeAt(rec.d.NextAttemptAt) || sooner
		}
	}
	r.d.mu.Unlock()
	if sooner {
		signal(r.d.kick) // the loop claims, and sets its timer anew
	}
}

// send performs one HTTP request and returns the status and the start of
// the answer's body (parley.MaxResponse bytes and the first byte beyond,
// which tells responseText the body went on), or an error when no answer
// came (connection refused, timeout). Up to 64 KiB more is read and
// dropped, so that the connection can carry the next delivery.
func send(ctx context.Context, c *http.Client, r Request, token string) (int, []byte, error) {
	var body io.Reader
	if r.Method == "POST" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return 0, nil, err
	}
	if r.Method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Twilio-Signature", r.Signature)
	req.Header.Set("I-Twilio-Idempotency-Token", token)
	req.Header.Set("User-Agent", "TwilioProxy/1.1 (parley)")
	res, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the method and URL are recorded separately
		}
		return 0, nil, err
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, parley.MaxResponse+1))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, answer, nil
}

// responseText is what is kept of an answer's body (read as send does):
// at most parley.MaxResponse bytes of UTF-8 text. A body cut short loses
// the rune the cut fell in; bytes that are not UTF-8, and NUL (which
// PostgreSQL's text refuses), become U+FFFD. Replacements can lengthen
// the text, so it is cut again, on a rune boundary, after them.
func responseText(body []byte) string {
	if len(body) > parley.MaxResponse {
		body = body[:parley.MaxResponse]
		// Drop a rune the cut split (up to 3 bytes of a 4-byte one).
		for i := 1; i <= utf8.UTFMax-1 && i <= len(body); i++ {
			if r := body[len(body)-i]; utf8.RuneStart(r) {
				if !utf8.FullRune(body[len(body)-i:]) {
					body = body[:len(body)-i]
				}
				break
			}
		}
	}
	text := strings.ReplaceAll(strings.ToValidUTF8(string(body), "\uFFFD"), "\x00", "\uFFFD")
	for len(text) > parley.MaxResponse {
		_, size := utf8.DecodeLastRuneInString(text)
		text = text[:len(text)-size]
	}
	return text
}
