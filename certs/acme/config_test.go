package acme

import (
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/rancher-edge/edge/certs/acme/pebbletest"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	dns := &pebbletest.Provider{}
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none means valid
	}{
		{name: "zero value", cfg: Config{}},
		{name: "staging", cfg: Config{CA: "staging", Email: "a@b.example"}},
		{name: "wildcard with DNS", cfg: Config{Domains: []string{"*.example.com", "example.com"}, DNS: dns}},
		{name: "dns only", cfg: Config{Challenges: []string{ChallengeDNS01}, DNS: dns}},
		{
			name: "everything wrong",
			cfg: Config{
				Email:              "nobody",
				CA:                 "http://ca.example.com/dir",
				CARoot:             []byte("not pem"),
				EAB:                &EAB{KID: "kid", HMAC: "!!not base64!!"},
				Domains:            []string{"*.example.com", "bad_name.example.com", "10.0.0.1"},
				Challenges:         []string{"http-02", ChallengeDNS01},
				DNSResolvers:       []string{"no-port"},
				OnDemand:           true,
				HTTPPort:           70000,
				ReleaseAfter:       -time.Second,
				RenewalWindowRatio: 1.5,
			},
			want: []string{
				"not an e-mail address", "must use https", "no PEM certificate", "HMAC key is not base64url",
				`wildcard domain "*.example.com" needs a DNS provider`, "underscores", "IP address",
				`unknown challenge "http-02"`, "dns-01 challenge needs a DNS provider", "not host:port",
				"needs an Allow function", "challenge ports", "must not be negative", "renewal window ratio",
			},
		},
		{name: "half EAB", cfg: Config{EAB: &EAB{KID: "kid"}}, want: []string{"both a key ID and an HMAC key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v\nwant it to mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "!!not base64!!") {
				t.Errorf("Validate() leaks the HMAC key: %v", err)
			}
		})
	}
}

func TestCAURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                                 certmagic.LetsEncryptProductionCA,
		"production":                       certmagic.LetsEncryptProductionCA,
		"Staging":                          certmagic.LetsEncryptStagingCA,
		"https://acme.zerossl.com/v2/DV90": "https://acme.zerossl.com/v2/DV90",
	} {
		if got, err := caURL(in); err != nil || got != want {
			t.Errorf("caURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestEABString(t *testing.T) {
	t.Parallel()
	if s := (EAB{KID: "kid-1", HMAC: "s3cr3t"}).String(); strings.Contains(s, "s3cr3t") {
		t.Errorf("EAB.String() = %q leaks the key", s)
	}
}

func TestDNSProvider(t *testing.T) {
	t.Parallel()
	const secret = "sup3r-s3cret-value"
	for _, tc := range []struct {
		name    string
		creds   map[string]string
		wantErr string
	}{
		{name: "cloudflare", creds: map[string]string{"CF_DNS_API_TOKEN": secret}},
		{name: "Cloudflare", creds: map[string]string{"CLOUDFLARE_DNS_API_TOKEN": secret}},
		{name: "cloudflare", creds: map[string]string{"CF_API_KEY": secret}, wantErr: "global API keys are not supported"},
		{name: "cloudflare", creds: nil, wantErr: "CF_DNS_API_TOKEN is required"},
		{name: "route53", creds: nil}, // the AWS default credential chain
		{name: "route53", creds: map[string]string{"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": secret}},
		{name: "route53", creds: map[string]string{"AWS_SECRET_ACCESS_KEY": secret}, wantErr: "go together"},
		{name: "rfc2136", creds: map[string]string{"RFC2136_NAMESERVER": "ns1.example.com"}},
		{name: "rfc2136", creds: map[string]string{"RFC2136_NAMESERVER": "10.0.0.53:5353", "RFC2136_TSIG_KEY": "edge.", "RFC2136_TSIG_SECRET": secret}},
		{name: "rfc2136", creds: map[string]string{"RFC2136_TSIG_SECRET": secret}, wantErr: "RFC2136_NAMESERVER is required"},
		{name: "gandi", creds: map[string]string{"X": secret}, wantErr: "unknown DNS provider"},
	} {
		p, err := DNSProvider(tc.name, tc.creds)
		switch {
		case tc.wantErr == "" && (err != nil || p == nil):
			t.Errorf("DNSProvider(%s, %v) = %v, %v; want a provider", tc.name, keys(tc.creds), p, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("DNSProvider(%s, %v) error = %v, want %q", tc.name, keys(tc.creds), err, tc.wantErr)
		case err != nil && strings.Contains(err.Error(), secret):
			t.Errorf("DNSProvider(%s) error leaks a credential: %v", tc.name, err)
		}
	}
	for _, name := range DNSProviders() {
		if len(DNSCredentials(name)) == 0 {
			t.Errorf("DNSCredentials(%s) is empty", name)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	if m, err := New(Config{Challenges: []string{"smoke-signals"}}); err == nil || m != nil {
		t.Fatalf("New with a bad config = %v, %v; want an error", m, err)
	}
}
