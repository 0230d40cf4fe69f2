package web

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/edge"
	"github.com/rancher-edge/edge/route"
)

// Sources are the functions the dashboard reads the edge's state from. Each
// is called on every request (and scrape), so each must be cheap and safe
// for concurrent use. A nil function means "this part does not exist": its
// section is left out or shown empty. Tests feed realistic state through
// them without a running edge.
type Sources struct {
	// Version is the edge's version, shown on the overview and in
	// edge_build_info.
	Version string
	// Started is when the process started, for the uptime.
	Started time.Time

	// Ready, when set, gates /ping: it answers 503 until Ready returns
	// true (for example once the edge's listeners are bound).
	Ready func() bool
	// Stopping, when set, turns /ping to 503 once it returns true: the
	// edge is about to drain, and load balancers should stop sending.
	Stopping func() bool

	// Listeners lists the edge's entry points.
	Listeners func() []Listener
	// Table returns the routing table currently served; nil before the
	// first one is published.
	Table func() *edge.Table
	// Unrouted counts requests that matched no route.
	Unrouted func() uint64
	// RecentErrors returns the last 5xx answers on routes, newest first.
	RecentErrors func() []edge.ErrorRecord
	// DurationBuckets returns the bounds of the edge's duration
	// histograms; nil means edge.DefaultDurationBuckets.
	DurationBuckets func() []float64

	// Certificates lists every certificate row: file certificates, ACME
	// certificates, pending, failed and skipped names.
	Certificates func() []certs.Status
	// CertificateFor says which certificate a handshake for host gets.
	CertificateFor func(host string) (certs.Status, bool)

	// Providers reports each discovery provider's state.
	Providers func() []route.ProviderStatus

	// Storage reports the ACME storage backend; nil hides the section.
	Storage func() StorageStatus
}

// Listener is one of the edge's entry points.
type Listener struct {
	Name string `json:"name"`    // "http", "https", "admin"
	Addr string `json:"address"` // host:port as bound
	TLS  bool   `json:"tls"`
}

// StorageStatus describes where ACME keeps accounts, certificates and
// locks. It never holds credentials.
type StorageStatus struct {
	Backend  string `json:"backend"`  // "file", "etcd", "kubernetes"
	Location string `json:"location"` // directory or endpoints, without credentials
	// State is "ok", "degraded" or "unavailable".
	State     string        `json:"state"`
	LastError string        `json:"last_error,omitempty"`
	Locks     []StorageLock `json:"locks"`
}

// StorageLock is one lock held in ACME storage, such as the lock an edge
// instance takes while it orders a certificate.
type StorageLock struct {
	Name    string    `json:"name"`
	Holder  string    `json:"holder"`
	Since   time.Time `json:"since,omitzero"`
	Expires time.Time `json:"expires,omitzero"`
}

// Config configures a [Server].
type Config struct {
	// Addr is the listen address, e.g. ":8000". Without a host and
	// without Users, the server binds every interface but serves only
	// /ping (and /metrics with PublicMetrics) to connections that are not
	// to a loopback address.
	Addr string
	// TLS serves HTTPS when non-nil (TRAEFIK_ADMIN_TLS); nil serves plain
	// HTTP. It is cloned, never modified.
	TLS *tls.Config
	// Users are htpasswd lines ("user:$2y$..."), bcrypt only, one per
	// line; blank lines and lines starting with # are ignored. Empty
	// means no authentication.
	Users []byte
	// Insecure accepts serving without Users on every interface
	// (TRAEFIK_ADMIN_INSECURE); Run logs a loud warning.
	Insecure bool
	// PublicHost is the host name under which the edge also serves the
	// dashboard on its main HTTPS port (TRAEFIK_ADMIN_HOST); empty means
	// it does not. Like a non-loopback Addr it needs Users or Insecure.
	PublicHost string
	// NoDashboard serves only /ping (and /metrics with PublicMetrics):
	// TRAEFIK_ADMIN_ENABLE=false. The zero value serves the dashboard.
	NoDashboard bool
	// PublicMetrics serves /metrics to every address that reaches the
	// port, like /ping, for a scraper on another host
	// (TRAEFIK_METRICS_ENABLE). Users, when set, still guard it.
	PublicMetrics bool

	// Refresh is how often pages refresh their data; zero means 5 s.
	Refresh time.Duration
	// MetricsMaxRoutes is how many routes (the first, in match order)
	// get series of their own in /metrics (TRAEFIK_METRICS_MAX_ROUTES);
	// the rest add up into route="_other". Zero means 500.
	MetricsMaxRoutes int

	Sources Sources
	// Logger receives serving errors and the insecure warning; nil
	// discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Validate reports every problem with the configuration at once. It
// changes nothing. The messages name settings, never user hashes.
func (c Config) Validate() error {
	var errs []error
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		errs = append(errs, fmt.Errorf("admin: listen address %q: %w", c.Addr, err))
	}
	users, uerr := parseUsers(c.Users)
	if uerr != nil {
		errs = append(errs, uerr)
	}
	if uerr == nil && len(users) == 0 && !c.Insecure {
		if err == nil && host != "" && !isLoopback(host) {
			errs = append(errs, fmt.Errorf("admin: the dashboard would listen on %s without a password; "+
				"set TRAEFIK_ADMIN_USERS (htpasswd lines with bcrypt hashes), "+
				"or bind it to 127.0.0.1, "+
				"or set TRAEFIK_ADMIN_INSECURE=true to serve it to anyone who can reach it", c.Addr))
		}
		if c.PublicHost != "" {
			errs = append(errs, fmt.Errorf("admin: TRAEFIK_ADMIN_HOST=%s would publish the dashboard on the HTTPS port without a password; "+
				"set TRAEFIK_ADMIN_USERS (htpasswd lines with bcrypt hashes), "+
				"or unset TRAEFIK_ADMIN_HOST, "+
				"or set TRAEFIK_ADMIN_INSECURE=true to serve it to anyone who can reach it", c.PublicHost))
		}
	}
	if c.MetricsMaxRoutes < 0 {
		errs = append(errs, errors.New("admin: MetricsMaxRoutes must not be negative"))
	}
	if c.Refresh < 0 {
		errs = append(errs, errors.New("admin: Refresh must not be negative"))
	}
	return errors.Join(errs...)
}

// loopbackOnly reports whether the dashboard must be kept to loopback
// connections: no users, no host named, not insecure. Run still binds
// every interface then, for /ping (see gate).
func (c Config) loopbackOnly(hasUsers bool) bool {
	host, _, err := net.SplitHostPort(c.Addr)
	return err == nil && host == "" && !hasUsers && !c.Insecure
}

// isLoopback reports whether host names only the local machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
