package labels

import (
	"slices"
	"strings"

	"github.com/rancher-edge/edge/route"
)

// NginxPrefix is ingress-nginx's annotation prefix. The edge reads these
// annotations on every Ingress it serves, so that ingress-nginx's
// Ingresses move over without edits.
const NginxPrefix = "nginx.ingress.kubernetes.io/"

// Partly marks an annotation honoured in part; its note says how.
const Partly Support = "partly"

// NginxAnnotation is one row of [NginxAnnotations]: an ingress-nginx
// annotation, how the edge honours it and onto what.
type NginxAnnotation struct {
	// Name is the annotation without [NginxPrefix].
	Name string
	// Support is Supported, Differently, Partly or Refused.
	Support Support
	// Onto names, for people, the label or field it becomes.
	Onto string
	// Note says how it differs, or — refused — why and what to do
	// instead; it is the problem's text on an Ingress that carries a
	// refused annotation.
	Note string

	// set turns the value into labels; nil when the Kubernetes provider
	// applies the annotation itself (it shapes the rule, the TLS policy,
	// reads a Secret or joins two Ingresses) or when it is refused.
	set func(v string, out map[string]string) error
	// failClosed marks refused annotations that protect the paths: the
	// Ingress is not served rather than served without the protection.
	failClosed bool
	// warn marks partly honoured annotations whose value is not applied
	// at all: a warning on the Ingress says so.
	warn bool
}

// snippetNote is the problem of ingress-nginx's raw-configuration
// (*-snippet) annotations, refused: configuration injected from any
// namespace's Ingress was the root of CVE-2021-25742 and of the
// CVE-2025-1974 ("IngressNightmare") class of bugs.
const snippetNote = "refused: raw nginx configuration from an Ingress is the configuration-injection surface behind CVE-2025-1974 (IngressNightmare) and CVE-2021-25742; the edge has no such surface. Express it with the supported annotations (headers: custom-request-headers / custom-response-headers; redirects: permanent-redirect, app-root) and remove this one"

// NginxAnnotations is the one table of ingress-nginx annotations:
// docs/kubernetes.md is generated from it and an annotation under
// [NginxPrefix] that is not in it is a problem on its Ingress.
var NginxAnnotations = []NginxAnnotation{
	// Paths and rewrites.
	{Name: "rewrite-target", Support: Supported, Onto: "rule ReplacePathRegex", Note: "with use-regex (forced by rewrite-target, as since ingress-nginx 0.22) the paths are regular expressions and $1… in the target are their groups; without groups, the matched path is replaced by the target"},
	{Name: "use-regex", Support: Differently, Onto: "rule PathPrefix regexp", Note: "paths are RE2 regular expressions, case-insensitive, anchored at the start (ingress-nginx: PCRE); a path RE2 cannot express skips that path with a problem. As in ingress-nginx, the paths of every class-nginx Ingress of the same host become regexes too"},
	{Name: "app-root", Support: Supported, Onto: "frontend.redirect", Note: "requests for / are redirected (302) to this path"},
	{Name: "x-forwarded-prefix", Support: Supported, Onto: "headers.customRequestHeaders", Note: "X-Forwarded-Prefix sent to the backend", set: header("X-Forwarded-Prefix", lCustomRequestHeaders)},
	{Name: "upstream-vhost", Support: Supported, Onto: "UpstreamHost", Note: "the Host header sent to the backend"},

	// HTTPS and redirects.
	{Name: "ssl-redirect", Support: Supported, Onto: "TLS.PlainHTTP", Note: "default true: plain HTTP to a host in spec.tls is redirected to HTTPS — for class nginx with 308, and on every path of a host any of its Ingresses lists, as ingress-nginx does per server; false serves it on HTTP too"},
	{Name: "force-ssl-redirect", Support: Supported, Onto: "TLS.PlainHTTP", Note: "redirect to HTTPS even for hosts without spec.tls (TLS ended before the edge)"},
	{Name: "preserve-trailing-slash", Support: Differently, Note: "the edge's redirect always keeps the path as sent"},
	{Name: "permanent-redirect", Support: Supported, Onto: "frontend.redirect", Note: "every request is redirected (301) to this URL; $request_uri, $host and $scheme in it are replaced"},
	{Name: "permanent-redirect-code", Support: Supported, Onto: "Redirect.Code", Note: "status of permanent-redirect (301, 302, 303, 307, 308)"},
	{Name: "temporal-redirect", Support: Supported, Onto: "frontend.redirect", Note: "as permanent-redirect, with 302; wins over permanent-redirect as in ingress-nginx"},
	{Name: "temporal-redirect-code", Support: Supported, Onto: "Redirect.Code", Note: "status of temporal-redirect"},
	{Name: "from-to-www-redirect", Support: Supported, Onto: "frontend.redirect", Note: "www.<host> is redirected to <host> (or the other way round) with 308, keeping scheme, path and query, unless another Ingress serves that name; HTTPS for it needs a certificate that covers both names"},

	// Backends.
	{Name: "backend-protocol", Support: Partly, Onto: "traefik.protocol", Note: "HTTP, HTTPS, GRPC (HTTP/2 without TLS) and GRPCS (HTTP/2 over TLS), trailers relayed; HTTPS and GRPCS are verified unless TRAEFIK_BACKEND_INSECURE=true, where ingress-nginx does not verify (a warning says so); AJP and FCGI skip the path"},
	{Name: "proxy-body-size", Support: Supported, Onto: "backend.buffering.maxRequestBodyBytes", Note: "nginx sizes (8m, 1g, 512k); 0 is unlimited; a larger body gets 413", set: bodySize},
	{Name: "proxy-read-timeout", Support: Partly, Onto: "backend.responseHeaderTimeout", Note: "seconds; bounds the wait for the backend's response head (nginx: between two reads, the edge streams after the head)", set: seconds(lResponseHeaderTimeout)},
	{Name: "proxy-connect-timeout", Support: Partly, Onto: "DialTimeout", Note: "seconds; bounds connecting to the route's backends below the edge's own dial timeout (30 s; a longer value keeps it), and another backend is tried when a connection fails; HTTP/2 (gRPC) backends keep the edge's"},
	{Name: "proxy-send-timeout", Support: Partly, warn: true, Note: "not applied per route: the edge streams the request body and bounds the exchange with TRAEFIK_TIMEOUT_* settings"},
	{Name: "load-balance", Support: Differently, Onto: "backend.loadbalancer.method", Note: "round_robin is wrr, ewma is drr (fewest requests in flight); others are a warning and use wrr", set: loadBalance},
	{Name: "upstream-hash-by", Support: Refused, Note: "not supported: use affinity: cookie for stickiness"},
	{Name: "service-upstream", Support: Supported, Onto: "Servers", Note: "the Service's cluster IP and port are the one server (kube-proxy balances); stickiness and the edge's retries then see one server. A headless Service keeps its endpoints"},
	{Name: "proxy-next-upstream", Support: Differently, Note: "the edge retries once on another backend only when the connection failed before the request was sent"},
	{Name: "proxy-next-upstream-timeout", Support: Differently, Note: "as proxy-next-upstream"},
	{Name: "proxy-next-upstream-tries", Support: Differently, Note: "as proxy-next-upstream"},
	{Name: "proxy-request-buffering", Support: Differently, Note: "the edge streams request bodies and never buffers them"},
	{Name: "proxy-buffering", Support: Differently, Note: "the edge streams responses and never buffers them"},
	{Name: "proxy-buffers-number", Support: Differently, Note: "nothing to tune: the edge streams"},
	{Name: "proxy-buffer-size", Support: Differently, Note: "nothing to tune: the edge streams"},
	{Name: "proxy-max-temp-file-size", Support: Differently, Note: "nothing to tune: the edge never writes bodies to disk"},
	{Name: "client-body-buffer-size", Support: Differently, Note: "nothing to tune: the edge streams request bodies"},
	{Name: "proxy-http-version", Support: Differently, Note: "the edge speaks HTTP/1.1 to backends"},
	{Name: "connection-proxy-header", Support: Refused, Note: "not supported: the edge manages backend connections itself (keep-alive pools, upgrades)"},
	{Name: "proxy-cookie-domain", Support: Refused, Note: "not supported: set the cookie domain in the backend"},
	{Name: "proxy-cookie-path", Support: Refused, Note: "not supported: set the cookie path in the backend"},
	{Name: "proxy-redirect-from", Support: Refused, Note: "not supported: make the backend write the public URL (it gets X-Forwarded-Host, -Proto and -Prefix)"},
	{Name: "proxy-redirect-to", Support: Refused, Note: "as proxy-redirect-from"},
	{Name: "proxy-ssl-secret", Support: Refused, Note: "not supported: the edge verifies HTTPS backends against the system roots; client certificates to backends are not offered"},
	{Name: "proxy-ssl-verify", Support: Refused, Note: "as proxy-ssl-secret"},
	{Name: "proxy-ssl-verify-depth", Support: Refused, Note: "as proxy-ssl-secret"},
	{Name: "proxy-ssl-ciphers", Support: Refused, Note: "not supported: Go's TLS chooses safe ciphers"},
	{Name: "proxy-ssl-protocols", Support: Refused, Note: "not supported: Go's TLS chooses safe versions"},
	{Name: "proxy-ssl-name", Support: Refused, Note: "not supported: the backend's address is the server name"},
	{Name: "proxy-ssl-server-name", Support: Refused, Note: "as proxy-ssl-name"},
	{Name: "default-backend", Support: Partly, Note: "a Service of the Ingress's namespace (its first port) whose endpoints answer while the path's Service has none ready; the error pages of custom-http-errors are not taken from it"},
	{Name: "custom-http-errors", Support: Refused, Note: "not supported on Ingresses: error pages are a Traefik label feature (traefik.frontend.errors.*)"},
	{Name: "mirror-target", Support: Refused, Note: "not supported: request mirroring is not implemented"},
	{Name: "mirror-request-body", Support: Refused, Note: "as mirror-target"},
	{Name: "mirror-host", Support: Refused, Note: "as mirror-target"},

	// Access.
	{Name: "whitelist-source-range", Support: Supported, Onto: "frontend.whiteList.sourceRange", Note: "comma-separated CIDRs or addresses; others get 403"},
	{Name: "allowlist-source-range", Support: Supported, Onto: "frontend.whiteList.sourceRange", Note: "the newer name of whitelist-source-range"},
	{Name: "denylist-source-range", Support: Supported, Onto: "frontend.whiteList.sourceRange", Note: "turned into the allow list of every other address (with an allow list: those ranges less the denied), so denied clients get 403"},
	{Name: "limit-rps", Support: Differently, Onto: "frontend.rateLimit", Note: "per client address, burst rps × limit-burst-multiplier (5); over it the edge answers 429 (nginx 503)"},
	{Name: "limit-rpm", Support: Differently, Onto: "frontend.rateLimit", Note: "as limit-rps, per minute"},
	{Name: "limit-burst-multiplier", Support: Supported, Onto: "frontend.rateLimit", Note: "burst of limit-rps and limit-rpm"},
	{Name: "limit-connections", Support: Differently, Onto: "backend.maxconn", Note: "requests in flight per client address; over it the edge answers 429 (nginx 503)", set: limitConnections},
	{Name: "limit-whitelist", Support: Refused, Note: "not supported: rate limits apply to every client"},
	{Name: "limit-allowlist", Support: Refused, Note: "as limit-whitelist"},
	{Name: "limit-rate", Support: Refused, Note: "not supported: bandwidth limits are not implemented"},
	{Name: "limit-rate-after", Support: Refused, Note: "as limit-rate"},
	{Name: "global-rate-limit", Support: Refused, Note: "not supported: use limit-rps (per replica)"},
	{Name: "global-rate-limit-window", Support: Refused, Note: "as global-rate-limit"},
	{Name: "global-rate-limit-key", Support: Refused, Note: "as global-rate-limit"},
	{Name: "global-rate-limit-ignored-cidrs", Support: Refused, Note: "as global-rate-limit"},

	// Stickiness.
	{Name: "affinity", Support: Supported, Onto: "backend.loadbalancer.stickiness", Note: "cookie (the only type); cookie INGRESSCOOKIE unless session-cookie-name"},
	{Name: "affinity-mode", Support: Differently, Note: "the edge keeps a client on its server while that server is ready (persistent); balanced is not distinguished"},
	{Name: "affinity-canary-behavior", Support: Differently, Note: "the sticky cookie covers the canary's servers too (sticky)"},
	{Name: "session-cookie-name", Support: Supported, Onto: "backend.loadbalancer.stickiness.cookieName", set: copyTo(lStickinessCookie)},
	{Name: "session-cookie-samesite", Support: Supported, Onto: "backend.loadbalancer.stickiness.sameSite", Note: "None, Lax or Strict", set: sameSite},
	{Name: "session-cookie-secure", Support: Supported, Onto: "backend.loadbalancer.stickiness.secure", set: copyTo(lStickinessSecure)},
	{Name: "session-cookie-path", Support: Supported, Onto: "LoadBalancer.CookiePath", Note: "default /"},
	{Name: "session-cookie-max-age", Support: Supported, Onto: "LoadBalancer.CookieMaxAge", Note: "seconds; default: the browser session"},
	{Name: "session-cookie-expires", Support: Differently, Onto: "LoadBalancer.CookieMaxAge", Note: "seconds, sent as Max-Age (which browsers prefer); session-cookie-max-age wins"},
	{Name: "session-cookie-change-on-failure", Support: Differently, Note: "always: a client whose server failed is pinned to the one that answered"},
	{Name: "session-cookie-conditional-samesite-none", Support: Refused, Note: "not supported: set session-cookie-samesite"},

	// Authentication.
	{Name: "auth-type", Support: Partly, Onto: "frontend.auth.basic.users", Note: "basic; digest fails closed (the paths are not served)"},
	{Name: "auth-secret", Support: Partly, Onto: "frontend.auth.basic.users", Note: "a Secret in the Ingress's namespace (namespace/name elsewhere fails closed), read by name — never listed — and re-read every 30 s"},
	{Name: "auth-secret-type", Support: Supported, Onto: "frontend.auth.basic.users", Note: "auth-file (htpasswd lines under the key auth) or auth-map (user: hash keys)"},
	{Name: "auth-realm", Support: Supported, Onto: "Auth.Realm", Note: "the realm of the basic challenge (default traefik)"},
	{Name: "auth-url", Support: Supported, Onto: "frontend.auth.forward.address", Note: "external authentication (oauth2-proxy…): a GET with the request's headers and X-Forwarded-Method/-Proto/-Host/-Uri; 2xx lets it through. $host (the rule's exact host) and $scheme (https) are replaced; other variables, or $host under a wildcard or without a host, fail closed", set: copyTo(lAuthForwardAddress)},
	{Name: "auth-signin", Support: Supported, Onto: "ForwardAuth.SignIn", Note: "a 401 from auth-url sends the client here (302) with rd=<its URL>; $host, $scheme, $request_uri, $escaped_request_uri are replaced"},
	{Name: "auth-response-headers", Support: Supported, Onto: "frontend.auth.forward.authResponseHeaders", Note: "copied from the authentication answer into the request", set: copyTo(lAuthForwardResponseHeaders)},
	{Name: "auth-method", Support: Partly, Note: "the edge asks with GET; another method is a warning"},
	{Name: "auth-signin-redirect-param", Support: Refused, Note: "not supported: the parameter is rd"},
	{Name: "auth-request-redirect", Support: Refused, Note: "not supported: the authentication server gets X-Forwarded-Uri and -Host"},
	{Name: "auth-cache-key", Support: Refused, Note: "not supported: every request is asked about"},
	{Name: "auth-cache-duration", Support: Refused, Note: "as auth-cache-key"},
	{Name: "auth-proxy-set-headers", Support: Refused, Note: "not supported: the authentication server gets the request's own headers"},
	{Name: "auth-keepalive", Support: Differently, Note: "the edge keeps connections to the authentication server alive"},
	{Name: "auth-keepalive-requests", Support: Differently, Note: "as auth-keepalive"},
	{Name: "auth-keepalive-timeout", Support: Differently, Note: "as auth-keepalive"},
	{Name: "auth-always-set-cookie", Support: Refused, Note: "not supported: Set-Cookie of a 2xx authentication answer is not passed on; list it in auth-response-headers to reach the backend"},
	{Name: "enable-global-auth", Support: Differently, Note: "the edge has no global external authentication"},
	{Name: "satisfy", Support: Refused, failClosed: true, Note: "not supported: the edge requires every authentication; with any the paths are not served (it would change who gets in)"},
	{Name: "auth-tls-secret", Support: Refused, failClosed: true, Note: "not supported per Ingress: client certificates are asked on the whole HTTPS entry point with TRAEFIK_SSL_CLIENT_CA; the paths are not served rather than served without the check"},
	{Name: "auth-tls-verify-client", Support: Refused, failClosed: true, Note: "as auth-tls-secret"},
	{Name: "auth-tls-verify-depth", Support: Refused, Note: "as auth-tls-secret"},
	{Name: "auth-tls-error-page", Support: Refused, Note: "as auth-tls-secret"},
	{Name: "auth-tls-pass-certificate-to-upstream", Support: Refused, Note: "not supported: use the Traefik label traefik.frontend.passTLSClientCert.pem"},
	{Name: "auth-tls-match-cn", Support: Refused, failClosed: true, Note: "as auth-tls-secret"},

	// CORS.
	{Name: "enable-cors", Support: Supported, Onto: "CORS", Note: "a matching request gets the Access-Control-* headers (replacing the backend's); an OPTIONS preflight is answered 204 by the edge, before authentication"},
	{Name: "cors-allow-origin", Support: Supported, Onto: "CORS.AllowOrigins", Note: "default *; origins and single-label wildcards (https://*.foo.bar), a matching Origin is echoed back"},
	{Name: "cors-allow-methods", Support: Supported, Onto: "CORS.AllowMethods", Note: "default GET, PUT, POST, DELETE, PATCH, OPTIONS"},
	{Name: "cors-allow-headers", Support: Supported, Onto: "CORS.AllowHeaders", Note: "default DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"},
	{Name: "cors-expose-headers", Support: Supported, Onto: "CORS.ExposeHeaders"},
	{Name: "cors-allow-credentials", Support: Supported, Onto: "CORS.AllowCredentials", Note: "default true"},
	{Name: "cors-max-age", Support: Supported, Onto: "CORS.MaxAge", Note: "default 1728000"},

	// Canary.
	{Name: "canary", Support: Supported, Onto: "Servers", Note: "true: the Ingress adds its backend to the route of the Ingress with the same host and path instead of routing itself"},
	{Name: "canary-weight", Support: Supported, Onto: "Servers weights", Note: "percentage (of canary-weight-total) of requests to the canary"},
	{Name: "canary-weight-total", Support: Supported, Onto: "Servers weights", Note: "default 100"},
	{Name: "canary-by-header", Support: Supported, Onto: "rule Headers", Note: "header value always: the canary; never: the primary; other values fall through to the weight"},
	{Name: "canary-by-header-value", Support: Supported, Onto: "rule Headers", Note: "this value (instead of always) picks the canary"},
	{Name: "canary-by-header-pattern", Support: Supported, Onto: "rule HeadersRegexp", Note: "RE2 instead of PCRE"},
	{Name: "canary-by-cookie", Support: Supported, Onto: "rule HeadersRegexp on Cookie", Note: "cookie value always or never, as canary-by-header"},

	// Snippets: refused.
	{Name: "configuration-snippet", Support: Refused, Note: snippetNote},
	{Name: "server-snippet", Support: Refused, Note: snippetNote},
	{Name: "auth-snippet", Support: Refused, Note: snippetNote},
	{Name: "stream-snippet", Support: Refused, Note: snippetNote},
	{Name: "modsecurity-snippet", Support: Refused, Note: snippetNote},

	// Server-wide and observability.
	{Name: "server-alias", Support: Supported, Onto: "rule Host", Note: "comma-separated names the Ingress's rules answer for too; a name another Ingress has is left to it. HTTPS for them needs a certificate that covers them (they are not ordered by ACME)"},
	{Name: "ssl-passthrough", Support: Refused, Note: "not supported: the edge terminates TLS; serve the backend over HTTP or with backend-protocol: HTTPS"},
	{Name: "ssl-ciphers", Support: Refused, Note: "not supported: Go's TLS chooses safe ciphers"},
	{Name: "ssl-prefer-server-ciphers", Support: Refused, Note: "as ssl-ciphers"},
	{Name: "http2-push-preload", Support: Refused, Note: "not supported: browsers removed HTTP/2 push"},
	{Name: "custom-headers", Support: Refused, Note: "not supported: ConfigMaps are not read; use the custom-response-headers annotation (ingress.kubernetes.io/)"},
	{Name: "enable-access-log", Support: Differently, Note: "the edge's access log is set for the whole edge"},
	{Name: "enable-rewrite-log", Support: Differently, Note: "nothing to log: rewrites are in the rule"},
	{Name: "enable-opentracing", Support: Refused, Note: "not supported: tracing is not implemented; the edge exports Prometheus metrics"},
	{Name: "opentracing-trust-incoming-span", Support: Refused, Note: "as enable-opentracing"},
	{Name: "enable-opentelemetry", Support: Refused, Note: "as enable-opentracing"},
	{Name: "opentelemetry-trust-incoming-span", Support: Refused, Note: "as enable-opentracing"},
	{Name: "enable-influxdb", Support: Refused, Note: "not supported: the edge exports Prometheus metrics"},
	{Name: "influxdb-measurement", Support: Refused, Note: "as enable-influxdb"},
	{Name: "influxdb-port", Support: Refused, Note: "as enable-influxdb"},
	{Name: "influxdb-host", Support: Refused, Note: "as enable-influxdb"},
	{Name: "influxdb-server-name", Support: Refused, Note: "as enable-influxdb"},
	{Name: "enable-modsecurity", Support: Refused, Note: "not supported: no web application firewall; put one in front of or behind the edge"},
	{Name: "enable-owasp-core-rules", Support: Refused, Note: "as enable-modsecurity"},
	{Name: "modsecurity-transaction-id", Support: Refused, Note: "as enable-modsecurity"},
}

// nginxKeys indexes [NginxAnnotations] by name.
var nginxKeys = func() map[string]*NginxAnnotation {
	m := make(map[string]*NginxAnnotation, len(NginxAnnotations))
	for i := range NginxAnnotations {
		m[NginxAnnotations[i].Name] = &NginxAnnotations[i]
	}
	return m
}()

// AnnotationProblem is what the edge says about one annotation of an
// Ingress.
type AnnotationProblem struct {
	Annotation string
	// Skip means the Ingress must not be served (a protection the edge
	// cannot give); otherwise the rest of the Ingress serves.
	Skip    bool
	Message string
}

// Annotated is what an Ingress's annotations say, read through
// [Annotations] and [NginxAnnotations].
type Annotated struct {
	// Labels are the Traefik labels the annotations set.
	Labels map[string]string
	// Provider holds, by full annotation name, the values the Kubernetes
	// provider applies itself.
	Provider map[string]string
	// CORS is enable-cors with its settings; nil when off.
	CORS *route.CORS
	// Problems, sorted by annotation.
	Problems []AnnotationProblem
}

// ReadAnnotations reads every annotation the edge knows of on an Ingress:
// Traefik 1.7's (see [FromAnnotations]) and ingress-nginx's. A Traefik
// label set by both kinds keeps the Traefik annotation's value.
func ReadAnnotations(ann map[string]string) Annotated {
	lbls, prov, unknown := FromAnnotations(ann)
	a := Annotated{Labels: lbls, Provider: prov}
	if a.Labels == nil {
		a.Labels = map[string]string{}
	}
	if a.Provider == nil {
		a.Provider = map[string]string{}
	}
	for _, name := range unknown {
		a.Problems = append(a.Problems, AnnotationProblem{Annotation: name, Message: "annotation " + name + " is not supported by the edge and was ignored"})
	}
	nl := map[string]string{}
	var names []string
	for name := range ann {
		if strings.HasPrefix(name, NginxPrefix) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		v := strings.TrimSpace(ann[name])
		key := strings.TrimPrefix(name, NginxPrefix)
		row := nginxKeys[key]
		switch {
		case row == nil:
			a.Problems = append(a.Problems, AnnotationProblem{Annotation: name, Message: "annotation " + name + " is not an ingress-nginx annotation the edge knows; it was ignored (see the annotation table in docs/kubernetes.md)"})
		case row.Support == Refused:
			msg := "annotation " + name + " " + row.Note
			if !strings.HasPrefix(row.Note, "refused") && !strings.HasPrefix(row.Note, "not supported") {
				msg = "annotation " + name + " is not supported (" + row.Note + ")"
			}
			if row.failClosed && !(key == "auth-tls-verify-client" && v == "off") && !(key == "satisfy" && v == "all") {
				a.Problems = append(a.Problems, AnnotationProblem{Annotation: name, Skip: true, Message: "skipped: " + msg})
				continue
			}
			a.Problems = append(a.Problems, AnnotationProblem{Annotation: name, Message: msg})
		case row.warn:
			a.Problems = append(a.Problems, AnnotationProblem{Annotation: name, Message: "annotation " + name + ": " + row.Note})
		case row.set != nil:
			if err := row.set(v, nl); err != nil {
				a.Problems = append(a.Problems, AnnotationProblem{Annotation: name, Message: "annotation " + name + " " + err.Error() + "; ignored"})
			}
		default:
			a.Provider[name] = v
		}
	}
	nginxCombined(ann, nl, &a)
	for k, v := range nl {
		if _, set := a.Labels[k]; !set {
			a.Labels[k] = v
		} else if k == lCustomRequestHeaders || k == lCustomResponseHeaders {
			a.Labels[k] += "||" + v
		}
	}
	slices.SortStableFunc(a.Problems, func(x, y AnnotationProblem) int { return strings.Compare(x.Annotation, y.Annotation) })
	return a
}

// NginxMarkdown renders [NginxAnnotations] as the table docs/kubernetes.md
// carries (a test keeps them equal).
func NginxMarkdown() string {
	var b strings.Builder
	b.WriteString("| annotation (`" + NginxPrefix + "`) | support | onto | notes |\n|---|---|---|---|\n")
	for _, a := range NginxAnnotations {
		support := string(a.Support)
		if a.failClosed {
			support += ", fails closed"
		}
		onto := ""
		if a.Onto != "" {
			onto = "`" + a.Onto + "`"
		}
		b.WriteString("| `" + a.Name + "` | " + support + " | " + onto + " | " + escapeCell(a.Note) + " |\n")
	}
	return b.String()
}

// NginxLookup returns the row of an annotation under [NginxPrefix].
func NginxLookup(name string) (NginxAnnotation, bool) {
	if a := nginxKeys[strings.TrimPrefix(name, NginxPrefix)]; a != nil && strings.HasPrefix(name, NginxPrefix) {
		return *a, true
	}
	return NginxAnnotation{}, false
}
