package main

import (
	"math"
	"slices"
	"time"
)

// percentile is the nearest-rank percentile p (0 < p ≤ 100) of sorted: the
// smallest sample such that at least p% of the samples are at or below it.
// It is always one of the samples, never an interpolation.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	return sorted[min(max(rank, 1), n)-1]
}

// median is the middle value of xs (the mean of the two middle ones for an
// even count); xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// medianKnown is the median of the values that are not negative (unknown),
// or -1 if none is known.
func medianKnown(xs []float64) float64 {
	known := slices.DeleteFunc(slices.Clone(xs), func(x float64) bool { return x < 0 })
	if len(known) == 0 {
		return -1
	}
	return median(known)
}

// opRun is one measurement of one operation.
type opRun struct {
	Op        string
	Count     int           // 2xx responses completed in the window
	Errors    int           // non-2xx responses and transport errors, warm-up included
	FirstErr  string        // the first error, as an example
	Elapsed   time.Duration // the measurement window
	Latencies []time.Duration
	ServerCPU time.Duration // CPU time the serving process used in the window; -1 when unknown
	ClientCPU time.Duration // CPU time parley-bench used in the window; -1 when unknown
	// MachineCPU is the busy time of all CPUs in the window, whoever used
	// it; what the server and client did not use was taken by neighbours.
	MachineCPU time.Duration
	Baseline   float64 // ops/s of the baseline in the same run, for the ratio
}

func (r opRun) opsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Count) / r.Elapsed.Seconds()
}

// cores is CPU time over wall time: how many CPUs a process kept busy.
func cores(cpu, wall time.Duration) float64 {
	if cpu < 0 || wall <= 0 {
		return -1
	}
	return cpu.Seconds() / wall.Seconds()
}

// opSummary is an operation's result across runs: medians of the per-run
// figures, and errors summed.
type opSummary struct {
	Op         string    `json:"op"`
	OpsPerSec  float64   `json:"ops_per_sec"`
	P50Ms      float64   `json:"p50_ms"`
	P90Ms      float64   `json:"p90_ms"`
	P99Ms      float64   `json:"p99_ms"`
	MaxMs      float64   `json:"max_ms"`
	Ratio      float64   `json:"ratio_to_baseline"` // median over runs of ops/s ÷ the same run's baseline ops/s; 0 without a baseline
	Requests   int       `json:"requests"`          // 2xx responses measured, all runs
	Errors     int       `json:"errors"`            // all runs
	FirstError string    `json:"first_error,omitempty"`
	ServerCPU  float64   `json:"server_cpu_cores"` // -1 when unknown
	ClientCPU  float64   `json:"client_cpu_cores"` // -1 when unknown
	OtherCPU   float64   `json:"other_cpu_cores"`  // the machine's busy cores not used by server or client; -1 when unknown
	RunsOps    []float64 `json:"runs_ops_per_sec"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// summarize reduces one operation's runs to medians. Percentiles are taken
// per run (each from that run's sorted samples) and their median reported,
// so one noisy run cannot drag them.
func summarize(runs []opRun) opSummary {
	s := opSummary{Op: runs[0].Op}
	var ops, p50, p90, p99, mx, ratio, scpu, ccpu, ocpu []float64
	hasRatio := true
	for _, r := range runs {
		lat := r.Latencies
		slices.Sort(lat)
		ops = append(ops, r.opsPerSec())
		p50 = append(p50, ms(percentile(lat, 50)))
		p90 = append(p90, ms(percentile(lat, 90)))
		p99 = append(p99, ms(percentile(lat, 99)))
		mx = append(mx, ms(percentile(lat, 100)))
		if r.Baseline > 0 {
			ratio = append(ratio, r.opsPerSec()/r.Baseline)
		} else {
			hasRatio = false
		}
		scpu = append(scpu, cores(r.ServerCPU, r.Elapsed))
		ccpu = append(ccpu, cores(r.ClientCPU, r.Elapsed))
		other := time.Duration(-1)
		if r.MachineCPU >= 0 && r.ServerCPU >= 0 && r.ClientCPU >= 0 {
			other = max(0, r.MachineCPU-r.ServerCPU-r.ClientCPU)
		}
		ocpu = append(ocpu, cores(other, r.Elapsed))
		s.Requests += r.Count
		s.Errors += r.Errors
		if s.FirstError == "" {
			s.FirstError = r.FirstErr
		}
	}
	s.OpsPerSec, s.RunsOps = median(ops), ops
	s.P50Ms, s.P90Ms, s.P99Ms, s.MaxMs = median(p50), median(p90), median(p99), median(mx)
	if hasRatio {
		s.Ratio = median(ratio)
	}
	s.ServerCPU, s.ClientCPU, s.OtherCPU = medianKnown(scpu), medianKnown(ccpu), medianKnown(ocpu)
	return s
}
