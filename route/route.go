package route

import (
	"fmt"
	"strings"
	"time"
)

// Snapshot is one provider's complete view of the services it knows at one
// moment. After it has been published it must not be modified.
type Snapshot struct {
	// Provider names the provider that built the snapshot ("file",
	// "rancher"). The edge keeps the latest snapshot of each provider and
	// routes over their union.
	Provider string

	// Services are the routable services, in a stable order.
	Services []Service

	// Problems are what the provider skipped or warned about while building
	// the snapshot, one entry for each service and reason.
	Problems []Problem

	// Fingerprint is a cheap hash of the inputs the snapshot was built from.
	// Two snapshots of one provider with equal non-zero fingerprints describe
	// the same routes; zero means unknown.
	Fingerprint uint64

	// Built is when the snapshot was built.
	Built time.Time

	// Certificates are TLS certificates the provider found for its routes
	// (Kubernetes Secrets named by an Ingress's spec.tls), each with the
	// hosts it is to be served for. The certificate store serves them by
	// SNI next to the file certificates.
	Certificates []Certificate
}

// Certificate is one certificate and key a provider found, and the hosts
// it is served for. KeyPEM is secret: it is never printed, logged or shown.
type Certificate struct {
	// Source names where it came from, e.g. kubernetes:shop/web-tls
	// (Stack = namespace, Service = Secret name).
	Source Source
	// Hosts are the names to serve it for; "*.example.com" covers one
	// label. Empty means the certificate's own names.
	Hosts []string
	// CertPEM is the chain, leaf first; KeyPEM its private key.
	CertPEM []byte
	KeyPEM  []byte `json:"-"`
}

// String names the certificate without its key.
func (c Certificate) String() string { return "certificate " + c.Source.String() }

// GoString keeps %#v from printing the key.
func (c Certificate) GoString() string { return c.String() }

// Source says where a service came from.
type Source struct {
	Provider string // "file" or "rancher"
	Stack    string // Rancher stack name; empty for the file provider
	Service  string // service name as written by the user
	Segment  string // label segment name; empty for the unnamed segment
}

// String renders the source as provider:stack/service[#segment].
func (s Source) String() string {
	out := s.Provider + ":"
	if s.Stack != "" {
		out += s.Stack + "/"
	}
	out += s.Service
	if s.Segment != "" {
		out += "#" + s.Segment
	}
	return out
}

// Lost says that routes of a source lose requests their rules claim to
// older routes of other sources, which get them instead (the routing
// table's clash rule).
type Lost struct {
	Source Source
	// To lists the sources whose routes get the requests, sorted.
	To []Source
	// All is set when they get every request the source's rules claim:
	// nothing is served from it.
	All bool
}

// Service is one frontend (a rule and what happens to matching requests) with
// its backend servers. A Rancher service with label segments yields one
// Service per segment.
type Service struct {
	// Name is unique within the provider's snapshot, e.g. "web.shop" or
	// "web.shop.admin" for a segment. It keys per-route state (metrics,
	// sticky cookie names) and is shown on the dashboard.
	Name string

	// Source names the provider, stack, service and segment.
	Source Source

	// Created is when the object that declares the route was created, as
	// its source tells it: a Kubernetes object's creationTimestamp, a
	// Rancher service's created time. Zero when the source does not tell
	// (files, rancher-metadata, Consul). When routes of two sources claim
	// the same requests, the older gets them, and zero counts as older
	// than any time (see the routing table's clash rule).
	Created time.Time

	// Rule is the Traefik 1.x frontend rule, e.g. "Host:a.example.com;PathPrefix:/api".
	Rule string

	// Priority orders rules; zero means the length of Rule, as in Traefik 1.x.
	Priority int

	// PassHostHeader forwards the client's Host header to the backend
	// rather than the backend's address. Traefik's default is true.
	PassHostHeader bool

	// EntryPoints restricts the route to the named entry points ("http",
	// "https"). Empty means the default entry points.
	EntryPoints []string

	// Redirect, when non-nil, answers matching requests with a redirect
	// instead of proxying them.
	Redirect *Redirect

	// Auth, when non-nil, requires HTTP basic authentication.
	Auth *BasicAuth

	// DigestAuth, when non-nil, requires HTTP digest authentication.
	DigestAuth *DigestAuth

	// ForwardAuth, when non-nil, asks an authentication server about every
	// request first.
	ForwardAuth *ForwardAuth

	// WhiteList, when non-nil, admits only clients from its ranges.
	WhiteList *WhiteList

	// Headers, when non-nil, adds request and response headers.
	Headers *Headers

	// LoadBalancer selects the balancing method and stickiness.
	LoadBalancer LoadBalancer

	// HealthCheck, when non-nil, enables active health checks that take a
	// failing server out of rotation.
	HealthCheck *HealthCheck

	// RateLimit, when non-nil, limits the request rate per client.
	RateLimit *RateLimit

	// MaxConn, when non-nil, limits the requests in flight per key.
	MaxConn *MaxConn

	// Backend is the Traefik backend name (traefik.backend, else derived
	// from the service name), which other routes' error pages refer to.
	Backend string

	// Answer, when non-zero (a 4xx or 5xx status), is what the route
	// answers itself, to every request, without a backend: Gateway API's
	// 500 for a rule whose backendRefs all fail to resolve, its 404 for a
	// listener's hostnames that no rule matches.
	Answer int

	// AnswerWeight, when non-zero, makes Answer a share of the requests
	// rather than all of them: it is Answer's weight beside the sum of the
	// servers' weights, and the rest of the requests are proxied as usual.
	// Gateway API's backendRefs that do not resolve get their weight's
	// share of 500s. Zero: Answer takes every request.
	AnswerWeight int

	// Fallback marks a catch-all that takes only what no other route
	// takes (a Gateway listener's 404 for its hostnames, at priority 1):
	// a route claiming the same requests is its purpose, not a clash.
	Fallback bool

	// ErrorPages replace error answers with pages from another backend.
	ErrorPages []ErrorPage

	// PassTLSClientCert, when non-nil, passes the client certificate of
	// the TLS connection to the backend in request headers.
	PassTLSClientCert *PassTLSClientCert

	// ResponseHeaderTimeout, when positive, replaces the edge's bound on
	// the wait for a backend's response head (TRAEFIK_TIMEOUT_HEADER) on
	// this route: traefik.backend.responseHeaderTimeout.
	ResponseHeaderTimeout time.Duration

	// DialTimeout, when positive, bounds connecting to a backend of this
	// route below the edge's own dial timeout (30 s), ingress-nginx's
	// proxy-connect-timeout; a longer one keeps the edge's.
	DialTimeout time.Duration

	// MaxRequestBodyBytes, when positive, answers larger request bodies
	// 413 (traefik.backend.buffering.maxRequestBodyBytes); zero applies
	// TRAEFIK_MAX_BODY_SIZE.
	MaxRequestBodyBytes int64

	// CORS, when non-nil, answers cross-origin requests as ingress-nginx's
	// enable-cors does.
	CORS *CORS

	// UpstreamHost, when set, is the Host header sent to the backend in
	// place of the client's or the backend's address (ingress-nginx's
	// upstream-vhost).
	UpstreamHost string

	// Servers are the healthy, running backends. An empty list means the
	// route exists but answers 503.
	Servers []Server

	// TLS, when non-nil, is the route's own HTTPS policy, as a Kubernetes
	// Ingress's spec.tls states it. Nil keeps the edge-wide policy: with
	// HTTPS on, plain HTTP is redirected, and ACME (TRAEFIK_ACME_ONHOSTRULE)
	// orders a certificate for every exact host of the rule.
	TLS *TLS
}

// TLS is a route's own HTTPS policy.
type TLS struct {
	// PlainHTTP serves the route on the plain HTTP port too, instead of
	// redirecting to HTTPS (an Ingress host not listed in its spec.tls).
	PlainHTTP bool

	// ACMEHosts are the only names ACME may order for this route (an
	// Ingress's spec.tls hosts without a secretName, within
	// TRAEFIK_ACME_DOMAINS_ALLOWED); none means none.
	ACMEHosts []string

	// RedirectCode, when non-zero, is the status (301, 302, 307 or 308)
	// of this route's redirect from plain HTTP to HTTPS instead of the
	// edge's TRAEFIK_REDIRECT_CODE: ingress-nginx answers 308, and its
	// Ingresses keep that when the edge takes them over.
	RedirectCode int
}

// CORS is ingress-nginx's enable-cors with its cors-allow-* settings.
type CORS struct {
	// AllowOrigins are "*", origins (https://a.example.com:8443) and
	// single-label wildcards (https://*.example.com). A request whose
	// Origin matches gets it back in Access-Control-Allow-Origin; with
	// "*", every request gets "*".
	AllowOrigins []string
	// AllowMethods, AllowHeaders and ExposeHeaders are the header values
	// as sent; empty ExposeHeaders sends none.
	AllowMethods  string
	AllowHeaders  string
	ExposeHeaders string
	// AllowCredentials sends Access-Control-Allow-Credentials: true.
	AllowCredentials bool
	// MaxAge is Access-Control-Max-Age in seconds; zero sends none.
	MaxAge int
}

// CheckCORSOrigin reports whether o is an origin [CORS] accepts: "*",
// scheme://host[:port] or scheme://*.domain[:port], scheme http or https.
func CheckCORSOrigin(o string) error {
	if o == "*" {
		return nil
	}
	scheme, host, _ := strings.Cut(o, "://")
	rest, _ := strings.CutPrefix(host, "*.")
	if (scheme != "http" && scheme != "https") || rest == "" || strings.ContainsAny(rest, "*/ \t\r\n") {
		return fmt.Errorf("origin %q is not *, scheme://host[:port] or scheme://*.domain[:port]", o)
	}
	return nil
}

// Server is one backend address.
type Server struct {
	// URL is scheme://host:port, e.g. "http://10.42.0.5:8080".
	URL string

	// Weight is the weighted round robin weight; zero drains the server.
	Weight int

	// Name identifies the server for people: the container name in
	// Rancher, the address in the file provider.
	Name string
}

// LoadBalancer selects how requests are spread over a service's servers.
type LoadBalancer struct {
	// Method is "wrr" (smooth weighted round robin, the default when empty)
	// or "drr" (least outstanding requests, weights as tie-breakers).
	Method string

	// Sticky pins a client to a server with a cookie.
	Sticky bool

	// CookieName is the sticky cookie's name; empty derives one from the
	// service name as Traefik 1.7 does.
	CookieName string

	// CookieSecure, CookieHTTPOnly and CookieSameSite ("", "none", "lax",
	// "strict") set the sticky cookie's attributes.
	CookieSecure   bool
	CookieHTTPOnly bool
	CookieSameSite string

	// CookiePath is the sticky cookie's Path; empty means "/".
	// CookieMaxAge, when positive, is its Max-Age in seconds; zero makes
	// it last the browser session (ingress-nginx's session-cookie-path
	// and -max-age).
	CookiePath   string
	CookieMaxAge int
}

// Redirect describes traefik.frontend.redirect.* labels.
type Redirect struct {
	// EntryPoint redirects to another entry point ("https"); it takes
	// precedence over Regex.
	EntryPoint string

	// Regex and Replacement rewrite the full request URL into the
	// redirect target; both are needed.
	Regex       string
	Replacement string

	// Permanent answers 301 (or 308 for non-GET) instead of 302 (or 307).
	Permanent bool

	// Code, when non-zero (301, 302, 303, 307 or 308), is the status for
	// every method, as ingress-nginx's permanent-redirect-code answers.
	Code int
}

// BasicAuth describes traefik.frontend.auth.basic.* labels.
type BasicAuth struct {
	// Users are htpasswd lines, "user:hash", with bcrypt, apr1 (MD5) or
	// {SHA} hashes.
	Users []string

	// RemoveHeader drops the Authorization header before proxying.
	RemoveHeader bool

	// HeaderField, when set, carries the authenticated user name to the
	// backend in that request header.
	HeaderField string

	// UsersFile names a file of more htpasswd lines: a path or a secret
	// alias, resolved like secret settings and re-read when it changes.
	UsersFile string

	// Realm names the realm of the challenge; empty means "traefik", as
	// Traefik 1.7 sent (ingress-nginx's auth-realm sets it).
	Realm string
}

// DigestAuth describes traefik.frontend.auth.digest.* labels.
type DigestAuth struct {
	// Users are htdigest lines, "user:realm:md5(user:realm:password)";
	// only the realm "traefik" can authenticate, as in Traefik.
	Users []string

	// UsersFile names a file of more such lines: a path or a secret alias,
	// resolved like secret settings and re-read when it changes.
	UsersFile string

	// RemoveHeader drops the Authorization header before proxying.
	RemoveHeader bool

	// HeaderField, when set, carries the authenticated user name to the
	// backend in that request header.
	HeaderField string
}

// ForwardAuth describes traefik.frontend.auth.forward.* labels.
type ForwardAuth struct {
	// Address is the authentication server's URL.
	Address string

	// TrustForwardHeader passes the client's X-Forwarded-* headers on
	// instead of the edge's own view.
	TrustForwardHeader bool

	// AuthResponseHeaders are copied from the server's 2xx answer into the
	// request sent to the backend.
	AuthResponseHeaders []string

	// TLS configures the connection to an https:// Address.
	TLS *ClientTLS

	// SignIn, when set, is where a client the server answers 401 is sent
	// (302) instead of the 401, ingress-nginx's auth-signin: $host,
	// $scheme, $request_uri and $escaped_request_uri are replaced, and
	// rd=<the request's URL> is added when the URL carries no rd.
	SignIn string
}

// ClientTLS is Traefik's ClientTLS: the CA to verify a server with and the
// client certificate to present, each a PEM value, path or secret alias.
type ClientTLS struct {
	CA                 string
	CAOptional         bool
	Cert               string
	Key                string
	InsecureSkipVerify bool
}

// RateLimit describes traefik.frontend.rateLimit.* labels.
type RateLimit struct {
	// ExtractorFunc picks the key requests are counted under:
	// "client.ip", "request.host" or "request.header.<Name>".
	ExtractorFunc string

	// RateSets are the limits; a request must pass every one.
	RateSets []RateSet
}

// RateSet is one token bucket: Average requests per Period on average,
// with bursts of up to Burst.
type RateSet struct {
	Name    string
	Period  time.Duration
	Average int64
	Burst   int64
}

// MaxConn describes traefik.backend.maxconn.* labels.
type MaxConn struct {
	// Amount is the most requests in flight per key.
	Amount int64

	// ExtractorFunc picks the key, as for [RateLimit].
	ExtractorFunc string
}

// ErrorPage describes one traefik.frontend.errors.<name>.* group.
type ErrorPage struct {
	Name string

	// Status lists codes ("500") and ranges ("500-599").
	Status []string

	// Backend is the Traefik backend name of the route that serves the
	// page ([Service.Backend]).
	Backend string

	// Query is the path requested from that backend; "{status}" is
	// replaced by the status code.
	Query string
}

// PassTLSClientCert describes traefik.frontend.passTLSClientCert.* labels.
type PassTLSClientCert struct {
	// PEM passes the certificate, URL-escaped PEM without armour, in
	// X-Forwarded-Tls-Client-Cert.
	PEM bool

	// Infos lists the certificate fields passed in
	// X-Forwarded-Tls-Client-Cert-Infos ("notafter", "subject.commonname", ...).
	Infos []string
}

// WhiteList describes traefik.frontend.whiteList.* labels.
type WhiteList struct {
	// SourceRange lists CIDRs or bare IPs that may use the route.
	SourceRange []string

	// UseXForwardedFor checks the addresses in X-Forwarded-For as well.
	UseXForwardedFor bool
}

// Headers describes traefik.frontend.headers.* labels.
type Headers struct {
	CustomRequestHeaders  map[string]string
	CustomResponseHeaders map[string]string
	// AddRequestHeaders and AddResponseHeaders append a value to a header,
	// after the values the client or the backend sent, where the Custom
	// ones replace them (Gateway API's header modifiers' add).
	AddRequestHeaders  map[string]string
	AddResponseHeaders map[string]string
	SSLProxyHeaders    map[string]string
	AllowedHosts       []string
	HostsProxyHeaders  []string

	SSLRedirect          bool
	SSLTemporaryRedirect bool
	SSLForceHost         bool
	SSLHost              string

	STSSeconds           int64
	STSIncludeSubdomains bool
	STSPreload           bool
	ForceSTSHeader       bool

	FrameDeny               bool
	CustomFrameOptionsValue string
	ContentTypeNosniff      bool
	BrowserXSSFilter        bool
	CustomBrowserXSSValue   string
	ContentSecurityPolicy   string
	PublicKey               string
	ReferrerPolicy          string
	IsDevelopment           bool
}

// HealthCheck describes traefik.backend.healthcheck.* labels.
type HealthCheck struct {
	Path     string            // request path; required
	Port     int               // zero means the server's port
	Scheme   string            // empty means the server's scheme
	Hostname string            // Host header; empty means the server address
	Headers  map[string]string // extra request headers
	Interval time.Duration     // zero means 30s
	Timeout  time.Duration     // zero means 5s
}

// Every is how often the check runs: Interval, or 30s when zero.
func (h *HealthCheck) Every() time.Duration {
	if h.Interval > 0 {
		return h.Interval
	}
	return 30 * time.Second
}

// Wait bounds one check: Timeout, or 5s when zero.
func (h *HealthCheck) Wait() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return 5 * time.Second
}

// Severity grades a [Problem].
type Severity string

const (
	// Error means the service (or segment) was skipped.
	Error Severity = "error"
	// Warning means the service is served but something was ignored.
	Warning Severity = "warning"
)

// Problem is one thing a provider or the table compiler could not use, tied
// to the service it concerns. Messages never contain secret values.
type Problem struct {
	Source   Source
	Severity Severity
	Message  string
}

func (p Problem) String() string {
	return string(p.Severity) + ": " + p.Source.String() + ": " + p.Message
}
