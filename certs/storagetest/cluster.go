package storagetest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs/acme"
	"github.com/rancher-edge/edge/certs/acme/pebbletest"
)

// Cluster is several edges (ACME managers, each with its own store,
// client and lock identity) sharing one storage backend and one Pebble,
// as replicas of a global service behind DNS round robin.
type Cluster struct {
	t  *testing.T
	CA *pebbletest.CA
	b  Backend

	mu       sync.Mutex
	replicas []*Replica
	next     atomic.Uint64

	// Intercept, when set, sees HTTP-01 requests before any replica.
	Intercept atomic.Pointer[func(http.ResponseWriter, *http.Request) bool]
}

// Replica is one edge instance.
type Replica struct {
	Name  string
	Store Store
	M     *acme.Manager
	Addr  string // its own HTTPS listener, for clients
	stop  func() // clean shutdown; also run at test end
	crash func(Store)
	dead  atomic.Bool
}

// NewCluster starts n replicas on b; tune, if set, adjusts each
// replica's ACME configuration. The challenge ports Pebble validates on
// go to the live replicas in turn, as DNS round robin would; any replica
// can answer since challenge data lives in the shared storage.
func NewCluster(t *testing.T, n int, b Backend, tune func(*acme.Config)) *Cluster {
	t.Helper()
	c := &Cluster{t: t, CA: pebbletest.Start(t), b: b}
	getCert := func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if r := c.pick(); r != nil {
			return r.M.GetCertificate(h)
		}
		return nil, nil
	}
	handle := func(w http.ResponseWriter, req *http.Request) bool {
		if f := c.Intercept.Load(); f != nil && (*f)(w, req) {
			return true
		}
		if r := c.pick(); r != nil {
			return r.M.HandleHTTPChallenge(w, req)
		}
		return false
	}
	c.CA.ServeChallenges(t, getCert, handle)
	for i := range n {
		c.add(fmt.Sprintf("edge-%d", i), tune)
	}
	return c
}

func (c *Cluster) add(name string, tune func(*acme.Config)) *Replica {
	t := c.t
	t.Helper()
	store := c.b.Open(t, name)
	cfg := acme.Config{
		Email:       "ops@example.test",
		CA:          c.CA.DirectoryURL,
		CARoot:      c.CA.APIRootPEM,
		Storage:     store,
		OnHostRule:  true,
		Profile:     "default",
		HTTPPort:    c.CA.HTTPPort,
		TLSALPNPort: c.CA.TLSPort,
		Logger:      Logger(),
	}
	if tune != nil {
		tune(&cfg)
	}
	m, err := acme.New(cfg)
	if err != nil {
		t.Fatalf("acme.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	r := &Replica{Name: name, Store: store, M: m, Addr: serveHTTPS(t, m), crash: c.b.Crash}
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			r.dead.Store(true)
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s: Run: %v", name, err)
			}
			m.Close()
			store.Close()
		})
	}
	t.Cleanup(r.stop)
	c.mu.Lock()
	c.replicas = append(c.replicas, r)
	c.mu.Unlock()
	return r
}

// Kill ends r as a crash would: its store's connection and lock
// renewals stop first, so nothing it holds is released; then its
// manager stops.
func (r *Replica) Kill() {
	r.dead.Store(true)
	r.crash(r.Store)
	r.stop()
}

// Live returns the replicas still running.
func (c *Cluster) Live() []*Replica {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*Replica
	for _, r := range c.replicas {
		if !r.dead.Load() {
			out = append(out, r)
		}
	}
	return out
}

func (c *Cluster) pick() *Replica {
	live := c.Live()
	if len(live) == 0 {
		return nil
	}
	return live[c.next.Add(1)%uint64(len(live))]
}

// SetHosts gives every live replica the same routes at once, as Rancher
// metadata reaches all hosts at about the same time.
func (c *Cluster) SetHosts(hosts []string) {
	var wg sync.WaitGroup
	for _, r := range c.Live() {
		wg.Go(func() { r.M.SetHosts(hosts, nil) })
	}
	wg.Wait()
}

// serveHTTPS serves m's certificates on a loopback listener, answering
// "ok" to every request, until the test ends.
func serveHTTPS(t *testing.T, m *acme.Manager) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: m.GetCertificate},
		ErrorLog:          log.New(io.Discard, "", 0),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go srv.ServeTLS(ln, "", "") //nolint:errcheck // ErrServerClosed at teardown
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// Get sends one HTTPS request for name to addr on a fresh connection
// (so every request is a handshake) and returns the verified leaf.
func (c *Cluster) Get(addr, name string) (*x509.Certificate, error) {
	tr := &http.Transport{
		TLSClientConfig:   c.CA.ClientConfig(name),
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		},
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	resp, err := client.Get("https://" + name + "/")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != "ok" {
		return nil, fmt.Errorf("GET %s: status %d, body %q, %v", name, resp.StatusCode, body, err)
	}
	return resp.TLS.PeerCertificates[0], nil
}

// WaitServed waits until every live replica serves every name, and
// returns the serial each one serves, by replica and name.
func (c *Cluster) WaitServed(names []string, timeout time.Duration) map[string]map[string]string {
	c.t.Helper()
	serials := map[string]map[string]string{}
	deadline := time.Now().Add(timeout)
	for _, r := range c.Live() {
		serials[r.Name] = map[string]string{}
		for _, name := range names {
			for {
				leaf, err := c.Get(r.Addr, name)
				if err == nil {
					serials[r.Name][name] = leaf.SerialNumber.Text(16)
					break
				}
				if time.Now().After(deadline) {
					c.t.Fatalf("%s does not serve %s after %v: %v", r.Name, name, timeout, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	return serials
}

// SameSerials checks that all replicas serve one certificate per name.
func SameSerials(t *testing.T, serials map[string]map[string]string, names []string) {
	t.Helper()
	for _, name := range names {
		var first, firstBy string
		for by, m := range serials {
			switch {
			case first == "":
				first, firstBy = m[name], by
			case m[name] != first:
				t.Errorf("%s: %s serves serial %s, %s serves %s", name, by, m[name], firstBy, first)
			}
		}
	}
}
