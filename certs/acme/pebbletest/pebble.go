package pebbletest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
)

// Options tune a Pebble instance. The zero value gives one "default"
// profile of 90 days and no External Account Binding.
type Options struct {
	// Profiles maps ACME profile names to certificate lifetimes. Nil
	// means {"default": 90 days}. Pebble picks a random profile for
	// orders that name none, so clients should pin one.
	Profiles map[string]time.Duration

	// EABKeys maps External Account Binding key IDs to base64url
	// (unpadded) HMAC keys. When non-empty, Pebble requires EAB.
	EABKeys map[string]string

	// Log, when true, sends Pebble's own log to t.Log.
	Log bool

	// DNSServer, when set, is the host:port of the DNS server the
	// validation authority resolves names and DNS-01 records with (a real
	// authoritative server, see package bindtest) instead of [CA.DNS].
	DNSServer string
}

// CA is a running Pebble instance.
type CA struct {
	// DirectoryURL is the ACME directory, https://127.0.0.1:port/dir.
	DirectoryURL string

	// APIRootPEM is the certificate that the ACME API server presents,
	// which a client must trust to talk to it (the edge's CA root
	// setting, TRAEFIK_ACME_CA_ROOT).
	APIRootPEM []byte

	// HTTPPort and TLSPort are the loopback ports on which Pebble's
	// validation authority dials HTTP-01 and TLS-ALPN-01 challenges.
	HTTPPort, TLSPort int

	// DNS is the server the validation authority resolves names with.
	DNS *DNS

	api    *httptest.Server
	pca    *ca.CAImpl
	db     *db.MemoryStore
	httpLn net.Listener
	tlsLn  net.Listener

	mu       sync.Mutex
	orders   []Order
	accounts int
}

// Order is one new-order request as the CA received it.
type Order struct {
	Names   []string
	Profile string
}

// Start runs Pebble with the default [Options] until the test ends.
func Start(t testing.TB) *CA { return StartWith(t, Options{}) }

// StartWith runs Pebble with opts until the test ends. It sets Pebble's
// environment knobs with t.Setenv, so t cannot be parallel.
func StartWith(t testing.TB, opts Options) *CA {
	t.Helper()
	// No random validation sleeps, no rejected nonces, and a fresh
	// validation for every order: fast and deterministic.
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	t.Setenv("PEBBLE_AUTHZREUSE", "0")

	logger := log.New(io.Discard, "", 0)
	if opts.Log {
		logger = log.New(testWriter{t}, "pebble ", 0)
	}

	c := &CA{DNS: startDNS(t)}
	c.httpLn = listen(t)
	c.tlsLn = listen(t)
	c.HTTPPort = c.httpLn.Addr().(*net.TCPAddr).Port
	c.TLSPort = c.tlsLn.Addr().(*net.TCPAddr).Port

	profiles := map[string]ca.Profile{}
	for name, life := range opts.Profiles {
		profiles[name] = ca.Profile{Description: name, ValidityPeriod: uint64(life / time.Second)}
	}
	if len(profiles) == 0 {
		profiles["default"] = ca.Profile{Description: "90 days", ValidityPeriod: 90 * 24 * 3600}
	}

	c.db = db.NewMemoryStore()
	for kid, key := range opts.EABKeys {
		if err := c.db.AddExternalAccountKeyByID(kid, key); err != nil {
			t.Fatalf("pebbletest: adding EAB key %q: %v", kid, err)
		}
	}
	c.pca = ca.New(logger, c.db, "", "ecdsa", 0, 1, profiles)
	dnsServer := c.DNS.Addr
	if opts.DNSServer != "" {
		dnsServer = opts.DNSServer
	}
	pva := va.New(logger, c.HTTPPort, c.TLSPort, false, dnsServer, c.db)
	// Zero Retry-After values let the client poll at its own 250 ms pace.
	pwfe := wfe.New(logger, c.db, pva, c.pca, nil, false, len(opts.EABKeys) > 0, 0, 0)

	c.api = httptest.NewUnstartedServer(c.countOrders(pwfe.Handler()))
	c.api.Config.ErrorLog = logger
	c.api.StartTLS()
	t.Cleanup(c.api.Close)
	c.DirectoryURL = c.api.URL + wfe.DirectoryPath
	c.APIRootPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.api.Certificate().Raw})
	return c
}

// IssuerRootPEM is the root that signs issued certificates (it changes
// on every start).
func (c *CA) IssuerRootPEM() []byte { return c.pca.GetRootCert(0).PEM() }

// IssuerRoots is a pool holding [CA.IssuerRootPEM], for TLS clients that
// verify served certificates.
func (c *CA) IssuerRoots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.IssuerRootPEM())
	return pool
}

// Orders counts new-order requests received so far.
func (c *CA) Orders() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.orders)
}

// Accounts counts new-account requests received so far (registrations
// and look-ups of an existing account by its key alike).
func (c *CA) Accounts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.accounts
}

// OrdersFor counts new-order requests that named name.
func (c *CA) OrdersFor(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, o := range c.orders {
		for _, id := range o.Names {
			if strings.EqualFold(id, name) {
				n++
			}
		}
	}
	return n
}

// OrderLog returns a copy of every new-order request so far.
func (c *CA) OrderLog() []Order {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Order, len(c.orders))
	copy(out, c.orders)
	return out
}

// BlockDomain makes Pebble refuse orders for name and its subdomains.
func (c *CA) BlockDomain(name string) {
	if err := c.db.AddBlockedDomain(name); err != nil {
		panic("pebbletest: blocking " + name + ": " + err.Error())
	}
}

// StopAPI takes the ACME API down, as an outage would: later requests
// fail to connect.
func (c *CA) StopAPI() { c.api.Close() }

// countOrders counts new-account requests and records every POST to the new-order endpoint, reading the
// identifiers from the JWS payload, before Pebble handles it.
func (c *CA) countOrders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/sign-me-up" {
			c.mu.Lock()
			c.accounts++
			c.mu.Unlock()
		}
		if r.Method == http.MethodPost && r.URL.Path == "/order-plz" {
			body, err := io.ReadAll(r.Body)
			if err == nil {
				r.Body = io.NopCloser(bytes.NewReader(body))
				c.mu.Lock()
				c.orders = append(c.orders, parseOrder(body))
				c.mu.Unlock()
			}
		}
		next.ServeHTTP(w, r)
	})
}

func parseOrder(body []byte) Order {
	var jws struct {
		Payload string `json:"payload"`
	}
	var payload struct {
		Identifiers []struct {
			Value string `json:"value"`
		} `json:"identifiers"`
		Profile string `json:"profile"`
	}
	var o Order
	if json.Unmarshal(body, &jws) != nil {
		return o
	}
	raw, err := base64.RawURLEncoding.DecodeString(jws.Payload)
	if err != nil || json.Unmarshal(raw, &payload) != nil {
		return o
	}
	for _, id := range payload.Identifiers {
		o.Names = append(o.Names, id.Value)
	}
	o.Profile = payload.Profile
	return o
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pebbletest: listening: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// ClientConfig is a TLS client configuration that trusts the issuing root
// and asks for serverName.
func (c *CA) ClientConfig(serverName string) *tls.Config {
	return &tls.Config{RootCAs: c.IssuerRoots(), ServerName: serverName, MinVersion: tls.VersionTLS12}
}

// ServeChallenges serves the two ports Pebble validates on the way the
// edge serves 80 and 443, until the test ends:
//
//   - HTTP: httpChallenge answers ACME HTTP-01 requests; everything else
//     gets a 308 redirect to HTTPS, as the edge's port 80 does.
//   - HTTPS: getCert picks the certificate (it also answers TLS-ALPN-01
//     handshakes, whose only ALPN protocol is "acme-tls/1"); requests get
//     200 "ok".
//
// It returns the HTTPS address, for clients that handshake with the
// certificates obtained.
func (c *CA) ServeChallenges(t testing.TB, getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error), httpChallenge func(http.ResponseWriter, *http.Request) bool) string {
	t.Helper()
	quiet := log.New(io.Discard, "", 0)

	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpChallenge != nil && httpChallenge(w, r) {
			return
		}
		http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
	plain := &http.Server{Handler: redirect, ErrorLog: quiet, ReadHeaderTimeout: 5 * time.Second}

	tlsCfg := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: getCert,
		NextProtos:     []string{"http/1.1", "acme-tls/1"},
	}
	secure := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, "ok") //nolint:errcheck // the client sees a short body
		}),
		ErrorLog:          quiet,
		ReadHeaderTimeout: 5 * time.Second,
	}

	// Serve returns http.ErrServerClosed at teardown; any other failure
	// shows up as failed validations, which the test reports better.
	go plain.Serve(c.httpLn)                          //nolint:errcheck // see above
	go secure.Serve(tls.NewListener(c.tlsLn, tlsCfg)) //nolint:errcheck // see above
	t.Cleanup(func() {
		plain.Close()  //nolint:errcheck // test teardown
		secure.Close() //nolint:errcheck // test teardown
	})
	return c.tlsLn.Addr().String()
}

// EdgeHTTPURL is the base URL of the plain-HTTP side that
// [CA.ServeChallenges] serves, for tests of the redirect.
func (c *CA) EdgeHTTPURL() string { return "http://" + c.httpLn.Addr().String() }

// Handshake dials addr, performs a TLS handshake for serverName trusting
// the issuing root, and returns the leaf the server presented.
func (c *CA) Handshake(addr, serverName string) (*tls.ConnectionState, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, c.ClientConfig(serverName))
	if err != nil {
		return nil, fmt.Errorf("handshake with %s for %s: %w", addr, serverName, err)
	}
	defer conn.Close()
	st := conn.ConnectionState()
	return &st, nil
}

// ReleasePorts closes the listeners that hold HTTPPort and TLSPort, so a
// real edge process can bind them (as TRAEFIK_HTTP_PORT and
// TRAEFIK_HTTPS_PORT) and answer the validations itself. Call it instead
// of ServeChallenges.
func (c *CA) ReleasePorts() {
	c.httpLn.Close()
	c.tlsLn.Close()
}
