package etcdstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"
)

// Defaults for the zero values of [Config].
const (
	DefaultPrefix         = "/rancher-edge/acme"
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 5 * time.Second
	DefaultLockTTL        = 30 * time.Second
	DefaultStatusInterval = 10 * time.Second
)

// Config configures a [Store]. [New] validates it with [Config.Validate].
type Config struct {
	// Endpoints are the etcd client URLs or host:port pairs. Required.
	Endpoints []string

	// Prefix is the etcd key under which everything is kept; empty means
	// DefaultPrefix. Edges that share a prefix share certificates.
	Prefix string

	// TLS, when non-nil, is used to talk to etcd (client certificates,
	// private roots); nil means plain connections.
	TLS *tls.Config

	// Username and Password authenticate to etcd; both empty means no
	// authentication.
	Username, Password string

	// DialTimeout bounds connecting (and authenticating); RequestTimeout
	// bounds every single etcd request, so that no operation hangs on an
	// unreachable cluster. Zero means DefaultDialTimeout and
	// DefaultRequestTimeout.
	DialTimeout, RequestTimeout time.Duration

	// LockTTL is the lease TTL of this instance's lock session: how long
	// the locks of an instance that died stay held. Zero means
	// DefaultLockTTL; etcd counts whole seconds and enforces a minimum of
	// about 2 s.
	LockTTL time.Duration

	// StatusInterval is how often the store checks etcd and reads lock
	// holders for [Store.Status]. Zero means DefaultStatusInterval.
	StatusInterval time.Duration

	// Replica names this instance as a lock holder in [Store.Status];
	// empty means the host name.
	Replica string

	// Logger receives the store's logs; nil discards them.
	Logger *slog.Logger
}

// String describes c without its password, so that a Config printed by
// mistake leaks nothing.
func (c Config) String() string {
	auth := "none"
	if c.Username != "" {
		auth = "user " + c.Username + ", password <redacted>"
	}
	return fmt.Sprintf("etcdstore.Config{Endpoints: %v, Prefix: %q, TLS: %t, Auth: %s, Replica: %q}",
		c.Endpoints, c.Prefix, c.TLS != nil, auth, c.Replica)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// Validate reports every problem in c at once. Messages name settings,
// never credential values.
func (c Config) Validate() error {
	var errs []error
	if len(c.Endpoints) == 0 {
		errs = append(errs, errors.New("etcdstore: no etcd endpoints"))
	}
	for _, ep := range c.Endpoints {
		if err := checkEndpoint(ep); err != nil {
			errs = append(errs, err)
		}
	}
	if strings.Contains(c.Prefix, "//") || c.Prefix == "/" {
		errs = append(errs, fmt.Errorf("etcdstore: prefix %q must name a key path such as %q", c.Prefix, DefaultPrefix))
	}
	if (c.Username == "") != (c.Password == "") {
		errs = append(errs, errors.New("etcdstore: etcd authentication needs both a username and a password"))
	}
	if c.DialTimeout < 0 || c.RequestTimeout < 0 || c.LockTTL < 0 || c.StatusInterval < 0 {
		errs = append(errs, errors.New("etcdstore: durations must not be negative"))
	}
	if c.LockTTL != 0 && c.LockTTL < time.Second {
		errs = append(errs, errors.New("etcdstore: lock TTL must be at least 1s (etcd leases count whole seconds)"))
	}
	return errors.Join(errs...)
}

func checkEndpoint(ep string) error {
	hostPort := ep
	if strings.Contains(ep, "://") {
		u, err := url.Parse(ep)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
			return fmt.Errorf("etcdstore: endpoint %q is not http(s)://host:port or host:port", redactEndpoint(ep))
		}
		hostPort = u.Host
	}
	if host, port, err := net.SplitHostPort(hostPort); err != nil || host == "" || port == "" {
		return fmt.Errorf("etcdstore: endpoint %q is not host:port", redactEndpoint(ep))
	}
	return nil
}

// redactEndpoint drops anything that looks like user information, so an
// endpoint echoed in an error never carries a password.
func redactEndpoint(ep string) string {
	if i := strings.LastIndex(ep, "@"); i >= 0 {
		return "…@" + ep[i+1:]
	}
	return ep
}

// withDefaults fills zero fields; c must be valid.
func (c Config) withDefaults(hostname func() (string, error)) Config {
	c.Prefix = "/" + strings.Trim(c.Prefix, "/")
	if c.Prefix == "/" {
		c.Prefix = DefaultPrefix
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.LockTTL == 0 {
		c.LockTTL = DefaultLockTTL
	}
	if c.StatusInterval == 0 {
		c.StatusInterval = DefaultStatusInterval
	}
	if c.Replica == "" {
		if h, err := hostname(); err == nil && h != "" {
			c.Replica = h
		} else {
			c.Replica = "unknown"
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// ParseURL reads the TRAEFIK_ACME_STORAGE form of an etcd store:
//
//	etcd://host1:2379,host2:2379/prefix
//	etcds://host1:2379/prefix?dial_timeout=3s&request_timeout=5s&lock_ttl=30s
//
// etcds means TLS (the returned TLS config trusts the system roots; add
// client certificates and private roots from secrets). Credentials are
// refused in the URL: they come from secrets, as Username and Password.
// The path, if any, is the key prefix.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return Config{}, errors.New("etcdstore: storage setting is not a URL of the form etcd://host:port[,host:port…]/prefix")
	}
	var c Config
	scheme := "http://"
	switch u.Scheme {
	case "etcd":
	case "etcds":
		scheme = "https://"
		c.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	default:
		return Config{}, fmt.Errorf("etcdstore: storage URL scheme %q is not etcd or etcds", u.Scheme)
	}
	if u.User != nil {
		return Config{}, errors.New("etcdstore: the storage URL must not carry credentials; set the etcd username and password through secrets")
	}
	if u.Host == "" {
		return Config{}, errors.New("etcdstore: the storage URL names no etcd host")
	}
	for h := range strings.SplitSeq(u.Host, ",") {
		if h = strings.TrimSpace(h); h != "" {
			c.Endpoints = append(c.Endpoints, scheme+h)
		}
	}
	c.Prefix = u.Path
	var errs []error
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		var field *time.Duration
		switch k {
		case "dial_timeout":
			field = &c.DialTimeout
		case "request_timeout":
			field = &c.RequestTimeout
		case "lock_ttl":
			field = &c.LockTTL
		default:
			errs = append(errs, fmt.Errorf("etcdstore: unknown storage URL parameter %q (want dial_timeout, request_timeout or lock_ttl)", k))
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("etcdstore: storage URL parameter %s=%q is not a duration", k, v))
			continue
		}
		*field = d
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}
