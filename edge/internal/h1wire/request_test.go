package h1wire

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

func TestScanHead(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27},
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\nbody", 27},
		{"GET / HTTP/1.1\r\nHost: a\r\n", 0},
		{"GET / HTTP/1.1\r\nHost: a\n\r\n", -1}, // bare LF
		{"\r\nGET / HTTP/1.1\r\n\r\n", -1},      // leading blank line: the caller's
		{"", 0},
	} {
		if got := ScanHead([]byte(c.in)); got != c.want {
			t.Errorf("ScanHead(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

// parseHead runs what the HTTP/1.1 fast path runs on a head.
func parseHead(in string, keepUnderscore bool) (*RequestHead, error) {
	raw := []byte(in)
	if n := ScanHead(raw); n != len(raw) {
		return nil, errors.New("not one head")
	}
	if err := CanonicalizeNames(raw); err != nil {
		return nil, err
	}
	h := new(RequestHead)
	return h, h.Parse(string(raw), keepUnderscore)
}

func TestParseRequestHead(t *testing.T) {
	const host = "Host: a.example\r\n"
	for _, c := range []struct {
		name, in string
		// code is the HeadError's status; -1 means ErrHandOver, 0 success.
		code  int
		check func(t *testing.T, h *RequestHead)
	}{
		{name: "simple", in: "GET /x?y HTTP/1.1\r\n" + host + "\r\n", check: func(t *testing.T, h *RequestHead) {
			if h.Method != "GET" || h.Target != "/x?y" || h.Minor != 1 || h.Host != "a.example" || h.Length != -1 || h.HasBody() || !h.Persistent() {
				t.Errorf("%+v", h)
			}
		}},
		{name: "names canonical", in: "GET / HTTP/1.1\r\nhost: a\r\nx-custom-NAME: v \r\n\r\n", check: func(t *testing.T, h *RequestHead) {
			if want := []Field{{"Host", "a"}, {"X-Custom-Name", "v"}}; !slices.Equal(h.Fields, want) {
				t.Errorf("fields %q, want %q", h.Fields, want)
			}
		}},
		{name: "length", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: 12\r\n\r\n", check: func(t *testing.T, h *RequestHead) {
			if h.Length != 12 || !h.HasBody() {
				t.Errorf("length %d", h.Length)
			}
		}},
		{name: "equal length list", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: 5, 5\r\n\r\n", check: func(t *testing.T, h *RequestHead) {
			if h.Length != 5 {
				t.Errorf("length %d", h.Length)
			}
		}},
		{name: "chunked", in: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: Chunked\r\n\r\n", check: func(t *testing.T, h *RequestHead) {
			if !h.Chunked || !h.HasBody() {
				t.Errorf("%+v", h)
			}
		}},
		{name: "HTTP/1.0 keep-alive and Connection names", in: "GET / HTTP/1.0\r\nConnection: keep-alive, X-Hop\r\n\r\n", check: func(t *testing.T, h *RequestHead) {
			if !h.Persistent() || !slices.Equal(h.ConnNames, []string{"X-Hop"}) {
				t.Errorf("%+v", h)
			}
		}},
		{name: "HTTP/1.0 closes by default", in: "GET / HTTP/1.0\r\n\r\n", check: func(t *testing.T, h *RequestHead) {
			if h.Persistent() {
				t.Error("persistent")
			}
		}},
		{name: "close", in: "GET / HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n", check: func(t *testing.T, h *RequestHead) {
			if h.Persistent() {
				t.Error("persistent")
			}
		}},
		{name: "underscore dropped", in: "GET / HTTP/1.1\r\n" + host + "X_Forwarded_For: 1.2.3.4\r\n\r\n", check: func(t *testing.T, h *RequestHead) {
			if len(h.Fields) != 1 {
				t.Errorf("fields %q", h.Fields)
			}
		}},
		{name: "upgrade is special", in: "GET / HTTP/1.1\r\n" + host + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", check: func(t *testing.T, h *RequestHead) {
			if !h.Special {
				t.Error("not special")
			}
		}},
		{name: "expect is special", in: "POST / HTTP/1.1\r\n" + host + "Expect: 100-continue\r\nContent-Length: 1\r\n\r\n", check: func(t *testing.T, h *RequestHead) {
			if !h.Special {
				t.Error("not special")
			}
		}},

		{name: "CL and TE", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", code: 400},
		{name: "conflicting lengths", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", code: 400},
		{name: "signed length", in: "POST / HTTP/1.1\r\n" + host + "Content-Length: +5\r\n\r\n", code: 400},
		{name: "TE not chunked", in: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n", code: 400},
		{name: "TE twice", in: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", code: 400},
		{name: "TE in HTTP/1.0", in: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", code: 400},
		{name: "two hosts", in: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", code: 400},
		{name: "no host", in: "GET / HTTP/1.1\r\n\r\n", code: 400},
		{name: "bad host", in: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", code: 400},
		{name: "folded line", in: "GET / HTTP/1.1\r\n" + host + " folded\r\n\r\n", code: 400},
		{name: "space before colon", in: "GET / HTTP/1.1\r\n" + host + "X-A : 1\r\n\r\n", code: 400},
		{name: "control in value", in: "GET / HTTP/1.1\r\n" + host + "X-A: 1\x00\r\n\r\n", code: 400},
		{name: "bad method", in: "G(T / HTTP/1.1\r\n" + host + "\r\n", code: 400},
		{name: "control in target", in: "GET /\x01 HTTP/1.1\r\n" + host + "\r\n", code: 400},

		{name: "absolute form", in: "GET http://a/ HTTP/1.1\r\n" + host + "\r\n", code: -1},
		{name: "authority form", in: "CONNECT a:443 HTTP/1.1\r\n" + host + "\r\n", code: -1},
		{name: "HTTP/2 preface", in: "PRI * HTTP/2.0\r\n\r\n", code: -1},
		{name: "HTTP/0.9", in: "GET /\r\n" + host + "\r\n", code: -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := parseHead(c.in, false)
			var he *HeadError
			switch {
			case c.code == 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case c.code == -1 && !errors.Is(err, ErrHandOver):
				t.Fatalf("got %v, want it handed over", err)
			case c.code > 0 && (!errors.As(err, &he) || he.Code != c.code):
				t.Fatalf("got %v, want a %d", err, c.code)
			}
			if c.check != nil {
				c.check(t, h)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	for _, c := range []struct {
		in          string
		ok          bool
		path, query string
	}{
		{"/", true, "/", ""},
		{"/a/b?x=1&y", true, "/a/b", "x=1&y"},
		{"/a%2Fb", true, "/a/b", ""},
		{"/%zz", false, "", ""},
	} {
		var u url.URL
		if ok := ParseTarget(&u, c.in); ok != c.ok || ok && (u.Path != c.path || u.RawQuery != c.query) {
			t.Errorf("ParseTarget(%q) = %v %q %q", c.in, ok, u.Path, u.RawQuery)
		}
	}
}

func TestParseContentLength(t *testing.T) {
	for _, c := range []struct {
		in string
		n  int64
		ok bool
	}{
		{"0", 0, true}, {"42", 42, true}, {" 7 ", 7, true}, {"5, 5", 5, true},
		{"5, 6", 0, false}, {"", 0, false}, {"-1", 0, false}, {"0x10", 0, false},
		{"1234567890123456789", 0, false}, // beyond 18 digits
	} {
		if n, ok := ParseContentLength(c.in); ok != c.ok || ok && n != c.n {
			t.Errorf("ParseContentLength(%q) = %d %v", c.in, n, ok)
		}
	}
}

func TestHeadErrorStatuses(t *testing.T) {
	if err := BadHead("x"); err.(*HeadError).Code != http.StatusBadRequest {
		t.Error(err)
	}
}
