package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The edge's memory is measured on fresh processes, one per case and
// round: the Go runtime returns freed heap to the kernel lazily, so the
// long-running edge's VmHWM, reset after its warm-up and other runs, still
// holds their heap (57–62 MiB where a fresh process under the same load
// peaks at about 30). A fresh process's VmHWM is never reset: its
// start-up, loading the routes and compiling the table, counts with the
// load, which is a keep-alive run and then an HTTP/2 run (issue #21's
// targets are for both).
const (
	edgeFreshPort     = 18447
	edgeFreshHTTPPort = 18101
	manyRoutes        = 10_000
)

// memCase is one fresh-process measurement of the edge.
type memCase struct {
	scenario string  // its keep-alive run: "ka-fresh" or "ka-10k"
	h2       string  // its HTTP/2 run on the same process: "h2-fresh" or "h2-10k"
	routes   string  // the routes file
	target   float64 // MiB, issue #21
	title    string
}

// memCases writes the routes files into the scratch directory and returns
// what to measure.
func (r *runner) memCases() ([]memCase, error) {
	one := filepath.Join(r.cfg.tmp, "edge-routes-1.yaml")
	if err := writeFile(one, fmt.Sprintf(edgeRoutes, origin1Port, origin1Port, origin2Port)); err != nil {
		return nil, err
	}
	many := filepath.Join(r.cfg.tmp, "edge-routes-10k.yaml")
	if err := writeManyRoutes(many, manyRoutes); err != nil {
		return nil, err
	}
	return []memCase{
		{scenario: "ka-fresh", h2: "h2-fresh", routes: one, target: 30, title: "fresh edge, 1 route"},
		{scenario: "ka-10k", h2: "h2-10k", routes: many, target: 60, title: "fresh edge, 10,000 routes"},
	}, nil
}

// writeManyRoutes writes n services: the one the load asks for
// (Host:www.bench.test over both origins) and n-1 others, each with its own
// host and two servers of its own, as a large Rancher environment has.
func writeManyRoutes(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, edgeRoutes, origin1Port, origin1Port, origin2Port)
	for i := range n - 1 {
		fmt.Fprintf(w, `  - name: svc%[1]d
    labels:
      traefik.frontend.rule: "Host:svc%[1]d.stack%[2]d.example.com"
      traefik.port: "8080"
    servers: ["10.42.%[3]d.%[4]d", "10.43.%[3]d.%[4]d"]
`, i, i%40, i/256, i%256)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startFreshEdge starts an edge on its own ports with the routes file and
// waits until it routes www.bench.test (a large file takes a moment to
// load and compile).
func (r *runner) startFreshEdge(name, routes string) (*target, error) {
	t := &target{name: "edge", label: "rancher-edge", port: edgeFreshPort, fresh: true}
	env := r.edgeEnv(edgeFreshHTTPPort, edgeFreshPort, routes)
	_ = writeFile(filepath.Join(r.confDir, "edge-fresh.env"), strings.Join(env[:5], "\n")+
		"\nTRAEFIK_FILE=<scratch>/edge-routes-1.yaml or edge-routes-10k.yaml\n"+strings.Join(env[6:], "\n")+"\n")
	cmd := exec.Command(r.cfg.edgeBin)
	cmd.Env = append(baseEnv(), env...)
	p, err := r.ps.start(name, cmd)
	if err != nil {
		return nil, err
	}
	t.p = p
	if err := waitPort(r.ctx, edgeFreshPort, 20*time.Second); err != nil {
		p.stop(5 * time.Second)
		return nil, fmt.Errorf("did not listen on %d: %w", edgeFreshPort, err)
	}
	client := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
			DisableKeepAlives: true,
		},
	}
	url := "https://127.0.0.1:" + strconv.Itoa(edgeFreshPort) + "/"
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(r.ctx, http.MethodGet, url, nil)
		req.Host = benchHost
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return t, nil
			}
		}
		if time.Now().After(deadline) || r.ctx.Err() != nil || !p.alive() {
			p.stop(5 * time.Second)
			return nil, fmt.Errorf("%s not routed within 60 s (last: %v)", benchHost, err)
		}
		select {
		case <-r.ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// measureFresh runs a keep-alive run and then an HTTP/2 run against a
// fresh edge, and stops it. The second run's peak RSS is the process's
// over both.
func (r *runner) measureFresh(mc memCase, round int) []result {
	name := fmt.Sprintf("edge-r%d-%s", round, mc.scenario)
	t, err := r.startFreshEdge(name, mc.routes)
	if err != nil {
		r.logf("edge %s r%d: %v (see logs/%s.log)", mc.scenario, round, err, name)
		return []result{{Target: "edge", Scenario: mc.scenario, Round: round, Note: err.Error()}}
	}
	defer t.p.stop(5 * time.Second)
	ka := r.measure(t, mc.scenario, round, false)
	if r.ctx.Err() != nil {
		return []result{ka}
	}
	return []result{ka, r.measure(t, mc.h2, round, false)}
}

// freshPeak returns, round by round, a case's peak RSS (KiB) and private
// memory at the end, over its two runs; valid runs only.
func (r *runner) freshPeak(mc memCase) (peak, anon map[int]float64) {
	peak, anon = map[int]float64{}, map[int]float64{}
	for _, res := range r.results {
		if res.Target == "edge" && res.Valid && (res.Scenario == mc.scenario || res.Scenario == mc.h2) {
			peak[res.Round] = max(peak[res.Round], float64(res.PeakRSS))
			anon[res.Round] = max(anon[res.Round], float64(res.Anon))
		}
	}
	return peak, anon
}

// memSummary is the report's section on the edge's peak RSS against the
// issue's targets.
func (r *runner) memSummary(cases []memCase) string {
	var b strings.Builder
	b.WriteString("\nEdge peak RSS against the issue #21 targets (VmHWM of a fresh edge process over its start, " +
		"loading its routes, a keep-alive run and an HTTP/2 run; median over rounds, valid runs only). VmHWM counts the " +
		"pages of the executable the process touched, shared and reclaimable; private is the larger RssAnon at the end of " +
		"the two runs, the memory the process itself holds:\n\n" +
		"| run | peak RSS MiB | min–max | target | private MiB | keep-alive req/s | CPU µs/req | h2 req/s | h2 CPU µs/req |\n" +
		"|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, mc := range cases {
		peakBy, anonBy := r.freshPeak(mc)
		rss, anon := values(peakBy), values(anonBy)
		for i := range rss {
			rss[i] /= 1024
		}
		for i := range anon {
			anon[i] /= 1024
		}
		verdict := "not measured"
		span := "—"
		if len(rss) > 0 {
			lo, hi := rss[0], rss[0]
			for _, v := range rss {
				lo, hi = min(lo, v), max(hi, v)
			}
			span = fmt.Sprintf("%.1f–%.1f", lo, hi)
			if median(rss) <= mc.target {
				verdict = fmt.Sprintf("≤ %.0f MiB: met", mc.target)
			} else {
				verdict = fmt.Sprintf("≤ %.0f MiB: **not met**", mc.target)
			}
		}
		fig := func(sc string, get func(result) float64) string {
			var v []float64
			for _, res := range r.results {
				if res.Target == "edge" && res.Scenario == sc && res.Valid {
					v = append(v, get(res))
				}
			}
			return fmtNum(median(v), 0)
		}
		rate := func(res result) float64 { return res.Rate }
		cpu := func(res result) float64 { return res.CPUPerReq }
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mc.title, fmtNum(median(rss), 1), span, verdict,
			fmtNum(median(anon), 1), fig(mc.scenario, rate), fig(mc.scenario, cpu), fig(mc.h2, rate), fig(mc.h2, cpu))
	}
	return b.String()
}
