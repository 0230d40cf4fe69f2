package main

import (
	"net"
	"slices"
	"strings"

	"github.com/rancher-edge/edge/certs/acme"
)

// challengeWords maps TRAEFIK_ACME_CHALLENGE's words to challenge names:
// ours (Traefik 2's names) and rawmind0/alpine-traefik's one-word form.
var challengeWords = map[string]string{
	acme.ChallengeHTTP01: acme.ChallengeHTTP01, "http": acme.ChallengeHTTP01,
	acme.ChallengeTLSALPN01: acme.ChallengeTLSALPN01, "tls": acme.ChallengeTLSALPN01,
	acme.ChallengeDNS01: acme.ChallengeDNS01, "dns": acme.ChallengeDNS01,
}

// loadACMEDNS reads the DNS-01, key type and import settings into a, and
// turns a.Challenges into challenge names.
func loadACMEDNS(e env, a *acmeSettings, p *problems) {
	var chs []string
	for _, w := range a.Challenges {
		ch, ok := challengeWords[w]
		if !ok {
			p.add("TRAEFIK_ACME_CHALLENGE: %q is not http-01, tls-alpn-01 or dns-01 (or rawmind's http / dns)", w)
			continue
		}
		if !slices.Contains(chs, ch) {
			chs = append(chs, ch)
		}
	}
	a.Challenges = chs
	if slices.Contains(chs, acme.ChallengeDNS01) && a.DNSProvider == "" {
		p.add("TRAEFIK_ACME_CHALLENGE: dns-01 needs a DNS provider: set TRAEFIK_ACME_DNS_PROVIDER (or TRAEFIK_ACME_CHALLENGE_DNS_PROVIDER) to one of %s", strings.Join(acme.DNSProviders(), ", "))
	}

	for _, r := range splitList(e.get("TRAEFIK_ACME_DNS_RESOLVERS")) {
		host, port, err := net.SplitHostPort(r)
		if err != nil {
			host, port = strings.Trim(r, "[]"), "53"
		}
		if host == "" || strings.ContainsAny(host, " /") {
			p.add("TRAEFIK_ACME_DNS_RESOLVERS: %q is not a host or host:port", r)
			continue
		}
		a.DNSResolvers = append(a.DNSResolvers, net.JoinHostPort(host, port))
	}
	if raw := e.value(lookupSetting("TRAEFIK_ACME_CHALLENGE_DNS_DELAY")); raw != "0" {
		a.DNSDelay = e.durationSetting("TRAEFIK_ACME_CHALLENGE_DNS_DELAY", p)
	}

	kt := strings.ToUpper(e.value(lookupSetting("TRAEFIK_ACME_KEYTYPE")))
	if !slices.Contains(acme.KeyTypes(), kt) {
		p.add("TRAEFIK_ACME_KEYTYPE: %q is not one of %s", kt, strings.Join(acme.KeyTypes(), ", "))
	}
	a.KeyType = kt
}

// applyACMEDNS passes the settings loadACMEDNS read to the manager.
func applyACMEDNS(ac *acme.Config, a acmeSettings) {
	ac.DNSResolvers = a.DNSResolvers
	ac.DNSPropagationDelay = a.DNSDelay
	ac.KeyType = a.KeyType
}
