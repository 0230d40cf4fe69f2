package h1wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRelayChunked(t *testing.T) {
	for _, c := range []struct {
		name, in      string
		pass          bool
		limit         int64
		out, trailers string
		err           error
	}{
		{name: "decoded", in: "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n", out: "hello world"},
		{name: "passed, extensions dropped", in: "5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", pass: true, out: "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"},
		{name: "trailers kept", in: "1\r\na\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n", out: "a", trailers: "X-T: 1\r\nX-U: 2\r\n"},
		{name: "leading zeros", in: "0005\r\nhello\r\n0\r\n\r\n", out: "hello"},
		{name: "within the limit", in: "5\r\nhello\r\n0\r\n\r\n", limit: 5, out: "hello"},
		{name: "beyond the limit", in: "5\r\nhello\r\n2\r\nhi\r\n0\r\n\r\n", limit: 6, out: "hello", err: ErrBodyTooLarge},
		{name: "trailing whitespace", in: "5 \t\r\nhello\r\n0\r\n\r\n", out: "hello"},
		{name: "whitespace before an extension", in: "0 ;x\r\n\r\n", err: ErrBadChunk},
		{name: "bare LF", in: "5\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
		{name: "no size", in: "\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
		{name: "not hex", in: "zz\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
		{name: "2^63", in: "8000000000000000\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
		{name: "17 digits", in: "00000000000000005\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
		{name: "data without CRLF", in: "5\r\nhelloX0\r\n\r\n", out: "hello", err: ErrBadChunk},
		{name: "bad trailer", in: "0\r\nno colon\r\n\r\n", err: ErrBadChunk},
		{name: "truncated", in: "5\r\nhel", out: "hel", err: io.ErrUnexpectedEOF},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			var trailers []byte
			w := bufio.NewWriter(&out)
			d := RelayChunked(w, bufio.NewReader(strings.NewReader(c.in)), c.pass, &trailers, c.limit, testBuffers{})
			w.Flush()
			if !errors.Is(d.RErr, c.err) || d.WErr != nil {
				t.Fatalf("read error %v, write error %v; want %v", d.RErr, d.WErr, c.err)
			}
			if out.String() != c.out || string(trailers) != c.trailers {
				t.Errorf("out %q trailers %q; want %q %q", out.String(), trailers, c.out, c.trailers)
			}
		})
	}
}

func TestRelay(t *testing.T) {
	big := strings.Repeat("x", 100<<10) // beyond the reader's buffer: read into a lent buffer
	for _, c := range []struct {
		name, in string
		n        int64
		out      string
		err      error
	}{
		{"exact", "hello", 5, "hello", nil},
		{"stops at n", "hello world", 5, "hello", nil},
		{"until EOF", big, -1, big, nil},
		{"short", "hel", 5, "hel", io.ErrUnexpectedEOF},
	} {
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		d := Relay(w, bufio.NewReader(strings.NewReader(c.in)), c.n, testBuffers{})
		w.Flush()
		if !errors.Is(d.RErr, c.err) || out.String() != c.out || d.N != int64(len(c.out)) {
			t.Errorf("%s: %d bytes, %v", c.name, d.N, d.RErr)
		}
	}
}
