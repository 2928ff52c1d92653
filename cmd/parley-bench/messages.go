package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The message mode (--messages) measures what a chat application does all
// day, on one database (SQLite in a temp dir, or --db), against the same
// kind of same-run baseline as the REST operations:
//
//   - message create (durable), by --concurrency clients each picking one
//     of --messages-conversations conversations at random, and by as many
//     into one hot conversation (the big one below). The big conversation's
//     fill is itself a hot-conversation create at --preload-concurrency,
//     and its rate is reported too, but the figure is a timed window after
//     a warm-up like every other: the fill has no warm-up, and runs over a
//     conversation growing from nothing.
//   - a page of 50 messages (GET …/Messages?PageSize=50, oldest first) at
//     the start and at the end of a conversation holding --messages-big
//     messages, at --concurrency clients (throughput) and at one client
//     (latency without queueing). The end is measured twice: as the last
//     full page a client paging from the start reaches, by the keyset
//     PageToken in the next_page_url before it (found by following
//     next_page_url once through the whole conversation: 20,000 requests
//     for a million messages, which takes seconds next to the minutes of
//     the fill, and is the real thing; a PageToken cannot be made up, it
//     is signed), and as the first page of Order=desc, the newest 50, which
//     is how an application shows a conversation. Both should cost what the
//     start costs; their ratios to it are reported.
//   - a user's conversations (GET /v1/Users/US…/Conversations?PageSize=50,
//     the first page), the user being a participant of every one of the
//     --messages-conversations conversations, at both client counts.
//
// Reads are measured first, at --concurrency and then at one client, and
// creates last, so that the reads see exactly the filled database. The
// baseline server answers three paths with bodies parley gave: a message
// (a create's 201), the start page, and the user's page of conversations;
// each operation is compared with the baseline of its own size, measured
// right before it at the same client count.

// The operations of --messages, in the order each run measures them.
var (
	messageReads   = []string{"baseline_page", "page_start", "page_end", "page_end_desc", "baseline_user_conversations", "user_conversations"}
	messageCreates = []string{"baseline_message", "create_spread", "create_hot"}
	// messageBaselines is the baseline server's path for each baseline
	// operation, whose body is the size of the operations after it.
	messageBaselines = map[string]string{
		"baseline_page": "/page", "baseline_user_conversations": "/user-conversations", "baseline_message": "/message",
	}
)

// The targets the message figures are held to.
const (
	targetSpreadCreates = 5000 // per second, on SQLite
	targetHotCreates    = 2000 // per second
	targetEndPage       = 1.5  // the end page's cost over the start page's, at most
	targetUserConvsMs   = 5.0  // p50 at one client, less than
)

// messageWorld is what the message mode created and the URLs its
// operations hit.
type messageWorld struct {
	reader      string   // the identity in every one of convs
	readerSid   string   // its user
	convs       []string // the conversations the spread creates pick from
	big         string   // the big conversation, also the hot one
	authors     []string // the big conversation's participants
	pageStart   string
	pageEnd     string // the last full page, by its PageToken
	pageEndDesc string // Order=desc, the first page
	userConvs   string
}

// messageReport is what the message mode measured.
type messageReport struct {
	Conversations int `json:"conversations"`
	BigMessages   int `json:"big_conversation_messages"`
	// FillConversations created the conversations, each with the reader
	// as a participant (two requests an item).
	FillConversations fillReport    `json:"fill_conversations"`
	FillMessages      fillReport    `json:"fill_big_conversation"`
	Walk              walkReport    `json:"big_conversation_walk"`
	EndPage           int           `json:"end_page"`        // the end page's number (Page=, from 0) on the walk
	BaselineBodies    []bodySize    `json:"baseline_bodies"` // by path
	Passes            []messagePass `json:"passes"`          // at --concurrency, then at one client
	Targets           []targetCheck `json:"targets"`
	ServerRSS         *rss          `json:"server_rss,omitempty"` // after the last measurement; peak since start
}

// bodySize is a baseline body's size.
type bodySize struct {
	Path  string `json:"path"`
	Bytes int    `json:"bytes"`
}

// messagePass is the operations measured at one client count.
type messagePass struct {
	Clients int         `json:"clients"`
	Ops     []opSummary `json:"ops"`
}

func (p messagePass) op(name string) (opSummary, bool) {
	for _, o := range p.Ops {
		if o.Op == name {
			return o, true
		}
	}
	return opSummary{}, false
}

// targetCheck is one figure held to its target.
type targetCheck struct {
	Figure   string `json:"figure"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// messages is the message mode: start parley (unless --target), fill,
// measure, report.
func (b *bench) messages(ctx context.Context) (*report, error) {
	c := b.cfg
	rep := b.begin()
	rep.Messages = &messageReport{Conversations: c.messagesConversations, BigMessages: c.messagesBig}
	switch {
	case c.target != "":
		b.base = c.target
		rep.Target, rep.Database = c.target, "already running"
		if err := waitHealthy(ctx, b.hc, b.base, nil); err != nil {
			return nil, err
		}
	default:
		if err := b.serveOwn(ctx, rep, "parley-messages.db"); err != nil {
			return nil, err
		}
	}
	if err := b.checkAuth(ctx); err != nil {
		return nil, err
	}
	mr := rep.Messages
	if err := b.fillMessages(ctx, mr); err != nil {
		return nil, err
	}
	if err := b.measureMessages(ctx, mr); err != nil {
		return nil, err
	}
	if b.srv != nil {
		if peak, cur, ok := procMemory(b.srv.pid()); ok {
			mr.ServerRSS = &rss{PeakBytes: peak, CurrentBytes: cur}
		}
	}
	mr.Targets = messageTargets(mr, c.concurrency, isPostgres(b.db))
	return rep, nil
}

// fillMessages creates the reader, the conversations with the reader in
// each, and the big conversation with its messages; walks the big one to
// its end; and starts the baseline server with bodies parley gave.
func (b *bench) fillMessages(ctx context.Context, mr *messageReport) error {
	c := b.cfg
	nonce := b.pool.nonce
	m := &messageWorld{
		reader:  fmt.Sprintf("reader.%s@example.com", nonce),
		authors: []string{fmt.Sprintf("alice.%s@example.com", nonce), fmt.Sprintf("agent-%s-bob", nonce)},
		convs:   make([]string, c.messagesConversations),
	}
	var user struct {
		Sid string `json:"sid"`
	}
	if err := b.post(ctx, "/v1/Users", url.Values{"Identity": {m.reader}, "FriendlyName": {"Reader"}}, false, &user); err != nil {
		return err
	}
	m.readerSid = user.Sid

	fmt.Fprintf(b.log, "\n== %s conversations, each with %s as a participant\n", commas(len(m.convs)), m.reader)
	var err error
	mr.FillConversations, err = b.fill(ctx, "create", "conversations", 0, len(m.convs), c.preloadConc,
		func(ctx context.Context, _, i int, _ *bytes.Buffer) error {
			sid, err := b.conversation(ctx, fmt.Sprintf("Support case %s-%d", nonce, i), m.reader)
			m.convs[i] = sid // each worker writes its own items; read after fill returns
			return err
		})
	if err != nil {
		return err
	}
	m.convs = slices.DeleteFunc(m.convs, func(sid string) bool { return sid == "" })
	fmt.Fprintf(b.log, "  created %s in %.1fs, %d errors\n", commas(mr.FillConversations.Created), mr.FillConversations.Seconds, mr.FillConversations.Errors)
	// A create's answer is the baseline's message body: parley's 201 for
	// the reader's message in one of its conversations.
	var message json.RawMessage
	if err := b.post(ctx, "/v1/Conversations/"+m.convs[0]+"/Messages", messageForm(m.reader, 0), false, &message); err != nil {
		return err
	}

	fmt.Fprintf(b.log, "\n== a conversation of %s messages\n", commas(c.messagesBig))
	if m.big, err = b.conversation(ctx, "Big room "+nonce, m.authors...); err != nil {
		return err
	}
	mr.FillMessages, err = b.fill(ctx, "send", "messages", 0, c.messagesBig, c.preloadConc,
		func(ctx context.Context, _, i int, buf *bytes.Buffer) error {
			req, err := b.newRequest(ctx, http.MethodPost, b.base+"/v1/Conversations/"+m.big+"/Messages",
				messageForm(m.authors[i%len(m.authors)], i).Encode())
			if err != nil {
				return err
			}
			if o := b.do(call{req, -1}, buf); !o.ok {
				return errors.New(o.err)
			}
			return nil
		})
	if err != nil {
		return err
	}
	fmt.Fprintf(b.log, "  sent %s in %.1fs (%s/s), %d errors\n", commas(mr.FillMessages.Created), mr.FillMessages.Seconds,
		commas(int(mr.FillMessages.PerSec)), mr.FillMessages.Errors)

	list := b.base + "/v1/Conversations/" + m.big + "/Messages?PageSize=50"
	pages, walk, err := b.walkList(ctx, list, "messages")
	if err != nil {
		return err
	}
	mr.Walk, mr.EndPage = walk, lastFull(pages, 50)
	m.pageStart, m.pageEnd, m.pageEndDesc = pages[0].url, pages[mr.EndPage].url, list+"&Order=desc"
	m.userConvs = b.base + "/v1/Users/" + m.readerSid + "/Conversations?PageSize=50"
	fmt.Fprintf(b.log, "  walked %s pages (%s messages) via next_page_url in %.2fs; the end page is Page=%d\n",
		commas(walk.Pages), commas(walk.Items), walk.Seconds, mr.EndPage)
	b.msgs = m

	bodies := map[string][]byte{"/message": message}
	if bodies["/page"], err = b.get(ctx, m.pageStart); err != nil {
		return err
	}
	if bodies["/user-conversations"], err = b.get(ctx, m.userConvs); err != nil {
		return err
	}
	for _, p := range []string{"/message", "/page", "/user-conversations"} {
		mr.BaselineBodies = append(mr.BaselineBodies, bodySize{p, len(bodies[p])})
	}
	if b.baseline, err = startBaseline(ctx, b.tmp, bodies); err != nil {
		return err
	}
	b.baselineURL = b.baseline.url
	fmt.Fprintf(b.log, "  baseline server (pid %d) is serving bodies of %d, %d and %d bytes at %s\n", b.baseline.pid(),
		len(bodies["/message"]), len(bodies["/page"]), len(bodies["/user-conversations"]), b.baselineURL)
	return nil
}

// conversation creates a conversation with a participant for each
// identity and returns its SID.
func (b *bench) conversation(ctx context.Context, name string, identities ...string) (string, error) {
	var conv struct {
		Sid string `json:"sid"`
	}
	if err := b.post(ctx, "/v1/Conversations", url.Values{"FriendlyName": {name}}, false, &conv); err != nil {
		return "", err
	}
	for _, id := range identities {
		if err := b.post(ctx, "/v1/Conversations/"+conv.Sid+"/Participants", url.Values{"Identity": {id}}, false, nil); err != nil {
			return "", err
		}
	}
	return conv.Sid, nil
}

// messageForm is a message create: about 100 bytes of chat from author.
func messageForm(author string, i int) url.Values {
	return url.Values{"Author": {author}, "Body": {messageText(i)}}
}

func messageText(i int) string {
	switch i % 3 {
	case 0:
		return fmt.Sprintf("Hi! Following up on case #%d: the replacement part shipped today, tracking %08X.", i, uint32(i)*2654435761)
	case 1:
		return fmt.Sprintf("Thanks, got it. Could you also check order %d? It still says pending on my side.", 100000+i)
	default:
		return fmt.Sprintf("Done: order %d is confirmed and will arrive by Friday. Anything else I can help with?", 100000+i)
	}
}

// messageCall builds the next request of a message operation.
func (b *bench) messageCall(ctx context.Context, op string, rng *mrand.Rand) (call, error) {
	m := b.msgs
	if m == nil {
		return call{}, fmt.Errorf("unknown operation %q", op)
	}
	get := func(u string) (call, error) {
		req, err := b.newRequest(ctx, http.MethodGet, u, "")
		return call{req, -1}, err
	}
	post := func(u, author string) (call, error) {
		req, err := b.newRequest(ctx, http.MethodPost, u, messageForm(author, rng.IntN(1<<20)).Encode())
		return call{req, -1}, err
	}
	switch op {
	case "baseline_page", "baseline_user_conversations":
		return get(b.baselineURL + messageBaselines[op])
	case "baseline_message":
		return post(b.baselineURL+messageBaselines[op], m.reader)
	case "page_start":
		return get(m.pageStart)
	case "page_end":
		return get(m.pageEnd)
	case "page_end_desc":
		return get(m.pageEndDesc)
	case "user_conversations":
		return get(m.userConvs)
	case "create_spread":
		return post(b.base+"/v1/Conversations/"+m.convs[rng.IntN(len(m.convs))]+"/Messages", m.reader)
	case "create_hot":
		return post(b.base+"/v1/Conversations/"+m.big+"/Messages", m.authors[rng.IntN(len(m.authors))])
	}
	return call{}, fmt.Errorf("unknown operation %q", op)
}

// measureMessages runs every operation c.runs times: in each run the
// reads at --concurrency, the reads at one client (unless that is
// --concurrency), then the creates at --concurrency.
func (b *bench) measureMessages(ctx context.Context, mr *messageReport) error {
	c := b.cfg
	type step struct {
		clients int
		ops     []string
	}
	steps := []step{{c.concurrency, messageReads}}
	if c.concurrency > 1 {
		steps = append(steps, step{1, messageReads})
	}
	steps = append(steps, step{c.concurrency, messageCreates})
	byOp := map[int]map[string][]opRun{}
	for run := range c.runs {
		fmt.Fprintf(b.log, "\n== run %d/%d\n", run+1, c.runs)
		for _, s := range steps {
			if byOp[s.clients] == nil {
				byOp[s.clients] = map[string][]opRun{}
			}
			baseOps := 0.0
			for _, op := range s.ops {
				pid := 0
				switch {
				case strings.HasPrefix(op, "baseline"):
					pid = b.baseline.pid()
				case b.srv != nil:
					pid = b.srv.pid()
				}
				r, err := b.measure(ctx, op, pid, s.clients)
				if err != nil {
					return fmt.Errorf("%s at %d clients: %w", op, s.clients, err)
				}
				for _, ch := range []*child{b.srv, b.baseline} {
					if ch == nil {
						continue
					}
					if dead, werr := ch.exited(); dead {
						return fmt.Errorf("%s exited during %s (%v):\n%s", ch.name, op, werr, tail(ch.logPath, 20))
					}
				}
				if strings.HasPrefix(op, "baseline") {
					baseOps = r.opsPerSec()
				}
				r.Baseline = baseOps
				byOp[s.clients][op] = append(byOp[s.clients][op], r)
				note := ""
				if r.Errors > 0 {
					note = fmt.Sprintf("  %d errors, first: %s", r.Errors, r.FirstErr)
				}
				slices.Sort(r.Latencies)
				fmt.Fprintf(b.log, "  %2d clients  %-28s %9s ops/s  p50 %s%s\n", s.clients, op,
					commas(int(r.opsPerSec())), fmtMs(ms(percentile(r.Latencies, 50))), note)
			}
		}
	}
	summarizeOps := func(clients int, ops []string) messagePass {
		p := messagePass{Clients: clients}
		for _, op := range ops {
			p.Ops = append(p.Ops, summarize(byOp[clients][op]))
		}
		return p
	}
	mr.Passes = []messagePass{summarizeOps(c.concurrency, append(slices.Clone(messageReads), messageCreates...))}
	if c.concurrency > 1 {
		mr.Passes = append(mr.Passes, summarizeOps(1, messageReads))
	}
	return nil
}

// messageTargets holds the figures to their targets. The create targets
// are SQLite's; on PostgreSQL they are shown, marked so.
func messageTargets(mr *messageReport, concurrency int, postgres bool) []targetCheck {
	var out []targetCheck
	find := func(clients int, op string) (opSummary, bool) {
		for _, p := range mr.Passes {
			if p.Clients == clients {
				return p.op(op)
			}
		}
		return opSummary{}, false
	}
	onSQLite := ""
	if postgres {
		onSQLite = " (SQLite's)"
	}
	if o, ok := find(concurrency, "create_spread"); ok {
		out = append(out, targetCheck{fmt.Sprintf("message create, %d clients, spread over %s conversations", concurrency, commas(mr.Conversations)),
			fmt.Sprintf("≥ %s/s%s", commas(targetSpreadCreates), onSQLite), commas(int(o.OpsPerSec+0.5)) + "/s", o.OpsPerSec >= targetSpreadCreates})
	}
	if o, ok := find(concurrency, "create_hot"); ok {
		out = append(out, targetCheck{fmt.Sprintf("message create, %d clients, one hot conversation", concurrency),
			fmt.Sprintf("≥ %s/s", commas(targetHotCreates)), commas(int(o.OpsPerSec+0.5)) + "/s", o.OpsPerSec >= targetHotCreates})
	}
	start, okStart := find(concurrency, "page_start")
	start1, okStart1 := find(1, "page_start")
	for _, end := range []struct{ op, name string }{{"page_end", "last page by PageToken"}, {"page_end_desc", "Order=desc first page"}} {
		// The end page's cost over the start page's: time per page, so
		// for throughput the start's ops/s over the end's.
		if o, ok := find(concurrency, end.op); ok && okStart && o.OpsPerSec > 0 {
			r := start.OpsPerSec / o.OpsPerSec
			out = append(out, targetCheck{fmt.Sprintf("page of 50 at the end (%s) ÷ at the start, time per page at %d clients", end.name, concurrency),
				fmt.Sprintf("≤ %.1f×", targetEndPage), fmt.Sprintf("%.2f× (%s vs %s/s)", r, commas(int(o.OpsPerSec+0.5)), commas(int(start.OpsPerSec+0.5))), r <= targetEndPage})
		}
		if o, ok := find(1, end.op); ok && okStart1 && start1.P50Ms > 0 {
			r := o.P50Ms / start1.P50Ms
			out = append(out, targetCheck{fmt.Sprintf("page of 50 at the end (%s) ÷ at the start, p50 at one client", end.name),
				fmt.Sprintf("≤ %.1f×", targetEndPage), fmt.Sprintf("%.2f× (%s vs %s)", r, fmtMs(o.P50Ms), fmtMs(start1.P50Ms)), r <= targetEndPage})
		}
	}
	if o, ok := find(1, "user_conversations"); ok {
		out = append(out, targetCheck{fmt.Sprintf("a user's conversations, first page of 50 (in %s), p50 at one client", commas(mr.Conversations)),
			fmt.Sprintf("< %g ms", targetUserConvsMs), fmtMs(o.P50Ms), o.P50Ms < targetUserConvsMs})
	}
	return out
}
