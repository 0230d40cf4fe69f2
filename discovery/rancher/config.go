package rancher

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/rancher-edge/edge/discovery/cattle"
	"github.com/rancher-edge/edge/discovery/labels"
)

// Defaults for the zero values of [Config].
const (
	DefaultRefresh  = 15 * time.Second // Traefik's refreshSeconds
	DefaultDebounce = 100 * time.Millisecond
	DefaultTimeout  = 10 * time.Second // go-rancher's own default

	// RuleOrderServiceStack makes the default rule Host:<service>.<stack>,
	// as Traefik ≥ 1.5 does.
	RuleOrderServiceStack = cattle.RuleOrderServiceStack
	// RuleOrderStackService makes it Host:<stack>.<service>, as the Traefik
	// 1.2–1.4 inside the mch1307/rancher-traefik images did.
	RuleOrderStackService = cattle.RuleOrderStackService
)

// Config configures a [Provider]. Durations of zero take the documented
// defaults.
type Config struct {
	// Endpoint is the Rancher API URL: http://rancher:8080, …/v1,
	// …/v2-beta or …/v2-beta/projects/1a5. The command line resolves it
	// (TRAEFIK_RANCHER_ENDPOINT, then CATTLE_URL). It must not carry
	// credentials.
	Endpoint string

	// AccessKey and SecretKey are an environment or account API key, as
	// values (the command line reads files and secrets). An account key
	// needs an endpoint naming the project unless it sees exactly one.
	AccessKey, SecretKey string

	// KeySource says where the key came from, e.g.
	// "TRAEFIK_RANCHER_ACCESSKEY" or "CATTLE_ACCESS_KEY". It is shown in
	// the status and the log; the key itself never is.
	KeySource string
	// SecretKeySource says where the secret key came from; empty means
	// KeySource.
	SecretKeySource string

	// Domain is appended to the default rule; the traefik.domain label
	// overrides it. Empty means no domain.
	Domain string

	// Refresh is the poll period: the safety net while the event socket is
	// up and the only source of changes while it is not. Zero means 15 s.
	Refresh time.Duration

	// ExposedByDefault routes services without a traefik.enable label.
	// Traefik's default, and the command line's, is true.
	ExposedByDefault bool

	// HealthFilter also skips services whose own healthState or state is
	// not serving (TRAEFIK_RANCHER_HEALTHCHECK, Traefik's
	// enableServiceHealthFilter). Containers are always filtered.
	HealthFilter bool

	// SidekickLabels reads the rawmind0 sidekick's labels instead of
	// Traefik's ([labels.Options.SidekickLabels]).
	SidekickLabels bool

	// RuleOrder is RuleOrderServiceStack (the default when empty) or
	// RuleOrderStackService.
	RuleOrder string

	// Constraints filter services by their traefik.tags label, e.g.
	// "tag==api".
	Constraints []string

	// Debounce is how long a change event waits for more events before the
	// re-read starts. Zero means 100 ms.
	Debounce time.Duration

	// Timeout bounds each HTTP request to Rancher. Zero means 10 s.
	Timeout time.Duration

	// Logger receives the provider's log; nil discards it.
	Logger *slog.Logger
}

// projectPath matches an endpoint naming a project, which the reads are
// then scoped to.
var projectPath = regexp.MustCompile(`^/(v1|v2-beta)/projects/([^/]+)(/schemas)?$`)

// Validate reports every problem with c at once. Messages never contain the
// key values.
func (c Config) Validate() error {
	var errs []error
	if c.Endpoint == "" {
		errs = append(errs, errors.New("rancher: endpoint is empty"))
	} else if u, err := url.Parse(c.Endpoint); err != nil {
		// url.Parse errors quote the input; the endpoint holds no secret
		// unless it carries userinfo, which is rejected below.
		errs = append(errs, errors.New("rancher: endpoint is not a URL"))
	} else {
		if u.Scheme != "http" && u.Scheme != "https" {
			errs = append(errs, fmt.Errorf("rancher: endpoint scheme %q is not http or https", u.Scheme))
		}
		if u.Host == "" {
			errs = append(errs, errors.New("rancher: endpoint has no host"))
		}
		if u.User != nil {
			errs = append(errs, errors.New("rancher: endpoint must not contain credentials; set the access and secret key instead"))
		}
		p := strings.TrimRight(u.Path, "/")
		if p != "" && p != "/v1" && p != "/v2-beta" && !projectPath.MatchString(p) {
			errs = append(errs, fmt.Errorf("rancher: endpoint path %q is none of /, /v1, /v2-beta, /v2-beta/projects/<id>", u.Path))
		}
		if u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, errors.New("rancher: endpoint must not have a query or fragment"))
		}
	}
	if c.AccessKey == "" {
		errs = append(errs, fmt.Errorf("rancher: access key is empty%s", from(c.KeySource)))
	}
	if c.SecretKey == "" {
		src := c.SecretKeySource
		if src == "" {
			src = c.KeySource
		}
		errs = append(errs, fmt.Errorf("rancher: secret key is empty%s", from(src)))
	}
	switch c.RuleOrder {
	case "", RuleOrderServiceStack, RuleOrderStackService:
	default:
		errs = append(errs, fmt.Errorf("rancher: rule order %q is neither %q nor %q", c.RuleOrder, RuleOrderServiceStack, RuleOrderStackService))
	}
	for name, d := range map[string]time.Duration{"refresh": c.Refresh, "debounce": c.Debounce, "timeout": c.Timeout} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("rancher: %s %v is negative", name, d))
		}
	}
	if err := c.labelOptions().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("rancher: %w", err))
	}
	return errors.Join(errs...)
}

func from(source string) string {
	if source == "" {
		return ""
	}
	return " (from " + source + ")"
}

// withDefaults fills in the zero values.
func (c Config) withDefaults() Config {
	if c.Refresh == 0 {
		c.Refresh = DefaultRefresh
	}
	if c.Debounce == 0 {
		c.Debounce = DefaultDebounce
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.RuleOrder == "" {
		c.RuleOrder = RuleOrderServiceStack
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) labelOptions() labels.Options {
	return labels.Options{
		Provider:         "rancher",
		Domain:           c.Domain,
		ExposedByDefault: c.ExposedByDefault,
		Constraints:      c.Constraints,
		SidekickLabels:   c.SidekickLabels,
	}
}

// endpointForClient turns the configured endpoint into the URL handed to
// go-rancher. An endpoint naming a project gets "/schemas" appended:
// Cattle scopes the schema links only for paths of more than four segments,
// so …/v2-beta/projects/1a5 alone would give unscoped links, and those
// read an account key's own (empty) account instead of the environment
// (reference rancher-api.md §1.2). The second result is the project id, if
// the endpoint names one.
func endpointForClient(endpoint string) (string, string) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint, "" // Validate has reported it
	}
	p := strings.TrimRight(u.Path, "/")
	m := projectPath.FindStringSubmatch(p)
	if m == nil {
		return endpoint, ""
	}
	u.Path = "/v2-beta/projects/" + m[2] + "/schemas"
	return u.String(), m[2]
}
