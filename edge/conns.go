package edge

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Bookkeeping for the fast path's own connections: the set a graceful
// shutdown walks, and the hand-over of a connection to net/http.

// tracked is one fast-path connection as shutdown sees it. idle is true
// while it waits for a request (or its TLS handshake), when shutdown may
// end the wait by moving the read deadline; an active connection finishes
// its request and then sees shut.
type tracked struct {
	conn   net.Conn
	mu     sync.Mutex
	idle   bool
	onShut func() // an HTTP/2 connection's graceful stop, instead of the above
	shut   atomic.Bool
	// up is the backend connection an HTTP/1 request is using, so that
	// the end of the grace period can cut a backend that never finishes
	// (closing the client's connection does not wake a read from it).
	up atomic.Pointer[upConn]
}

// setIdle records whether the connection waits for a request; it returns
// false once shutdown has begun.
func (t *tracked) setIdle(idle bool) bool {
	t.mu.Lock()
	t.idle = idle
	t.mu.Unlock()
	return !t.shut.Load()
}

func (t *tracked) closing() bool { return t.shut.Load() }

// onShutdown makes shutdown call stop instead of waking an idle wait: an
// HTTP/2 connection says GOAWAY and finishes its streams. If shutdown has
// already begun, stop is called now.
func (t *tracked) onShutdown(stop func()) {
	t.mu.Lock()
	t.idle = false
	t.onShut = stop
	t.mu.Unlock()
	if t.shut.Load() {
		stop()
	}
}

// connSet is every live fast-path connection of one listener.
type connSet struct {
	mu    sync.Mutex
	conns map[*tracked]struct{}
	shut  bool
	wg    sync.WaitGroup // one per connection goroutine
}

func newConnSet() *connSet { return &connSet{conns: make(map[*tracked]struct{})} }

// add tracks a new connection; nil means the server is shutting down.
func (s *connSet) add(conn net.Conn) *tracked {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shut {
		return nil
	}
	t := &tracked{conn: conn, idle: true}
	s.conns[t] = struct{}{}
	s.wg.Add(1)
	return t
}

// remove stops tracking t (a connection closed or handed to net/http).
func (s *connSet) remove(t *tracked) {
	s.mu.Lock()
	delete(s.conns, t)
	s.mu.Unlock()
}

// shutdown wakes idle connections so they close, and tells active ones
// to close after their current request.
func (s *connSet) shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shut = true
	past := time.Unix(1, 0)
	for t := range s.conns {
		t.mu.Lock()
		t.shut.Store(true)
		switch {
		case t.onShut != nil:
			t.onShut()
		case t.idle:
			t.conn.SetReadDeadline(past)
		}
		t.mu.Unlock()
	}
}

// size is the number of live connections.
func (s *connSet) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// wait waits for every connection goroutine to end, closing the
// connections that are still busy when ctx ends.
func (s *connSet) wait(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	s.mu.Lock()
	for t := range s.conns {
		t.conn.Close()
		if uc := t.up.Load(); uc != nil {
			// Not Close: its owner closes it once its read fails.
			uc.conn.SetDeadline(time.Unix(1, 0))
		}
	}
	s.mu.Unlock()
	<-done
}

// handoff is the listener through which net/http's server receives the
// HTTP/1 connections the fast path gives up (a request on a route with
// middlewares, an upgrade, Expect, an unusual head, a host handler), with
// the bytes it had read (replayConn). HTTP/2 connections stay with the
// edge's own server (h2conn.go).
type handoff struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newHandoff(addr net.Addr) *handoff {
	return &handoff{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// give passes conn to net/http, or closes it once the server is closed.
func (h *handoff) give(conn net.Conn) {
	select {
	case h.ch <- conn:
	case <-h.done:
		conn.Close()
	}
}

func (h *handoff) Accept() (net.Conn, error) {
	select {
	case c := <-h.ch:
		return c, nil
	case <-h.done:
		return nil, net.ErrClosed
	}
}

func (h *handoff) Close() error {
	h.once.Do(func() { close(h.done) })
	return nil
}

func (h *handoff) Addr() net.Addr { return h.addr }

// replayConn is a connection handed to net/http with bytes the fast path
// had already read: they are read again first, so no request is lost.
type replayConn struct {
	net.Conn
	br   *bufio.Reader // nil once drained
	bufs *h1Bufs
	tls  *tls.ConnectionState
}

func (c *replayConn) Read(p []byte) (int, error) {
	if c.br != nil {
		if c.br.Buffered() > 0 {
			return c.br.Read(p)
		}
		c.br.Reset(nil)
		c.bufs.r.Put(c.br)
		c.br = nil
	}
	return c.Conn.Read(p)
}

// tlsStateKey carries a handed-over connection's TLS state in its
// context: net/http only fills Request.TLS for a *tls.Conn.
type tlsStateKey struct{}

func handedOverContext(ctx context.Context, c net.Conn) context.Context {
	if rc, ok := c.(*replayConn); ok && rc.tls != nil {
		return context.WithValue(ctx, tlsStateKey{}, rc.tls)
	}
	return ctx
}

// withHandedOverTLS returns r with TLS set when it arrived over TLS on a
// connection the fast path handed over; middlewares and X-Forwarded-Proto
// depend on it.
func withHandedOverTLS(r *http.Request) *http.Request {
	st, ok := r.Context().Value(tlsStateKey{}).(*tls.ConnectionState)
	if !ok {
		return r
	}
	r2 := new(http.Request)
	*r2 = *r
	r2.TLS = st
	return r2
}
