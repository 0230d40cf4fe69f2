package edge

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rancher-edge/edge/route"
)

// Config configures a [Server]. The zero value of each field is documented
// next to it; Validate reports every problem at once.
type Config struct {
	// HTTPAddr is the plain HTTP listen address, e.g. ":80". Empty
	// disables the HTTP listener.
	HTTPAddr string
	// HTTPSAddr is the HTTPS listen address, e.g. ":443". Empty serves
	// routes on HTTP without a redirect (TRAEFIK_HTTPS_ENABLE=false).
	HTTPSAddr string
	// HTTPPort and HTTPSPort are the ports clients use, for redirects and
	// X-Forwarded-Port. Zero means 80 and 443.
	HTTPPort, HTTPSPort int

	// TLS is the HTTPS listener's configuration (certificates, ALPN).
	// Required when HTTPSAddr is set. The server does not modify it.
	TLS *tls.Config

	// RedirectCode is the status of the HTTP to HTTPS redirect: 301, 302,
	// 307 or 308. Zero means 302, as Traefik 1.x.
	RedirectCode int

	// HTTPChallenge, when set, may answer a request on the HTTP listener
	// before the redirect (ACME HTTP-01). It returns true when it did.
	HTTPChallenge func(http.ResponseWriter, *http.Request) bool

	// TrustedIPs are the peers whose X-Forwarded-* headers are believed.
	// Empty trusts nobody: those headers are replaced.
	TrustedIPs []netip.Prefix
	// CompressHTTP and CompressHTTPS gzip compressible responses of at
	// least 1 KiB on the HTTP and the HTTPS listener (Traefik 1.x's entry
	// point compress). Routes are then served by the net/http handler
	// chain. False, the default, passes bodies on as the backend sent
	// them.
	CompressHTTP, CompressHTTPS bool

	// ProxyProtocol accepts a PROXY protocol header (v1 or v2) from
	// TrustedIPs on the HTTP and HTTPS listeners; its client becomes the
	// request's remote address. A header from any other peer closes the
	// connection. False reads no header.
	ProxyProtocol bool

	// BackendTLS configures connections to https:// backends. Nil means
	// Go's defaults (verify against the system roots).
	BackendTLS *tls.Config

	// AccessLog receives one line per request; nil disables it.
	// AccessLogFormat is "common" (the default) or "json".
	AccessLog       io.Writer
	AccessLogFormat string

	// MaxIdleConnsPerHost is the upstream keep-alive pool per backend.
	// Zero means 256.
	MaxIdleConnsPerHost int
	// DialTimeout bounds connecting to a backend. Zero means 30s.
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a backend's response
	// head; when it passes the client gets 504. Zero means 180s, so that
	// long polls of up to two minutes (rancher-metadata's) pass.
	ResponseHeaderTimeout time.Duration

	// MaxBodySize, when positive, answers request bodies larger than it
	// 413 (TRAEFIK_MAX_BODY_SIZE); a route's MaxRequestBodyBytes replaces
	// it. Bodies are streamed, never buffered: a declared length is
	// refused at once, a chunked body when it crosses the limit. Zero
	// means no limit, as in Traefik.
	MaxBodySize int64

	// MaxFails and FailTimeout are passive health, nginx's max_fails and
	// fail_timeout: a backend whose connections fail MaxFails times in a
	// row (dial errors, timeouts, resets — not 4xx or 5xx answers, nor
	// clients that leave) is out of rotation for FailTimeout, then tried
	// again; when every backend of a route is out, all are tried. Zero
	// means 3 and 10s; a negative MaxFails turns passive health off.
	MaxFails    int
	FailTimeout time.Duration

	// ReadHeaderTimeout, IdleTimeout and MaxHeaderBytes protect against
	// slow or greedy clients. Zero means 10s, 180s and 1 MiB.
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	// ReadTimeout bounds the wait for a request body to make progress
	// (nginx's client_body_timeout): a body that sends nothing for that
	// long ends the request, answered 408 when nothing of the answer was
	// sent, and the backend connection it held is closed. A long upload
	// that keeps moving is not limited. Zero means 60s.
	ReadTimeout time.Duration
	// WriteTimeout bounds the writes to a client, in both designs: a
	// client that stops reading for between half of it and all of it is
	// disconnected (an HTTP/2 stream at a zero window is reset), freeing
	// its backend connections. It limits stalls, not long responses (a
	// stream may last hours while it moves). Zero means 60s.
	WriteTimeout time.Duration

	// ShutdownTimeout bounds the graceful drain when the context ends.
	// Zero means 10s.
	ShutdownTimeout time.Duration

	// KeepUnderscoreHeaders forwards request header fields whose name
	// holds an underscore. By default (false) they are dropped, as nginx
	// does: CGI, WSGI and PHP backends read X_Forwarded_For as the
	// X-Forwarded-For the edge sets (TRAEFIK_UNDERSCORE_HEADERS=keep).
	KeepUnderscoreHeaders bool

	// DisableFastPath serves every request through net/http's server and
	// httputil.ReverseProxy. By default (false) the listener that serves
	// routes runs the edge's own HTTP/1.1 loop for requests on routes
	// without middlewares (handing upgrades, Expect and routes with
	// middlewares to net/http) and the edge's own HTTP/2 server. Both designs apply the same policies;
	// the switch exists to compare them and as an escape hatch.
	DisableFastPath bool

	// HostHandlers serve requests for these host names (lower case, no
	// port) on the HTTPS listener before any route is looked up, e.g. the
	// dashboard under TRAEFIK_ADMIN_HOST. Nil means none.
	HostHandlers map[string]http.Handler

	// OnTable is called with each newly published table, after the swap,
	// from the goroutine that called Update. Certificates use it to learn
	// which hosts are routed.
	OnTable func(*Table)

	// ReadFile reads the files route labels name — users files, forward
	// authentication's TLS material — given as a path or a secret alias,
	// through the secrets rules. Nil refuses them: a route that names one
	// is not served (it would be served unprotected).
	ReadFile func(ref string) ([]byte, error)

	// DurationBuckets are the upper bounds, in seconds, of the request
	// duration histograms, increasing, at most 30
	// (TRAEFIK_METRICS_PROMETHEUS_BUCKETS). Empty means
	// DefaultDurationBuckets.
	DurationBuckets []float64

	// Logger receives the server's logs. Nil discards them.
	Logger *slog.Logger
}

// Validate reports every problem with the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.HTTPAddr == "" && c.HTTPSAddr == "" {
		errs = append(errs, errors.New("edge: neither an HTTP nor an HTTPS address is set"))
	}
	if c.HTTPSAddr != "" && c.TLS == nil {
		errs = append(errs, errors.New("edge: HTTPS needs a TLS configuration"))
	}
	switch c.RedirectCode {
	case 0, http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		errs = append(errs, fmt.Errorf("edge: redirect code %d is not one of 301, 302, 307, 308", c.RedirectCode))
	}
	if err := validateBuckets(c.DurationBuckets); err != nil {
		errs = append(errs, err)
	}
	switch c.AccessLogFormat {
	case "", "common", "json":
	default:
		errs = append(errs, fmt.Errorf("edge: access log format %q is not common or json", c.AccessLogFormat))
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"HTTP port", c.HTTPPort}, {"HTTPS port", c.HTTPSPort}} {
		if p.v < 0 || p.v > 65535 {
			errs = append(errs, fmt.Errorf("edge: %s %d is out of range", p.name, p.v))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) setDefaults() {
	if c.HTTPPort == 0 {
		c.HTTPPort = 80
	}
	if c.HTTPSPort == 0 {
		c.HTTPSPort = 443
	}
	if c.RedirectCode == 0 {
		c.RedirectCode = http.StatusFound
	}
	if c.MaxIdleConnsPerHost == 0 {
		c.MaxIdleConnsPerHost = 256
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 30 * time.Second
	}
	if c.ResponseHeaderTimeout == 0 {
		c.ResponseHeaderTimeout = 180 * time.Second
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = 10 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 180 * time.Second
	}
	if c.MaxFails == 0 {
		c.MaxFails = 3
	}
	if c.FailTimeout == 0 {
		c.FailTimeout = 10 * time.Second
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 60 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 60 * time.Second
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = 1 << 20
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
}

// Server is the edge: listeners, the routing table and the proxy.
type Server struct {
	cfg       Config
	log       *slog.Logger
	errorLog  *log.Logger
	trust     trust
	ports     ports
	buffers   *bufferPool
	upstream  *upstream   // the net/http design's transports
	h2up      *h2Upstream // HTTP/2 to h2c:// and h2:// backends
	pools     *upPools    // the fast path's upstream connections
	h1bufs    *h1Bufs
	h2streams sync.Pool // recycled *h2stream
	h2bodies  sync.Pool // *bufio.Writer for HTTP/2 answers relayed in parts
	h2workers h2Workers // the goroutines HTTP/2 streams run on
	registry  registry
	access    *accessLog
	traffic   traffic // histogram bounds and recent errors (traffic.go)

	table     atomic.Pointer[Table]
	unrouted  atomic.Uint64
	recorders sync.Pool
	stalls    stallWatch // net/http's HTTP/2 answers being written (stall.go)

	mu    sync.Mutex           // serialises compiles
	snaps map[string]*provided // each provider's latest snapshot, as compiled
	gen   uint64

	// bg is the context of background work (health checks); genCancel
	// stops the checks of the table before the current one.
	bg        context.Context
	bgCancel  context.CancelFunc
	genCancel context.CancelFunc
	genChecks sync.WaitGroup // the current generation's checkers
	checks    sync.WaitGroup

	ready     chan struct{}
	addrMu    sync.Mutex
	httpAddr  net.Addr
	httpsAddr net.Addr
}

// New builds a server with an empty routing table. It does not listen;
// the one goroutine it starts is the access log's flusher (with an access
// log), which Close ends.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:      cfg,
		log:      logger,
		errorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		trust:    trust(cfg.TrustedIPs),
		ports:    newPorts(cfg.HTTPPort, cfg.HTTPSPort),
		buffers:  newBufferPool(),
		upstream: newUpstream(cfg),
		h2up:     newH2Upstream(cfg),
		pools:    newUpPools(cfg),
		h1bufs:   newH1Bufs(),
		snaps:    make(map[string]*provided),
		ready:    make(chan struct{}),
	}
	if cfg.AccessLog != nil {
		s.access = newAccessLog(cfg.AccessLog, cfg.AccessLogFormat)
	}
	s.registry.pools = s.pools
	s.traffic.init(cfg.DurationBuckets)
	s.registry.traffic = &s.traffic
	if cfg.MaxFails > 0 {
		s.registry.passive = &passivePolicy{maxFails: int32(min(cfg.MaxFails, 1<<30)), failTimeout: cfg.FailTimeout}
	}
	s.recorders.New = func() any { return new(recorder) }
	s.stalls.timeout = cfg.WriteTimeout
	s.h2streams.New = func() any { return new(h2stream) }
	s.h2workers.idleFor = h2WorkerIdle
	s.h2bodies.New = func() any { return bufio.NewWriterSize(nil, 8<<10) }
	s.bg, s.bgCancel = context.WithCancel(context.Background())
	s.table.Store(&Table{hosts: map[string][]*Route{}, built: time.Now()})
	return s, nil
}

// Table returns the routing table in service now.
func (s *Server) Table() *Table { return s.table.Load() }

// Update replaces one provider's snapshot and publishes a new table
// compiled from the latest snapshot of every provider. A snapshot whose
// non-zero fingerprint equals the previous one from that provider is
// ignored.
func (s *Server) Update(snap route.Snapshot) *Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.snaps[snap.Provider]; ok && snap.Fingerprint != 0 && prev.snap.Fingerprint == snap.Fingerprint {
		return s.table.Load()
	}
	s.snaps[snap.Provider] = newProvided(snap)
	provs := make([]*provided, 0, len(s.snaps))
	for _, p := range s.snaps {
		provs = append(provs, p)
	}
	slices.SortFunc(provs, func(a, b *provided) int { return strings.Compare(a.snap.Provider, b.snap.Provider) })
	s.gen++
	t := s.compile(provs, s.gen, time.Now())
	s.table.Store(t)
	s.startHealthChecks(t)
	for _, p := range t.problems {
		if p.Source.Provider == "" {
			s.log.Warn("routing problem", "problem", p.String())
		}
	}
	s.log.Info("routing table published", "generation", t.gen, "routes", len(t.routes), "problems", len(t.problems))
	if s.cfg.OnTable != nil {
		s.cfg.OnTable(t)
	}
	return t
}

// Ready is closed once the listeners are bound.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addrs returns the bound addresses once Ready is closed; nil for a
// listener that is off.
func (s *Server) Addrs() (httpAddr, httpsAddr net.Addr) {
	s.addrMu.Lock()
	defer s.addrMu.Unlock()
	return s.httpAddr, s.httpsAddr
}

// Close stops background work and closes idle upstream connections. It is
// safe to call after a partial start; after Run returned, no stream is
// left for the HTTP/2 workers it waits for.
func (s *Server) Close() error {
	s.bgCancel()
	s.checks.Wait()
	s.h2workers.close()
	s.upstream.close()
	s.h2up.close()
	s.pools.close()
	if s.access != nil {
		return s.access.close()
	}
	return nil
}
