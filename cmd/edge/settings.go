package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// setting is one configuration knob: an environment variable the community
// images used, and the flag that overrides it.
type setting struct {
	env  string
	flag string
	def  string
	help string
}

// settings is every knob the edge reads. The docs are generated from the
// same table (`edge help settings`), so they cannot drift.
var settings = []setting{
	{"TRAEFIK_HTTP_PORT", "http-port", "80", "plain HTTP port (redirects to HTTPS, answers ACME HTTP-01)"},
	{"TRAEFIK_HTTPS_PORT", "https-port", "443", "HTTPS port"},
	{"TRAEFIK_BIND", "bind", "", "IP address the HTTP and HTTPS listeners bind to; empty: every interface"},
	{"TRAEFIK_HTTPS_ENABLE", "https-enable", "true", "true/only: serve HTTPS and redirect HTTP; false: serve routes on HTTP without redirect"},
	{"TRAEFIK_REDIRECT_CODE", "redirect-code", "302", "status of the HTTP to HTTPS redirect: 301, 302, 307 or 308"},
	{"TRAEFIK_SECRETS_DIR", "secrets-dir", "/run/secrets", "directory where bare secret aliases are looked up"},
	{"TRAEFIK_SSL_CERT", "ssl-cert", "", "certificate(s): path, secret alias or PEM; comma-separated for several pairs (alias TRAEFIK_SSL_CRT)"},
	{"TRAEFIK_SSL_PRIVATE_KEY", "ssl-private-key", "", "private key(s) matching TRAEFIK_SSL_CERT, same forms (alias TRAEFIK_SSL_KEY)"},
	{"TRAEFIK_DEFAULT_CERT", "default-cert", "", "certificate for unknown or absent SNI: 1-based index, a certificate name, or a file path; default the first"},
	{"TRAEFIK_FILE", "file", "", "routes file (YAML, Traefik labels per service), watched for changes"},
	{"TRAEFIK_LOG_LEVEL", "log-level", "INFO", "DEBUG, INFO, WARN or ERROR"},
	{"TRAEFIK_ACCESS_LOG", "access-log", "off", "access log on stdout: off, common or json"},
	{"TRAEFIK_TRUSTED_IPS", "trusted-ips", "", "comma-separated CIDRs (or IPs) whose X-Forwarded-*, X-Real-Ip and Forwarded headers are trusted (passed to backends; anyone else's are dropped) and that may start connections to the HTTP and HTTPS ports with a PROXY protocol header (v1 or v2, as load balancers send)"},
	{"TRAEFIK_BACKEND_INSECURE", "backend-insecure", "false", "skip certificate verification for https:// backends"},

	{"TRAEFIK_TIMEOUT_DIAL", "timeout-dial", "30s", "bound on connecting to a backend (a bare number means seconds; 0, Traefik's \"no limit\", keeps the default)"},
	{"TRAEFIK_TIMEOUT_HEADER", "timeout-header", "180s", "bound on a backend's response head, answered 504 (long polls up to it pass; per route: traefik.backend.responseHeaderTimeout)"},
	{"TRAEFIK_TIMEOUT_READ", "timeout-read", "60s", "a request body that makes no progress for this long ends the request (408) and frees the backend; uploads that keep moving are not limited"},
	{"TRAEFIK_TIMEOUT_WRITE", "timeout-write", "60s", "a client that reads nothing of a response for this long is cut off, freeing the backend"},
	{"TRAEFIK_TIMEOUT_IDLE", "timeout-idle", "180s", "keep-alive: an idle client connection is closed after this long"},
	{"TRAEFIK_TIMEOUT_GRACE", "timeout-grace", "10s", "on SIGTERM, how long requests in flight may finish before connections are closed"},
	{"TRAEFIK_TIMEOUT_ACCEPT", "timeout-accept", "0", "on SIGTERM, how long the edge goes on serving new requests, with /ping answering 503, before the grace period starts: time for load balancers to take it out of rotation (Traefik's requestAcceptGraceTimeout)"},
	{"TRAEFIK_BACKEND_MAX_FAILS", "backend-max-fails", "3", "passive health (nginx's max_fails): a backend whose connections fail this many times in a row is out of rotation for TRAEFIK_BACKEND_FAIL_TIMEOUT; 0 turns it off"},
	{"TRAEFIK_BACKEND_FAIL_TIMEOUT", "backend-fail-timeout", "10s", "how long passive health keeps a failing backend out before trying it again (nginx's fail_timeout)"},
	{"TRAEFIK_MAX_BODY_SIZE", "max-body-size", "0", "largest request body in bytes (suffixes k, m, g: 10m), answered 413 beyond; 0: no limit, as Traefik (per route: traefik.backend.buffering.maxRequestBodyBytes)"},
	{"TRAEFIK_UNDERSCORE_HEADERS", "underscore-headers", "drop", "request header fields named with _ (X_Forwarded_For): drop (like nginx) or keep (like Traefik)"},

	{"TRAEFIK_RANCHER_ENDPOINT", "rancher-endpoint", "", "Rancher API URL (…, /v1, /v2-beta, /v2-beta/projects/<id>); falls back to CATTLE_URL"},
	{"TRAEFIK_RANCHER_ACCESSKEY", "rancher-accesskey", "", "API access key: value, file path or secret alias; falls back to CATTLE_ACCESS_KEY"},
	{"TRAEFIK_RANCHER_SECRET", "rancher-secret", "", "API secret key: value, file path or secret alias; falls back to CATTLE_SECRET_KEY"},
	{"TRAEFIK_RANCHER_DOMAIN", "rancher-domain", "", "domain of the default rule Host:<service>.<stack>.<domain>"},
	{"TRAEFIK_RANCHER_REFRESH", "rancher-refresh", "15s", "poll period when events are unavailable (a bare number means seconds)"},
	{"TRAEFIK_RANCHER_EXPOSED", "rancher-exposed", "true", "expose services without a traefik.enable label"},
	{"TRAEFIK_RANCHER_HEALTHCHECK", "rancher-healthcheck", "false", "also filter services by their health and state"},
	{"TRAEFIK_RANCHER_RULE_ORDER", "rancher-rule-order", "service.stack", "default host order: service.stack (Traefik ≥1.5) or stack.service (Traefik 1.2–1.4, mch1307 images)"},
	{"TRAEFIK_RANCHER_CONSTRAINTS", "rancher-constraints", "", "comma-separated constraints on traefik.tags, e.g. tag==api"},

	{"TRAEFIK_RANCHER_SIDEKICK_LABELS", "rancher-sidekick-labels", "false", "true: read the rawmind0/rancher-traefik sidekick's labels (traefik.enable=stack, traefik.domain lists, traefik.alias, traefik.path…) instead of Traefik's, for stacks moving off the sidekick (docs/migrating.md)"},

	{"TRAEFIK_RANCHER_MODE", "rancher-mode", "api", "how Rancher is read: api (the Rancher API) or metadata (rancher-metadata, no API key)"},
	{"TRAEFIK_RANCHER_METADATA_URL", "rancher-metadata-url", "http://rancher-metadata.rancher.internal", "rancher-metadata's address (metadata mode)"},
	{"TRAEFIK_RANCHER_PREFIX", "rancher-prefix", "latest", "rancher-metadata version (metadata mode): 2015-12-19, 2016-07-29 or latest, with or without a leading /"},
	{"TRAEFIK_RANCHER_INTERVALPOLL", "rancher-intervalpoll", "false", "metadata mode: poll /version every TRAEFIK_RANCHER_REFRESH instead of long-polling it (maxWait = refresh, at most 120 s)"},

	{"TRAEFIK_CONSUL_CATALOG_ENABLE", "consul-catalog-enable", "false", "discover routes in the Consul catalog, from service tags"},
	{"TRAEFIK_CONSUL_CATALOG_ENDPOINT", "consul-catalog-endpoint", "127.0.0.1:8500", "Consul agent HTTP API: host:port, http://host:port or https://host:port"},
	{"TRAEFIK_CONSUL_CATALOG_TOKEN", "consul-catalog-token", "", "ACL token: value, file path or secret alias (needs service:read and node:read)"},
	{"TRAEFIK_CONSUL_CATALOG_TLS_CA", "consul-catalog-tls-ca", "", "PEM roots to verify an https:// endpoint with: path, alias or PEM"},
	{"TRAEFIK_CONSUL_CATALOG_TLS_CERT", "consul-catalog-tls-cert", "", "client certificate for Consul: path, alias or PEM"},
	{"TRAEFIK_CONSUL_CATALOG_TLS_KEY", "consul-catalog-tls-key", "", "client key for Consul: path, alias or PEM"},
	{"TRAEFIK_CONSUL_CATALOG_DATACENTER", "consul-catalog-datacenter", "", "datacenter to read; empty means the agent's own"},
	{"TRAEFIK_CONSUL_CATALOG_DOMAIN", "consul-catalog-domain", "", "domain of the default rule Host:<service>.<domain>"},
	{"TRAEFIK_CONSUL_CATALOG_PREFIX", "consul-catalog-prefix", "traefik", "tag prefix read as labels: <prefix>.frontend.rule=… is traefik.frontend.rule"},
	{"TRAEFIK_CONSUL_CATALOG_EXPOSED", "consul-catalog-exposed", "true", "publish every registered service, tagged or not, unless tagged <prefix>.enable=false (Traefik's default)"},
	{"TRAEFIK_CONSUL_CATALOG_CONSTRAINTS", "consul-catalog-constraints", "", "comma-separated constraints on the <prefix>.tags values, e.g. tag==kubernetes"},
	{"TRAEFIK_CONSUL_CATALOG_STRICT_CHECKS", "consul-catalog-strict-checks", "true", "only instances whose checks all pass get traffic; false also admits warning"},
	{"TRAEFIK_CONSUL_CATALOG_STALE", "consul-catalog-stale", "false", "let any Consul server answer, not only the leader"},
	{"TRAEFIK_CONSUL_CATALOG_FRONTEND_RULE", "consul-catalog-frontend-rule", "Host:{{.ServiceName}}.{{.Domain}}", "default rule template (.ServiceName, .Domain, .Attributes; getTag, hasTag, getAttribute)"},

	{"TRAEFIK_KUBERNETES_ENABLE", "kubernetes-enable", "false", "serve the cluster's Ingresses (alias TRAEFIK_K8S_ENABLE)"},
	{"TRAEFIK_KUBERNETES_ENDPOINT", "kubernetes-endpoint", "", "apiserver URL; empty: TRAEFIK_KUBERNETES_KUBECONFIG/KUBECONFIG, else the in-cluster service account"},
	{"TRAEFIK_KUBERNETES_TOKEN", "kubernetes-token", "", "bearer token for TRAEFIK_KUBERNETES_ENDPOINT: value, path or secret alias"},
	{"TRAEFIK_KUBERNETES_CA", "kubernetes-ca", "", "PEM roots to verify TRAEFIK_KUBERNETES_ENDPOINT: path, alias or PEM"},
	{"TRAEFIK_KUBERNETES_KUBECONFIG", "kubernetes-kubeconfig", "", "kubeconfig file; falls back to KUBECONFIG"},
	{"TRAEFIK_KUBERNETES_NAMESPACES", "kubernetes-namespaces", "", "comma-separated namespaces to watch; empty: all"},
	{"TRAEFIK_KUBERNETES_LABELSELECTOR", "kubernetes-labelselector", "", "label selector for the Ingresses, e.g. team=web"},
	{"TRAEFIK_KUBERNETES_INGRESSCLASS", "kubernetes-ingressclass", "rancher-edge", "IngressClasses served, a comma list, the edge's own first (its spec.controller: rancher-edge.io/ingress-controller); a class of ingress-nginx's (k8s.io/ingress-nginx, e.g. nginx) is taken over in place"},
	{"TRAEFIK_KUBERNETES_PUBLISHED_SERVICE", "kubernetes-published-service", "", "namespace/name of the Service whose load-balancer addresses go into Ingress status"},
	{"TRAEFIK_KUBERNETES_INGRESS_ADDRESS", "kubernetes-ingress-address", "", "fixed IP or host name for Ingress status"},
	{"TRAEFIK_KUBERNETES_ALLOW_EXTERNALNAME", "kubernetes-allow-externalname", "false", "let Ingresses route to ExternalName Services"},
	{"TRAEFIK_KUBERNETES_GATEWAY", "kubernetes-gateway", "false", "also serve Gateway API (gateway.networking.k8s.io/v1): GatewayClasses of controller rancher-edge.io/gateway-controller, their Gateways and HTTPRoutes; without the CRDs it stays off and says so"},
	{"TRAEFIK_ACME_DOMAINS_ALLOWED", "acme-domains-allowed", "", "comma-separated domain suffixes ACME may order for Ingress tls hosts; empty: any"},
	{"TRAEFIK_HTTPS_PUBLIC_PORT", "https-public-port", "", "HTTPS port clients use, for redirects (443 behind a Service); empty: TRAEFIK_HTTPS_PORT"},

	{"TRAEFIK_ACME_ENABLE", "acme-enable", "false", "obtain certificates from an ACME CA (Let's Encrypt)"},
	{"TRAEFIK_ACME_EMAIL", "acme-email", "", "ACME account e-mail"},
	{"TRAEFIK_ACME_CASERVER", "acme-caserver", "production", "ACME directory URL, or production / staging for Let's Encrypt"},
	{"TRAEFIK_ACME_CA_ROOT", "acme-ca-root", "", "extra PEM root to trust for the CA: path, alias or PEM"},
	{"TRAEFIK_ACME_EAB_KID", "acme-eab-kid", "", "External Account Binding key ID"},
	{"TRAEFIK_ACME_EAB_HMAC", "acme-eab-hmac", "", "External Account Binding HMAC key: value, path or alias"},
	{"TRAEFIK_ACME_STORAGE", "acme-storage", "/data/acme", "directory for ACME account and certificates, etcd://host:2379,host2:2379/prefix (etcds:// for TLS), or kubernetes[://namespace] (Secrets and Leases; the pod's namespace by default), shared by several edges"},
	{"TRAEFIK_ETCD_USERNAME", "etcd-username", "", "etcd user for etcd:// ACME storage"},
	{"TRAEFIK_ETCD_PASSWORD", "etcd-password", "", "etcd password: value, path or secret alias"},
	{"TRAEFIK_ETCD_TLS_CA", "etcd-tls-ca", "", "PEM roots to verify etcd with (etcds://): path, alias or PEM"},
	{"TRAEFIK_ETCD_TLS_CERT", "etcd-tls-cert", "", "client certificate for etcd: path, alias or PEM"},
	{"TRAEFIK_ETCD_TLS_KEY", "etcd-tls-key", "", "client key for etcd: path, alias or PEM"},
	{"TRAEFIK_ACME_ONHOSTRULE", "acme-onhostrule", "true", "obtain a certificate for every exact name in a Host rule"},
	{"TRAEFIK_ACME_DOMAINS", "acme-domains", "", "extra names, comma-separated; wildcards need DNS-01"},
	{"TRAEFIK_ACME_ONDEMAND", "acme-ondemand", "false", "obtain at handshake time, only for names a route matches"},
	{"TRAEFIK_ACME_CHALLENGE", "acme-challenge", "http-01,tls-alpn-01", "challenges, comma-separated: http-01, tls-alpn-01, dns-01 (dns-01 alone sends every name through DNS); rawmind0/alpine-traefik's http and dns mean http-01 and dns-01"},
	{"TRAEFIK_ACME_DNS_PROVIDER", "acme-dns-provider", "", "DNS-01 provider: cloudflare, route53 or rfc2136 (credentials in their own settings; alias TRAEFIK_ACME_CHALLENGE_DNS_PROVIDER)"},

	{"TRAEFIK_ACME_DNS_RESOLVERS", "acme-dns-resolvers", "", "DNS servers (host or host:port, comma-separated) that find a DNS-01 record's zone and confirm it is visible, for split-horizon DNS (Traefik's dnsChallenge.resolvers); empty: the system's, then the zone's own"},
	{"TRAEFIK_ACME_CHALLENGE_DNS_DELAY", "acme-challenge-dns-delay", "0", "wait this long after publishing a DNS-01 record before checking it (seconds, or a duration such as 30s; Traefik's delayBeforeCheck)"},
	{"TRAEFIK_ACME_KEYTYPE", "acme-keytype", "EC256", "certificate key type: EC256, EC384, RSA2048, RSA4096 or RSA8192"},
	{"TRAEFIK_ACME_IMPORT", "acme-import", "", "Traefik acme.json (1.x, or 2.x/3.x per resolver) whose account and valid certificates go into the ACME storage on first start, once; empty: /opt/traefik/acme/acme.json when that file exists; off: never"},

	{"TRAEFIK_ADMIN_PORT", "admin-port", "8000", "dashboard, API and metrics port; 0 disables"},
	{"TRAEFIK_ADMIN_BIND", "admin-bind", "", "address to bind the admin port to; empty: every interface, where without TRAEFIK_ADMIN_USERS only /ping (and /metrics with TRAEFIK_METRICS_ENABLE) answers connections not made to a loopback address"},
	{"TRAEFIK_ADMIN_TLS", "admin-tls", "", "serve the dashboard over HTTPS; default true when certificates are configured"},
	{"TRAEFIK_ADMIN_USERS", "admin-users", "", "htpasswd lines (bcrypt) for the dashboard: value, path or alias"},
	{"TRAEFIK_ADMIN_INSECURE", "admin-insecure", "false", "allow the dashboard on all interfaces without users"},
	{"TRAEFIK_ADMIN_HOST", "admin-host", "", "also serve the dashboard as this host on the HTTPS port"},

	{"TRAEFIK_LOG_FORMAT", "log-format", "text", "application log format on stderr (or TRAEFIK_LOG_FILE): text or json"},
	{"TRAEFIK_LOG_FILE", "log-file", "", "application log file (appended); empty or the community images' /opt/traefik/log/traefik.log mean stderr"},
	{"TRAEFIK_ACCESS_FILE", "access-file", "", "access log file (appended); empty or /opt/traefik/log/access.log mean stdout; another path turns the access log on (common) unless TRAEFIK_ACCESS_LOG says otherwise"},
	{"TRAEFIK_DEBUG", "debug", "false", "true: log level DEBUG, as Traefik's debug"},
	{"TRAEFIK_CONSTRAINTS", "constraints", "", "global constraints on traefik.tags, ANDed with each provider's own: tag==x, tag!=x, * globs; comma-separated or rawmind's quoted TOML list (\"tag==api\",\"tag!=internal\")"},
	{"TRAEFIK_RANCHER_ENABLE", "rancher-enable", "", "Rancher discovery: true, false; empty means on when an endpoint (or CATTLE_URL) is set"},
	{"TRAEFIK_ADMIN_ENABLE", "admin-enable", "true", "serve the dashboard, API and metrics on TRAEFIK_ADMIN_PORT; false keeps only /ping there"},
	{"TRAEFIK_ADMIN_AUTH_METHOD", "admin-auth-method", "basic", "dashboard authentication: basic (digest is refused: it needs the password or an MD5 of it stored)"},
	{"TRAEFIK_ADMIN_READ_ONLY", "admin-read-only", "true", "the dashboard and API are always read-only; false is accepted with a warning"},
	{"TRAEFIK_HTTP_COMPRESSION", "http-compression", "false", "brotli or gzip (as the client accepts) compressible responses of 1 KiB or more on the HTTP port (streams stay streams); routes then leave the fast path"},
	{"TRAEFIK_HTTPS_COMPRESSION", "https-compression", "false", "the same on the HTTPS port"},
	{"TRAEFIK_HTTPS_MIN_TLS", "https-min-tls", "VersionTLS12", "oldest TLS version served: VersionTLS12 or VersionTLS13 (1.0 and 1.1 are refused)"},
	{"TRAEFIK_SSL_PATH", "ssl-path", "", "directory whose every *.crt with a matching *.key is served (SNI), next to TRAEFIK_SSL_CERT"},
	{"TRAEFIK_FILE_ENABLE", "file-enable", "", "true: read TRAEFIK_FILE (TRAEFIK_FILE_NAME); false: ignore it; empty: read it when set"},
	{"TRAEFIK_METRICS_ENABLE", "metrics-enable", "false", "also serve /metrics (Prometheus) on every interface of the admin port, like /ping, for a scraper on another host"},
	{"TRAEFIK_METRICS_EXPORTER", "metrics-exporter", "prometheus", "metrics exporter: prometheus (statsd, datadog and influxdb are refused)"},

	{"TRAEFIK_SSL_CLIENT_CA", "ssl-client-ca", "", "CA certificate(s) whose client certificates HTTPS asks for and verifies (Traefik's entry point clientCA, for traefik.frontend.passTLSClientCert.*): path, secret alias or PEM, comma-separated; empty asks for none"},
	{"TRAEFIK_SSL_CLIENT_CA_OPTIONAL", "ssl-client-ca-optional", "false", "true: clients without a certificate are served too (a given one is still verified); false: a certificate is required"},

	{"TRAEFIK_METRICS_PROMETHEUS_BUCKETS", "metrics-prometheus-buckets", "", "request duration buckets in seconds, increasing, comma-separated or Traefik's [0.1,0.3,1.2,5.0]; used by /metrics and the dashboard's p50/p95/p99; empty: 0.005 … 10, Prometheus' defaults (alias TRAEFIK_PROMETHEUS_BUCKETS)"},
	{"TRAEFIK_METRICS_MAX_ROUTES", "metrics-max-routes", "500", "routes (the first in match order) with /metrics series of their own; the others add up into route=\"_other\""},
}

// legacy are variables the community images read that the edge does not
// need. They are accepted (a stack switching images keeps working) and
// logged once as ignored.
var legacy = map[string]string{
	"TRAEFIK_K8S_OPTS":                       "use the TRAEFIK_KUBERNETES_* settings",
	"TRAEFIK_SSL_CRT_FILE":                   "rawmind0's output path for TRAEFIK_SSL_CRT: the edge serves TRAEFIK_SSL_CRT itself and writes no file",
	"TRAEFIK_SSL_KEY_FILE":                   "rawmind0's output path for TRAEFIK_SSL_KEY: the edge serves TRAEFIK_SSL_KEY itself and writes no file",
	"TRAEFIK_ADMIN_STATISTICS":               "the dashboard keeps its own live statistics",
	"TRAEFIK_METRICS_PUSH":                   "only the Prometheus exporter exists, which is scraped",
	"TRAEFIK_METRICS_ADDRESS":                "only the Prometheus exporter exists, which is scraped",
	"TRAEFIK_USAGE_ENABLE":                   "the edge sends no usage data",
	"TRAEFIK_ACME_CHALLENGE_HTTP_ENTRYPOINT": "HTTP-01 is always answered on TRAEFIK_HTTP_PORT",
	"TRAEFIK_DOCKER_ENDPOINT":                "there is no Docker provider",
}

// aliases maps other names the images used to the canonical setting.
var aliases = map[string]string{
	"TRAEFIK_SSL_CRT": "TRAEFIK_SSL_CERT",
	"TRAEFIK_SSL_KEY": "TRAEFIK_SSL_PRIVATE_KEY",

	"TRAEFIK_ACME_CHALLENGE_DNS_PROVIDER": "TRAEFIK_ACME_DNS_PROVIDER",
	"TRAEFIK_INSECURE_SKIP":               "TRAEFIK_BACKEND_INSECURE",
	"TRAEFIK_TRUSTEDIPS":                  "TRAEFIK_TRUSTED_IPS",
	"TRAEFIK_RANCHER_HEALTHCHEK":          "TRAEFIK_RANCHER_HEALTHCHECK",
	"TRAEFIK_REFRESH_INTERVAL":            "TRAEFIK_RANCHER_REFRESH",
	"TRAEFIK_REFRESH":                     "TRAEFIK_RANCHER_REFRESH",
	"TRAEFIK_ADMIN_SSL":                   "TRAEFIK_ADMIN_TLS",
	"TRAEFIK_ADMIN_AUTH_USERS":            "TRAEFIK_ADMIN_USERS",
	"TRAEFIK_ADMIN_BASIC_AUTH_USERS":      "TRAEFIK_ADMIN_USERS",
	"TRAEFIK_WEB":                         "TRAEFIK_ADMIN_ENABLE",
	"TRAEFIK_FILE_NAME":                   "TRAEFIK_FILE",
	"TRAEFIK_PROMETHEUS_ENABLE":           "TRAEFIK_METRICS_ENABLE",
	"TRAEFIK_PROMETHEUS_BUCKETS":          "TRAEFIK_METRICS_PROMETHEUS_BUCKETS",

	"TRAEFIK_K8S_ENABLE": "TRAEFIK_KUBERNETES_ENABLE",
}

// noFileAlias are aliases whose NAME_FILE meant something else in the
// image that used them: rawmind0 wrote TRAEFIK_SSL_CRT to
// TRAEFIK_SSL_CRT_FILE, an output path, never an input.
var noFileAlias = map[string]bool{"TRAEFIK_SSL_CRT": true, "TRAEFIK_SSL_KEY": true}

// env layers flags over the environment: a flag that was set wins, then
// the variable, then its alias. It is what every lookup goes through, so
// the `_FILE` and secret-file rules apply to flags too.
type env struct {
	flags  map[string]string // by env name, only flags actually set
	getenv func(string) string
	// environ is every NAME=value of the process, to find unknown
	// TRAEFIK_* names; nil when only getenv is known (tests).
	environ []string
}

func (e env) get(name string) string {
	if v, ok := e.flags[name]; ok {
		return v
	}
	if v := e.getenv(name); v != "" {
		return v
	}
	for _, alias := range sortedAliases() {
		canonical := aliases[alias]
		if canonical == name {
			if v := e.getenv(alias); v != "" {
				return v
			}
		}
		// NAME_FILE of an alias counts too.
		if canonical+"_FILE" == name && !noFileAlias[alias] {
			if v := e.getenv(alias + "_FILE"); v != "" {
				return v
			}
		}
	}
	return ""
}

// value returns the setting's value or its default.
func (e env) value(s setting) string {
	if v := strings.TrimSpace(e.get(s.env)); v != "" {
		return v
	}
	return s.def
}

func lookupSetting(name string) setting {
	for _, s := range settings {
		if s.env == name {
			return s
		}
	}
	panic("edge: unknown setting " + name) // a programming error
}

// parseFlags registers one flag per setting and returns the flags set.
func parseFlags(name string, args []string, out io.Writer) (map[string]string, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	vals := make(map[string]*string, len(settings))
	for _, s := range settings {
		vals[s.env] = fs.String(s.flag, "", fmt.Sprintf("%s (env %s, default %q)", s.help, s.env, s.def))
	}
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: edge [serve|check [--online]|demo|version|help settings|help migrating] [flags]\n\nFlags override the environment variables named in brackets.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	set := make(map[string]string)
	fs.Visit(func(f *flag.Flag) {
		for _, s := range settings {
			if s.flag == f.Name {
				set[s.env] = *vals[s.env]
			}
		}
	})
	return set, fs.Args(), nil
}

// writeSettings prints the settings table as Markdown for docs.
func writeSettings(w io.Writer) {
	fmt.Fprintln(w, "| variable | flag | default | meaning |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, s := range settings {
		fmt.Fprintf(w, "| `%s` | `--%s` | `%s` | %s |\n", s.env, s.flag, s.def, s.help)
	}
	names := make([]string, 0, len(legacy))
	for k := range legacy {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "\nAccepted and ignored (from the community images):")
	fmt.Fprintln(w)
	for _, k := range names {
		fmt.Fprintf(w, "- `%s`: %s\n", k, legacy[k])
	}
}
