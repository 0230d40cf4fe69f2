package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/certs/etcdstore"
	"github.com/rancher-edge/edge/secrets"
)

// config is everything the edge reads at start, resolved and validated.
// It is built once by loadConfig and not changed afterwards.
type config struct {
	Bind            string // the HTTP and HTTPS listeners' address; "" is every interface
	HTTPPort        int
	HTTPSPort       int
	HTTPSPublicPort int // for redirects; TRAEFIK_HTTPS_PUBLIC_PORT, else HTTPSPort
	HTTPSEnable     bool
	RedirectCode    int
	Resolver        secrets.Resolver
	Pairs           []certs.Pair
	DefaultCert     string
	File            string
	LogLevel        slog.Level
	AccessLog       string // "", "common", "json"
	TrustedIPs      []netip.Prefix
	BackendInsecure bool
	ClientCA        clientCASettings
	Limits          limits

	Rancher    *rancherConfig    // nil when no endpoint is configured, or in metadata mode
	Metadata   *metadataConfig   // TRAEFIK_RANCHER_MODE=metadata
	Consul     *consulConfig     // nil unless TRAEFIK_CONSUL_CATALOG_ENABLE
	Kubernetes *kubernetesConfig // nil unless TRAEFIK_KUBERNETES_ENABLE
	ACME       acmeSettings
	Admin      adminSettings
	Metrics    metricsSettings

	dropIn
}

// rancherConfig holds the Rancher settings; the secret values are kept in
// secrets.Value so that printing the config cannot leak them.
type rancherConfig struct {
	Endpoint        string
	EndpointSource  string
	AccessKey       secrets.Value
	SecretKey       secrets.Value
	KeySource       string // the setting the access key came from
	SecretKeySource string
	Domain          string
	Refresh         time.Duration
	Exposed         bool
	HealthFilter    bool
	SidekickLabels  bool
	RuleOrder       string
	Constraints     []string // TRAEFIK_CONSTRAINTS first, then TRAEFIK_RANCHER_CONSTRAINTS
}

type acmeSettings struct {
	Etcd        *etcdstore.Config // set when Storage is an etcd:// URL
	Kube        *kubeStorage      // set when Storage is kubernetes[://namespace]
	Enable      bool
	Email       string
	CA          string
	CARoot      secrets.Value
	EABKID      string
	EABHMAC     secrets.Value
	Storage     string
	OnHostRule  bool
	Domains     []string
	OnDemand    bool
	Challenges  []string
	DNSProvider string

	DNSResolvers []string      // host:port
	DNSDelay     time.Duration // before the DNS-01 propagation check
	KeyType      string        // acme.KeyEC256, …
	Import       string        // Traefik acme.json to import once; "" none
}

type adminSettings struct {
	Bind     string // host to bind; "" means all interfaces with users, loopback without
	Port     int
	TLS      string // "", "true", "false"
	Users    secrets.Value
	Insecure bool
	Host     string
	// Dashboard is TRAEFIK_ADMIN_ENABLE: false leaves only /ping (and
	// /metrics with TRAEFIK_METRICS_ENABLE) on the admin port.
	Dashboard bool
	// PublicMetrics serves /metrics on every interface like /ping
	// (TRAEFIK_METRICS_ENABLE).
	PublicMetrics bool
}

// problems collects every configuration error so the edge can list them
// all at once instead of failing on the first.
type problems []error

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Errorf(format, args...)) }
func (p *problems) addErr(err error) {
	if err != nil {
		*p = append(*p, err)
	}
}

func (e env) intSetting(name string, p *problems, lo, hi int) int {
	raw := e.value(lookupSetting(name))
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		p.add("%s: %q is not a number from %d to %d", name, raw, lo, hi)
		return 0
	}
	return n
}

func (e env) boolSetting(name string, p *problems) bool {
	raw := e.value(lookupSetting(name))
	b, err := strconv.ParseBool(raw)
	if err != nil {
		p.add("%s: %q is not true or false", name, raw)
	}
	return b
}

func (e env) durationSetting(name string, p *problems) time.Duration {
	raw := e.value(lookupSetting(name))
	if n, err := strconv.Atoi(raw); err == nil {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		p.add("%s: %q is not a positive duration such as 15s", name, raw)
	}
	return d
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// loadConfig reads every setting and reports every problem at once.
func loadConfig(e env) (config, error) {
	var p problems
	var c config
	c.Bind = loadBind(e, &p)
	c.HTTPPort = e.intSetting("TRAEFIK_HTTP_PORT", &p, 1, 65535)
	c.HTTPSPort = e.intSetting("TRAEFIK_HTTPS_PORT", &p, 1, 65535)
	c.HTTPSPublicPort = publicHTTPSPort(e, c.HTTPSPort, &p)
	switch v := strings.ToLower(e.value(lookupSetting("TRAEFIK_HTTPS_ENABLE"))); v {
	case "true", "only", "1", "yes":
		c.HTTPSEnable = true
	case "false", "0", "no":
	default:
		p.add("TRAEFIK_HTTPS_ENABLE: %q is not true, only or false", v)
	}
	c.RedirectCode = e.intSetting("TRAEFIK_REDIRECT_CODE", &p, 100, 599)
	switch c.RedirectCode {
	case 0, 301, 302, 307, 308:
	default:
		p.add("TRAEFIK_REDIRECT_CODE: %d is not 301, 302, 307 or 308", c.RedirectCode)
	}
	c.Resolver = secrets.Resolver{Dir: e.value(lookupSetting("TRAEFIK_SECRETS_DIR")), Getenv: e.get}

	certVals, certErr := c.Resolver.LookupList("TRAEFIK_SSL_CERT", true)
	p.addErr(certErr)
	keyVals, keyErr := c.Resolver.LookupList("TRAEFIK_SSL_PRIVATE_KEY", true)
	p.addErr(keyErr)
	// Pair only two lists that resolved completely: a list with a bad
	// element is shorter than it looks, and its error is reported above.
	if certErr == nil && keyErr == nil {
		if len(certVals) != len(keyVals) {
			p.add("TRAEFIK_SSL_CERT names %d certificate(s) but TRAEFIK_SSL_PRIVATE_KEY %d key(s)", len(certVals), len(keyVals))
		} else {
			for i := range certVals {
				c.Pairs = append(c.Pairs, certs.Pair{Name: certVals[i].Setting + " (" + certVals[i].String() + ")", Cert: certVals[i], Key: keyVals[i]})
			}
		}
	}
	c.DefaultCert = strings.TrimSpace(e.get("TRAEFIK_DEFAULT_CERT"))
	c.File = strings.TrimSpace(e.get("TRAEFIK_FILE"))

	switch v := strings.ToUpper(e.value(lookupSetting("TRAEFIK_LOG_LEVEL"))); v {
	case "DEBUG":
		c.LogLevel = slog.LevelDebug
	case "INFO":
		c.LogLevel = slog.LevelInfo
	case "WARN", "WARNING":
		c.LogLevel = slog.LevelWarn
	case "ERROR", "FATAL", "PANIC":
		c.LogLevel = slog.LevelError
	default:
		p.add("TRAEFIK_LOG_LEVEL: %q is not DEBUG, INFO, WARN or ERROR", v)
	}
	switch v := strings.ToLower(e.value(lookupSetting("TRAEFIK_ACCESS_LOG"))); v {
	case "off", "false", "":
	case "common", "clf", "true":
		c.AccessLog = "common"
	case "json":
		c.AccessLog = "json"
	default:
		p.add("TRAEFIK_ACCESS_LOG: %q is not off, common or json", v)
	}
	for _, x := range splitList(e.get("TRAEFIK_TRUSTED_IPS")) {
		pfx, err := netip.ParsePrefix(x)
		if err != nil {
			addr, aerr := netip.ParseAddr(x)
			if aerr != nil {
				p.add("TRAEFIK_TRUSTED_IPS: %q is not a CIDR or an IP address", x)
				continue
			}
			pfx = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		c.TrustedIPs = append(c.TrustedIPs, pfx.Masked())
	}
	c.BackendInsecure = e.boolSetting("TRAEFIK_BACKEND_INSECURE", &p)
	c.Limits = loadLimits(e, &p)
	c.Rancher = loadRancher(e, c.Resolver, &p)
	if c.Metadata = loadMetadata(e, &p); c.Metadata != nil {
		c.Rancher = nil // metadata mode reads no API, even when Rancher injected CATTLE_URL
	}
	c.Consul = loadConsul(e, c.Resolver, &p)
	c.Kubernetes = loadKubernetes(e, c.Resolver, &p)
	c.ACME = loadACME(e, c.Resolver, &p)
	c.ACME.Kube = loadKubeStorage(e, c.Resolver, c.ACME.Storage, c.Kubernetes, &p)
	c.Admin = loadAdmin(e, c.Resolver, &p)
	loadDropIn(e, &c, &p)
	loadClientCA(e, &c, &p)
	c.Metrics = loadMetrics(e, &p)
	return c, errors.Join(p...)
}

// loadRancher applies the precedence of the Rancher settings: explicit
// TRAEFIK_RANCHER_* first, then what Rancher injects (CATTLE_*). Traefik
// did the reverse, which let the environment silently override a setting.
func loadRancher(e env, r secrets.Resolver, p *problems) *rancherConfig {
	rc := &rancherConfig{Endpoint: e.get("TRAEFIK_RANCHER_ENDPOINT"), EndpointSource: "TRAEFIK_RANCHER_ENDPOINT"}
	if rc.Endpoint == "" {
		rc.Endpoint, rc.EndpointSource = e.getenv("CATTLE_URL"), "CATTLE_URL"
	}
	if strings.TrimSpace(rc.Endpoint) == "" {
		return nil
	}
	rc.Endpoint = strings.TrimSpace(rc.Endpoint)
	ak, err := r.Lookup("TRAEFIK_RANCHER_ACCESSKEY", false)
	p.addErr(err)
	sk, err := r.Lookup("TRAEFIK_RANCHER_SECRET", false)
	p.addErr(err)
	rc.KeySource = "TRAEFIK_RANCHER_ACCESSKEY"
	if ak.IsZero() && sk.IsZero() {
		ak, err = r.Lookup("CATTLE_ACCESS_KEY", false)
		p.addErr(err)
		sk, err = r.Lookup("CATTLE_SECRET_KEY", false)
		p.addErr(err)
		rc.KeySource = "CATTLE_ACCESS_KEY"
	}
	rc.AccessKey, rc.SecretKey = ak, sk
	rc.SecretKeySource = "TRAEFIK_RANCHER_SECRET"
	if rc.KeySource == "CATTLE_ACCESS_KEY" {
		rc.SecretKeySource = "CATTLE_SECRET_KEY"
	}
	if ak.IsZero() && sk.IsZero() {
		rc.KeySource, rc.SecretKeySource = "TRAEFIK_RANCHER_ACCESSKEY or CATTLE_ACCESS_KEY", "TRAEFIK_RANCHER_SECRET or CATTLE_SECRET_KEY"
	}
	rc.Domain = strings.Trim(strings.TrimSpace(e.get("TRAEFIK_RANCHER_DOMAIN")), ".")
	rc.Refresh = e.durationSetting("TRAEFIK_RANCHER_REFRESH", p)
	rc.Exposed = e.boolSetting("TRAEFIK_RANCHER_EXPOSED", p)
	rc.HealthFilter = e.boolSetting("TRAEFIK_RANCHER_HEALTHCHECK", p)
	rc.SidekickLabels = e.boolSetting("TRAEFIK_RANCHER_SIDEKICK_LABELS", p)
	rc.RuleOrder = strings.ToLower(e.value(lookupSetting("TRAEFIK_RANCHER_RULE_ORDER")))
	if rc.RuleOrder != "service.stack" && rc.RuleOrder != "stack.service" {
		p.add("TRAEFIK_RANCHER_RULE_ORDER: %q is not service.stack or stack.service", rc.RuleOrder)
	}
	rc.Constraints = splitList(e.get("TRAEFIK_RANCHER_CONSTRAINTS"))
	return rc
}

func loadACME(e env, r secrets.Resolver, p *problems) acmeSettings {
	a := acmeSettings{
		Enable:      e.boolSetting("TRAEFIK_ACME_ENABLE", p),
		Email:       strings.TrimSpace(e.get("TRAEFIK_ACME_EMAIL")),
		CA:          e.value(lookupSetting("TRAEFIK_ACME_CASERVER")),
		EABKID:      strings.TrimSpace(e.get("TRAEFIK_ACME_EAB_KID")),
		Storage:     e.value(lookupSetting("TRAEFIK_ACME_STORAGE")),
		OnHostRule:  e.boolSetting("TRAEFIK_ACME_ONHOSTRULE", p),
		Domains:     splitList(e.get("TRAEFIK_ACME_DOMAINS")),
		OnDemand:    e.boolSetting("TRAEFIK_ACME_ONDEMAND", p),
		Challenges:  splitList(strings.ToLower(e.value(lookupSetting("TRAEFIK_ACME_CHALLENGE")))),
		DNSProvider: strings.ToLower(strings.TrimSpace(e.get("TRAEFIK_ACME_DNS_PROVIDER"))),
	}
	var err error
	a.CARoot, err = r.Lookup("TRAEFIK_ACME_CA_ROOT", true)
	p.addErr(err)
	a.EABHMAC, err = r.Lookup("TRAEFIK_ACME_EAB_HMAC", false)
	p.addErr(err)
	if strings.HasPrefix(a.Storage, "etcd://") || strings.HasPrefix(a.Storage, "etcds://") {
		a.Etcd = loadEtcd(e, r, a.Storage, p)
	}
	loadACMEDNS(e, &a, p)
	return a
}

// loadEtcd reads the etcd storage URL and its credentials. Credentials
// never come from the URL: they go through the secrets rules.
func loadEtcd(e env, r secrets.Resolver, raw string, p *problems) *etcdstore.Config {
	ec, err := etcdstore.ParseURL(raw)
	if err != nil {
		p.add("TRAEFIK_ACME_STORAGE: %w", err)
		return nil
	}
	ec.Username = strings.TrimSpace(e.get("TRAEFIK_ETCD_USERNAME"))
	pw, err := r.Lookup("TRAEFIK_ETCD_PASSWORD", false)
	p.addErr(err)
	ec.Password = string(pw.Bytes())
	ca, err := r.Lookup("TRAEFIK_ETCD_TLS_CA", true)
	p.addErr(err)
	cert, err := r.Lookup("TRAEFIK_ETCD_TLS_CERT", true)
	p.addErr(err)
	key, err := r.Lookup("TRAEFIK_ETCD_TLS_KEY", true)
	p.addErr(err)
	if !ca.IsZero() || !cert.IsZero() || !key.IsZero() {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if !ca.IsZero() {
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(ca.Bytes()) {
				p.add("TRAEFIK_ETCD_TLS_CA: no PEM certificate in %s", ca)
			}
		}
		if cert.IsZero() != key.IsZero() {
			p.add("TRAEFIK_ETCD_TLS_CERT and TRAEFIK_ETCD_TLS_KEY go together")
		} else if !cert.IsZero() {
			pair, err := tls.X509KeyPair(cert.Bytes(), key.Bytes())
			if err != nil {
				p.add("TRAEFIK_ETCD_TLS_CERT/TRAEFIK_ETCD_TLS_KEY (%s): the key does not match the certificate or is not PEM", cert)
			} else {
				tc.Certificates = []tls.Certificate{pair}
			}
		}
		if ec.TLS == nil {
			ec.TLS = tc
		} else {
			ec.TLS.RootCAs, ec.TLS.Certificates = tc.RootCAs, tc.Certificates
		}
	}
	p.addErr(ec.Validate())
	return &ec
}

// loadBind reads TRAEFIK_BIND: an IP address, brackets around IPv6 allowed.
// A host name is refused: it could resolve to several addresses, or to
// others after a restart.
func loadBind(e env, p *problems) string {
	v := strings.Trim(strings.TrimSpace(e.get("TRAEFIK_BIND")), "[]")
	if v == "" {
		return ""
	}
	if _, err := netip.ParseAddr(v); err != nil {
		p.add("TRAEFIK_BIND: %q is not an IP address (empty means every interface)", v)
		return ""
	}
	return v
}

func loadAdmin(e env, r secrets.Resolver, p *problems) adminSettings {
	a := adminSettings{
		Bind:     strings.Trim(strings.TrimSpace(e.get("TRAEFIK_ADMIN_BIND")), "[]"),
		Port:     e.intSetting("TRAEFIK_ADMIN_PORT", p, 0, 65535),
		TLS:      strings.ToLower(strings.TrimSpace(e.get("TRAEFIK_ADMIN_TLS"))),
		Insecure: e.boolSetting("TRAEFIK_ADMIN_INSECURE", p),
		Host:     strings.ToLower(strings.TrimSpace(e.get("TRAEFIK_ADMIN_HOST"))),
	}
	if a.TLS != "" && a.TLS != "true" && a.TLS != "false" {
		p.add("TRAEFIK_ADMIN_TLS: %q is not true or false", a.TLS)
	}
	var err error
	a.Users, err = r.Lookup("TRAEFIK_ADMIN_USERS", false)
	p.addErr(err)
	return a
}
