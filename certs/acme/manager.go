package acme

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/mholt/acmez/v3"
	"github.com/mholt/acmez/v3/acme"
	"go.uber.org/zap"

	"github.com/rancher-edge/edge/certs"
)

var errClosed = errors.New("acme: manager is closed")

// Manager obtains and renews ACME certificates with certmagic for the
// names the edge routes, serves them and their TLS-ALPN-01 challenges
// through [Manager.GetCertificate], answers HTTP-01 challenges through
// [Manager.HandleHTTPChallenge], and reports every certificate and name
// through [Manager.Status].
//
// Its lifecycle is [New], then [Manager.Run], then [Manager.Close]. All
// methods are safe for concurrent use.
type Manager struct {
	cfg   Config
	caURL string
	log   *slog.Logger
	ch    challenges
	cache *certmagic.Cache
	// configs is stored once New has built them; the cache's maintenance
	// goroutine, started by certmagic.NewCache, reads it.
	configs atomic.Pointer[configSet]
	// wildcards are the wildcard Domains; hosts they cover are not
	// ordered separately.
	wildcards []string

	mu       sync.Mutex
	runCtx   context.Context // set while Run runs
	closed   bool
	names    map[string]*entry
	hosts    map[string]bool // exact names from the latest SetHosts
	regexps  []string
	ari      map[string]ariMemo // by certificate hash
	imported map[string]string  // leaf SHA-256 -> where it was imported from
	stopOnce sync.Once
}

// configSet holds the certmagic configs sharing one Cache.
type configSet struct {
	http     *certmagic.Config // plain names: HTTP-01 / TLS-ALPN-01
	dns      *certmagic.Config // wildcards: DNS-01; nil without a provider
	onDemand *certmagic.Config // handshake-time issuance; nil unless on
	issuer   *certmagic.ACMEIssuer
}

// New builds a Manager from cfg. It contacts nothing: the account is
// registered and certificates are ordered in the background once Run
// starts.
func New(cfg Config) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ca, _ := caURL(cfg.CA) // validated above
	roots, err := trustedRoots(cfg.CARoot)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		cfg:   cfg,
		caURL: ca,
		log:   cfg.Logger.With("component", "certs.acme"),
		ch:    cfg.challenges(),
		names: map[string]*entry{},
		hosts: map[string]bool{},
		ari:   map[string]ariMemo{},
	}
	zl := zapToSlog(cfg.Logger.With("component", "certmagic"))

	m.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert:   m.configForCert,
		RenewCheckInterval: cfg.RenewCheckInterval,
		Logger:             zl,
	})
	set := &configSet{}
	if cfg.DNS != nil {
		set.dns, _ = m.newConfig(zl, roots, m.dnsSolver(zl), nil)
	}
	if m.ch.dnsOnly {
		set.http, set.issuer = m.newConfig(zl, roots, m.dnsSolver(zl), nil)
	} else {
		set.http, set.issuer = m.newConfig(zl, roots, nil, nil)
	}
	if cfg.OnDemand {
		var solver acmez.Solver
		if m.ch.dnsOnly {
			solver = m.dnsSolver(zl)
		}
		set.onDemand, _ = m.newConfig(zl, roots, solver, &certmagic.OnDemandConfig{DecisionFunc: m.decide})
	}
	m.configs.Store(set)

	for _, d := range cfg.Domains {
		name := normalize(d)
		if strings.HasPrefix(name, "*.") {
			m.wildcards = append(m.wildcards, name)
		}
		m.names[name] = &entry{name: name, origin: originDomain}
	}
	return m, nil
}

func trustedRoots(pemRoots []byte) (*x509.CertPool, error) {
	if len(pemRoots) == 0 {
		return nil, nil // nil means the system roots to certmagic
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool() // no system roots here: trust only CARoot
	}
	if !pool.AppendCertsFromPEM(pemRoots) {
		return nil, errors.New("acme: CA root holds no PEM certificate")
	}
	return pool, nil
}

func (m *Manager) newConfig(zl *zap.Logger, roots *x509.CertPool, dns acmez.Solver, od *certmagic.OnDemandConfig) (*certmagic.Config, *certmagic.ACMEIssuer) {
	// Every field certmagic would otherwise copy from its package-level
	// Default is set here, so no global state leaks in.
	cfg := certmagic.New(m.cache, certmagic.Config{
		RenewalWindowRatio: m.cfg.RenewalWindowRatio,
		OnEvent:            m.onEvent,
		// tls_get_certificate fires on every handshake and is not used.
		ShouldEmitFunc: func(event string) bool { return event != "tls_get_certificate" },
		OnDemand:       od,
		KeySource:      certmagic.StandardKeyGenerator{KeyType: keyTypes[m.cfg.KeyType]},
		Storage:        m.cfg.Storage,
		Logger:         zl,
	})
	var eab *acme.EAB
	if m.cfg.EAB != nil {
		mac, _ := decodeHMAC(m.cfg.EAB.HMAC) // validated
		eab = &acme.EAB{KeyID: m.cfg.EAB.KID, MACKey: base64.RawURLEncoding.EncodeToString(mac)}
	}
	iss := certmagic.NewACMEIssuer(cfg, certmagic.ACMEIssuer{
		CA:                      m.caURL,
		Email:                   m.cfg.Email,
		Agreed:                  true,
		ExternalAccount:         eab,
		Profile:                 m.cfg.Profile,
		DisableHTTPChallenge:    !m.ch.http,
		DisableTLSALPNChallenge: !m.ch.tlsALPN,
		AltHTTPPort:             m.cfg.HTTPPort,
		AltTLSALPNPort:          m.cfg.TLSALPNPort,
		DNS01Solver:             dns,
		TrustedRoots:            roots,
		Logger:                  zl,
	})
	cfg.Issuers = []certmagic.Issuer{iss}
	return cfg, iss
}

func (m *Manager) dnsSolver(zl *zap.Logger) acmez.Solver {
	return &certmagic.DNS01Solver{DNSManager: certmagic.DNSManager{
		DNSProvider:      m.cfg.DNS,
		Resolvers:        m.cfg.DNSResolvers,
		PropagationDelay: m.cfg.DNSPropagationDelay,
		Logger:           zl,
	}}
}

// configForCert routes maintenance: wildcards renew through DNS-01, the
// rest through the HTTP-01 / TLS-ALPN-01 config, including certificates
// obtained on demand (so they renew in the background too, not only when
// a handshake happens to come by).
func (m *Manager) configForCert(c certmagic.Certificate) (*certmagic.Config, error) {
	set := m.configs.Load()
	if set == nil {
		return nil, errors.New("acme: manager is still being built")
	}
	if set.dns != nil && len(c.Names) > 0 && strings.HasPrefix(c.Names[0], "*.") {
		return set.dns, nil
	}
	return set.http, nil
}

// Run starts managing the names known so far and keeps reconciling
// (releasing names whose routes are gone) until ctx is done. Orders run in
// the background: Run never waits for a CA. Cancelling ctx stops all
// pending orders and retries; certificates already obtained keep being
// served until Close.
//
// Start Run after the edge has bound its HTTP and HTTPS listeners:
// certmagic binds a challenge port itself when nothing listens there,
// which would then keep the edge from binding it.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	idle := !m.closed && m.runCtx == nil
	m.mu.Unlock()
	if idle {
		// Before runCtx is set, which is what lets SetHosts start
		// managing names: certmagic then finds what was imported
		// instead of ordering it.
		m.importTraefik(ctx)
	}
	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return errClosed
	case m.runCtx != nil:
		m.mu.Unlock()
		return errors.New("acme: Run called twice")
	}
	m.runCtx = ctx
	m.mu.Unlock()
	defer m.stopManaging()

	m.reconcile()
	t := time.NewTicker(sweepInterval(m.cfg.ReleaseAfter))
	defer t.Stop()
	rc := time.NewTicker(cmp.Or(m.cfg.RecheckInterval, recheckInterval))
	defer rc.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			m.reconcile()
		case <-rc.C:
			m.recheck()
		}
	}
}

// sweepInterval is how often Run re-evaluates names: often enough to
// release close to ReleaseAfter, rarely enough to cost nothing.
func sweepInterval(releaseAfter time.Duration) time.Duration {
	return min(max(releaseAfter/4, time.Second), time.Minute)
}

// stopManaging cancels every name's management context.
func (m *Manager) stopManaging() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runCtx = nil
	for _, e := range m.names {
		if e.cancel != nil {
			e.cancel()
			e.cancel = nil
		}
	}
}

// Close stops all background work, including certmagic's maintenance.
// It is safe to call more than once and without Run.
func (m *Manager) Close() error {
	m.stopOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		m.stopManaging()
		m.cache.Stop()
	})
	return nil
}

// GetCertificate returns the managed certificate for hello's server name,
// answers TLS-ALPN-01 challenges, and obtains a certificate during the
// handshake when on-demand issuance is on and a route matches the name.
// It returns (nil, nil) for names it does not manage, so the caller can
// fall back to other certificates.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	set := m.configs.Load()
	if len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acmez.ACMETLS1Protocol {
		if !m.ch.tlsALPN {
			return nil, nil
		}
		cert, err := set.http.GetCertificate(hello)
		if err != nil {
			return nil, fmt.Errorf("acme: answering tls-alpn-01 for %q: %w", hello.ServerName, err)
		}
		return cert, nil
	}
	name := normalize(hello.ServerName)
	if name == "" {
		return nil, nil
	}
	cfg := set.http
	if len(m.cache.AllMatchingCertificates(name)) == 0 {
		// Refused names never reach certmagic, so they cannot make it
		// touch storage or the CA.
		if set.onDemand == nil || m.refuse(name) != "" {
			return nil, nil
		}
		cfg = set.onDemand
	}
	cert, err := cfg.GetCertificate(hello)
	if err != nil {
		return nil, fmt.Errorf("acme: certificate for %q: %w", name, err)
	}
	return cert, nil
}

// decide is the on-demand DecisionFunc; GetCertificate has normally
// refused already, this guards certmagic's own paths.
func (m *Manager) decide(_ context.Context, name string) error {
	if reason := m.refuse(name); reason != "" {
		return errors.New(reason)
	}
	return nil
}

// refuse says why name may not be obtained on demand, or "".
func (m *Manager) refuse(name string) string {
	if reason := m.skipReason(name, false); reason != "" {
		return reason
	}
	if !m.cfg.Allow(name) {
		return "no route matches this name"
	}
	return ""
}

// HandleHTTPChallenge answers an ACME HTTP-01 challenge request and
// reports true, or reports false and leaves w untouched (the edge then
// redirects to HTTPS as usual). Any instance sharing the storage can
// answer challenges started by another.
func (m *Manager) HandleHTTPChallenge(w http.ResponseWriter, r *http.Request) bool {
	return m.configs.Load().issuer.HandleHTTPChallenge(w, r)
}

var _ certs.Manager = (*Manager)(nil)
