package labels

import (
	"slices"
	"strings"
)

// Annotation prefixes of the Traefik 1.7 Kubernetes provider. Traefik read
// every annotation under both (getAnnotationName), and so does the edge.
const (
	AnnotationPrefix       = "traefik.ingress.kubernetes.io/"
	AnnotationLegacyPrefix = "ingress.kubernetes.io/"
)

// Annotation is one Kubernetes Ingress annotation and the Traefik label
// that carries the same setting: an annotation becomes that label and then
// goes through [Build] like any label, so both mean exactly the same.
type Annotation struct {
	// Name is the annotation's documented name.
	Name string
	// Label is the Traefik 1.x label it sets; empty when the Kubernetes
	// provider applies it itself (it shapes the rule or needs a Secret).
	Label string
	// Doc says what it does, for docs/kubernetes.md.
	Doc string
}

// Annotations is the one table of the annotations the edge implements. The
// Kubernetes provider reads it, docs/kubernetes.md is generated from it,
// and an annotation under either prefix that is not in it is a warning on
// its Ingress, never ignored silently.
var Annotations = []Annotation{
	{AnnotationPrefix + "priority", lPriority, "route priority; higher wins (default: host, then path length)"},
	{AnnotationPrefix + "rule-type", "", "matcher for the paths: PathPrefix, Path, PathPrefixStrip, PathStrip, ReplacePath… as in Traefik 1.7; overrides pathType"},
	{AnnotationPrefix + "rewrite-target", "", "replace the matched path prefix with this path before proxying"},
	{AnnotationPrefix + "app-root", "", "redirect requests for / to this path"},
	{AnnotationPrefix + "redirect-entry-point", lRedirectEntryPoint, "redirect to the entry point (https)"},
	{AnnotationPrefix + "redirect-regex", lRedirectRegex, "redirect URLs matching this regexp …"},
	{AnnotationPrefix + "redirect-replacement", lRedirectReplacement, "… to this replacement"},
	{AnnotationPrefix + "redirect-permanent", lRedirectPermanent, "redirect with 301/308 rather than 302/307"},
	{AnnotationLegacyPrefix + "auth-type", "", "basic: HTTP basic authentication with the users of auth-secret; other values skip the path (fails closed) rather than serve it unprotected"},
	{AnnotationLegacyPrefix + "auth-secret", "", "Secret in the Ingress's namespace whose key auth holds htpasswd lines (bcrypt, apr1, {SHA}); read when the routes are rebuilt and every 30 s — never listed; a missing one skips the path"},
	{AnnotationLegacyPrefix + "auth-url", "", "forward authentication: not supported; the path is skipped (fails closed) rather than served unprotected"},
	{AnnotationLegacyPrefix + "auth-remove-header", lAuthBasicRemove, "drop the Authorization header before proxying"},
	{AnnotationLegacyPrefix + "auth-header-field", lAuthHeaderField, "pass the authenticated user to the backend in this header"},
	{AnnotationLegacyPrefix + "whitelist-source-range", lWhiteListSourceRange, "comma-separated CIDRs allowed to use the Ingress"},
	{AnnotationPrefix + "whitelist-x-forwarded-for", lWhiteListXFF, "check X-Forwarded-For against the whitelist too"},
	{AnnotationLegacyPrefix + "custom-request-headers", lCustomRequestHeaders, "request headers to add, Name:value||Name2:value2"},
	{AnnotationLegacyPrefix + "custom-response-headers", lCustomResponseHeaders, "response headers to add, Name:value||Name2:value2"},
	{AnnotationLegacyPrefix + "allowed-hosts", lAllowedHosts, "only these hosts are served"},
	{AnnotationLegacyPrefix + "proxy-headers", lHostsProxyHeaders, "headers that may hold the proxied host name"},
	{AnnotationLegacyPrefix + "ssl-redirect", lSSLRedirect, "redirect to HTTPS (secure headers)"},
	{AnnotationLegacyPrefix + "ssl-temporary-redirect", lSSLTemporaryRedirect, "redirect to HTTPS with 302"},
	{AnnotationLegacyPrefix + "ssl-host", lSSLHost, "host to redirect to for HTTPS"},
	{AnnotationLegacyPrefix + "ssl-force-host", lSSLForceHost, "redirect to ssl-host even on HTTPS"},
	{AnnotationLegacyPrefix + "ssl-proxy-headers", lSSLProxyHeaders, "headers that mark a request as HTTPS, Name:value||…"},
	{AnnotationLegacyPrefix + "hsts-max-age", lSTSSeconds, "Strict-Transport-Security max-age"},
	{AnnotationLegacyPrefix + "hsts-include-subdomains", lSTSIncludeSubdomains, "add includeSubDomains to HSTS"},
	{AnnotationLegacyPrefix + "hsts-preload", lSTSPreload, "add preload to HSTS"},
	{AnnotationLegacyPrefix + "force-hsts", lForceSTSHeader, "send HSTS on plain HTTP too"},
	{AnnotationLegacyPrefix + "frame-deny", lFrameDeny, "X-Frame-Options: DENY"},
	{AnnotationLegacyPrefix + "custom-frame-options-value", lCustomFrameOptionsValue, "X-Frame-Options value"},
	{AnnotationLegacyPrefix + "content-type-nosniff", lContentTypeNosniff, "X-Content-Type-Options: nosniff"},
	{AnnotationLegacyPrefix + "browser-xss-filter", lBrowserXSSFilter, "X-XSS-Protection: 1; mode=block"},
	{AnnotationLegacyPrefix + "custom-browser-xss-value", lCustomBrowserXSSValue, "X-XSS-Protection value"},
	{AnnotationLegacyPrefix + "content-security-policy", lContentSecurityPolicy, "Content-Security-Policy value"},
	{AnnotationLegacyPrefix + "public-key", lPublicKey, "Public-Key-Pins value"},
	{AnnotationLegacyPrefix + "referrer-policy", lReferrerPolicy, "Referrer-Policy value"},
	{AnnotationLegacyPrefix + "is-development", lIsDevelopment, "relax allowed-hosts and the SSL options for development"},
	{AnnotationPrefix + "affinity", lStickiness, "true: sticky sessions with a cookie"},
	{AnnotationPrefix + "session-cookie-name", lStickinessCookie, "name of the sticky cookie"},
	{AnnotationPrefix + "load-balancer-method", lLBMethod, "wrr (weighted round robin) or drr (least outstanding requests)"},
	{AnnotationPrefix + "preserve-host", lPassHostHeader, "pass the client's Host header (default true)"},
	{AnnotationPrefix + "frontend-entry-points", lEntryPoints, "entry points the Ingress is served on: http, https"},
}

// annotationKeys maps the part after either prefix to the table entry.
var annotationKeys = func() map[string]*Annotation {
	m := make(map[string]*Annotation, len(Annotations))
	for i := range Annotations {
		a := &Annotations[i]
		m[annotationKey(a.Name)] = a
	}
	return m
}()

// annotationKey is the name without either prefix, or "" for an
// annotation outside both namespaces.
func annotationKey(name string) string {
	if k, ok := strings.CutPrefix(name, AnnotationPrefix); ok {
		return k
	}
	if k, ok := strings.CutPrefix(name, AnnotationLegacyPrefix); ok {
		return k
	}
	return ""
}

// LookupAnnotation finds the table entry for an annotation under either
// prefix.
func LookupAnnotation(name string) (Annotation, bool) {
	if a := annotationKeys[annotationKey(name)]; a != nil {
		return *a, true
	}
	return Annotation{}, false
}

// FromAnnotations turns an Ingress's annotations into Traefik labels
// through [Annotations]. provider holds the values of the annotations the
// provider applies itself, by their documented name; unknown lists, sorted,
// the annotations under either prefix that the edge does not implement.
// When both spellings of one annotation are set, the traefik.ingress one
// wins, as in Traefik 1.7.
func FromAnnotations(ann map[string]string) (lbls, provider map[string]string, unknown []string) {
	for name, v := range ann {
		key := annotationKey(name)
		if key == "" {
			continue
		}
		a := annotationKeys[key]
		if a == nil {
			unknown = append(unknown, name)
			continue
		}
		if other := otherSpelling(name); other != "" && strings.HasPrefix(other, AnnotationPrefix) {
			if _, both := ann[other]; both {
				continue
			}
		}
		if a.Label == "" {
			if provider == nil {
				provider = map[string]string{}
			}
			provider[a.Name] = v
			continue
		}
		if lbls == nil {
			lbls = map[string]string{}
		}
		lbls[a.Label] = v
	}
	slices.Sort(unknown)
	return lbls, provider, unknown
}

func otherSpelling(name string) string {
	if k, ok := strings.CutPrefix(name, AnnotationPrefix); ok {
		return AnnotationLegacyPrefix + k
	}
	if k, ok := strings.CutPrefix(name, AnnotationLegacyPrefix); ok {
		return AnnotationPrefix + k
	}
	return ""
}

// AnnotationFor names the annotation that sets label, for messages about
// a value that came from an annotation; "" when none does.
func AnnotationFor(label string) string {
	for _, a := range Annotations {
		if a.Label == label && label != "" {
			return a.Name
		}
	}
	return ""
}

// AnnotationsMarkdown renders [Annotations] as the Markdown table
// docs/kubernetes.md carries (a test keeps them equal).
func AnnotationsMarkdown() string {
	var b strings.Builder
	b.WriteString("| annotation | Traefik label | meaning |\n|---|---|---|\n")
	for _, a := range Annotations {
		label := "(applied by the Kubernetes provider)"
		if a.Label != "" {
			label = "`" + a.Label + "`"
		}
		b.WriteString("| `" + a.Name + "` | " + label + " | " + a.Doc + " |\n")
	}
	return b.String()
}
