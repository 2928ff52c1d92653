package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

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
	// PerTarget bounds concurrent deliveries to one host (default 4), so a
	// slow receiver holds only its own share.
	PerTarget int
	// Workers bounds concurrent deliveries in all (default 32).
	Workers int
	// Poll is how often the outbox is checked without a wake-up (default
	// 500ms); wake-ups come from this node's writes, polls find due retries
	// and other nodes' events.
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

// Dispatcher delivers the webhook outbox. Every delivery was written in the
// same transaction as the change it reports, so nothing is sent for a change
// that did not commit and nothing committed goes unsent: a delivery stays
// pending (and is retried by whichever node finds it due) until a 2xx answer
// or the attempt limit. Claims are leased, so several nodes on one database
// never send the same delivery at once.
type Dispatcher struct {
	o       DispatcherOptions
	wake    chan struct{}
	slots   chan struct{}
	mu      sync.Mutex
	targets map[string]int // in-flight deliveries per host
	wg      sync.WaitGroup
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
	return &Dispatcher{
		o:       o,
		wake:    make(chan struct{}, 1),
		slots:   make(chan struct{}, o.Workers),
		targets: map[string]int{},
	}
}

// Wake asks the dispatcher to look at the outbox now; it never blocks, so
// request handlers can call it after every commit.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is cancelled, then waits for the deliveries in
// flight (each bounded by Timeout) and records their outcomes.
func (d *Dispatcher) Run(ctx context.Context) {
	tick := time.NewTicker(d.o.Poll)
	defer tick.Stop()
	defer d.wg.Wait()
	for {
		for d.dispatch(ctx) {
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-tick.C:
		}
	}
}

// dispatch claims as many due deliveries as there are free workers and
// starts them; it reports whether it filled every worker (so more may be
// waiting).
func (d *Dispatcher) dispatch(ctx context.Context) bool {
	free := cap(d.slots) - len(d.slots)
	if free == 0 || ctx.Err() != nil {
		return false
	}
	now := d.o.Now()
	var claimed []parley.Delivery
	err := d.o.Store.Update(ctx, func(tx parley.Tx) error {
		var err error
		claimed, err = tx.ClaimDeliveries(ctx, now, now.Add(d.o.Lease), free)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			d.o.Logger.Error("webhook outbox: claim failed", "err", err)
		}
		return false
	}
	var deferred []parley.Delivery
	for _, del := range claimed {
		host := hostOf(del.URL)
		if !d.acquire(host) {
			deferred = append(deferred, del)
			continue
		}
		d.slots <- struct{}{}
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer func() { <-d.slots; d.release(host) }()
			d.deliver(del)
		}()
	}
	if len(deferred) > 0 {
		d.postpone(deferred)
	}
	return len(claimed) == free && len(deferred) == 0
}

// acquire takes one of host's PerTarget places, if one is free.
func (d *Dispatcher) acquire(host string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.targets[host] >= d.o.PerTarget {
		return false
	}
	d.targets[host]++
	return true
}

func (d *Dispatcher) release(host string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.targets[host]--; d.targets[host] <= 0 {
		delete(d.targets, host)
	}
}

// postpone hands back deliveries whose host is at its concurrency bound,
// without counting an attempt, to be claimed again shortly.
func (d *Dispatcher) postpone(list []parley.Delivery) {
	now := d.o.Now()
	err := d.o.Store.Update(context.Background(), func(tx parley.Tx) error {
		for _, del := range list {
			del.NextAttemptAt, del.DateUpdated = now.Add(d.o.Poll), now
			if err := tx.FinishDelivery(context.Background(), del); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// The leases run out and the deliveries are claimed again.
		d.o.Logger.Error("webhook outbox: postpone failed", "err", err)
	}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Host
}

// deliver sends one delivery and records the outcome. It runs to the end
// even during shutdown (bounded by Timeout), so an answer received is never
// forgotten.
func (d *Dispatcher) deliver(del parley.Delivery) {
	params, err := url.ParseQuery(del.Params)
	if err != nil {
		del.Status, del.LastError = parley.DeliveryFailed, "stored parameters are unreadable: "+err.Error()
		d.finish(del)
		return
	}
	req := Build(d.o.AuthToken, del.Method, del.URL, params)
	status, sendErr := send(d.o.Client, req, del.Sid)
	del.Attempts++
	del.LastStatusCode = status
	del.LastError = ""
	switch {
	case sendErr == nil && status >= 200 && status < 300:
		del.Status = parley.DeliveryDelivered
	case sendErr != nil || status == http.StatusTooManyRequests || status >= 500:
		if sendErr != nil {
			del.LastError = sendErr.Error()
		} else {
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
	d.finish(del)
	d.o.Logger.Debug("webhook", "event", del.EventType, "url", del.URL, "status", status,
		"attempt", del.Attempts, "outcome", del.Status, "err", del.LastError)
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

func (d *Dispatcher) finish(del parley.Delivery) {
	del.DateUpdated = d.o.Now()
	err := d.o.Store.Update(context.Background(), func(tx parley.Tx) error {
		return tx.FinishDelivery(context.Background(), del)
	})
	if err != nil {
		// The lease runs out and the delivery is tried again: at least
		// once, never lost.
		d.o.Logger.Error("webhook outbox: recording an attempt failed", "sid", del.Sid, "err", err)
	}
}

// send performs one HTTP request and returns the status, or an error when
// no answer came (connection refused, timeout).
func send(c *http.Client, r Request, token string) (int, error) {
	var body io.Reader
	if r.Method == "POST" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequest(r.Method, r.URL, body)
	if err != nil {
		return 0, err
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
		return 0, err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, nil
}
