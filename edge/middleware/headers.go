package middleware

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rancher-edge/edge/route"
)

// Headers applies traefik.frontend.headers.* to requests and responses, as
// Traefik 1.7 did with its own header middleware and unrolled/secure.
//
// Before next runs, in this order:
//   - AllowedHosts: a request whose host (r.Host, or the first non-empty
//     header of HostsProxyHeaders) is not listed gets 400. Names compare
//     case-insensitively, with or without the request's port.
//   - SSLRedirect: a plain-HTTP request is redirected to https://, to
//     SSLHost when set, else to the request's host without its port (the
//     plain-HTTP port is never right for HTTPS). SSLTemporaryRedirect answers
//     307; otherwise 301, or 308 for methods other than GET and HEAD.
//   - SSLForceHost with SSLHost: any request, HTTPS ones included (that is
//     the option's documented point), for another host is redirected to
//     https://SSLHost with the same codes.
//   - CustomRequestHeaders are set; an empty value removes the header.
//     AddRequestHeaders then append their value to what the client sent.
//
// A request is HTTPS when r.TLS is set, when X-Forwarded-Proto is https (the
// edge keeps that header only from trusted proxies), or when one of
// SSLProxyHeaders has its configured value.
//
// On the response, whatever the backend set: Strict-Transport-Security
// (STSSeconds > 0; HTTPS responses only unless ForceSTSHeader), X-Frame-Options
// (CustomFrameOptionsValue, else DENY with FrameDeny), X-Content-Type-Options,
// X-XSS-Protection (CustomBrowserXSSValue, else "1; mode=block" with
// BrowserXSSFilter), Content-Security-Policy, Public-Key-Pins (HTTPS only),
// Referrer-Policy, then CustomResponseHeaders, which win over all of them
// and remove a header when empty; AddResponseHeaders append their value to
// what the backend sent.
//
// IsDevelopment turns off the host check, both redirects, HSTS and HPKP, as
// in unrolled/secure. Invalid names or values (control characters, an SSLHost
// that is not a host, a negative STSSeconds) are errors at construction.
func Headers(cfg route.Headers, next http.Handler) (http.Handler, error) {
	if next == nil {
		return nil, fmt.Errorf("headers: %w", errNoNext)
	}
	h := &headers{
		next:         next,
		sslRedirect:  cfg.SSLRedirect,
		sslTemporary: cfg.SSLTemporaryRedirect,
		sslForceHost: cfg.SSLForceHost && cfg.SSLHost != "",
		dev:          cfg.IsDevelopment,
	}
	var err error
	if h.reqSet, h.reqDel, err = customHeaders(cfg.CustomRequestHeaders); err != nil {
		return nil, fmt.Errorf("headers: custom request headers: %w", err)
	}
	if h.reqAdd, err = addHeaders(cfg.AddRequestHeaders); err != nil {
		return nil, fmt.Errorf("headers: request headers to add: %w", err)
	}
	for _, host := range cfg.AllowedHosts {
		if host = strings.TrimSpace(host); host != "" {
			h.allowedHosts = append(h.allowedHosts, host)
		}
	}
	for _, name := range cfg.HostsProxyHeaders {
		if name = strings.TrimSpace(name); name == "" {
			continue
		} else if !validHeaderName(name) {
			return nil, fmt.Errorf("headers: hosts proxy header %q is not a valid header name", name)
		}
		h.hostHeaders = append(h.hostHeaders, http.CanonicalHeaderKey(name))
	}
	for _, name := range sortedKeys(cfg.SSLProxyHeaders) {
		value := cfg.SSLProxyHeaders[name]
		if !validHeaderName(name) || value == "" {
			// An empty value would match every request lacking the header
			// (unrolled/secure's behaviour), turning off SSLRedirect.
			return nil, fmt.Errorf("headers: SSL proxy header %q needs a valid name and a value", name)
		}
		h.sslHeaders = append(h.sslHeaders, sslHeader{key: http.CanonicalHeaderKey(name), value: value})
	}
	if cfg.SSLHost != "" {
		if u, err := url.Parse("https://" + cfg.SSLHost); err != nil || u.Host != cfg.SSLHost || u.User != nil {
			return nil, fmt.Errorf("headers: SSL host %q is not a host[:port]", cfg.SSLHost)
		}
		h.sslHost = cfg.SSLHost
	}
	if cfg.STSSeconds < 0 {
		return nil, fmt.Errorf("headers: STS seconds %d is negative", cfg.STSSeconds)
	}
	if h.plainResp, h.tlsResp, err = responsePlans(&cfg); err != nil {
		return nil, fmt.Errorf("headers: %w", err)
	}
	return h, nil
}

// headers is the compiled form of a [route.Headers]. It is immutable; the
// value slices it installs are shared by all requests (see headerValue).
type headers struct {
	next http.Handler

	reqSet []headerValue
	reqDel []string
	reqAdd []headerValue

	allowedHosts []string
	hostHeaders  []string // canonical
	sslHeaders   []sslHeader

	sslRedirect  bool
	sslTemporary bool
	sslForceHost bool   // only with an SSLHost
	sslHost      string // "" for the request's own host
	dev          bool

	plainResp responsePlan // for plain-HTTP requests
	tlsResp   responsePlan // for HTTPS requests
}

// sslHeader is one SSLProxyHeaders entry.
type sslHeader struct{ key, value string }

func (h *headers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := h.requestHost(r)
	if !h.dev && len(h.allowedHosts) > 0 && !h.hostAllowed(host) {
		http.Error(w, "400 Bad Host", http.StatusBadRequest)
		return
	}
	secure := h.isSSL(r)
	if !h.dev {
		if h.sslRedirect && !secure {
			target := h.sslHost
			if target == "" {
				target = hostWithoutPort(host)
			}
			h.redirect(w, r, target)
			return
		}
		if h.sslForceHost && !strings.EqualFold(host, h.sslHost) && !strings.EqualFold(hostWithoutPort(host), h.sslHost) {
			h.redirect(w, r, h.sslHost)
			return
		}
	}
	for _, hv := range h.reqSet {
		r.Header[hv.key] = hv.val
	}
	for _, k := range h.reqDel {
		delete(r.Header, k)
	}
	for _, hv := range h.reqAdd {
		r.Header[hv.key] = append(r.Header[hv.key], hv.val[0])
	}
	plan := &h.plainResp
	if secure {
		plan = &h.tlsResp
	}
	if plan.empty() {
		h.next.ServeHTTP(w, r)
		return
	}
	h.next.ServeHTTP(&headerWriter{ResponseWriter: w, plan: plan}, r)
}

// requestHost is the host the client asked for: the first non-empty
// HostsProxyHeaders header, else r.Host.
func (h *headers) requestHost(r *http.Request) string {
	for _, k := range h.hostHeaders {
		if v := r.Header[k]; len(v) > 0 && v[0] != "" {
			return v[0]
		}
	}
	return r.Host
}

func (h *headers) hostAllowed(host string) bool {
	bare := hostWithoutPort(host)
	for _, allowed := range h.allowedHosts {
		if strings.EqualFold(allowed, host) || strings.EqualFold(allowed, bare) {
			return true
		}
	}
	return false
}

// isSSL reports whether the client used HTTPS; see [Headers].
func (h *headers) isSSL(r *http.Request) bool {
	if isHTTPS(r) {
		return true
	}
	for _, s := range h.sslHeaders {
		if v := r.Header[s.key]; len(v) > 0 && strings.EqualFold(v[0], s.value) {
			return true
		}
	}
	return false
}

// redirect sends the client to the same path and query on https://host.
func (h *headers) redirect(w http.ResponseWriter, r *http.Request, host string) {
	if host == "" {
		http.Error(w, "400 Bad Request: missing Host", http.StatusBadRequest)
		return
	}
	code := http.StatusTemporaryRedirect
	if !h.sslTemporary {
		code = redirectCode(r.Method, true)
	}
	location := "https://" + host + requestURI(r)
	w.Header().Set("Location", location)
	http.Error(w, strconv.Itoa(code)+" "+http.StatusText(code)+": "+location, code)
}

// responsePlans precomputes the response headers for plain-HTTP and HTTPS
// requests: security headers first, then the custom ones over them.
func responsePlans(cfg *route.Headers) (plain, tls responsePlan, err error) {
	security := make(map[string]string)
	if cfg.CustomFrameOptionsValue != "" {
		security["X-Frame-Options"] = cfg.CustomFrameOptionsValue
	} else if cfg.FrameDeny {
		security["X-Frame-Options"] = "DENY"
	}
	if cfg.ContentTypeNosniff {
		security["X-Content-Type-Options"] = "nosniff"
	}
	if cfg.CustomBrowserXSSValue != "" {
		security["X-Xss-Protection"] = cfg.CustomBrowserXSSValue
	} else if cfg.BrowserXSSFilter {
		security["X-Xss-Protection"] = "1; mode=block"
	}
	if cfg.ContentSecurityPolicy != "" {
		security["Content-Security-Policy"] = cfg.ContentSecurityPolicy
	}
	if cfg.ReferrerPolicy != "" {
		security["Referrer-Policy"] = cfg.ReferrerPolicy
	}

	// RFC 6797 §7.2: a host must not send HSTS over plain HTTP, where a
	// man in the middle could forge or strip it anyway. ForceSTSHeader is
	// for TLS terminated in front of the edge without a proxy header.
	tlsOnly := make(map[string]string)
	if cfg.STSSeconds > 0 && !cfg.IsDevelopment {
		sts := "max-age=" + strconv.FormatInt(cfg.STSSeconds, 10)
		if cfg.STSIncludeSubdomains {
			sts += "; includeSubDomains"
		}
		if cfg.STSPreload {
			sts += "; preload"
		}
		if cfg.ForceSTSHeader {
			security["Strict-Transport-Security"] = sts
		} else {
			tlsOnly["Strict-Transport-Security"] = sts
		}
	}
	if cfg.PublicKey != "" && !cfg.IsDevelopment {
		tlsOnly["Public-Key-Pins"] = cfg.PublicKey
	}

	plain, err = buildPlan(security, nil, cfg.CustomResponseHeaders)
	if err != nil {
		return responsePlan{}, responsePlan{}, err
	}
	tls, err = buildPlan(security, tlsOnly, cfg.CustomResponseHeaders)
	if err != nil {
		return responsePlan{}, responsePlan{}, err
	}
	add, err := addHeaders(cfg.AddResponseHeaders)
	if err != nil {
		return responsePlan{}, responsePlan{}, fmt.Errorf("response headers to add: %w", err)
	}
	plain.add, tls.add = add, add
	return plain, tls, nil
}

// addHeaders validates headers to append to; an empty value is refused,
// there being nothing to add.
func addHeaders(m map[string]string) ([]headerValue, error) {
	set, del, err := customHeaders(m)
	if err != nil {
		return nil, err
	}
	if len(del) > 0 {
		return nil, fmt.Errorf("header %q: no value to add", del[0])
	}
	return set, nil
}

// buildPlan merges header layers, later ones winning; in custom an empty
// value means delete.
func buildPlan(security, tlsOnly, custom map[string]string) (responsePlan, error) {
	set := make(map[string]string, len(security)+len(tlsOnly)+len(custom))
	for _, layer := range []map[string]string{security, tlsOnly} {
		for k, v := range layer {
			if !validHeaderValue(v) {
				return responsePlan{}, fmt.Errorf("%s value contains control characters", k)
			}
			set[k] = v
		}
	}
	customSet, customDel, err := customHeaders(custom)
	if err != nil {
		return responsePlan{}, fmt.Errorf("custom response headers: %w", err)
	}
	var p responsePlan
	p.del = customDel
	for _, k := range customDel {
		delete(set, k)
	}
	for _, k := range sortedKeys(set) {
		p.set = append(p.set, newHeaderValue(k, set[k]))
	}
	for _, hv := range customSet {
		if i := slices.IndexFunc(p.set, func(x headerValue) bool { return x.key == hv.key }); i >= 0 {
			p.set[i] = hv
		} else {
			p.set = append(p.set, hv)
		}
	}
	return p, nil
}

// customHeaders validates a custom header map and splits it into headers
// to set and (for empty values) to delete, both in a stable order.
func customHeaders(m map[string]string) (set []headerValue, del []string, err error) {
	for _, name := range sortedKeys(m) {
		value := m[name]
		if !validHeaderName(name) {
			return nil, nil, fmt.Errorf("%q is not a valid header name", name)
		}
		if !validHeaderValue(value) {
			return nil, nil, fmt.Errorf("header %q: value contains control characters", name)
		}
		key := http.CanonicalHeaderKey(name)
		if value == "" {
			del = append(del, key)
		} else {
			set = append(set, newHeaderValue(key, value))
		}
	}
	return set, del, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// validHeaderName reports whether s is an RFC 9110 token, the only thing a
// header field name may be.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s can be sent as a header value: no
// control characters other than horizontal tab, which would otherwise let a
// label split the response (CR, LF) or be rejected by the HTTP/2 encoder.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
