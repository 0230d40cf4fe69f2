package labels

import (
	"strings"
)

// Support says how the edge honours one Traefik 1.7 label.
type Support string

const (
	// Supported labels behave as in Traefik 1.7.
	Supported Support = "supported"
	// Differently supported labels are honoured, in a way the row's note
	// describes.
	Differently Support = "supported differently"
	// Refused labels are reported on the service and otherwise ignored;
	// the note says why and what to do instead.
	Refused Support = "refused"
)

// Label is one row of [Table]: a label name, the [route.Service] field it
// fills and how the edge honours it.
type Label struct {
	// Key is the label name without a segment, as Traefik spelled it.
	// "<name>" stands for one dot-free name the user chooses
	// (traefik.frontend.errors.<name>.status).
	Key string

	// Field is the route.Service field the label fills, as a Go selector
	// from route.Service ("Auth.Users"); empty when the label selects or
	// names the service rather than filling a field.
	Field string

	// Support and Note say how the edge honours the label; Note is for
	// users and says how it differs or why it is refused.
	Support Support
	Note    string

	// Protects marks labels that restrict who may use the route. When the
	// edge cannot honour one, the route is skipped (fails closed) rather
	// than served unprotected.
	Protects bool

	// Sidekick marks the rawmind0/rancher-traefik sidekick's own labels,
	// which were never Traefik's.
	Sidekick bool
}

// Table is every Traefik 1.7 label, and the rawmind0 sidekick's, with the
// route.Service field it fills. It is the one place that says which labels
// exist: the builder's list of known labels, docs/labels.md and the
// annotation and tag mappings of other providers all come from here.
var Table = []Label{
	// Selection and servers.
	{Key: lEnable, Support: Supported, Note: "`true`/`false`; absent or unparsable uses the exposed-by-default setting (with a warning when unparsable)"},
	{Key: lPort, Field: "Servers", Support: Supported, Note: "required on every segment; a missing or non-numeric port skips the service, as Traefik's filter did"},
	{Key: lProtocol, Field: "Servers", Support: Supported, Note: "`http`, `https`, `h2c` (HTTP/2 without TLS, as Traefik 1.7 for gRPC) or `h2` (the edge's: HTTP/2 over TLS, for gRPC servers); HTTP/2 backends are served through the handler chain with their trailers"},
	{Key: lWeight, Field: "Servers", Support: Supported, Note: "default 1, `0` drains; an unparsable weight is 1 with a warning, as in Traefik"},
	{Key: lBackend, Field: "Backend", Support: Supported, Note: "names the backend (the sticky cookie's default name, error pages of other services)"},
	{Key: lDomain, Field: "Rule", Support: Supported, Note: "domain of the default rule"},
	{Key: lTags, Support: Supported, Note: "matched by the provider's constraints"},
	{Key: lPortIndex, Support: Refused, Note: "Traefik's Rancher provider never read it; set traefik.port"},
	{Key: lPortName, Support: Refused, Note: "Traefik's Rancher provider never read it; set traefik.port"},
	{Key: lBackendID, Support: Refused, Note: "Traefik's Rancher provider never read it; set traefik.backend"},

	// Frontend.
	{Key: lRule, Field: "Rule", Support: Supported, Note: "the Traefik 1.x rule grammar; an invalid ReplacePathRegex skips the route instead of serving the path unchanged"},
	{Key: lPriority, Field: "Priority", Support: Supported, Note: "default: the rule's length; an unparsable priority is the rule's length with a warning, as in Traefik"},
	{Key: lPassHostHeader, Field: "PassHostHeader", Support: Supported},
	{Key: lEntryPoints, Field: "EntryPoints", Support: Supported, Note: "`http`, `https`"},
	{Key: lPassTLSCert, Field: "PassTLSClientCert.PEM", Support: Supported, Note: "deprecated; as passTLSClientCert.pem"},

	{Key: lRedirectEntryPoint, Field: "Redirect.EntryPoint", Support: Supported},
	{Key: lRedirectRegex, Field: "Redirect.Regex", Support: Differently, Note: "`\\.` works (Traefik 1.7's label parser unquoted it and silently dropped the redirect)"},
	{Key: lRedirectReplacement, Field: "Redirect.Replacement", Support: Supported},
	{Key: lRedirectPermanent, Field: "Redirect.Permanent", Support: Supported},

	{Key: lAuthBasic, Field: "Auth.Users", Support: Supported, Note: "deprecated; wins over .users as in Traefik", Protects: true},
	{Key: lAuthBasicUsers, Field: "Auth.Users", Support: Supported, Note: "bcrypt, apr1 (MD5) or {SHA} hashes", Protects: true},
	{Key: lAuthBasicUsersFile, Field: "Auth.UsersFile", Support: Supported, Note: "a path in the container or a secret alias (`/run/secrets/<alias>`), read through the secrets rules and re-read within a second when it changes; lines are added to .users", Protects: true},
	{Key: lAuthBasicRemove, Field: "Auth.RemoveHeader", Support: Supported, Protects: true},
	{Key: lAuthHeaderField, Field: "Auth.HeaderField", Support: Supported, Protects: true},
	{Key: lAuthDigestUsers, Field: "DigestAuth.Users", Support: Supported, Note: "htdigest lines `user:realm:hash`; only the realm `traefik` authenticates, as in Traefik", Protects: true},
	{Key: lAuthDigestUsersFile, Field: "DigestAuth.UsersFile", Support: Supported, Note: "as basic.usersFile", Protects: true},
	{Key: lAuthDigestRemove, Field: "DigestAuth.RemoveHeader", Support: Supported, Protects: true},
	{Key: lAuthForwardAddress, Field: "ForwardAuth.Address", Support: Supported, Note: "a GET with the request's headers and X-Forwarded-Method/-Proto/-Host/-Uri/-For; 2xx lets the request through, any other answer is relayed; unreachable or slower than 30 s answers 500 as in Traefik", Protects: true},
	{Key: lAuthForwardTrust, Field: "ForwardAuth.TrustForwardHeader", Support: Supported, Note: "only headers the edge kept: X-Forwarded-* from peers outside TRAEFIK_TRUSTED_IPS are dropped before", Protects: true},
	{Key: lAuthForwardResponseHeaders, Field: "ForwardAuth.AuthResponseHeaders", Support: Supported, Protects: true},
	{Key: lAuthForwardTLSCA, Field: "ForwardAuth.TLS.CA", Support: Supported, Note: "PEM, a path or a secret alias", Protects: true},
	{Key: lAuthForwardTLSCAOptional, Field: "ForwardAuth.TLS.CAOptional", Support: Supported, Note: "accepted and, as in Traefik (where it only set a server-side option), without effect: the auth server's certificate is always verified unless insecureSkipVerify", Protects: true},
	{Key: lAuthForwardTLSCert, Field: "ForwardAuth.TLS.Cert", Support: Supported, Note: "PEM, a path or a secret alias", Protects: true},
	{Key: lAuthForwardTLSKey, Field: "ForwardAuth.TLS.Key", Support: Supported, Note: "PEM, a path or a secret alias", Protects: true},
	{Key: lAuthForwardTLSInsecure, Field: "ForwardAuth.TLS.InsecureSkipVerify", Support: Supported, Protects: true},

	{Key: lWhiteListSourceRange, Field: "WhiteList.SourceRange", Support: Supported, Protects: true},
	{Key: lWhiteListXFF, Field: "WhiteList.UseXForwardedFor", Support: Differently, Note: "X-Forwarded-For is believed only from TRAEFIK_TRUSTED_IPS (Traefik 1.7 believed any client): behind a load balancer, list it there", Protects: true},
	{Key: lWhitelistDeprecated, Field: "WhiteList.SourceRange", Support: Supported, Note: "deprecated; used only without whiteList.sourceRange", Protects: true},

	{Key: lCustomRequestHeaders, Field: "Headers.CustomRequestHeaders", Support: Supported, Note: "`K:V||K2:V2`; an empty value removes the header"},
	{Key: lCustomResponseHeaders, Field: "Headers.CustomResponseHeaders", Support: Supported, Note: "`K:V||K2:V2`; an empty value removes the header"},
	{Key: lSSLProxyHeaders, Field: "Headers.SSLProxyHeaders", Support: Supported},
	{Key: lAllowedHosts, Field: "Headers.AllowedHosts", Support: Supported},
	{Key: lHostsProxyHeaders, Field: "Headers.HostsProxyHeaders", Support: Supported},
	{Key: lSSLRedirect, Field: "Headers.SSLRedirect", Support: Supported},
	{Key: lSSLTemporaryRedirect, Field: "Headers.SSLTemporaryRedirect", Support: Supported},
	{Key: lSSLForceHost, Field: "Headers.SSLForceHost", Support: Supported},
	{Key: lSSLHost, Field: "Headers.SSLHost", Support: Supported},
	{Key: lSTSSeconds, Field: "Headers.STSSeconds", Support: Supported, Note: "HSTS is sent on HTTPS responses only; an unparsable number is 0 with a warning"},
	{Key: lSTSIncludeSubdomains, Field: "Headers.STSIncludeSubdomains", Support: Supported},
	{Key: lSTSPreload, Field: "Headers.STSPreload", Support: Supported},
	{Key: lForceSTSHeader, Field: "Headers.ForceSTSHeader", Support: Supported},
	{Key: lFrameDeny, Field: "Headers.FrameDeny", Support: Supported},
	{Key: lCustomFrameOptionsValue, Field: "Headers.CustomFrameOptionsValue", Support: Supported},
	{Key: lContentTypeNosniff, Field: "Headers.ContentTypeNosniff", Support: Supported},
	{Key: lBrowserXSSFilter, Field: "Headers.BrowserXSSFilter", Support: Supported},
	{Key: lCustomBrowserXSSValue, Field: "Headers.CustomBrowserXSSValue", Support: Supported},
	{Key: lContentSecurityPolicy, Field: "Headers.ContentSecurityPolicy", Support: Supported},
	{Key: lPublicKey, Field: "Headers.PublicKey", Support: Supported},
	{Key: lReferrerPolicy, Field: "Headers.ReferrerPolicy", Support: Supported},
	{Key: lIsDevelopment, Field: "Headers.IsDevelopment", Support: Supported},

	{Key: lRateLimitExtractor, Field: "RateLimit.ExtractorFunc", Support: Supported, Note: "`client.ip` (the peer address, never X-Forwarded-For), `request.host` or `request.header.<Name>`; token buckets per key, at most 65,536 keys per route (fully refilled buckets are forgotten first); 429 with Retry-After"},
	{Key: lRateSetPeriod, Field: "RateLimit.RateSets", Support: Supported, Note: "a duration or a number of seconds; a rate set without a positive period, average and burst skips the route, as Traefik did not serve it"},
	{Key: lRateSetAverage, Field: "RateLimit.RateSets", Support: Supported},
	{Key: lRateSetBurst, Field: "RateLimit.RateSets", Support: Supported},
	{Key: lErrorsStatus, Field: "ErrorPages", Support: Supported, Note: "codes and ranges (`500-599,404`); the edge's own 502/503/504 answers are replaced too"},
	{Key: lErrorsBackend, Field: "ErrorPages", Support: Supported, Note: "the Traefik backend name of another service: its traefik.backend, or the name Traefik derived (`<service>-<stack>`); the page is fetched from that service's servers"},
	{Key: lErrorsQuery, Field: "ErrorPages", Support: Supported, Note: "the page's path; `{status}` is replaced by the code; the client gets the original status with the page"},
	{Key: lPassClientCertPEM, Field: "PassTLSClientCert.PEM", Support: Supported, Note: "X-Forwarded-Tls-Client-Cert; the HTTPS entry point asks for client certificates only with TRAEFIK_SSL_CLIENT_CA (Traefik's entry point clientCA); a client's own values of these headers are always dropped"},
	{Key: lPassClientCertInfos + "notAfter", Field: "PassTLSClientCert.Infos", Support: Supported, Note: "X-Forwarded-Tls-Client-Cert-Infos, as Traefik 1.7 wrote it"},
	{Key: lPassClientCertInfos + "notBefore", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "sans", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "subject.commonName", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "subject.country", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "subject.domainComponent", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "subject.locality", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "subject.organization", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "subject.province", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "subject.serialNumber", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "issuer.commonName", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "issuer.country", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "issuer.domainComponent", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "issuer.locality", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "issuer.organization", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "issuer.province", Field: "PassTLSClientCert.Infos", Support: Supported},
	{Key: lPassClientCertInfos + "issuer.serialNumber", Field: "PassTLSClientCert.Infos", Support: Supported},

	// Backend.
	{Key: lLBMethod, Field: "LoadBalancer.Method", Support: Supported, Note: "`wrr` (smooth weighted round robin) or `drr` (fewest requests in flight)"},
	{Key: lLBSticky, Field: "LoadBalancer.Sticky", Support: Supported, Note: "deprecated; cookie `_TRAEFIK_BACKEND`"},
	{Key: lStickiness, Field: "LoadBalancer.Sticky", Support: Supported},
	{Key: lStickinessCookie, Field: "LoadBalancer.CookieName", Support: Supported},
	{Key: lStickinessSecure, Field: "LoadBalancer.CookieSecure", Support: Supported},
	{Key: lStickinessHTTPOnly, Field: "LoadBalancer.CookieHTTPOnly", Support: Supported},
	{Key: lStickinessSameSite, Field: "LoadBalancer.CookieSameSite", Support: Supported},
	{Key: lHealthCheckPath, Field: "HealthCheck.Path", Support: Supported},
	{Key: lHealthCheckPort, Field: "HealthCheck.Port", Support: Supported, Note: "an unparsable port checks the server's port, with a warning"},
	{Key: lHealthCheckInterval, Field: "HealthCheck.Interval", Support: Differently, Note: "a unit-less number means seconds (Traefik ignored it)"},
	{Key: lHealthCheckTimeout, Field: "HealthCheck.Timeout", Support: Differently, Note: "a unit-less number means seconds"},
	{Key: lHealthCheckScheme, Field: "HealthCheck.Scheme", Support: Supported},
	{Key: lHealthCheckHostname, Field: "HealthCheck.Hostname", Support: Supported},
	{Key: lHealthCheckHeaders, Field: "HealthCheck.Headers", Support: Supported},
	{Key: lCircuitBreaker, Support: Differently, Note: "`NetworkErrorRatio() > x` (which rawmind0's sidekick set on every service) is served by the edge's passive health, on for every route: a backend whose connections fail TRAEFIK_BACKEND_MAX_FAILS times in a row is out for TRAEFIK_BACKEND_FAIL_TIMEOUT, and never the last ones; other expressions (latency, response codes) are reported and ignored"},
	{Key: lMaxConnAmount, Field: "MaxConn.Amount", Support: Supported, Note: "requests in flight per key; one more is refused at once with 429 (it does not wait), as in Traefik; unparsable means no limit, with a warning"},
	{Key: lMaxConnExtractor, Field: "MaxConn.ExtractorFunc", Support: Supported, Note: "default `request.host`"},
	{Key: lBufferingMaxRequest, Field: "MaxRequestBodyBytes", Support: Differently, Note: "a limit without buffering: a larger declared length is answered 413 at once, a chunked body when it crosses the limit (the backend's connection is closed then)"},
	{Key: lBufferingMemRequest, Support: Refused, Note: "the edge streams request bodies to the backend and never buffers them in memory or on disk, so there is no threshold to tune; remove the label"},
	{Key: lBufferingMaxResponse, Support: Refused, Note: "the edge streams responses and never buffers them, so it cannot answer 500 for a response that turns out too large; limit it in the backend"},
	{Key: lBufferingMemResponse, Support: Refused, Note: "the edge streams responses to the client and never buffers them, so there is no threshold to tune; remove the label"},
	{Key: lBufferingRetry, Support: Refused, Note: "oxy's retry expressions (`IsNetworkError() && Attempts() < 2`) replay a buffered request; the edge does not buffer, and retries once on another backend only when the connection failed before the request was sent; remove the label"},
	{Key: lResponseHeaderTimeout, Field: "ResponseHeaderTimeout", Support: Supported, Note: "the edge's own (Traefik 1.7 had none): the wait for a backend's response head on this route, raising or lowering TRAEFIK_TIMEOUT_HEADER; past it the client gets 504"},
	{Key: lFlushInterval, Support: Differently, Note: "the edge writes response bytes to the client as they arrive, so every interval is already met"},

	// The rawmind0/rancher-traefik sidekick's own labels.
	{Key: "traefik.alias", Sidekick: true, Support: Differently, Note: "read only with TRAEFIK_RANCHER_SIDEKICK_LABELS=true (as the sidekick built its rule); otherwise write the host into traefik.frontend.rule (Host:<alias>.<domain>)"},
	{Key: "traefik.alias.fqdn", Sidekick: true, Support: Differently, Note: "read only with TRAEFIK_RANCHER_SIDEKICK_LABELS=true (as the sidekick built its rule); otherwise write the host into traefik.frontend.rule (Host:<fqdn>)"},
	{Key: "traefik.domain.regexp", Sidekick: true, Support: Differently, Note: "read only with TRAEFIK_RANCHER_SIDEKICK_LABELS=true (as the sidekick built its rule); otherwise use HostRegexp in traefik.frontend.rule"},
	{Key: "traefik.path", Sidekick: true, Support: Differently, Note: "read only with TRAEFIK_RANCHER_SIDEKICK_LABELS=true (as the sidekick built its rule); otherwise add ;Path:<path> to traefik.frontend.rule"},
	{Key: "traefik.path.strip", Sidekick: true, Support: Differently, Note: "read only with TRAEFIK_RANCHER_SIDEKICK_LABELS=true (as the sidekick built its rule); otherwise add ;PathStrip:<path> to traefik.frontend.rule"},
	{Key: "traefik.path.prefix", Sidekick: true, Support: Differently, Note: "read only with TRAEFIK_RANCHER_SIDEKICK_LABELS=true (as the sidekick built its rule); otherwise add ;PathPrefix:<path> to traefik.frontend.rule"},
	{Key: "traefik.path.prefix.strip", Sidekick: true, Support: Differently, Note: "read only with TRAEFIK_RANCHER_SIDEKICK_LABELS=true (as the sidekick built its rule); otherwise add ;PathPrefixStrip:<path> to traefik.frontend.rule"},
	{Key: "traefik.priority", Sidekick: true, Support: Differently, Note: "read only with TRAEFIK_RANCHER_SIDEKICK_LABELS=true (as the sidekick built its rule); otherwise use traefik.frontend.priority"},
	{Key: "traefik.sticky", Sidekick: true, Support: Differently, Note: "read only with TRAEFIK_RANCHER_SIDEKICK_LABELS=true (as the sidekick built its rule); otherwise use traefik.backend.loadbalancer.stickiness=true"},
	{Key: "traefik.acme", Sidekick: true, Support: Refused, Note: "sidekick label, never needed: the edge orders certificates for every routed host when ACME is on (TRAEFIK_ACME_*)"},
	{Key: "traefik.ratelimit.enable", Sidekick: true, Support: Differently, Note: "read only with TRAEFIK_RANCHER_SIDEKICK_LABELS=true (as the sidekick built its rule); otherwise use traefik.frontend.rateLimit.*"},
	{Key: "traefik.ratelimit.period", Sidekick: true, Support: Differently, Note: "read only with TRAEFIK_RANCHER_SIDEKICK_LABELS=true (as the sidekick built its rule); otherwise use traefik.frontend.rateLimit.rateSet.<name>.period"},
	{Key: "traefik.ratelimit.average", Sidekick: true, Support: Differently, Note: "read only with TRAEFIK_RANCHER_SIDEKICK_LABELS=true (as the sidekick built its rule); otherwise use traefik.frontend.rateLimit.rateSet.<name>.average"},
	{Key: "traefik.ratelimit.burst", Sidekick: true, Support: Differently, Note: "read only with TRAEFIK_RANCHER_SIDEKICK_LABELS=true (as the sidekick built its rule); otherwise use traefik.frontend.rateLimit.rateSet.<name>.burst"},
}

// known indexes Table by key; patterns holds the rows with a <name>.
var known, patterns = func() (map[string]*Label, []*Label) {
	m := make(map[string]*Label, len(Table))
	var p []*Label
	for i := range Table {
		l := &Table[i]
		if strings.Contains(l.Key, "<name>") {
			p = append(p, l)
			continue
		}
		m[l.Key] = l
	}
	return m, p
}()

// Lookup returns the row for a label name without segment
// (traefik.frontend.errors.e1.status finds traefik.frontend.errors.<name>.status),
// or nil when no label of that name exists.
func Lookup(key string) *Label {
	if l, ok := known[key]; ok {
		return l
	}
	for _, l := range patterns {
		if matchKey(l.Key, key) {
			return l
		}
	}
	return nil
}

// matchKey matches a key against a pattern whose <name> stands for one
// non-empty, dot-free part.
func matchKey(pattern, key string) bool {
	for {
		p, prest, pok := strings.Cut(pattern, ".")
		k, krest, kok := strings.Cut(key, ".")
		if pok != kok || k == "" || (p != "<name>" && p != k) {
			return false
		}
		if !pok {
			return true
		}
		pattern, key = prest, krest
	}
}

// isSupported says whether the edge honours the label (in full or
// differently); refused and unknown labels are reported.
func isSupported(key string) bool {
	l := Lookup(key)
	// The sidekick's labels are translated before Build when they are
	// read at all; as Traefik labels they are reported.
	return l != nil && l.Support != Refused && !l.Sidekick
}

// failClosed reports whether a label would have protected the route in
// Traefik but cannot be honoured: serving such a route without the
// protection would open it to everyone, so the segment is skipped instead
// of warned about.
func failClosed(key string) bool {
	l := Lookup(key)
	return l != nil && l.Protects && l.Support == Refused
}
