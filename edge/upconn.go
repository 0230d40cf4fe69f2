package edge

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"time"
)

// The fast path's upstream connections: one idle pool per backend address,
// owned by the Server and shared by every route and table generation that
// names the address, so a swap never reconnects backends. A pool is a
// mutex and a LIFO stack: the most recently used connection is the one
// most likely still open, and the stack top is warm in the caches.

// upConn is one keep-alive connection to a backend.
type upConn struct {
	conn   net.Conn
	br     *bufio.Reader // lent from get until put: nil while idle
	pool   *hostPool
	idleAt time.Time
	reused bool // taken from the pool rather than dialled for this request
}

// upWriters lends an upstream connection the buffer a request is written
// through, from writer until putWriter: a connection holds none while it
// waits for its answer or sits idle. (Under h2load -c32 -m10, 320 streams
// wait on their backends at once: their writers were 1.3 MiB of heap.)
var upWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4<<10) }}

// upReaders lends a connection the buffer its answers are read through,
// from get until put: an idle connection holds none. (Under h2load -c32
// -m10 the pools hold some 500 connections to the two backends, of which
// 320 wait for an answer at a time.) A connection closed while it holds
// one leaves it to the garbage collector: its last reader may still be
// reading from it.
var upReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4<<10) }}

// writer returns a buffer writing to c; putWriter gives it back.
func (c *upConn) writer() *bufio.Writer {
	w := upWriters.Get().(*bufio.Writer)
	w.Reset(c.conn)
	return w
}

// putWriter returns w to the pool; what it still holds is dropped (a
// failed write, whose connection is closed).
func putWriter(w *bufio.Writer) {
	w.Reset(nil)
	upWriters.Put(w)
}

// lendReader gives c the buffer its answers are read through, from
// upReaders; returnReader takes it back when c goes idle.
func (c *upConn) lendReader() {
	c.br = upReaders.Get().(*bufio.Reader)
	c.br.Reset(c.conn)
}

func (c *upConn) returnReader() {
	c.br.Reset(nil)
	upReaders.Put(c.br)
	c.br = nil
}

// hostPool holds the idle connections to one address. It is created for
// the first request to a backend of the address, and closed once every
// backend attached to it is retired. The TLS server name is derived when
// dialling rather than stored.
type hostPool struct {
	addr string // host:port

	mu     sync.Mutex
	idle   []*upConn
	secure bool
	closed bool // the address left every route: put closes

	// refs counts the backends attached to the pool and not retired;
	// upPools.mu guards it.
	refs int
}

// retiredPool marks a backend that no route holds any more: a request
// still in flight on an older table gets a pool of its own, closed, for
// its one connection.
var retiredPool = &hostPool{closed: true}

// poolKey names a pool without building a "scheme://host" string per
// backend.
type poolKey struct {
	secure bool
	addr   string
}

// upPools is every hostPool, by scheme and address.
type upPools struct {
	dialer  net.Dialer
	tls     *tls.Config
	maxIdle int
	idleFor time.Duration

	mu     sync.Mutex
	byAddr map[poolKey]*hostPool
}

// upstreamIdleTimeout is how long an idle upstream connection is kept, as
// the net/http design's transports do.
const upstreamIdleTimeout = 90 * time.Second

func newUpPools(cfg Config) *upPools {
	return &upPools{
		dialer:  net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second},
		tls:     cfg.BackendTLS,
		maxIdle: cfg.MaxIdleConnsPerHost,
		idleFor: upstreamIdleTimeout,
		byAddr:  make(map[poolKey]*hostPool),
	}
}

// poolOf returns b's pool, attaching b to its address's (created if
// need be) on its first request.
func (u *upPools) poolOf(b *backend) *hostPool {
	if p := b.pool.Load(); p != nil && p != retiredPool {
		return p
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	key := poolKey{secure: b.scheme == "https", addr: b.host}
	p := b.pool.Load()
	switch p {
	case nil:
	case retiredPool:
		return &hostPool{addr: key.addr, secure: key.secure, closed: true}
	default:
		return p // attached meanwhile
	}
	p = u.byAddr[key]
	if p == nil {
		p = &hostPool{addr: b.host, secure: key.secure}
		u.byAddr[key] = p
	}
	p.refs++
	b.pool.Store(p)
	return p
}

// retire detaches those of backends that no route holds (compiles only:
// backend.routes), and closes and forgets the pools no backend uses any
// more. A backend may be listed more than once.
func (u *upPools) retire(backends []*backend) {
	if len(backends) == 0 {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, b := range backends {
		if b.routes > 0 {
			continue
		}
		p := b.pool.Swap(retiredPool)
		if p == nil || p == retiredPool {
			continue
		}
		p.refs--
		key := poolKey{secure: p.secure, addr: p.addr}
		if p.refs <= 0 && u.byAddr[key] == p {
			delete(u.byAddr, key)
			p.shut()
		}
	}
}

// get returns an idle connection to b's address, or dials one within
// dial when it is positive (a route's own bound, below the dialer's).
// fresh skips the idle ones: a retry after a kept-alive connection turned
// out to be closed.
func (u *upPools) get(ctx context.Context, b *backend, fresh bool, dial time.Duration) (*upConn, error) {
	p := u.poolOf(b)
	if !fresh {
		now := time.Now()
		for {
			p.mu.Lock()
			n := len(p.idle)
			if n == 0 {
				p.mu.Unlock()
				break
			}
			c := p.idle[n-1]
			p.idle[n-1] = nil
			p.idle = p.idle[:n-1]
			p.mu.Unlock()
			if now.Sub(c.idleAt) < u.idleFor {
				c.reused = true
				c.lendReader()
				return c, nil
			}
			c.conn.Close()
		}
	}
	if dial > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dial)
		defer cancel()
	}
	return u.dial(ctx, p)
}

func (u *upPools) dial(ctx context.Context, p *hostPool) (*upConn, error) {
	conn, err := u.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err // a *net.OpError with Op "dial": Route.retry knows it
	}
	if p.secure {
		cfg := &tls.Config{}
		if u.tls != nil {
			cfg = u.tls.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = p.sni()
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(conn, cfg)
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", p.addr, err)
		}
		conn = tc
	}
	c := &upConn{conn: conn, pool: p}
	c.lendReader()
	return c, nil
}

// put returns a connection whose exchange ended cleanly to its pool.
func (u *upPools) put(c *upConn) {
	if c.br.Buffered() > 0 {
		// Bytes nobody asked for (a body on a HEAD answer, more than
		// Content-Length): the next request would read them as its
		// response.
		c.conn.Close()
		return
	}
	c.returnReader()
	p := c.pool
	c.idleAt = time.Now()
	p.mu.Lock()
	if p.closed || len(p.idle) >= u.maxIdle {
		p.mu.Unlock()
		c.conn.Close()
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// sweep closes connections idle for longer than the idle timeout, so
// backends are not held open by a pool nobody draws from.
func (u *upPools) sweep(now time.Time) {
	u.mu.Lock()
	pools := make([]*hostPool, 0, len(u.byAddr))
	for _, p := range u.byAddr {
		pools = append(pools, p)
	}
	u.mu.Unlock()
	for _, p := range pools {
		p.mu.Lock()
		// The oldest are at the bottom of the stack.
		n := 0
		for n < len(p.idle) && now.Sub(p.idle[n].idleAt) >= u.idleFor {
			p.idle[n].conn.Close()
			n++
		}
		if n > 0 {
			rest := copy(p.idle, p.idle[n:])
			clear(p.idle[rest:])
			p.idle = p.idle[:rest]
		}
		p.mu.Unlock()
	}
}

// sweepLoop runs sweep until ctx ends.
func (u *upPools) sweepLoop(ctx context.Context) {
	t := time.NewTicker(u.idleFor / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			u.sweep(now)
		}
	}
}

// close closes every idle connection.
func (u *upPools) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, p := range u.byAddr {
		p.mu.Lock()
		for _, c := range p.idle {
			c.conn.Close()
		}
		clear(p.idle)
		p.idle = p.idle[:0]
		p.mu.Unlock()
	}
}

func (p *hostPool) shut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.idle {
		c.conn.Close()
	}
	p.idle = nil
}

// sni is the TLS server name for p's address: its host without the port.
func (p *hostPool) sni() string {
	host, _, err := net.SplitHostPort(p.addr)
	if err != nil || host == "" {
		return p.addr
	}
	return host
}
