package main

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rancher-edge/edge/certs/acme"
)

// traefikACMEJSON is where both community images kept Traefik's ACME
// storage; a volume carried over from them is imported from there.
const traefikACMEJSON = "/opt/traefik/acme/acme.json"

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

	imp := strings.TrimSpace(e.get("TRAEFIK_ACME_IMPORT"))
	switch {
	case !a.Enable:
		if imp != "" && !isOff(imp) {
			p.add("TRAEFIK_ACME_IMPORT needs TRAEFIK_ACME_ENABLE=true")
		}
	case isOff(imp):
	case imp == "":
		if _, err := os.Stat(traefikACMEJSON); err == nil {
			a.Import = checkImport("TRAEFIK_ACME_IMPORT (default "+traefikACMEJSON+")", traefikACMEJSON, p)
		}
	default:
		a.Import = checkImport("TRAEFIK_ACME_IMPORT", imp, p)
	}
}

func isOff(v string) bool {
	switch strings.ToLower(v) {
	case "off", "false", "no":
		return true
	}
	return false
}

// checkImport reads the acme.json to import now, so that `edge check`
// and `edge serve` refuse a file the import could not use.
func checkImport(setting, path string, p *problems) string {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			p.add("%s: %v (the image runs as uid 10001: chown 10001 the file, or set TRAEFIK_ACME_IMPORT=off)", setting, err)
		} else {
			p.add("%s: %v", setting, err)
		}
		return ""
	}
	if _, err := acme.ParseTraefikACME(data, time.Now()); err != nil {
		p.add("%s: %v", setting, err)
		return ""
	}
	return path
}

// applyACMEDNS passes the settings loadACMEDNS read to the manager.
func applyACMEDNS(ac *acme.Config, a acmeSettings) {
	ac.DNSResolvers = a.DNSResolvers
	ac.DNSPropagationDelay = a.DNSDelay
	ac.KeyType = a.KeyType
	ac.ImportFrom = a.Import
}

// applyChallengePorts tells the manager the ports the edge serves the
// challenges on. Otherwise, with TRAEFIK_HTTP_PORT other than 80,
// certmagic finds port 80 free and binds it for itself (on every
// interface, when it may).
func applyChallengePorts(ac *acme.Config, cfg config) {
	ac.HTTPPort, ac.TLSALPNPort = cfg.HTTPPort, cfg.HTTPSPort
}
