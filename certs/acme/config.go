package acme

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"
)

// Challenge names, as TRAEFIK_ACME_CHALLENGE spells them.
const (
	ChallengeHTTP01    = "http-01"
	ChallengeTLSALPN01 = "tls-alpn-01"
	ChallengeDNS01     = "dns-01"
)

// DefaultStorageDir is where certificates and the account key live when
// neither Storage nor StorageDir is set; the Dockerfile makes it a volume.
const DefaultStorageDir = "/data/acme"

// DefaultReleaseAfter is how long a name's routes must be gone before its
// certificate stops being renewed.
const DefaultReleaseAfter = 24 * time.Hour

// Config configures a [Manager]. Validate it with [Config.Validate]; [New]
// does. Fields are read once, by New.
type Config struct {
	// Email is the ACME account contact; empty registers without one.
	Email string

	// CA is the ACME directory URL. Empty or "production" means Let's
	// Encrypt production, "staging" Let's Encrypt staging.
	CA string

	// CARoot holds extra PEM roots to trust when talking to the CA, on
	// top of the system roots (a private CA, or Pebble in tests).
	CARoot []byte

	// EAB, when non-nil, binds the account to an external account
	// (ZeroSSL and other commercial CAs).
	EAB *EAB

	// Storage keeps the account key and certificates. Nil means a
	// certmagic.FileStorage at StorageDir. Instances sharing a Storage
	// share certificates, locks and challenge answers.
	Storage certmagic.Storage

	// StorageDir is the FileStorage directory; empty means
	// DefaultStorageDir. Ignored when Storage is set.
	StorageDir string

	// OnHostRule, when true, orders a certificate for every exact name in
	// a Host: rule given to [Manager.SetHosts].
	OnHostRule bool

	// Domains are names always managed, whatever the routes say.
	// Wildcards ("*.example.com") need DNS.
	Domains []string

	// OnDemand, when true, obtains a certificate during the first TLS
	// handshake for a name that Allow accepts, and for no other name.
	OnDemand bool

	// Challenges restricts the challenge types: ChallengeHTTP01,
	// ChallengeTLSALPN01, ChallengeDNS01. Empty means HTTP-01 and
	// TLS-ALPN-01, with DNS-01 for wildcards when DNS is set. DNS-01 alone
	// sends every name through DNS.
	Challenges []string

	// DNS is the libdns provider for DNS-01 (see [DNSProvider]); nil
	// disables DNS-01 and so wildcards.
	DNS certmagic.DNSProvider

	// DNSResolvers are host:port DNS servers used to find the zone of a
	// DNS-01 record and to wait until it is visible. Empty means the
	// system resolvers and then the zone's authoritative servers.
	DNSResolvers []string

	// DNSPropagationDelay is how long to wait after publishing a DNS-01
	// record before checking that the resolvers see it (Traefik's
	// delayBeforeCheck); zero checks at once.
	DNSPropagationDelay time.Duration

	// KeyType is the certificate key type: KeyEC256 (the zero value),
	// KeyEC384, KeyRSA2048, KeyRSA4096 or KeyRSA8192.
	KeyType string

	// ImportFrom is a Traefik acme.json whose account and usable
	// certificates are copied into Storage when Run starts, once per
	// storage (see [ParseTraefikACME]); empty imports nothing.
	ImportFrom string

	// Covers reports whether a valid certificate from secrets already
	// covers name; such names are never ordered. Nil covers nothing.
	Covers func(name string) bool

	// Allow reports whether a route in the current table matches name;
	// it is the on-demand decision and is required when OnDemand is set.
	Allow func(name string) bool

	// Profile is the ACME profile to ask for; empty lets the CA choose.
	Profile string

	// HTTPPort and TLSALPNPort are the ports the CA's challenges reach
	// this process on when something forwards 80 and 443 elsewhere (and
	// in tests); 0 means 80 and 443. The edge serves the challenges on its
	// own listeners through [Manager.HandleHTTPChallenge] and
	// [Manager.GetCertificate].
	HTTPPort, TLSALPNPort int

	// ReleaseAfter is how long a name's routes must be gone before its
	// certificate stops being renewed (its files stay in storage). Zero
	// means DefaultReleaseAfter.
	ReleaseAfter time.Duration

	// RenewalWindowRatio is the fraction of a certificate's lifetime,
	// counted back from expiry, in which it is renewed; zero means
	// certmagic's 1/3. ARI may pick an earlier time.
	RenewalWindowRatio float64

	// RenewCheckInterval is how often certificates are checked for
	// renewal; zero means certmagic's 10 minutes.
	RenewCheckInterval time.Duration

	// RecheckInterval is how often names without a certificate in memory
	// are looked up in storage, where another edge sharing it may have put
	// one. Zero means 20s.
	RecheckInterval time.Duration

	// Logger receives the manager's and certmagic's logs; nil discards.
	Logger *slog.Logger

	// Now is the clock for status times; nil means time.Now.
	Now func() time.Time
}

// EAB is an External Account Binding: the key ID and the base64url
// encoded HMAC key the CA handed out.
type EAB struct {
	KID  string
	HMAC string
}

// String never prints the HMAC key.
func (e EAB) String() string { return "EAB{KID: " + e.KID + ", HMAC: <redacted>}" }

// Validate reports every problem in c at once. Messages name settings,
// never credential values.
func (c Config) Validate() error {
	var errs []error
	if c.Email != "" && !strings.Contains(c.Email, "@") {
		errs = append(errs, fmt.Errorf("acme: email %q is not an e-mail address", c.Email))
	}
	if _, err := caURL(c.CA); err != nil {
		errs = append(errs, err)
	}
	if len(c.CARoot) > 0 && !x509.NewCertPool().AppendCertsFromPEM(c.CARoot) {
		errs = append(errs, errors.New("acme: CA root holds no PEM certificate"))
	}
	if c.EAB != nil {
		if c.EAB.KID == "" || c.EAB.HMAC == "" {
			errs = append(errs, errors.New("acme: external account binding needs both a key ID and an HMAC key"))
		} else if _, err := decodeHMAC(c.EAB.HMAC); err != nil {
			errs = append(errs, errors.New("acme: external account binding HMAC key is not base64url"))
		}
	}
	useDNS := false
	for _, ch := range c.Challenges {
		switch ch {
		case ChallengeHTTP01, ChallengeTLSALPN01:
		case ChallengeDNS01:
			useDNS = true
		default:
			errs = append(errs, fmt.Errorf("acme: unknown challenge %q (want %s, %s or %s)", ch, ChallengeHTTP01, ChallengeTLSALPN01, ChallengeDNS01))
		}
	}
	if useDNS && c.DNS == nil {
		errs = append(errs, errors.New("acme: the dns-01 challenge needs a DNS provider"))
	}
	for _, d := range c.Domains {
		name := normalize(d)
		base, wild := strings.CutPrefix(name, "*.")
		if reason := invalidName(base); reason != "" {
			errs = append(errs, fmt.Errorf("acme: domain %q: %s", d, reason))
			continue
		}
		if wild && c.DNS == nil {
			errs = append(errs, fmt.Errorf("acme: wildcard domain %q needs a DNS provider (DNS-01)", d))
		}
	}
	for _, r := range c.DNSResolvers {
		if _, _, err := net.SplitHostPort(r); err != nil {
			errs = append(errs, fmt.Errorf("acme: DNS resolver %q is not host:port", r))
		}
	}
	if c.DNSPropagationDelay < 0 {
		errs = append(errs, errors.New("acme: the DNS propagation delay must not be negative"))
	}
	if _, ok := keyTypes[c.KeyType]; !ok {
		errs = append(errs, fmt.Errorf("acme: key type %q is not one of %s", c.KeyType, strings.Join(KeyTypes(), ", ")))
	}
	if c.OnDemand && c.Allow == nil {
		errs = append(errs, errors.New("acme: on-demand issuance needs an Allow function (the route table)"))
	}
	if c.HTTPPort < 0 || c.HTTPPort > 65535 || c.TLSALPNPort < 0 || c.TLSALPNPort > 65535 {
		errs = append(errs, errors.New("acme: challenge ports must be between 0 and 65535"))
	}
	if c.ReleaseAfter < 0 || c.RenewCheckInterval < 0 {
		errs = append(errs, errors.New("acme: durations must not be negative"))
	}
	if c.RenewalWindowRatio < 0 || c.RenewalWindowRatio >= 1 {
		errs = append(errs, errors.New("acme: renewal window ratio must be at least 0 and below 1"))
	}
	return errors.Join(errs...)
}

// caURL maps the CA setting to a directory URL.
func caURL(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "production", "prod":
		return certmagic.LetsEncryptProductionCA, nil
	case "staging":
		return certmagic.LetsEncryptStagingCA, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("acme: CA %q is not a directory URL, \"production\" or \"staging\"", s)
	}
	if u.Scheme != "https" {
		return "", fmt.Errorf("acme: CA %q must use https", s)
	}
	return s, nil
}

// decodeHMAC accepts the key with or without padding, as CAs differ.
func decodeHMAC(s string) ([]byte, error) {
	if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "=")); err == nil {
		return b, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// challenges resolves the Challenges setting.
type challenges struct{ http, tlsALPN, dnsOnly bool }

func (c Config) challenges() challenges {
	if len(c.Challenges) == 0 {
		return challenges{http: true, tlsALPN: true}
	}
	var ch challenges
	ch.http = slices.Contains(c.Challenges, ChallengeHTTP01)
	ch.tlsALPN = slices.Contains(c.Challenges, ChallengeTLSALPN01)
	ch.dnsOnly = !ch.http && !ch.tlsALPN && slices.Contains(c.Challenges, ChallengeDNS01)
	return ch
}

// withDefaults fills zero fields; c must be valid.
func (c Config) withDefaults() Config {
	if c.StorageDir == "" {
		c.StorageDir = DefaultStorageDir
	}
	if c.Storage == nil {
		c.Storage = &certmagic.FileStorage{Path: c.StorageDir}
	}
	if c.ReleaseAfter == 0 {
		c.ReleaseAfter = DefaultReleaseAfter
	}
	if c.Covers == nil {
		c.Covers = func(string) bool { return false }
	}
	if c.Allow == nil {
		c.Allow = func(string) bool { return false }
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
