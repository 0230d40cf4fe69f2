package middleware

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/rancher-edge/edge/route"
)

// errNoRedirectTarget is returned when a redirect names neither an entry
// point nor a regex.
var errNoRedirectTarget = errors.New("redirect needs an entry point or a regex and a replacement")

// RedirectWithFallback answers requests with a redirect.
//
// With cfg.EntryPoint "https" or "http" (which takes precedence over the
// regex, as in Traefik 1.7) the target keeps the request's host without its
// port, its path and its query, and switches to that scheme. httpPort and
// httpsPort are the edge's listener ports; the target names the port only
// when it is not the scheme's standard one (Traefik 1.7 always wrote it,
// which gives the same redirect with an uglier URL).
//
// Otherwise cfg.Regex is matched against the full request URL,
// scheme://host[:port]/path?query, and cfg.Replacement (with $1 or ${name}
// groups, Go regexp syntax as in Traefik) builds the target.
//
// cfg.Permanent answers 301, or 308 for methods other than GET and HEAD so
// that clients keep the method and body; otherwise 302 or 307.
//
// Requests the redirect does not apply to go to next, as Traefik 1.7 does: a regex that does not match
// or whose replacement leaves the URL unchanged, and an entry-point redirect
// for a request that already arrived on the target scheme (Traefik installs
// the redirect only on other entry points). A nil next answers those 404.
func RedirectWithFallback(cfg route.Redirect, httpPort, httpsPort int, next http.Handler) (http.Handler, error) {
	if next == nil {
		next = http.NotFoundHandler()
	}
	rd := &redirect{permanent: cfg.Permanent, code: cfg.Code, next: next}
	switch cfg.Code {
	case 0, http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, fmt.Errorf("redirect code %d is not one of 301, 302, 303, 307, 308", cfg.Code)
	}
	switch {
	case cfg.EntryPoint != "":
		var port int
		switch strings.ToLower(cfg.EntryPoint) {
		case "https":
			rd.toHTTPS, port, rd.standardPort = true, httpsPort, 443
		case "http":
			port, rd.standardPort = httpPort, 80
		default:
			return nil, fmt.Errorf("redirect entry point %q: only \"http\" and \"https\" exist", cfg.EntryPoint)
		}
		if port < 1 || port > 65535 {
			return nil, fmt.Errorf("redirect to %s: listener port %d out of range", cfg.EntryPoint, port)
		}
		if port != rd.standardPort {
			rd.portSuffix = ":" + strconv.Itoa(port)
		}
	case cfg.Regex != "" && cfg.Replacement != "":
		re, err := regexp.Compile(cfg.Regex)
		if err != nil {
			return nil, fmt.Errorf("redirect regex: %w", err)
		}
		rd.re, rd.replacement = re, cfg.Replacement
	case cfg.Regex != "" || cfg.Replacement != "":
		return nil, fmt.Errorf("redirect needs both a regex and a replacement: %w", errNoRedirectTarget)
	default:
		return nil, errNoRedirectTarget
	}
	return rd, nil
}

// redirect is the compiled form of a [route.Redirect]. It is immutable.
type redirect struct {
	permanent bool
	code      int // when non-zero, for every method
	next      http.Handler

	// Entry-point mode (re == nil).
	toHTTPS      bool
	standardPort int
	portSuffix   string // ":8443", or "" for the standard port

	// Regex mode.
	re          *regexp.Regexp
	replacement string
}

func (rd *redirect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secure := isHTTPS(r)
	if rd.re == nil {
		if secure == rd.toHTTPS {
			rd.next.ServeHTTP(w, r)
			return
		}
		host := hostWithoutPort(r.Host)
		if host == "" {
			http.Error(w, "Bad Request: missing Host", http.StatusBadRequest)
			return
		}
		scheme := "http://"
		if rd.toHTTPS {
			scheme = "https://"
		}
		rd.answer(w, r, scheme+host+rd.portSuffix+requestURI(r))
		return
	}

	scheme := "http://"
	if secure {
		scheme = "https://"
	}
	old := scheme + r.Host + requestURI(r)
	target := rd.re.ReplaceAllString(old, rd.replacement)
	if target == old {
		// Traefik's own loop guard: an unchanged URL is not a redirect.
		rd.next.ServeHTTP(w, r)
		return
	}
	u, err := url.Parse(target)
	if err != nil {
		// The replacement is the operator's; the request only supplied
		// the URL it was applied to, so this is our failure, not theirs.
		http.Error(w, "Internal Server Error: bad redirect target", http.StatusInternalServerError)
		return
	}
	rd.answer(w, r, u.String())
}

// answer writes the redirect itself, with a short plain body for clients
// that show it.
func (rd *redirect) answer(w http.ResponseWriter, r *http.Request, location string) {
	code := redirectCode(r.Method, rd.permanent)
	if rd.code != 0 {
		code = rd.code
	}
	h := w.Header()
	h.Set("Location", location)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = fmt.Fprintf(w, "%d %s: %s\n", code, http.StatusText(code), location)
	}
}

// redirectCode picks the status for a redirect. 301 and 302 let clients turn
// a POST into a GET, so other methods get 308 and 307, which forbid that.
func redirectCode(method string, permanent bool) int {
	safe := method == http.MethodGet || method == http.MethodHead
	switch {
	case permanent && safe:
		return http.StatusMovedPermanently
	case permanent:
		return http.StatusPermanentRedirect
	case safe:
		return http.StatusFound
	default:
		return http.StatusTemporaryRedirect
	}
}

// isHTTPS reports whether the client reached the edge over TLS, directly or
// through a trusted proxy. The edge strips X-Forwarded-Proto from untrusted
// peers before any middleware runs, so the header can be believed here.
func isHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	v := r.Header["X-Forwarded-Proto"]
	return len(v) > 0 && strings.EqualFold(strings.TrimSpace(v[0]), "https")
}

// requestURI returns the path and query as the client sent them. Traefik
// uses the raw request line, which keeps the client's escaping; absolute-form
// request lines and handler-built requests fall back to the parsed URL.
func requestURI(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// hostWithoutPort strips an optional port from a Host header value, keeping
// the brackets of an IPv6 literal so the result can be joined with a port
// again.
func hostWithoutPort(host string) string {
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i > 0 {
			return host[:i+1]
		}
		return host
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host, ':') == i {
		return host[:i]
	}
	return host
}
