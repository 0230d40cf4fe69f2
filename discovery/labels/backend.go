package labels

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/rancher-edge/edge/route"
)

// deprecatedStickyCookie is the cookie name Traefik 1.7 gives the
// deprecated traefik.backend.loadbalancer.sticky (server_configuration.go).
const deprecatedStickyCookie = "_TRAEFIK_BACKEND"

// protocol is the servers' scheme: traefik.protocol, http by default. The
// edge speaks plain HTTP and TLS to backends, nothing else.
func (sb *segBuilder) protocol() string {
	raw := strings.ToLower(sb.ls.str(lProtocol))
	switch raw {
	case "":
		return "http"
	case "http", "https", "h2c", "h2":
		return raw
	}
	sb.fail("%s %q is not http, https, h2c or h2", sb.ls.name(lProtocol), sb.ls.str(lProtocol))
	return "http"
}

// weight is traefik.weight, 1 by default (Traefik ≥ 1.6); 0 drains the
// servers. An unparsable weight is 1 with a warning, as Traefik's
// GetIntValue did; a negative one skips the segment (Traefik's balancer
// refused it).
func (sb *segBuilder) weight() int {
	raw := sb.ls.str(lWeight)
	if raw == "" {
		return 1
	}
	v, err := strconv.Atoi(raw)
	switch {
	case err != nil:
		sb.warn("%s %q is not a number; using 1, as Traefik did", sb.ls.name(lWeight), raw)
		return 1
	case v < 0:
		sb.fail("%s %d is negative", sb.ls.name(lWeight), v)
	}
	return v
}

// loadBalancer reads the traefik.backend.loadbalancer.* labels.
func (sb *segBuilder) loadBalancer() route.LoadBalancer {
	lb := route.LoadBalancer{Method: "wrr"}
	if raw := sb.ls.str(lLBMethod); raw != "" {
		switch m := strings.ToLower(raw); m {
		case "wrr", "drr":
			lb.Method = m
		default:
			sb.fail("%s %q is not wrr or drr", sb.ls.name(lLBMethod), raw)
		}
	}
	stickiness := sb.boolean(lStickiness, false)
	sticky := sb.boolean(lLBSticky, false)
	switch {
	case stickiness:
		lb.Sticky = true
		lb.CookieName = cookieName(sb.ls.str(lStickinessCookie), sb.backendName())
		lb.CookieSecure = sb.boolean(lStickinessSecure, false)
		lb.CookieHTTPOnly = sb.boolean(lStickinessHTTPOnly, false)
		lb.CookieSameSite = sb.sameSite()
	case sticky:
		lb.Sticky = true
		lb.CookieName = deprecatedStickyCookie
	}
	if !stickiness {
		for _, key := range []string{lStickinessCookie, lStickinessSecure, lStickinessHTTPOnly, lStickinessSameSite} {
			if sb.ls.str(key) != "" {
				sb.warn("%s is ignored: it needs %s=true", sb.ls.name(key), lStickiness)
			}
		}
	}
	return lb
}

func (sb *segBuilder) sameSite() string {
	raw := sb.ls.str(lStickinessSameSite)
	switch v := strings.ToLower(raw); v {
	case "", "none", "lax", "strict":
		return v
	}
	sb.warn("%s %q is not none, lax or strict and was ignored", sb.ls.name(lStickinessSameSite), raw)
	return ""
}

// backendName is the backend key Traefik 1.7's Rancher template produced
// ("backend-" + name, §1.6 of the reference); only the sticky cookie's
// default name depends on it, so cookies issued by Traefik keep pinning.
func (sb *segBuilder) backendName() string {
	data := sb.in.DefaultHost
	if data == "" {
		data = sb.in.Service
	}
	label := sb.ls.str(lBackend)
	switch {
	case sb.seg == "" && label != "":
		return "backend-" + normalize(label)
	case sb.seg == "":
		return "backend-" + normalize(data)
	case label != "":
		return "backend-" + normalize(data+"-"+label)
	default:
		return "backend-" + normalize(data+"-"+normalize(data)+"-"+sb.seg)
	}
}

// normalize is Traefik's provider.Normalize: runs of anything but letters
// and digits become one dash.
func normalize(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	}), "-")
}

// cookieName is Traefik 1.7 cookie.GetName: a configured name is sanitised
// to cookie-safe characters; otherwise "_" and the first five hex digits of
// sha1("_TRAEFIK_BACKEND_" + backend).
func cookieName(configured, backend string) string {
	if configured != "" {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
				return r
			case strings.ContainsRune("!#$%&'*+-.^`|~", r):
				return r
			}
			return '_'
		}, configured)
	}
	sum := sha1.Sum([]byte("_TRAEFIK_BACKEND_" + backend))
	return "_" + hex.EncodeToString(sum[:])[:5]
}

// healthCheck is Traefik 1.7 label.GetHealthCheck: the path enables it.
// Bad options fall back to their defaults with a warning; the route still
// serves, only the check is less exact.
func (sb *segBuilder) healthCheck() *route.HealthCheck {
	path := sb.ls.str(lHealthCheckPath)
	if path == "" {
		if sb.ls.hasPrefix(lHealthCheckPrefix) {
			sb.warn("traefik.backend.healthcheck.* labels are ignored: no %s label", lHealthCheckPath)
		}
		return nil
	}
	hc := &route.HealthCheck{
		Path:     path,
		Hostname: sb.ls.str(lHealthCheckHostname),
		Headers:  sb.headerMap(lHealthCheckHeaders),
		Interval: sb.duration(lHealthCheckInterval),
		Timeout:  sb.duration(lHealthCheckTimeout),
	}
	if !strings.HasPrefix(path, "/") {
		hc.Path = "/" + path
	}
	if raw := sb.ls.str(lHealthCheckPort); raw != "" {
		if p, err := strconv.Atoi(raw); err != nil || p < 1 || p > 65535 {
			sb.warn("%s %q is not a port; checking the server's port", sb.ls.name(lHealthCheckPort), raw)
		} else {
			hc.Port = p
		}
	}
	switch raw := strings.ToLower(sb.ls.str(lHealthCheckScheme)); raw {
	case "", "http", "https":
		hc.Scheme = raw
	default:
		sb.warn("%s %q is not http or https; using the server's scheme", sb.ls.name(lHealthCheckScheme), raw)
	}
	return hc
}

// networkErrorRatio is the one circuit-breaker expression passive health
// stands for.
var networkErrorRatio = regexp.MustCompile(`^\s*NetworkErrorRatio\(\)\s*>=?\s*(0(\.\d+)?|1(\.0+)?|\.\d+)\s*$`)

// circuitBreaker checks traefik.backend.circuitbreaker.expression: the
// edge's passive health (on for every route) takes out backends whose
// connections keep failing, which is what NetworkErrorRatio() > x asked
// for; anything else cannot be expressed and is reported.
func (sb *segBuilder) circuitBreaker() {
	raw := sb.ls.str(lCircuitBreaker)
	if raw != "" && !networkErrorRatio.MatchString(raw) {
		sb.warn("%s %q is ignored: only NetworkErrorRatio() > x maps onto the edge's passive health (TRAEFIK_BACKEND_MAX_FAILS), which applies", sb.ls.name(lCircuitBreaker), raw)
	}
}

// duration parses a health-check duration: a Go duration ("10s", "1m30s")
// or, as flaeg accepted in Traefik 1.x, a bare number of seconds.
func (sb *segBuilder) duration(key string) time.Duration {
	raw := sb.ls.str(key)
	if raw == "" {
		return 0
	}
	if n, err := strconv.Atoi(raw); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		sb.warn("%s %q is not a positive duration; using the default", sb.ls.name(key), raw)
		return 0
	}
	return d
}

// servers turns the input addresses into server URLs. A bad address drops
// that one server with a warning; the route keeps its other servers.
func (sb *segBuilder) servers(scheme string, port, weight int) []route.Server {
	out := make([]route.Server, 0, len(sb.in.Servers))
	for _, a := range sb.in.Servers {
		if strings.TrimSpace(a.Addr) == "" {
			continue
		}
		p := port
		if p == 0 {
			p = a.Port // Options.ServerPorts and no traefik.port label
		}
		if p < 1 || p > 65535 {
			sb.warn("server %q dropped: it registers no port (%d) and there is no traefik.port label", a.Addr, a.Port)
			continue
		}
		u, err := serverURL(a.Addr, scheme, p)
		if err != nil {
			sb.warn("server %q dropped: %v", a.Addr, err)
			continue
		}
		name := a.Name
		if name == "" {
			name = a.Addr
		}
		w := weight
		if a.Weight != "" {
			if v, err := strconv.Atoi(strings.TrimSpace(a.Weight)); err == nil && v >= 0 {
				w = v
			} else {
				sb.warn("server %s: traefik.weight %q is not a number of 0 or more; using %d", name, a.Weight, weight)
			}
		}
		out = append(out, route.Server{URL: u, Weight: w, Name: name})
	}
	return out
}

// serverURL accepts the three address forms of [Address.Addr].
func serverURL(addr, scheme string, port int) (string, error) {
	addr = strings.TrimSpace(addr)
	if canonicalIPURL(addr) {
		return addr, nil
	}
	return parseServerURL(addr, scheme, port)
}

// canonicalIPURL reports whether addr is already what parseServerURL
// would make of it: scheme://IP:port with a scheme it accepts, an IP in
// its canonical form and a port in range. The Kubernetes provider writes
// every endpoint so, and parsing 10,000 of them as URLs was a tenth of a
// rebuild. FuzzServerURL checks that both ways agree.
func canonicalIPURL(addr string) bool {
	sch, hostport, ok := strings.Cut(addr, "://")
	switch {
	case !ok:
		return false
	case sch != "http" && sch != "https" && sch != "h2c" && sch != "h2":
		return false
	}
	host, p, err := net.SplitHostPort(hostport)
	if err != nil || strings.Trim(p, "0123456789") != "" || checkPort(p) != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" { // a zone would need escaping in a URL
		return false
	}
	var buf [64]byte
	// IPv6 in brackets, IPv4 without.
	return string(ip.AppendTo(buf[:0])) == host && ip.Is4() == (hostport[0] != '[')
}

// parseServerURL is serverURL for any address.
func parseServerURL(addr, scheme string, port int) (string, error) {
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if err != nil {
			return "", fmt.Errorf("not a URL: %w", err)
		}
		switch u.Scheme {
		case "http", "https", "h2c", "h2":
		default:
			return "", fmt.Errorf("scheme %q is not http, https, h2c or h2", u.Scheme)
		}
		if u.Hostname() == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return "", fmt.Errorf("want scheme://host[:port] only")
		}
		p := u.Port()
		if p == "" {
			p = strconv.Itoa(port)
		} else if err := checkPort(p); err != nil {
			return "", err
		}
		return u.Scheme + "://" + net.JoinHostPort(u.Hostname(), p), nil
	}
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")); err == nil {
		return scheme + "://" + net.JoinHostPort(ip.String(), strconv.Itoa(port)), nil
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		if strings.ContainsAny(addr, ":/[] ") {
			return "", fmt.Errorf("want host, host:port or scheme://host:port")
		}
		// A bare host name: the file provider may name backends by DNS.
		return scheme + "://" + net.JoinHostPort(addr, strconv.Itoa(port)), nil
	}
	if host == "" {
		return "", fmt.Errorf("no host")
	}
	if err := checkPort(p); err != nil {
		return "", err
	}
	return scheme + "://" + net.JoinHostPort(host, p), nil
}

func checkPort(p string) error {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not 1-65535", p)
	}
	return nil
}
