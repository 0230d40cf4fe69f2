package labels

import (
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rancher-edge/edge/route"
)

// priority reads traefik.frontend.priority; zero (the default) lets the
// edge use the rule length, as Traefik 1.x does. An unparsable value falls
// back to the rule length with a warning, as Traefik's GetIntValue did, so
// a route Traefik served is still served.
func (sb *segBuilder) priority() int {
	raw := sb.ls.str(lPriority)
	if raw == "" {
		return 0
	}
	v, err := strconv.Atoi(raw)
	if err != nil {
		sb.warn("%s %q is not a number; using the rule's length, as Traefik did", sb.ls.name(lPriority), raw)
		return 0
	}
	return v
}

// redirect is Traefik 1.7 label.GetRedirect: an entry point wins over a
// regex, and a regex without a replacement does nothing.
func (sb *segBuilder) redirect() *route.Redirect {
	permanent := sb.boolean(lRedirectPermanent, false)
	entryPoint := sb.ls.str(lRedirectEntryPoint)
	regex, replacement := sb.ls.str(lRedirectRegex), sb.ls.str(lRedirectReplacement)
	if entryPoint != "" {
		if regex != "" {
			sb.warn("%s is ignored because %s is set", sb.ls.name(lRedirectRegex), sb.ls.name(lRedirectEntryPoint))
		}
		return &route.Redirect{EntryPoint: entryPoint, Permanent: permanent}
	}
	switch {
	case regex == "" && replacement == "":
		return nil
	case regex == "":
		sb.warn("%s is ignored: it needs %s", sb.ls.name(lRedirectReplacement), lRedirectRegex)
		return nil
	case replacement == "":
		sb.warn("%s is ignored: it needs %s", sb.ls.name(lRedirectRegex), lRedirectReplacement)
		return nil
	}
	if _, err := regexp.Compile(regex); err != nil {
		sb.fail("%s %q does not compile: %v", sb.ls.name(lRedirectRegex), regex, err)
		return nil
	}
	return &route.Redirect{Regex: regex, Replacement: replacement, Permanent: permanent}
}

// whiteList is Traefik 1.7 label.GetWhiteList: the current labels win, the
// deprecated whitelistSourceRange is used only without them and never with
// X-Forwarded-For.
func (sb *segBuilder) whiteList() *route.WhiteList {
	key := lWhiteListSourceRange
	ranges := splitCSV(sb.ls.str(key))
	useXFF := false
	if len(ranges) > 0 {
		useXFF = sb.boolean(lWhiteListXFF, false)
		if sb.ls.has(lWhitelistDeprecated) {
			sb.warn("deprecated %s is ignored because %s is set", sb.ls.name(lWhitelistDeprecated), sb.ls.name(lWhiteListSourceRange))
		}
	} else {
		key = lWhitelistDeprecated
		ranges = splitCSV(sb.ls.str(key))
	}
	if len(ranges) == 0 {
		return nil
	}
	for _, r := range ranges {
		if _, err := netip.ParsePrefix(r); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(r); err == nil {
			continue
		}
		sb.fail("%s: %q is neither a CIDR nor an IP address", sb.ls.name(key), r)
		return nil
	}
	return &route.WhiteList{SourceRange: ranges, UseXForwardedFor: useXFF}
}

// headers is Traefik 1.7 label.GetHeaders; nil when no header label is
// set. Header values may hold tokens, so messages never quote them.
func (sb *segBuilder) headers() *route.Headers {
	if !sb.ls.hasPrefix(lHeadersPrefix) {
		return nil
	}
	h := &route.Headers{
		CustomRequestHeaders:    sb.headerMap(lCustomRequestHeaders),
		CustomResponseHeaders:   sb.headerMap(lCustomResponseHeaders),
		SSLProxyHeaders:         sb.headerMap(lSSLProxyHeaders),
		AllowedHosts:            splitCSV(sb.ls.str(lAllowedHosts)),
		HostsProxyHeaders:       splitCSV(sb.ls.str(lHostsProxyHeaders)),
		SSLRedirect:             sb.boolean(lSSLRedirect, false),
		SSLTemporaryRedirect:    sb.boolean(lSSLTemporaryRedirect, false),
		SSLForceHost:            sb.boolean(lSSLForceHost, false),
		SSLHost:                 sb.ls.str(lSSLHost),
		STSSeconds:              sb.int64(lSTSSeconds),
		STSIncludeSubdomains:    sb.boolean(lSTSIncludeSubdomains, false),
		STSPreload:              sb.boolean(lSTSPreload, false),
		ForceSTSHeader:          sb.boolean(lForceSTSHeader, false),
		FrameDeny:               sb.boolean(lFrameDeny, false),
		CustomFrameOptionsValue: sb.ls.str(lCustomFrameOptionsValue),
		ContentTypeNosniff:      sb.boolean(lContentTypeNosniff, false),
		BrowserXSSFilter:        sb.boolean(lBrowserXSSFilter, false),
		CustomBrowserXSSValue:   sb.ls.str(lCustomBrowserXSSValue),
		ContentSecurityPolicy:   sb.ls.str(lContentSecurityPolicy),
		PublicKey:               sb.ls.str(lPublicKey),
		ReferrerPolicy:          sb.ls.str(lReferrerPolicy),
		IsDevelopment:           sb.boolean(lIsDevelopment, false),
	}
	if headersEmpty(h) {
		return nil
	}
	return h
}

// headersEmpty says whether h would change nothing, as Traefik's
// HasSecureHeadersDefined and HasCustomHeadersDefined both being false.
func headersEmpty(h *route.Headers) bool {
	return len(h.CustomRequestHeaders) == 0 && len(h.CustomResponseHeaders) == 0 &&
		len(h.SSLProxyHeaders) == 0 && len(h.AllowedHosts) == 0 && len(h.HostsProxyHeaders) == 0 &&
		!h.SSLRedirect && !h.SSLTemporaryRedirect && !h.SSLForceHost && h.SSLHost == "" &&
		h.STSSeconds == 0 && !h.STSIncludeSubdomains && !h.STSPreload && !h.ForceSTSHeader &&
		!h.FrameDeny && h.CustomFrameOptionsValue == "" && !h.ContentTypeNosniff &&
		!h.BrowserXSSFilter && h.CustomBrowserXSSValue == "" && h.ContentSecurityPolicy == "" &&
		h.PublicKey == "" && h.ReferrerPolicy == "" && !h.IsDevelopment
}

// int64 reads a 64-bit integer label; a bad or negative value gives 0 with
// a warning (Traefik's GetInt64Value).
func (sb *segBuilder) int64(key string) int64 {
	raw := sb.ls.str(key)
	if raw == "" {
		return 0
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || v < 0 {
		sb.warn("%s %q is not a non-negative number; using 0", sb.ls.name(key), raw)
		return 0
	}
	return v
}

// headerMap parses Traefik's map labels, "K:V||K2:V2", canonicalising keys
// with http.CanonicalHeaderKey. A piece without a colon is dropped with a
// warning, as Traefik's ParseMapValue does.
func (sb *segBuilder) headerMap(key string) map[string]string {
	raw := sb.ls.str(key)
	if raw == "" {
		return nil
	}
	out := map[string]string{}
	i := 0
	for piece := range strings.SplitSeq(raw, "||") {
		i++
		k, v, ok := strings.Cut(piece, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			sb.warn("%s: entry %d is not Name:value and was ignored", sb.ls.name(key), i)
			continue
		}
		out[http.CanonicalHeaderKey(k)] = strings.TrimSpace(v)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// passTLSClientCert is Traefik 1.7 label.GetTLSClientCert: .pem and the
// .infos.* booleans; the deprecated traefik.frontend.passTLSCert means .pem.
func (sb *segBuilder) passTLSClientCert() *route.PassTLSClientCert {
	p := &route.PassTLSClientCert{PEM: sb.boolean(lPassClientCertPEM, false) || sb.boolean(lPassTLSCert, false)}
	var keys []string
	for key := range sb.ls {
		if strings.HasPrefix(key, lPassClientCertInfos) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	for _, key := range keys {
		if Lookup(key) != nil && sb.boolean(key, false) {
			p.Infos = append(p.Infos, strings.TrimPrefix(key, lPassClientCertInfos))
		}
	}
	if !p.PEM && len(p.Infos) == 0 {
		return nil
	}
	return p
}
