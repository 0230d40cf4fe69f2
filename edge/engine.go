package edge

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
)

// The exchange engine: the one loop every proxy path runs to get a
// response head from one of a route's backends — the HTTP/1.1 fast path
// (h1proxy.go), the HTTP/2 fast path (h2proxy.go) and net/http's
// ReverseProxy (proxy.go). Balancing, stickiness, the retry policy, the
// accounting of each attempt (passive health, counters, in-flight) and
// the mapping of failures to statuses are decided here; a path supplies
// only the wire work of one attempt, through exchanger.

// exchanger is one protocol's side of an exchange: its request and the
// wire work of one attempt.
type exchanger interface {
	// attempt sends the request to b on one connection — an idle one
	// unless fresh — and reads the response head. reused reports
	// whether the connection was an idle one, which the backend may have
	// closed meanwhile. On error the connection is closed and nothing is
	// left to release.
	attempt(b *backend, fresh bool) (reused bool, err error)
	// status is the response head's status after a successful attempt.
	status() int
	// bodyRead reports whether any of the request body has been
	// consumed: the request can no longer be sent again.
	bodyRead() bool
	// clientFault returns, as a clientError, the client's part in err
	// (a broken, stalled or oversized body, a stream reset, a client
	// gone), or nil when the failure is the backend's.
	clientFault(err error) error
}

// exchange runs the exchange of r on rt's backends through x and returns
// the backend whose response head x holds: it has been counted as started
// and as having responded, and the caller ends it with b.finished() once
// the response body is relayed. retried reports a request that left the
// backend it was first sent to (a sticky cookie must then be renewed).
//
// On failure err is a clientError when the client is to blame (no
// backend was charged), or the backend's last error; exchangeStatus maps
// either to the answer.
func exchange(rt *Route, r *http.Request, x exchanger) (b *backend, retried bool, err error) {
	var sticky, tried *backend
	if rt.cookieName != "" {
		sticky = rt.stickyBackend(r)
	}
	for n := 0; ; n++ {
		b = rt.pickBackend(sticky, tried)
		sticky = nil
		if b == nil {
			return nil, false, noBackendError(tried != nil)
		}
		sent := b.start()
		err = attempt(r.Method, b, x)
		if err == nil {
			b.responded(x.status(), sent)
			return b, tried != nil, nil
		}
		if ce := x.clientFault(err); ce != nil {
			// The backend did nothing wrong; x closed its connection,
			// which frees it.
			b.finished()
			return nil, false, ce
		}
		b.failed()
		if !rt.retry(n, err, x.bodyRead(), r.Method) {
			return nil, false, err
		}
		tried = b
	}
}

// attempt sends the request to b, and sends it again once on a freshly
// dialled connection when an idle one turns out to have been closed by the
// backend and the request can be replayed: nothing of its body was read,
// and its method is idempotent (as net/http's transport decides).
func attempt(method string, b *backend, x exchanger) error {
	for fresh := false; ; fresh = true {
		reused, err := x.attempt(b, fresh)
		if err == nil {
			return nil
		}
		if fresh || !reused || x.bodyRead() || !replayable(method) || !connLost(err) || x.clientFault(err) != nil {
			return err
		}
	}
}

// retry is the retry policy of every path: a failed request is sent once
// more, to another backend, when it can be sent again whole (no byte of
// its body was consumed) and either no connection could be made (nothing
// left the edge, so any method is safe) or, for an idempotent method, the
// backend closed or reset a fresh connection without answering (a backend
// going down, which attempt's replay cannot tell from a stale idle one).
// Timeouts are never retried: the client has waited long enough.
func (rt *Route) retry(n int, err error, bodyRead bool, method string) bool {
	if n > 0 || bodyRead || len(rt.backends) < 2 {
		return false
	}
	return isDialError(err) || replayable(method) && connLost(err)
}

func replayable(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// connLost reports an error that means the backend closed the connection.
func connLost(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// pickBackend is the balancing policy of every path: the backend the
// sticky cookie names while it is available, else the balancer's pick
// other than tried (the backend whose attempt just failed).
func (rt *Route) pickBackend(sticky, tried *backend) *backend {
	if sticky != nil && sticky != tried && sticky.available() {
		return sticky
	}
	return rt.balancer.pick(tried)
}

var errNoBackend = errors.New("no healthy backend")

// noBackendError is the error when pickBackend found nothing: after a
// failed attempt it still means 503, but the log says why.
func noBackendError(retried bool) error {
	if retried {
		return errAllFailed{errNoBackend}
	}
	return errNoBackend
}

// errAllFailed marks a request whose every attempt failed. It unwraps to
// errNoBackend, so the answer is 503.
type errAllFailed struct{ error }

func (e errAllFailed) Unwrap() error { return e.error }

// admit is the preamble of a routed request on every path, before any
// middleware or exchange: the request is counted in flight on its route
// (served ends it), the forwarded fields an untrusted peer sent are
// removed, and a body announced beyond the route's limit is refused. It
// returns 0, or the status to answer without a backend.
func (s *Server) admit(rt *Route, r *http.Request) int {
	rt.stats.inflight.Add(1)
	s.trust.scrub(r)
	if rt.maxBody > 0 && r.ContentLength > rt.maxBody {
		return http.StatusRequestEntityTooLarge
	}
	return 0
}

// exchangeStatus maps a failed exchange to the answer of every path: the
// client's failures first (clientStatus: 400, 408, 413, or 499 when it
// left), then the backends' (failureStatus).
func (s *Server) exchangeStatus(r *http.Request, err error) int {
	var ce clientError
	switch {
	case errors.As(err, &ce):
		// Before the context: a body that timed out also ends it.
		return clientStatus(err)
	case r.Context().Err() != nil:
		return statusClientClosed
	}
	return s.failureStatus(r, err)
}

// failureStatus maps an exchange the backends failed — 503 when no
// backend can take the request, 504 on a timeout, 502 otherwise — and
// logs what deserves it. Bodies never name a backend.
func (s *Server) failureStatus(r *http.Request, err error) int {
	code := http.StatusBadGateway
	var ne net.Error
	switch {
	case errors.Is(err, errNoBackend):
		code = http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		code = http.StatusGatewayTimeout
	}
	if code != http.StatusServiceUnavailable {
		s.log.Warn("proxy error", "host", r.Host, "path", r.URL.Path, "status", code, "err", err)
	}
	return code
}
