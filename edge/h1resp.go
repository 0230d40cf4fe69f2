package edge

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"github.com/rancher-edge/edge/edge/internal/h1wire"
)

// Backend response heads, read by the fast path. The backend is trusted
// more than a client — bare LF line ends are tolerated, and a
// Content-Length next to chunked coding is dropped as net/http's client
// does — but nothing that could split the response reaches the client.

var errBadResponse = errors.New("malformed response from backend")

// maxResponseHead bounds a backend's response head.
const maxResponseHead = 1 << 20

// respHead is a parsed response head; its slices point into the bytes it
// was parsed from, which stay untouched until the head is written out.
type respHead struct {
	status    int
	minor     int
	reason    []byte // the status line after the version: "200 OK"
	length    int64  // -1 when absent
	chunked   bool
	close     bool
	keepAlive bool
	connNames [][]byte
	lines     [][]byte // header fields, without line ends
}

// readRespHead reads one response head from br. It returns the head in
// br's buffer (consume tells how many bytes to Discard after use) or, for
// a head larger than the buffer, in *scratch (consume is 0).
func readRespHead(br *bufio.Reader, scratch *[]byte) (head []byte, consume int, err error) {
	if _, err := br.Peek(1); err != nil {
		return nil, 0, err
	}
	for {
		buf, _ := br.Peek(br.Buffered())
		if n := respHeadEnd(buf); n > 0 {
			return buf[:n], n, nil
		}
		if len(buf) == br.Size() {
			break
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return nil, 0, noEOF(err)
		}
	}
	// A big head: gather it line by line.
	out := (*scratch)[:0]
	for {
		line, err := br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, 0, noEOF(err)
		}
		out = append(out, line...)
		if len(out) > maxResponseHead {
			return nil, 0, errBadResponse
		}
		if err == nil && (len(line) == 1 || (len(line) == 2 && line[0] == '\r')) {
			*scratch = out
			return out, 0, nil
		}
	}
}

// respHeadEnd returns the length of the head at the start of buf,
// including the blank line, or 0 when it is not all there.
func respHeadEnd(buf []byte) int {
	pos := 0
	for {
		nl := bytes.IndexByte(buf[pos:], '\n')
		if nl < 0 {
			return 0
		}
		line := buf[pos : pos+nl]
		if pos > 0 && (len(line) == 0 || (len(line) == 1 && line[0] == '\r')) {
			return pos + nl + 1
		}
		pos += nl + 1
	}
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parse fills h from head, reusing h's slices.
func (h *respHead) parse(head []byte) error {
	*h = respHead{length: -1, connNames: h.connNames[:0], lines: h.lines[:0]}
	first := true
	for len(head) > 0 {
		nl := bytes.IndexByte(head, '\n')
		line := head[:nl]
		head = head[nl+1:]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if first {
			first = false
			if err := h.statusLine(line); err != nil {
				return err
			}
			continue
		}
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !validFieldValue(line[colon+1:]) {
			return errBadResponse
		}
		for _, c := range line[:colon] {
			if !isTokenChar(c) {
				return errBadResponse
			}
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		switch {
		case equalFold(name, "Content-Length"):
			n, ok := parseContentLength(value)
			if !ok || (h.length >= 0 && n != h.length) {
				return errBadResponse
			}
			h.length = n
		case equalFold(name, "Transfer-Encoding"):
			if h.chunked || !equalFold(value, "chunked") {
				return errBadResponse
			}
			h.chunked = true
		case equalFold(name, "Connection"):
			h.connectionTokens(value)
		}
		h.lines = append(h.lines, line)
	}
	if h.chunked {
		h.length = -1
	}
	return nil
}

func (h *respHead) statusLine(line []byte) error {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return errBadResponse
	}
	switch line[7] {
	case '0':
		h.minor = 0
	case '1':
		h.minor = 1
	default:
		return errBadResponse
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return errBadResponse
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 || (len(line) > 12 && line[12] != ' ') {
		return errBadResponse
	}
	if !validFieldValue(line[9:]) {
		return errBadResponse
	}
	h.status, h.reason = code, line[9:]
	return nil
}

func (h *respHead) connectionTokens(v []byte) {
	for len(v) > 0 {
		tok := v
		if i := bytes.IndexByte(v, ','); i >= 0 {
			tok, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		tok = bytes.TrimSpace(tok)
		switch {
		case len(tok) == 0:
		case equalFold(tok, "close"):
			h.close = true
		case equalFold(tok, "keep-alive"):
			h.keepAlive = true
		default:
			h.connNames = append(h.connNames, tok)
		}
	}
}

// reusable reports whether the backend keeps the connection open after a
// response whose body is delimited.
func (h *respHead) reusable() bool {
	if h.minor == 0 {
		return h.keepAlive && !h.close
	}
	return !h.close
}

// hopResponseField reports whether a response field is hop-by-hop (or
// framing the fast path writes itself) and so is not relayed. Trailer is
// relayed only with a chunked body, whose trailers pass through.
func (h *respHead) hopResponseField(name []byte, chunkedOut bool) bool {
	switch {
	case equalFold(name, "Trailer"):
		return !chunkedOut
	case equalFold(name, "Content-Length"), h1wire.IsHopByHop(name):
		return true
	}
	for _, c := range h.connNames {
		if bytes.EqualFold(c, name) {
			return true
		}
	}
	return false
}

// equalFold compares ASCII case-insensitively without converting s.
func equalFold[T []byte | string](b T, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
