package edge

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/http2"

	"github.com/rancher-edge/edge/route"
)

// Wrong answers of issue #13, each answered right now.

// headerBackend records the header of the last request it saw.
type headerBackend struct {
	*httptestServer
	mu   sync.Mutex
	last http.Header
	n    int
}

func newHeaderBackend(t *testing.T) *headerBackend {
	hb := &headerBackend{}
	hb.httptestServer = newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		hb.mu.Lock()
		hb.last, hb.n = r.Header.Clone(), hb.n+1
		hb.mu.Unlock()
		io.WriteString(w, "ok")
	})
	return hb
}

func (hb *headerBackend) seen() (http.Header, int) {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	return hb.last, hb.n
}

// deadURL is an address nothing listens on.
func deadURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

// With one dead backend and one drained, nothing can take the request:
// 503, as when every backend is drained, not 502.
func TestDeadAndDrainedBackendsAnswer503(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te := startEdge(t, mode)
		live := newBackend(t, "live")
		s := svc("app", "Host:app.test.local", deadURL(t), live.URL)
		s.Servers[1].Weight = 0
		te.srv.Update(snapshot(s))
		resp, body := get(t, te.client(false), hostURL(te, "app.test.local", "/"))
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("status %d (%q), want 503", resp.StatusCode, body)
		}
	})
}

// A chunk size of 2^63 or more is refused, not turned into a negative
// length.
func TestHugeChunkSizeRefused(t *testing.T) {
	t.Parallel()
	te, _ := strictEdge(t)
	for _, size := range []string{"8000000000000000", "ffffffffffffffff"} {
		conn, br := te.dialRaw(t)
		io.WriteString(conn, "POST / HTTP/1.1\r\nHost: app.test.local\r\nTransfer-Encoding: chunked\r\n\r\n"+size+"\r\nhello\r\n0\r\n\r\n")
		resp, _ := readResp(t, br, http.MethodPost)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("chunk size %s: status %d, want 400", size, resp.StatusCode)
		}
		expectClosed(t, br)
	}
}

// Empty lines before a request line are ignored (RFC 9112 §2.2), on the
// fast path; net/http refuses them.
func TestLeadingEmptyLineIgnored(t *testing.T) {
	t.Parallel()
	te, b := strictEdge(t)
	conn, br := te.dialRaw(t)
	io.WriteString(conn, "\r\nGET /one HTTP/1.1\r\nHost: app.test.local\r\n\r\n")
	if resp, body := readResp(t, br, http.MethodGet); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d (%q), want 200", resp.StatusCode, body)
	}
	// A stray CRLF after a body, before the next pipelined request.
	io.WriteString(conn, "POST /two HTTP/1.1\r\nHost: app.test.local\r\nContent-Length: 2\r\n\r\nhi\r\nGET /three HTTP/1.1\r\nHost: app.test.local\r\n\r\n")
	for _, want := range []string{"path=/two body=hi", "path=/three body="} {
		if resp, body := readResp(t, br, http.MethodGet); resp.StatusCode != http.StatusOK || body != want {
			t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, want)
		}
	}
	if got := b.seen(); len(got) != 3 {
		t.Errorf("backend saw %v", got)
	}
}

// CONNECT is refused on every path and never reaches a backend.
func TestConnectRefused(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b := newCountingBackend(t)
		te := startEdge(t, mode)
		te.srv.Update(snapshot(svc("app", "HostRegexp:{any:.+}", b.URL)))
		conn, br := te.dialRaw(t)
		io.WriteString(conn, "CONNECT app.test.local:443 HTTP/1.1\r\nHost: app.test.local:443\r\n\r\n")
		resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("HTTP/1.1 CONNECT: status %d, want 405", resp.StatusCode)
		}

		// HTTP/2: a CONNECT carrying :scheme and :path is malformed.
		r := dialRawH2(t, te)
		r.request(1, "CONNECT", "/", true)
		switch f := r.next(1).(type) {
		case *http2.RSTStreamFrame:
			if f.ErrCode != http2.ErrCodeProtocol {
				t.Errorf("HTTP/2 CONNECT: reset with %v, want PROTOCOL_ERROR", f.ErrCode)
			}
		case *http2.MetaHeadersFrame:
			if st := f.PseudoValue("status"); st != "405" && st != "400" {
				t.Errorf("HTTP/2 CONNECT: status %s", st)
			}
		default:
			t.Errorf("HTTP/2 CONNECT: got %T", f)
		}
		if n := b.n.Load(); n != 0 {
			t.Errorf("backend saw %d requests: %v", n, b.seen())
		}
	})
}

// Fields named with an underscore are dropped by default on every path
// (CGI backends read X_Forwarded_For as X-Forwarded-For), and kept with
// KeepUnderscoreHeaders.
func TestUnderscoreHeadersDropped(t *testing.T) {
	t.Parallel()
	for _, keep := range []bool{false, true} {
		inModes(t, func(t *testing.T, mode func(*Config)) {
			hb := newHeaderBackend(t)
			te := startEdge(t, mode, func(c *Config) { c.KeepUnderscoreHeaders = keep })
			mw := svc("mw", "Host:mw.test.local", hb.URL)
			mw.Headers = &route.Headers{CustomRequestHeaders: map[string]string{"X-Mw": "1"}}
			te.srv.Update(snapshot(svc("app", "Host:app.test.local", hb.URL), mw))
			for _, host := range []string{"app.test.local", "mw.test.local"} {
				for _, h2 := range []bool{false, true} {
					resp, _ := get(t, te.client(h2), hostURL(te, host, "/"), "X_Forwarded_For", "6.6.6.6", "X-Plain", "yes")
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("status %d", resp.StatusCode)
					}
					hdr, _ := hb.seen()
					got := ""
					for k, v := range hdr {
						if strings.Contains(k, "_") {
							got = k + ": " + strings.Join(v, ",")
						}
					}
					if keep != (got != "") || hdr.Get("X-Plain") != "yes" {
						t.Errorf("keep=%v %s h2=%v: backend saw underscore field %q, X-Plain %q", keep, host, h2, got, hdr.Get("X-Plain"))
					}
				}
			}
		})
	}
}

// An h2c upgrade is not passed to the backend: the request is served as
// plain HTTP/1.1. A WebSocket upgrade is untouched (TestWebSocket).
func TestH2cUpgradeNotForwarded(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		hb := newHeaderBackend(t)
		te := startEdge(t, mode)
		te.srv.Update(snapshot(svc("app", "Host:app.test.local", hb.URL)))
		conn, br := te.dialRaw(t)
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: app.test.local\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
		resp, body := readResp(t, br, http.MethodGet)
		if resp.StatusCode != http.StatusOK || body != "ok" {
			t.Fatalf("status %d %q, want 200 ok", resp.StatusCode, body)
		}
		hdr, _ := hb.seen()
		for _, k := range []string{"Upgrade", "Http2-Settings"} {
			if v := hdr.Get(k); v != "" {
				t.Errorf("backend saw %s: %s", k, v)
			}
		}
	})
}

// A weight that does not fit the balancer's 32 bits is a problem on the
// service, not a wrapped (negative, or zero: drained) weight.
func TestWeightOutOfRangeIsAProblem(t *testing.T) {
	s, err := New(Config{HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, w := range []int{1 << 31, 1 << 32} {
		sv := svc("app", "Host:app.test.local", "http://127.0.0.1:1")
		sv.Servers[0].Weight = w
		tbl := s.Update(snapshot(sv))
		if len(tbl.Routes()) != 0 || len(tbl.Problems()) != 1 || !strings.Contains(tbl.Problems()[0].Message, "weight") {
			t.Errorf("weight %d: routes %d, problems %v", w, len(tbl.Routes()), tbl.Problems())
		}
	}
}
