package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// report is everything one invocation measured; --json prints it as is.
type report struct {
	Command     string         `json:"command"`
	Machine     machine        `json:"machine"`
	Target      string         `json:"target"`
	Database    string         `json:"database"`
	Concurrency int            `json:"concurrency"`
	PreloadConc int            `json:"preload_concurrency"`
	DurationS   float64        `json:"duration_seconds"`
	WarmupS     float64        `json:"warmup_seconds"`
	Runs        int            `json:"runs"`
	Sizes       []sizeReport   `json:"sizes"`
	Startup     *startupReport `json:"startup,omitempty"`
	Webhooks    *webhookReport `json:"webhooks,omitempty"` // --webhooks
	Messages    *messageReport `json:"messages,omitempty"` // --messages
	Compare     *compareReport `json:"compare,omitempty"`  // --compare
	Clients     *clientsReport `json:"clients,omitempty"`  // --clients
}

type machine struct {
	CPUs  int    `json:"cpus"`
	Model string `json:"cpu_model,omitempty"`
	OS    string `json:"os"`
	Go    string `json:"go"`
}

// sizeReport is the measurements at one user count.
type sizeReport struct {
	Users           int         `json:"users"`
	Known           int         `json:"users_created_by_bench"` // users parley-bench created and can pick from
	Preload         fillReport  `json:"preload"`
	Walk            *walkReport `json:"list_walk,omitempty"`
	Ops             []opSummary `json:"ops"`
	ServerRSS       *rss        `json:"server_rss,omitempty"`
	BaselinePeakRSS int64       `json:"baseline_server_peak_rss_bytes,omitempty"`
}

// rss is the parley process's resident memory.
type rss struct {
	PeakBytes        int64 `json:"peak_bytes"`                   // since the server started, preloading included
	MeasurePeakBytes int64 `json:"measure_peak_bytes,omitempty"` // while measuring at this size (0: could not reset VmHWM)
	CurrentBytes     int64 `json:"current_bytes"`                // after measuring at this size
}

// startupReport is the restart on the largest database.
type startupReport struct {
	Users           int     `json:"users"`
	StopSeconds     float64 `json:"stop_seconds"` // SIGTERM until exit
	StopError       string  `json:"stop_error,omitempty"`
	ServingSeconds  float64 `json:"serving_seconds"` // process start until /healthz answered 200
	BannerSeconds   float64 `json:"banner_seconds"`  // process start until the banner was printed
	PeakRSSBytes    int64   `json:"peak_rss_bytes"`  // by the time it was serving
	FirstFetchMs    float64 `json:"first_fetch_ms"`
	FirstFetchError string  `json:"first_fetch_error,omitempty"`
}

func writeJSON(w io.Writer, r *report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeTable prints the report for people: one table per user count.
func writeTable(w io.Writer, r *report) {
	model := ""
	if r.Machine.Model != "" {
		model = ", " + r.Machine.Model
	}
	fmt.Fprintf(w, "\n%s\n", r.Command)
	fmt.Fprintf(w, "machine: %d CPUs%s, %s, %s\n", r.Machine.CPUs, model, r.Machine.OS, r.Machine.Go)
	fmt.Fprintf(w, "server:  %s (%s)\n", r.Target, r.Database)
	if r.Webhooks != nil {
		writeWebhooks(w, r)
		return
	}
	if r.Messages != nil {
		writeMessages(w, r)
		return
	}
	if r.Compare != nil {
		writeCompare(w, r)
		return
	}
	if r.Clients != nil {
		writeClients(w, r)
		return
	}
	runs := "1 run"
	if r.Runs > 1 {
		runs = fmt.Sprintf("medians of %d runs", r.Runs)
	}
	preloadConc := ""
	if r.PreloadConc != r.Concurrency {
		preloadConc = fmt.Sprintf(" (%d while preloading)", r.PreloadConc)
	}
	fmt.Fprintf(w, "load:    %d concurrent clients%s, %gs per operation after %gs warm-up, %s; ratio = ops/s ÷ the same run's baseline ops/s\n",
		r.Concurrency, preloadConc, r.DurationS, r.WarmupS, runs)
	fmt.Fprintf(w, "CPU:     cores kept busy while measuring: server = the process answering (parley, or the baseline server), client = parley-bench, other = the rest of the machine (neighbours, and a PostgreSQL server if used)\n")
	for _, s := range r.Sizes {
		fmt.Fprintf(w, "\n%s users", commas(s.Users))
		if s.Known != s.Users {
			fmt.Fprintf(w, " (%s created by parley-bench when measured)", commas(s.Known))
		}
		if s.Preload.Created > 0 {
			fmt.Fprintf(w, " — preloaded %s in %.1fs (%s/s, %d errors)",
				commas(s.Preload.Created), s.Preload.Seconds, commas(int(s.Preload.PerSec)), s.Preload.Errors)
		}
		if s.Walk != nil {
			fmt.Fprintf(w, "; list walk: %s pages (%s users) in %.2fs", commas(s.Walk.Pages), commas(s.Walk.Items), s.Walk.Seconds)
		}
		fmt.Fprintln(w)
		writeOps(w, s.Ops)
		if s.ServerRSS != nil {
			fmt.Fprintf(w, "server RSS: peak %s since start", mb(s.ServerRSS.PeakBytes))
			if s.ServerRSS.MeasurePeakBytes > 0 {
				fmt.Fprintf(w, ", peak %s while measuring", mb(s.ServerRSS.MeasurePeakBytes))
			}
			fmt.Fprintf(w, ", %s after", mb(s.ServerRSS.CurrentBytes))
			if s.BaselinePeakRSS > 0 {
				fmt.Fprintf(w, " (baseline server peak %s)", mb(s.BaselinePeakRSS))
			}
			fmt.Fprintln(w)
		}
		for _, o := range s.Ops {
			if o.Errors > 0 {
				fmt.Fprintf(w, "errors in %s: %d; the first: %s\n", o.Op, o.Errors, o.FirstError)
			}
		}
		if s.Preload.Errors > 0 {
			fmt.Fprintf(w, "errors while preloading: %d; the first: %s\n", s.Preload.Errors, s.Preload.FirstErr)
		}
	}
	if st := r.Startup; st != nil {
		fmt.Fprintf(w, "\nstart-up on the last database (%s users, counting those the create measurement added): serving (/healthz 200) %.0f ms after process start (banner at %.0f ms); peak RSS then %s; first fetch %.1f ms; the previous process stopped in %.2fs after SIGTERM\n",
			commas(st.Users), st.ServingSeconds*1000, st.BannerSeconds*1000, mb(st.PeakRSSBytes), st.FirstFetchMs, st.StopSeconds)
		if st.StopError != "" {
			fmt.Fprintf(w, "the previous process exited with: %s\n", st.StopError)
		}
		if st.FirstFetchError != "" {
			fmt.Fprintf(w, "the first fetch after restart failed: %s\n", st.FirstFetchError)
		}
	}
}

// writeOps prints one table row per operation, then the first error of
// each that had any.
func writeOps(w io.Writer, ops []opSummary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tops/s\tp50\tp99\tratio\terrors\tCPU server\tCPU client\tCPU other\t")
	for _, o := range ops {
		ratio := "-"
		if o.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", o.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t\n", o.Op, commas(int(o.OpsPerSec+0.5)),
			fmtMs(o.P50Ms), fmtMs(o.P99Ms), ratio, o.Errors, fmtCores(o.ServerCPU), fmtCores(o.ClientCPU), fmtCores(o.OtherCPU))
	}
	tw.Flush()
}

func fmtMs(v float64) string {
	switch {
	case v <= 0:
		return "-"
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 100:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.0fms", v)
}

func fmtCores(v float64) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func mb(b int64) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(b)/(1<<20)), ".0") + " MiB"
}

// writeWebhooks prints the webhook mode's figures.
func writeWebhooks(w io.Writer, r *report) {
	wh := r.Webhooks
	fmt.Fprintf(w, "load:    users created by %d concurrent clients, each with X-Twilio-Webhook-Enabled: true (one onUserAdded delivery each)\n", r.Concurrency)
	fmt.Fprintf(w, "\nthroughput to one receiver answering 204 at once: %s deliveries in %.2fs = %s/s (%s queued by creates in %.1fs while the receiver held its requests; counted from when it let go)\n",
		commas(wh.Drained), wh.DrainSeconds, commas(int(wh.PerSec+0.5)), commas(wh.Deliveries), wh.FillSeconds)
	fmt.Fprintf(w, "  the receiver saw at most %d requests in flight at once; %d deliveries arrived more than once\n", wh.PeakInFlight, wh.Duplicates)
	fmt.Fprintf(w, "\na healthy receiver's delay, from a create's 201 to its webhook's arrival (%d creates one after another):\n", wh.Samples)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tp50\tp99\tmax\t")
	fmt.Fprintf(tw, "nothing else queued (baseline)\t%s\t%s\t%s\t\n", fmtDelay(wh.Baseline.P50Ms), fmtDelay(wh.Baseline.P99Ms), fmtDelay(wh.Baseline.MaxMs))
	fmt.Fprintf(tw, "%s queued for a host that never answers\t%s\t%s\t%s\t\n", commas(wh.Queued),
		fmtDelay(wh.Loaded.P50Ms), fmtDelay(wh.Loaded.P99Ms), fmtDelay(wh.Loaded.MaxMs))
	fmt.Fprintf(tw, "and %s more for a host that refuses connections\t%s\t%s\t%s\t\n", commas(wh.Queued),
		fmtDelay(wh.LoadedDead.P50Ms), fmtDelay(wh.LoadedDead.P99Ms), fmtDelay(wh.LoadedDead.MaxMs))
	tw.Flush()
	fmt.Fprintf(w, "  (the %s were queued in %.1fs; the slow host got %d requests meanwhile, each held until parley's 5 s timeout)\n",
		commas(wh.Queued), wh.QueueSeconds, wh.SlowReceived)
	if wh.CreateErrors > 0 {
		fmt.Fprintf(w, "errors creating users: %d; the first: %s\n", wh.CreateErrors, wh.FirstCreateEr)
	}
}

// fmtDelay is fmtMs, but a delay of 0 (the webhook beat the 201) shows.
func fmtDelay(v float64) string {
	if v <= 0 {
		return "0"
	}
	return fmtMs(v)
}

// writeMessages prints the message mode's figures: a table per client
// count, then the targets.
func writeMessages(w io.Writer, r *report) {
	m := r.Messages
	runs := "1 run"
	if r.Runs > 1 {
		runs = fmt.Sprintf("medians of %d runs", r.Runs)
	}
	fmt.Fprintf(w, "load:    %gs per operation after %gs warm-up, %s; ratio = ops/s ÷ the same run's baseline ops/s at the same client count, the baseline answering a same-sized body (",
		r.DurationS, r.WarmupS, runs)
	for i, b := range m.BaselineBodies {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%s %s bytes", b.Path, commas(b.Bytes))
	}
	fmt.Fprintln(w, ")")
	fmt.Fprintf(w, "CPU:     cores kept busy while measuring: server = the process answering (parley, or the baseline server), client = parley-bench, other = the rest of the machine (neighbours, and a PostgreSQL server if used)\n")
	fc, fm := m.FillConversations, m.FillMessages
	fmt.Fprintf(w, "fill:    %s conversations, each with one user as a participant, in %.1fs (%d errors); %s messages into the big conversation by %d clients in %.1fs (%s/s, %d errors)\n",
		commas(fc.Created), fc.Seconds, fc.Errors, commas(fm.Created), r.PreloadConc, fm.Seconds, commas(int(fm.PerSec+0.5)), fm.Errors)
	fmt.Fprintf(w, "walk:    the big conversation, %s pages (%s messages) via next_page_url in %.1fs; page_end is the last full page, Page=%d, by its PageToken; page_end_desc is Order=desc's first page\n",
		commas(m.Walk.Pages), commas(m.Walk.Items), m.Walk.Seconds, m.EndPage)
	for _, p := range m.Passes {
		clients := fmt.Sprintf("%d concurrent clients", p.Clients)
		if p.Clients == 1 {
			clients = "one client"
		}
		fmt.Fprintf(w, "\n%s\n", clients)
		writeOps(w, p.Ops)
		for _, o := range p.Ops {
			if o.Errors > 0 {
				fmt.Fprintf(w, "errors in %s: %d; the first: %s\n", o.Op, o.Errors, o.FirstError)
			}
		}
	}
	if m.ServerRSS != nil {
		fmt.Fprintf(w, "\nserver RSS: peak %s since start (the fill included), %s after\n", mb(m.ServerRSS.PeakBytes), mb(m.ServerRSS.CurrentBytes))
	}
	writeTargets(w, m.Targets)
	for _, f := range []struct {
		what string
		r    fillReport
	}{{"the conversations", fc}, {"the big conversation", fm}} {
		if f.r.Errors > 0 {
			fmt.Fprintf(w, "errors filling %s: %d; the first: %s\n", f.what, f.r.Errors, f.r.FirstErr)
		}
	}
}

// writeTargets prints the figures held to their targets, met or missed.
func writeTargets(w io.Writer, targets []targetCheck) {
	fmt.Fprintln(w, "\ntargets")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\ttarget\tmeasured\t\t")
	for _, t := range targets {
		verdict := "missed"
		if t.Met {
			verdict = "met"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", t.Figure, t.Target, t.Measured, verdict)
	}
	tw.Flush()
}

// writeClients prints the client mode's figures: the connect phase, a
// row per latency phase (two on two nodes: the other node's sockets, the
// figure, and the same node's), then the targets.
func writeClients(w io.Writer, r *report) {
	cr := r.Clients
	k := cr.Connect
	fmt.Fprintf(w, "load:    Go twilsock clients in parley-bench standing in for @twilio/conversations; after init each sends:\n")
	for _, s := range cr.StartupRequests {
		fmt.Fprintf(w, "           %s\n", s)
	}
	fmt.Fprintf(w, "         (+: participants of a conversation only), and acknowledges every notification and ping with a reply, as the SDK does\n")
	fmt.Fprintf(w, "CPU:     cores kept busy: server = parley (each node), client = parley-bench, pg = PostgreSQL's processes (whoever they serve), other = the rest of the machine\n")

	fmt.Fprintf(w, "\nconnect: %s clients, %d at a time, each signing in for the first time (its user created by the sign-in)\n", commas(k.Clients), k.Concurrency)
	fmt.Fprintf(w, "  %s logged in (init 200), %s ready (subscribed), %d errors, in %.1fs: %s logins/s\n",
		commas(k.LoggedIn), commas(k.Ready), k.Errors, k.Seconds, commas(int(k.PerSec+0.5)))
	fmt.Fprintf(w, "  per client: dial → init 200 p50 %s p99 %s max %s; dial → subscribed p50 %s p99 %s max %s\n",
		fmtMs(k.Login.P50Ms), fmtMs(k.Login.P99Ms), fmtMs(k.Login.MaxMs), fmtMs(k.Startup.P50Ms), fmtMs(k.Startup.P99Ms), fmtMs(k.Startup.MaxMs))
	fmt.Fprintf(w, "  CPU while connecting: %s\n", fmtUse(k.CPU))
	fmt.Fprintf(w, "held:    %s of them still open after %.1fs; CPU at rest: %s\n", commas(k.StillOpen), k.HoldSeconds, fmtUse(k.HoldCPU))
	fmt.Fprintf(w, "  server RSS %s before the first dial, %s with them open (%s per client), peak %s since start\n",
		mb(k.RSSBeforeBytes), mb(k.RSSAfterBytes), kib(k.PerClientBytes), mb(k.PeakRSSBytes))
	if k.FirstError != "" {
		fmt.Fprintf(w, "connect errors: %d; the first: %s\n", k.Errors, k.FirstError)
	}

	fmt.Fprintf(w, "\ndelivery latency: REST POST of a message → its list_item_added read on each participant's socket; \"201\" from the moment the 201 was read\n")
	fmt.Fprintf(w, "  (arrivals before it count as 0: \"early\"), \"send\" from the moment the POST was sent; the %s idle clients stay open on node 1 throughout\n", commas(k.StillOpen))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tsockets\tmsg/s\tmessages\tdeliveries\tmissing\tREST p50\t201 p50\t201 p99\t201 max\tearly\tsend p50\tsend p99\tsend max\tCPU server\tclient\tpg\tother\t")
	row := func(name, sockets string, p latencyPhase, l latencySet, deliveries, missing string, cpu bool) {
		server, client, pg, other := "", "", "", ""
		if cpu {
			server, client, pg, other = fmtServers(p.CPU), fmtCores(p.CPU.Client), fmtCores(p.CPU.Postgres), fmtCores(p.CPU.Other)
		}
		fmt.Fprintf(tw, "%s\t%s\t%g\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, sockets, p.Rate,
			commas(p.Messages), deliveries, missing, fmtMs(p.REST.P50Ms),
			fmtDelay(l.From201.P50Ms), fmtDelay(l.From201.P99Ms), fmtDelay(l.From201.MaxMs), l.Early,
			fmtDelay(l.FromSend.P50Ms), fmtDelay(l.FromSend.P99Ms), fmtDelay(l.FromSend.MaxMs), server, client, pg, other)
	}
	for _, p := range cr.Phases {
		deliveries, missing := commas(p.Received)+"/"+commas(p.Expected), commas(p.Missing)
		if p.Nodes == 1 {
			row(p.Name+", one node", fmt.Sprintf("%d", p.Participants), p, p.Latency, deliveries, missing, true)
			continue
		}
		row(fmt.Sprintf("%s, %d nodes: other node", p.Name, p.Nodes), fmt.Sprintf("%d", p.Latency.Samples/max(p.Messages, 1)),
			p, p.Latency, deliveries, missing, true)
		if p.SameNode != nil {
			row("  the node that took the POST", fmt.Sprintf("%d", p.SameNode.Samples/max(p.Messages, 1)), p, *p.SameNode, "", "", false)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "  (timed: the messages after each phase's warm-up; deliveries and missing: all of them, warm-up included; CPU over the timed window, server per node)\n")
	for _, p := range cr.Phases {
		var rss []string
		for _, b := range p.PeakRSS {
			rss = append(rss, mb(b))
		}
		fmt.Fprintf(w, "  %s on %d node(s): %s notifications in all (%s per message per participant); POSTs started at most %s late; server peak RSS %s\n",
			p.Name, p.Nodes, commas(p.Notifications), perMessage(p), fmtMs(p.MaxSendLagMs), strings.Join(rss, ", "))
		if p.PostErrors > 0 {
			fmt.Fprintf(w, "  POST errors: %d; the first: %s\n", p.PostErrors, p.FirstPostErr)
		}
		if p.Duplicates > 0 || p.Unexpected > 0 {
			fmt.Fprintf(w, "  %d deliveries repeated, %d of an index no POST was answered with\n", p.Duplicates, p.Unexpected)
		}
	}
	writeTargets(w, cr.Targets)
}

// perMessage is how many notifications each participant got per
// message, with two decimals.
func perMessage(p latencyPhase) string {
	n := (p.Warmup + p.Messages - p.PostErrors) * p.Participants
	if n <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(p.Notifications)/float64(n))
}

// fmtServers is each server node's cores kept busy, joined by "+".
func fmtServers(u cpuUse) string {
	var s []string
	for _, c := range u.Servers {
		s = append(s, fmtCores(c))
	}
	return strings.Join(s, "+")
}

// fmtUse is cores kept busy, for a line of text.
func fmtUse(u cpuUse) string {
	out := fmt.Sprintf("server %s, client %s", fmtServers(u), fmtCores(u.Client))
	if u.Postgres >= 0 {
		out += ", pg " + fmtCores(u.Postgres)
	}
	return out + ", other " + fmtCores(u.Other)
}
