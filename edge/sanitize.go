package edge

import (
	"net/http"
	"strings"

	"github.com/rancher-edge/edge/edge/internal/h1wire"
)

// sanitize applies to a request net/http parsed the rules the fast paths
// apply while parsing: fields named with an underscore are dropped
// (h1wire.RequestHead.Parse says why), and an h2c upgrade is not offered to the
// backend — the edge speaks HTTP/2 to clients over TLS only, and a
// backend accepting the upgrade would answer in a protocol the client
// reaches through the edge's HTTP/1.1 connection. The request is served
// as plain HTTP/1.1, which RFC 9113 §3.2's client must accept.
func (s *Server) sanitize(r *http.Request) {
	if !s.cfg.KeepUnderscoreHeaders {
		for k := range r.Header {
			if strings.IndexByte(k, '_') >= 0 {
				delete(r.Header, k)
			}
		}
	}
	if up := r.Header["Upgrade"]; len(up) > 0 && hasToken(strings.Join(up, ","), "h2c") {
		delete(r.Header, "Upgrade")
		delete(r.Header, "Http2-Settings")
		var keep []string
		for _, v := range r.Header["Connection"] {
			for _, tok := range strings.Split(v, ",") {
				tok = h1wire.TrimOWS(tok)
				if tok != "" && !strings.EqualFold(tok, "upgrade") && !strings.EqualFold(tok, "http2-settings") {
					keep = append(keep, tok)
				}
			}
		}
		if len(keep) == 0 {
			delete(r.Header, "Connection")
		} else {
			r.Header["Connection"] = []string{strings.Join(keep, ", ")}
		}
	}
}
