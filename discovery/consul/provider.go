package consul

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/rancher-edge/edge/discovery"
	"github.com/rancher-edge/edge/route"
)

// ModeWatching is the status mode while both blocking queries are running.
const ModeWatching = "watching"

// fetchers bounds the concurrent per-service reads of one sync.
const fetchers = 8

// Provider discovers routes in a Consul catalog. Create it with [New],
// start it with [Provider.Run]; [Provider.Status] may be called from any
// goroutine at any time.
type Provider struct {
	cfg Config
	set settings
	log *slog.Logger

	// newReader makes the API reader; tests may replace it.
	newReader func(Config) (reader, error)

	mu     sync.Mutex
	status route.ProviderStatus
}

// New checks cfg and returns a provider. It does no I/O.
func New(cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	set, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	p := &Provider{
		cfg:       cfg,
		set:       set,
		log:       cfg.Logger.With("component", "discovery.consul"),
		newReader: func(c Config) (reader, error) { return newReader(c) },
		status:    route.ProviderStatus{Name: "consul", Endpoint: cfg.Endpoint, Mode: ModeWatching, KeySource: cfg.TokenSource},
	}
	if cfg.ExposedByDefault {
		p.status.Notes = []string{exposedNote(cfg.Prefix)}
	}
	return p, nil
}

func exposedNote(prefix string) string {
	return "exposed by default: every service registered in Consul is published, tagged or not, unless it is tagged " +
		prefix + ".enable=false"
}

// Name returns "consul".
func (p *Provider) Name() string { return "consul" }

// Close releases nothing: Run's goroutines end with its context.
func (p *Provider) Close() error { return nil }

// Status reports the provider's state for the dashboard and the log.
func (p *Provider) Status() route.ProviderStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.status
	st.Problems = slices.Clone(st.Problems)
	st.Notes = slices.Clone(st.Notes)
	return st
}

// loop is the state of one Run, owned by its goroutine.
type loop struct {
	publish func(route.Snapshot)
	r       reader

	catalog    map[string][]string // nil until the first answer
	services   map[string]uint64   // check digests per service
	nodes      map[string]uint64   // check digests per node
	haveChecks bool
	world      world
	pending    map[string]bool // services to read again
	all        bool            // read every service again
	ambiguous  bool            // the catalog moved without a visible change

	catalogErr, healthErr, fetchErr error
	fetchFailures                   int

	lastFP uint64
	logged map[string]bool
}

// Run watches the catalog, publishes a snapshot after the first complete
// read and after every change, and returns nil when ctx is done. A failed
// read publishes nothing, so the last good routes keep serving.
func (p *Provider) Run(ctx context.Context, publish func(route.Snapshot)) error {
	if publish == nil {
		return errors.New("consul: publish is nil")
	}
	r, err := p.newReader(p.cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	p.log.Info("consul discovery starting", "endpoint", p.cfg.Endpoint, "token_from", p.cfg.TokenSource,
		"datacenter", p.cfg.Datacenter, "prefix", p.cfg.Prefix, "exposed_by_default", p.cfg.ExposedByDefault,
		"constraints", p.cfg.Constraints, "strict_checks", !p.cfg.WarningIsHealthy, "stale", p.cfg.Stale)

	events := make(chan event)
	wg.Go(func() { p.watch(ctx, false, r, events) })
	wg.Go(func() { p.watch(ctx, true, r, events) })

	l := &loop{publish: publish, r: r, world: world{}, pending: map[string]bool{}, logged: map[string]bool{}}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			p.apply(l, ev)
			if !armed && l.due() {
				// Debounce: a registration moves the catalog and the
				// checks together; one sync serves both.
				timer.Reset(p.cfg.Debounce)
				armed = true
			}
			continue
		case <-timer.C:
			armed = false
		}
		if retry := p.sync(ctx, l); retry > 0 {
			timer.Reset(retry)
			armed = true
		}
	}
}

// due reports whether a sync has work: the first complete read, changed
// services, or a catalog move nothing else explains.
func (l *loop) due() bool {
	return l.catalog != nil && l.haveChecks && (l.all || l.ambiguous || len(l.pending) > 0)
}

// apply records one watch answer: what changed goes into the pending set.
func (p *Provider) apply(l *loop, ev event) {
	if ev.health {
		p.applyChecks(l, ev)
	} else {
		p.applyCatalog(l, ev)
	}
	p.updateError(l, false)
}

func (p *Provider) applyCatalog(l *loop, ev event) {
	if ev.err != nil {
		l.catalogErr = describe(p.cfg, "the catalog (/v1/catalog/services)", ev.err)
		return
	}
	if ev.filtered && len(ev.catalog) == 0 {
		// Consul answers a token that may read nothing with an empty
		// catalog, not a 403: publishing it would drop every route.
		l.catalogErr = errACLFiltered(p.cfg)
		return
	}
	recovered := l.catalogErr != nil
	l.catalogErr = nil
	if l.catalog == nil || recovered {
		// The first answer, or the first after an outage: read everything.
		l.all = true
	} else {
		moved := false
		for name, tags := range ev.catalog {
			if old, ok := l.catalog[name]; !ok || !sameTags(old, tags) {
				l.pending[name], moved = true, true
			}
		}
		for name := range l.catalog {
			if _, ok := ev.catalog[name]; !ok {
				l.pending[name], moved = true, true // deregistered: the sync drops it
			}
		}
		if !moved {
			l.ambiguous = true
		}
	}
	l.catalog = ev.catalog
}

func (p *Provider) applyChecks(l *loop, ev event) {
	if ev.err != nil {
		l.healthErr = describe(p.cfg, "the checks (/v1/health/state/any)", ev.err)
		return
	}
	recovered := l.healthErr != nil
	l.healthErr = nil
	services, nodes := checkDigests(ev.checks)
	switch {
	case !l.haveChecks || recovered:
		l.all = true
	case len(changedKeys(l.nodes, nodes)) > 0:
		// A node's own check (serfHealth, maintenance) concerns every
		// instance on it: read everything rather than track placement.
		l.all = true
	default:
		for _, name := range changedKeys(l.services, services) {
			l.pending[name] = true
		}
	}
	l.services, l.nodes, l.haveChecks = services, nodes, true
}

// sync reads the services that changed and publishes if the routes did.
// It returns how long to wait before retrying failed reads, or 0.
func (p *Provider) sync(ctx context.Context, l *loop) time.Duration {
	if !l.due() {
		return 0
	}
	if l.ambiguous {
		// The catalog moved and no tag says where: an instance came or
		// went. One with checks moves its service's check digest too (so
		// that service is pending), but one without checks moves nothing
		// else, and a check that changed elsewhere in the same debounce
		// window cannot tell the two apart — taking it as the explanation
		// lost such an instance until its service changed again. Read
		// everything, as Traefik did on every catalog change; check
		// changes alone, the frequent kind, still read only their
		// services.
		l.all = true
	}
	l.ambiguous = false
	var names []string
	if l.all {
		names = slices.Collect(maps.Keys(l.catalog))
	} else {
		names = slices.Collect(maps.Keys(l.pending))
	}
	l.all = false
	clear(l.pending)
	for name := range l.world {
		if _, ok := l.catalog[name]; !ok {
			delete(l.world, name)
		}
	}
	var fetch []string
	for _, n := range names {
		if _, ok := l.catalog[n]; ok && n != "consul" {
			fetch = append(fetch, n)
		}
	}
	start := time.Now()
	got, failed, err := p.fetch(ctx, l.r, fetch)
	if ctx.Err() != nil {
		return 0
	}
	maps.Copy(l.world, got)
	for _, n := range failed {
		l.pending[n] = true
	}
	l.fetchErr = err
	if err == nil || l.lastFP != 0 {
		// Never a first snapshot from a failed read: it would lack the
		// services that failed. Later, a failed service keeps its last
		// instances and the others move on.
		p.publishFrom(l, time.Since(start), len(fetch))
	}
	p.updateError(l, true)
	if err != nil {
		l.fetchFailures++
		return p.backoff(l.fetchFailures)
	}
	l.fetchFailures = 0
	return 0
}

// fetch reads the named services' instances, fetchers at a time. Services
// that failed are returned for the retry, with the first error.
func (p *Provider) fetch(ctx context.Context, r reader, names []string) (world, []string, error) {
	got := make(world, len(names))
	var (
		mu       sync.Mutex
		failed   []string
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan string)
	for range min(fetchers, len(names)) {
		wg.Go(func() {
			for name := range work {
				insts, m, err := r.instances(ctx, name)
				if err == nil && m.filtered && len(insts) == 0 {
					err = fmt.Errorf("the ACL token%s may read service %q but not its instances' nodes: give it node:read", tokenFrom(p.cfg), name)
				} else if err != nil {
					err = describe(p.cfg, "service "+name, err)
				}
				mu.Lock()
				if err != nil {
					failed = append(failed, name)
					if firstErr == nil {
						firstErr = err
					}
				} else {
					got[name] = insts
				}
				mu.Unlock()
			}
		})
	}
	for _, n := range names {
		work <- n
	}
	close(work)
	wg.Wait()
	return got, failed, firstErr
}

// publishFrom builds the routes from the world and publishes them if they
// changed.
func (p *Provider) publishFrom(l *loop, took time.Duration, read int) {
	prep := prepare(l.world, p.set)
	fp := prep.fingerprint()
	if fp == l.lastFP {
		p.counted(prep, nil, -1)
		return
	}
	services, problems := assemble(prep, p.set)
	snap := route.Snapshot{Provider: "consul", Services: services, Problems: problems, Fingerprint: fp, Built: time.Now()}
	p.logChanges(l, problems)
	p.log.Info("consul routes changed", "routes", len(services), "problems", len(problems),
		"services", prep.services, "instances", prep.instances, "read", read, "took", took.Round(time.Millisecond))
	// Status first: whoever sees the new routes sees the status that
	// describes them.
	p.counted(prep, problems, len(services))
	l.publish(snap)
	l.lastFP = fp
}

// logChanges logs each problem once per change of the snapshot.
func (p *Provider) logChanges(l *loop, problems []route.Problem) {
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
		p.log.Log(context.Background(), level, "consul service problem", "service", pr.Source.String(),
			"severity", string(pr.Severity), "problem", pr.Message)
	}
	l.logged = now
}

func (p *Provider) counted(prep prepared, problems []route.Problem, routes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := &p.status
	st.Services, st.Instances = prep.services, prep.instances
	if routes >= 0 {
		st.Routes = routes
		st.Problems = problems
	}
}

// updateError sets the status from the loop's errors: the first of them,
// in plain words, or success. synced says a sync (not only a watch
// answer) just finished.
func (p *Provider) updateError(l *loop, synced bool) {
	err := l.catalogErr
	if err == nil {
		err = l.healthErr
	}
	if err == nil {
		err = l.fetchErr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st := &p.status
	now := time.Now()
	st.LastSync = now
	if err != nil {
		if st.LastError != err.Error() {
			msg := "consul read failed; keeping the last routes"
			if st.Syncs == 0 || st.Routes == 0 {
				msg = "consul read failed; no routes from it yet"
			}
			p.log.Warn(msg, "err", err)
			st.Errors++
		}
		if st.LastError == "" {
			st.ErrorSince = now
		}
		st.LastError = err.Error()
		return
	}
	if l.catalog == nil || !l.haveChecks || l.lastFP == 0 {
		return // still starting
	}
	if st.LastError != "" {
		p.log.Info("consul reachable again", "down_for", now.Sub(st.ErrorSince).Round(time.Millisecond))
	}
	st.LastSuccess = now
	st.LastError, st.ErrorSince, st.NextAttempt = "", time.Time{}, time.Time{}
	if synced {
		st.Syncs++
	}
}

// setNext records when a failed read is retried, for the dashboard.
func (p *Provider) setNext(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status.NextAttempt = t
}

// String describes the provider for logs, without the token.
func (p *Provider) String() string {
	return fmt.Sprintf("consul(%s, token from %s)", p.cfg.Endpoint, p.cfg.TokenSource)
}

var _ discovery.Provider = (*Provider)(nil)
