package acme

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/caddyserver/certmagic"
	"github.com/libdns/cloudflare"
	"github.com/libdns/rfc2136"
	"github.com/libdns/route53"
)

// DNS provider names, as TRAEFIK_ACME_DNS_PROVIDER spells them.
const (
	ProviderCloudflare = "cloudflare"
	ProviderRoute53    = "route53"
	ProviderRFC2136    = "rfc2136"
)

// DNSProviders lists the supported provider names.
func DNSProviders() []string {
	return []string{ProviderCloudflare, ProviderRFC2136, ProviderRoute53}
}

// DNSCredentials lists, per provider, the credential keys DNSProvider
// reads; cmd/edge resolves each through the secrets rules (environment or
// a _FILE variant). The names follow lego's, which Traefik 1.x used.
func DNSCredentials(provider string) []string {
	switch provider {
	case ProviderCloudflare:
		return []string{"CF_DNS_API_TOKEN", "CF_ZONE_API_TOKEN", "CLOUDFLARE_DNS_API_TOKEN", "CLOUDFLARE_ZONE_API_TOKEN", "CF_API_KEY", "CLOUDFLARE_API_KEY"}
	case ProviderRoute53:
		return []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_PROFILE", "AWS_HOSTED_ZONE_ID"}
	case ProviderRFC2136:
		return []string{"RFC2136_NAMESERVER", "RFC2136_TSIG_KEY", "RFC2136_TSIG_SECRET", "RFC2136_TSIG_ALGORITHM"}
	}
	return nil
}

// DNSProvider builds the libdns provider for DNS-01 named by name, with
// credentials keyed as [DNSCredentials] lists. Errors name the missing or
// conflicting keys, never their values.
func DNSProvider(name string, creds map[string]string) (certmagic.DNSProvider, error) {
	get := func(keys ...string) string {
		for _, k := range keys {
			if v := strings.TrimSpace(creds[k]); v != "" {
				return v
			}
		}
		return ""
	}
	switch strings.ToLower(strings.TrimSpace(name)) {
	case ProviderCloudflare:
		token := get("CF_DNS_API_TOKEN", "CLOUDFLARE_DNS_API_TOKEN")
		if token == "" {
			if get("CF_API_KEY", "CLOUDFLARE_API_KEY") != "" {
				return nil, errors.New("acme: cloudflare: global API keys are not supported; create a scoped API token (Zone.DNS edit) and set CF_DNS_API_TOKEN")
			}
			return nil, errors.New("acme: cloudflare: CF_DNS_API_TOKEN is required")
		}
		return &cloudflare.Provider{APIToken: token, ZoneToken: get("CF_ZONE_API_TOKEN", "CLOUDFLARE_ZONE_API_TOKEN")}, nil

	case ProviderRoute53:
		p := &route53.Provider{
			AccessKeyId:     get("AWS_ACCESS_KEY_ID"),
			SecretAccessKey: get("AWS_SECRET_ACCESS_KEY"),
			SessionToken:    get("AWS_SESSION_TOKEN"),
			Region:          get("AWS_REGION"),
			Profile:         get("AWS_PROFILE"),
			HostedZoneID:    get("AWS_HOSTED_ZONE_ID"),
			// Wait until Route 53 reports the change in sync, so the CA
			// does not look before the record exists.
			WaitForRoute53Sync: true,
		}
		// Without keys the AWS SDK's default chain applies (instance
		// role, shared config); a half-given pair is a mistake.
		if (p.AccessKeyId == "") != (p.SecretAccessKey == "") {
			return nil, errors.New("acme: route53: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together")
		}
		return p, nil

	case ProviderRFC2136:
		p := &rfc2136.Provider{
			Server:  get("RFC2136_NAMESERVER"),
			KeyName: get("RFC2136_TSIG_KEY"),
			Key:     get("RFC2136_TSIG_SECRET"),
			KeyAlg:  get("RFC2136_TSIG_ALGORITHM"),
		}
		var errs []error
		if p.Server == "" {
			errs = append(errs, errors.New("acme: rfc2136: RFC2136_NAMESERVER is required"))
		} else if _, _, err := net.SplitHostPort(p.Server); err != nil {
			p.Server = net.JoinHostPort(strings.Trim(p.Server, "[]"), "53")
		}
		if (p.KeyName == "") != (p.Key == "") {
			errs = append(errs, errors.New("acme: rfc2136: RFC2136_TSIG_KEY and RFC2136_TSIG_SECRET go together"))
		}
		if p.KeyName != "" && p.KeyAlg == "" {
			p.KeyAlg = "hmac-sha256"
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return p, nil
	}
	return nil, fmt.Errorf("acme: unknown DNS provider %q (supported: %s)", name, strings.Join(slices.Sorted(slices.Values(DNSProviders())), ", "))
}
