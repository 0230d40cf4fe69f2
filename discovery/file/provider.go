package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rancher-edge/edge/discovery"
	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
)

// Config configures the file provider.
type Config struct {
	// Path is the routes file (TRAEFIK_FILE). Required. It may be a
	// symlink; the target is re-resolved on every read.
	Path string

	// Domain is the default domain for rules, Host:<name>.<Domain>. A
	// top-level "domain:" key in the file overrides it. Empty means none.
	Domain string

	// ExposedByDefault applies to services without traefik.enable. The
	// edge sets it to true, the community file provider's behaviour; the
	// zero value false serves only services labelled traefik.enable=true.
	ExposedByDefault bool

	// Poll is how often the file is read. Zero means one second.
	Poll time.Duration

	// Logger receives one line per change: the load, each skipped service
	// and each read or parse error. Nil discards.
	Logger *slog.Logger
}

// defaultPoll keeps an edit live within about a second, like the Rancher
// provider's event path; reading a small file that often costs nothing.
const defaultPoll = time.Second

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("file: path is empty"))
	}
	if c.Poll < 0 {
		errs = append(errs, fmt.Errorf("file: poll interval %v is negative", c.Poll))
	}
	if err := c.options().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("file: %w", err))
	}
	return errors.Join(errs...)
}

func (c Config) options() labels.Options {
	return labels.Options{Provider: providerName, Domain: c.Domain, ExposedByDefault: c.ExposedByDefault}
}

// Provider watches the routes file. Create it with [New].
type Provider struct {
	cfg  Config
	poll time.Duration
	log  *slog.Logger

	mu     sync.Mutex
	status route.ProviderStatus // guarded by mu; Problems is replaced, never modified
}

// New returns a provider for cfg. It does no I/O: a missing file is reported
// by Run and Status, so the edge can start before the file exists.
func New(cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Provider{cfg: cfg, poll: cfg.Poll, log: cfg.Logger}
	if p.poll == 0 {
		p.poll = defaultPoll
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("provider", providerName, "path", cfg.Path)
	p.status = route.ProviderStatus{Name: providerName, Endpoint: cfg.Path, Mode: "watching"}
	return p, nil
}

// Name returns "file".
func (p *Provider) Name() string { return providerName }

// Status returns the provider's current status. It is safe to call from any
// goroutine.
func (p *Provider) Status() route.ProviderStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// Run reads the file every poll interval until ctx is done and publishes a
// snapshot after the first good read and after every change. It never
// publishes from a failed read. It returns nil when ctx is cancelled.
func (p *Provider) Run(ctx context.Context, publish func(route.Snapshot)) error {
	w := watcher{p: p, publish: publish}
	ticker := time.NewTicker(p.poll)
	defer ticker.Stop()
	for {
		w.check(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// watcher is Run's state; only Run's goroutine touches it.
type watcher struct {
	p         *Provider
	publish   func(route.Snapshot)
	seen      uint64 // hash of the content last read; 0 after a read error
	seenErr   error  // outcome of parsing that content
	published uint64 // fingerprint of the last published snapshot
	loggedErr string // last error logged, so a broken file logs once
}

// check reads the file once and acts on what changed.
func (w *watcher) check(ctx context.Context) {
	data, err := os.ReadFile(w.p.cfg.Path)
	if err != nil {
		w.seen = 0
		w.fail(fmt.Errorf("reading routes file: %w", err))
		return
	}
	h := contentHash(data)
	if h == w.seen {
		// An unchanged file is not a sync: the counters count reads
		// that saw new content. The poll still shows the file is
		// readable, so it stamps the attempt (and the success, unless
		// the content is the broken one).
		w.p.setStatus(func(*route.ProviderStatus) {})
		return
	}
	// A writer that truncates and then writes could be caught half-way;
	// wait a moment and act only on content that holds still.
	if !w.settled(ctx, data) {
		return
	}
	w.seen = h
	res, err := build(w.p.cfg.Path, data, w.p.cfg.options())
	w.seenErr = err
	if err != nil {
		w.fail(err)
		return
	}
	w.succeed(ctx, res)
}

// settled re-reads the file after a short pause and says whether it still
// holds data.
func (w *watcher) settled(ctx context.Context, data []byte) bool {
	t := time.NewTimer(min(w.p.poll/4, 100*time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	again, err := os.ReadFile(w.p.cfg.Path)
	return err == nil && bytes.Equal(again, data)
}

// fail records an error in the status and logs it once per distinct
// error. The same error seen again (a file still missing) is not counted
// again: like an unchanged file, it is no new sync.
func (w *watcher) fail(err error) {
	msg := oneLine(err.Error())
	now := time.Now()
	w.p.setStatus(func(s *route.ProviderStatus) {
		if s.LastError == "" {
			s.ErrorSince = now
		}
		if s.LastError != msg {
			s.Errors++
		}
		s.LastError = msg
	})
	if msg != w.loggedErr {
		w.loggedErr = msg
		w.p.log.Error("routes file not loaded; keeping the previous routes", "error", msg)
	}
}

// succeed records a good read and publishes it if the routes changed.
func (w *watcher) succeed(ctx context.Context, res result) {
	snap := res.snap
	w.loggedErr = ""
	w.p.setStatus(func(s *route.ProviderStatus) {
		s.LastError, s.ErrorSince = "", time.Time{}
		s.Syncs++
		s.Services, s.Containers, s.Routes = res.services, res.servers, len(snap.Services)
		s.Problems = snap.Problems
	})
	if snap.Fingerprint == w.published {
		return
	}
	w.published = snap.Fingerprint
	w.p.log.Info("routes file loaded", "services", res.services, "routes", len(snap.Services), "problems", len(snap.Problems))
	for _, pr := range snap.Problems {
		level := slog.LevelWarn
		if pr.Severity == route.Error {
			level = slog.LevelError
		}
		w.p.log.Log(ctx, level, pr.Message, "service", pr.Source.String(), "severity", string(pr.Severity))
	}
	w.publish(snap)
}

// setStatus updates the status under the lock, stamping the attempt.
func (p *Provider) setStatus(update func(*route.ProviderStatus)) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	update(&p.status)
	p.status.LastSync = now
	if p.status.LastError == "" {
		p.status.LastSuccess = now
	}
	p.status.NextAttempt = now.Add(p.poll)
}

func contentHash(data []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(data)
	return h.Sum64() | 1 // never 0, which means "nothing read"
}

// oneLine folds yaml.v3's multi-line errors for the status line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var _ discovery.Provider = (*Provider)(nil)
