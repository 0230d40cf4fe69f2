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
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/certs/acme"
	"github.com/rancher-edge/edge/certs/etcdstore"
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
	admin     *web.Server      // nil with TRAEFIK_ADMIN_PORT=0
	edge      *edge.Server
	providers []discovery.Provider
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// build wires the parts from the configuration. It binds nothing.
func build(cfg config, logger *slog.Logger, accessLog io.Writer) (*parts, error) {
	p := &parts{log: logger}
	var tlsConf *tls.Config
	if cfg.HTTPSEnable {
		pairs := cfg.Pairs
		if len(pairs) == 0 && !cfg.ACME.Enable {
			// Like Traefik, answer HTTPS with a generated certificate rather
			// than refuse to start; the status page shows it.
			logger.Warn("no certificate configured (TRAEFIK_SSL_CERT); serving a self-signed one")
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
			return nil, fmt.Errorf("certificates:\n%w", indent(err))
		}
		p.certs = store
		if cfg.ACME.Enable {
			m, err := newACME(cfg, store, p, logger)
			if err != nil {
				return nil, err
			}
			p.acme = m
			// Before TLSConfig: the store offers acme-tls/1 only with a
			// manager.
			store.SetManager(m)
		}
		tlsConf = store.TLSConfig()
	}

	admin, err := newAdmin(cfg, p, time.Now(), logger)
	if err != nil {
		return nil, err
	}
	p.admin = admin

	ecfg := edge.Config{
		HTTPAddr:        ":" + strconv.Itoa(cfg.HTTPPort),
		HTTPPort:        cfg.HTTPPort,
		HTTPSPort:       cfg.HTTPSPort,
		TLS:             tlsConf,
		RedirectCode:    cfg.RedirectCode,
		TrustedIPs:      cfg.TrustedIPs,
		AccessLogFormat: cfg.AccessLog,
		Logger:          logger.With("component", "edge"),
	}
	if cfg.HTTPSEnable {
		ecfg.HTTPSAddr = ":" + strconv.Itoa(cfg.HTTPSPort)
	}
	if cfg.AccessLog != "" {
		ecfg.AccessLog = accessLog
	}
	if admin != nil && cfg.Admin.Host != "" {
		ecfg.HostHandlers = map[string]http.Handler{cfg.Admin.Host: admin.Handler()}
	}
	if p.acme != nil {
		m := p.acme
		ecfg.HTTPChallenge = m.HandleHTTPChallenge
		ecfg.OnTable = func(t *edge.Table) { m.SetHosts(t.Hosts(), hostRegexpRules(t)) }
	}
	if cfg.BackendInsecure {
		ecfg.BackendTLS = &tls.Config{InsecureSkipVerify: true}
	}
	srv, err := edge.New(ecfg)
	if err != nil {
		return nil, err
	}
	p.edge = srv

	providers, err := newProviders(cfg, logger)
	if err != nil {
		return nil, err
	}
	p.providers = providers
	return p, nil
}

func newProviders(cfg config, logger *slog.Logger) ([]discovery.Provider, error) {
	var out []discovery.Provider
	var errs []error
	if cfg.File != "" {
		fp, err := file.New(file.Config{Path: cfg.File, ExposedByDefault: true, Logger: logger.With("component", "discovery.file")})
		if err != nil {
			errs = append(errs, fmt.Errorf("TRAEFIK_FILE: %w", err))
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
			Domain:           rc.Domain,
			Refresh:          rc.Refresh,
			ExposedByDefault: rc.Exposed,
			HealthFilter:     rc.HealthFilter,
			RuleOrder:        rc.RuleOrder,
			Constraints:      rc.Constraints,
			Logger:           logger,
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("rancher: %w", err))
		} else {
			logger.Info("rancher discovery configured", "endpoint_from", rc.EndpointSource, "keys_from", rc.KeySource)
			out = append(out, rp)
		}
	}
	return out, errors.Join(errs...)
}

// run starts every part and blocks until ctx ends or a part fails.
func (p *parts) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 4+len(p.providers))
	start := func(name string, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		})
	}
	if p.certs != nil {
		start("certificates", p.certs.Run)
	}
	for _, pr := range p.providers {
		start("discovery "+pr.Name(), func(ctx context.Context) error {
			return pr.Run(ctx, func(s route.Snapshot) { p.edge.Update(s) })
		})
	}
	start("edge", p.edge.Run)
	if p.admin != nil {
		start("dashboard", p.admin.Run)
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
	p.edge.Close()
	if p.acme != nil {
		p.acme.Close()
	}
	if p.etcd != nil {
		// After the manager: closing revokes the lease, which frees this
		// edge's storage locks at once.
		p.etcd.Close()
	}
	if p.certs != nil {
		p.certs.Close()
	}
}

// serve runs the edge until ctx ends.
func serve(ctx context.Context, cfg config, e env, stderr io.Writer) error {
	logger := newLogger(stderr, cfg.LogLevel)
	warnLegacy(e, logger)
	p, err := build(cfg, logger, os.Stdout)
	if err != nil {
		return err
	}
	defer p.close()
	go func() {
		select {
		case <-p.edge.Ready():
			h, s := p.edge.Addrs()
			logger.Info("edge serving", "http", addrString(h), "https", addrString(s), "version", version)
		case <-ctx.Done():
		}
	}()
	return explainBind(p.run(ctx))
}

func addrString(a net.Addr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}

func warnLegacy(e env, logger *slog.Logger) {
	for name, why := range legacy {
		if e.getenv(name) != "" {
			logger.Warn("setting ignored", "setting", name, "why", why)
		}
	}
}

// newACME builds the ACME manager. Names a secret-held certificate covers
// are never ordered, and on-demand issuance asks the live routing table.
func newACME(cfg config, store *certs.Store, p *parts, logger *slog.Logger) (*acme.Manager, error) {
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
	if !a.CARoot.IsZero() {
		ac.CARoot = a.CARoot.Bytes()
	}
	if a.EABKID != "" || !a.EABHMAC.IsZero() {
		ac.EAB = &acme.EAB{KID: a.EABKID, HMAC: string(a.EABHMAC.Bytes())}
	}
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
		if len(errs) > 0 {
			return nil, fmt.Errorf("TRAEFIK_ACME_DNS_PROVIDER:\n%w", indent(errors.Join(errs...)))
		}
		dns, err := acme.DNSProvider(a.DNSProvider, creds)
		if err != nil {
			return nil, fmt.Errorf("TRAEFIK_ACME_DNS_PROVIDER: %w", err)
		}
		ac.DNS = dns
	}
	if a.Etcd != nil {
		ec := *a.Etcd
		ec.Logger = logger.With("component", "acme.storage")
		st, err := etcdstore.New(ec)
		if err != nil {
			return nil, fmt.Errorf("TRAEFIK_ACME_STORAGE: %w", err)
		}
		p.etcd = st
		ac.Storage = st
	}
	m, err := acme.New(ac)
	if err != nil {
		return nil, fmt.Errorf("ACME:\n%w", indent(err))
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
