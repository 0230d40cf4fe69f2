package main

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/discovery"
	"github.com/rancher-edge/edge/discovery/kubernetes"
	"github.com/rancher-edge/edge/edge"
	"github.com/rancher-edge/edge/route"
	"github.com/rancher-edge/edge/secrets"
)

// kubernetesConfig holds the Kubernetes settings; the token stays in a
// secrets.Value so that printing the config cannot leak it.
type kubernetesConfig struct {
	Endpoint          string
	Token             secrets.Value
	CA                secrets.Value
	Kubeconfig        string
	Namespaces        []string
	LabelSelector     string
	IngressClasses    []string
	PublishedService  string
	IngressAddress    string
	AllowExternalName bool
	Gateway           bool // TRAEFIK_KUBERNETES_GATEWAY
	DomainsAllowed    []string
	// LeaseNamespace is the pod's namespace (POD_NAMESPACE, else the
	// service account's); Identity the pod's name (POD_NAME).
	LeaseNamespace string
	Identity       string
}

// loadKubernetes reads the TRAEFIK_KUBERNETES_* settings; nil unless the
// provider is enabled.
func loadKubernetes(e env, r secrets.Resolver, p *problems) *kubernetesConfig {
	if !e.boolSetting("TRAEFIK_KUBERNETES_ENABLE", p) {
		return nil
	}
	kc := loadKubeConnection(e, r, p)
	kc.Namespaces = splitList(e.get("TRAEFIK_KUBERNETES_NAMESPACES"))
	kc.LabelSelector = strings.TrimSpace(e.get("TRAEFIK_KUBERNETES_LABELSELECTOR"))
	kc.IngressClasses = splitList(e.value(lookupSetting("TRAEFIK_KUBERNETES_INGRESSCLASS")))
	kc.PublishedService = strings.TrimSpace(e.get("TRAEFIK_KUBERNETES_PUBLISHED_SERVICE"))
	kc.IngressAddress = strings.TrimSpace(e.get("TRAEFIK_KUBERNETES_INGRESS_ADDRESS"))
	kc.AllowExternalName = e.boolSetting("TRAEFIK_KUBERNETES_ALLOW_EXTERNALNAME", p)
	kc.Gateway = e.boolSetting("TRAEFIK_KUBERNETES_GATEWAY", p)
	kc.DomainsAllowed = splitList(strings.ToLower(e.get("TRAEFIK_ACME_DOMAINS_ALLOWED")))
	kp := kubernetes.Config{Rest: &rest.Config{}, IngressClasses: kc.IngressClasses, LabelSelector: kc.LabelSelector, PublishedService: kc.PublishedService, IngressAddress: kc.IngressAddress}
	p.addErr(kp.Validate())
	return kc
}

// publicHTTPSPort is the HTTPS port redirects name: TRAEFIK_HTTPS_PUBLIC_PORT
// (443 behind a Service or NodePort), else the listen port.
func publicHTTPSPort(e env, listen int, p *problems) int {
	raw := strings.TrimSpace(e.get("TRAEFIK_HTTPS_PUBLIC_PORT"))
	if raw == "" {
		return listen
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 65535 {
		p.add("TRAEFIK_HTTPS_PUBLIC_PORT: %q is not a number from 1 to 65535", raw)
		return listen
	}
	return n
}

// rest builds the client configuration and says where it came from:
// endpoint + token + CA, else a kubeconfig, else the in-cluster service
// account.
func (kc *kubernetesConfig) rest() (*rest.Config, string, error) {
	switch {
	case kc.Endpoint != "":
		rc := &rest.Config{Host: kc.Endpoint}
		if !kc.Token.IsZero() {
			rc.BearerToken = strings.TrimSpace(string(kc.Token.Bytes()))
		}
		if !kc.CA.IsZero() {
			rc.TLSClientConfig.CAData = kc.CA.Bytes()
		}
		return rc, "TRAEFIK_KUBERNETES_ENDPOINT", nil
	case kc.Kubeconfig != "":
		rc, err := clientcmd.BuildConfigFromFlags("", kc.Kubeconfig)
		if err != nil {
			return nil, "", fmt.Errorf("kubeconfig %s: %w", kc.Kubeconfig, err)
		}
		return rc, "kubeconfig " + kc.Kubeconfig, nil
	}
	rc, err := rest.InClusterConfig()
	if err != nil {
		return nil, "", fmt.Errorf("in-cluster configuration (set TRAEFIK_KUBERNETES_ENDPOINT or TRAEFIK_KUBERNETES_KUBECONFIG outside a cluster): %w", err)
	}
	return rc, "in-cluster service account", nil
}

var klogOnce sync.Once

// newKubernetes makes the provider; the Lease lives in the pod's namespace
// (POD_NAMESPACE, else the service account's).
func newKubernetes(cfg config, logger *slog.Logger) (discovery.Provider, error) {
	// client-go logs through klog (leader election, reflector retries):
	// into the edge's log, not raw lines on stderr. klog's logger is one
	// global that running informers read without a lock: it is set once
	// per process, by the first provider built (a process runs one edge;
	// tests run several, and `edge check --online` builds one more).
	klogOnce.Do(func() { klog.SetSlogLogger(logger.With("component", "client-go")) })
	kcfg, err := kubernetesProviderConfig(cfg, logger)
	if err != nil {
		return nil, err
	}
	return kubernetes.New(kcfg)
}

// kubernetesProviderConfig is the provider's configuration, for serve and
// for `edge check --online`.
func kubernetesProviderConfig(cfg config, logger *slog.Logger) (kubernetes.Config, error) {
	kc := cfg.Kubernetes
	rc, source, err := kc.rest()
	if err != nil {
		return kubernetes.Config{}, err
	}
	return kubernetes.Config{
		Rest:               rc,
		Source:             source,
		Namespaces:         kc.Namespaces,
		LabelSelector:      kc.LabelSelector,
		IngressClasses:     kc.IngressClasses,
		AllowExternalName:  kc.AllowExternalName,
		BackendInsecure:    cfg.BackendInsecure,
		ACME:               cfg.ACME.Enable,
		ACMEDomainsAllowed: kc.DomainsAllowed,
		PublishedService:   kc.PublishedService,
		IngressAddress:     kc.IngressAddress,
		LeaseNamespace:     kc.LeaseNamespace,
		Identity:           kc.Identity,
		Gateway:            kc.Gateway,
		GatewayHTTPPorts:   gatewayPorts(80, cfg.HTTPPort),
		GatewayHTTPSPorts:  gatewayHTTPSPorts(cfg),
		Logger:             logger,
	}, nil
}

// gatewayPorts are the Gateway listener ports one edge listener serves:
// the well-known port, the listen port and the public port (behind a
// Service the pod listens on 8443 and clients use 443).
func gatewayPorts(ports ...int) []int32 {
	out := []int32{}
	for _, p := range ports {
		if p > 0 && !slices.Contains(out, int32(p)) {
			out = append(out, int32(p))
		}
	}
	return out
}

func gatewayHTTPSPorts(cfg config) []int32 {
	if !cfg.HTTPSEnable {
		return []int32{} // HTTPS listeners are refused: there is no HTTPS
	}
	return gatewayPorts(443, cfg.HTTPSPort, cfg.HTTPSPublicPort)
}

// lostReader is a provider that learns which of its routes lost claims
// in the routing table: the Kubernetes provider, for HTTPRoute status.
type lostReader interface{ TableLost([]route.Lost) }

// onTable tells the certificates about a new routing table (the
// certificates providers found, Ingress TLS Secrets, and the names ACME
// may order) and the providers that ask which of their routes lost
// claims to older ones.
func (p *parts) onTable(t *edge.Table) {
	for _, pr := range p.providers {
		if lr, ok := pr.(lostReader); ok {
			lr.TableLost(t.Lost())
		}
	}
	if p.certs != nil {
		var list []certs.Provided
		for _, s := range t.Snapshots() {
			for _, c := range s.Certificates {
				list = append(list, certs.Provided{ID: c.Source.String(), Hosts: c.Hosts, Cert: c.CertPEM, Key: c.KeyPEM})
			}
		}
		p.certs.SetProvided(list)
	}
	if p.acme != nil {
		p.acme.SetHosts(t.ACMEHosts(), hostRegexpRules(t))
	}
}
