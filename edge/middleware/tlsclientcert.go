package middleware

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rancher-edge/edge/route"
)

// The headers Traefik 1.7's passTLSClientCert wrote.
const (
	headerClientCert      = "X-Forwarded-Tls-Client-Cert"
	headerClientCertInfos = "X-Forwarded-Tls-Client-Cert-Infos"
)

// certInfos are the names PassTLSClientCert.Infos may hold: Traefik's
// label suffixes after "infos.", lower-cased.
var certInfos = map[string]bool{
	"notafter": true, "notbefore": true, "sans": true,
	"subject.commonname": true, "subject.country": true, "subject.domaincomponent": true, "subject.locality": true,
	"subject.organization": true, "subject.province": true, "subject.serialnumber": true,
	"issuer.commonname": true, "issuer.country": true, "issuer.domaincomponent": true, "issuer.locality": true,
	"issuer.organization": true, "issuer.province": true, "issuer.serialnumber": true,
}

// PassTLSClientCert passes the client certificate of the TLS connection to
// the backend, as Traefik 1.7's passTLSClientCert did: with cfg.PEM, the
// certificates (leaf first) as URL-escaped PEM bodies without armour,
// comma-separated, in X-Forwarded-Tls-Client-Cert; with cfg.Infos, the
// chosen fields (Subject="…",Issuer="…",NB=…,NA=…,SAN=…), one group per
// certificate separated by ";", URL-escaped, in
// X-Forwarded-Tls-Client-Cert-Infos. The client's own values of these
// headers are always dropped, so a backend never sees a forged one. The
// entry point must ask for client certificates (TRAEFIK_SSL_CLIENT_CA).
func PassTLSClientCert(cfg route.PassTLSClientCert, next http.Handler) (http.Handler, error) {
	if next == nil {
		return nil, fmt.Errorf("passTLSClientCert: %w", errNoNext)
	}
	p := &passCert{pem: cfg.PEM, infos: map[string]bool{}, next: next}
	for _, i := range cfg.Infos {
		k := strings.ToLower(i)
		if !certInfos[k] {
			return nil, fmt.Errorf("passTLSClientCert: unknown info %q", i)
		}
		p.infos[k] = true
	}
	if !p.pem && len(p.infos) == 0 {
		return nil, errors.New("passTLSClientCert: neither pem nor infos")
	}
	return p, nil
}

type passCert struct {
	pem   bool
	infos map[string]bool
	next  http.Handler
}

func (p *passCert) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	delete(r.Header, headerClientCert)
	delete(r.Header, headerClientCertInfos)
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		certs := r.TLS.PeerCertificates
		if p.pem {
			parts := make([]string, len(certs))
			for i, c := range certs {
				parts[i] = url.QueryEscape(base64.StdEncoding.EncodeToString(c.Raw))
			}
			r.Header.Set(headerClientCert, strings.Join(parts, ","))
		}
		if len(p.infos) > 0 {
			groups := make([]string, len(certs))
			for i, c := range certs {
				groups[i] = p.describe(c)
			}
			r.Header.Set(headerClientCertInfos, url.QueryEscape(strings.Join(groups, ";")))
		}
	}
	p.next.ServeHTTP(w, r)
}

func (p *passCert) describe(c *x509.Certificate) string {
	var parts []string
	if dn := p.dn("subject.", &c.Subject); dn != "" {
		parts = append(parts, `Subject="`+dn+`"`)
	}
	if dn := p.dn("issuer.", &c.Issuer); dn != "" {
		parts = append(parts, `Issuer="`+dn+`"`)
	}
	if p.infos["notbefore"] {
		parts = append(parts, "NB="+strconv.FormatInt(c.NotBefore.Unix(), 10))
	}
	if p.infos["notafter"] {
		parts = append(parts, "NA="+strconv.FormatInt(c.NotAfter.Unix(), 10))
	}
	if p.infos["sans"] {
		sans := append(append([]string(nil), c.DNSNames...), c.EmailAddresses...)
		for _, ip := range c.IPAddresses {
			sans = append(sans, ip.String())
		}
		for _, u := range c.URIs {
			sans = append(sans, u.String())
		}
		parts = append(parts, "SAN="+strings.Join(sans, ","))
	}
	return strings.Join(parts, ",")
}

// dn renders the chosen parts of a distinguished name in Traefik's order.
func (p *passCert) dn(prefix string, n *pkix.Name) string {
	var out []string
	add := func(info, key string, vals ...string) {
		if !p.infos[prefix+info] {
			return
		}
		for _, v := range vals {
			if v != "" {
				out = append(out, key+"="+v)
			}
		}
	}
	var dc []string
	for _, a := range n.Names {
		// 0.9.2342.19200300.100.1.25, domainComponent
		if a.Type.Equal([]int{0, 9, 2342, 19200300, 100, 1, 25}) {
			if s, ok := a.Value.(string); ok {
				dc = append(dc, s)
			}
		}
	}
	add("domaincomponent", "DC", dc...)
	add("country", "C", n.Country...)
	add("province", "ST", n.Province...)
	add("locality", "L", n.Locality...)
	add("organization", "O", n.Organization...)
	add("commonname", "CN", n.CommonName)
	add("serialnumber", "SN", n.SerialNumber)
	return strings.Join(out, ",")
}
