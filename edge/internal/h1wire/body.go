package h1wire

import (
	"bufio"
	"errors"
	"io"
	"math"
	"strconv"
)

// Message bodies on the fast path are streamed, never buffered whole: a
// relay copies what the source has buffered, and flushes the destination
// before it would block waiting for the source, so a slow stream (server-
// sent events, a long poll) reaches the other side as it comes while a
// fast one is written in as few system calls as possible.

// ErrBadChunk is a chunked body whose framing is malformed.
var ErrBadChunk = errors.New("malformed chunked body")

// ErrBodyTooLarge is a body beyond the limit its relay was given.
var ErrBodyTooLarge = errors.New("request body larger than the limit")

// Buffers lends the copy buffers of relays that bypass the source's
// buffer.
type Buffers interface {
	Get() []byte
	Put([]byte)
}

// maxTrailers bounds the trailer section of a chunked body.
const maxTrailers = 64 << 10

// Relayed reports how a relay ended: bytes copied, and the error on the
// reading side or on the writing side (they mean different things to the
// caller: a backend that failed, or a client that went away).
type Relayed struct {
	N          int64
	RErr, WErr error
}

// Relay copies n bytes from src to dst, or everything until EOF when n is
// negative. buf is scratch for reads that bypass src's buffer; it may be
// nil, and is then taken from the pool only when needed.
func Relay(dst *bufio.Writer, src *bufio.Reader, n int64, bufs Buffers) Relayed {
	var r Relayed
	var buf []byte
	defer func() {
		if buf != nil {
			bufs.Put(buf)
		}
	}()
	for n != 0 {
		if k := src.Buffered(); k > 0 {
			if n > 0 && int64(k) > n {
				k = int(n)
			}
			p, _ := src.Peek(k)
			m, err := dst.Write(p)
			src.Discard(m)
			r.N += int64(m)
			if n > 0 {
				n -= int64(m)
			}
			if err != nil {
				r.WErr = err
				return r
			}
			continue
		}
		if err := dst.Flush(); err != nil {
			r.WErr = err
			return r
		}
		if buf == nil {
			buf = bufs.Get()
		}
		want := len(buf)
		if n > 0 && int64(want) > n {
			want = int(n)
		}
		// With an empty buffer, a read at least as large as src's buffer
		// goes straight into buf; a smaller one fills src's buffer first.
		k, err := src.Read(buf[:want])
		if k > 0 {
			if _, werr := dst.Write(buf[:k]); werr != nil {
				r.WErr = werr
				return r
			}
			r.N += int64(k)
			if n > 0 {
				n -= int64(k)
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) && n < 0 {
				return r
			}
			r.RErr = noEOF(err)
			return r
		}
	}
	return r
}

// RelayChunked copies a chunked body from src to dst, validating its
// framing. pass keeps the chunked coding (and the trailers) for dst;
// otherwise only the data is written, for an HTTP/1.0 client or an HTTP/2
// stream, and the trailer lines (CRLF included) are appended to trailers
// when it is not nil. Chunk extensions are dropped: no parser downstream
// gets to disagree on them.
//
// limit, when positive, bounds the data: a chunk that would cross it
// ends the relay with ErrBodyTooLarge before any of it is written.
func RelayChunked(dst *bufio.Writer, src *bufio.Reader, pass bool, trailers *[]byte, limit int64, bufs Buffers) Relayed {
	var r Relayed
	for {
		if src.Buffered() == 0 {
			if err := dst.Flush(); err != nil {
				r.WErr = err
				return r
			}
		}
		size, err := readChunkSize(src)
		if err != nil {
			r.RErr = err
			return r
		}
		if limit > 0 && size > uint64(limit-r.N) {
			r.RErr = ErrBodyTooLarge
			return r
		}
		if pass {
			line := strconv.AppendUint(dst.AvailableBuffer(), size, 16)
			line = append(line, '\r', '\n')
			if _, err := dst.Write(line); err != nil {
				r.WErr = err
				return r
			}
		}
		if size == 0 {
			r.RErr, r.WErr = relayTrailers(dst, src, pass, trailers)
			return r
		}
		d := Relay(dst, src, int64(size), bufs)
		r.N += d.N
		if d.RErr != nil || d.WErr != nil {
			r.RErr, r.WErr = d.RErr, d.WErr
			return r
		}
		crlf, err := src.Peek(2)
		if err != nil {
			r.RErr = noEOF(err)
			return r
		}
		if crlf[0] != '\r' || crlf[1] != '\n' {
			r.RErr = ErrBadChunk
			return r
		}
		src.Discard(2)
		if pass {
			if _, err := dst.WriteString("\r\n"); err != nil {
				r.WErr = err
				return r
			}
		}
	}
}

// readChunkSize reads a chunk-size line: hex digits, optional extensions,
// CRLF. A bare LF, a missing size, an over-long one or a control
// character is malformed.
func readChunkSize(src *bufio.Reader) (uint64, error) {
	line, err := src.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return 0, ErrBadChunk
		}
		return 0, noEOF(err)
	}
	n := len(line)
	if n < 3 || line[n-2] != '\r' {
		return 0, ErrBadChunk
	}
	line = line[:n-2]
	var size uint64
	i := 0
	for ; i < len(line); i++ {
		d, ok := unhexDigit(line[i])
		if !ok {
			break
		}
		if i == 16 {
			return 0, ErrBadChunk
		}
		size = size<<4 | uint64(d)
	}
	if i == 0 || size > math.MaxInt64 {
		// A size of 2^63 or more would be a negative length to relay.
		return 0, ErrBadChunk
	}
	// Whitespace may end the line, but an extension follows the size
	// at once: net/http refuses "5 ;x", which RFC 9112 allows (BWS), and
	// the edge accepts no framing another parser refuses.
	rest := line[i:]
	for len(rest) > 0 && (rest[len(rest)-1] == ' ' || rest[len(rest)-1] == '\t') {
		rest = rest[:len(rest)-1]
	}
	if len(rest) > 0 && (rest[0] != ';' || !ValidFieldValue(rest)) {
		return 0, ErrBadChunk
	}
	return size, nil
}

func unhexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// relayTrailers copies the trailer section after the last chunk, up to
// and including the blank line; each field must be well formed.
func relayTrailers(dst *bufio.Writer, src *bufio.Reader, pass bool, keep *[]byte) (rerr, werr error) {
	total := 0
	for {
		line, err := src.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return ErrBadChunk, nil
			}
			return noEOF(err), nil
		}
		total += len(line)
		n := len(line)
		if total > maxTrailers || n < 2 || line[n-2] != '\r' {
			return ErrBadChunk, nil
		}
		if n > 2 {
			f := line[:n-2]
			colon := Index(f, ':')
			if colon <= 0 || !ValidFieldValue(f[colon+1:]) || f[0] == ' ' || f[0] == '\t' {
				return ErrBadChunk, nil
			}
			for _, c := range f[:colon] {
				if !IsTokenChar(c) {
					return ErrBadChunk, nil
				}
			}
		}
		if pass {
			if _, err := dst.Write(line); err != nil {
				return nil, err
			}
		} else if keep != nil && n > 2 {
			*keep = append(*keep, line...)
		}
		if n == 2 {
			return nil, nil
		}
	}
}
