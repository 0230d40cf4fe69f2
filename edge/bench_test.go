package edge

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"bytes"
	"github.com/rancher-edge/edge/route"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// tableServer is a server that only compiles tables: it never listens.
func tableServer(tb testing.TB) *Server {
	tb.Helper()
	s, err := New(Config{HTTPAddr: ":0"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func manyHosts(n int) route.Snapshot {
	svcs := make([]route.Service, n)
	for i := range svcs {
		svcs[i] = svc(fmt.Sprintf("svc%d", i), fmt.Sprintf("Host:svc%d.stack.example.com", i),
			fmt.Sprintf("http://10.0.%d.%d:8080", i/250, i%250))
	}
	return snapshot(svcs...)
}

func TestExactHostLookupDoesNotAllocate(t *testing.T) {
	s := tableServer(t)
	tbl := s.Update(manyHosts(1000))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Host = "svc500.stack.example.com:443"
	allocs := testing.AllocsPerRun(1000, func() {
		if tbl.lookup(r, canonicalHost(r.Host), entryHTTPS) == nil {
			t.Fatal("no route")
		}
	})
	if allocs != 0 {
		t.Errorf("exact host lookup allocates %.1f times", allocs)
	}
}

func BenchmarkLookupExactHost10k(b *testing.B) {
	s := tableServer(b)
	tbl := s.Update(manyHosts(10000))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Host = "svc7777.stack.example.com"
	b.ReportAllocs()
	for b.Loop() {
		if tbl.lookup(r, canonicalHost(r.Host), entryHTTPS) == nil {
			b.Fatal("no route")
		}
	}
}

func BenchmarkLookupRegexpAndPath1k(b *testing.B) {
	s := tableServer(b)
	svcs := make([]route.Service, 1000)
	for i := range svcs {
		rule := fmt.Sprintf("HostRegexp:{sub:[a-z]+}.zone%d.example.com", i)
		if i%2 == 1 {
			rule = fmt.Sprintf("PathPrefix:/api/v%d/", i)
		}
		svcs[i] = svc(fmt.Sprintf("svc%d", i), rule, "http://10.0.0.1:80")
	}
	tbl := s.Update(snapshot(svcs...))
	// The worst case: the match is the last rule in priority order.
	r := httptest.NewRequest(http.MethodGet, "/api/v1/x", nil)
	r.Host = "www.nowhere.example.org"
	if tbl.lookup(r, canonicalHost(r.Host), entryHTTPS) == nil {
		b.Fatal("no route")
	}
	b.ReportAllocs()
	for b.Loop() {
		tbl.lookup(r, canonicalHost(r.Host), entryHTTPS)
	}
}

// BenchmarkCompile10kServices compiles a table of 10,000 routes in which
// every service changed since the last (each server's weight flips): no
// route is reused, rules and backends are.
func BenchmarkCompile10kServices(b *testing.B) {
	benchRecompile(b, 10000, 10000)
}

// BenchmarkRecompileOneOf10k compiles a table of 10,000 routes in which
// one service changed since the last, what an event costs the edge.
func BenchmarkRecompileOneOf10k(b *testing.B) {
	benchRecompile(b, 10000, 1)
}

// benchRecompile updates a table of n services over and over, with the
// servers of the first changed of them changing weight each time.
func benchRecompile(b *testing.B, n, changed int) {
	s := tableServer(b)
	snaps := [2]route.Snapshot{manyHosts(n), manyHosts(n)}
	for i := range changed {
		snaps[1].Services[i].Servers[0].Weight = 2
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		snap := snaps[i%2]
		snap.Fingerprint = uint64(i)
		if t := s.Update(snap); len(t.Routes()) != n {
			b.Fatalf("%d routes", len(t.Routes()))
		}
	}
}

// BenchmarkProxiedHTTPSRequest is a full request: a keep-alive TLS client
// (net/http's), the edge's listener, lookup, the proxy, a loopback backend
// and back, in each proxy design.
func BenchmarkProxiedHTTPSRequest(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write(make([]byte, 1024))
			}))
			defer backend.Close()
			te := startEdge(b, m.set)
			te.srv.Update(snapshot(svc("app", "Host:app.test.local", backend.URL)))
			c := te.client(false)
			url := hostURL(te, "app.test.local", "/")
			b.ReportAllocs()
			b.SetBytes(1024)
			for b.Loop() {
				resp, err := c.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// BenchmarkProxiedHTTPSRequestRaw is the same exchange with a client and a
// backend that allocate nothing per request, so allocs/op and B/op are the
// edge's own: the figure the fast path keeps near zero.
func BenchmarkProxiedHTTPSRequestRaw(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			conn := rawEdgeConn(b, m.set, "http/1.1")
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

// rawEdgeConn starts an edge (in mode) routing app.test.local to the
// allocation-free backend, and returns a TLS connection to it that
// negotiated proto; it is closed at the end of the benchmark.
func rawEdgeConn(b *testing.B, mode func(*Config), proto string) *tls.Conn {
	addr := rawBackend(b)
	te := startEdge(b, mode)
	te.srv.Update(snapshot(svc("app", "Host:app.test.local", "http://"+addr)))
	conn, err := tls.Dial("tcp", te.httpsHost, &tls.Config{
		RootCAs: te.roots, ServerName: "app.test.local", NextProtos: []string{proto},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return conn
}

// rawBackend answers every request with 1 KiB, allocation-free.
func rawBackend(b testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	resp := append([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1024\r\n\r\n"), make([]byte, 1024)...)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) <= 2 {
							break
						}
					}
					if _, err := c.Write(resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// readRawResponse reads a response head and its Content-Length body.
func readRawResponse(br *bufio.Reader) error {
	n := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if len(line) > 16 && (line[0] == 'C' || line[0] == 'c') && strings.EqualFold(string(line[:15]), "Content-Length:") {
			n = 0
			for _, c := range line[15:] {
				if c >= '0' && c <= '9' {
					n = n*10 + int(c-'0')
				}
			}
		}
	}
	if n < 0 {
		return fmt.Errorf("no Content-Length")
	}
	_, err := br.Discard(n)
	return err
}

// BenchmarkProxiedHTTP2Request is one HTTP/2 stream at a time on one
// connection, from a raw frame client that allocates (almost) nothing,
// to the allocation-free backend: allocs/op and B/op are mostly the
// edge's. The fast mode is the edge's HTTP/2 server, nethttp net/http's.
func BenchmarkProxiedHTTP2Request(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			conn := rawEdgeConn(b, m.set, "h2")
			io.WriteString(conn, http2.ClientPreface)
			fr := http2.NewFramer(conn, bufio.NewReader(conn))
			fr.SetReuseFrames()
			fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 30})
			fr.WriteWindowUpdate(0, 1<<30)
			var block bytes.Buffer
			enc := hpack.NewEncoder(&block)
			for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", "app.test.local"},
				{":path", "/"}, {"user-agent", "bench"}, {"accept", "*/*"}} {
				enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
			}
			id := uint32(1)
			b.ReportAllocs()
			b.SetBytes(1024)
			for b.Loop() {
				if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
					b.Fatal(err)
				}
				for done := false; !done; {
					f, err := fr.ReadFrame()
					if err != nil {
						b.Fatal(err)
					}
					switch f := f.(type) {
					case *http2.SettingsFrame:
						if !f.IsAck() {
							fr.WriteSettingsAck()
						}
					case *http2.DataFrame:
						done = f.StreamID == id && f.StreamEnded()
					case *http2.HeadersFrame:
						done = f.StreamID == id && f.StreamEnded()
					case *http2.RSTStreamFrame, *http2.GoAwayFrame:
						b.Fatalf("%v", f)
					}
				}
				id += 2
			}
		})
	}
}
