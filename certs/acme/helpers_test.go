package acme

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/certs/acme/pebbletest"
)

// testLogger discards unless ACME_TEST_LOG is set, since certmagic is
// chatty and may log after a test has ended (t.Log would panic then).
func testLogger() *slog.Logger {
	if os.Getenv("ACME_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// edge stands in for the real edge: it serves Pebble's challenge ports
// with whichever Manager is current, so a restart can swap managers
// behind the same listeners.
type edge struct {
	ca   *pebbletest.CA
	cur  atomic.Pointer[Manager]
	addr string // HTTPS
}

func newEdge(t *testing.T, ca *pebbletest.CA) *edge {
	t.Helper()
	e := &edge{ca: ca}
	getCert := func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if m := e.cur.Load(); m != nil {
			return m.GetCertificate(h)
		}
		return nil, nil
	}
	handle := func(w http.ResponseWriter, r *http.Request) bool {
		if m := e.cur.Load(); m != nil {
			return m.HandleHTTPChallenge(w, r)
		}
		return false
	}
	e.addr = ca.ServeChallenges(t, getCert, handle)
	return e
}

// baseConfig points a manager at ca with its own storage directory.
func baseConfig(t *testing.T, ca *pebbletest.CA) Config {
	return Config{
		Email:       "ops@example.test",
		CA:          ca.DirectoryURL,
		CARoot:      ca.APIRootPEM,
		StorageDir:  t.TempDir(),
		OnHostRule:  true,
		Profile:     "default",
		HTTPPort:    ca.HTTPPort,
		TLSALPNPort: ca.TLSPort,
		Logger:      testLogger(),
	}
}

// start builds a manager, runs it, and makes it the edge's current one.
// The returned stop ends Run and closes the manager, as a process exit
// would; it also runs when the test ends.
func (e *edge) start(t *testing.T, cfg Config) (*Manager, func()) {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			e.cur.CompareAndSwap(m, nil)
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			if err := m.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	e.cur.Store(m)
	return m, stop
}

// served handshakes with the edge for name and returns the verified leaf.
func (e *edge) served(name string) (*x509.Certificate, error) {
	st, err := e.ca.Handshake(e.addr, name)
	if err != nil {
		return nil, err
	}
	return st.PeerCertificates[0], nil
}

// waitServed polls until a handshake for name verifies against Pebble's
// issuing root.
func (e *edge) waitServed(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	var leaf *x509.Certificate
	var lastErr error
	eventually(t, 30*time.Second, "a certificate for "+name, func() bool {
		leaf, lastErr = e.served(name)
		return lastErr == nil
	}, func() string { return lastErrString(lastErr) })
	return leaf
}

func lastErrString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// eventually polls cond every 50 ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool, detail func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			if detail != nil {
				msg = detail()
			}
			t.Fatalf("timed out after %v waiting for %s: %s", timeout, what, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// row finds the status row naming name.
func row(rows []certs.Status, name string) (certs.Status, bool) {
	for _, r := range rows {
		for _, n := range r.Names {
			if n == name {
				return r, true
			}
		}
	}
	return certs.Status{}, false
}

func dumpRows(rows []certs.Status) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString("\n  " + r.ID + " " + strings.Join(r.Names, ",") + " " + string(r.State) + " " + r.LastError)
	}
	return b.String()
}

// noRedirect makes an http.Client report redirects instead of following them.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
