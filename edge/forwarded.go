package edge

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// forwardedFields are the fields that tell a backend about the client
// and the request it first sent — the edge's one list of them. A client
// could forge them, so they survive only from trusted peers (scrub). The
// first forwardedWritten are written by forwarded for every request; the
// others go to the backend as the request has them.
var forwardedFields = [...]string{
	"X-Forwarded-For",
	"X-Forwarded-Proto",
	"X-Forwarded-Host",
	"X-Forwarded-Port",
	"X-Real-Ip",
	"X-Forwarded-Prefix", // set by a PathPrefixStrip rule
	"X-Replaced-Path",    // set by a ReplacePath rule
	"Forwarded",          // RFC 7239, from a trusted proxy in front
}

const forwardedWritten = 5

// isForwardedField reports whether a canonical field name is one of
// forwardedFields.
func isForwardedField(name string) bool {
	for _, f := range forwardedFields {
		if name == f {
			return true
		}
	}
	return false
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
	for _, k := range forwardedFields {
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

// headerSink receives the forwarded headers of an outgoing request. The
// policy (forwarded) is written once; the net/http proxy stores the values
// in a header map and the fast path writes them straight into the request
// head, without building strings.
type headerSink interface {
	// chain sets key to one field: the prior values and last, joined by ", ".
	chain(key string, prior []string, last string)
	// keep sets key to the prior values, or to def when there are none.
	keep(key string, prior []string, def string)
}

// forwarded writes the X-Forwarded-* and X-Real-Ip headers of the request
// forwarded for in. Incoming values are still present only when the peer is
// trusted (trust.scrub removed them otherwise), so presence means keep.
func forwarded(in *http.Request, isTLS bool, p ports, out headerSink) {
	ip := clientIP(in.RemoteAddr)
	h := in.Header
	out.chain("X-Forwarded-For", h["X-Forwarded-For"], ip)
	proto, port := "http", p.http
	if isTLS {
		proto, port = "https", p.https
	}
	out.keep("X-Forwarded-Proto", h["X-Forwarded-Proto"], proto)
	out.keep("X-Forwarded-Host", h["X-Forwarded-Host"], in.Host)
	out.keep("X-Forwarded-Port", h["X-Forwarded-Port"], port)
	out.keep("X-Real-Ip", h["X-Real-Ip"], ip)
}

// mapSink stores forwarded headers in an http.Header.
type mapSink http.Header

func (m mapSink) chain(key string, prior []string, last string) {
	if len(prior) == 0 {
		m[key] = []string{last}
		return
	}
	m[key] = []string{strings.Join(prior, ", ") + ", " + last}
}

func (m mapSink) keep(key string, prior []string, def string) {
	if len(prior) > 0 {
		m[key] = prior
		return
	}
	m[key] = []string{def}
}
