package h1wire

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadAndParseResponseHead(t *testing.T) {
	for _, c := range []struct {
		name, in string
		err      error
		check    func(t *testing.T, h *ResponseHead)
	}{
		{name: "length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello", check: func(t *testing.T, h *ResponseHead) {
			if h.Status != 200 || string(h.Reason) != "200 OK" || h.Length != 5 || h.Chunked || !h.Reusable() || len(h.Lines) != 2 {
				t.Errorf("%+v", h)
			}
		}},
		{name: "bare LF tolerated", in: "HTTP/1.1 404 Not Found\nContent-Length: 0\n\n", check: func(t *testing.T, h *ResponseHead) {
			if h.Status != 404 || h.Length != 0 {
				t.Errorf("%+v", h)
			}
		}},
		{name: "chunked wins over length", in: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", check: func(t *testing.T, h *ResponseHead) {
			if !h.Chunked || h.Length != -1 {
				t.Errorf("%+v", h)
			}
		}},
		{name: "HTTP/1.0 without keep-alive is not reusable", in: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", check: func(t *testing.T, h *ResponseHead) {
			if h.Reusable() {
				t.Error("reusable")
			}
		}},
		{name: "close", in: "HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\n\r\n", check: func(t *testing.T, h *ResponseHead) {
			if h.Reusable() || h.Length != -1 || !h.HopField([]byte("x-hop"), false) {
				t.Errorf("%+v", h)
			}
		}},
		{name: "no reason", in: "HTTP/1.1 204\r\n\r\n", check: func(t *testing.T, h *ResponseHead) {
			if h.Status != 204 {
				t.Errorf("%+v", h)
			}
		}},
		{name: "conflicting lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", err: ErrBadResponse},
		{name: "chunked in HTTP/1.0", in: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", err: ErrBadResponse},
		{name: "TE not chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", err: ErrBadResponse},
		{name: "status not digits", in: "HTTP/1.1 2x0 OK\r\n\r\n", err: ErrBadResponse},
		{name: "HTTP/2 status line", in: "HTTP/2.0 200 OK\r\n\r\n", err: ErrBadResponse},
		{name: "field without a name", in: "HTTP/1.1 200 OK\r\n: x\r\n\r\n", err: ErrBadResponse},
		{name: "CR in a value splits nothing", in: "HTTP/1.1 200 OK\r\nX-A: a\rSet-Cookie: x\r\n\r\n", err: ErrBadResponse},
		{name: "truncated", in: "HTTP/1.1 200 OK\r\nX-A: 1\r\n", err: io.ErrUnexpectedEOF},
	} {
		t.Run(c.name, func(t *testing.T) {
			var scratch []byte
			head, _, err := ReadResponseHead(bufio.NewReader(strings.NewReader(c.in)), &scratch)
			h := new(ResponseHead)
			if err == nil {
				err = h.Parse(head)
			}
			if !errors.Is(err, c.err) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			if c.check != nil {
				c.check(t, h)
			}
		})
	}
}

// A head larger than the reader's buffer is gathered into scratch.
func TestBigResponseHead(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 10<<10) + "\r\nContent-Length: 0\r\n\r\n"
	var scratch []byte
	head, consume, err := ReadResponseHead(bufio.NewReaderSize(strings.NewReader(in), 4<<10), &scratch)
	if err != nil || consume != 0 || len(head) != len(in) {
		t.Fatalf("%d bytes, consume %d, %v", len(head), consume, err)
	}
	huge := "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", maxResponseHead) + "\r\n\r\n"
	if _, _, err := ReadResponseHead(bufio.NewReaderSize(strings.NewReader(huge), 4<<10), &scratch); !errors.Is(err, ErrBadResponse) {
		t.Fatalf("a head beyond %d bytes: %v", maxResponseHead, err)
	}
}

func TestHopField(t *testing.T) {
	var h ResponseHead
	for _, c := range []struct {
		name       string
		chunkedOut bool
		hop        bool
	}{
		{"Connection", false, true}, {"keep-alive", false, true}, {"Transfer-Encoding", true, true},
		{"Content-Length", false, true}, {"Trailer", false, true}, {"Trailer", true, false},
		{"Proxy-Authenticate", false, true}, {"Set-Cookie", false, false}, {"Content-Type", false, false},
	} {
		if got := h.HopField([]byte(c.name), c.chunkedOut); got != c.hop {
			t.Errorf("HopField(%q, chunked %v) = %v", c.name, c.chunkedOut, got)
		}
	}
}
