package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/webhook"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsPath is where Prometheus scrapes a node (Options.Metrics).
const metricsPath = "/metrics"

// metrics are a node's Prometheus series, in a registry of the Server's
// own (no global state: tests run many servers in one process).
//
// What the Server makes (the client hub, its requests) it measures
// through hooks it fills with the series (observe, fanOut); what was made
// before it and lives on (the store, the webhook dispatcher, the
// database's backlog) is read at each scrape by collectors, from counts
// those keep themselves, so that their packages need no Prometheus and
// their counts are right whenever they are wired in.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// fanOut is the time from a Sync event's commit to its write onto a
	// client's socket (clientapi.HubOptions.Sent).
	fanOut prometheus.Histogram
	// timersFired counts conversation timers fired on this node.
	timersFired *prometheus.CounterVec
	// stop ends the subscription to the app's events.
	stop func()
	// handler serves the registry to scrapers.
	handler http.Handler
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	m.fanOut = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "parley_client_event_fanout_seconds",
		Help: "Time from a Sync event's commit (as this node heard of it: its own write, or another node's " +
			"notification) to its write onto a client's socket, once per connection sent to. Replays " +
			"(reconnects, repaired gaps) are not counted.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	m.timersFired = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_conversation_timers_fired_total",
		Help: "Conversation timers fired on this node (onConversationStateUpdated with Reason TIMER), " +
			"by the state they moved the conversation to (inactive, closed).",
	}, []string{"state"})
	// The two states a timer moves to, at 0 from the start, so that a
	// rate over them is defined before the first fires.
	m.timersFired.WithLabelValues(string(parley.StateInactive))
	m.timersFired.WithLabelValues(string(parley.StateClosed))
	m.stop = s.app.Subscribe(func(e parley.Event) {
		if e.Type == parley.EventConversationStateUpdated && e.Reason == parley.ReasonTimer {
			m.timersFired.WithLabelValues(string(e.StateTo)).Inc()
		}
	})
	m.registry.MustRegister(m.requests, m.latency, m.fanOut, m.timersFired,
		&backlogCollector{s: s},
		&storeCollector{app: s.app},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_client_connections",
			Help: "Client SDK connections of this node that have subscribed to something.",
		}, func() float64 { feeds, _ := s.hub.Stats(); return float64(feeds) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_client_subscribed_objects",
			Help: "Sync objects this node's client connections are subscribed to.",
		}, func() float64 { _, objects := s.hub.Stats(); return float64(objects) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return m
}

// backlogCollector reports the database's backlog (core.App.Backlog),
// counted at each scrape: right across nodes, and costing nothing between
// scrapes. A scrape whose count fails (the database is down) leaves the
// two series out and keeps the others.
type backlogCollector struct{ s *Server }

var (
	outboxDesc = prometheus.NewDesc("parley_webhook_outbox_pending",
		"Webhook deliveries pending in the outbox (due, being sent, or waiting for a retry), counted in the "+
			"database at each scrape: every node of one database reports the same figure (aggregate with max, not sum).",
		nil, nil)
	timersDueDesc = prometheus.NewDesc("parley_conversation_timers_due",
		"Conversations whose timer is due and has not fired yet, counted in the database at each scrape "+
			"(the same figure on every node of one database); above 0 for more than a second, the timer loop is behind.",
		nil, nil)
)

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDesc
	ch <- timersDueDesc
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, err := c.s.app.Backlog(ctx)
	if err != nil {
		c.s.log.Warn("metrics: counting the backlog", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(b.PendingDeliveries))
	ch <- prometheus.MustNewConstMetric(timersDueDesc, prometheus.GaugeValue, float64(b.DueTimers))
}

// storeCollector reports the store's pools and commits
// (parley.StatsReporter), whichever backend it is.
type storeCollector struct{ app *core.App }

var (
	poolLabels      = []string{"pool"}
	connectionsDesc = prometheus.NewDesc("parley_db_connections",
		"Database connections open, by pool (SQLite: read, and write, whose one connection the writer always holds; "+
			"PostgreSQL: pool) and state (in_use, idle).", []string{"pool", "state"}, nil)
	maxConnectionsDesc = prometheus.NewDesc("parley_db_connections_max",
		"The most connections a pool opens.", poolLabels, nil)
	waitsDesc = prometheus.NewDesc("parley_db_connection_waits_total",
		"Connection acquisitions that found none idle and waited, by pool.", poolLabels, nil)
	waitSecondsDesc = prometheus.NewDesc("parley_db_connection_wait_seconds_total",
		"Time spent waiting for a connection, by pool.", poolLabels, nil)
	commitWritesDesc = prometheus.NewDesc("parley_db_writes_per_commit",
		"Writes each commit carried (SQLite's group commit runs concurrent writes in one transaction); "+
			"absent on PostgreSQL, which commits each on its own.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{connectionsDesc, maxConnectionsDesc, waitsDesc, waitSecondsDesc, commitWritesDesc} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	st, ok := c.app.StoreStats()
	if !ok {
		return
	}
	for _, p := range st.Pools {
		ch <- prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(p.InUse), p.Name, "in_use")
		ch <- prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(p.Idle), p.Name, "idle")
		ch <- prometheus.MustNewConstMetric(maxConnectionsDesc, prometheus.GaugeValue, float64(p.Max), p.Name)
		ch <- prometheus.MustNewConstMetric(waitsDesc, prometheus.CounterValue, float64(p.Waits), p.Name)
		ch <- prometheus.MustNewConstMetric(waitSecondsDesc, prometheus.CounterValue, p.WaitTime.Seconds(), p.Name)
	}
	if cs := st.Commits; cs != nil {
		buckets := make(map[float64]uint64, len(cs.Bounds))
		for i, b := range cs.Bounds {
			buckets[b] = cs.Counts[i]
		}
		ch <- prometheus.MustNewConstHistogram(commitWritesDesc, cs.Commits, float64(cs.Writes), buckets)
	}
}

// webhookCollector reports a dispatcher's attempts and failures by event
// type (webhook.Dispatcher.Attempts), read at each scrape.
type webhookCollector struct{ d *webhook.Dispatcher }

var (
	attemptsDesc = prometheus.NewDesc("parley_webhook_attempts_total",
		"Webhook delivery attempts this node made (requests sent, answered or not), by event type; each retry counts.", []string{"event"}, nil)
	failuresDesc = prometheus.NewDesc("parley_webhook_failures_total",
		"Webhook delivery attempts this node made that got no 2xx answer (no answer, a timeout, or another status), by event type.",
		[]string{"event"}, nil)
)

func (c webhookCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- attemptsDesc
	ch <- failuresDesc
}

func (c webhookCollector) Collect(ch chan<- prometheus.Metric) {
	for event, n := range c.d.Attempts() {
		ch <- prometheus.MustNewConstMetric(attemptsDesc, prometheus.CounterValue, float64(n.Attempts), event)
		ch <- prometheus.MustNewConstMetric(failuresDesc, prometheus.CounterValue, float64(n.Failures), event)
	}
}

// observe counts one answered request. The route is the pattern that
// served it ("GET /v1/Users/{Sid}"), so that series stay few whatever
// the SIDs.
func (m *metrics) observe(route, method string, status int, took time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(took.Seconds())
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (read
// deadlines of streamed uploads).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
