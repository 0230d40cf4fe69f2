package edge

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

// Tests on raw connections: requests written byte by byte, responses read
// with http.ReadResponse.

// countingBackend is a backend that records every request it sees.
type countingBackend struct {
	*httptestServer
	mu     sync.Mutex
	paths  []string
	bodies []string
	n      atomic.Int64
}

func newCountingBackend(t *testing.T) *countingBackend {
	cb := &countingBackend{}
	cb.httptestServer = newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		cb.mu.Lock()
		cb.paths = append(cb.paths, r.Method+" "+r.URL.RequestURI())
		cb.bodies = append(cb.bodies, string(body))
		cb.mu.Unlock()
		cb.n.Add(1)
		w.Header().Set("X-Path", r.URL.Path)
		w.Write([]byte("path=" + r.URL.Path + " body=" + string(body)))
	})
	return cb
}

func (cb *countingBackend) seen() []string {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return append([]string(nil), cb.paths...)
}

// dialRaw opens an HTTP/1.1 TLS connection to the edge.
func (te *testEdge) dialRaw(t *testing.T) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := tls.Dial("tcp", te.httpsHost, &tls.Config{
		RootCAs: te.roots, ServerName: "app.test.local", NextProtos: []string{"http/1.1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { conn.Close() })
	return conn, bufio.NewReader(conn)
}

// readResp reads one response and its whole body.
func readResp(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return resp, string(body)
}

// expectClosed checks that the edge closes the connection next.
func expectClosed(t *testing.T, br *bufio.Reader) {
	t.Helper()
	if b, err := br.ReadByte(); err == nil {
		rest, _ := br.Peek(br.Buffered())
		t.Fatalf("connection still open; read %q", string(b)+string(rest))
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("connection not closed (read timed out)")
	}
}

func strictEdge(t *testing.T, mut ...func(*Config)) (*testEdge, *countingBackend) {
	b := newCountingBackend(t)
	te := startEdge(t, mut...)
	te.srv.Update(snapshot(svc("app", "Host:app.test.local", b.URL)))
	return te, b
}

// TestFastPathRefusesAmbiguousHeads: a head two parsers could frame
// differently is answered 400 and the connection closed; the backend sees
// nothing.
func TestFastPathRefusesAmbiguousHeads(t *testing.T) {
	t.Parallel()
	te, b := strictEdge(t)
	const host = "Host: app.test.local\r\n"
	for _, tc := range []struct {
		name, req string
		code      int
	}{
		{"CL and TE", "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"two Content-Lengths", "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
		{"Content-Length list that differs", "POST / HTTP/1.1\r\n" + host + "Content-Length: 5, 6\r\n\r\nhello!", 400},
		{"signed Content-Length", "POST / HTTP/1.1\r\n" + host + "Content-Length: +5\r\n\r\nhello", 400},
		{"TE not chunked", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400},
		{"TE twice", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"TE in HTTP/1.0", "POST / HTTP/1.0\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"obs-fold", "GET / HTTP/1.1\r\n" + host + "X-A: 1\r\n 2\r\n\r\n", 400},
		{"space before colon", "GET / HTTP/1.1\r\n" + host + "X-A : 1\r\n\r\n", 400},
		{"control character in value", "GET / HTTP/1.1\r\n" + host + "X-A: a\x01b\r\n\r\n", 400},
		{"missing Host", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", 400},
		{"two Hosts", "GET / HTTP/1.1\r\n" + host + host + "\r\n", 400},
		{"invalid chunk size", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400},
		{"chunk without CRLF", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, br := te.dialRaw(t)
			before := b.n.Load()
			io.WriteString(conn, tc.req)
			resp, _ := readResp(t, br, http.MethodPost)
			if resp.StatusCode != tc.code {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.code)
			}
			expectClosed(t, br)
			// A chunked body that turns out malformed has had its head
			// sent already: the backend sees a request cut short, never
			// a complete one.
			if got := b.n.Load() - before; got != 0 && !strings.Contains(tc.name, "chunk") {
				t.Errorf("backend saw %d requests", got)
			}
		})
	}
}

// TestSmuggledRequestNeverReachesBackend: the classic CL.TE attack, whose
// body hides a second request, is refused whole; a chunked body holding
// request-like text is one request's body.
func TestSmuggledRequestNeverReachesBackend(t *testing.T) {
	t.Parallel()
	smuggled := "GET /admin HTTP/1.1\r\nHost: app.test.local\r\n\r\n"
	t.Run("CL.TE", func(t *testing.T) {
		t.Parallel()
		te, b := strictEdge(t)
		conn, br := te.dialRaw(t)
		body := "0\r\n\r\n" + smuggled
		io.WriteString(conn, "POST / HTTP/1.1\r\nHost: app.test.local\r\nContent-Length: 52\r\nTransfer-Encoding: chunked\r\n\r\n"+body)
		if resp, _ := readResp(t, br, http.MethodPost); resp.StatusCode != 400 {
			t.Errorf("status %d, want 400", resp.StatusCode)
		}
		expectClosed(t, br)
		if seen := b.seen(); len(seen) != 0 {
			t.Errorf("backend saw %v", seen)
		}
	})
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te, b := strictEdge(t, mode)
		conn, br := te.dialRaw(t)
		chunk := smuggled
		io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: app.test.local\r\nTransfer-Encoding: chunked\r\n\r\n")
		io.WriteString(conn, strings.ToUpper(hexLen(chunk))+"\r\n"+chunk+"\r\n0\r\n\r\n")
		resp, body := readResp(t, br, http.MethodPost)
		if resp.StatusCode != 200 || body != "path=/upload body="+smuggled {
			t.Errorf("got %d %q", resp.StatusCode, body)
		}
		if seen := b.seen(); len(seen) != 1 || seen[0] != "POST /upload" {
			t.Errorf("backend saw %v, want one POST /upload", seen)
		}
	})
}

func hexLen(s string) string {
	const digits = "0123456789abcdef"
	n := len(s)
	out := ""
	for n > 0 {
		out = string(digits[n%16]) + out
		n /= 16
	}
	return out
}

// TestOversizeHeadIs431 in both designs: a head beyond MaxHeaderBytes.
func TestOversizeHeadIs431(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te, b := strictEdge(t, mode, func(c *Config) { c.MaxHeaderBytes = 2048 })
		conn, br := te.dialRaw(t)
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: app.test.local\r\nX-Big: "+strings.Repeat("a", 8<<10)+"\r\n\r\n")
		resp, _ := readResp(t, br, http.MethodGet)
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", resp.StatusCode)
		}
		if b.n.Load() != 0 {
			t.Error("the backend saw the request")
		}
	})
}

// TestHTTP10 in both designs: without keep-alive the edge closes after
// the response; with it, the connection carries another request.
func TestHTTP10(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te, _ := strictEdge(t, mode)
		conn, br := te.dialRaw(t)
		io.WriteString(conn, "GET /a HTTP/1.0\r\nHost: app.test.local\r\nConnection: keep-alive\r\n\r\n")
		if resp, body := readResp(t, br, http.MethodGet); resp.StatusCode != 200 || body != "path=/a body=" {
			t.Fatalf("keep-alive: %d %q", resp.StatusCode, body)
		}
		io.WriteString(conn, "GET /b HTTP/1.0\r\nHost: app.test.local\r\n\r\n")
		if resp, body := readResp(t, br, http.MethodGet); resp.StatusCode != 200 || body != "path=/b body=" {
			t.Fatalf("close: %d %q", resp.StatusCode, body)
		}
		expectClosed(t, br)
	})
}

// TestPipelinedRequestsAnsweredInOrder in both designs, including a
// request for a route with a middleware in the middle, which the fast
// path hands to net/http with the bytes it already read.
func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b := newCountingBackend(t)
		te := startEdge(t, mode)
		mw := svc("mw", "Host:mw.test.local", b.URL)
		mw.Headers = &route.Headers{CustomResponseHeaders: map[string]string{"X-Mw": "yes"}}
		te.srv.Update(snapshot(svc("app", "Host:app.test.local", b.URL), mw))
		conn, br := te.dialRaw(t)
		var reqs strings.Builder
		hosts := []string{"app", "app", "mw", "app"}
		for i, h := range hosts {
			reqs.WriteString("GET /" + string(rune('a'+i)) + " HTTP/1.1\r\nHost: " + h + ".test.local\r\n\r\n")
		}
		io.WriteString(conn, reqs.String())
		for i, h := range hosts {
			resp, body := readResp(t, br, http.MethodGet)
			want := "path=/" + string(rune('a'+i)) + " body="
			if resp.StatusCode != 200 || body != want {
				t.Fatalf("response %d: %d %q, want %q", i, resp.StatusCode, body, want)
			}
			if h == "mw" && resp.Header.Get("X-Mw") != "yes" {
				t.Errorf("middleware did not run: %v", resp.Header)
			}
		}
	})
}
