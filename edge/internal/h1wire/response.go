package h1wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Backend response heads, read by the fast path. The backend is trusted
// more than a client — bare LF line ends are tolerated, and a
// Content-Length next to chunked coding is dropped as net/http's client
// does — but nothing that could split the response reaches the client.

var ErrBadResponse = errors.New("malformed response from backend")

// maxResponseHead bounds a backend's response head.
const maxResponseHead = 1 << 20

// ResponseHead is a parsed response head; its slices point into the bytes it
// was parsed from, which stay untouched until the head is written out.
type ResponseHead struct {
	Status    int
	Minor     int
	Reason    []byte // the status line after the version: "200 OK"
	Length    int64  // -1 when absent
	Chunked   bool
	Close     bool
	KeepAlive bool
	ConnNames [][]byte
	Lines     [][]byte // header fields, without line ends
}

// ReadResponseHead reads one response head from br. It returns the head in
// br's buffer (consume tells how many bytes to Discard after use) or, for
// a head larger than the buffer, in *scratch (consume is 0).
func ReadResponseHead(br *bufio.Reader, scratch *[]byte) (head []byte, consume int, err error) {
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
			return nil, 0, ErrBadResponse
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

// Parse fills h from head, reusing h's slices.
func (h *ResponseHead) Parse(head []byte) error {
	*h = ResponseHead{Length: -1, ConnNames: h.ConnNames[:0], Lines: h.Lines[:0]}
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
		if colon <= 0 || !ValidFieldValue(line[colon+1:]) {
			return ErrBadResponse
		}
		for _, c := range line[:colon] {
			if !IsTokenChar(c) {
				return ErrBadResponse
			}
		}
		name, value := line[:colon], TrimOWS(line[colon+1:])
		switch {
		case EqualFold(name, "Content-Length"):
			n, ok := ParseContentLength(value)
			if !ok || (h.Length >= 0 && n != h.Length) {
				return ErrBadResponse
			}
			h.Length = n
		case EqualFold(name, "Transfer-Encoding"):
			if h.Chunked || !EqualFold(value, "chunked") {
				return ErrBadResponse
			}
			h.Chunked = true
		case EqualFold(name, "Connection"):
			h.connectionTokens(value)
		}
		h.Lines = append(h.Lines, line)
	}
	if h.Chunked {
		if h.Minor == 0 {
			// RFC 9112 §6.1: faulty framing. net/http's client reads
			// such a body until the connection closes, the coding
			// ignored; a relay must not guess which of the two the
			// client behind it would do.
			return ErrBadResponse
		}
		h.Length = -1
	}
	return nil
}

func (h *ResponseHead) statusLine(line []byte) error {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return ErrBadResponse
	}
	switch line[7] {
	case '0':
		h.Minor = 0
	case '1':
		h.Minor = 1
	default:
		return ErrBadResponse
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return ErrBadResponse
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 || (len(line) > 12 && line[12] != ' ') {
		return ErrBadResponse
	}
	if !ValidFieldValue(line[9:]) {
		return ErrBadResponse
	}
	h.Status, h.Reason = code, line[9:]
	return nil
}

func (h *ResponseHead) connectionTokens(v []byte) {
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
		case EqualFold(tok, "close"):
			h.Close = true
		case EqualFold(tok, "keep-alive"):
			h.KeepAlive = true
		default:
			h.ConnNames = append(h.ConnNames, tok)
		}
	}
}

// Reusable reports whether the backend keeps the connection open after a
// response whose body is delimited.
func (h *ResponseHead) Reusable() bool {
	if h.Minor == 0 {
		return h.KeepAlive && !h.Close
	}
	return !h.Close
}

// HopField reports whether a response field is hop-by-hop (or
// framing the fast path writes itself) and so is not relayed. Trailer is
// relayed only with a chunked body, whose trailers pass through.
func (h *ResponseHead) HopField(name []byte, chunkedOut bool) bool {
	switch {
	case EqualFold(name, "Trailer"):
		return !chunkedOut
	case EqualFold(name, "Content-Length"), IsHopByHop(name):
		return true
	}
	for _, c := range h.ConnNames {
		if bytes.EqualFold(c, name) {
			return true
		}
	}
	return false
}
