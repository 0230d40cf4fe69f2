package metadata

import (
	"context"
	"errors"
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
	ModeLongPoll     = "long-poll"     // /version?wait=true: changes are live
	ModeIntervalPoll = "interval-poll" // /version every refresh period
)

// Provider discovers routes from rancher-metadata. Create it with [New],
// start it with [Provider.Run]; [Provider.Status] may be called from any
// goroutine at any time.
type Provider struct {
	cfg    Config
	set    cattle.Settings
	log    *slog.Logger
	client *client

	mu     sync.Mutex
	status route.ProviderStatus
}

// New checks cfg and returns a provider. It does no I/O.
func New(cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	mode := ModeLongPoll
	if cfg.IntervalPoll {
		mode = ModeIntervalPoll
	}
	return &Provider{
		cfg:    cfg,
		set:    cfg.settings(),
		log:    cfg.Logger.With("component", "discovery.metadata"),
		client: newClient(cfg),
		status: route.ProviderStatus{Name: ProviderName, Endpoint: cfg.URL + "/" + cfg.Prefix, Mode: mode},
	}, nil
}

// Name returns "rancher-metadata".
func (p *Provider) Name() string { return ProviderName }

// Close releases nothing: Run ends with its context. It exists for the
// New → Run → Close lifecycle and is safe to call at any time.
func (p *Provider) Close() error { return nil }

// Status reports the provider's state for the dashboard and the log.
func (p *Provider) Status() route.ProviderStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.status
	st.Problems = slices.Clone(st.Problems)
	return st
}

// Run reads the stacks, publishes a snapshot after the first good read and
// after every change, and returns nil when ctx is done. A failed read or
// poll publishes nothing, so the last good routes keep serving.
func (p *Provider) Run(ctx context.Context, publish func(route.Snapshot)) error {
	if publish == nil {
		return errors.New("metadata: publish is nil")
	}
	p.log.Info("rancher-metadata discovery starting", "url", p.cfg.URL, "prefix", p.cfg.Prefix,
		"mode", p.status.Mode, "refresh", p.cfg.Refresh, "rule_order", p.cfg.RuleOrder, "health_filter", p.cfg.HealthFilter)
	var (
		version  string // of the last good read; "" before it
		stale    = true // the routes may be behind the server: read
		failures int
		last     built
	)
	for ctx.Err() == nil {
		var err error
		if stale {
			var v string
			if v, err = p.client.version(ctx); err == nil {
				var w cattle.World
				if w, err = p.client.stacks(ctx); err == nil {
					p.publishFrom(w, &last, publish)
					version, stale = v, false
				}
			}
		} else {
			var v string
			if p.cfg.IntervalPoll {
				p.setNext(time.Now().Add(p.cfg.Refresh))
				if !sleep(ctx, p.cfg.Refresh) {
					return nil
				}
				v, err = p.client.version(ctx)
			} else {
				p.setNext(time.Now())
				start := time.Now()
				v, err = p.client.wait(ctx, version, p.cfg.maxWait())
				// A server (or a proxy) that does not hold the poll
				// answers at once: pace the polls rather than spin.
				if held := time.Since(start); err == nil && v == version && held < minPoll {
					if !sleep(ctx, minPoll-held) {
						return nil
					}
				}
			}
			stale = err == nil && v != version
			if err == nil && !stale {
				p.contacted() // no change, but metadata answered
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			failures = 0
			continue
		}
		// Whatever happened while the server was out of reach is read
		// again once it answers.
		failures++
		stale = true
		wait := p.backoff(failures)
		p.failed(err, wait)
		if !sleep(ctx, wait) {
			return nil
		}
	}
	return nil
}

// minPoll is the shortest time between two long polls that found no
// change.
const minPoll = time.Second

// backoff is the wait before retry n (from 1): doubling from 250 ms,
// capped at MaxBackoff.
func (p *Provider) backoff(n int) time.Duration {
	d := 250 * time.Millisecond
	for i := 1; i < n && d < p.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.cfg.MaxBackoff)
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// built is what the loop remembers of the routes it published.
type built struct {
	fp     uint64          // the published snapshot's fingerprint
	memo   cattle.Memo     // its services by input, for the next Assemble
	logged map[string]bool // problems logged for it
}

// publishFrom builds the routes of a read and publishes them if they
// changed, recording them in last.
func (p *Provider) publishFrom(w cattle.World, last *built, publish func(route.Snapshot)) {
	prep := cattle.Prepare(w, p.set)
	fp := prep.Fingerprint()
	if fp == last.fp {
		p.succeeded(prep.Counts, nil, -1)
		return
	}
	services, problems, memo := cattle.Assemble(prep, p.set, last.memo)
	snap := route.Snapshot{Provider: ProviderName, Services: services, Problems: problems, Fingerprint: fp, Built: time.Now()}
	last.logged = p.logProblems(problems, last.logged)
	p.log.Info("rancher-metadata routes changed", "routes", len(services), "problems", len(problems),
		"stacks", prep.Counts.Stacks, "services", prep.Counts.Services, "containers", prep.Counts.Containers,
		"read", w.Took.Round(time.Millisecond))
	// Status first: whoever sees the new routes sees the status that
	// describes them.
	p.succeeded(prep.Counts, problems, len(services))
	publish(snap)
	last.fp, last.memo = fp, memo
}

// logProblems logs each problem once while it lasts: those not in logged,
// the set it returns for the next call.
func (p *Provider) logProblems(problems []route.Problem, logged map[string]bool) map[string]bool {
	now := make(map[string]bool, len(problems))
	for _, pr := range problems {
		key := pr.String()
		now[key] = true
		if logged[key] {
			continue
		}
		level := slog.LevelWarn
		if pr.Severity == route.Warning {
			level = slog.LevelInfo
		}
		p.log.Log(context.Background(), level, "rancher-metadata service problem", "service", pr.Source.String(),
			"severity", string(pr.Severity), "problem", pr.Message)
	}
	return now
}

func (p *Provider) succeeded(c cattle.Counts, problems []route.Problem, routes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.status.LastError != "" {
		p.log.Info("rancher-metadata reachable again", "down_for", now.Sub(p.status.ErrorSince).Round(time.Millisecond))
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

// contacted records a poll that found no change: metadata is reachable
// and the routes are current, though nothing was read. Like an unchanged
// routes file, it is no sync.
func (p *Provider) contacted() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	p.status.LastSync, p.status.LastSuccess = now, now
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
	if st.Syncs > 0 {
		st.LastError += "; keeping the last good routes"
	}
	st.Errors++
	st.NextAttempt = now.Add(retry)
	msg := "rancher-metadata read failed; keeping the last routes"
	if st.Syncs == 0 || st.Routes == 0 {
		msg = "rancher-metadata read failed; no routes from it yet"
	}
	p.log.Warn(msg, "err", err, "retry_in", retry.Round(time.Millisecond),
		"failing_since", st.ErrorSince.Format(time.RFC3339))
}

func (p *Provider) setNext(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status.NextAttempt = t
}

var _ discovery.Provider = (*Provider)(nil)
