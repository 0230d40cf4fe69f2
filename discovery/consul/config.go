package consul

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/rancher-edge/edge/discovery/labels"
)

// Defaults for the zero values of [Config].
const (
	DefaultEndpoint     = "127.0.0.1:8500"
	DefaultPrefix       = "traefik"
	DefaultFrontendRule = "Host:{{.ServiceName}}.{{.Domain}}"
	DefaultWait         = 30 * time.Second // blocking-query wait
	DefaultBackoff      = 250 * time.Millisecond
	DefaultMaxBackoff   = 15 * time.Second
	DefaultDebounce     = 20 * time.Millisecond
	DefaultTimeout      = 10 * time.Second // non-blocking requests
)

// Config configures a [Provider]. Zero values take the documented
// defaults; the command line maps the TRAEFIK_CONSUL_CATALOG_* settings
// onto it.
type Config struct {
	// Endpoint is the agent's HTTP API: host:port, http://host:port or
	// https://host:port. Empty means 127.0.0.1:8500.
	Endpoint string

	// TLS is used for an https:// endpoint (roots, client certificate).
	// Nil means the system roots.
	TLS *tls.Config

	// Token is the ACL token, as a value (the command line resolves files
	// and secrets); TokenSource names the setting it came from for the
	// status, never the value.
	Token, TokenSource string

	// Datacenter to read; empty means the agent's own.
	Datacenter string

	// Domain goes into the frontend rule template as .Domain.
	Domain string

	// Prefix of the tags read as labels: <Prefix>.x.y=v is the label
	// traefik.x.y. Empty means "traefik". Matched case-insensitively.
	Prefix string

	// ExposedByDefault publishes every registered service, tagged or not,
	// unless it says <prefix>.enable=false. Traefik's default, and the
	// command line's, is true.
	ExposedByDefault bool

	// Constraints filter services by the values of their <prefix>.tags
	// tag (Traefik 1.x syntax, all must hold). The command line puts the
	// global TRAEFIK_CONSTRAINTS and TRAEFIK_CONSUL_CATALOG_CONSTRAINTS
	// here together.
	Constraints []string

	// WarningIsHealthy admits instances whose worst check is warning, as
	// well as passing ones (TRAEFIK_CONSUL_CATALOG_STRICT_CHECKS=false).
	WarningIsHealthy bool

	// Stale lets any server answer, not only the leader: cheaper reads
	// that may lag by a little.
	Stale bool

	// FrontendRule is the text/template of the default rule. The data has
	// .ServiceName, .Domain and .Attributes (the instance tags), and the
	// functions getTag, hasTag and getAttribute of Traefik 1.7. A trailing
	// dot (an empty domain) is trimmed. Empty means DefaultFrontendRule.
	FrontendRule string

	// Wait is the blocking-query wait; Backoff and MaxBackoff bound the
	// retry delay after a failure (doubling, with jitter); Debounce
	// gathers changes that arrive together; Timeout bounds every
	// non-blocking request. Zero means the defaults above. Tests shorten
	// them.
	Wait, Backoff, MaxBackoff, Debounce, Timeout time.Duration

	// Logger receives the provider's log; nil discards it.
	Logger *slog.Logger
}

// Validate reports every problem with c at once. Messages never contain
// the token.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := splitEndpoint(c.Endpoint); err != nil {
		errs = append(errs, err)
	}
	if c.Prefix != "" && (strings.ContainsAny(c.Prefix, " =.,\t") || c.Prefix != strings.TrimSpace(c.Prefix)) {
		errs = append(errs, fmt.Errorf("consul: prefix %q must be one word without dots, commas, spaces or =", c.Prefix))
	}
	d := c.withDefaults()
	if _, err := parseRule(d.FrontendRule, d.Prefix); err != nil {
		errs = append(errs, err)
	}
	for name, d := range map[string]time.Duration{"wait": c.Wait, "backoff": c.Backoff, "max backoff": c.MaxBackoff, "debounce": c.Debounce, "timeout": c.Timeout} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("consul: %s %v is negative", name, d))
		}
	}
	if err := c.labelOptions().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("consul: %w", err))
	}
	return errors.Join(errs...)
}

// splitEndpoint returns the scheme and host:port of an endpoint.
func splitEndpoint(ep string) (scheme, hostport string, err error) {
	ep = strings.TrimSpace(ep)
	if ep == "" {
		ep = DefaultEndpoint
	}
	if !strings.Contains(ep, "://") {
		ep = "http://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil {
		return "", "", errors.New("consul: endpoint is not host:port or an http(s) URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", fmt.Errorf("consul: endpoint scheme %q is not http or https", u.Scheme)
	case u.User != nil:
		return "", "", errors.New("consul: endpoint must not contain credentials; set the token instead")
	case u.Host == "":
		return "", "", errors.New("consul: endpoint has no host")
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "":
		return "", "", errors.New("consul: endpoint must be scheme://host:port without a path or query")
	}
	host := u.Host
	if u.Port() == "" {
		port := "8500" // Consul's HTTP port; 8501 is its usual HTTPS port
		if u.Scheme == "https" {
			port = "8501"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	return u.Scheme, host, nil
}

// withDefaults fills in the zero values.
func (c Config) withDefaults() Config {
	if strings.TrimSpace(c.Endpoint) == "" {
		c.Endpoint = DefaultEndpoint
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.FrontendRule == "" {
		c.FrontendRule = DefaultFrontendRule
	}
	set := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	set(&c.Wait, DefaultWait)
	set(&c.Backoff, DefaultBackoff)
	set(&c.MaxBackoff, DefaultMaxBackoff)
	set(&c.Debounce, DefaultDebounce)
	set(&c.Timeout, DefaultTimeout)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) labelOptions() labels.Options {
	return labels.Options{
		Provider:         "consul",
		Domain:           c.Domain,
		ExposedByDefault: c.ExposedByDefault,
		Constraints:      c.Constraints,
		ServerPorts:      true,
	}
}
