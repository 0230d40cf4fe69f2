package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs/acme/pebbletest"
	"github.com/rancher-edge/edge/discovery/rancher/ranchertest"
)

// TestACMEForHostsDiscoveredInRancher runs the whole edge against a fake
// Rancher and a real ACME CA (Pebble): the host of a discovered service
// gets a certificate through HTTP-01 answered on the edge's own HTTP port
// and is served over HTTPS; a host under the secret-held wildcard places
// no order; a restart on the same storage places no new order.
func TestACMEForHostsDiscoveredInRancher(t *testing.T) {
	ca := pebbletest.Start(t) // not parallel: Pebble is configured through the environment
	ca.ReleasePorts()

	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "backend saw %s", r.Host)
	}))
	defer backend.Close()
	_, bport, _ := net.SplitHostPort(strings.TrimPrefix(backend.URL, "http://"))

	rancher, err := ranchertest.New(ranchertest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rancher.Close()
	stack := rancher.AddStack(ranchertest.StackSpec{Name: "web"})
	rancher.AddService(stack, ranchertest.ServiceSpec{
		Name: "shop", Scale: 1, IP: func(int) string { return "127.0.0.1" },
		Labels: map[string]string{"traefik.port": bport},
	})
	rancher.AddService(stack, ranchertest.ServiceSpec{
		Name: "covered", Scale: 1, IP: func(int) string { return "127.0.0.1" },
		Labels: map[string]string{"traefik.port": bport, "traefik.frontend.rule": "Host:a.wild.example.test"},
	})

	dir := t.TempDir()
	wildCert, wildKey, wildPEM := writeCert(t, dir, "wild", "*.wild.example.test")
	storage := filepath.Join(dir, "acme")
	env := rancherACMEEnv(ca, rancher, wildCert, wildKey, storage)
	env["TRAEFIK_ADMIN_PORT"] = "0"
	const host = "shop.web.example.test"
	roots := ca.IssuerRoots()
	roots.AppendCertsFromPEM(wildPEM)

	serial := func() string {
		stop := startEdgeProcess(t, env)
		defer stop()
		state := waitForIssuer(t, ca, host, ca.TLSPort, roots)
		// The certificate is served for real requests, proxied to the
		// discovered container.
		c := httpsClient(roots, ca.TLSPort, ca.HTTPPort)
		resp, err := c.Get("https://" + host + ":" + strconv.Itoa(ca.TLSPort) + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "backend saw "+host) {
			t.Errorf("proxied body %q", body)
		}
		// Normal plain-HTTP requests are still redirected.
		resp, err = c.Get("http://" + host + ":" + strconv.Itoa(ca.HTTPPort) + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Errorf("plain HTTP answered %d, want a redirect", resp.StatusCode)
		}
		return state.PeerCertificates[0].SerialNumber.String()
	}

	first := serial()
	if n := ca.OrdersFor(host); n != 1 {
		t.Errorf("orders for %s = %d, want 1", host, n)
	}
	if n := ca.OrdersFor("a.wild.example.test"); n != 0 {
		t.Errorf("a name under the secret-held wildcard was ordered %d times", n)
	}
	orders := ca.Orders()

	// Restart on the same storage: the certificate is reused.
	second := serial()
	if got := ca.Orders(); got != orders {
		t.Errorf("restart placed %d new orders", got-orders)
	}
	if first != second {
		t.Errorf("restart serves serial %s, want the stored %s", second, first)
	}
}

// startEdgeProcess runs the edge in the background with env and returns
// a function that stops it and waits.
func startEdgeProcess(t *testing.T, env map[string]string) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncWriter{w: &bytes.Buffer{}}
	go func() { done <- run(ctx, nil, mapEnv(env), io.Discard, logs) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("edge did not stop")
		}
		if t.Failed() {
			logs.mu.Lock()
			t.Logf("edge logs:\n%s", logs.w.(*bytes.Buffer).String())
			logs.mu.Unlock()
		}
	}
}

// waitForIssuer handshakes with the edge until host is served a
// certificate that chains to roots (Pebble's issuing root).
func waitForIssuer(t *testing.T, ca *pebbletest.CA, host string, port int, roots *x509.CertPool) tls.ConnectionState {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", "127.0.0.1:"+strconv.Itoa(port),
			&tls.Config{ServerName: host, RootCAs: ca.IssuerRoots()})
		if err == nil {
			st := conn.ConnectionState()
			conn.Close()
			return st
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never got a certificate from the CA: %v", host, last)
	return tls.ConnectionState{}
}

// httpsClient dials the edge on loopback whatever the URL's host.
func httpsClient(roots *x509.CertPool, httpsPort, httpPort int) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// rancherACMEEnv configures a whole edge the way a user would: the fake
// Rancher for routes, a secret-held wildcard, and ACME (HTTP-01) from
// Pebble on the ports Pebble validates, with storage in dir.
func rancherACMEEnv(ca *pebbletest.CA, rancher *ranchertest.Server, certPath, keyPath, storage string) map[string]string {
	access, secret := rancher.EnvironmentKey()
	return map[string]string{
		"TRAEFIK_HTTP_PORT":         strconv.Itoa(ca.HTTPPort),
		"TRAEFIK_HTTPS_PORT":        strconv.Itoa(ca.TLSPort),
		"TRAEFIK_SSL_CERT":          certPath,
		"TRAEFIK_SSL_PRIVATE_KEY":   keyPath,
		"TRAEFIK_RANCHER_ENDPOINT":  rancher.ProjectURL(),
		"TRAEFIK_RANCHER_ACCESSKEY": access,
		"TRAEFIK_RANCHER_SECRET":    secret,
		"TRAEFIK_RANCHER_DOMAIN":    "example.test",
		"TRAEFIK_ACME_ENABLE":       "true",
		"TRAEFIK_ACME_EMAIL":        "ops@example.test",
		"TRAEFIK_ACME_CASERVER":     ca.DirectoryURL,
		"TRAEFIK_ACME_CA_ROOT":      string(ca.APIRootPEM),
		"TRAEFIK_ACME_STORAGE":      storage,
		"TRAEFIK_ACME_CHALLENGE":    "http-01",
	}
}
