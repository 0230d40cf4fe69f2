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
	lAuthBasicPrefix      = "traefik.frontend.auth.basic."
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

	lPortIndex   = "traefik.portIndex"
	lPortName    = "traefik.portName"
	lBackendID   = "traefik.backend.id"
	lPassTLSCert = "traefik.frontend.passTLSCert"

	lAuthDigestUsers            = "traefik.frontend.auth.digest.users"
	lAuthDigestUsersFile        = "traefik.frontend.auth.digest.usersFile"
	lAuthDigestRemove           = "traefik.frontend.auth.digest.removeHeader"
	lAuthForwardAddress         = "traefik.frontend.auth.forward.address"
	lAuthForwardTrust           = "traefik.frontend.auth.forward.trustForwardHeader"
	lAuthForwardResponseHeaders = "traefik.frontend.auth.forward.authResponseHeaders"
	lAuthForwardTLSCA           = "traefik.frontend.auth.forward.tls.ca"
	lAuthForwardTLSCAOptional   = "traefik.frontend.auth.forward.tls.caOptional"
	lAuthForwardTLSCert         = "traefik.frontend.auth.forward.tls.cert"
	lAuthForwardTLSKey          = "traefik.frontend.auth.forward.tls.key"
	lAuthForwardTLSInsecure     = "traefik.frontend.auth.forward.tls.insecureSkipVerify"

	lRateLimitExtractor = "traefik.frontend.rateLimit.extractorFunc"
	lRateSetPrefix      = "traefik.frontend.rateLimit.rateSet."
	lRateSetPeriod      = "traefik.frontend.rateLimit.rateSet.<name>.period"
	lRateSetAverage     = "traefik.frontend.rateLimit.rateSet.<name>.average"
	lRateSetBurst       = "traefik.frontend.rateLimit.rateSet.<name>.burst"
	lErrorsPrefix       = "traefik.frontend.errors."
	lErrorsStatus       = "traefik.frontend.errors.<name>.status"
	lErrorsBackend      = "traefik.frontend.errors.<name>.backend"
	lErrorsQuery        = "traefik.frontend.errors.<name>.query"

	lPassClientCertPrefix = "traefik.frontend.passTLSClientCert."
	lPassClientCertPEM    = "traefik.frontend.passTLSClientCert.pem"
	lPassClientCertInfos  = "traefik.frontend.passTLSClientCert.infos."

	lCircuitBreaker       = "traefik.backend.circuitbreaker.expression"
	lMaxConnAmount        = "traefik.backend.maxconn.amount"
	lMaxConnExtractor     = "traefik.backend.maxconn.extractorfunc"
	lBufferingMaxRequest  = "traefik.backend.buffering.maxRequestBodyBytes"
	lBufferingMemRequest  = "traefik.backend.buffering.memRequestBodyBytes"
	lBufferingMaxResponse = "traefik.backend.buffering.maxResponseBodyBytes"
	lBufferingMemResponse = "traefik.backend.buffering.memResponseBodyBytes"
	lBufferingRetry       = "traefik.backend.buffering.retryExpression"
	lFlushInterval        = "traefik.backend.responseForwarding.flushInterval"

	// The edge's own.
	lResponseHeaderTimeout = "traefik.backend.responseHeaderTimeout"
)

// supportedFold maps lower-cased names to their spelling, to suggest the
// right case: Traefik's label lookups were case-sensitive, so
// "traefik.frontend.headers.sslRedirect" never worked there either.
var supportedFold = func() map[string]string {
	m := make(map[string]string, len(Table))
	for _, l := range Table {
		m[strings.ToLower(l.Key)] = l.Key
	}
	return m
}()

// unsupportedMessage explains why a label is ignored, with a hint when the
// name differs from a supported one only by case or when it is a segment
// property Traefik never read.
func unsupportedMessage(name, key string) string {
	if l := Lookup(key); l != nil {
		return "label " + name + " is not supported and was ignored: " + l.Note
	}
	if right, ok := supportedFold[strings.ToLower(key)]; ok {
		return "label " + name + " is not supported and was ignored (did you mean " + right + "?)"
	}
	if seg, _, ok := strings.Cut(strings.TrimPrefix(name, prefix), "."); ok && name == key &&
		!strings.HasPrefix(name, prefixFrontend) && !strings.HasPrefix(name, prefixBackend) &&
		isSupported(prefix+strings.TrimPrefix(name, prefix+seg+".")) {
		return "label " + name + " is not supported and was ignored (only port, weight, protocol, backend and frontend.* can be set per segment)"
	}
	return "label " + name + " is not supported by the edge and was ignored"
}
