package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
)

// column is one figure of the table, read from one scenario's runs, or
// the larger of two scenarios' figures in each round ("ka h2").
type column struct {
	title     string
	scenarios string
	// edgeScenarios, when set, are the edge's runs to read instead: its
	// memory comes from a fresh process (see memory.go).
	edgeScenarios string
	get           func(result) float64
	lowerBetter   bool
	digits        int
}

var columns = []column{
	{"keep-alive req/s", "ka", "", func(r result) float64 { return r.Rate }, false, 0},
	{"p99 ms", "ka", "", func(r result) float64 { return r.P99ms }, true, 1},
	{"CPU µs/req", "ka", "", func(r result) float64 { return r.CPUPerReq }, true, 0},
	{"resumed conn/s", "close", "", func(r result) float64 { return r.Rate }, false, 0},
	{"CPU µs/resumed conn", "close", "", func(r result) float64 { return r.CPUPerReq }, true, 0},
	{"full-handshake conn/s", "full", "", func(r result) float64 { return r.Rate }, false, 0},
	{"CPU µs/full conn", "full", "", func(r result) float64 { return r.CPUPerReq }, true, 0},
	{"h2 req/s", "h2", "", func(r result) float64 { return r.Rate }, false, 0},
	{"h2 p99 ms", "h2", "", func(r result) float64 { return r.P99ms }, true, 1},
	{"h2 CPU µs/req", "h2", "", func(r result) float64 { return r.CPUPerReq }, true, 0},
	{"1-conn p50 ms", "seq", "", func(r result) float64 { return r.P50ms }, true, 3},
	{"1-conn p99 ms", "seq", "", func(r result) float64 { return r.P99ms }, true, 3},
	{"peak RSS MiB (keep-alive, h2)", "ka h2", "ka-fresh h2-fresh", func(r result) float64 { return float64(r.PeakRSS) / 1024 }, true, 0},
}

func columnOf(title string) column {
	i := slices.IndexFunc(columns, func(c column) bool { return c.title == title })
	return columns[i]
}

// perRound returns, for a target and column, round → value (valid runs
// only; the largest when the column reads two scenarios).
func (r *runner) perRound(target string, c column) map[int]float64 {
	scs := strings.Fields(c.scenarios)
	if target == "edge" && c.edgeScenarios != "" {
		scs = strings.Fields(c.edgeScenarios)
	}
	out := map[int]float64{}
	for _, res := range r.results {
		if res.Target == target && res.Valid && slices.Contains(scs, res.Scenario) {
			if v, seen := out[res.Round]; !seen || c.get(res) > v {
				out[res.Round] = c.get(res)
			}
		}
	}
	return out
}

// spread is (max − min) ÷ median of a target's figure over the rounds.
func (r *runner) spread(target string, c column) float64 {
	v := values(r.perRound(target, c))
	if len(v) < 2 {
		return math.NaN()
	}
	return (slices.Max(v) - slices.Min(v)) / median(v)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func values(m map[int]float64) []float64 {
	var v []float64
	for _, x := range m {
		v = append(v, x)
	}
	return v
}

func fmtNum(v float64, digits int) string {
	if math.IsNaN(v) {
		return "—"
	}
	if digits > 0 {
		return fmt.Sprintf("%.*f", digits, v)
	}
	// thousands separators
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[0] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (r *runner) report() error {
	var b strings.Builder
	host, _ := os.Hostname()
	mode := fmt.Sprintf("full: %d rounds; keep-alive runs %s, the others %s", r.cfg.rounds, r.cfg.dur, r.cfg.cdur)
	if r.cfg.quick {
		mode = fmt.Sprintf("QUICK: %d round of %s runs — a smoke test, not a measurement", r.cfg.rounds, r.cfg.dur)
	}
	fmt.Fprintf(&b, "## rancher-edge vs peers — %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Machine %s: %d CPUs (%s), %s/%s, loopback only. Mode %s; took %s.\n",
		host, numCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, mode, time.Since(r.start).Round(time.Second))
	fmt.Fprintf(&b, "Load: loadavg at the start %s, at the end %s. %d runs; before them %d waited for quiet (< %.2f busy cores over 1 s) "+
		"and %d started without it (%s spent waiting); %d overlapped other load (> %.2f cores on average), %d of them redone once "+
		"(the run with less foreign load kept). Per-run figures in runs.jsonl.\n\n",
		r.loadStart, loadavg(), len(r.results), r.quietLog.waited, r.cfg.quietCores, r.quietLog.notQuiet,
		r.quietLog.spent.Round(time.Second), r.quietLog.foreign, r.cfg.foreignMax, r.quietLog.redone)

	var live []*target
	for _, t := range r.targets {
		if t.skip == "" {
			live = append(live, t)
		}
	}
	// Medians.
	fmt.Fprintf(&b, "Medians over rounds (valid runs only):\n\n| target |")
	for _, c := range columns {
		fmt.Fprintf(&b, " %s |", c.title)
	}
	b.WriteString("\n|---|")
	for range columns {
		b.WriteString("--:|")
	}
	b.WriteString("\n")
	for _, t := range live {
		fmt.Fprintf(&b, "| %s |", t.label)
		for _, c := range columns {
			fmt.Fprintf(&b, " %s |", fmtNum(median(values(r.perRound(t.name, c))), c.digits))
		}
		b.WriteString("\n")
	}

	// Ratios, round by round, then the median.
	var edge *target
	for _, t := range live {
		if t.name == "edge" {
			edge = t
		}
	}
	if edge != nil && len(live) > 1 {
		fmt.Fprintf(&b, "\nEdge ÷ peer (median of per-round ratios; ↑ higher is better for the edge, ↓ lower is better):\n\n| edge ÷ |")
		for _, c := range columns {
			arrow := "↑"
			if c.lowerBetter {
				arrow = "↓"
			}
			fmt.Fprintf(&b, " %s %s |", c.title, arrow)
		}
		b.WriteString("\n|---|")
		for range columns {
			b.WriteString("--:|")
		}
		b.WriteString("\n")
		for _, t := range live {
			if t == edge {
				continue
			}
			fmt.Fprintf(&b, "| %s |", t.label)
			for _, c := range columns {
				e, p := r.perRound(edge.name, c), r.perRound(t.name, c)
				var ratios []float64
				for round, ev := range e {
					if pv, ok := p[round]; ok && pv > 0 {
						ratios = append(ratios, ev/pv)
					}
				}
				fmt.Fprintf(&b, " %s |", fmtNum(median(ratios), 2))
			}
			b.WriteString("\n")
		}
	}

	// How much the throughput moves between rounds (issue #21 asks the
	// edge's HTTP/2 spread to be no wider than HAProxy's).
	if r.cfg.rounds > 1 {
		b.WriteString("\nSpread between rounds, (max − min) ÷ median of req/s (lower is steadier):\n\n| target | keep-alive | h2 |\n|---|--:|--:|\n")
		for _, t := range live {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", t.label,
				fmtNum(r.spread(t.name, columnOf("keep-alive req/s")), 2), fmtNum(r.spread(t.name, columnOf("h2 req/s")), 2))
		}
	}

	if r.cfg.rounds > 1 {
		b.WriteString(r.h2Rounds(live))
	}

	if edge != nil && len(r.mem) > 0 {
		b.WriteString(r.memSummary(r.mem))
	}

	// Invalid runs and notes.
	var bad []string
	for _, res := range r.results {
		if !res.Valid {
			bad = append(bad, fmt.Sprintf("%s %s round %d: %s (%s)", res.Target, res.Scenario, res.Round, strings.TrimSpace(res.Note), res.Raw))
		}
	}
	if len(bad) > 0 || len(r.notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range r.notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		for _, n := range bad {
			fmt.Fprintf(&b, "- invalid run, left out: %s\n", n)
		}
	}
	if len(r.checks) > 0 {
		b.WriteString("\nChecks passed before measuring (curl --resolve, Go TLS probes):\n")
		for _, c := range r.checks {
			fmt.Fprintf(&b, "- %s\n", c)
		}
	}
	b.WriteString("\nScenarios: ")
	for i, sc := range scenarios {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s = %s", sc, scenarioTitle[sc])
	}
	b.WriteString(". CPU = utime+stime of all the proxy's processes ÷ completed requests (or connections). " +
		"Peak RSS = sum of VmHWM over the proxy's processes during its keep-alive run and during its h2 run (reset before each), the larger; " +
		"for the edge, VmHWM of a fresh edge process over its start, one keep-alive run and one h2 run (Go returns freed heap lazily, " +
		"so a reset after other runs would count their heap). " +
		"Resumed: wrk reuses its TLS session (TLS 1.3 ticket, still an X25519 exchange). Full handshake: bench/peers hsload, " +
		"a Go client without session cache or tickets, X25519 key share, SNI www.bench.test. Both are bound by the client on 2 cores: " +
		"compare their CPU columns.\n")
	fmt.Fprintf(&b, "\nVersions:\n")
	for _, t := range r.targets {
		v := t.version
		if v == "" {
			v = t.label
		}
		fmt.Fprintf(&b, "- %s: %s\n", t.name, v)
	}

	table := b.String()
	path := filepath.Join(r.cfg.out, "table.md")
	if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
		return err
	}
	fmt.Println()
	fmt.Println(table)
	r.logf("results in %s (table.md, runs.jsonl, raw/, conf/, logs/)", r.cfg.out)
	return nil
}

// h2Rounds lists every valid h2 run, round by round, with what tells a
// slow round's cause: CPU per request (the same work costing more), the
// proxy's context switches per request (more waits or preemptions) and
// the hypervisor's steal over the run (the machine taken away).
func (r *runner) h2Rounds(live []*target) string {
	var b strings.Builder
	b.WriteString("\nHTTP/2 runs round by round: what a slow round did differently (switches = voluntary + involuntary context switches " +
		"of the proxy's threads per request; steal = cores the hypervisor took, averaged over the run):\n\n" +
		"| target | round | h2 req/s | CPU µs/req | switches/req | steal cores |\n|---|--:|--:|--:|--:|--:|\n")
	for _, t := range live {
		for _, res := range r.results {
			if res.Target != t.name || res.Scenario != "h2" || !res.Valid {
				continue
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %.2f + %.2f | %.2f |\n", t.label, res.Round,
				fmtNum(res.Rate, 0), fmtNum(res.CPUPerReq, 1), res.VolCS, res.InvolCS, res.Steal)
		}
	}
	return b.String()
}
