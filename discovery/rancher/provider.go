package rancher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/rancher-edge/edge/discovery"
	"github.com/rancher-edge/edge/discovery/cattle"
	"github.com/rancher-edge/edge/route"
)

// Status modes.
const (
	ModeEvents  = "events"  // the resource.change socket is up
	ModePolling = "polling" // changes are seen only at the next poll
)

// Provider discovers routes in one Rancher environment. Create it with
// [New], start it with [Provider.Run]; [Provider.Status] may be called from
// any goroutine at any time.
type Provider struct {
	cfg Config
	set settings
	log *slog.Logger

	// pageLimit is the page size asked of Rancher; tests set 0 to walk
	// Rancher's default pages of 100.
	pageLimit int
	// connect makes the lister; tests may replace it.
	connect func(Config, int) (lister, error)

	mu     sync.Mutex
	status route.ProviderStatus
}

// New checks cfg and returns a provider. It does no I/O.
func New(cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Provider{
		cfg:       cfg,
		set:       cfg.settings(),
		log:       cfg.Logger.With("component", "discovery.rancher"),
		pageLimit: defaultPageLimit,
		connect:   func(c Config, limit int) (lister, error) { return connect(c, limit) },
		status: route.ProviderStatus{
			Name: "rancher", Endpoint: cfg.Endpoint, Mode: ModePolling, KeySource: cfg.KeySource,
		},
	}, nil
}

// Name returns "rancher".
func (p *Provider) Name() string { return "rancher" }

// Close releases nothing: Run's goroutines end with its context. It exists
// for the New → Run → Close lifecycle and is safe to call at any time.
func (p *Provider) Close() error { return nil }

// Status reports the provider's state for the dashboard and the log.
func (p *Provider) Status() route.ProviderStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.status
	st.Problems = slices.Clone(st.Problems)
	return st
}

// loop is the state of one Run, owned by its goroutine.
type loop struct {
	publish  func(route.Snapshot)
	lister   lister
	world    *world   // the last good read with the events since applied
	prep     prepared // what the routes were last prepared from: world's
	lastFP   uint64
	memo     cattle.Memo // the published routes by input, for the next Assemble
	failures int
	logged   map[string]bool // problems logged for the current snapshot
	watching bool
}

// Run reads the environment, publishes a snapshot after the first good read
// and after every change, and returns nil when ctx is done. A failed read
// publishes nothing, so the last good routes keep serving.
func (p *Provider) Run(ctx context.Context, publish func(route.Snapshot)) error {
	if publish == nil {
		return errors.New("rancher: publish is nil")
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	p.log.Info("rancher discovery starting", "endpoint", p.cfg.Endpoint, "key_source", p.cfg.KeySource,
		"refresh", p.cfg.Refresh, "rule_order", p.cfg.RuleOrder, "health_filter", p.cfg.HealthFilter)

	changes := make(chan struct{}, 1)
	var box inbox
	changed := func(pt *patch) {
		box.add(pt)
		select {
		case changes <- struct{}{}:
		default: // a rebuild is already due
		}
	}
	l := &loop{publish: publish, logged: map[string]bool{}}
	timer := time.NewTimer(0)
	defer timer.Stop()
	due := time.Now() // when the timer fires next
	nextRead := due   // the next full read: the refresh period, or the backoff after a failure
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changes:
			// Debounce: Cattle sends a burst of events for one change.
			if time.Until(due) > p.cfg.Debounce {
				due = time.Now().Add(p.cfg.Debounce)
				timer.Reset(p.cfg.Debounce)
				p.setNext(due)
			}
			continue
		case <-timer.C:
		}
		full, patches := box.take()
		if full || l.world == nil || !time.Now().Before(nextRead) {
			wait := p.cfg.Refresh
			if err := p.sync(ctx, l); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				l.failures++
				wait = p.backoff(l.failures)
				p.failed(err, wait)
				// The read failed, but the events it would have
				// superseded are still the newest news.
				p.applyPatches(l, patches)
			} else {
				l.failures = 0
			}
			nextRead = time.Now().Add(wait)
		} else {
			// Events carried the changed resources: rebuild from them
			// without reading the API; the periodic full read stays the
			// safety net. Patch-only events never load a struggling
			// server.
			p.applyPatches(l, patches)
		}
		if l.lister != nil && !l.watching {
			l.watching = true
			url := l.lister.SubscribeURL()
			wg.Go(func() { p.watch(ctx, url, changed, p.setConnected) })
		}
		due = nextRead
		timer.Reset(time.Until(nextRead))
		p.setNext(due)
	}
}

// applyPatches rebuilds the routes from the last world with the events'
// resources applied.
//
// Only the services the events touched are prepared again, unless a stack
// changed, or a service was added, renamed or moved.
func (p *Provider) applyPatches(l *loop, patches []patch) {
	if l.world == nil || len(patches) == 0 {
		return
	}
	dirty, all := l.world.apply(patches)
	if all {
		p.publishFrom(l, l.world.raw)
		return
	}
	p.publishPrepared(l, cattle.Reprepare(l.prep, l.world.raw, p.set, dirty), l.world.Took)
}

// inbox collects what the event stream reported between two rebuilds.
type inbox struct {
	mu      sync.Mutex
	full    bool
	patches []patch
}

// add records a patch, or with nil that only a full read will do.
// Patches are kept even when a full read is due: if that read fails, they
// are still the newest state of their resources.
func (b *inbox) add(pt *patch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if pt == nil {
		b.full = true
		return
	}
	b.patches = append(b.patches, *pt)
}

func (b *inbox) take() (full bool, patches []patch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	full, patches = b.full, b.patches
	b.full, b.patches = false, nil
	return full, patches
}

// backoff is the wait before retry n (from 1): doubling from a quarter of
// the refresh period (at most 1 s), capped at the refresh period, which is
// how often a healthy provider reads anyway.
func (p *Provider) backoff(n int) time.Duration {
	d := min(time.Second, p.cfg.Refresh/4)
	for i := 1; i < n && d < p.cfg.Refresh; i++ {
		d *= 2
	}
	return min(d, p.cfg.Refresh)
}

// sync reads the environment once and publishes if the routes changed.
func (p *Provider) sync(ctx context.Context, l *loop) error {
	if l.lister == nil {
		lst, err := p.connect(p.cfg, p.pageLimit)
		if err != nil {
			return err
		}
		l.lister = lst
	}
	r, err := readAll(ctx, l.lister)
	if err != nil {
		return describe(p.cfg, err)
	}
	l.world = &world{raw: r}
	p.publishFrom(l, r)
	return nil
}

// publishFrom builds the routes from a world and publishes them if they
// changed.
func (p *Provider) publishFrom(l *loop, r raw) {
	p.publishPrepared(l, prepare(r, p.set), r.Took)
}

// publishPrepared builds the routes from what prepare made of the
// world, and publishes them if they changed.
func (p *Provider) publishPrepared(l *loop, prep prepared, took time.Duration) {
	l.prep = prep
	fp := prep.Fingerprint()
	if fp == l.lastFP {
		p.succeeded(prep.Counts, nil, -1)
		return
	}
	services, problems, memo := cattle.Assemble(prep, p.set, l.memo)
	snap := route.Snapshot{Provider: "rancher", Services: services, Problems: problems, Fingerprint: fp, Built: time.Now()}
	p.logChanges(l, prep, services, problems, took)
	// Status first: whoever sees the new routes sees the status that
	// describes them.
	p.succeeded(prep.Counts, problems, len(services))
	l.publish(snap)
	l.lastFP, l.memo = fp, memo
}

// logChanges logs each problem once per change of the snapshot, and at
// debug level the services that produced no route without a problem.
func (p *Provider) logChanges(l *loop, prep prepared, services []route.Service, problems []route.Problem, took time.Duration) {
	now := make(map[string]bool, len(problems))
	for _, pr := range problems {
		key := pr.String()
		now[key] = true
		if l.logged[key] {
			continue
		}
		level := slog.LevelWarn
		if pr.Severity == route.Warning {
			level = slog.LevelInfo
		}
		p.log.Log(context.Background(), level, "rancher service problem", "service", pr.Source.String(),
			"severity", string(pr.Severity), "problem", pr.Message)
	}
	l.logged = now
	if p.log.Enabled(context.Background(), slog.LevelDebug) {
		routed := map[string]bool{}
		for _, s := range services {
			routed[s.Source.Stack+"/"+s.Source.Service] = true
		}
		for _, pr := range problems {
			routed[pr.Source.Stack+"/"+pr.Source.Service] = true
		}
		for _, in := range prep.Inputs {
			if !routed[in.Stack+"/"+in.Service] {
				p.log.Debug("rancher service not routed: no traefik labels, traefik.enable=false or constrained out",
					"service", in.Stack+"/"+in.Service)
			}
		}
	}
	p.log.Info("rancher routes changed", "routes", len(services), "problems", len(problems),
		"stacks", prep.Counts.Stacks, "services", prep.Counts.Services, "containers", prep.Counts.Containers,
		"read", took.Round(time.Millisecond))
}

func (p *Provider) succeeded(c cattle.Counts, problems []route.Problem, routes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.status.LastError != "" {
		p.log.Info("rancher reachable again", "down_for", now.Sub(p.status.ErrorSince).Round(time.Millisecond))
	}
	st := &p.status
	st.LastSync, st.LastSuccess = now, now
	st.LastError, st.ErrorSince = "", time.Time{}
	st.Stacks, st.Services, st.Containers = c.Stacks, c.Services, c.Containers
	st.Syncs++
	if routes >= 0 { // a new snapshot was published
		st.Routes = routes
		st.Problems = problems
	}
}

func (p *Provider) failed(err error, retry time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	st := &p.status
	if st.LastError == "" {
		st.ErrorSince = now
	}
	st.LastSync = now
	st.LastError = err.Error()
	st.Errors++
	// "Keeping the last routes" only when there are some: before the
	// first read, or after one that found none, nothing is kept.
	msg := "rancher read failed; keeping the last routes"
	if st.Syncs == 0 || st.Routes == 0 {
		msg = "rancher read failed; no routes from Rancher yet"
	}
	p.log.Warn(msg, "err", err, "retry_in", retry.Round(time.Millisecond),
		"failing_since", st.ErrorSince.Format(time.RFC3339))
}

func (p *Provider) setNext(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status.NextAttempt = t
}

// setConnected records the event socket's state as the status mode.
func (p *Provider) setConnected(up bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	mode := ModePolling
	if up {
		mode = ModeEvents
	}
	if mode != p.status.Mode {
		if up {
			p.log.Info("rancher events subscribed; changes are live")
		} else {
			p.log.Warn("rancher events unavailable; polling", "err", err, "refresh", p.cfg.Refresh)
		}
	}
	p.status.Mode = mode
}

// String describes the provider for logs, without credentials.
func (p *Provider) String() string {
	return fmt.Sprintf("rancher(%s, key from %s)", p.cfg.Endpoint, p.cfg.KeySource)
}

var _ discovery.Provider = (*Provider)(nil)
