package acme

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/certs/acme/pebbletest"
)

// TestRestartReusesStorage: a new manager on the same storage serves the
// same certificate and places no order.
func TestRestartReusesStorage(t *testing.T) {
	ca := pebbletest.Start(t)
	e := newEdge(t, ca)
	cfg := baseConfig(t, ca)
	const host = "r.restart.example.test"

	m1, stop1 := e.start(t, cfg)
	m1.SetHosts([]string{host}, nil)
	first := e.waitServed(t, host)
	stop1()
	before := ca.Orders()

	m2, _ := e.start(t, cfg)
	m2.SetHosts([]string{host}, nil)
	again := e.waitServed(t, host)
	if again.SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Errorf("served serial %x after restart, want %x", again.SerialNumber, first.SerialNumber)
	}
	if n := ca.Orders() - before; n != 0 {
		t.Errorf("restart placed %d orders, want 0", n)
	}
	if r, ok := row(m2.Status(), host); !ok || r.State != certs.StateValid || r.LastRenewal.IsZero() {
		t.Errorf("status after restart = %+v, want valid and loaded", r)
	}
}

// TestRenewalSwapsCertificate: with a short-lived profile the served
// certificate is renewed in place while a client keeps handshaking, and
// no handshake fails.
func TestRenewalSwapsCertificate(t *testing.T) {
	ca := pebbletest.StartWith(t, pebbletest.Options{Profiles: map[string]time.Duration{
		"default": 90 * 24 * time.Hour,
		"short":   10 * time.Second,
	}})
	e := newEdge(t, ca)
	cfg := baseConfig(t, ca)
	cfg.Profile = "short"
	cfg.RenewalWindowRatio = 0.75 // renew 2.5 s after issuance
	cfg.RenewCheckInterval = 250 * time.Millisecond
	const host = "renew.example.test"
	m, _ := e.start(t, cfg)
	m.SetHosts([]string{host}, nil)
	first := e.waitServed(t, host)

	// One connection per handshake, like clients arriving over time; each
	// must verify (chain and validity) against Pebble's root.
	serials := map[string]bool{first.SerialNumber.Text(16): true}
	handshakes, failures := 0, 0
	var lastErr error
	deadline := time.Now().Add(25 * time.Second)
	for len(serials) < 3 && time.Now().Before(deadline) {
		leaf, err := e.served(host)
		handshakes++
		if err != nil {
			failures++
			lastErr = err
		} else {
			serials[leaf.SerialNumber.Text(16)] = true
		}
		time.Sleep(20 * time.Millisecond)
	}
	if failures != 0 {
		t.Errorf("%d of %d handshakes failed during renewal; last: %v", failures, handshakes, lastErr)
	}
	if len(serials) < 3 {
		t.Fatalf("saw serials %v in %d handshakes, want the certificate renewed twice", serials, handshakes)
	}
	t.Logf("%d handshakes, %d serials, %d orders", handshakes, len(serials), ca.Orders())
	if r, ok := row(m.Status(), host); !ok || !r.LastRenewal.After(first.NotBefore) {
		t.Errorf("status = %+v, want a renewal recorded", r)
	}
}

// TestOnDemand: a name with a route is issued at its first handshake; a
// random name is refused without any order reaching the CA.
func TestOnDemand(t *testing.T) {
	ca := pebbletest.Start(t)
	e := newEdge(t, ca)
	cfg := baseConfig(t, ca)
	cfg.OnHostRule = false
	cfg.OnDemand = true
	cfg.Allow = func(name string) bool { return name == "od.ondemand.example.test" }
	m, _ := e.start(t, cfg)

	// The very first handshake gets the certificate.
	leaf, err := e.served("od.ondemand.example.test")
	if err != nil {
		t.Fatalf("first handshake: %v", err)
	}
	if leaf.DNSNames[0] != "od.ondemand.example.test" {
		t.Errorf("served %v", leaf.DNSNames)
	}
	if n := ca.Orders(); n != 1 {
		t.Errorf("orders = %d, want 1", n)
	}

	for _, name := range []string{"random-7f3a.ondemand.example.test", "evil.example.test", "10.1.2.3"} {
		if _, err := e.served(name); err == nil {
			t.Errorf("handshake for %s succeeded, want refused", name)
		}
		hello := &tls.ClientHelloInfo{ServerName: name, Conn: &net.TCPConn{}}
		if c, err := m.GetCertificate(hello); c != nil || err != nil {
			t.Errorf("GetCertificate(%s) = %v, %v; want nil, nil", name, c, err)
		}
	}
	if n := ca.Orders(); n != 1 {
		t.Errorf("orders = %d after refused names (%+v), want still 1", n, ca.OrderLog())
	}
	if r, ok := row(m.Status(), "od.ondemand.example.test"); !ok || r.State != certs.StateValid {
		t.Errorf("on-demand row = %+v (found %v), want valid:%s", r, ok, dumpRows(m.Status()))
	}
}

// TestLifecycle: Close works without Run and twice; Run refuses to run
// twice or after Close; nothing is served before a certificate exists.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	cfg := Config{StorageDir: t.TempDir(), OnHostRule: true, Logger: testLogger()}

	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.SetHosts([]string{"a.example.com"}, []string{"HostRegexp:{x}.example.com"})
	if rows := m.Status(); len(rows) != 2 {
		t.Errorf("status before Run = %s, want a pending and a skipped row", dumpRows(rows))
	}
	if c, err := m.GetCertificate(&tls.ClientHelloInfo{ServerName: "a.example.com"}); c != nil || err != nil {
		t.Errorf("GetCertificate before any certificate = %v, %v; want nil, nil", c, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := m.Run(context.Background()); err == nil {
		t.Error("Run after Close succeeded")
	}

	m2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m2.Run(ctx) }()
	eventually(t, 5*time.Second, "Run to start", func() bool {
		m2.mu.Lock()
		defer m2.mu.Unlock()
		return m2.runCtx != nil
	}, nil)
	if err := m2.Run(ctx); err == nil {
		t.Error("second Run succeeded")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
}
