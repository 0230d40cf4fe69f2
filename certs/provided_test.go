package certs

import (
	"strings"
	"testing"
)

// TestProvided: a provider's certificate is served for the listed hosts it
// covers (exact beating a file wildcard), replaced at once, and a broken
// one leaves its hosts to the default certificate and says why.
func TestProvided(t *testing.T) {
	t.Parallel()
	s, addr := sniStore(t, "")
	pc, pk, _ := mint(t, certOpts{names: []string{"shop.example.com", "*.shop.test"}, serial: 10})
	s.SetProvided([]Provided{{ID: "kubernetes:shop/web-tls", Hosts: []string{"shop.example.com", "a.shop.test", "uncovered.test"}, Cert: pc, Key: pk}})
	for sni, want := range map[string]int64{
		"shop.example.com": 10, // beats the file wildcard *.example.com
		"a.shop.test":      10,
		"b.shop.test":      1, // not a listed host
		"uncovered.test":   1, // listed, not covered
		"a.example.com":    3,
	} {
		if got := servedSerial(t, addr, sni); got != want {
			t.Errorf("SNI %s: serial %d, want %d", sni, got, want)
		}
	}
	if !s.Covers("shop.example.com") {
		t.Errorf("Covers: a provided certificate must keep ACME from ordering its hosts")
	}
	gen := s.Generation()
	s.SetProvided([]Provided{{ID: "kubernetes:shop/web-tls", Hosts: []string{"shop.example.com", "a.shop.test", "uncovered.test"}, Cert: pc, Key: pk}})
	if s.Generation() != gen {
		t.Errorf("the same set published a new generation")
	}

	// Rotation: served at once.
	rc, rk, _ := mint(t, certOpts{names: []string{"shop.example.com"}, serial: 11})
	s.SetProvided([]Provided{{ID: "kubernetes:shop/web-tls", Hosts: []string{"shop.example.com"}, Cert: rc, Key: rk}})
	if got := servedSerial(t, addr, "shop.example.com"); got != 11 {
		t.Errorf("after rotation: serial %d, want 11", got)
	}

	// Broken: what would answer without it answers (here the file
	// wildcard), and the status says why.
	s.SetProvided([]Provided{{ID: "kubernetes:shop/web-tls", Hosts: []string{"shop.example.com", "a.shop.test"}, Cert: rc, Key: pk}})
	if got := servedSerial(t, addr, "shop.example.com"); got != 2 {
		t.Errorf("broken: serial %d, want the file wildcard's 2", got)
	}
	if got := servedSerial(t, addr, "a.shop.test"); got != 1 {
		t.Errorf("broken: serial %d, want the default 1", got)
	}
	var found bool
	for _, st := range s.Status() {
		if st.Origin == "kubernetes:shop/web-tls" {
			found = true
			if st.State != StateFailed || !strings.Contains(st.LastError, "does not match") || st.Source != "kubernetes" {
				t.Errorf("status %+v", st)
			}
			if strings.Contains(st.LastError, "PRIVATE KEY") {
				t.Errorf("status quotes key material")
			}
		}
	}
	if !found {
		t.Errorf("no status for the provided certificate")
	}
	s.SetProvided(nil)
	if n := len(s.Status()); n != 3 {
		t.Errorf("%d certificates after removing the provided one, want 3", n)
	}
}
