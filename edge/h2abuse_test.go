package edge

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Clients that misbehave, and backends that do: each case here was a
// defect found in review, reproduced by the test before it was fixed.

func headerString(h *http2.MetaHeadersFrame) string {
	var b strings.Builder
	for _, f := range h.Fields {
		if f.Name == "date" {
			continue
		}
		fmt.Fprintf(&b, "%s=%s;", f.Name, f.Value)
	}
	return b.String()
}

// A 100 Continue must not go through the shared HPACK encoder unless it
// is sent: a block encoded and dropped leaves the client's table behind.
func TestH2ExpectAfterResetKeepsHPACKInStep(t *testing.T) {
	backend := h2Backend(t, nil, nil)
	te := startEdge(t, func(c *Config) {
		c.HostHandlers = map[string]http.Handler{"slow.test.local": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(300 * time.Millisecond) // e.g. an auth check before the body is read
			io.ReadAll(r.Body)
		})}
	})
	te.srv.Update(snapshot(svc("app", "Host:app.test.local", backend)))
	r := dialRawH2(t, te)
	r.request(1, "GET", "/same", true)
	h1, ok := r.next(1).(*http2.MetaHeadersFrame)
	if !ok {
		t.Fatal("no headers for stream 1")
	}
	first := headerString(h1)
	r.authority = "slow.test.local"
	r.request(3, "POST", "/", false, "expect", "100-continue")
	r.fr.WriteRSTStream(3, http2.ErrCodeCancel)
	time.Sleep(600 * time.Millisecond)
	r.authority = ""
	r.request(5, "GET", "/same", true)
	for {
		f, err := r.fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the answer to stream 5: %v (response headers before: %s)", err, first)
		}
		if h, ok := f.(*http2.MetaHeadersFrame); ok && h.StreamID == 5 {
			if got := headerString(h); got != first {
				t.Fatalf("same request, different decoded head:\n before: %s\n after:  %s", first, got)
			}
			return
		}
	}
}

// A client that sends malformed HEADERS without reading the resets is
// cut off (GOAWAY ENHANCE_YOUR_CALM, then closed), as PING and SETTINGS
// floods are, instead of growing the edge's queue without bound.
func TestH2MalformedHeadersFloodIsCutOff(t *testing.T) {
	t.Parallel()
	te := h2Edge(t, h2Backend(t, nil, nil))
	r := dialRawH2(t, te)
	r.conn.SetDeadline(time.Now().Add(60 * time.Second))
	// Missing :scheme: each is answered with RST_STREAM(PROTOCOL_ERROR).
	r.buf.Reset()
	r.enc.WriteField(hpack.HeaderField{Name: ":method", Value: "GET"})
	r.enc.WriteField(hpack.HeaderField{Name: ":path", Value: "/"})
	for i := 0; i < 20_000_000; i++ {
		if err := r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: r.buf.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("after %d frames the edge still neither read nor closed", i)
			}
			t.Logf("the edge closed the connection after %d malformed HEADERS (%v)", i, err)
			return
		}
	}
	t.Fatal("20,000,000 malformed HEADERS and the connection is still open")
}

// The request head reaches the backend before the body ends, and the
// answer flows back while the client still sends: full duplex, as with
// net/http's transport.
func TestH2FullDuplexBody(t *testing.T) {
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).EnableFullDuplex()
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		buf := make([]byte, 64)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				w.Write(buf[:n])
				w.(http.Flusher).Flush()
			}
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(b.Close)
	te := h2Edge(t, b.URL)
	r := dialRawH2(t, te)
	r.request(1, "POST", "/echo", false)
	if h, ok := r.next(1).(*http2.MetaHeadersFrame); !ok || h.PseudoValue("status") != "200" {
		t.Fatalf("want the 200 head before the body was sent, got %v", h)
	}
	for _, msg := range []string{"ping", "pong"} {
		r.fr.WriteData(1, false, []byte(msg))
		d, ok := r.next(1).(*http2.DataFrame)
		if !ok || string(d.Data()) != msg {
			t.Fatalf("echo of %q: %v", msg, d)
		}
	}
	r.fr.WriteData(1, true, nil)
	for {
		if d, ok := r.next(1).(*http2.DataFrame); ok && d.StreamEnded() {
			return
		}
	}
}

// Request bodies that arrive faster than the backend takes them grow a
// stream's buffer up to the stream window; the buffers must not stay that
// big once drained, in the stream or in the pool.
func TestH2BodyBuffersAreNotRetained(t *testing.T) {
	release := make(chan struct{})
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-release
		io.WriteString(w, "ok")
	}))
	t.Cleanup(b.Close)
	t.Cleanup(func() { close(release) })
	te := h2Edge(t, b.URL)
	r := dialRawH2(t, te)
	var win atomic.Int64
	win.Store(65535)
	go func() {
		for {
			f, err := r.fr.ReadFrame()
			if err != nil {
				return
			}
			if wu, ok := f.(*http2.WindowUpdateFrame); ok && wu.StreamID == 0 {
				win.Add(int64(wu.Increment))
			}
		}
	}()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	chunk := make([]byte, 16<<10)
	const streams = 40
	for i := range streams {
		id := uint32(2*i + 1)
		r.request(id, "POST", "/upload", false, "content-length", fmt.Sprint(63*len(chunk)))
		for k := range 63 {
			for win.Load() < int64(len(chunk)) {
				time.Sleep(time.Millisecond)
			}
			win.Add(-int64(len(chunk)))
			if err := r.fr.WriteData(id, k == 62, chunk); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(500 * time.Millisecond)
	runtime.GC()
	runtime.ReadMemStats(&ms)
	grew := (int64(ms.HeapInuse) - int64(before)) >> 20
	t.Logf("%d streams, ~1 MiB each, waiting for their answers: heap in use grew by %d MiB", streams, grew)
	if grew > 12 {
		t.Errorf("heap grew by %d MiB holding drained request-body buffers", grew)
	}
}

// Streams reset before they start (CVE-2023-44487's pattern) must not
// cost backend connections.
func TestH2RapidResetSparesBackendConns(t *testing.T) {
	var conns atomic.Int64
	b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	b.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	b.Start()
	t.Cleanup(b.Close)
	te := h2Edge(t, b.URL)
	// warm: one connection in the pool
	c := te.client(true)
	h2Get(t, c, hostURL(te, "app.test.local", "/warm"))
	before := conns.Load()
	r := dialRawH2(t, te)
	const n = 2000
	for i := 0; i < n; i++ {
		id := uint32(2*i + 1)
		r.request(id, "GET", "/", true)
		r.fr.WriteRSTStream(id, http2.ErrCodeCancel)
	}
	time.Sleep(500 * time.Millisecond)
	r.request(2*n+1, "GET", "/last", true)
	for {
		f := r.next(2*n + 1)
		if d, ok := f.(*http2.DataFrame); ok && d.StreamEnded() {
			break
		}
		if rst, ok := f.(*http2.RSTStreamFrame); ok {
			t.Logf("last stream reset: %v", rst.ErrCode)
			break
		}
	}
	time.Sleep(200 * time.Millisecond)
	t.Logf("%d rapid resets made the edge open %d backend connections", n, conns.Load()-before)
	if d := conns.Load() - before; d > 50 {
		t.Errorf("%d HEADERS+RST_STREAM pairs cost %d backend connections", n, d)
	}
}

// A GET whose END_STREAM comes in an empty DATA frame has no body: a
// stale pooled backend connection is replayed as for any GET.
func TestH2EmptyBodyGetIsReplayed(t *testing.T) {
	b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	b.Config.IdleTimeout = 200 * time.Millisecond
	b.Start()
	t.Cleanup(b.Close)
	te := h2Edge(t, b.URL)
	for _, split := range []bool{false, true} {
		c := te.client(true)
		h2Get(t, c, hostURL(te, "app.test.local", "/warm")) // one idle backend conn in the pool
		time.Sleep(500 * time.Millisecond)                  // the backend closed it
		r := dialRawH2(t, te)
		r.request(1, "GET", "/x", !split)
		if split {
			r.fr.WriteData(1, true, nil)
		}
		h, ok := r.next(1).(*http2.MetaHeadersFrame)
		if !ok {
			t.Fatal("no head")
		}
		t.Logf("END_STREAM in a separate empty DATA frame: %v -> status %s", split, h.PseudoValue("status"))
		if h.PseudoValue("status") != "200" {
			t.Errorf("split=%v: status %s", split, h.PseudoValue("status"))
		}
	}
}

// A stream the edge refused or reset may still have frames in flight;
// they are ignored (RFC 9113 §5.1), not a connection error.
func TestH2TrailersAfterRefusedStreamIgnored(t *testing.T) {
	backend := h2Backend(t, nil, nil)
	te := h2Edge(t, backend)
	r := dialRawH2(t, te)
	for i := range h2MaxStreams {
		r.request(uint32(2*i+1), "GET", "/slow", true)
	}
	id := uint32(2*h2MaxStreams + 1)
	r.request(id, "POST", "/upload", false)
	r.fr.WriteData(id, false, []byte("body"))
	r.buf.Reset()
	r.enc.WriteField(hpack.HeaderField{Name: "x-checksum", Value: "1"})
	r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: r.buf.Bytes(), EndStream: true, EndHeaders: true})
	for {
		f, err := r.fr.ReadFrame()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		switch f := f.(type) {
		case *http2.GoAwayFrame:
			t.Fatalf("GOAWAY %v: the connection (and its %d streams in flight) died for trailers of a refused stream", f.ErrCode, h2MaxStreams)
		case *http2.DataFrame:
			if f.StreamID == 1 && f.StreamEnded() {
				return
			}
		}
	}
}

// A head over MaxHeaderBytes gets 431 even when a body follows it.
func TestH2OversizedHeadWithBodyGets431(t *testing.T) {
	backend := h2Backend(t, nil, nil)
	te := startEdge(t, func(c *Config) { c.MaxHeaderBytes = 4 << 10 })
	te.srv.Update(snapshot(svc("app", "Host:app.test.local", backend)))
	r := dialRawH2(t, te)
	var big []string
	for i := range 6 {
		big = append(big, fmt.Sprintf("x-big-%d", i), strings.Repeat("a", 1000))
	}
	r.request(1, "POST", "/", false, big...)
	r.fr.WriteData(1, true, []byte("hello"))
	if h, ok := r.next(1).(*http2.MetaHeadersFrame); !ok || h.PseudoValue("status") != "431" {
		t.Errorf("want 431, got %v", h)
	}
}

// Bytes a backend sends beyond its answer's framing (a body on a HEAD
// answer) must not be read as the next request's response.
func TestLeftoverBackendBytesAreNotServed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if strings.HasPrefix(string(buf[:n]), "HEAD") {
						io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 44\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged")
					} else {
						io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal")
					}
				}
			}()
		}
	}()
	te := h2Edge(t, "http://"+ln.Addr().String())
	c := te.client(true)
	req, _ := http.NewRequest("HEAD", hostURL(te, "app.test.local", "/h"), nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	time.Sleep(100 * time.Millisecond)
	_, body := h2Get(t, c, hostURL(te, "app.test.local", "/victim"))
	if body != "real" {
		t.Errorf("the next request got %q from the previous answer's leftover bytes", body)
	}
}

// A client that stops reading a long answer is disconnected after
// WriteTimeout on the fast path, over HTTP/1.1 and HTTP/2, and the
// backend exchange it held is cut, instead of both staying open for as
// long as the client likes.
func TestClientThatStopsReadingIsDropped(t *testing.T) {
	cut := make(chan struct{}, 2)
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 32<<10)
		for range 8192 { // 256 MiB: far more than the sockets hold
			if _, err := w.Write(chunk); err != nil {
				cut <- struct{}{}
				return
			}
		}
	}))
	t.Cleanup(b.Close)
	te := startEdge(t, func(c *Config) { c.WriteTimeout = 300 * time.Millisecond })
	te.srv.Update(snapshot(svc("app", "Host:app.test.local", b.URL)))

	t.Run("HTTP/1.1", func(t *testing.T) {
		conn, err := tls.Dial("tcp", te.httpsHost, &tls.Config{RootCAs: te.roots, ServerName: "app.test.local", NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		io.WriteString(conn, "GET /endless HTTP/1.1\r\nHost: app.test.local\r\n\r\n")
		waitCut(t, cut)
	})
	t.Run("HTTP/2", func(t *testing.T) {
		r := dialRawH2(t, te, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1<<31 - 1})
		r.fr.WriteWindowUpdate(0, 1<<31-1-65535)
		r.request(1, "GET", "/endless", true)
		waitCut(t, cut)
	})
}

func waitCut(t *testing.T, cut <-chan struct{}) {
	t.Helper()
	select {
	case <-cut:
	case <-time.After(10 * time.Second):
		t.Fatal("10s after the client stopped reading, the backend was still sending to the edge")
	}
}
