package middleware

import (
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"strings"
)

// extractor picks the key a request is counted under, Traefik 1.x's
// extractorFunc: "client.ip", "request.host" or "request.header.<Name>".
type extractor func(r *http.Request) string

func newExtractor(name string) (extractor, error) {
	switch {
	case name == "client.ip":
		return func(r *http.Request) string {
			// The peer address: X-Forwarded-For would let a client
			// pick its own bucket.
			if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
				return host
			}
			return r.RemoteAddr
		}, nil
	case name == "request.host":
		return func(r *http.Request) string { return r.Host }, nil
	case strings.HasPrefix(name, "request.header."):
		h := textproto.CanonicalMIMEHeaderKey(strings.TrimPrefix(name, "request.header."))
		if !validHeaderName(h) {
			return nil, fmt.Errorf("extractor %q: not a header name", name)
		}
		return func(r *http.Request) string {
			if v := r.Header[h]; len(v) > 0 {
				return v[0]
			}
			return ""
		}, nil
	}
	return nil, fmt.Errorf("extractor %q is not client.ip, request.host or request.header.<name>", name)
}
