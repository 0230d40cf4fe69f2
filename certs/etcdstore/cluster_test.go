package etcdstore

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

// clusterLockTTL is the lock lease TTL of cluster replicas.
const clusterLockTTL = 4 * time.Second

// cluster is several edges (ACME managers, each with its own etcd store,
// client and lock session) sharing one etcd and one Pebble, as replicas
// of a Rancher global service behind DNS round robin.
type cluster struct {
	t  *testing.T
	ca *pebbletest.CA
	te *testEtcd

	mu       sync.Mutex
	replicas []*replica
	next     atomic.Uint64

	// intercept, when set, sees HTTP-01 requests before any replica.
	intercept atomic.Pointer[func(http.ResponseWriter, *http.Request) bool]
}

// replica is one edge instance.
type replica struct {
	name  string
	store *Store
	m     *acme.Manager
	addr  string // its own HTTPS listener, for clients
	stop  func() // clean shutdown; also run at test end
	dead  atomic.Bool
}

// newCluster starts n replicas. The challenge ports Pebble validates on
// go to the live replicas in turn, as DNS round robin would; any replica
// can answer since challenge data lives in the shared storage.
func newCluster(t *testing.T, n int, tune func(*acme.Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, ca: pebbletest.Start(t), te: startEtcd(t)}
	getCert := func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if r := c.pick(); r != nil {
			return r.m.GetCertificate(h)
		}
		return nil, nil
	}
	handle := func(w http.ResponseWriter, req *http.Request) bool {
		if f := c.intercept.Load(); f != nil && (*f)(w, req) {
			return true
		}
		if r := c.pick(); r != nil {
			return r.m.HandleHTTPChallenge(w, req)
		}
		return false
	}
	c.ca.ServeChallenges(t, getCert, handle)
	for i := range n {
		c.add(fmt.Sprintf("edge-%d", i), tune)
	}
	return c
}

func (c *cluster) add(name string, tune func(*acme.Config)) *replica {
	t := c.t
	t.Helper()
	scfg := testConfig(c.te, name)
	// Longer than the conformance tests' 2 s: under -race on two cores
	// etcd can stall for a second or two, and a lease that expires in a
	// stall hands a held lock to another replica (a duplicate order).
	scfg.LockTTL = clusterLockTTL
	store, err := New(scfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	cfg := acme.Config{
		Email:       "ops@example.test",
		CA:          c.ca.DirectoryURL,
		CARoot:      c.ca.APIRootPEM,
		Storage:     store,
		OnHostRule:  true,
		Profile:     "default",
		HTTPPort:    c.ca.HTTPPort,
		TLSALPNPort: c.ca.TLSPort,
		Logger:      testLogger(),
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
	r := &replica{name: name, store: store, m: m, addr: serveHTTPS(t, m)}
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

// kill ends r as a crash would: its etcd connection and keep-alives stop
// first, so nothing it holds is released; then its manager stops.
func (r *replica) kill() {
	r.dead.Store(true)
	crash(r.store)
	r.stop()
}

// live returns the replicas still running.
func (c *cluster) live() []*replica {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*replica
	for _, r := range c.replicas {
		if !r.dead.Load() {
			out = append(out, r)
		}
	}
	return out
}

func (c *cluster) pick() *replica {
	live := c.live()
	if len(live) == 0 {
		return nil
	}
	return live[c.next.Add(1)%uint64(len(live))]
}

// setHosts gives every live replica the same routes at once, as Rancher
// metadata reaches all hosts at about the same time.
func (c *cluster) setHosts(hosts []string) {
	var wg sync.WaitGroup
	for _, r := range c.live() {
		wg.Go(func() { r.m.SetHosts(hosts, nil) })
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

// get sends one HTTPS request for name to addr on a fresh connection
// (so every request is a handshake) and returns the verified leaf.
func (c *cluster) get(addr, name string) (*x509.Certificate, error) {
	tr := &http.Transport{
		TLSClientConfig:   c.ca.ClientConfig(name),
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

// waitServed waits until every live replica serves every name, and
// returns the serial each one serves, by replica and name.
func (c *cluster) waitServed(names []string, timeout time.Duration) map[string]map[string]string {
	c.t.Helper()
	serials := map[string]map[string]string{}
	deadline := time.Now().Add(timeout)
	for _, r := range c.live() {
		serials[r.name] = map[string]string{}
		for _, name := range names {
			for {
				leaf, err := c.get(r.addr, name)
				if err == nil {
					serials[r.name][name] = leaf.SerialNumber.Text(16)
					break
				}
				if time.Now().After(deadline) {
					c.t.Fatalf("%s does not serve %s after %v: %v", r.name, name, timeout, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	return serials
}

// sameSerials checks that all replicas serve one certificate per name.
func sameSerials(t *testing.T, serials map[string]map[string]string, names []string) {
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
