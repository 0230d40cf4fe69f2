package acme

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/certs/acme/pebbletest"
)

// TestFailuresAreReported: a name whose validation fails, and then a name
// ordered while the CA is down, show as failed with the error in plain
// words and the next retry; the other name keeps being served.
func TestFailuresAreReported(t *testing.T) {
	ca := pebbletest.Start(t)
	e := newEdge(t, ca)
	const ok, broken, later = "ok.fail.example.test", "broken.fail.example.test", "later.fail.example.test"
	// Nothing answers on 127.0.0.2, so the CA cannot validate broken.
	ca.DNS.SetA(broken, "127.0.0.2")
	m, _ := e.start(t, baseConfig(t, ca))
	m.SetHosts([]string{ok, broken}, nil)
	e.waitServed(t, ok)

	failed := func(name string) func() bool {
		return func() bool {
			r, found := row(m.Status(), name)
			return found && r.State == certs.StateFailed
		}
	}
	detail := func() string { return dumpRows(m.Status()) }
	eventually(t, 30*time.Second, broken+" to fail", failed(broken), detail)
	r, _ := row(m.Status(), broken)
	// The CA picks HTTP-01 or TLS-ALPN-01; either way it says it could
	// not connect to the address the name resolves to.
	if !strings.HasPrefix(r.LastError, "the CA ") || !strings.Contains(r.LastError, "127.0.0.2") ||
		!strings.Contains(strings.ToLower(r.LastError), "connect") {
		t.Errorf("last error = %q, want the CA's explanation", r.LastError)
	}
	checkRetry(t, r)

	// The CA goes down: a new name fails without reaching it, the
	// certificate already obtained keeps being served.
	ca.StopAPI()
	m.SetHosts([]string{ok, broken, later}, nil)
	eventually(t, 30*time.Second, later+" to fail", failed(later), detail)
	r, _ = row(m.Status(), later)
	if !strings.Contains(r.LastError, "network error") {
		t.Errorf("last error = %q, want a network error", r.LastError)
	}
	checkRetry(t, r)
	if _, err := e.served(ok); err != nil {
		t.Errorf("%s not served while the CA is down: %v", ok, err)
	}
}

// checkRetry wants the next retry about a minute away: certmagic's first
// backoff step.
func checkRetry(t *testing.T, r certs.Status) {
	t.Helper()
	now := time.Now()
	if r.ID != "pending:"+r.Names[0] || r.LastErrorAt.IsZero() ||
		r.NextRenewal.Before(now.Add(30*time.Second)) || r.NextRenewal.After(now.Add(2*time.Minute)) {
		t.Errorf("row = %+v, want a pending row with the error time and a retry in about a minute", r)
	}
}

// TestReleaseAfterRoutesGone: a name whose route has been gone for
// ReleaseAfter stops being managed; its files stay, so it comes back
// from storage without an order.
func TestReleaseAfterRoutesGone(t *testing.T) {
	ca := pebbletest.Start(t)
	e := newEdge(t, ca)
	var offset atomic.Int64
	cfg := baseConfig(t, ca)
	cfg.ReleaseAfter = time.Hour
	cfg.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	const host = "gone.release.example.test"
	m, _ := e.start(t, cfg)
	m.SetHosts([]string{host}, nil)
	e.waitServed(t, host)

	m.SetHosts(nil, nil)
	offset.Store(int64(30 * time.Minute))
	m.SetHosts(nil, nil)
	if _, err := e.served(host); err != nil {
		t.Fatalf("released after half of ReleaseAfter: %v", err)
	}
	if _, ok := row(m.Status(), host); !ok {
		t.Error("no status row while the certificate is still managed")
	}

	offset.Store(int64(2 * time.Hour))
	m.SetHosts(nil, nil)
	if _, err := e.served(host); err == nil {
		t.Error("still served after ReleaseAfter")
	}
	if r, ok := row(m.Status(), host); ok {
		t.Errorf("status still lists the released name: %+v", r)
	}

	before := ca.Orders()
	m.SetHosts([]string{host}, nil)
	e.waitServed(t, host)
	if n := ca.Orders() - before; n != 0 {
		t.Errorf("coming back placed %d orders, want 0 (files kept)", n)
	}
}
