package edge

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

// End-to-end behaviour of the HTTP/1.1 wire, in both designs.

func wireEdge(t *testing.T, mode func(*Config), h http.HandlerFunc) *testEdge {
	t.Helper()
	b := newBackendFunc(t, h)
	te := startEdge(t, mode)
	te.srv.Update(snapshot(svc("app", "Host:app.test.local", b.URL)))
	return te
}

// TestChunkedBodiesAndTrailersPassThrough: a chunked request body with a
// trailer reaches the backend, and its chunked response's trailer reaches
// the client. (The net/http design loses the request trailer: only the
// fast path is held to it.)
func TestChunkedBodiesAndTrailersPassThrough(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te := wireEdge(t, mode, func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Trailer", "X-Reply")
			w.Write([]byte("got:" + string(body) + ":" + r.Trailer.Get("X-Sum")))
			w.(http.Flusher).Flush() // no Content-Length: chunked
			w.Header().Set("X-Reply", "done")
		})
		conn, br := te.dialRaw(t)
		io.WriteString(conn, "POST / HTTP/1.1\r\nHost: app.test.local\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\nTe: trailers\r\n\r\n"+
			"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n")
		resp, body := readResp(t, br, http.MethodPost)
		want := "got:hello world:42"
		var probe Config
		if mode(&probe); probe.DisableFastPath {
			want = strings.TrimSuffix(want, "42")
		}
		if resp.StatusCode != 200 || body != want {
			t.Fatalf("got %d %q, want %q", resp.StatusCode, body, want)
		}
		if len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
			t.Errorf("response not chunked: %v", resp.TransferEncoding)
		}
		if got := resp.Trailer.Get("X-Reply"); got != "done" {
			t.Errorf("response trailer = %q (%v)", got, resp.Trailer)
		}
	})
}

// TestLargeResponseIsStreamed: the first bytes of a 10 MiB response reach
// the client while the backend is still writing it.
func TestLargeResponseIsStreamed(t *testing.T) {
	t.Parallel()
	const size = 10 << 20
	inModes(t, func(t *testing.T, mode func(*Config)) {
		release := make(chan struct{})
		te := wireEdge(t, mode, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "10485760")
			chunk := bytes.Repeat([]byte("x"), 64<<10)
			w.Write(chunk)
			w.(http.Flusher).Flush()
			<-release
			for n := len(chunk); n < size; n += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		})
		defer func() {
			select {
			case <-release:
			default:
				close(release)
			}
		}()
		resp, err := te.client(false).Get(hostURL(te, "app.test.local", "/big"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		first := make([]byte, 1024)
		if _, err := io.ReadFull(resp.Body, first); err != nil {
			t.Fatalf("first bytes not delivered before the backend finished: %v", err)
		}
		close(release)
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || n+1024 != size {
			t.Errorf("read %d more bytes (%v), want %d", n, err, size-1024)
		}
	})
}

// TestBodilessResponses: HEAD, 204 and 304 carry no body, and the
// connection stays in step for the request after them.
func TestBodilessResponses(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te := wireEdge(t, mode, func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/204":
				w.WriteHeader(http.StatusNoContent)
			case "/304":
				w.Header().Set("ETag", `"v1"`)
				w.WriteHeader(http.StatusNotModified)
			default:
				w.Header().Set("Content-Length", "11")
				io.WriteString(w, "hello world")
			}
		})
		conn, br := te.dialRaw(t)
		for _, tc := range []struct {
			method, path string
			code         int
			body         string
		}{
			{"HEAD", "/", 200, ""},
			{"GET", "/204", 204, ""},
			{"GET", "/304", 304, ""},
			{"GET", "/", 200, "hello world"},
		} {
			io.WriteString(conn, tc.method+" "+tc.path+" HTTP/1.1\r\nHost: app.test.local\r\n\r\n")
			resp, body := readResp(t, br, tc.method)
			if resp.StatusCode != tc.code || body != tc.body {
				t.Fatalf("%s %s: %d %q, want %d %q", tc.method, tc.path, resp.StatusCode, body, tc.code, tc.body)
			}
			if tc.method == "HEAD" && resp.ContentLength != 11 {
				t.Errorf("HEAD Content-Length = %d, want 11", resp.ContentLength)
			}
		}
	})
}

// TestUpstreamClosesKeptAliveConnection: a backend that closes idle
// connections behind the edge's back costs no request: it is retried on a
// fresh connection or answered 502, and never hangs.
func TestUpstreamClosesKeptAliveConnection(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, "ok")
		}))
		b.Config.IdleTimeout = 20 * time.Millisecond
		b.Start()
		t.Cleanup(b.Close)
		te := startEdge(t, mode)
		te.srv.Update(snapshot(svc("app", "Host:app.test.local", b.URL)))
		url := hostURL(te, "app.test.local", "/")
		// HTTP/1.1 takes the fast path; HTTP/2 the net/http server.
		for _, h2 := range []bool{false, true} {
			c := te.client(h2)
			for i := range 3 {
				if resp, body := get(t, c, url); resp.StatusCode != 200 || body != "ok" {
					t.Fatalf("h2=%v GET %d: %d %q", h2, i, resp.StatusCode, body)
				}
				time.Sleep(60 * time.Millisecond) // the backend closes the idle connection
			}
			resp, err := c.Post(url, "text/plain", strings.NewReader("payload"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 && resp.StatusCode != 502 {
				t.Errorf("h2=%v POST on a closed upstream connection: %d", h2, resp.StatusCode)
			}
		}
	})
}

// TestUpstreamConnectionsAreReused: 100 sequential requests cost a couple
// of backend connections at most.
func TestUpstreamConnectionsAreReused(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		var dials atomic.Int64
		b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok")
		}))
		b.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				dials.Add(1)
			}
		}
		b.Start()
		t.Cleanup(b.Close)
		te := startEdge(t, mode)
		te.srv.Update(snapshot(svc("app", "Host:app.test.local", b.URL)))
		c := te.client(false)
		for range 100 {
			mustBody(t, c, hostURL(te, "app.test.local", "/"))
		}
		if n := dials.Load(); n > 2 {
			t.Errorf("%d backend connections for 100 sequential requests", n)
		}
	})
}

// TestExpectContinueAndHandOverTLS: Expect: 100-continue is answered by
// net/http after the hand-over, and a handed-over request still counts as
// HTTPS for X-Forwarded-Proto.
func TestExpectContinueAndHandOverTLS(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te := wireEdge(t, mode, func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			io.WriteString(w, r.Header.Get("X-Forwarded-Proto")+":"+string(body))
		})
		c := te.client(false)
		c.Transport.(*http.Transport).ExpectContinueTimeout = 5 * time.Second
		req, _ := http.NewRequest(http.MethodPost, hostURL(te, "app.test.local", "/"), strings.NewReader("payload"))
		req.Header.Set("Expect", "100-continue")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "https:payload" {
			t.Errorf("got %d %q", resp.StatusCode, body)
		}
	})
}

// TestHandedOverRouteSeesTLS: a route with a middleware is served by
// net/http, which must still know the request came over TLS.
func TestHandedOverRouteSeesTLS(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b := newBackend(t, "b")
		te := startEdge(t, mode)
		s := svc("app", "Host:app.test.local", b.URL)
		s.Headers = &route.Headers{CustomRequestHeaders: map[string]string{"X-Mw": "1"}}
		te.srv.Update(snapshot(s))
		e := decodeEcho(t, mustBody(t, te.client(false), hostURL(te, "app.test.local", "/")))
		if e.Header.Get("X-Forwarded-Proto") != "https" || e.Header.Get("X-Mw") != "1" {
			t.Errorf("backend saw %v", e.Header)
		}
	})
}

// TestIdleClientConnectionIsClosed: a kept-alive client connection that
// stays silent for IdleTimeout is closed.
func TestIdleClientConnectionIsClosed(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te, _ := strictEdge(t, mode, func(c *Config) { c.IdleTimeout = 100 * time.Millisecond })
		conn, br := te.dialRaw(t)
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: app.test.local\r\n\r\n")
		if resp, _ := readResp(t, br, http.MethodGet); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		expectClosed(t, br)
	})
}

// TestShutdownLetsInFlightRequestFinish: when Run's context ends, a
// request in progress is answered, and Run returns.
func TestShutdownLetsInFlightRequestFinish(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			started := make(chan struct{})
			b := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
				close(started)
				time.Sleep(200 * time.Millisecond)
				io.WriteString(w, "finished")
			})
			te := startEdge(t, m.set, func(c *Config) { c.ShutdownTimeout = 5 * time.Second })
			te.srv.Update(snapshot(svc("app", "Host:app.test.local", b.URL)))
			type result struct {
				body string
				err  error
			}
			res := make(chan result, 1)
			go func() {
				resp, err := te.client(false).Get(hostURL(te, "app.test.local", "/"))
				if err != nil {
					res <- result{err: err}
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				res <- result{string(body), err}
			}()
			<-started
			te.stop()
			r := <-res
			if r.err != nil || r.body != "finished" {
				t.Errorf("in-flight request: %q %v", r.body, r.err)
			}
		})
	}
}

// TestAccountingMatchesAcrossDesigns: route counters and the access log
// record a request the same way in both designs.
func TestAccountingMatchesAcrossDesigns(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		var log bytes.Buffer
		b := newBackend(t, "b")
		te := startEdge(t, mode, func(c *Config) { c.AccessLog = &syncWriter{w: &log} })
		te.srv.Update(snapshot(svc("app", "Host:app.test.local", b.URL)))
		c := te.client(false)
		get(t, c, hostURL(te, "app.test.local", "/a?b=c"), "User-Agent", "ua/1", "Referer", "https://r/")
		// net/http's design may deliver the whole answer before its
		// handler returns and counts it: wait, so the log's order is
		// the requests' order.
		eventually(5*time.Second, func() bool { return te.srv.Table().Routes()[0].Stats().Requests == 1 })
		get(t, c, hostURL(te, "nothing.test.local", "/"))
		st := te.srv.Table().Routes()[0].Stats()
		if st.Requests != 1 || st.Codes[200] != 1 || st.InFlight != 0 {
			t.Errorf("route stats %+v", st)
		}
		if te.srv.Unrouted() != 1 {
			t.Errorf("unrouted = %d", te.srv.Unrouted())
		}
		te.stop()
		lines := strings.Split(strings.TrimSpace(log.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("access log: %q", log.String())
		}
		for _, want := range []string{`"GET /a?b=c HTTP/1.1" 200 `, `"https://r/" "ua/1" "app"`} {
			if !strings.Contains(lines[0], want) {
				t.Errorf("access log line %q lacks %q", lines[0], want)
			}
		}
		if !strings.Contains(lines[1], `" 404 19 `) {
			t.Errorf("unrouted line %q", lines[1])
		}
	})
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestLargeHeadsAndHTTP10ChunkedResponse: heads larger than the fast
// path's buffer, both ways, and a chunked response to an HTTP/1.0 client
// (which gets the bare data, then the connection closes).
func TestLargeHeadsAndHTTP10ChunkedResponse(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("v", 10<<10)
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te := wireEdge(t, mode, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Big", big)
			io.WriteString(w, "cookie="+r.Header.Get("Cookie")[:3])
			w.(http.Flusher).Flush() // chunked
			io.WriteString(w, "!")
		})
		conn, br := te.dialRaw(t)
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: app.test.local\r\nCookie: "+big+"\r\n\r\n")
		resp, body := readResp(t, br, http.MethodGet)
		if resp.StatusCode != 200 || body != "cookie=vvv!" || resp.Header.Get("X-Big") != big {
			t.Fatalf("got %d %q (X-Big %d bytes)", resp.StatusCode, body, len(resp.Header.Get("X-Big")))
		}
		// A fresh connection: the big head handed the first one over.
		conn, br = te.dialRaw(t)
		io.WriteString(conn, "GET / HTTP/1.0\r\nHost: app.test.local\r\nCookie: abc\r\n\r\n")
		resp, body = readResp(t, br, http.MethodGet)
		if resp.StatusCode != 200 || body != "cookie=abc!" || len(resp.TransferEncoding) != 0 {
			t.Fatalf("HTTP/1.0: %d %q %v", resp.StatusCode, body, resp.TransferEncoding)
		}
		expectClosed(t, br)
	})
}
