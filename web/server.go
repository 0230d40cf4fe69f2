package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// Server serves the dashboard, the JSON API and /metrics.
type Server struct {
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	listen string // the address Run binds
	open   bool   // no users: anyone who reaches listen gets in
	// maxRoutes is Config.MetricsMaxRoutes with its default.
	maxRoutes int
	pages     *pages
	reg       *prometheus.Registry
	router    http.Handler

	ready     chan struct{} // closed once Run is listening
	stop      chan struct{} // closed by Close
	closeOnce sync.Once

	mu   sync.Mutex
	addr net.Addr // set before ready is closed
}

// New validates cfg and builds the router. It binds nothing and starts no
// goroutine.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	users, err := parseUsers(cfg.Users)
	if err != nil {
		return nil, err // Validate already saw it; kept for safety
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = 5 * time.Second
	}
	if cfg.MetricsMaxRoutes == 0 {
		cfg.MetricsMaxRoutes = 500
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		now:       cfg.Now,
		listen:    cfg.Addr,
		open:      len(users) == 0,
		maxRoutes: cfg.MetricsMaxRoutes,
		ready:     make(chan struct{}),
		stop:      make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.pages, err = newPages(cfg.Refresh)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	s.reg, err = newRegistry(s)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}

	r := chi.NewRouter()
	r.Use(securityHeaders)
	if len(users) > 0 {
		auth, err := newBasicAuth(users, s.now)
		if err != nil {
			return nil, err
		}
		r.Use(auth.middleware)
	}
	public := map[string]bool{pingPath: true}
	if cfg.PublicMetrics {
		public["/metrics"] = true
	}
	r.Use(func(next http.Handler) http.Handler { return gate(cfg.loopbackOnly(len(users) > 0), public, next) })
	if cfg.NoDashboard {
		// Only the public paths exist.
		r.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !public[r.URL.Path] {
					notFound(w, r)
					return
				}
				next.ServeHTTP(w, r)
			})
		})
	}
	r.Get(pingPath, s.ping)
	r.Get("/", s.page("overview", func(_ *http.Request, st state) any { return s.overviewPage(st) }))
	r.Get("/routes", s.page("routes", func(r *http.Request, st state) any { return s.routesPage(st, routeQuery(r.URL.Query())) }))
	r.Get("/certificates", s.page("certificates", func(r *http.Request, st state) any {
		return s.certificatesPage(st, r.URL.Query().Get("state"), r.URL.Query().Get("sort"))
	}))
	r.Get("/discovery", s.page("discovery", func(_ *http.Request, st state) any { return s.discoveryPage(st) }))
	r.Get("/api/overview", s.api(func(_ *http.Request, st state) any { return s.overviewPage(st) }))
	r.Get("/api/routes", s.api(func(r *http.Request, st state) any { return s.routesPage(st, routeQuery(r.URL.Query())) }))
	r.Get("/api/certificates", s.api(func(r *http.Request, st state) any {
		return s.certificatesPage(st, r.URL.Query().Get("state"), r.URL.Query().Get("sort"))
	}))
	r.Get("/api/discovery", s.api(func(_ *http.Request, st state) any { return s.discoveryPage(st) }))
	r.Get("/metrics", s.metricsHandler().ServeHTTP)
	r.Get("/static/*", s.pages.static)
	r.NotFound(notFound.ServeHTTP)
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "the dashboard is read-only", http.StatusMethodNotAllowed)
	})
	s.router = r
	return s, nil
}

// Handler returns the router: every page, the API, /metrics and /ping,
// behind authentication and the security headers. It can be mounted as the
// whole of a host on another listener.
func (s *Server) Handler() http.Handler { return s.router }

// ping answers liveness probes without authentication.
func (s *Server) ping(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if r := s.cfg.Sources.Ready; r != nil && !r() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("starting\n"))
		return
	}
	if st := s.cfg.Sources.Stopping; st != nil && st() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("stopping\n"))
		return
	}
	_, _ = w.Write([]byte("OK\n"))
}

// Run listens and serves until ctx ends or Close is called, then shuts
// down gracefully. It returns nil when stopped and an error when it cannot
// listen or serve. Call it once.
func (s *Server) Run(ctx context.Context) error {
	select {
	case <-s.stop:
		return nil
	default:
	}
	if s.open && s.cfg.Insecure {
		s.log.Warn("DASHBOARD WITHOUT PASSWORD: TRAEFIK_ADMIN_INSECURE=true serves the dashboard, API and metrics " +
			"to anyone who can reach " + s.listen + "; set TRAEFIK_ADMIN_USERS to require a password")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.listen)
	if err != nil {
		return fmt.Errorf("admin: listening on %s: %w", s.listen, err)
	}
	srv := &http.Server{
		Handler:           s.router,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	if s.cfg.TLS != nil {
		srv.TLSConfig = s.cfg.TLS.Clone()
		// The certificate store advertises the ACME TLS-ALPN protocol;
		// the dashboard only speaks HTTP.
		srv.TLSConfig.NextProtos = []string{"h2", "http/1.1"}
	}
	s.mu.Lock()
	s.addr = ln.Addr()
	s.mu.Unlock()
	close(s.ready)

	errc := make(chan error, 1)
	go func() {
		if s.cfg.TLS != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("admin: serving: %w", err)
	case <-ctx.Done():
	case <-s.stop:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("admin: serving: %w", err)
	}
	return nil
}

// Ready is closed once Run is listening.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the bound address; nil before Ready is closed.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Close stops Run. It is safe before Run and more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.stop) })
	return nil
}

// notFound answers 404 for what the dashboard does not serve.
var notFound = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "not found", http.StatusNotFound)
})
