package pebbletest

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"testing"
	"time"
)

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
