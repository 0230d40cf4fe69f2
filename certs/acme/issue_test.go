package acme

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/certs/acme/pebbletest"
)

// TestChallenges obtains a certificate with each challenge type forced,
// served over a real handshake that verifies against Pebble's root.
func TestChallenges(t *testing.T) {
	for _, tc := range []struct{ challenge, host string }{
		{ChallengeHTTP01, "h1.http.example.test"},
		{ChallengeTLSALPN01, "t1.alpn.example.test"},
	} {
		t.Run(tc.challenge, func(t *testing.T) {
			ca := pebbletest.Start(t)
			e := newEdge(t, ca)
			cfg := baseConfig(t, ca)
			cfg.Challenges = []string{tc.challenge}
			m, _ := e.start(t, cfg)

			m.SetHosts([]string{tc.host}, nil)
			leaf := e.waitServed(t, tc.host)
			if !strings.Contains(leaf.Issuer.CommonName, "Pebble") {
				t.Errorf("issuer = %q, want Pebble's intermediate", leaf.Issuer.CommonName)
			}
			if got := ca.OrderLog(); len(got) != 1 || got[0].Profile != "default" || got[0].Names[0] != tc.host {
				t.Errorf("orders = %+v, want one %q order with the pinned profile", got, tc.host)
			}

			r, ok := row(m.Status(), tc.host)
			switch {
			case !ok:
				t.Fatalf("no status row for %s: %s", tc.host, dumpRows(m.Status()))
			case r.State != certs.StateValid, r.Source != "acme", r.Origin != ca.DirectoryURL:
				t.Errorf("row = %+v, want a valid acme row from %s", r, ca.DirectoryURL)
			case r.Serial != leaf.SerialNumber.Text(16), r.KeyType != "ECDSA", r.LastRenewal.IsZero():
				t.Errorf("row = %+v, want the served certificate's details", r)
			case !r.NextRenewal.After(time.Now().Add(30 * 24 * time.Hour)):
				t.Errorf("next renewal = %v, want weeks ahead for a 90-day certificate", r.NextRenewal)
			}

			// Normal requests are not challenges: the edge redirects them.
			for _, path := range []string{"/", "/.well-known/acme-challenge/unknown-token"} {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodGet, "http://"+tc.host+path, nil)
				if m.HandleHTTPChallenge(rec, req) {
					t.Errorf("HandleHTTPChallenge(%s) = true, want false", path)
				}
			}
			client := &http.Client{CheckRedirect: noRedirect, Timeout: 5 * time.Second}
			req, _ := http.NewRequest(http.MethodGet, ca.EdgeHTTPURL()+"/some/path", nil)
			req.Host = tc.host
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("GET over HTTP: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusPermanentRedirect {
				t.Errorf("HTTP status = %d, want the edge's 308 redirect", resp.StatusCode)
			}
		})
	}
}

// TestDNS01Wildcard obtains a wildcard from Domains through a libdns
// provider; a host under it is served by it without an order of its own.
func TestDNS01Wildcard(t *testing.T) {
	ca := pebbletest.Start(t)
	e := newEdge(t, ca)
	provider := ca.DNS.Provider()
	cfg := baseConfig(t, ca)
	cfg.Domains = []string{"*.wild.example.test"}
	cfg.DNS = provider
	cfg.DNSResolvers = []string{ca.DNS.Addr}
	m, _ := e.start(t, cfg)
	m.SetHosts([]string{"app.wild.example.test"}, nil)

	leaf := e.waitServed(t, "app.wild.example.test")
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "*.wild.example.test" {
		t.Errorf("served names = %v, want the wildcard", leaf.DNSNames)
	}
	if provider.Appended() == 0 {
		t.Error("the DNS provider created no TXT record")
	}
	if n := ca.OrdersFor("app.wild.example.test"); n != 0 {
		t.Errorf("orders for the host under the wildcard = %d, want 0", n)
	}
	if n := ca.OrdersFor("*.wild.example.test"); n != 1 {
		t.Errorf("orders for the wildcard = %d, want 1", n)
	}
	rows := m.Status()
	if r, ok := row(rows, "*.wild.example.test"); !ok || r.State != certs.StateValid {
		t.Errorf("wildcard row = %+v (found %v), want valid:%s", r, ok, dumpRows(rows))
	}
	if r, ok := row(rows, "app.wild.example.test"); !ok || r.State != StateSkipped ||
		!strings.Contains(r.LastError, "covered by the ACME wildcard") {
		t.Errorf("host row = %+v, want skipped as covered by the wildcard:%s", r, dumpRows(rows))
	}
}

// TestSkippedNamesPlaceNoOrder: names a secret-held certificate covers,
// invalid names and HostRegexp rules get no order and say why.
func TestSkippedNamesPlaceNoOrder(t *testing.T) {
	ca := pebbletest.Start(t)
	e := newEdge(t, ca)
	cfg := baseConfig(t, ca)
	cfg.Covers = func(name string) bool {
		return name == "covered.example.test" || strings.HasSuffix(name, ".files.example.test")
	}
	m, _ := e.start(t, cfg)

	skipped := map[string]string{
		"covered.example.test":       "covered by a valid certificate from secrets",
		"a.files.example.test":       "covered by a valid certificate from secrets",
		"10.0.0.1":                   "IP address",
		"localhost":                  "localhost",
		"intranet":                   "no dot",
		"under_score.example.test":   "underscores",
		"HostRegexp:{s:[a-z]+}.x.io": "HostRegexp",
	}
	m.SetHosts([]string{
		"covered.example.test", "a.files.example.test", "10.0.0.1", "localhost",
		"intranet", "under_score.example.test", "open.example.test",
	}, []string{"HostRegexp:{s:[a-z]+}.x.io"})
	e.waitServed(t, "open.example.test")

	if n, want := ca.Orders(), 1; n != want {
		t.Errorf("orders = %d (%+v), want %d: only the uncovered name", n, ca.OrderLog(), want)
	}
	rows := m.Status()
	for name, reason := range skipped {
		r, ok := row(rows, name)
		if !ok || r.State != StateSkipped || !strings.Contains(r.LastError, reason) {
			t.Errorf("row for %s = %+v, want skipped with %q:%s", name, r, reason, dumpRows(rows))
		}
		if ca.OrdersFor(name) != 0 {
			t.Errorf("an order named %s", name)
		}
	}
	if _, err := e.served("covered.example.test"); err == nil {
		t.Error("the manager served covered.example.test; the file store should")
	}
}

// TestExternalAccountBinding registers with EAB where the CA requires
// it, and reports the CA's demand in plain words without it.
func TestExternalAccountBinding(t *testing.T) {
	const kid, hmac = "kid-1", "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
	ca := pebbletest.StartWith(t, pebbletest.Options{EABKeys: map[string]string{kid: hmac}})
	e := newEdge(t, ca)

	without := baseConfig(t, ca)
	m1, stop := e.start(t, without)
	m1.SetHosts([]string{"noeab.example.test"}, nil)
	eventually(t, 30*time.Second, "the order without EAB to fail", func() bool {
		r, ok := row(m1.Status(), "noeab.example.test")
		return ok && r.State == certs.StateFailed
	}, func() string { return dumpRows(m1.Status()) })
	if r, _ := row(m1.Status(), "noeab.example.test"); !strings.Contains(r.LastError, "External Account Binding") {
		t.Errorf("last error = %q, want the CA's EAB requirement", r.LastError)
	}
	stop()

	with := baseConfig(t, ca)
	with.EAB = &EAB{KID: kid, HMAC: hmac}
	m2, _ := e.start(t, with)
	m2.SetHosts([]string{"eab.example.test"}, nil)
	e.waitServed(t, "eab.example.test")
}
