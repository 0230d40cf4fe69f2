package h1wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
)

// The fast paths parse HTTP/1.1 with this package; two parsers that frame
// one message differently are what request smuggling exploits. These
// targets compare it with net/http's: whatever this package accepts,
// net/http must accept and read the same way — framing, Host, the request
// line (this package may refuse more, never less).

// FuzzRequestHead: a head this package accepts has net/http's method,
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
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n X-Folded: 1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n := ScanHead(b)
		if n <= 0 {
			return
		}
		raw := append([]byte(nil), b[:n]...)
		if CanonicalizeNames(raw) != nil {
			return
		}
		var h RequestHead
		if h.Parse(string(raw), true) != nil {
			return
		}
		if !ParseTarget(new(url.URL), h.Target) {
			return // refused (400)
		}
		for _, fl := range h.Fields {
			if fl.Name == "Content-Length" && strings.IndexByte(fl.Value, ',') >= 0 {
				// A list of equal lengths (RFC 9110 §8.6), which this
				// package accepts and the edge forwards as one length;
				// net/http refuses it.
				return
			}
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b[:n])))
		if err != nil {
			t.Fatalf("h1wire accepts a head net/http refuses (%v):\n%q", err, b[:n])
		}
		if req.Method != h.Method || req.RequestURI != h.Target {
			t.Errorf("request line: net/http %q %q, h1wire %q %q", req.Method, req.RequestURI, h.Method, h.Target)
		}
		if h.Minor == 1 && req.Host != h.Host {
			t.Errorf("Host: net/http %q, h1wire %q", req.Host, h.Host)
		}
		chunked := len(req.TransferEncoding) == 1 && req.TransferEncoding[0] == "chunked"
		if chunked != h.Chunked {
			t.Errorf("chunked: net/http %v, h1wire %v", chunked, h.Chunked)
		}
		if !chunked && req.ContentLength != max(h.Length, 0) {
			t.Errorf("length: net/http %d, h1wire %d", req.ContentLength, h.Length)
		}
		if req.Close != !h.Persistent() {
			t.Errorf("persistence: net/http closes %v, h1wire keeps %v", req.Close, h.Persistent())
		}
	})
}

// FuzzResponseHead: a backend's head this package accepts has net/http's
// status and framing, so the body the edge relays ends where net/http's
// client would end it.
func FuzzResponseHead(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 2\n\nhi",
		"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nhi",
		"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 999\r\nConnection: close\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var scratch []byte
		head, _, err := ReadResponseHead(bufio.NewReader(bytes.NewReader(b)), &scratch)
		if err != nil {
			return
		}
		var h ResponseHead
		if h.Parse(head) != nil {
			return
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), &http.Request{Method: http.MethodGet})
		if err != nil {
			if h.Status == http.StatusSwitchingProtocols || h.Status > 999 {
				return // refused by the proxies after parsing
			}
			for _, l := range h.Lines {
				if EqualFold(l[:Index(l, ':')], "Content-Length") && bytes.IndexByte(l, ',') >= 0 {
					return // a list of equal lengths, as for requests
				}
			}
			t.Fatalf("h1wire accepts a response head net/http refuses (%v):\n%q", err, b)
		}
		defer resp.Body.Close()
		if resp.StatusCode != h.Status {
			t.Errorf("status: net/http %d, h1wire %d", resp.StatusCode, h.Status)
		}
		if resp.StatusCode < 200 || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
			return // no body, whatever the fields say
		}
		chunked := len(resp.TransferEncoding) == 1 && resp.TransferEncoding[0] == "chunked"
		if chunked != h.Chunked {
			t.Errorf("chunked: net/http %v, h1wire %v", chunked, h.Chunked)
		}
		if !chunked && resp.ContentLength != h.Length {
			t.Errorf("length: net/http %d, h1wire %d", resp.ContentLength, h.Length)
		}
	})
}

type testBuffers struct{}

func (testBuffers) Get() []byte { return make([]byte, 32<<10) }
func (testBuffers) Put([]byte)  {}

// FuzzChunkedBody: a chunked body this package relays is the body
// net/http's chunked reader reads, and one it refuses is malformed there
// too or is refused for a reason of its own (a bare LF, an over-long
// line).
func FuzzChunkedBody(f *testing.F) {
	for _, seed := range []string{
		"5\r\nhello\r\n0\r\n\r\n",
		"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
		"8000000000000000\r\nhello\r\n0\r\n\r\n",
		"0005\r\nhello\r\n0\r\n\r\n",
		"5\nhello\r\n0\r\n\r\n",
		"fffffffffffffffff\r\n",
		"5\r\nhelloX0\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		d := RelayChunked(w, bufio.NewReaderSize(bytes.NewReader(b), 64<<10), false, nil, 0, testBuffers{})
		w.Flush()
		if d.WErr != nil {
			t.Fatalf("write error to a buffer: %v", d.WErr)
		}
		if d.RErr != nil {
			if !errors.Is(d.RErr, ErrBadChunk) && !errors.Is(d.RErr, io.ErrUnexpectedEOF) {
				t.Fatalf("read error %v is neither malformed nor truncated", d.RErr)
			}
			return
		}
		got, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(b)))
		if err != nil {
			t.Fatalf("h1wire relays a body net/http refuses (%v):\n%q", err, b)
		}
		if !bytes.Equal(got, out.Bytes()) {
			t.Errorf("body: net/http %q, h1wire %q", got, out.Bytes())
		}
		if d.N != int64(len(got)) {
			t.Errorf("relayed %d bytes, the body has %d", d.N, len(got))
		}
	})
}
