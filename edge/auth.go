package edge

import (
	"net/http"
	"strings"

	"github.com/rancher-edge/edge/edge/middleware"
)

// The authentication stages beyond basic auth (chain.go): digest and
// forward authentication, and what they share with basic auth.

func (s *Server) authOptions() middleware.AuthOptions {
	return middleware.AuthOptions{ReadFile: s.cfg.ReadFile, Logger: s.log}
}

func wrapDigestAuth(s *Server, rt *Route, next http.Handler) (http.Handler, error) {
	if rt.Service.DigestAuth == nil {
		return nil, nil
	}
	return middleware.DigestAuth(*rt.Service.DigestAuth, s.authOptions(), next)
}

func describeDigestAuth(rt *Route) string {
	a := rt.Service.DigestAuth
	d := "digest, " + plural(len(a.Users), "user")
	if a.UsersFile != "" {
		d += " and the users file " + a.UsersFile
	}
	if a.HeaderField != "" {
		d += ", user name in " + a.HeaderField
	}
	if a.RemoveHeader {
		d += ", Authorization removed"
	}
	return d
}

func wrapForwardAuth(s *Server, rt *Route, next http.Handler) (http.Handler, error) {
	if rt.Service.ForwardAuth == nil {
		return nil, nil
	}
	return middleware.ForwardAuth(*rt.Service.ForwardAuth, middleware.ForwardOptions{ReadFile: s.cfg.ReadFile}, next)
}

// describeForwardAuth names the server without its query, which may carry
// a token.
func describeForwardAuth(rt *Route) string {
	a := rt.Service.ForwardAuth
	addr := a.Address
	for i := 0; i < len(addr); i++ {
		if addr[i] == '?' {
			addr = addr[:i]
			break
		}
	}
	d := "asks " + addr
	if len(a.AuthResponseHeaders) > 0 {
		d += ", copies " + plural(len(a.AuthResponseHeaders), "header")
	}
	if a.TrustForwardHeader {
		d += ", trusts X-Forwarded-*"
	}
	return d
}

func wrapPassClientCert(_ *Server, rt *Route, next http.Handler) (http.Handler, error) {
	if rt.Service.PassTLSClientCert == nil {
		return nil, nil
	}
	return middleware.PassTLSClientCert(*rt.Service.PassTLSClientCert, next)
}

func describePassClientCert(rt *Route) string {
	p := rt.Service.PassTLSClientCert
	var parts []string
	if p.PEM {
		parts = append(parts, "PEM")
	}
	parts = append(parts, p.Infos...)
	return strings.Join(parts, ", ")
}
