package main

import (
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/rancher-edge/edge/certs/etcdstore"
	"github.com/rancher-edge/edge/edge"
	"github.com/rancher-edge/edge/route"
	"github.com/rancher-edge/edge/web"
)

// newAdmin builds the dashboard, API and metrics server from the admin
// settings, reading the parts' live state through p. It returns nil when
// TRAEFIK_ADMIN_PORT is 0. The parts it reads may be set after it is built:
// every source is a closure over p.
func newAdmin(cfg config, p *parts, started time.Time, logger *slog.Logger) (*web.Server, error) {
	a := cfg.Admin
	if a.Port == 0 {
		if a.Host != "" {
			return nil, errors.New("TRAEFIK_ADMIN_HOST needs the dashboard: TRAEFIK_ADMIN_PORT is 0")
		}
		return nil, nil
	}
	wc := web.Config{
		Addr:       net.JoinHostPort(a.Bind, strconv.Itoa(a.Port)),
		Users:      a.Users.Bytes(),
		Insecure:   a.Insecure,
		PublicHost: a.Host,
		// TRAEFIK_ADMIN_ENABLE and TRAEFIK_METRICS_ENABLE.
		NoDashboard:      !a.Dashboard,
		PublicMetrics:    a.PublicMetrics,
		Logger:           logger.With("component", "web"),
		Sources:          sources(cfg, p, started),
		MetricsMaxRoutes: cfg.Metrics.MaxRoutes,
	}
	switch {
	case a.TLS == "true" && p.certs == nil:
		return nil, errors.New("TRAEFIK_ADMIN_TLS=true needs certificates, and HTTPS is off")
	case a.TLS == "true", a.TLS == "" && p.certs != nil:
		wc.TLS = p.certs.TLSConfig()
	}
	s, err := web.New(wc)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// sources connects the dashboard to the parts. Parts that are off give
// nil functions, which hide their sections.
func sources(cfg config, p *parts, started time.Time) web.Sources {
	src := web.Sources{
		Version: version,
		Started: started,
		Ready: func() bool {
			select {
			case <-p.edge.Ready():
				return true
			default:
				return false
			}
		},
		Stopping:        p.stopping.Load,
		Table:           func() *edge.Table { return p.edge.Table() },
		Unrouted:        func() uint64 { return p.edge.Unrouted() },
		RecentErrors:    func() []edge.ErrorRecord { return p.edge.RecentErrors() },
		DurationBuckets: func() []float64 { return p.edge.DurationBuckets() },
		Listeners: func() []web.Listener {
			h, s := p.edge.Addrs()
			var out []web.Listener
			if h != nil {
				out = append(out, web.Listener{Name: "http", Addr: h.String()})
			}
			if s != nil {
				out = append(out, web.Listener{Name: "https", Addr: s.String(), TLS: true})
			}
			if p.admin != nil {
				if a := p.admin.Addr(); a != nil {
					out = append(out, web.Listener{Name: "admin", Addr: a.String(), TLS: p.certs != nil && cfg.Admin.TLS != "false"})
				}
			}
			return out
		},
		Providers: func() []route.ProviderStatus {
			out := make([]route.ProviderStatus, 0, len(p.providers))
			for _, pr := range p.providers {
				out = append(out, pr.Status())
			}
			return out
		},
	}
	if p.certs != nil {
		src.Certificates = p.certs.Status
		src.CertificateFor = p.certs.CertificateFor
	}
	if cfg.ACME.Enable {
		src.Storage = func() web.StorageStatus { return storageStatus(cfg, p) }
	}
	return src
}

// storageStatus describes the ACME storage: the directory, or etcd with
// its health and which edge holds or last held each certificate's lock.
func storageStatus(cfg config, p *parts) web.StorageStatus {
	if p.kube != nil {
		return kubeStorageStatus(p.kube)
	}
	if p.etcd == nil {
		return web.StorageStatus{Backend: "file", Location: cfg.ACME.Storage, State: "ok"}
	}
	st := p.etcd.Status()
	out := web.StorageStatus{
		Backend:   "etcd",
		Location:  strings.Join(st.Endpoints, ",") + " " + st.Prefix,
		State:     "ok",
		LastError: st.LastError,
	}
	if !st.Healthy {
		out.State = "unavailable"
	}
	for _, l := range st.Locks {
		out.Locks = append(out.Locks, storageLock(l))
	}
	return out
}

func storageLock(l etcdstore.Lock) web.StorageLock {
	return storageLockOf(l.Name, l.Subject, l.Replica, l.Held, l.Acquired, l.Released, "its lease expired")
}
