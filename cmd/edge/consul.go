package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/rancher-edge/edge/discovery"
	"github.com/rancher-edge/edge/discovery/consul"
	"github.com/rancher-edge/edge/secrets"
)

// consulConfig holds the TRAEFIK_CONSUL_CATALOG_* settings; the token is
// kept in a secrets.Value so that printing the config cannot leak it.
type consulConfig struct {
	Endpoint     string
	Token        secrets.Value
	TLS          *tls.Config
	Datacenter   string
	Domain       string
	Prefix       string
	Exposed      bool
	Constraints  []string
	StrictChecks bool
	Stale        bool
	FrontendRule string
}

// loadConsul reads the Consul catalog settings when the provider is
// enabled.
func loadConsul(e env, r secrets.Resolver, p *problems) *consulConfig {
	if !e.boolSetting("TRAEFIK_CONSUL_CATALOG_ENABLE", p) {
		return nil
	}
	c := &consulConfig{
		Endpoint:     e.value(lookupSetting("TRAEFIK_CONSUL_CATALOG_ENDPOINT")),
		Datacenter:   strings.TrimSpace(e.get("TRAEFIK_CONSUL_CATALOG_DATACENTER")),
		Domain:       strings.Trim(strings.TrimSpace(e.get("TRAEFIK_CONSUL_CATALOG_DOMAIN")), "."),
		Prefix:       e.value(lookupSetting("TRAEFIK_CONSUL_CATALOG_PREFIX")),
		Exposed:      e.boolSetting("TRAEFIK_CONSUL_CATALOG_EXPOSED", p),
		Constraints:  discovery.SplitConstraints(e.get("TRAEFIK_CONSUL_CATALOG_CONSTRAINTS")),
		StrictChecks: e.boolSetting("TRAEFIK_CONSUL_CATALOG_STRICT_CHECKS", p),
		Stale:        e.boolSetting("TRAEFIK_CONSUL_CATALOG_STALE", p),
		FrontendRule: e.value(lookupSetting("TRAEFIK_CONSUL_CATALOG_FRONTEND_RULE")),
	}
	var err error
	c.Token, err = r.Lookup("TRAEFIK_CONSUL_CATALOG_TOKEN", false)
	p.addErr(err)
	ca, err := r.Lookup("TRAEFIK_CONSUL_CATALOG_TLS_CA", true)
	p.addErr(err)
	cert, err := r.Lookup("TRAEFIK_CONSUL_CATALOG_TLS_CERT", true)
	p.addErr(err)
	key, err := r.Lookup("TRAEFIK_CONSUL_CATALOG_TLS_KEY", true)
	p.addErr(err)
	if !ca.IsZero() || !cert.IsZero() || !key.IsZero() {
		if !strings.HasPrefix(strings.ToLower(c.Endpoint), "https://") {
			p.add("TRAEFIK_CONSUL_CATALOG_TLS_*: the endpoint %q is not https://", c.Endpoint)
		}
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if !ca.IsZero() {
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(ca.Bytes()) {
				p.add("TRAEFIK_CONSUL_CATALOG_TLS_CA: no PEM certificate in %s", ca)
			}
		}
		if cert.IsZero() != key.IsZero() {
			p.add("TRAEFIK_CONSUL_CATALOG_TLS_CERT and TRAEFIK_CONSUL_CATALOG_TLS_KEY go together")
		} else if !cert.IsZero() {
			pair, err := tls.X509KeyPair(cert.Bytes(), key.Bytes())
			if err != nil {
				p.add("TRAEFIK_CONSUL_CATALOG_TLS_CERT/TRAEFIK_CONSUL_CATALOG_TLS_KEY (%s): the key does not match the certificate or is not PEM", cert)
			} else {
				tc.Certificates = []tls.Certificate{pair}
			}
		}
		c.TLS = tc
	}
	// The provider's own checks (endpoint, prefix, template, constraints),
	// so that `edge check` reports them as `serve` would.
	if err := c.providerConfig(nil, nil).Validate(); err != nil {
		p.add("TRAEFIK_CONSUL_CATALOG_*: %w", err)
	}
	return c
}

// providerConfig is the discovery/consul configuration. Its constraints
// are the global ones (TRAEFIK_CONSTRAINTS) and its own, ANDed, as in
// Traefik.
func (c *consulConfig) providerConfig(global []string, logger *slog.Logger) consul.Config {
	cc := consul.Config{
		Endpoint:         c.Endpoint,
		TLS:              c.TLS,
		Token:            string(c.Token.Bytes()),
		Datacenter:       c.Datacenter,
		Domain:           c.Domain,
		Prefix:           c.Prefix,
		ExposedByDefault: c.Exposed,
		Constraints:      append(append([]string(nil), global...), c.Constraints...),
		WarningIsHealthy: !c.StrictChecks,
		Stale:            c.Stale,
		FrontendRule:     c.FrontendRule,
		Logger:           logger,
	}
	if !c.Token.IsZero() {
		cc.TokenSource = "TRAEFIK_CONSUL_CATALOG_TOKEN"
	}
	return cc
}

func newConsul(c *consulConfig, global []string, logger *slog.Logger) (*consul.Provider, error) {
	p, err := consul.New(c.providerConfig(global, logger))
	if err != nil {
		return nil, fmt.Errorf("consul: %w", err)
	}
	if c.Exposed {
		logger.Warn("consul catalog: TRAEFIK_CONSUL_CATALOG_EXPOSED is true (the default): every service registered in Consul is published, tagged or not; set it to false to publish only services tagged " + c.Prefix + ".enable=true")
	}
	return p, nil
}

// checkConsul prints what `edge check` can say about the Consul provider
// without reading the catalog.
func checkConsul(w io.Writer, c *consulConfig, global []string) {
	token := "no ACL token"
	if !c.Token.IsZero() {
		token = "token from TRAEFIK_CONSUL_CATALOG_TOKEN"
	}
	fmt.Fprintf(w, "\nconsul catalog: %s (%s); routes are discovered at run time\n", c.Endpoint, token)
	if c.Exposed {
		fmt.Fprintf(w, "  exposed by default: every service registered in Consul is published, tagged or not (TRAEFIK_CONSUL_CATALOG_EXPOSED=false to change)\n")
	}
	if cs := append(append([]string(nil), global...), c.Constraints...); len(cs) > 0 {
		fmt.Fprintf(w, "  constraints (all must hold): %s\n", strings.Join(cs, ", "))
	}
}
