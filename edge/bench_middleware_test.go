package edge

import (
	"bufio"
	"crypto/tls"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

// BenchmarkProxiedRequest is a keep-alive HTTP/1.1 request over TLS from a
// raw client to the allocation-free backend, on a route without middleware
// (the fast loop) and on routes with the middlewares of the Traefik labels
// the edge honours (they run through net/http's server). The plain case
// shows that features a route does not use cost the fast path nothing.
func BenchmarkProxiedRequest(b *testing.B) {
	limits := func(s *route.Service) {
		// Limits no benchmark reaches: every request is admitted.
		s.RateLimit = &route.RateLimit{ExtractorFunc: "client.ip", RateSets: []route.RateSet{{Period: time.Second, Average: 1e9, Burst: 1e9}}}
		s.MaxConn = &route.MaxConn{Amount: 1e6, ExtractorFunc: "request.host"}
	}
	for _, c := range []struct {
		name string
		edit func(*route.Service)
		auth string
	}{
		{"plain", func(*route.Service) {}, ""},
		{"ratelimit+maxconn", limits, ""},
		{"basicauth-sha", func(s *route.Service) { s.Auth = &route.BasicAuth{Users: []string{"ops:" + shaPassword("secret")}} },
			"Authorization: Basic b3BzOnNlY3JldA==\r\n"},
	} {
		b.Run(c.name, func(b *testing.B) {
			addr := rawBackend(b)
			te := startEdge(b)
			sv := svc("app", "Host:app.test.local", "http://"+addr)
			c.edit(&sv)
			te.srv.Update(snapshot(sv))
			conn, err := tls.Dial("tcp", te.httpsHost, &tls.Config{RootCAs: te.roots, ServerName: "app.test.local", NextProtos: []string{"http/1.1"}})
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			br := bufio.NewReader(conn)
			req := []byte("GET / HTTP/1.1\r\nHost: app.test.local\r\nUser-Agent: bench\r\nAccept: */*\r\n" + c.auth + "\r\n")
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
