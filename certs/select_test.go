package certs

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"
	"time"
)

// sniStore has a default, a wildcard and an exact certificate, serials 1,
// 2 and 3.
func sniStore(t *testing.T, def string) (*Store, string) {
	t.Helper()
	dc, dk, _ := mint(t, certOpts{names: []string{"default.test"}, serial: 1})
	wc, wk, _ := mint(t, certOpts{names: []string{"*.example.com"}, serial: 2})
	ec, ek, _ := mint(t, certOpts{names: []string{"a.example.com"}, serial: 3})
	s, err := New(Config{
		Pairs: []Pair{
			inlinePair(t, "default", dc, dk),
			inlinePair(t, "wildcard", wc, wk),
			inlinePair(t, "exact", ec, ek),
		},
		Default: def,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, serve(t, s.TLSConfig())
}

func TestSNISelection(t *testing.T) {
	t.Parallel()
	_, addr := sniStore(t, "")
	tests := []struct {
		sni  string
		want int64
	}{
		{"a.example.com", 3},      // exact beats wildcard
		{"A.Example.COM", 3},      // case-insensitive
		{"b.example.com", 2},      // wildcard
		{"example.com", 1},        // wildcard does not cover the parent
		{"a.b.example.com", 1},    // nor two labels
		{"unknown.test", 1},       // unknown SNI
		{"", 1},                   // absent SNI
		{"default.test", 1},       //
		{"xa.example.com.org", 1}, // suffix is not enough
	}
	for _, tt := range tests {
		t.Run(tt.sni, func(t *testing.T) {
			t.Parallel()
			if got := servedSerial(t, addr, tt.sni); got != tt.want {
				t.Errorf("SNI %q: serial %d, want %d", tt.sni, got, tt.want)
			}
		})
	}
}

func TestDefaultSetting(t *testing.T) {
	t.Parallel()
	for _, def := range []string{"2", "*.example.com", "*.EXAMPLE.com"} {
		t.Run(def, func(t *testing.T) {
			t.Parallel()
			s, addr := sniStore(t, def)
			if got := servedSerial(t, addr, "unknown.test"); got != 2 {
				t.Errorf("default %q: serial %d, want 2", def, got)
			}
			st := s.Status()
			if !st[1].Default || st[0].Default || st[2].Default {
				t.Errorf("Default flags wrong: %v %v %v", st[0].Default, st[1].Default, st[2].Default)
			}
		})
	}
}

func TestPreferValidLongest(t *testing.T) {
	t.Parallel()
	now := time.Now()
	short, shortK, _ := mint(t, certOpts{names: []string{"x.test"}, serial: 10, notAfter: now.Add(24 * time.Hour)})
	long, longK, _ := mint(t, certOpts{names: []string{"x.test"}, serial: 11, notAfter: now.Add(48 * time.Hour)})
	expired, expiredK, _ := mint(t, certOpts{names: []string{"y.test"}, serial: 12, notBefore: now.Add(-48 * time.Hour), notAfter: now.Add(-time.Hour)})
	wild, wildK, _ := mint(t, certOpts{names: []string{"*.test"}, serial: 13})
	s, err := New(Config{Pairs: []Pair{
		inlinePair(t, "short", short, shortK),
		inlinePair(t, "long", long, longK),
		inlinePair(t, "expired", expired, expiredK),
		inlinePair(t, "wild", wild, wildK),
	}})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, s.TLSConfig())
	if got := servedSerial(t, addr, "x.test"); got != 11 {
		t.Errorf("x.test: serial %d, want the longer valid 11", got)
	}
	if got := servedSerial(t, addr, "y.test"); got != 13 {
		t.Errorf("y.test: serial %d, want the valid wildcard 13 over the expired exact", got)
	}
	if s.Status()[2].State != StateExpired {
		t.Errorf("expired certificate state = %s", s.Status()[2].State)
	}
}

func TestTLSPolicy(t *testing.T) {
	t.Parallel()
	_, addr := sniStore(t, "")

	t.Run("TLS 1.1 refused", func(t *testing.T) {
		t.Parallel()
		_, err := dial(addr, "a.example.com", func(c *tls.Config) {
			c.MinVersion, c.MaxVersion = tls.VersionTLS11, tls.VersionTLS11
		})
		if err == nil || !strings.Contains(err.Error(), "protocol version") {
			t.Fatalf("TLS 1.1 handshake: err = %v, want a protocol version alert", err)
		}
		t.Log(err)
	})
	t.Run("CBC refused", func(t *testing.T) {
		t.Parallel()
		_, err := dial(addr, "a.example.com", func(c *tls.Config) {
			c.MaxVersion = tls.VersionTLS12
			c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}
		})
		if err == nil || !strings.Contains(err.Error(), "handshake failure") {
			t.Fatalf("CBC handshake: err = %v, want a handshake failure alert", err)
		}
		t.Log(err)
	})
	t.Run("TLS 1.2 AEAD", func(t *testing.T) {
		t.Parallel()
		st, err := dial(addr, "a.example.com", func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 })
		if err != nil {
			t.Fatal(err)
		}
		if st.Version != tls.VersionTLS12 || !slices.Contains(cipherSuites(), st.CipherSuite) {
			t.Errorf("version %x suite %s", st.Version, tls.CipherSuiteName(st.CipherSuite))
		}
	})
	t.Run("h2 via ALPN over TLS 1.3", func(t *testing.T) {
		t.Parallel()
		st, err := dial(addr, "a.example.com", func(c *tls.Config) { c.NextProtos = []string{"h2", "http/1.1"} })
		if err != nil {
			t.Fatal(err)
		}
		if st.NegotiatedProtocol != "h2" || st.Version != tls.VersionTLS13 {
			t.Errorf("ALPN %q version %x", st.NegotiatedProtocol, st.Version)
		}
	})
}

func TestTLSConfigFields(t *testing.T) {
	t.Parallel()
	s, _ := sniStore(t, "")
	c := s.TLSConfig()
	if c.MinVersion != tls.VersionTLS12 || len(c.CipherSuites) != 6 {
		t.Errorf("MinVersion %x, %d suites", c.MinVersion, len(c.CipherSuites))
	}
	for _, id := range c.CipherSuites {
		name := tls.CipherSuiteName(id)
		if !strings.HasPrefix(name, "TLS_ECDHE_") || strings.Contains(name, "CBC") {
			t.Errorf("suite %s is not ECDHE+AEAD", name)
		}
	}
	wantCurves := []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384}
	if !slices.Equal(c.CurvePreferences, wantCurves) {
		t.Errorf("curves %v", c.CurvePreferences)
	}
	if !slices.Equal(c.NextProtos, []string{"h2", "http/1.1"}) {
		t.Errorf("NextProtos %v", c.NextProtos)
	}
	c.NextProtos[0] = "changed"
	if s.TLSConfig().NextProtos[0] != "h2" {
		t.Error("TLSConfig shares state between calls")
	}
}

func TestManager(t *testing.T) {
	t.Parallel()
	s, _ := sniStore(t, "")
	mc, mk, _ := mint(t, certOpts{names: []string{"acme.test"}, serial: 50})
	cc, ck, _ := mint(t, certOpts{names: []string{"a.example.com"}, serial: 51})
	m := &fakeManager{
		names:     []string{"acme.test"},
		cert:      tlsCert(t, mc, mk),
		challenge: tlsCert(t, cc, ck),
		status: []Status{
			{ID: "m1", Names: []string{"acme.test"}, Source: "acme", State: StateValid},
			{ID: "pending:p.test", Names: []string{"p.test"}, Source: "acme", State: StateRenewing},
		},
	}
	s.SetManager(m)
	cfg := s.TLSConfig()
	if !slices.Contains(cfg.NextProtos, ACMETLS1Protocol) {
		t.Fatalf("NextProtos %v lacks acme-tls/1", cfg.NextProtos)
	}
	addr := serve(t, cfg)

	tests := []struct {
		sni    string
		protos []string
		want   int64
	}{
		{"acme.test", nil, 50},                                  // manager after files
		{"a.example.com", nil, 3},                               // files first
		{"a.example.com", []string{ACMETLS1Protocol}, 51},       // challenge goes to the manager first
		{"unknown.test", nil, 1},                                // manager has none: default
		{"error.test", nil, 1},                                  // manager error: default
		{"b.example.com", []string{"h2", ACMETLS1Protocol}, 51}, // challenge among others
		{"b.example.com", []string{"h2", "http/1.1"}, 2},        // ordinary
	}
	for _, tt := range tests {
		st, err := dial(addr, tt.sni, func(c *tls.Config) { c.NextProtos = tt.protos })
		if err != nil {
			t.Fatalf("%s %v: %v", tt.sni, tt.protos, err)
		}
		if got := st.PeerCertificates[0].SerialNumber.Int64(); got != tt.want {
			t.Errorf("%s %v: serial %d, want %d", tt.sni, tt.protos, got, tt.want)
		}
	}

	if !s.Covers("b.example.com") || !s.Covers("A.example.com") || s.Covers("acme.test") || s.Covers("example.com") {
		t.Error("Covers wrong")
	}
	if st, ok := s.CertificateFor("acme.test"); !ok || st.ID != "m1" {
		t.Errorf("CertificateFor(acme.test) = %v, %v", st.ID, ok)
	}
	if st, ok := s.CertificateFor("p.test"); !ok || !st.Default {
		t.Errorf("CertificateFor(pending p.test) = %v, want the default", st.ID)
	}
	if st, ok := s.CertificateFor("B.example.com"); !ok || st.Serial != "2" {
		t.Errorf("CertificateFor(b.example.com) serial %q", st.Serial)
	}
	if got := s.Status(); len(got) != 5 || got[3].ID != "m1" {
		t.Errorf("Status has %d entries", len(got))
	}
}

func TestNoCertificate(t *testing.T) {
	t.Parallel()
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetCertificate(&tls.ClientHelloInfo{ServerName: "x.test"}); err == nil {
		t.Error("no error without any certificate")
	}
	if _, ok := s.CertificateFor("x.test"); ok {
		t.Error("CertificateFor found something")
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	s, _ := sniStore(t, "")
	hello := &tls.ClientHelloInfo{ServerName: "b.example.com"}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := s.GetCertificate(hello); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("GetCertificate allocates %v times", allocs)
	}
}
