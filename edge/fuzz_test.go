package edge

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
)

// The fast path parses HTTP/1.1 itself; two parsers that frame one
// message differently are what request smuggling exploits. These targets
// compare it with net/http's: whatever the fast path accepts, net/http
// must accept and read the same way (the fast path may refuse more).

// FuzzRequestHead: a head the fast path accepts has net/http's method,
// target, Host and framing.
func FuzzRequestHead(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /x?y=1 HTTP/1.1\r\nHost: a.example.com:8443\r\nContent-Length: 5\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n",
		"GET / HTTP/1.0\r\nConnection: keep-alive, X-A\r\nX-A: 1\r\n\r\n",
		"GET / HTTP/1.1\r\nhost: a\r\nx_forwarded_for: 1\r\nCookie: a=b\r\n\r\n",
		"GET /%2F%zz HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n := scanHead(b)
		if n <= 0 {
			return
		}
		raw := append([]byte(nil), b[:n]...)
		if canonicalizeNames(raw) != nil {
			return
		}
		var h reqHead
		if h.parse(string(raw), true) != nil {
			return
		}
		if !parseTarget(new(url.URL), h.target) {
			return // refused by the fast path (400)
		}
		for _, fl := range h.fields {
			if fl.name == "Content-Length" && strings.IndexByte(fl.value, ',') >= 0 {
				// A list of equal lengths (RFC 9110 §8.6), which the
				// fast path accepts and forwards as one length;
				// net/http refuses it.
				return
			}
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b[:n])))
		if err != nil {
			t.Fatalf("the fast path accepts a head net/http refuses (%v):\n%q", err, b[:n])
		}
		if req.Method != h.method || req.RequestURI != h.target {
			t.Errorf("request line: net/http %q %q, fast path %q %q", req.Method, req.RequestURI, h.method, h.target)
		}
		if h.minor == 1 && req.Host != h.host {
			t.Errorf("Host: net/http %q, fast path %q", req.Host, h.host)
		}
		chunked := len(req.TransferEncoding) == 1 && req.TransferEncoding[0] == "chunked"
		if chunked != h.chunked {
			t.Errorf("chunked: net/http %v, fast path %v", chunked, h.chunked)
		}
		if !chunked && req.ContentLength != max(h.length, 0) {
			t.Errorf("length: net/http %d, fast path %d", req.ContentLength, h.length)
		}
	})
}

// FuzzChunkedBody: a chunked body the fast path relays is the body
// net/http's chunked reader reads.
func FuzzChunkedBody(f *testing.F) {
	for _, seed := range []string{
		"5\r\nhello\r\n0\r\n\r\n",
		"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
		"8000000000000000\r\nhello\r\n0\r\n\r\n",
		"0005\r\nhello\r\n0\r\n\r\n",
		"5\nhello\r\n0\r\n\r\n",
		"fffffffffffffffff\r\n",
	} {
		f.Add([]byte(seed))
	}
	s := &Server{buffers: newBufferPool()}
	f.Fuzz(func(t *testing.T, b []byte) {
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		d := s.relayChunked(w, bufio.NewReaderSize(bytes.NewReader(b), 64<<10), false, nil, 0)
		w.Flush()
		if d.rerr != nil || d.werr != nil {
			return
		}
		got, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(b)))
		if err != nil {
			t.Fatalf("the fast path relays a body net/http refuses (%v):\n%q", err, b)
		}
		if !bytes.Equal(got, out.Bytes()) {
			t.Errorf("body: net/http %q, fast path %q", got, out.Bytes())
		}
	})
}
