package kubestore

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
)

// Defaults for the zero values of [Config].
const (
	DefaultRequestTimeout = 5 * time.Second
	DefaultLockTTL        = 30 * time.Second
	DefaultStatusInterval = 10 * time.Second
)

// Config configures a [Store]. [New] validates it with [Config.Validate].
type Config struct {
	// Rest reaches the apiserver; required. cmd/edge builds it from the
	// Kubernetes connection settings (in-cluster service account,
	// endpoint with token and CA, or kubeconfig).
	Rest *rest.Config
	// Source says how Rest was made, for the status page (never a token).
	Source string

	// Namespace holds the Secrets and Leases; required. Edges that share
	// a namespace share certificates.
	Namespace string

	// RequestTimeout bounds every apiserver request. Zero means
	// DefaultRequestTimeout.
	RequestTimeout time.Duration

	// LockTTL is the lease duration of a lock: a holder renews it every
	// third of it, and a holder that died without unlocking blocks the
	// name for at most this long. Zero means DefaultLockTTL; Leases count
	// whole seconds.
	LockTTL time.Duration

	// StatusInterval is how often the store reads the lock Leases for
	// [Store.Status]. Zero means DefaultStatusInterval.
	StatusInterval time.Duration

	// Replica names this instance as a lock holder; empty means the host
	// name (a pod's name).
	Replica string

	// Logger receives the store's logs; nil discards them.
	Logger *slog.Logger
}

// Validate reports every problem in c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Rest == nil {
		errs = append(errs, errors.New("kubestore: no apiserver configuration"))
	}
	if c.Namespace == "" {
		errs = append(errs, errors.New("kubestore: no namespace (kubernetes://<namespace>, or POD_NAMESPACE / the service account's namespace file for plain kubernetes)"))
	} else if msgs := validation.IsDNS1123Label(c.Namespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("kubestore: namespace %q: %s", c.Namespace, strings.Join(msgs, "; ")))
	}
	if c.RequestTimeout < 0 || c.LockTTL < 0 || c.StatusInterval < 0 {
		errs = append(errs, errors.New("kubestore: durations must not be negative"))
	}
	if c.LockTTL != 0 && c.LockTTL < time.Second {
		errs = append(errs, errors.New("kubestore: lock TTL must be at least 1s (Leases count whole seconds)"))
	}
	return errors.Join(errs...)
}

// withDefaults fills zero fields; c must be valid.
func (c Config) withDefaults(hostname func() (string, error)) Config {
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.LockTTL == 0 {
		c.LockTTL = DefaultLockTTL
	}
	c.LockTTL = c.LockTTL.Round(time.Second)
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

// IsURL reports whether a TRAEFIK_ACME_STORAGE value names this store:
// "kubernetes" or "kubernetes://…".
func IsURL(raw string) bool {
	raw = strings.TrimSpace(raw)
	return raw == "kubernetes" || strings.HasPrefix(raw, "kubernetes://") || strings.HasPrefix(raw, "kubernetes?")
}

// ParseURL reads the TRAEFIK_ACME_STORAGE form of the store:
//
//	kubernetes                       the edge's own namespace (ownNamespace)
//	kubernetes://edge-system         that namespace
//	kubernetes://edge-system?lock_ttl=30s&request_timeout=5s
//
// It returns a Config without Rest: the connection comes from the
// Kubernetes settings. ownNamespace is the pod's namespace
// (POD_NAMESPACE, else the service account's namespace file), used when
// the URL names none.
func ParseURL(raw, ownNamespace string) (Config, error) {
	raw = strings.TrimSpace(raw)
	if raw == "kubernetes" {
		raw = "kubernetes://"
	} else if rest, ok := strings.CutPrefix(raw, "kubernetes?"); ok {
		raw = "kubernetes://?" + rest
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "kubernetes" {
		return Config{}, errors.New("kubestore: storage setting is not kubernetes or kubernetes://<namespace>")
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") {
		return Config{}, fmt.Errorf("kubestore: storage URL %q: want kubernetes://<namespace>, with nothing after the namespace", u.Redacted())
	}
	c := Config{Namespace: u.Host}
	if c.Namespace == "" {
		c.Namespace = ownNamespace
	}
	var errs []error
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		var field *time.Duration
		switch k {
		case "request_timeout":
			field = &c.RequestTimeout
		case "lock_ttl":
			field = &c.LockTTL
		default:
			errs = append(errs, fmt.Errorf("kubestore: unknown storage URL parameter %q (want request_timeout or lock_ttl)", k))
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("kubestore: storage URL parameter %s=%q is not a duration", k, v))
			continue
		}
		*field = d
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	// Rest is set by the caller; validate the rest.
	probe := c
	probe.Rest = &rest.Config{}
	return c, probe.Validate()
}
