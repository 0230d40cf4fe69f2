package metadata

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rancher-edge/edge/discovery/cattle"
	"github.com/rancher-edge/edge/discovery/labels"
)

// Defaults for the zero values of [Config].
const (
	DefaultURL     = "http://rancher-metadata.rancher.internal"
	DefaultPrefix  = "latest"
	DefaultRefresh = 15 * time.Second // Traefik's refreshSeconds

	// DefaultMaxBackoff caps the wait between retries after failures.
	DefaultMaxBackoff = 30 * time.Second

	// maxWaitCap is the server's own cap on maxWait.
	maxWaitCap = 120 * time.Second
	// clientSlack is how much longer than maxWait a long poll may take
	// before the client gives up on it.
	clientSlack = 10 * time.Second
)

// The metadata versions whose /stacks nest full services and containers.
var versions = []string{"2015-12-19", "2016-07-29", "latest"}

// Config configures a [Provider]. Zero values take the documented
// defaults.
type Config struct {
	// URL is the metadata service; empty means DefaultURL. It must not
	// carry a path: the version goes in Prefix.
	URL string

	// Prefix is the metadata version: 2015-12-19, 2016-07-29 or latest
	// (the default), with or without a leading slash.
	Prefix string

	// Refresh is the long poll's maxWait (capped at 120 s, the server's
	// cap), or with IntervalPoll the poll period. Zero means 15 s.
	Refresh time.Duration

	// IntervalPoll asks for /version every Refresh instead of long
	// polling it (TRAEFIK_RANCHER_INTERVALPOLL).
	IntervalPoll bool

	// Domain is appended to the default rule; the traefik.domain label
	// overrides it.
	Domain string

	// ExposedByDefault routes services without a traefik.enable label.
	ExposedByDefault bool

	// HealthFilter also skips services whose state is not serving.
	// Metadata has no service health, so only the state counts.
	HealthFilter bool

	// SidekickLabels reads the rawmind0 sidekick's labels instead of
	// Traefik's ([labels.Options.SidekickLabels]).
	SidekickLabels bool

	// RuleOrder is cattle.RuleOrderServiceStack (the default when empty)
	// or cattle.RuleOrderStackService.
	RuleOrder string

	// Constraints filter services by their traefik.tags label.
	Constraints []string

	// MaxBackoff caps the wait between retries after a failure. Zero
	// means 30 s; tests shorten it.
	MaxBackoff time.Duration

	// Transport makes the HTTP requests; nil means a clone of
	// http.DefaultTransport. Tests reach the server through it.
	Transport http.RoundTripper

	// Logger receives the provider's log; nil discards it.
	Logger *slog.Logger
}

// prefix returns the normalised prefix.
func (c Config) prefix() string {
	p := strings.Trim(strings.TrimSpace(c.Prefix), "/")
	if p == "" {
		return DefaultPrefix
	}
	return p
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		switch {
		case err != nil:
			errs = append(errs, errors.New("metadata: URL is not a URL"))
		case u.Scheme != "http" && u.Scheme != "https":
			errs = append(errs, fmt.Errorf("metadata: URL scheme %q is not http or https", u.Scheme))
		case u.Host == "":
			errs = append(errs, errors.New("metadata: URL has no host"))
		case u.User != nil:
			errs = append(errs, errors.New("metadata: URL must not contain credentials"))
		case strings.Trim(u.Path, "/") != "":
			errs = append(errs, fmt.Errorf("metadata: URL path %q: give the version as the prefix (TRAEFIK_RANCHER_PREFIX), not in the URL", u.Path))
		case u.RawQuery != "" || u.Fragment != "":
			errs = append(errs, errors.New("metadata: URL must not have a query or fragment"))
		}
	}
	switch p := c.prefix(); {
	case p == "2015-07-25":
		errs = append(errs, errors.New("metadata: prefix 2015-07-25 lists only the names of services and containers, not their labels and addresses; use 2016-07-29 (what the catalog passed), 2015-12-19 or latest"))
	case !slices.Contains(versions, p):
		errs = append(errs, fmt.Errorf("metadata: prefix %q is none of 2015-12-19, 2016-07-29, latest", c.Prefix))
	}
	switch c.RuleOrder {
	case "", cattle.RuleOrderServiceStack, cattle.RuleOrderStackService:
	default:
		errs = append(errs, fmt.Errorf("metadata: rule order %q is neither %q nor %q", c.RuleOrder, cattle.RuleOrderServiceStack, cattle.RuleOrderStackService))
	}
	if c.Refresh < 0 {
		errs = append(errs, fmt.Errorf("metadata: refresh %v is negative", c.Refresh))
	}
	if c.MaxBackoff < 0 {
		errs = append(errs, fmt.Errorf("metadata: max backoff %v is negative", c.MaxBackoff))
	}
	if err := c.labelOptions().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("metadata: %w", err))
	}
	return errors.Join(errs...)
}

// withDefaults fills in the zero values.
func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	c.URL = strings.TrimRight(c.URL, "/")
	c.Prefix = c.prefix()
	if c.Refresh == 0 {
		c.Refresh = DefaultRefresh
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.RuleOrder == "" {
		c.RuleOrder = cattle.RuleOrderServiceStack
	}
	if c.Transport == nil {
		c.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// maxWait is the long poll's maxWait: the refresh period in whole seconds
// (the server's unit; 0 would mean its default of 60 s), from 1 s to the
// server's cap.
func (c Config) maxWait() time.Duration {
	whole := (c.Refresh + time.Second - 1).Truncate(time.Second)
	return min(max(whole, time.Second), maxWaitCap)
}

// ProviderName names the provider in snapshots, problems and the status.
const ProviderName = "rancher-metadata"

func (c Config) labelOptions() labels.Options {
	return labels.Options{
		Provider:         ProviderName,
		Domain:           c.Domain,
		ExposedByDefault: c.ExposedByDefault,
		Constraints:      c.Constraints,
		SidekickLabels:   c.SidekickLabels,
	}
}

func (c Config) settings() cattle.Settings {
	return cattle.Settings{
		Provider: ProviderName, Labels: c.labelOptions(), HealthFilter: c.HealthFilter,
		StackFirst: c.RuleOrder == cattle.RuleOrderStackService,
	}
}
