package kubernetes

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/route"
)

// ingressTLS is what an Ingress's spec.tls says about its hosts.
type ingressTLS struct {
	hosts     []string // every host listed in spec.tls: redirected to HTTPS
	acmeHosts []string // listed without a secretName, allowed for ACME
}

// covers reports whether host (a rule host, maybe a wildcard) is listed
// in spec.tls, exactly or under a listed wildcard.
func (t ingressTLS) covers(host string) bool {
	if host == "" {
		return false
	}
	if slices.Contains(t.hosts, host) {
		return true
	}
	return !strings.HasPrefix(host, "*.") && certs.NamesCover(t.hosts, host)
}

// tls reads spec.tls: Secrets become certificates (or problems), hosts
// without a Secret become ACME names when allowed.
func (b *builder) tls(ing *networkingv1.Ingress) ingressTLS {
	var t ingressTLS
	for _, e := range ing.Spec.TLS {
		hosts := make([]string, 0, len(e.Hosts))
		for _, h := range e.Hosts {
			if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
				hosts = append(hosts, h)
			}
		}
		t.hosts = append(t.hosts, hosts...)
		if e.SecretName == "" {
			b.acme(ing, hosts, &t)
			continue
		}
		b.secret(ing, e.SecretName, hosts)
	}
	return t
}

func (b *builder) acme(ing *networkingv1.Ingress, hosts []string, t *ingressTLS) {
	if !b.s.acme {
		if len(hosts) > 0 {
			b.problem(src(ing, ""), route.Warning, "spec.tls lists %s without a secretName and ACME is off: the default certificate is served", strings.Join(hosts, ", "))
		}
		return
	}
	for _, h := range hosts {
		if !allowed(h, b.s.acmeAllowed) {
			b.problem(src(ing, ""), route.Warning, "no ACME certificate for %s: it is not within TRAEFIK_ACME_DOMAINS_ALLOWED; the default certificate is served", h)
			continue
		}
		t.acmeHosts = append(t.acmeHosts, h)
	}
}

// allowed reports whether host is within one of the suffixes: equal to
// one, or a subdomain of it. No suffixes allow any host.
func allowed(host string, suffixes []string) bool {
	if len(suffixes) == 0 {
		return true
	}
	host = strings.TrimPrefix(host, "*.")
	for _, s := range suffixes {
		s = strings.ToLower(strings.Trim(s, ". "))
		if host == s || strings.HasSuffix(host, "."+s) {
			return true
		}
	}
	return false
}

// secret adds the certificate of a TLS Secret for hosts, or reports why
// those hosts get the default certificate.
func (b *builder) secret(ing *networkingv1.Ingress, name string, hosts []string) {
	key := ing.Namespace + "/" + name
	sec := b.tlsSecret(key)
	what := "its hosts"
	if len(hosts) > 0 {
		what = strings.Join(hosts, ", ")
	}
	if sec == nil {
		b.problem(src(ing, ""), route.Error, "TLS Secret %s not found (or not of type kubernetes.io/tls): %s get the default certificate", key, what)
		return
	}
	crt, k := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]
	if len(crt) == 0 || len(k) == 0 {
		b.problem(src(ing, ""), route.Error, "TLS Secret %s has no tls.crt or tls.key: %s get the default certificate", key, what)
		return
	}
	names, err := b.chk.check(crt, k)
	if err != nil {
		b.problem(src(ing, ""), route.Error, "TLS Secret %s: %v: %s get the default certificate", key, err, what)
		return
	}
	var uncovered []string
	for _, h := range hosts {
		if !(slices.Contains(names, h) || (!strings.HasPrefix(h, "*.") && certs.NamesCover(names, h))) {
			uncovered = append(uncovered, h)
		}
	}
	if len(uncovered) > 0 {
		b.problem(src(ing, ""), route.Warning, "TLS Secret %s does not cover %s: the default certificate is served for them", key, strings.Join(uncovered, ", "))
	}
	if len(hosts) == 0 {
		hosts = names
	}
	b.addCert(ing.Namespace, name, crt, k, hosts)
}
