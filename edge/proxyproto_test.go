package edge

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/edge/internal/proxyproto"
)

// TestProxyProtocol: behind a TCP load balancer in TrustedIPs, the client
// a PROXY header names (v1 or v2) is the request's client, on the HTTP
// listener and the HTTPS one, in both designs; the same header from a peer
// outside TrustedIPs is refused, and a trusted peer may still send none.
func TestProxyProtocol(t *testing.T) {
	client := netip.MustParseAddrPort("203.0.113.7:51234")
	front := netip.MustParseAddrPort("10.0.0.1:443")
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b := newBackend(t, "app")
		for _, tc := range []struct {
			name    string
			trusted string
			https   bool
			header  []byte
			wantXFF string // "" means refused
		}{
			{"http v1", "127.0.0.0/8", false, proxyproto.AppendV1(nil, client, front), "203.0.113.7"},
			{"https v2", "127.0.0.0/8", true, proxyproto.AppendV2(nil, client, front, []byte{4, 0, 1, 'x'}), "203.0.113.7"},
			{"https v1", "127.0.0.0/8", true, proxyproto.AppendV1(nil, client, front), "203.0.113.7"},
			{"trusted without header", "127.0.0.0/8", true, nil, "127.0.0.1"},
			{"untrusted http", "10.0.0.0/8", false, proxyproto.AppendV1(nil, client, front), ""},
			{"untrusted https", "10.0.0.0/8", true, proxyproto.AppendV2(nil, client, front, nil), ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				te := startEdge(t, mode, func(c *Config) {
					c.TrustedIPs = []netip.Prefix{netip.MustParsePrefix(tc.trusted)}
					c.ProxyProtocol = true
					if !tc.https {
						c.HTTPSAddr, c.TLS = "", nil
					}
				})
				te.srv.Update(snapshot(svc("app", "Host:app.test.local", b.URL)))
				addr := strings.TrimPrefix(te.httpURL, "http://")
				if tc.https {
					addr = te.httpsHost
				}
				conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := conn.Write(tc.header); err != nil {
					t.Fatal(err)
				}
				var rw io.ReadWriter = conn
				if tc.https {
					tc2 := tls.Client(conn, &tls.Config{RootCAs: te.roots, ServerName: "app.test.local", NextProtos: []string{"http/1.1"}})
					if err := tc2.Handshake(); err != nil {
						if tc.wantXFF == "" {
							return // refused before TLS
						}
						t.Fatalf("handshake: %v", err)
					}
					rw = tc2
				}
				io.WriteString(rw, "GET / HTTP/1.1\r\nHost: app.test.local\r\nConnection: close\r\n\r\n")
				resp, err := http.ReadResponse(bufio.NewReader(rw), nil)
				if tc.wantXFF == "" {
					if err == nil {
						resp.Body.Close()
						t.Fatalf("an untrusted PROXY header was served: %d", resp.StatusCode)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				e := decodeEcho(t, string(body))
				if got := e.Header.Get("X-Forwarded-For"); got != tc.wantXFF {
					t.Errorf("X-Forwarded-For %q, want %q", got, tc.wantXFF)
				}
			})
		}
	})
}

// BenchmarkProxiedHTTPSRequestRawProxyProtocol is
// BenchmarkProxiedHTTPSRequestRaw on a connection that began with a PROXY
// v2 header from a trusted peer: the header costs once per connection, so
// allocs/op and B/op should match the run without it.
func BenchmarkProxiedHTTPSRequestRawProxyProtocol(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			addr := rawBackend(b)
			te := startEdge(b, m.set, func(c *Config) {
				c.ProxyProtocol = true
				c.TrustedIPs = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
			})
			te.srv.Update(snapshot(svc("app", "Host:app.test.local", "http://"+addr)))
			raw, err := net.Dial("tcp", te.httpsHost)
			if err != nil {
				b.Fatal(err)
			}
			raw.Write(proxyproto.AppendV2(nil, netip.MustParseAddrPort("203.0.113.7:5000"), netip.MustParseAddrPort("10.0.0.1:443"), nil))
			conn := tls.Client(raw, &tls.Config{RootCAs: te.roots, ServerName: "app.test.local", NextProtos: []string{"http/1.1"}})
			b.Cleanup(func() { conn.Close() })
			br := bufio.NewReader(conn)
			req := []byte("GET / HTTP/1.1\r\nHost: app.test.local\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
			b.ReportAllocs()
			b.SetBytes(1024)
			for b.Loop() {
				if _, err := conn.Write(req); err != nil {
					b.Fatal(err)
				}
				if err := readRawResponse(br); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
