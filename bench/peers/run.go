package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type runCfg struct {
	out, tmp                string
	self, edgeBin, caddyBin string
	// edgeBase, when set, is a second edge build measured beside the
	// first in the same interleaved rounds (EDGE_BASE_REF): the table's
	// "edge ÷" rows then say what changed between the two builds.
	edgeBase, edgeBaseVersion string
	// only, when set, lists the targets measured (PEERS).
	only         []string
	caddyVersion string
	cert, key    string
	rounds       int
	dur          time.Duration // keep-alive runs
	cdur         time.Duration // Connection: close, full-handshake and h2 runs
	edgeVersion  string
	warm         time.Duration
	budget       time.Duration // no new run starts after this
	quietCores   float64       // "quiet" = fewer busy cores than this, sampled over 1 s
	quietWait    time.Duration // longest wait for quiet before running anyway
	quietTotal   time.Duration // longest wait for quiet over the whole run
	maxRedo      int           // most runs redone for overlapping other load
	foreignMax   float64       // cores used by others during a run that make us redo it (once)
	quick        bool
}

type runner struct {
	cfg       runCfg
	confDir   string
	logDir    string
	rawDir    string
	ps        *procs
	logMu     sync.Mutex
	logF      *os.File
	origins   []*proc
	targets   []*target
	results   []result
	start     time.Time
	ctx       context.Context
	notes     []string // for the report
	checks    []string
	loadStart string
	mem       []memCase // the edge's fresh-process memory runs
	hurry     bool      // the budget is short: no waiting for quiet, no redos
	quietLog  struct {
		waited, notQuiet, redone, foreign int
		spent                             time.Duration
	}
}

func (r *runner) logf(format string, a ...any) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	line := time.Now().Format("15:04:05") + " " + fmt.Sprintf(format, a...)
	fmt.Println(line)
	if r.logF != nil {
		fmt.Fprintln(r.logF, line)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	var c runCfg
	fs.StringVar(&c.out, "out", "", "results directory")
	fs.StringVar(&c.tmp, "tmp", "", "scratch directory (keys, binaries)")
	fs.StringVar(&c.edgeBin, "edge", "", "edge binary (empty: not measured)")
	fs.StringVar(&c.caddyBin, "caddy", "", "caddy binary (empty: not measured)")
	fs.StringVar(&c.caddyVersion, "caddy-version", "", "the version installed, for the table")
	fs.StringVar(&c.cert, "cert", "", "certificate PEM")
	fs.StringVar(&c.key, "key", "", "private key PEM")
	fs.BoolVar(&c.quick, "quick", false, "1 round of 3 s runs")
	fs.IntVar(&c.rounds, "rounds", 3, "rounds")
	fs.DurationVar(&c.dur, "dur", 10*time.Second, "length of each keep-alive run")
	fs.DurationVar(&c.cdur, "cdur", 8*time.Second, "length of each connection-per-request and h2 run")
	fs.StringVar(&c.edgeVersion, "edge-version", "", "what was built, for the table")
	fs.StringVar(&c.edgeBase, "edge-base", "", "a second edge binary measured as the target edge-base (empty: none)")
	fs.StringVar(&c.edgeBaseVersion, "edge-base-version", "", "what edge-base was built from, for the table")
	only := fs.String("only", "", "comma-separated targets to measure (edge, edge-base, haproxy, nginx, caddy); empty: all")
	fs.DurationVar(&c.budget, "budget", 0, "start no new run after this; wait and redo less when short (0: 14 minutes for 3 rounds, in proportion)")
	fs.Float64Var(&c.quietCores, "quiet-cores", 0.25, "quiet means fewer busy cores than this")
	fs.DurationVar(&c.quietWait, "quiet-wait", 20*time.Second, "longest wait for quiet before one run")
	fs.DurationVar(&c.quietTotal, "quiet-total", 2*time.Minute, "longest wait for quiet over the whole run; then one 1 s sample per run")
	fs.IntVar(&c.maxRedo, "max-redo", 6, "most runs redone because others loaded the machine during them")
	fs.Float64Var(&c.foreignMax, "foreign-max", 0.25, "redo a run once when others used more cores than this during it")
	_ = fs.Parse(args)
	if *only != "" {
		c.only = strings.Split(*only, ",")
	}
	if c.out == "" || c.tmp == "" || c.cert == "" || c.key == "" {
		return errors.New("run: -out, -tmp, -cert and -key are required")
	}
	if c.quick {
		c.rounds, c.dur, c.cdur = 1, 3*time.Second, 3*time.Second
		c.quietWait, c.quietTotal, c.maxRedo = 10*time.Second, 30*time.Second, 2
	}
	if c.budget == 0 {
		c.budget = time.Duration(max(c.rounds, 1)) * 14 * time.Minute / 3
	}
	c.warm = 2 * time.Second
	self, err := os.Executable()
	if err != nil {
		return err
	}
	c.self = self

	r := &runner{cfg: c, start: time.Now(), loadStart: loadavg()}
	r.confDir = filepath.Join(c.out, "conf")
	r.logDir = filepath.Join(c.out, "logs")
	r.rawDir = filepath.Join(c.out, "raw")
	for _, d := range []string{r.confDir, r.logDir, r.rawDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	r.logF, err = os.OpenFile(filepath.Join(c.out, "run.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer r.logF.Close()
	r.ps = &procs{logDir: r.logDir, pidFile: filepath.Join(c.out, "pids")}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer cancel()
	r.ctx = ctx
	defer func() {
		r.logf("stopping every process started (%d)", len(r.ps.list))
		r.ps.stopAll()
	}()

	if err := r.startAll(); err != nil {
		return err
	}
	r.checkAll()
	var live []*target
	for _, t := range r.targets {
		if t.skip == "" {
			live = append(live, t)
		} else {
			r.logf("NOT MEASURED %s: %s", t.label, t.skip)
			r.notes = append(r.notes, fmt.Sprintf("%s not measured: %s", t.label, t.skip))
		}
	}
	if len(live) == 0 {
		return errors.New("no target passed its checks")
	}
	if r.cfg.edgeBin != "" {
		if r.mem, err = r.memCases(); err != nil {
			r.notes = append(r.notes, "edge memory runs not made: "+err.Error())
		}
	}
	r.warmUp(live)
	r.measureAll(live)
	return r.report()
}

// startAll starts the origins and every target, and waits for their ports.
func (r *runner) startAll() error {
	for _, port := range []int{origin1Port, origin2Port} {
		cmd := exec.Command(r.cfg.self, "origin", "-addr", "127.0.0.1:"+strconv.Itoa(port))
		cmd.Env = baseEnv()
		p, err := r.ps.start("origin-"+strconv.Itoa(port), cmd)
		if err != nil {
			return err
		}
		r.origins = append(r.origins, p)
		if err := waitPort(r.ctx, port, 10*time.Second); err != nil {
			return fmt.Errorf("origin %d: %w", port, err)
		}
	}
	r.logf("origins up on 127.0.0.1:%d and :%d", origin1Port, origin2Port)
	all := []func() *target{r.edgeTarget, r.edgeBaseTarget, r.haproxyTarget, r.nginxTarget, r.caddyTarget}
	names := []string{"edge", "edge-base", "haproxy", "nginx", "caddy"}
	r.targets = nil
	for i, start := range all {
		if names[i] == "edge-base" && r.cfg.edgeBase == "" {
			continue
		}
		if len(r.cfg.only) > 0 && !slices.Contains(r.cfg.only, names[i]) {
			continue
		}
		r.targets = append(r.targets, start())
	}
	for _, t := range r.targets {
		if t.skip != "" {
			continue
		}
		if err := waitPort(r.ctx, t.port, 20*time.Second); err != nil {
			t.skip = fmt.Sprintf("did not listen on %d: %v (see logs/%s.log)", t.port, err, t.name)
			continue
		}
		if !t.p.alive() {
			t.skip = "exited at start (see logs/" + t.name + ".log)"
			continue
		}
		r.logf("%s up on 127.0.0.1:%d (pid %d)", t.label, t.port, t.p.pid())
	}
	return nil
}

func (r *runner) startTarget(t *target, cmd *exec.Cmd) *target {
	p, err := r.ps.start(t.name, cmd)
	if err != nil {
		t.skip = err.Error()
		return t
	}
	t.p = p
	return t
}

func waitPort(ctx context.Context, port int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// --- checks

// checkAll checks that every target answers over HTTP/1.1 and HTTP/2 with
// the right certificate, TLS 1.3 and AES-128-GCM, routes by Host when the
// client sends no SNI (wrk), and uses both origins.
func (r *runner) checkAll() {
	certPEM, _ := os.ReadFile(r.cfg.cert)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	var want []byte
	if b, _ := pem.Decode(certPEM); b != nil {
		want = b.Bytes
	}
	for _, t := range r.targets {
		if t.skip != "" {
			continue
		}
		if err := r.check(t, pool, want); err != nil {
			t.skip = "check failed: " + err.Error()
			r.logf("CHECK FAILED %s: %v", t.label, err)
		}
	}
}

func (r *runner) check(t *target, pool *x509.CertPool, wantCert []byte) error {
	addr := "127.0.0.1:" + strconv.Itoa(t.port)
	// TLS with SNI, verified against our certificate.
	d := &net.Dialer{Timeout: 5 * time.Second}
	tc, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: benchHost, RootCAs: pool, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		return fmt.Errorf("TLS with SNI %s: %w", benchHost, err)
	}
	st := tc.ConnectionState()
	tc.Close()
	info := fmt.Sprintf("%s %s alpn=%s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.NegotiatedProtocol)
	if st.Version != tls.VersionTLS13 || st.CipherSuite != tls.TLS_AES_128_GCM_SHA256 {
		r.notes = append(r.notes, fmt.Sprintf("%s negotiated %s (expected TLS 1.3 AES-128-GCM)", t.label, info))
	}
	if st.NegotiatedProtocol != "h2" {
		return fmt.Errorf("ALPN offered h2,http/1.1 and got %q", st.NegotiatedProtocol)
	}
	// No SNI (what wrk does with an IP URL): the default certificate.
	tc, err = tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		return fmt.Errorf("TLS without SNI: %w", err)
	}
	st2 := tc.ConnectionState()
	tc.Close()
	if len(st2.PeerCertificates) == 0 || string(st2.PeerCertificates[0].Raw) != string(wantCert) {
		return errors.New("TLS without SNI: not our certificate")
	}
	r.logf("check %s: %s; no-SNI gets the bench certificate", t.label, info)
	r.checks = append(r.checks, fmt.Sprintf("%s: %s; the bench certificate with and without SNI", t.label, info))

	before := r.hits()
	url := fmt.Sprintf("https://%s:%d/", benchHost, t.port)
	resolve := fmt.Sprintf("%s:%d:127.0.0.1", benchHost, t.port)
	wfmt := "%{http_code} %{http_version} %{size_download} %header{x-backend}\n"
	for _, proto := range []string{"--http1.1", "--http2"} {
		args := []string{"-sS", "--max-time", "10", proto, "--cacert", r.cfg.cert, "--resolve", resolve, "-w", wfmt}
		for i := 0; i < 6; i++ {
			args = append(args, "-o", "/dev/null", url)
		}
		out, err := exec.CommandContext(r.ctx, "curl", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("curl %s: %v: %s", proto, err, strings.TrimSpace(string(out)))
		}
		wantVer := "1.1"
		if proto == "--http2" {
			wantVer = "2"
		}
		seen := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if len(f) < 4 || f[0] != "200" || f[1] != wantVer || f[2] != "1024" {
				return fmt.Errorf("curl %s: want 200 HTTP/%s 1024 bytes and X-Backend, got %q", proto, wantVer, line)
			}
			seen[f[3]]++
		}
		if len(seen) < 2 {
			return fmt.Errorf("curl %s: 6 requests all went to %v", proto, seen)
		}
		r.logf("check %s %s: 6×200, HTTP/%s, backends %v", t.label, proto, wantVer, seen)
		r.checks = append(r.checks, fmt.Sprintf("%s %s: 6×200 over HTTP/%s, 1 KiB, origins %v", t.label, proto, wantVer, seen))
	}
	// wrk's way: IP in the URL, no SNI, Host header.
	out, err := exec.CommandContext(r.ctx, "curl", "-sS", "-k", "--max-time", "10", "--http1.1", "-H", "Host: "+benchHost,
		"-o", "/dev/null", "-w", "%{http_code}", fmt.Sprintf("https://127.0.0.1:%d/", t.port)).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "200" {
		return fmt.Errorf("IP URL with Host header: %v %s", err, out)
	}
	after := r.hits()
	for i := range after {
		if after[i]-before[i] < 1 {
			return fmt.Errorf("origin %d got no request during the checks", origin1Port+i)
		}
	}
	r.logf("check %s: origin hit counters +%d/+%d", t.label, after[0]-before[0], after[1]-before[1])
	return nil
}

// hits asks each origin directly how many requests it has answered.
func (r *runner) hits() []int64 {
	out := make([]int64, 2)
	for i, port := range []int{origin1Port, origin2Port} {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 2*time.Second)
		if err != nil {
			continue
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		fmt.Fprintf(c, "GET /__hits HTTP/1.0\r\nHost: origin\r\n\r\n")
		b, _ := io.ReadAll(c)
		c.Close()
		if _, body, ok := strings.Cut(string(b), "\r\n\r\n"); ok {
			out[i], _ = strconv.ParseInt(strings.TrimSpace(body), 10, 64)
		}
	}
	return out
}

// --- quiet

// waitQuiet waits, up to quietWait, until fewer than quietCores cores are
// busy over one second. /proc/loadavg is logged with it; its averages lag
// our own previous run by a minute, so the gate is the /proc/stat sample.
func (r *runner) waitQuiet(what string) (quiet bool, busy float64) {
	limit := r.cfg.quietWait
	if r.quietLog.spent > r.cfg.quietTotal || r.hurry {
		limit = 0 // the machine stays busy or time is short: one sample, logged
	}
	t0 := time.Now()
	defer func() { r.quietLog.spent += time.Since(t0) }()
	deadline := t0.Add(limit)
	waited := false
	for {
		busy = busyCores(time.Second)
		if busy < r.cfg.quietCores {
			if waited {
				r.quietLog.waited++
			}
			return true, busy
		}
		if time.Now().After(deadline) || r.ctx.Err() != nil {
			r.quietLog.notQuiet++
			r.logf("NOT QUIET before %s: %.2f cores busy after waiting %s (loadavg %s); running anyway",
				what, busy, limit, loadavg())
			return false, busy
		}
		if !waited {
			r.logf("waiting for quiet before %s: %.2f cores busy (loadavg %s)", what, busy, loadavg())
		}
		waited = true
	}
}
