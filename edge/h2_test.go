package edge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// The edge's HTTP/2 server against real peers: Go's HTTP/2 client for
// what users do, raw frames where a test needs a client that misbehaves
// or reads slowly. (h2spec_test.go runs the conformance suite.)

// h2Backend answers the paths the HTTP/2 tests use.
func h2Backend(t *testing.T, hits *atomic.Int64, gone chan<- string) string {
	t.Helper()
	b := newHTTPTestServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits != nil {
			hits.Add(1)
		}
		switch r.URL.Path {
		case "/upload":
			h := sha256.New()
			n, err := io.Copy(h, r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, "%d %x %s %q", n, h.Sum(nil), r.Header.Get("Content-Length"), r.TransferEncoding)
		case "/big":
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			w.Header().Set("Content-Length", strconv.Itoa(n))
			w.Write(bytes.Repeat([]byte("x"), n))
		case "/trailers":
			w.Header().Set("Trailer", "X-Checksum")
			w.Write([]byte("body"))
			w.(http.Flusher).Flush() // chunked, so the trailer can follow
			w.Header().Set("X-Checksum", "abc123")
		case "/stream":
			w.Write([]byte("first\n"))
			w.(http.Flusher).Flush()
			<-r.Context().Done() // until the client goes
			gone <- "stream"
		case "/slow":
			time.Sleep(300 * time.Millisecond)
			w.Write([]byte("slow done"))
		case "/headers":
			fmt.Fprintf(w, "host=%s cookie=%s xff=%s proto=%s te=%s", r.Host, r.Header.Get("Cookie"),
				r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto"), r.Header.Get("Te"))
		default:
			io.Copy(io.Discard, r.Body)
			w.Write([]byte("ok " + r.URL.Path))
		}
	}))
	t.Cleanup(b.Close)
	return b.URL
}

func h2Edge(t *testing.T, backend string) *testEdge {
	te := startEdge(t, func(c *Config) {
		c.HostHandlers = map[string]http.Handler{"admin.test.local": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			w.Header().Set("Trailer", "X-Done")
			for range n {
				io.WriteString(w, "0123456789")
			}
			w.Header().Set("X-Done", strconv.Itoa(n))
		})}
	})
	mw := svc("mw", "Host:mw.test.local", backend)
	mw.Headers = &route.Headers{CustomResponseHeaders: map[string]string{"X-Middleware": "yes"}}
	te.srv.Update(snapshot(svc("app", "Host:app.test.local", backend), mw))
	return te
}

func h2Get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, body := get(t, c, url)
	if resp.ProtoMajor != 2 {
		t.Fatalf("GET %s: %s, want HTTP/2", url, resp.Proto)
	}
	return resp, body
}

func TestH2ProxiesRequestsAndBodies(t *testing.T) {
	te := h2Edge(t, h2Backend(t, nil, nil))
	c := te.client(true)

	resp, body := h2Get(t, c, hostURL(te, "app.test.local", "/hello?x=1"))
	if resp.StatusCode != 200 || body != "ok /hello" {
		t.Errorf("GET: %d %q", resp.StatusCode, body)
	}

	req, _ := http.NewRequest("GET", hostURL(te, "app.test.local", "/headers"), nil)
	req.Header.Add("Cookie", "a=1")
	req.Header.Add("Cookie", "b=2")
	req.Header.Set("X-Forwarded-For", "6.6.6.6") // forged: replaced
	req.Header.Set("Te", "trailers")
	r2, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	want := fmt.Sprintf("host=app.test.local:%s cookie=a=1; b=2 xff=127.0.0.1 proto=https te=trailers", te.httpsHost[strings.LastIndexByte(te.httpsHost, ':')+1:])
	if string(got) != want {
		t.Errorf("backend saw %q\nwant       %q", got, want)
	}

	// Bodies: a known length, and a streamed one of unknown length
	// (chunked to the backend), bigger than the stream window.
	payload := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // 3.2 MB
	sum := sha256.Sum256(payload)
	for _, known := range []bool{true, false} {
		var rd io.Reader = bytes.NewReader(payload)
		if !known {
			rd = io.MultiReader(rd) // hides the length
		}
		req, _ := http.NewRequest("POST", hostURL(te, "app.test.local", "/upload"), rd)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		framing := `3200000 []`
		if !known {
			framing = ` ["chunked"]`
		}
		if want := fmt.Sprintf("3200000 %x %s", sum, framing); string(got) != want {
			t.Errorf("upload (known length %v): backend saw %q, want %q", known, got, want)
		}
	}

	// A POST without a body is announced as such.
	req, _ = http.NewRequest("POST", hostURL(te, "app.test.local", "/upload"), nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := fmt.Sprintf("0 %x 0 []", sha256.Sum256(nil)); string(got) != want {
		t.Errorf("empty POST: backend saw %q, want %q", got, want)
	}

	// A response larger than the client's windows arrives whole.
	resp, body = h2Get(t, c, hostURL(te, "app.test.local", "/big?n=5000000"))
	if len(body) != 5_000_000 || resp.ContentLength != 5_000_000 {
		t.Errorf("big: %d bytes, Content-Length %d", len(body), resp.ContentLength)
	}

	resp, body = h2Get(t, c, hostURL(te, "app.test.local", "/trailers"))
	if body != "body" || resp.Trailer.Get("X-Checksum") != "abc123" {
		t.Errorf("trailers: body %q, trailer %q", body, resp.Trailer)
	}

	resp, body = h2Get(t, c, hostURL(te, "nothing.test.local", "/"))
	if resp.StatusCode != 404 || body != "404 page not found\n" {
		t.Errorf("unrouted: %d %q", resp.StatusCode, body)
	}

	// A host handler (the dashboard) through the handler adapter: a
	// small answer gets its length, a bigger one streams; trailers follow.
	for _, n := range []int{10, 10_000} {
		resp, body = h2Get(t, c, hostURL(te, "admin.test.local", fmt.Sprintf("/?n=%d", n)))
		if len(body) != 10*n || resp.Trailer.Get("X-Done") != strconv.Itoa(n) || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("host handler, %d bytes: got %d, trailer %q, header %v", 10*n, len(body), resp.Trailer, resp.Header)
		}
	}

	// A route with middlewares goes through the handler adapter.
	resp, body = h2Get(t, c, hostURL(te, "mw.test.local", "/m"))
	if resp.StatusCode != 200 || body != "ok /m" || resp.Header.Get("X-Middleware") != "yes" {
		t.Errorf("middleware route: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	req, _ = http.NewRequest("POST", hostURL(te, "mw.test.local", "/upload"), bytes.NewReader(payload[:100_000]))
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(got), "100000 ") {
		t.Errorf("middleware route upload: %q", got)
	}
}

func TestH2ManyStreamsOneConnection(t *testing.T) {
	var hits atomic.Int64
	te := h2Edge(t, h2Backend(t, &hits, nil))
	c := te.client(true)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 200 {
		wg.Go(func() {
			resp, err := c.Get(hostURL(te, "app.test.local", fmt.Sprintf("/n%d", i)))
			if err != nil {
				failed.Add(1)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != fmt.Sprintf("ok /n%d", i) || resp.ProtoMajor != 2 {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 || hits.Load() != 200 {
		t.Errorf("%d of 200 concurrent streams failed; backend hits %d", failed.Load(), hits.Load())
	}
}

func TestH2StreamingAndClientCancel(t *testing.T) {
	gone := make(chan string, 1)
	te := h2Edge(t, h2Backend(t, nil, gone))
	c := te.client(true)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", hostURL(te, "app.test.local", "/stream"), nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, line); err != nil || string(line) != "first\n" {
		t.Fatalf("streamed part: %q %v", line, err)
	}
	cancel() // RST_STREAM: the edge cuts the backend exchange
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the backend never saw the client go")
	}
	// The connection and the edge carry on.
	if _, body := h2Get(t, c, hostURL(te, "app.test.local", "/after")); body != "ok /after" {
		t.Errorf("after a reset: %q", body)
	}
}

func TestH2GracefulShutdown(t *testing.T) {
	te := h2Edge(t, h2Backend(t, nil, nil))
	c := te.client(true)
	h2Get(t, c, hostURL(te, "app.test.local", "/warm")) // the connection exists
	type result struct {
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := c.Get(hostURL(te, "app.test.local", "/slow"))
		if err != nil {
			res <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		res <- result{string(b), err}
	}()
	time.Sleep(100 * time.Millisecond)
	te.stop() // waits for Run: in-flight streams finish first
	r := <-res
	if r.err != nil || r.body != "slow done" {
		t.Errorf("request in flight at shutdown: %q %v", r.body, r.err)
	}
}

// rawH2 is a hand-driven HTTP/2 client connection.
type rawH2 struct {
	t         *testing.T
	conn      net.Conn
	authority string // app.test.local unless set
	fr        *http2.Framer
	enc       *hpack.Encoder
	buf       bytes.Buffer
}

func dialRawH2(t *testing.T, te *testEdge, settings ...http2.Setting) *rawH2 {
	t.Helper()
	conn, err := tls.Dial("tcp", te.httpsHost, &tls.Config{RootCAs: te.roots, ServerName: "app.test.local", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	r := &rawH2{t: t, conn: conn, fr: http2.NewFramer(conn, conn)}
	r.enc = hpack.NewEncoder(&r.buf)
	r.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := r.fr.WriteSettings(settings...); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rawH2) request(id uint32, method, path string, end bool, extra ...string) {
	r.t.Helper()
	r.buf.Reset()
	authority := r.authority
	if authority == "" {
		authority = "app.test.local"
	}
	for _, f := range []hpack.HeaderField{{Name: ":method", Value: method}, {Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: authority}, {Name: ":path", Value: path}} {
		r.enc.WriteField(f)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		r.enc.WriteField(hpack.HeaderField{Name: extra[i], Value: extra[i+1]})
	}
	if err := r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: r.buf.Bytes(), EndStream: end, EndHeaders: true}); err != nil {
		r.t.Fatal(err)
	}
}

// next returns the next frame for stream id, acknowledging settings.
func (r *rawH2) next(id uint32) http2.Frame {
	r.t.Helper()
	for {
		f, err := r.fr.ReadFrame()
		if err != nil {
			r.t.Fatalf("reading: %v", err)
		}
		if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() {
			r.fr.WriteSettingsAck()
			continue
		}
		if f.Header().StreamID == id {
			return f
		}
	}
}

func TestH2SendFlowControl(t *testing.T) {
	te := h2Edge(t, h2Backend(t, nil, nil))
	r := dialRawH2(t, te, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1000})
	r.request(1, "GET", "/big?n=5000", true)
	if h, ok := r.next(1).(*http2.MetaHeadersFrame); !ok || h.PseudoValue("status") != "200" {
		t.Fatalf("want a 200 HEADERS frame, got %v", h)
	}
	got := 0
	for got < 1000 {
		d, ok := r.next(1).(*http2.DataFrame)
		if !ok {
			t.Fatalf("want DATA")
		}
		got += len(d.Data())
	}
	if got != 1000 {
		t.Fatalf("the edge sent %d bytes into a 1000-byte window", got)
	}
	// Nothing more until the window opens: a PING answer comes first.
	r.fr.WritePing(false, [8]byte{1})
	for {
		f, err := r.fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := f.(*http2.PingFrame); ok {
			break
		}
		if d, ok := f.(*http2.DataFrame); ok && d.StreamID == 1 && len(d.Data()) > 0 {
			t.Fatalf("DATA beyond the stream window")
		}
	}
	r.fr.WriteWindowUpdate(1, 4000)
	for got < 5000 {
		d, ok := r.next(1).(*http2.DataFrame)
		if !ok {
			t.Fatalf("want DATA")
		}
		got += len(d.Data())
		if d.StreamEnded() {
			break
		}
	}
	if got != 5000 {
		t.Errorf("received %d of 5000 bytes", got)
	}
}

func TestH2RefusesMalformedRequests(t *testing.T) {
	te := h2Edge(t, h2Backend(t, nil, nil))
	r := dialRawH2(t, te)
	for i, extra := range [][]string{
		{"connection", "keep-alive"}, // connection-specific
		{"transfer-encoding", "chunked"},
		{"te", "gzip"},
		{"content-length", "x"},
	} {
		id := uint32(2*i + 1)
		r.request(id, "GET", "/", true, extra...)
		rst, ok := r.next(id).(*http2.RSTStreamFrame)
		if !ok || rst.ErrCode != http2.ErrCodeProtocol {
			t.Errorf("%v: want RST_STREAM(PROTOCOL_ERROR), got %v", extra, rst)
		}
	}
	// A path that would split the backend's request line.
	r.request(11, "GET", "/a b", true)
	if rst, ok := r.next(11).(*http2.RSTStreamFrame); !ok || rst.ErrCode != http2.ErrCodeProtocol {
		t.Errorf("space in :path: want RST_STREAM(PROTOCOL_ERROR), got %v", rst)
	}
	// The connection still serves well-formed requests.
	r.request(13, "GET", "/fine", true)
	if h, ok := r.next(13).(*http2.MetaHeadersFrame); !ok || h.PseudoValue("status") != "200" {
		t.Errorf("after refusals: want 200, got %v", h)
	}
}

// An answer that does not wait for the request body (a 404 here) resets
// the stream with NO_ERROR; the body and trailers the client had already
// sent must not cost it the connection.
func TestH2EarlyAnswerKeepsConnection(t *testing.T) {
	te := h2Edge(t, h2Backend(t, nil, nil))
	r := dialRawH2(t, te)
	r.authority = "nothing.test.local"
	r.request(1, "POST", "/", false)
	if h, ok := r.next(1).(*http2.MetaHeadersFrame); !ok || h.PseudoValue("status") != "404" {
		t.Fatalf("want 404, got %v", h)
	}
	for {
		f := r.next(1)
		if rst, ok := f.(*http2.RSTStreamFrame); ok {
			if rst.ErrCode != http2.ErrCodeNo {
				t.Fatalf("reset with %v, want NO_ERROR", rst.ErrCode)
			}
			break
		}
	}
	r.fr.WriteData(1, false, []byte("late body"))
	r.buf.Reset()
	r.enc.WriteField(hpack.HeaderField{Name: "x-trailer", Value: "1"})
	r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: r.buf.Bytes(), EndStream: true, EndHeaders: true})
	r.authority = ""
	r.request(3, "GET", "/next", true)
	for {
		switch f := r.next(3).(type) {
		case *http2.MetaHeadersFrame:
			if f.PseudoValue("status") != "200" {
				t.Fatalf("next request: %v", f)
			}
			return
		case *http2.GoAwayFrame:
			t.Fatalf("connection closed: %v", f.ErrCode)
		}
	}
}

func TestH2ConnectionLimits(t *testing.T) {
	backend := h2Backend(t, nil, nil)
	te := startEdge(t, func(c *Config) {
		c.IdleTimeout = 400 * time.Millisecond
		c.MaxHeaderBytes = 4 << 10
	})
	te.srv.Update(snapshot(svc("app", "Host:app.test.local", backend)))

	t.Run("streams beyond the advertised limit are refused", func(t *testing.T) {
		r := dialRawH2(t, te)
		for i := range h2MaxStreams + 1 {
			r.request(uint32(2*i+1), "GET", "/slow", true)
		}
		last := uint32(2*h2MaxStreams + 1)
		if rst, ok := r.next(last).(*http2.RSTStreamFrame); !ok || rst.ErrCode != http2.ErrCodeRefusedStream {
			t.Errorf("stream %d: want RST_STREAM(REFUSED_STREAM), got %v", last, rst)
		}
		// The ones within the limit are all answered.
		answered := 0
		for answered < h2MaxStreams {
			f, err := r.fr.ReadFrame()
			if err != nil {
				t.Fatalf("after %d answers: %v", answered, err)
			}
			if d, ok := f.(*http2.DataFrame); ok && d.StreamEnded() {
				answered++
			}
		}
	})

	t.Run("a head over MaxHeaderBytes gets 431", func(t *testing.T) {
		r := dialRawH2(t, te)
		// Several fields, none alone over the limit (one would be: the
		// HPACK decoder refuses such a string as a connection error).
		var big []string
		for i := range 6 {
			big = append(big, fmt.Sprintf("x-big-%d", i), strings.Repeat("a", 1000))
		}
		r.request(1, "GET", "/", true, big...)
		if h, ok := r.next(1).(*http2.MetaHeadersFrame); !ok || h.PseudoValue("status") != "431" {
			t.Errorf("want 431, got %v", h)
		}
	})

	t.Run("Expect: 100-continue is answered before the body is sent", func(t *testing.T) {
		r := dialRawH2(t, te)
		r.request(1, "POST", "/upload", false, "expect", "100-continue", "content-length", "5")
		if h, ok := r.next(1).(*http2.MetaHeadersFrame); !ok || h.PseudoValue("status") != "100" {
			t.Fatalf("want 100, got %v", h)
		}
		r.fr.WriteData(1, true, []byte("hello"))
		if h, ok := r.next(1).(*http2.MetaHeadersFrame); !ok || h.PseudoValue("status") != "200" {
			t.Fatalf("want 200, got %v", h)
		}
		var body []byte
		for {
			d, ok := r.next(1).(*http2.DataFrame)
			if !ok {
				t.Fatal("want DATA")
			}
			body = append(body, d.Data()...)
			if d.StreamEnded() {
				break
			}
		}
		if want := fmt.Sprintf("5 %x 5 []", sha256.Sum256([]byte("hello"))); string(body) != want {
			t.Errorf("backend saw %q, want %q", body, want)
		}
	})

	t.Run("an idle connection is closed with GOAWAY", func(t *testing.T) {
		r := dialRawH2(t, te)
		r.request(1, "GET", "/x", true)
		start := time.Now()
		for {
			f, err := r.fr.ReadFrame()
			if err != nil {
				t.Fatalf("connection ended without GOAWAY: %v", err)
			}
			if g, ok := f.(*http2.GoAwayFrame); ok {
				if g.ErrCode != http2.ErrCodeNo || g.LastStreamID != 1 {
					t.Errorf("GOAWAY %v last stream %d, want NO_ERROR and 1", g.ErrCode, g.LastStreamID)
				}
				break
			}
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("closed after %v, before the 400ms idle timeout", d)
		}
		if _, err := r.fr.ReadFrame(); err == nil {
			t.Error("the connection stayed open after GOAWAY")
		}
	})

	t.Run("HEAD keeps the length and sends no body", func(t *testing.T) {
		r := dialRawH2(t, te)
		r.request(1, "HEAD", "/big?n=100", true)
		h, ok := r.next(1).(*http2.MetaHeadersFrame)
		if !ok || !h.StreamEnded() {
			t.Fatalf("want HEADERS ending the stream, got %v", h)
		}
		for _, f := range h.RegularFields() {
			if f.Name == "content-length" && f.Value != "100" {
				t.Errorf("content-length %q, want 100", f.Value)
			}
		}
	})
}
