package edge

import (
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strconv"
)

// forwardedHeaders are the headers a client could forge to lie about its
// address or the original request. They survive only from trusted peers.
var forwardedHeaders = [...]string{
	"X-Forwarded-For",
	"X-Forwarded-Proto",
	"X-Forwarded-Host",
	"X-Forwarded-Port",
	"X-Forwarded-Prefix",
	"X-Real-Ip",
}

// ports are the edge's listener ports as strings, for X-Forwarded-Port.
type ports struct {
	http, https string
}

func newPorts(httpPort, httpsPort int) ports {
	return ports{http: strconv.Itoa(httpPort), https: strconv.Itoa(httpsPort)}
}

// trust decides whether a peer's X-Forwarded-* headers are believed.
type trust []netip.Prefix

func (t trust) trusted(remoteAddr string) bool {
	if len(t) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range t {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// scrub removes forwarded headers an untrusted peer sent.
func (t trust) scrub(r *http.Request) {
	if t.trusted(r.RemoteAddr) {
		return
	}
	for _, k := range forwardedHeaders {
		if _, ok := r.Header[k]; ok {
			delete(r.Header, k)
		}
	}
}

// clientIP returns the host part of a RemoteAddr without allocating.
func clientIP(remoteAddr string) string {
	if i := lastColon(remoteAddr); i >= 0 {
		host := remoteAddr[:i]
		if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
			return host[1 : len(host)-1]
		}
		return host
	}
	return remoteAddr
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return i
		}
	}
	return -1
}

// setForwarded writes the X-Forwarded-* and X-Real-Ip headers on the
// outgoing request. Incoming values are still present only when the peer
// is trusted (the handler scrubbed them otherwise), so presence means keep.
func setForwarded(pr *httputil.ProxyRequest, p ports) {
	in, out := pr.In.Header, pr.Out.Header
	ip := clientIP(pr.In.RemoteAddr)

	if prior, ok := in["X-Forwarded-For"]; ok && len(prior) > 0 {
		v := prior[0]
		for _, x := range prior[1:] {
			v += ", " + x
		}
		out["X-Forwarded-For"] = []string{v + ", " + ip}
	} else {
		out["X-Forwarded-For"] = []string{ip}
	}
	keep := func(k, v string) {
		if prior, ok := in[k]; ok && len(prior) > 0 {
			out[k] = prior
			return
		}
		out[k] = []string{v}
	}
	proto, port := "http", p.http
	if pr.In.TLS != nil {
		proto, port = "https", p.https
	}
	keep("X-Forwarded-Proto", proto)
	keep("X-Forwarded-Host", pr.In.Host)
	keep("X-Forwarded-Port", port)
	keep("X-Real-Ip", ip)
}
