package main

import (
	"crypto/tls"
	"crypto/x509"
)

// clientCASettings is Traefik's entry point clientCA: the CAs whose client
// certificates the HTTPS entry point asks for and verifies, so that
// traefik.frontend.passTLSClientCert.* has a certificate to pass.
type clientCASettings struct {
	Pool     *x509.CertPool // nil: no client certificate is asked for
	Optional bool           // a client without a certificate is served too
}

// loadClientCA reads TRAEFIK_SSL_CLIENT_CA (PEM, paths or secret aliases,
// comma-separated) and TRAEFIK_SSL_CLIENT_CA_OPTIONAL.
func loadClientCA(e env, c *config, p *problems) {
	vals, err := c.Resolver.LookupList("TRAEFIK_SSL_CLIENT_CA", true)
	if err != nil {
		p.addErr(err)
		return
	}
	c.ClientCA.Optional = e.boolSetting("TRAEFIK_SSL_CLIENT_CA_OPTIONAL", p)
	if len(vals) == 0 {
		return
	}
	pool := x509.NewCertPool()
	for _, v := range vals {
		if !pool.AppendCertsFromPEM(v.Bytes()) {
			p.add("TRAEFIK_SSL_CLIENT_CA: %s holds no PEM certificate", v)
		}
	}
	c.ClientCA.Pool = pool
}

// applyClientCA makes the HTTPS entry point ask for client certificates:
// required and verified, or (optional) verified when given, as Traefik's
// clientCA.optional did.
func applyClientCA(s clientCASettings, conf *tls.Config) {
	if s.Pool == nil || conf == nil {
		return
	}
	conf.ClientCAs = s.Pool
	conf.ClientAuth = tls.RequireAndVerifyClientCert
	if s.Optional {
		conf.ClientAuth = tls.VerifyClientCertIfGiven
	}
}
