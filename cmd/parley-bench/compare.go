package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
)

// compareReport is --compare OLD: the same operations on two parley
// binaries, measured in turns in one run, so that the machine's noise
// (neighbours, thermal drift) falls on both alike.
type compareReport struct {
	OldBinary string        `json:"old_binary"`
	NewBinary string        `json:"new_binary"`
	Sizes     []compareSize `json:"sizes"`
}

type compareSize struct {
	Users int         `json:"users"`
	Old   []opSummary `json:"old"`
	New   []opSummary `json:"new"`
}

// compare runs every user count on both binaries, each on a fresh SQLite
// file, and measures each operation on one and then the other, swapping
// which goes first every run. The baseline server is measured in the same
// turns, so the ratios stay comparable too.
func (b *bench) compare(ctx context.Context) (*report, error) {
	c := b.cfg
	rep := b.begin()
	rep.Database = "SQLite, a fresh file in a temp dir for each binary and user count"
	if err := b.parleyBinary(ctx); err != nil {
		return nil, err
	}
	oldDir := filepath.Join(b.tmp, "old")
	if err := os.Mkdir(oldDir, 0o755); err != nil {
		return nil, err
	}
	old := &bench{cfg: c, tmp: oldDir, log: b.log, hc: b.hc, auth: b.auth, bin: c.compare}
	defer old.close()
	rep.Compare = &compareReport{OldBinary: c.compare, NewBinary: b.bin}
	for _, n := range c.users {
		sides := []*bench{old, b}
		for _, x := range sides {
			if x.srv != nil {
				x.hc.CloseIdleConnections()
				x.srv.stop()
			}
			x.db, x.pool, x.fresh = filepath.Join(x.tmp, fmt.Sprintf("parley-%d.db", n)), newPool(), true
			if err := x.startServer(ctx); err != nil {
				return nil, err
			}
			fmt.Fprintf(b.log, "%s (pid %d) is serving at %s on %s\n", x.bin, x.srv.pid(), x.base, x.db)
			if err := x.checkAuth(ctx); err != nil {
				return nil, err
			}
		}
		fmt.Fprintf(b.log, "\n== %s users\n", commas(n))
		for _, x := range sides {
			pr, err := x.preload(ctx, n)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(b.log, "  %s: preloaded %s users in %.1fs, %d errors\n", x.bin, commas(pr.Created), pr.Seconds, pr.Errors)
			if b.wants("list_start") || b.wants("list_middle") || b.wants("list_end") {
				if _, err := x.walk(ctx); err != nil {
					return nil, err
				}
			}
		}
		if b.wants("baseline") && b.baseline == nil {
			body, err := b.fetchBody(ctx)
			if err != nil {
				return nil, err
			}
			if b.baseline, err = startBaseline(ctx, b.tmp, map[string][]byte{"": body}); err != nil {
				return nil, err
			}
			b.baselineURL, old.baselineURL = b.baseline.url, b.baseline.url
		}
		byOp := map[*bench]map[string][]opRun{old: {}, b: {}}
		for run := range c.runs {
			order := sides
			if run%2 == 1 {
				order = []*bench{b, old}
			}
			for _, op := range c.ops {
				for _, x := range order {
					pid := x.srv.pid()
					if op == "baseline" {
						pid = b.baseline.pid()
					}
					r, err := x.measure(ctx, op, pid, c.concurrency)
					if err != nil {
						return nil, fmt.Errorf("%s on %s: %w", op, x.bin, err)
					}
					if dead, werr := x.srv.exited(); dead {
						return nil, fmt.Errorf("%s exited during %s (%v):\n%s", x.bin, op, werr, tail(x.srv.logPath, 20))
					}
					byOp[x][op] = append(byOp[x][op], r)
					fmt.Fprintf(b.log, "  run %d/%d  %-15s %-4s %9s ops/s\n", run+1, c.runs, op, x.name(old), commas(int(r.opsPerSec())))
				}
			}
		}
		size := compareSize{Users: n}
		for _, op := range c.ops {
			size.Old = append(size.Old, summarize(byOp[old][op]))
			size.New = append(size.New, summarize(byOp[b][op]))
		}
		rep.Compare.Sizes = append(rep.Compare.Sizes, size)
	}
	return rep, nil
}

// name is "old" or "new", for the progress lines.
func (b *bench) name(old *bench) string {
	if b == old {
		return "old"
	}
	return "new"
}

// writeCompare prints --compare's tables: per user count and operation,
// both binaries' throughput and latency, and new over old.
func writeCompare(w io.Writer, r *report) {
	fmt.Fprintf(w, "old:     %s\nnew:     %s\n", r.Compare.OldBinary, r.Compare.NewBinary)
	fmt.Fprintf(w, "load:    %d concurrent clients, %gs per operation after %gs warm-up, medians of %d runs, the binaries taking turns\n",
		r.Concurrency, r.DurationS, r.WarmupS, r.Runs)
	for _, s := range r.Compare.Sizes {
		fmt.Fprintf(w, "\n%s users\n", commas(s.Users))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "operation\told ops/s\tnew ops/s\tnew/old\told p50\tnew p50\told p99\tnew p99\terrors\t")
		for i, o := range s.Old {
			n := s.New[i]
			ratio := "-"
			if o.OpsPerSec > 0 {
				ratio = fmt.Sprintf("%.2f", n.OpsPerSec/o.OpsPerSec)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", o.Op, commas(int(o.OpsPerSec+0.5)), commas(int(n.OpsPerSec+0.5)),
				ratio, fmtMs(o.P50Ms), fmtMs(n.P50Ms), fmtMs(o.P99Ms), fmtMs(n.P99Ms), o.Errors+n.Errors)
		}
		tw.Flush()
	}
}
