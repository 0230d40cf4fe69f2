package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs/acme/bindtest"
	"github.com/rancher-edge/edge/certs/acme/pebbletest"
)

func TestACMEDNSSettings(t *testing.T) {
	base := map[string]string{"TRAEFIK_ACME_ENABLE": "true"}
	for _, tc := range []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, a acmeSettings)
		err   string
	}{
		{name: "defaults", check: func(t *testing.T, a acmeSettings) {
			if !slices.Equal(a.Challenges, []string{"http-01", "tls-alpn-01"}) || a.KeyType != "EC256" || a.DNSDelay != 0 || a.DNSResolvers != nil {
				t.Errorf("defaults: %+v", a)
			}
		}},
		{name: "rawmind's http", env: map[string]string{"TRAEFIK_ACME_CHALLENGE": "http"}, check: func(t *testing.T, a acmeSettings) {
			if !slices.Equal(a.Challenges, []string{"http-01"}) {
				t.Errorf("challenges %v, want [http-01]", a.Challenges)
			}
		}},
		{name: "rawmind's dns with its provider and delay", env: map[string]string{
			"TRAEFIK_ACME_CHALLENGE": "dns", "TRAEFIK_ACME_CHALLENGE_DNS_PROVIDER": "rfc2136", "TRAEFIK_ACME_CHALLENGE_DNS_DELAY": "30",
		}, check: func(t *testing.T, a acmeSettings) {
			if !slices.Equal(a.Challenges, []string{"dns-01"}) || a.DNSProvider != "rfc2136" || a.DNSDelay != 30*time.Second {
				t.Errorf("got challenges %v provider %q delay %v", a.Challenges, a.DNSProvider, a.DNSDelay)
			}
		}},
		{name: "resolvers get port 53", env: map[string]string{"TRAEFIK_ACME_DNS_RESOLVERS": "10.0.0.53, dns.corp:5353,[fd00::53]"}, check: func(t *testing.T, a acmeSettings) {
			if want := []string{"10.0.0.53:53", "dns.corp:5353", "[fd00::53]:53"}; !slices.Equal(a.DNSResolvers, want) {
				t.Errorf("resolvers %v, want %v", a.DNSResolvers, want)
			}
		}},
		{name: "Traefik's key type names, any case", env: map[string]string{"TRAEFIK_ACME_KEYTYPE": "rsa4096"}, check: func(t *testing.T, a acmeSettings) {
			if a.KeyType != "RSA4096" {
				t.Errorf("key type %q", a.KeyType)
			}
		}},
		{name: "dns without a provider", env: map[string]string{"TRAEFIK_ACME_CHALLENGE": "dns"}, err: "dns-01 needs a DNS provider"},
		{name: "unknown challenge", env: map[string]string{"TRAEFIK_ACME_CHALLENGE": "http-01,smtp"}, err: `"smtp" is not http-01, tls-alpn-01 or dns-01`},
		{name: "unknown key type", env: map[string]string{"TRAEFIK_ACME_KEYTYPE": "RSA1024"}, err: `TRAEFIK_ACME_KEYTYPE: "RSA1024" is not one of EC256`},
		{name: "missing import file", env: map[string]string{"TRAEFIK_ACME_IMPORT": "/nonexistent/acme.json"}, err: "TRAEFIK_ACME_IMPORT: open /nonexistent/acme.json"},
		{name: "import off", env: map[string]string{"TRAEFIK_ACME_IMPORT": "off"}, check: func(t *testing.T, a acmeSettings) {
			if a.Import != "" {
				t.Errorf("import %q, want none", a.Import)
			}
		}},
		{name: "bad delay", env: map[string]string{"TRAEFIK_ACME_CHALLENGE_DNS_DELAY": "soon"}, err: "TRAEFIK_ACME_CHALLENGE_DNS_DELAY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			for k, v := range tc.env {
				m[k] = v
			}
			cfg, err := loadConfig(env{getenv: mapEnv(m)})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg.ACME)
		})
	}
}

// TestACMEDNS01AgainstBind issues a wildcard through DNS-01 against a real
// authoritative DNS server, configured the way a user of rawmind's image
// with their own DNS would: BIND 9 takes the challenge record as an RFC
// 2136 update signed with TSIG, Pebble validates by asking BIND, and the
// edge finds the zone and checks the record only through
// TRAEFIK_ACME_DNS_RESOLVERS (no system resolver knows example.test).
func TestACMEDNS01AgainstBind(t *testing.T) {
	bind := bindtest.Start(t, "example.test")
	ca := pebbletest.StartWith(t, pebbletest.Options{DNSServer: bind.Addr}) // not parallel: Pebble reads the environment
	ca.ReleasePorts()

	env := map[string]string{
		"TRAEFIK_HTTP_PORT":                   strconv.Itoa(ca.HTTPPort),
		"TRAEFIK_HTTPS_PORT":                  strconv.Itoa(ca.TLSPort),
		"TRAEFIK_ADMIN_PORT":                  "0",
		"TRAEFIK_ACME_ENABLE":                 "true",
		"TRAEFIK_ACME_EMAIL":                  "ops@example.test",
		"TRAEFIK_ACME_CASERVER":               ca.DirectoryURL,
		"TRAEFIK_ACME_CA_ROOT":                string(ca.APIRootPEM),
		"TRAEFIK_ACME_STORAGE":                filepath.Join(t.TempDir(), "acme"),
		"TRAEFIK_ACME_DOMAINS":                "*.example.test",
		"TRAEFIK_ACME_CHALLENGE":              "dns",
		"TRAEFIK_ACME_CHALLENGE_DNS_PROVIDER": "rfc2136",
		"TRAEFIK_ACME_CHALLENGE_DNS_DELAY":    "1",
		"TRAEFIK_ACME_DNS_RESOLVERS":          bind.Addr,
		"TRAEFIK_ACME_KEYTYPE":                "EC384",
		"RFC2136_NAMESERVER":                  bind.Addr,
		"RFC2136_TSIG_KEY":                    bind.KeyName,
		"RFC2136_TSIG_SECRET":                 bind.KeySecret,
		"RFC2136_TSIG_ALGORITHM":              bind.KeyAlgorithm,
	}
	stop := startEdgeProcess(t, env)
	defer stop()

	const host = "shop.example.test"
	var st tls.ConnectionState
	deadline := time.Now().Add(90 * time.Second)
	for {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", "127.0.0.1:"+strconv.Itoa(ca.TLSPort),
			&tls.Config{ServerName: host, RootCAs: ca.IssuerRoots()})
		if err == nil {
			st = conn.ConnectionState()
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was never served a certificate from the CA: %v\nnamed:\n%s", host, err, bind.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	leaf := st.PeerCertificates[0]
	if !slices.Equal(leaf.DNSNames, []string{"*.example.test"}) {
		t.Errorf("served certificate names %v, want [*.example.test]", leaf.DNSNames)
	}
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P384() {
		t.Errorf("served key %T, want ECDSA P-384 (TRAEFIK_ACME_KEYTYPE=EC384)", leaf.PublicKey)
	}
	if n, all := ca.OrdersFor("*.example.test"), ca.Orders(); n != 1 || all != 1 {
		t.Errorf("orders: %d for the wildcard, %d in all; want one order", n, all)
	}
	// The record went through BIND as a signed update, and is removed
	// once the order is done.
	if log := bind.Log(); !strings.Contains(log, "adding an RR at '_acme-challenge.example.test' TXT") {
		t.Errorf("named never added the challenge record:\n%s", log)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		txt := bind.TXT(t, "_acme-challenge.example.test")
		if len(txt) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the challenge record is still in the zone: %q", txt)
			break
		}
	}
}
