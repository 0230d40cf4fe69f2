package acme

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// TraefikACME is what a Traefik acme.json holds that the edge can use:
// the ACME accounts and the certificates, each checked.
type TraefikACME struct {
	Accounts     []TraefikAccount
	Certificates []TraefikCertificate // in date, key matching
	Skipped      []TraefikSkipped     // unusable entries, with the reason
}

// TraefikAccount is one ACME account from acme.json.
type TraefikAccount struct {
	Resolver string // certificates resolver (Traefik 2.x/3.x); "" for 1.x
	Email    string
	URL      string // the account's URL at its CA (the registration URI)
	Key      crypto.Signer
}

// TraefikCertificate is one usable certificate from acme.json.
type TraefikCertificate struct {
	Resolver string
	Names    []string // the leaf's DNS names
	CertPEM  []byte   // the chain as Traefik stored it
	KeyPEM   []byte
	Leaf     *x509.Certificate
	SHA256   string // hex fingerprint of the leaf
}

// TraefikSkipped is an entry of acme.json that is not imported.
type TraefikSkipped struct {
	Resolver string
	Names    []string
	Reason   string
}

// Field names follow Traefik's structs (which have no JSON tags in 1.x,
// lower-case tags in 2.x); encoding/json matches them case-insensitively,
// so one set of structs reads every version.
type traefikStore struct {
	Account *struct {
		Email        string
		Registration *struct {
			Body struct {
				Status  string
				Contact []string
			}
			URI string
		}
		PrivateKey []byte
		// Traefik 1.4–1.6 kept the certificates inside the account.
		DomainsCertificate *struct {
			Certs []struct {
				Domains     traefikDomain
				Certificate *struct {
					PrivateKey  []byte
					Certificate []byte
				}
			}
		}
	}
	Certificates []struct {
		Domain      traefikDomain
		Certificate []byte
		Key         []byte
	}
}

type traefikDomain struct {
	Main string
	SANs []string
}

func (d traefikDomain) names() []string {
	return append([]string{d.Main}, d.SANs...)
}

// ParseTraefikACME reads a Traefik acme.json: the 1.x form (one account,
// "Certificates" beside it; 1.4–1.6 kept them in the account) or the
// 2.x/3.x form (an object per certificates resolver). Certificates that
// are expired at now, unparsable, or whose key does not match are listed
// in Skipped, not returned.
func ParseTraefikACME(data []byte, now time.Time) (*TraefikACME, error) {
	out := &TraefikACME{}
	if len(bytes.TrimSpace(data)) == 0 {
		return out, nil // Traefik creates the file empty
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("acme.json is not a JSON object: %w", err)
	}
	stores := map[string]json.RawMessage{}
	v1 := false
	for k := range top {
		if strings.EqualFold(k, "Account") || strings.EqualFold(k, "Certificates") {
			v1 = true
		}
	}
	if v1 {
		stores[""] = data
	} else {
		stores = top
	}
	seen := map[string]bool{}
	for _, resolver := range slices.Sorted(func(yield func(string) bool) {
		for k := range stores {
			if !yield(k) {
				return
			}
		}
	}) {
		var st traefikStore
		if err := json.Unmarshal(stores[resolver], &st); err != nil {
			if v1 {
				return nil, fmt.Errorf("acme.json: %w", err)
			}
			return nil, fmt.Errorf("acme.json: resolver %q: %w", resolver, err)
		}
		if a := st.Account; a != nil && len(a.PrivateKey) > 0 {
			key, err := parseAccountKey(a.PrivateKey)
			if err != nil {
				out.Skipped = append(out.Skipped, TraefikSkipped{Resolver: resolver, Reason: "account: " + err.Error()})
			} else {
				acct := TraefikAccount{Resolver: resolver, Email: a.Email, Key: key}
				if r := a.Registration; r != nil {
					acct.URL = r.URI
					if acct.Email == "" {
						for _, c := range r.Body.Contact {
							if e, ok := strings.CutPrefix(c, "mailto:"); ok {
								acct.Email = e
								break
							}
						}
					}
				}
				if acct.URL == "" {
					out.Skipped = append(out.Skipped, TraefikSkipped{Resolver: resolver, Reason: "account: no registration URI"})
				} else {
					out.Accounts = append(out.Accounts, acct)
				}
			}
		}
		add := func(d traefikDomain, certPEM, keyPEM []byte) {
			c, reason := checkTraefikCert(certPEM, keyPEM, now)
			if reason != "" {
				out.Skipped = append(out.Skipped, TraefikSkipped{Resolver: resolver, Names: d.names(), Reason: reason})
				return
			}
			if seen[c.SHA256] {
				return
			}
			seen[c.SHA256] = true
			c.Resolver = resolver
			out.Certificates = append(out.Certificates, c)
		}
		for _, c := range st.Certificates {
			add(c.Domain, c.Certificate, c.Key)
		}
		if a := st.Account; a != nil && a.DomainsCertificate != nil {
			for _, c := range a.DomainsCertificate.Certs {
				if c.Certificate != nil {
					add(c.Domains, c.Certificate.Certificate, c.Certificate.PrivateKey)
				}
			}
		}
	}
	return out, nil
}

// parseAccountKey reads Traefik's account key: DER, PKCS #1 for the RSA
// keys every version generated, SEC 1 or PKCS #8 otherwise.
func parseAccountKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
	}
	return nil, errors.New("the private key is not PKCS #1, SEC 1 or PKCS #8 DER")
}

func checkTraefikCert(certPEM, keyPEM []byte, now time.Time) (TraefikCertificate, string) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return TraefikCertificate{}, "unusable: " + err.Error()
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return TraefikCertificate{}, "unusable: " + err.Error()
	}
	if !now.Before(leaf.NotAfter) {
		return TraefikCertificate{}, "expired on " + leaf.NotAfter.UTC().Format(time.DateOnly)
	}
	if len(leaf.DNSNames) == 0 {
		return TraefikCertificate{}, "no DNS name in the certificate"
	}
	sum := sha256.Sum256(leaf.Raw)
	return TraefikCertificate{
		Names: slices.Clone(leaf.DNSNames), CertPEM: certPEM, KeyPEM: keyPEM,
		Leaf: leaf, SHA256: hex.EncodeToString(sum[:]),
	}, ""
}

// sameCA reports whether an account URL belongs to the CA whose directory
// is dirURL: accounts exist at one CA only.
func sameCA(accountURL, dirURL string) bool {
	a, err1 := url.Parse(accountURL)
	d, err2 := url.Parse(dirURL)
	return err1 == nil && err2 == nil && a.Host != "" && strings.EqualFold(a.Host, d.Host)
}
