package acme

import (
	"context"
	"crypto/tls"
	"testing"
	"time"
)

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
