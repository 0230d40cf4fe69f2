package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/certs/acme"
	"github.com/rancher-edge/edge/certs/etcdstore"
	"github.com/rancher-edge/edge/certs/kubestore"
	"github.com/rancher-edge/edge/discovery"
	"github.com/rancher-edge/edge/discovery/file"
	"github.com/rancher-edge/edge/discovery/rancher"
	"github.com/rancher-edge/edge/edge"
	"github.com/rancher-edge/edge/route"
	"github.com/rancher-edge/edge/web"
)

// parts are the long-lived components of one edge process.
type parts struct {
	log       *slog.Logger
	certs     *certs.Store
	acme      *acme.Manager    // nil without TRAEFIK_ACME_ENABLE
	etcd      *etcdstore.Store // nil unless ACME storage is etcd://
	kube      *kubestore.Store // nil unless ACME storage is kubernetes
	admin     *web.Server      // nil with TRAEFIK_ADMIN_PORT=0
	edge      *edge.Server
	providers []discovery.Provider

	// accept is how long the edge goes on serving after the stop signal
	// before it drains (TRAEFIK_TIMEOUT_ACCEPT); stopping is set at the
	// signal, and turns /ping to 503 at once.
	accept   time.Duration
	stopping atomic.Bool
}

func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// build wires the parts from the configuration. It binds nothing, and it
// is also all `edge check` runs: every part validates its own
// configuration in its New, and build goes on after a failed part so that
// every problem is reported at once. checking skips what would contact the
// outside world (the etcd storage).
func build(cfg config, logger *slog.Logger, accessLog io.Writer, checking bool) (*parts, error) {
	p := &parts{log: logger, accept: cfg.Limits.Accept}
	var errs []error
	fail := func(prefix string, err error) { errs = append(errs, prefixed(prefix, err)...) }
	var tlsConf *tls.Config
	if cfg.HTTPSEnable {
		pairs := cfg.Pairs
		if len(pairs) == 0 && !cfg.ACME.Enable {
			// Like Traefik, answer HTTPS with a generated certificate rather
			// than refuse to start; the status page shows it.
			if !checking {
				logger.Warn("no certificate configured (TRAEFIK_SSL_CERT); serving a self-signed one")
			}
			certPEM, keyPEM, err := certs.SelfSigned([]string{"edge.invalid"}, 365*24*time.Hour)
			if err != nil {
				return nil, fmt.Errorf("generating a fallback certificate: %w", err)
			}
			cv, err := cfg.Resolver.Resolve("generated", string(certPEM), true)
			if err != nil {
				return nil, err
			}
			kv, err := cfg.Resolver.Resolve("generated", string(keyPEM), true)
			if err != nil {
				return nil, err
			}
			pairs = []certs.Pair{{Name: "generated self-signed", Cert: cv, Key: kv}}
		}
		store, err := certs.New(certs.Config{
			Pairs:    pairs,
			Default:  cfg.DefaultCert,
			Resolver: cfg.Resolver,
			Logger:   logger.With("component", "certs"),
		})
		if err != nil {
			fail("certificates", err)
			// The other parts are still checked, against a placeholder.
			tlsConf = &tls.Config{}
		} else {
			p.certs = store
			if cfg.ACME.Enable {
				m, err := newACME(cfg, store, p, logger, checking)
				if err != nil {
					fail("ACME", err)
				} else {
					p.acme = m
					// Before TLSConfig: the store offers acme-tls/1 only
					// with a manager.
					store.SetManager(m)
				}
			}
			tlsConf = store.TLSConfig()
			tlsConf.MinVersion = cfg.MinTLS
			applyClientCA(cfg.ClientCA, tlsConf)
		}
	}

	admin, err := newAdmin(cfg, p, time.Now(), logger)
	if err != nil {
		fail("admin", err)
	}
	p.admin = admin

	ecfg := edge.Config{
		HTTPAddr:     net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.HTTPPort)),
		HTTPPort:     cfg.HTTPPort,
		HTTPSPort:    cfg.HTTPSPublicPort,
		TLS:          tlsConf,
		RedirectCode: cfg.RedirectCode,
		TrustedIPs:   cfg.TrustedIPs,
		// rawmind0's TRAEFIK_TRUSTEDIPS meant both: forwarded headers
		// and the PROXY protocol from those addresses.
		ProxyProtocol:   len(cfg.TrustedIPs) > 0,
		CompressHTTP:    cfg.CompressHTTP,
		CompressHTTPS:   cfg.CompressHTTPS,
		AccessLogFormat: cfg.AccessLog,
		ReadFile:        labelFileReader(cfg.Resolver),
		DurationBuckets: cfg.Metrics.Buckets,
		Logger:          logger.With("component", "edge"),
	}
	cfg.Limits.apply(&ecfg, logger)
	if cfg.HTTPSEnable {
		ecfg.HTTPSAddr = net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.HTTPSPort))
	}
	if cfg.AccessLog != "" {
		ecfg.AccessLog = accessLog
	}
	if admin != nil && cfg.Admin.Host != "" {
		ecfg.HostHandlers = map[string]http.Handler{cfg.Admin.Host: admin.Handler()}
	}
	if p.acme != nil {
		ecfg.HTTPChallenge = p.acme.HandleHTTPChallenge
	}
	ecfg.OnTable = p.onTable
	if cfg.BackendInsecure {
		ecfg.BackendTLS = &tls.Config{InsecureSkipVerify: true}
	}
	srv, err := edge.New(ecfg)
	if err != nil {
		fail("edge", err)
	}
	p.edge = srv

	providers, err := newProviders(cfg, logger)
	if err != nil {
		errs = append(errs, unjoin(err)...)
	}
	p.providers = providers
	if len(errs) > 0 {
		p.close()
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// prefixed names the part each problem of err belongs to, once: a problem
// that already starts with the prefix (or names its setting) keeps its
// words.
func prefixed(prefix string, err error) []error {
	var out []error
	for _, e := range unjoin(err) {
		msg := e.Error()
		if strings.HasPrefix(strings.ToLower(msg), strings.ToLower(prefix)+":") || strings.HasPrefix(msg, "TRAEFIK_") {
			out = append(out, e)
			continue
		}
		out = append(out, fmt.Errorf("%s: %w", prefix, e))
	}
	return out
}

func newProviders(cfg config, logger *slog.Logger) ([]discovery.Provider, error) {
	var out []discovery.Provider
	var errs []error
	if cfg.File != "" {
		fp, err := file.New(file.Config{Path: cfg.File, ExposedByDefault: true, Logger: logger.With("component", "discovery.file")})
		if err != nil {
			errs = append(errs, prefixed("TRAEFIK_FILE", err)...)
		} else {
			out = append(out, fp)
		}
	}
	if mc := cfg.Metadata; mc != nil {
		if mp, err := newMetadataProvider(mc, logger); err != nil {
			errs = append(errs, err)
		} else {
			out = append(out, mp)
		}
	}
	if rc := cfg.Rancher; rc != nil {
		rp, err := rancher.New(rancher.Config{
			Endpoint:         rc.Endpoint,
			AccessKey:        string(rc.AccessKey.Bytes()),
			SecretKey:        string(rc.SecretKey.Bytes()),
			KeySource:        rc.KeySource,
			SecretKeySource:  rc.SecretKeySource,
			Domain:           rc.Domain,
			Refresh:          rc.Refresh,
			ExposedByDefault: rc.Exposed,
			HealthFilter:     rc.HealthFilter,
			SidekickLabels:   rc.SidekickLabels,
			RuleOrder:        rc.RuleOrder,
			Constraints:      rc.Constraints,
			Logger:           logger,
		})
		if err != nil {
			errs = append(errs, prefixed("rancher", err)...)
		} else {
			logger.Info("rancher discovery configured", "endpoint_from", rc.EndpointSource, "keys_from", rc.KeySource)
			out = append(out, rp)
		}
	}
	if cc := cfg.Consul; cc != nil {
		cp, err := newConsul(cc, cfg.Constraints, logger)
		if err != nil {
			errs = append(errs, err)
		} else {
			out = append(out, cp)
		}
	}
	if cfg.Kubernetes != nil {
		kp, err := newKubernetes(cfg, logger)
		if err != nil {
			errs = append(errs, fmt.Errorf("kubernetes: %w", err))
		} else {
			out = append(out, kp)
		}
	}
	return out, errors.Join(errs...)
}

// run starts every part and blocks until signal ends or a part fails.
//
// Stopping goes in steps, so that load balancers and readiness probes see
// the edge leave before it refuses anything: at the signal /ping answers
// 503; the edge goes on serving for p.accept; then every part's context
// ends and the edge drains for its grace period; the dashboard, /ping
// included, stops only once the edge has drained.
func (p *parts) run(signal context.Context) error {
	ctx, cancel := context.WithCancel(context.WithoutCancel(signal))
	defer cancel()
	adminCtx, stopAdmin := context.WithCancel(context.WithoutCancel(signal))
	defer stopAdmin()
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-signal.Done():
		case <-ctx.Done(): // a part failed
			return
		}
		p.stopping.Store(true)
		if p.accept > 0 {
			p.log.Info("stopping: still serving while /ping answers 503, so load balancers take the edge out first", "for", p.accept)
			t := time.NewTimer(p.accept)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		cancel()
	})
	errc := make(chan error, 4+len(p.providers))
	start := func(name string, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		})
	}
	su := newStartup(len(p.providers))
	p.trim(su, "initialisers'")
	if p.certs != nil {
		start("certificates", p.certs.Run)
	}
	for _, pr := range p.providers {
		first := su.firstOf()
		start("discovery "+pr.Name(), func(ctx context.Context) error {
			return pr.Run(ctx, func(s route.Snapshot) { p.edge.Update(s); first() })
		})
	}
	wg.Go(func() { p.settle(ctx, su, p.edge.Ready()) })
	start("edge", func(ctx context.Context) error {
		defer stopAdmin()
		return p.edge.Run(ctx)
	})
	if p.admin != nil {
		start("dashboard", func(context.Context) error { return p.admin.Run(adminCtx) })
	}
	if p.acme != nil {
		// certmagic binds a challenge port itself when nothing listens
		// there, so ACME starts only once the edge holds 80 and 443.
		start("acme", func(ctx context.Context) error {
			select {
			case <-p.edge.Ready():
			case <-ctx.Done():
				return nil
			}
			return p.acme.Run(ctx)
		})
	}
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (p *parts) close() {
	if p.edge != nil {
		p.edge.Close()
	}
	if p.acme != nil {
		p.acme.Close()
	}
	if p.etcd != nil {
		// After the manager: closing revokes the lease, which frees this
		// edge's storage locks at once.
		p.etcd.Close()
	}
	if p.kube != nil {
		// After the manager, for the same reason: its Leases are emptied.
		p.kube.Close()
	}
	if p.certs != nil {
		p.certs.Close()
	}
}

// serve runs the edge until ctx ends. Every problem that stops it is
// logged once, in the log's format, and returned as a reportedError.
func serve(ctx context.Context, cfg config, e env, stderr io.Writer) error {
	logger, closeLog, err := openLogs(cfg, stderr)
	if err != nil {
		return fatal(fallbackLogger(e, stderr), err)
	}
	defer closeLog()
	watchHangup(ctx, logger)
	for _, w := range cfg.Warnings {
		logger.Warn(w)
	}
	accessLog, closeAccess, err := openAccessLog(cfg)
	if err != nil {
		return fatal(logger, err)
	}
	defer closeAccess()
	p, err := build(cfg, logger, accessLog, false)
	if err != nil {
		return fatal(logger, err)
	}
	defer p.close()
	// The announcements end with serve, so nothing logs after it returns.
	var announce sync.WaitGroup
	defer announce.Wait()
	actx, stopAnnounce := context.WithCancel(ctx)
	defer stopAnnounce()
	announce.Go(func() {
		select {
		case <-p.edge.Ready():
			h, s := p.edge.Addrs()
			logger.Info("edge serving", "http", addrString(h), "https", addrString(s), "version", version)
		case <-actx.Done():
		}
	})
	if p.admin != nil {
		announce.Go(func() {
			select {
			case <-p.admin.Ready():
				logger.Info("dashboard listening", "address", p.admin.Addr().String(), "dashboard", cfg.Admin.Dashboard)
			case <-actx.Done():
			}
		})
	}
	if err := explainBind(p.run(ctx)); err != nil {
		return fatal(logger, err)
	}
	return nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}

// newACME builds the ACME manager. Names a secret-held certificate covers
// are never ordered, and on-demand issuance asks the live routing table.
func newACME(cfg config, store *certs.Store, p *parts, logger *slog.Logger, checking bool) (*acme.Manager, error) {
	a := cfg.ACME
	ac := acme.Config{
		Email:      a.Email,
		CA:         a.CA,
		StorageDir: a.Storage,
		OnHostRule: a.OnHostRule,
		Domains:    a.Domains,
		OnDemand:   a.OnDemand,
		Challenges: a.Challenges,
		Covers:     store.Covers,
		Allow: func(name string) bool {
			return p.edge != nil && p.edge.Table().MatchesHost(name)
		},
		Logger: logger.With("component", "acme"),
	}
	applyACMEDNS(&ac, a)
	applyChallengePorts(&ac, cfg)
	if !a.CARoot.IsZero() {
		ac.CARoot = a.CARoot.Bytes()
	}
	if a.EABKID != "" || !a.EABHMAC.IsZero() {
		ac.EAB = &acme.EAB{KID: a.EABKID, HMAC: string(a.EABHMAC.Bytes())}
	}
	var dnsErr error
	if a.DNSProvider != "" {
		creds := make(map[string]string)
		var errs []error
		for _, k := range acme.DNSCredentials(a.DNSProvider) {
			v, err := cfg.Resolver.Lookup(k, false)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !v.IsZero() {
				creds[k] = string(v.Bytes())
			}
		}
		dns, err := acme.DNSProvider(a.DNSProvider, creds)
		if err != nil {
			errs = append(errs, fmt.Errorf("TRAEFIK_ACME_DNS_PROVIDER: %w", err))
		}
		ac.DNS = dns
		// The rest is still validated, so every problem shows at once.
		dnsErr = errors.Join(errs...)
	}
	if a.Etcd != nil && !checking {
		ec := *a.Etcd
		ec.Logger = logger.With("component", "acme.storage")
		st, err := etcdstore.New(ec)
		if err != nil {
			return nil, fmt.Errorf("TRAEFIK_ACME_STORAGE: %w", err)
		}
		p.etcd = st
		ac.Storage = st
	}
	if a.Kube != nil && !checking {
		st, err := newKubeStore(a.Kube, logger)
		if err != nil {
			return nil, fmt.Errorf("TRAEFIK_ACME_STORAGE: %w", err)
		}
		p.kube = st
		ac.Storage = st
	}
	if dnsErr != nil && ac.DNS == nil {
		// acme.New would add "needs a DNS provider" to the real reason.
		ac.Challenges = slices.DeleteFunc(slices.Clone(ac.Challenges), func(c string) bool { return c == acme.ChallengeDNS01 })
	}
	m, err := acme.New(ac)
	if err != nil || dnsErr != nil {
		if m != nil {
			m.Close()
		}
		return nil, errors.Join(dnsErr, err)
	}
	return m, nil
}

// hostRegexpRules lists the rules that use HostRegexp: ACME cannot order
// for them, and the certificate page says so.
func hostRegexpRules(t *edge.Table) []string {
	var out []string
	for _, rt := range t.Routes() {
		if rt.HostRegexp() {
			out = append(out, rt.Service.Rule)
		}
	}
	return out
}
