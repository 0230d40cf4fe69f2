package kubernetes

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
)

// Config configures a [Provider]. The zero values of the optional fields
// are documented defaults.
type Config struct {
	// Rest reaches the apiserver; required. cmd/edge builds it from the
	// in-cluster service account, an endpoint with a token and CA, or a
	// kubeconfig.
	Rest *rest.Config
	// Source says how Rest was made, for the status page (never a token):
	// "in-cluster", "TRAEFIK_KUBERNETES_ENDPOINT", "kubeconfig <path>".
	Source string

	// Namespaces limits discovery to these namespaces; empty means all.
	Namespaces []string
	// LabelSelector filters the Ingresses, e.g. "team=web".
	LabelSelector string
	// IngressClasses are the classes served, the edge's own first; empty
	// means [DefaultClass]. A class whose IngressClass names
	// ingress-nginx's controller ([NginxController]) is taken over in
	// place: its Ingresses are served as they are, with ingress-nginx's
	// defaults.
	IngressClasses []string
	// AllowExternalName lets Ingresses route to ExternalName Services.
	AllowExternalName bool
	// BackendInsecure says the edge skips the verification of HTTPS
	// backends' certificates (TRAEFIK_BACKEND_INSECURE); without it an
	// Ingress asking for HTTPS backends is warned that a self-signed
	// backend answers 502, where ingress-nginx does not verify.
	BackendInsecure bool

	// ACME says whether ACME is on: tls hosts without a secretName are
	// then ordered, within ACMEDomainsAllowed (suffixes; empty: any).
	ACME               bool
	ACMEDomainsAllowed []string

	// Status writing: one replica (the Lease holder) writes
	// status.loadBalancer.ingress of the served Ingresses, copied from the
	// PublishedService ("namespace/name") or set to IngressAddress (an IP
	// or a host name). Neither: no status is written and no Lease taken.
	PublishedService string
	IngressAddress   string
	// LeaseNamespace and LeaseName name the Lease; empty means "default"
	// and "rancher-edge-<class>". Identity names this replica; empty
	// means the host name.
	LeaseNamespace, LeaseName, Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod are the leader
	// election's timings; zero means 15 s, 10 s and 2 s (tests shorten
	// them).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration

	// Gateway turns on Gateway API (gateway.networking.k8s.io/v1):
	// GatewayClasses of [GatewayController], their Gateways, HTTPRoutes
	// and ReferenceGrants. Without the CRDs it stays off and says so.
	Gateway bool
	// GatewayHTTPPorts and GatewayHTTPSPorts are the Gateway listener
	// ports served by the edge's HTTP and HTTPS listeners (other ports are
	// refused: the edge opens none); nil means 80 and 443, an empty
	// slice none (HTTPS off).
	GatewayHTTPPorts, GatewayHTTPSPorts []int32
	// GatewayRecheck is how often the provider asks whether the Gateway
	// API CRDs were installed while they are not; zero means 10 s.
	GatewayRecheck time.Duration

	// Debounce gathers a burst of changes into one rebuild; zero means
	// 100 ms.
	Debounce time.Duration
	// Probe is how often the apiserver is probed while a watch is
	// failing, to tell when it is back; zero means 2 s.
	Probe time.Duration

	// Logger receives the provider's log; nil discards.
	Logger *slog.Logger
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Rest == nil {
		errs = append(errs, errors.New("kubernetes: no apiserver configuration"))
	}
	if c.LabelSelector != "" {
		if _, err := labels.Parse(c.LabelSelector); err != nil {
			errs = append(errs, fmt.Errorf("TRAEFIK_KUBERNETES_LABELSELECTOR: %w", err))
		}
	}
	if c.PublishedService != "" {
		ns, name, ok := strings.Cut(c.PublishedService, "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			errs = append(errs, fmt.Errorf("TRAEFIK_KUBERNETES_PUBLISHED_SERVICE: %q is not namespace/name", c.PublishedService))
		}
	}
	for _, cl := range c.IngressClasses {
		if strings.TrimSpace(cl) == "" || strings.ContainsAny(cl, " /") {
			errs = append(errs, fmt.Errorf("TRAEFIK_KUBERNETES_INGRESSCLASS: %q is not an IngressClass name", cl))
		}
	}
	if c.PublishedService != "" && c.IngressAddress != "" {
		errs = append(errs, errors.New("TRAEFIK_KUBERNETES_PUBLISHED_SERVICE and TRAEFIK_KUBERNETES_INGRESS_ADDRESS exclude each other"))
	}
	for _, d := range []time.Duration{c.LeaseDuration, c.RenewDeadline, c.RetryPeriod, c.Debounce, c.Probe, c.GatewayRecheck} {
		if d < 0 {
			errs = append(errs, errors.New("kubernetes: durations must not be negative"))
			break
		}
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if len(c.IngressClasses) == 0 {
		c.IngressClasses = []string{DefaultClass}
	}
	if c.LeaseNamespace == "" {
		c.LeaseNamespace = "default"
	}
	if c.LeaseName == "" {
		c.LeaseName = "rancher-edge-" + c.IngressClasses[0]
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = 15 * time.Second
	}
	if c.RenewDeadline == 0 {
		c.RenewDeadline = 10 * time.Second
	}
	if c.RetryPeriod == 0 {
		c.RetryPeriod = 2 * time.Second
	}
	if c.Debounce == 0 {
		c.Debounce = 100 * time.Millisecond
	}
	if c.Probe == 0 {
		c.Probe = 2 * time.Second
	}
	if c.GatewayHTTPPorts == nil {
		c.GatewayHTTPPorts = []int32{80}
	}
	if c.GatewayHTTPSPorts == nil {
		c.GatewayHTTPSPorts = []int32{443}
	}
	if c.GatewayRecheck == 0 {
		c.GatewayRecheck = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Namespaces == nil {
		c.Namespaces = []string{""} // all
	}
	return c
}
