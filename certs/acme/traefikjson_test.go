package acme

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"
)

// selfSigned returns a PEM certificate and key for names, valid until
// notAfter.
func selfSigned(t testing.TB, notAfter time.Time, names ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), DNSNames: names,
		NotBefore: notAfter.Add(-90 * 24 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestParseTraefikACME(t *testing.T) {
	now := time.Now()
	goodCert, goodKey := selfSigned(t, now.Add(30*24*time.Hour), "a.example.test", "b.example.test")
	oldCert, oldKey := selfSigned(t, now.Add(-time.Hour), "old.example.test")
	_, otherKey := selfSigned(t, now.Add(time.Hour), "x.example.test")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // a test key
	if err != nil {
		t.Fatal(err)
	}
	acctKey := b64(x509.MarshalPKCS1PrivateKey(rsaKey))

	// Traefik 2.x/3.x: one object per certificates resolver, lower-case
	// certificate fields, a "Store".
	v2 := fmt.Sprintf(`{
  "le": {
    "Account": {"Email": "ops@example.test", "Registration": {"body": {"status": "valid", "contact": ["mailto:ops@example.test"]}, "uri": "https://acme.example/acct/1"}, "PrivateKey": %q, "KeyType": "4096"},
    "Certificates": [
      {"domain": {"main": "a.example.test", "sans": ["b.example.test"]}, "certificate": %q, "key": %q, "Store": "default"},
      {"domain": {"main": "old.example.test"}, "certificate": %q, "key": %q, "Store": "default"}
    ]
  },
  "other": {"Account": null, "Certificates": [{"domain": {"main": "a.example.test"}, "certificate": %q, "key": %q}]}
}`, acctKey, b64(goodCert), b64(goodKey), b64(oldCert), b64(oldKey), b64(goodCert), b64(goodKey))
	got, err := ParseTraefikACME([]byte(v2), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Accounts) != 1 || got.Accounts[0].Email != "ops@example.test" || got.Accounts[0].URL != "https://acme.example/acct/1" || got.Accounts[0].Resolver != "le" {
		t.Errorf("accounts %+v", got.Accounts)
	}
	if len(got.Certificates) != 1 || strings.Join(got.Certificates[0].Names, ",") != "a.example.test,b.example.test" {
		t.Errorf("certificates %+v, want the one valid certificate once", got.Certificates)
	}
	if len(got.Skipped) != 1 || !strings.Contains(got.Skipped[0].Reason, "expired") {
		t.Errorf("skipped %+v, want the expired one", got.Skipped)
	}

	// Traefik 1.4–1.6: certificates inside the account; a key that does
	// not match its certificate is skipped with the reason.
	v14 := fmt.Sprintf(`{"Account": {"Email": "ops@example.test", "Registration": {"body": {}, "uri": "https://acme.example/acme/reg/9"}, "PrivateKey": %q,
  "DomainsCertificate": {"Certs": [
    {"Domains": {"Main": "a.example.test", "SANs": ["b.example.test"]}, "Certificate": {"Domain": "a.example.test", "PrivateKey": %q, "Certificate": %q}},
    {"Domains": {"Main": "x.example.test"}, "Certificate": {"Domain": "x.example.test", "PrivateKey": %q, "Certificate": %q}}
  ]}}}`, acctKey, b64(goodKey), b64(goodCert), b64(otherKey), b64(goodCert))
	got, err = ParseTraefikACME([]byte(v14), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Accounts) != 1 || len(got.Certificates) != 1 {
		t.Errorf("1.4 form: %d accounts, %d certificates", len(got.Accounts), len(got.Certificates))
	}
	if len(got.Skipped) != 1 || !strings.Contains(got.Skipped[0].Reason, "unusable") {
		t.Errorf("skipped %+v, want the mismatched key", got.Skipped)
	}

	// Traefik creates the file empty before its first certificate.
	if got, err := ParseTraefikACME([]byte("\n"), now); err != nil || len(got.Certificates) != 0 {
		t.Errorf("empty file: %+v, %v", got, err)
	}
	for _, bad := range []string{`[1]`, `{"Account": 5}`, `{"le": {"Certificates": "x"}}`, `not json`} {
		if _, err := ParseTraefikACME([]byte(bad), now); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestAccountKeysMatchCertmagic(t *testing.T) {
	reg, key := accountKeys("127.0.0.1:14000-dir", "Ops@Example.test")
	if reg != "acme/127.0.0.1-14000-dir/users/ops@example.test/ops.json" || key != "acme/127.0.0.1-14000-dir/users/ops@example.test/ops.key" {
		t.Errorf("keys %s %s", reg, key)
	}
	if reg, _ := accountKeys("ca", ""); reg != "acme/ca/users/default/default.json" {
		t.Errorf("no e-mail: %s", reg)
	}
}

func FuzzParseTraefikACME(f *testing.F) {
	cert, key := selfSigned(f, time.Now().Add(time.Hour), "a.example.test")
	f.Add([]byte(fmt.Sprintf(`{"Account":{"Email":"a@b","Registration":{"uri":"https://x/acct/1"},"PrivateKey":"AAAA"},"Certificates":[{"Domain":{"Main":"a.example.test"},"Certificate":%q,"Key":%q}]}`, b64(cert), b64(key))))
	f.Add([]byte(`{"le":{"Certificates":[{"domain":{"main":"x"},"certificate":"","key":""}]}}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseTraefikACME(data, time.Now())
		if err != nil {
			return
		}
		for _, c := range got.Certificates {
			if c.Leaf == nil || len(c.Names) == 0 || c.SHA256 == "" {
				t.Fatalf("a returned certificate is incomplete: %+v", c)
			}
		}
	})
}
