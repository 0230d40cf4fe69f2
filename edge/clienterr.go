package edge

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/rancher-edge/edge/edge/internal/h1wire"
)

// Failures on the client's side of an exchange, for every proxy path:
// none is charged to the backend, and each has its own answer.

// statusClientClosed is nginx's 499: the client went away before its
// answer was complete. It is never sent; the counters and the access log
// record it.
const statusClientClosed = 499

// errBodyTooLarge is a request body beyond the route's limit.
var errBodyTooLarge = h1wire.ErrBodyTooLarge

// errBodyTimeout is a request body that made no progress for
// ReadTimeout. It is a timeout (net.Error), like a deadline passing.
var errBodyTimeout error = bodyTimeout{}

type bodyTimeout struct{}

func (bodyTimeout) Error() string   { return "request body: no progress within the read timeout" }
func (bodyTimeout) Timeout() bool   { return true }
func (bodyTimeout) Temporary() bool { return false }

// clientError is a failure on the client's side of an exchange: a
// malformed, stalled or interrupted request body. It is not the
// backend's fault.
type clientError struct{ err error }

func (e clientError) Error() string { return "reading the request body: " + e.err.Error() }
func (e clientError) Unwrap() error { return e.err }

// clientStatus is the answer to an exchange that failed on the client's
// side: 408 when its body stalled, 400 when it was malformed, and 499
// when the client went away (nothing is sent then).
func clientStatus(err error) int {
	var ne net.Error
	switch {
	case errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errBodyTimeout), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return http.StatusRequestTimeout
	case errors.Is(err, h1wire.ErrBadChunk):
		return http.StatusBadRequest
	case clientGone(err):
		return statusClientClosed
	}
	// net/http's body readers report malformed framing with errors of
	// their own: anything that is not the connection ending.
	return http.StatusBadRequest
}

// clientGone reports an error that means the client's connection (or
// stream) ended.
func clientGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errStreamReset) ||
		errors.Is(err, errConnGone) || errors.Is(err, net.ErrClosed) || errors.Is(err, context.Canceled) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrClosedPipe)
}

// readDeadline keeps a connection's read deadline ReadTimeout ahead of
// the last read that made progress, moving it at most every half timeout
// (as writeDeadline does for writes).
type readDeadline struct {
	timeout time.Duration
	at      time.Time
	on      bool
}

// progressReader is a client connection whose reads keep a readDeadline
// while a request body is read; otherwise the fast loop sets deadlines
// itself (ReadHeaderTimeout, IdleTimeout).
type progressReader struct {
	conn net.Conn
	readDeadline
}

// body starts (on) or ends the body deadline.
func (r *progressReader) body(on bool) {
	r.on = on
	if on {
		r.at = time.Now().Add(r.timeout)
		r.conn.SetReadDeadline(r.at)
	}
}

func (r *progressReader) Read(p []byte) (int, error) {
	n, err := r.conn.Read(p)
	if r.on && n > 0 {
		if now := time.Now(); r.at.Sub(now) < r.timeout/2 {
			r.at = now.Add(r.timeout)
			r.conn.SetReadDeadline(r.at)
		}
	}
	if err != nil && r.on && errors.Is(err, os.ErrDeadlineExceeded) {
		err = errBodyTimeout
	}
	return n, err
}

// watchedBody is a request body read by net/http's side of the edge (an
// http.Transport or the pool transport): it keeps the body's read
// deadline moving while it progresses, remembers whether any was read (a
// retry must not resend half a body) and keeps the error that ended a
// read, which is the client's, not the backend's. Close is left to the
// RoundTrip that made it, so a retry can still read.
type watchedBody struct {
	io.ReadCloser
	rc      *http.ResponseController // nil: the server bounds reads itself
	timeout time.Duration
	at      time.Time
	limit   int64 // when positive, more is errBodyTooLarge
	n       int64
	read    bool
	err     error
}

func (b *watchedBody) Read(p []byte) (int, error) {
	if b.rc != nil {
		if now := time.Now(); b.at.Sub(now) < b.timeout/2 {
			b.at = now.Add(b.timeout)
			if b.rc.SetReadDeadline(b.at) != nil {
				b.rc = nil // not supported: the edge's HTTP/2 server bounds reads itself
			}
		}
	}
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.read = true
		if b.n += int64(n); b.limit > 0 && b.n > b.limit {
			b.err = errBodyTooLarge
			return 0, b.err
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = errBodyTimeout
		}
		b.err = err
	}
	return n, err
}

func (b *watchedBody) Close() error { return nil }
