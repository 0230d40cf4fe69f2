package certs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rancher-edge/edge/secrets"
)

// Pair is one certificate (with its chain) and its private key.
type Pair struct {
	// Name is shown to people and names the pair in errors and in
	// [Status.Origin]: the setting and the path or alias, never content,
	// e.g. "TRAEFIK_SSL_CERT[0] (/run/secrets/wild_crt)". Empty means one
	// derived from Cert.
	Name string
	// Cert holds the PEM certificate, leaf first, then each issuer. Key
	// holds the PEM private key. Both may be the same combined file.
	Cert, Key secrets.Value
}

// Config configures a [Store].
type Config struct {
	// Pairs are the file certificates. None is valid when a [Manager]
	// supplies every certificate.
	Pairs []Pair
	// Default picks the pair that answers unknown or absent SNI
	// (TRAEFIK_DEFAULT_CERT): a 1-based index, a certificate name exactly
	// as in the certificate ("*.example.com"), or the certificate's file
	// path or secret alias. Empty means the first pair.
	Default string
	// Resolver re-reads rotated files.
	Resolver secrets.Resolver
	// Poll is how often the files are checked for rotation; zero means
	// [secrets.DefaultPoll] (1 s), which serves a new certificate well
	// within 5 s.
	Poll time.Duration
	// Logger receives reloads and failed reloads; nil discards.
	Logger *slog.Logger
	// Now is the clock for expiry decisions; nil means time.Now.
	Now func() time.Time
}

// Validate reports every problem that can be seen without reading the
// certificates. It changes nothing.
func (c Config) Validate() error {
	var errs []error
	for i, p := range c.Pairs {
		name := pairName(p, i)
		if p.Cert.IsZero() {
			errs = append(errs, fmt.Errorf("%s: certificate is not set", name))
		}
		if p.Key.IsZero() {
			errs = append(errs, fmt.Errorf("%s: private key is not set", name))
		}
	}
	if n, ok := parseIndex(c.Default); ok && c.Default != "" && (n < 1 || n > len(c.Pairs)) {
		errs = append(errs, fmt.Errorf("TRAEFIK_DEFAULT_CERT: %s is not a pair number between 1 and %d", c.Default, len(c.Pairs)))
	}
	if len(c.Pairs) == 0 && c.Default != "" {
		errs = append(errs, errors.New("TRAEFIK_DEFAULT_CERT is set but there are no certificates"))
	}
	if c.Poll < 0 {
		errs = append(errs, errors.New("certs: Poll must not be negative"))
	}
	return errors.Join(errs...)
}

func pairName(p Pair, i int) string {
	switch {
	case p.Name != "":
		return p.Name
	case p.Cert.Setting != "" && p.Cert.Kind == secrets.File:
		return fmt.Sprintf("%s (%s)", p.Cert.Setting, p.Cert.Path)
	case p.Cert.Setting != "":
		return fmt.Sprintf("%s (%s)", p.Cert.Setting, p.Cert)
	}
	return fmt.Sprintf("certificate pair %d", i+1)
}

// Store serves file certificates, rotates them when their files change,
// and asks a [Manager] for the names they do not cover. Its methods are
// safe for concurrent use; the handshake path takes no lock.
type Store struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	watcher *secrets.Watcher
	defPair int

	// mu serialises reloads, which build and publish a new index. Only
	// writers take it.
	mu    sync.Mutex
	pairs []Pair // current values, for reloading; guarded by mu
	// provided caches the loaded provider certificates; guarded by mu.
	provided providedCache

	idx atomic.Pointer[index]
	mgr atomic.Pointer[managerBox]
}

// managerBox lets an interface value live in an atomic.Pointer.
type managerBox struct{ m Manager }

// New loads every pair and checks it. It returns all problems at once,
// each naming the pair and file, never key material. An expired
// certificate is not an error: [Store.Status] shows it as expired.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	now := s.now()
	var errs []error
	slots := make([]*slot, len(cfg.Pairs))
	for i, p := range cfg.Pairs {
		p.Name = pairName(p, i)
		s.pairs = append(s.pairs, p)
		l, err := loadPair(p, now)
		if err != nil {
			errs = append(errs, err)
		}
		slots[i] = &slot{pair: i, cur: l}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	def, ok := resolveDefault(cfg.Default, s.pairs, slots)
	if !ok {
		return nil, fmt.Errorf("TRAEFIK_DEFAULT_CERT: %q matches no certificate; use a pair number, a certificate name or a certificate file", cfg.Default)
	}
	s.defPair = def
	s.idx.Store(buildIndex(1, slots, def))

	var files []secrets.Value
	for _, p := range s.pairs {
		files = append(files, p.Cert, p.Key)
	}
	w, err := secrets.NewWatcher(secrets.WatchConfig{
		Files:    files,
		Interval: cfg.Poll,
		Resolver: cfg.Resolver,
		OnChange: s.filesChanged,
	})
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	s.watcher = w
	return s, nil
}

// Inspect loads every pair as [New] would and describes each, a pair that
// does not load included (State failed, LastError), for `edge check` and
// other tools that must show every problem rather than stop at the first.
func Inspect(cfg Config) []Status {
	now := time.Now()
	if cfg.Now != nil {
		now = cfg.Now()
	}
	pairs := slices.Clone(cfg.Pairs)
	slots := make([]*slot, len(pairs))
	for i := range pairs {
		pairs[i].Name = pairName(pairs[i], i)
		l, err := loadPair(pairs[i], now)
		slots[i] = &slot{pair: i, cur: l}
		if err != nil {
			slots[i].lastErr, slots[i].lastErrAt = err.Error(), now
		}
	}
	def, _ := resolveDefault(cfg.Default, pairs, slots)
	ix := buildIndex(0, slots, def)
	out := make([]Status, 0, len(slots))
	for i, sl := range slots {
		st := ix.status(sl, now)
		if sl.cur == nil {
			setting := pairs[i].Cert.Setting
			if setting == "" {
				setting = pairs[i].Name
			}
			st.ID, st.Source, st.Origin = "file:"+setting, "file", pairs[i].Name
		}
		out = append(out, st)
	}
	return out
}

// Run watches the pairs' files until ctx is done or Close is called, and
// reloads a pair when its certificate or key file changes. A replacement
// that does not load leaves the old certificate serving and is recorded as
// the pair's LastError. Run returns nil when stopped. Call it once.
func (s *Store) Run(ctx context.Context) error {
	return s.watcher.Run(ctx)
}

// Close stops Run; it is safe before Run and more than once. The store
// keeps serving the certificates it has.
func (s *Store) Close() error {
	return s.watcher.Close()
}

// SetManager sets the source of certificates for names the files do not
// cover, such as ACME. Call it before the listeners start; later calls are
// safe but a [Store.TLSConfig] made earlier keeps its NextProtos.
func (s *Store) SetManager(m Manager) {
	if m == nil {
		s.mgr.Store(nil)
		return
	}
	s.mgr.Store(&managerBox{m: m})
}

func (s *Store) manager() Manager {
	if b := s.mgr.Load(); b != nil {
		return b.m
	}
	return nil
}

// Generation counts the file certificate sets published: it changes when a
// rotation is served or a failed one is recorded.
func (s *Store) Generation() uint64 { return s.idx.Load().gen }

// filesChanged is the watcher's callback: reload every pair that uses one
// of the changed paths. Both files of a pair are re-read together because
// a rotation replaces both.
func (s *Store) filesChanged(paths []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.idx.Load()
	slots := slices.Clone(old.slots)
	changed := false
	for i, p := range s.pairs {
		if !slices.Contains(paths, p.Cert.Path) && !slices.Contains(paths, p.Key.Path) {
			continue
		}
		changed = true
		slots[i] = s.reload(i, slots[i])
	}
	if changed {
		s.idx.Store(buildIndex(old.gen+1, slots, s.defPair))
	}
}

// reload re-reads pair i. On failure the previous certificate stays.
func (s *Store) reload(i int, prev *slot) *slot {
	p := s.pairs[i]
	now := s.now()
	fail := func(err error) *slot {
		s.log.Warn("certificate replacement rejected; still serving the previous one",
			"pair", p.Name, "error", err)
		return &slot{pair: i, cur: prev.cur, lastErr: err.Error(), lastErrAt: now}
	}
	cert, err := p.Cert.Reload(s.cfg.Resolver)
	if err != nil {
		return fail(err)
	}
	key, err := p.Key.Reload(s.cfg.Resolver)
	if err != nil {
		return fail(err)
	}
	np := Pair{Name: p.Name, Cert: cert, Key: key}
	l, err := loadPair(np, now)
	if err != nil {
		return fail(err)
	}
	if prev.cur != nil && prev.cur.status.ID == l.status.ID && prev.lastErr == "" {
		return prev // e.g. the key file was rewritten with the same key
	}
	s.pairs[i] = np
	s.log.Info("certificate loaded", "pair", p.Name, "serial", l.status.Serial,
		"names", l.status.Names, "not_after", l.status.NotAfter)
	return &slot{pair: i, cur: l}
}
