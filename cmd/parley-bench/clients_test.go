package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
)

// TestClientToken: the tokens the client mode mints are ones parley
// accepts, for the identity and service they name. Checked by parley's own
// verification, so that a change in what it checks shows here rather than
// as a run where every login fails.
func TestClientToken(t *testing.T) {
	ctx := context.Background()
	srv := parleytest.New(t)
	key, secret, err := srv.App.CreateAPIKey(ctx, "bench")
	if err != nil {
		t.Fatal(err)
	}
	w := &clientWorld{keySid: key.Sid, secret: secret, account: srv.AccountSid, service: srv.DefaultServiceSid}
	tok, err := w.token("alice@example.com", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got, err := srv.App.VerifyAccessToken(ctx, tok)
	if err != nil {
		t.Fatalf("parley refused the token: %v", err)
	}
	if got.Identity != "alice@example.com" || got.ServiceSid != srv.DefaultServiceSid || got.KeySid != key.Sid {
		t.Errorf("verified %+v", got)
	}
	if left := time.Until(got.Expires); left < clientTokenTTL-time.Minute || left > clientTokenTTL {
		t.Errorf("expires in %v, want about %v", left, clientTokenTTL)
	}
	w.secret = strings.Repeat("x", len(secret))
	if tok, err = w.token("alice@example.com", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.App.VerifyAccessToken(ctx, tok); err == nil {
		t.Error("a token signed with another secret was accepted")
	}
}

// TestLatencySamples: an arrival before the 201 counts as 0 from the 201
// and is counted as early; from the send it is what it is.
func TestLatencySamples(t *testing.T) {
	t0 := time.Now()
	var l latencySamples
	l.add(t0.Add(3*time.Millisecond), t0, t0.Add(2*time.Millisecond)) // 1 ms after the 201
	l.add(t0.Add(1*time.Millisecond), t0, t0.Add(2*time.Millisecond)) // before it
	s := l.summary()
	if s.Samples != 2 || s.Early != 1 || s.From201.P50Ms != 0 || s.From201.MaxMs != 1 || s.FromSend.P50Ms != 1 || s.FromSend.MaxMs != 3 {
		t.Errorf("summary %+v", s)
	}
}

// TestClientMode runs parley-bench --clients with small counts, on SQLite
// (one node) and, with PARLEY_TEST_POSTGRES, on a fresh PostgreSQL schema
// (one node, then two), so that the mode keeps working. It checks what
// the run must get right whatever the machine: every client logged in and
// subscribed and still open after the hold, every phase run, every
// message POSTed and delivered exactly once to every participant, each
// latency set filled, and every target evaluated. The figures themselves
// are the benchmark's business, not this test's.
func TestClientMode(t *testing.T) {
	const clients, participants, rate = 50, 5, 20
	modeOnEachBackend(t, []string{"--clients", "--clients-n", "50", "--clients-concurrency", "16",
		"--clients-participants", "5", "--clients-rate", "20", "--duration", "1s", "--warmup", "200ms"},
		func(t *testing.T, rep report, stdout string) {
			cr := rep.Clients
			if cr == nil {
				t.Fatalf("no client figures in %s", stdout)
			}
			k := cr.Connect
			if k.Clients != clients || k.LoggedIn != clients || k.Ready != clients || k.StillOpen != clients || k.Errors != 0 {
				t.Errorf("connect: %d clients, %d logged in, %d ready, %d still open, %d errors (%s); want %d, and no errors",
					k.Clients, k.LoggedIn, k.Ready, k.StillOpen, k.Errors, k.FirstError, clients)
			}
			if k.PerSec <= 0 || k.Seconds <= 0 || k.Startup.P50Ms < k.Login.P50Ms || k.PeakRSSBytes <= 0 {
				t.Errorf("connect figures %+v", k)
			}
			nodes := []int{1, 1}
			if strings.HasPrefix(rep.Database, "PostgreSQL") {
				nodes = []int{1, 1, 2, 2}
			}
			if len(cr.Phases) != len(nodes) {
				t.Fatalf("%d phases, want %d: %+v", len(cr.Phases), len(nodes), cr.Phases)
			}
			for i, p := range cr.Phases {
				name, people, perSec, messages := "low load", lowLoadParticipants, 20.0, 20
				if i%2 == 1 {
					name, people, perSec, messages = "fan-out", participants, rate, rate
				}
				what := fmt.Sprintf("%s on %d node(s)", p.Name, p.Nodes)
				if p.Name != name || p.Nodes != nodes[i] || p.Participants != people || p.Rate != perSec || p.Messages != messages {
					t.Errorf("%s: %+v, want %s on %d node(s), %d participants, %g/s, %d messages", what, p, name, nodes[i], people, perSec, messages)
				}
				want := (p.Warmup + p.Messages) * people
				if p.PostErrors != 0 || p.Expected != want || p.Received != want || p.Missing != 0 || p.Duplicates != 0 || p.Unexpected != 0 {
					t.Errorf("%s: %d POST errors (%s); deliveries %d of %d expected, %d missing, %d repeated, %d unexpected; want %d, all once",
						what, p.PostErrors, p.FirstPostErr, p.Received, p.Expected, p.Missing, p.Duplicates, p.Unexpected, want)
				}
				// Each message: the document's lastMessage and the list item.
				if p.Notifications < 2*want {
					t.Errorf("%s: %d notifications, want at least %d", what, p.Notifications, 2*want)
				}
				timed := p.Messages * people
				switch {
				case p.Nodes == 1 && (p.Latency.Samples != timed || p.SameNode != nil):
					t.Errorf("%s: %d samples, want %d", what, p.Latency.Samples, timed)
				case p.Nodes == 2 && (p.SameNode == nil || p.Latency.Samples+p.SameNode.Samples != timed || p.Latency.Samples == 0 || p.SameNode.Samples == 0):
					t.Errorf("%s: %d samples on the other node, %+v on the same; want %d in all, on both", what, p.Latency.Samples, p.SameNode, timed)
				}
				l := p.Latency
				if l.FromSend.P50Ms <= 0 || l.FromSend.P99Ms < l.FromSend.P50Ms || l.From201.P99Ms < l.From201.P50Ms ||
					l.From201.MaxMs > l.FromSend.MaxMs || p.REST.P50Ms <= 0 || len(p.CPU.Servers) != p.Nodes || len(p.PeakRSS) != p.Nodes {
					t.Errorf("%s: figures %+v", what, p)
				}
			}
			// 3 for the connect phase; per phase a delivery check, and a
			// latency target except for low load on two nodes.
			want := 3 + 2 + 2
			if len(nodes) == 4 {
				want += 2 + 1
			}
			if len(cr.Targets) != want {
				t.Errorf("%d targets, want %d: %+v", len(cr.Targets), want, cr.Targets)
			}
			table := new(bytes.Buffer)
			writeTable(table, &rep)
			for _, want := range []string{"POST /v4/Subscriptions", "50 logged in", "low load, one node", "fan-out, one node",
				"targets", "logins per second", "every delivery arrived once"} {
				if !strings.Contains(table.String(), want) {
					t.Errorf("the table lacks %q:\n%s", want, table)
				}
			}
		})
}
