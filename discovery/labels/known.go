package labels

import (
	"strings"
)

// Supported label names, normalised (segment labels are looked up under
// these names too).
const (
	lEnable   = "traefik.enable"
	lPort     = "traefik.port"
	lProtocol = "traefik.protocol"
	lWeight   = "traefik.weight"
	lBackend  = "traefik.backend"
	lDomain   = "traefik.domain"
	lTags     = "traefik.tags"

	lRule           = "traefik.frontend.rule"
	lPriority       = "traefik.frontend.priority"
	lPassHostHeader = "traefik.frontend.passHostHeader"
	lEntryPoints    = "traefik.frontend.entryPoints"

	lRedirectEntryPoint  = "traefik.frontend.redirect.entryPoint"
	lRedirectRegex       = "traefik.frontend.redirect.regex"
	lRedirectReplacement = "traefik.frontend.redirect.replacement"
	lRedirectPermanent   = "traefik.frontend.redirect.permanent"

	lAuthPrefix           = "traefik.frontend.auth."
	lAuthBasic            = "traefik.frontend.auth.basic"
	lAuthBasicUsers       = "traefik.frontend.auth.basic.users"
	lAuthBasicRemove      = "traefik.frontend.auth.basic.removeHeader"
	lAuthHeaderField      = "traefik.frontend.auth.headerField"
	lAuthBasicUsersFile   = "traefik.frontend.auth.basic.usersFile"
	lAuthDigestPrefix     = "traefik.frontend.auth.digest."
	lAuthForwardPrefix    = "traefik.frontend.auth.forward."
	lWhiteListSourceRange = "traefik.frontend.whiteList.sourceRange"
	lWhiteListXFF         = "traefik.frontend.whiteList.useXForwardedFor"
	lWhitelistDeprecated  = "traefik.frontend.whitelistSourceRange"

	lHeadersPrefix           = "traefik.frontend.headers."
	lCustomRequestHeaders    = "traefik.frontend.headers.customRequestHeaders"
	lCustomResponseHeaders   = "traefik.frontend.headers.customResponseHeaders"
	lSSLProxyHeaders         = "traefik.frontend.headers.SSLProxyHeaders"
	lAllowedHosts            = "traefik.frontend.headers.allowedHosts"
	lHostsProxyHeaders       = "traefik.frontend.headers.hostsProxyHeaders"
	lSSLRedirect             = "traefik.frontend.headers.SSLRedirect"
	lSSLTemporaryRedirect    = "traefik.frontend.headers.SSLTemporaryRedirect"
	lSSLForceHost            = "traefik.frontend.headers.SSLForceHost"
	lSSLHost                 = "traefik.frontend.headers.SSLHost"
	lSTSSeconds              = "traefik.frontend.headers.STSSeconds"
	lSTSIncludeSubdomains    = "traefik.frontend.headers.STSIncludeSubdomains"
	lSTSPreload              = "traefik.frontend.headers.STSPreload"
	lForceSTSHeader          = "traefik.frontend.headers.forceSTSHeader"
	lFrameDeny               = "traefik.frontend.headers.frameDeny"
	lCustomFrameOptionsValue = "traefik.frontend.headers.customFrameOptionsValue"
	lContentTypeNosniff      = "traefik.frontend.headers.contentTypeNosniff"
	lBrowserXSSFilter        = "traefik.frontend.headers.browserXSSFilter"
	lCustomBrowserXSSValue   = "traefik.frontend.headers.customBrowserXSSValue"
	lContentSecurityPolicy   = "traefik.frontend.headers.contentSecurityPolicy"
	lPublicKey               = "traefik.frontend.headers.publicKey"
	lReferrerPolicy          = "traefik.frontend.headers.referrerPolicy"
	lIsDevelopment           = "traefik.frontend.headers.isDevelopment"

	lLBMethod           = "traefik.backend.loadbalancer.method"
	lLBSticky           = "traefik.backend.loadbalancer.sticky"
	lStickiness         = "traefik.backend.loadbalancer.stickiness"
	lStickinessCookie   = "traefik.backend.loadbalancer.stickiness.cookieName"
	lStickinessSecure   = "traefik.backend.loadbalancer.stickiness.secure"
	lStickinessHTTPOnly = "traefik.backend.loadbalancer.stickiness.httpOnly"
	lStickinessSameSite = "traefik.backend.loadbalancer.stickiness.sameSite"

	lHealthCheckPrefix   = "traefik.backend.healthcheck."
	lHealthCheckPath     = "traefik.backend.healthcheck.path"
	lHealthCheckPort     = "traefik.backend.healthcheck.port"
	lHealthCheckInterval = "traefik.backend.healthcheck.interval"
	lHealthCheckTimeout  = "traefik.backend.healthcheck.timeout"
	lHealthCheckScheme   = "traefik.backend.healthcheck.scheme"
	lHealthCheckHostname = "traefik.backend.healthcheck.hostname"
	lHealthCheckHeaders  = "traefik.backend.healthcheck.headers"
)

// supported lists every label the edge implements. A traefik.* label not in
// here produces a warning.
var supported = map[string]bool{
	lEnable: true, lPort: true, lProtocol: true, lWeight: true, lBackend: true, lDomain: true, lTags: true,
	lRule: true, lPriority: true, lPassHostHeader: true, lEntryPoints: true,
	lRedirectEntryPoint: true, lRedirectRegex: true, lRedirectReplacement: true, lRedirectPermanent: true,
	lAuthBasic: true, lAuthBasicUsers: true, lAuthBasicRemove: true, lAuthHeaderField: true,
	lWhiteListSourceRange: true, lWhiteListXFF: true, lWhitelistDeprecated: true,
	lCustomRequestHeaders: true, lCustomResponseHeaders: true, lSSLProxyHeaders: true,
	lAllowedHosts: true, lHostsProxyHeaders: true,
	lSSLRedirect: true, lSSLTemporaryRedirect: true, lSSLForceHost: true, lSSLHost: true,
	lSTSSeconds: true, lSTSIncludeSubdomains: true, lSTSPreload: true, lForceSTSHeader: true,
	lFrameDeny: true, lCustomFrameOptionsValue: true, lContentTypeNosniff: true,
	lBrowserXSSFilter: true, lCustomBrowserXSSValue: true, lContentSecurityPolicy: true,
	lPublicKey: true, lReferrerPolicy: true, lIsDevelopment: true,
	lLBMethod: true, lLBSticky: true, lStickiness: true, lStickinessCookie: true,
	lStickinessSecure: true, lStickinessHTTPOnly: true, lStickinessSameSite: true,
	lHealthCheckPath: true, lHealthCheckPort: true, lHealthCheckInterval: true, lHealthCheckTimeout: true,
	lHealthCheckScheme: true, lHealthCheckHostname: true, lHealthCheckHeaders: true,
}

// supportedFold maps lower-cased names to their spelling, to suggest the
// right case: Traefik's label lookups were case-sensitive, so
// "traefik.frontend.headers.sslRedirect" never worked there either.
var supportedFold = func() map[string]string {
	m := make(map[string]string, len(supported))
	for k := range supported {
		m[strings.ToLower(k)] = k
	}
	return m
}()

// failClosed reports whether an unsupported label would have protected the
// route in Traefik. Serving such a route without the protection would open
// it to everyone, so the segment is skipped instead of warned about.
func failClosed(key string) bool {
	return key == lAuthBasicUsersFile ||
		strings.HasPrefix(key, lAuthDigestPrefix) ||
		strings.HasPrefix(key, lAuthForwardPrefix)
}

// unsupportedMessage explains why a label is ignored, with a hint when the
// name differs from a supported one only by case or when it is a segment
// property Traefik never read.
func unsupportedMessage(name, key string) string {
	if right, ok := supportedFold[strings.ToLower(key)]; ok {
		return "label " + name + " is not supported and was ignored (did you mean " + right + "?)"
	}
	if seg, _, ok := strings.Cut(strings.TrimPrefix(name, prefix), "."); ok && name == key &&
		!strings.HasPrefix(name, prefixFrontend) && !strings.HasPrefix(name, prefixBackend) &&
		supported[prefix+strings.TrimPrefix(name, prefix+seg+".")] {
		return "label " + name + " is not supported and was ignored (only port, weight, protocol, backend and frontend.* can be set per segment)"
	}
	return "label " + name + " is not supported by the edge and was ignored"
}
