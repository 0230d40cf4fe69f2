package edge

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"
)

var errBadServerURL = errors.New("server URL must be http:// or https:// with a host")

// upstream holds the connection pools shared by every route and every
// generation, so a table swap never reconnects the backends.
type upstream struct {
	plain  *http.Transport
	secure *http.Transport
	// plainUp and secureUp carry upgrades (WebSocket): after a 101 the
	// connection is a tunnel whose silences are not a backend's late
	// answer, so their head wait is http.Transport's own timer rather
	// than headerConn.
	plainUp, secureUp *http.Transport

	cfg Config
	mu  sync.Mutex
	// byTimeouts holds the transports of routes whose response-header
	// timeout differs from the default or that have their own dial
	// timeout, one set per pair: they outlive generations like the
	// default set.
	byTimeouts map[timeouts]*upstream
}

func newUpstream(cfg Config) *upstream {
	mk := func(upgrades bool) *http.Transport {
		d := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
		header := cfg.ResponseHeaderTimeout
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &headerConn{Conn: c, timeout: header}, nil
		}
		// The wait for a response head is bounded by headerConn rather
		// than ResponseHeaderTimeout, whose timer costs four allocations
		// a request; upgrades keep the timer (see plainUp).
		var headerTimeout time.Duration
		if upgrades {
			dial, headerTimeout = d.DialContext, header
		}
		return &http.Transport{
			Proxy:                 nil, // backends are never reached through an HTTP proxy
			DialContext:           dial,
			ResponseHeaderTimeout: headerTimeout,
			MaxIdleConns:          0,
			MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			// Compression is the client's business: pass Accept-Encoding
			// through untouched.
			DisableCompression: true,
		}
	}
	u := &upstream{plain: mk(false), secure: mk(false), plainUp: mk(true), secureUp: mk(true), cfg: cfg}
	u.secure.TLSClientConfig = cfg.BackendTLS
	u.secureUp.TLSClientConfig = cfg.BackendTLS
	return u
}

// headerConn bounds the wait for a backend's answer on a connection of
// the net/http design's transports: a write (a request going out) arms a
// read deadline of timeout, and the first bytes read (the answer) disarm
// it, so a response body or an idle pooled connection is not limited. The
// deadline moves in the runtime's timer, without allocating, where
// http.Transport's ResponseHeaderTimeout makes a timer per request.
type headerConn struct {
	net.Conn
	timeout time.Duration
	waiting atomic.Bool
}

func (c *headerConn) Write(p []byte) (int, error) {
	if c.waiting.CompareAndSwap(false, true) {
		c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	}
	return c.Conn.Write(p)
}

func (c *headerConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.waiting.CompareAndSwap(true, false) {
		c.Conn.SetReadDeadline(time.Time{})
	}
	return n, err
}

// withTimeouts returns the transports that wait header for a response
// head (a route's traefik.backend.responseHeaderTimeout) and connect
// within dial when it is positive (a route's own DialTimeout).
func (u *upstream) withTimeouts(header, dial time.Duration) *upstream {
	if header == u.cfg.ResponseHeaderTimeout && dial <= 0 {
		return u
	}
	key := timeouts{header, dial}
	u.mu.Lock()
	defer u.mu.Unlock()
	if p := u.byTimeouts[key]; p != nil {
		return p
	}
	if u.byTimeouts == nil {
		u.byTimeouts = make(map[timeouts]*upstream)
	}
	cfg := u.cfg
	cfg.ResponseHeaderTimeout = header
	if dial > 0 {
		cfg.DialTimeout = dial
	}
	p := newUpstream(cfg)
	u.byTimeouts[key] = p
	return p
}

// timeouts keys the transports of routes with their own timeouts.
type timeouts struct{ header, dial time.Duration }

func (u *upstream) close() {
	for _, t := range [...]*http.Transport{u.plain, u.secure, u.plainUp, u.secureUp} {
		t.CloseIdleConnections()
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, p := range u.byTimeouts {
		p.close()
	}
}

// routeTransport is the net/http design's side of the exchange engine
// (engine.go): the engine picks the backends and decides retries, the
// transport sends each attempt — over the fast path's pools when it is on,
// else over http.Transport.
type routeTransport struct {
	rt   *Route
	up   *upstream
	pool *poolTransport // with the fast path on: used instead of up
	h2   *h2Upstream    // for h2c:// and h2:// backends, always
}

// nhExchange is one request's state on the net/http side of the engine.
// Exchanges are pooled: handing the engine a pointer to a stack value
// would make it escape, one allocation a request.
type nhExchange struct {
	t    *routeTransport
	out  *http.Request
	body *watchedBody
	resp *http.Response
}

var nhExchanges = sync.Pool{New: func() any { return new(nhExchange) }}

func (t *routeTransport) RoundTrip(out *http.Request) (*http.Response, error) {
	rt := t.rt
	// The body's read errors are the client's, and a retry needs to
	// know whether any was read. routes() watched it already unless a
	// middleware replaced it. Its Close is a no-op, so a transport that
	// gives up does not close it under a retry: the server that read the
	// request closes it when the handler returns.
	body, _ := out.Body.(*watchedBody)
	if body == nil && out.Body != nil && out.Body != http.NoBody {
		body = &watchedBody{ReadCloser: out.Body}
		out.Body = body
	}
	x := nhExchanges.Get().(*nhExchange)
	*x = nhExchange{t: t, out: out, body: body}
	b, retried, err := exchange(rt, out, x)
	resp := x.resp
	*x = nhExchange{}
	nhExchanges.Put(x)
	if err != nil {
		return nil, err
	}
	if c := rt.setCookie(out, b, retried); c != "" {
		resp.Header.Add("Set-Cookie", c)
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		b.finished()
	} else {
		resp.Body = &doneBody{ReadCloser: resp.Body, b: b}
	}
	return resp, nil
}

func (x *nhExchange) attempt(b *backend, fresh bool) (bool, error) {
	out := x.out
	out.URL.Scheme = b.scheme
	out.URL.Host = b.host
	x.resp = nil
	if isH2(b.scheme) {
		resp, err := x.t.h2.roundTrip(out, b)
		x.resp = resp
		return false, err
	}
	if p := x.t.pool; p != nil {
		uc, err := p.pools.get(out.Context(), b, fresh, x.t.rt.dialTimeout)
		if err != nil {
			return false, err
		}
		resp, err := p.exchange(uc, out)
		if err != nil {
			uc.conn.Close()
			return uc.reused, err
		}
		x.resp = resp
		return uc.reused, nil
	}
	// http.Transport replays on a stale idle connection itself.
	resp, err := x.t.up.roundTrip(out, b)
	x.resp = resp
	return false, err
}

func (x *nhExchange) status() int { return x.resp.StatusCode }

func (x *nhExchange) bodyRead() bool { return x.body != nil && x.body.read }

func (x *nhExchange) clientFault(err error) error {
	switch {
	case x.body != nil && x.body.err != nil:
		return clientError{x.body.err}
	case x.out.Context().Err() != nil:
		// The client left (an HTTP/2 reset, a closed connection):
		// nobody to retry for.
		return clientError{context.Canceled}
	}
	return nil
}

// roundTrip sends out to b over the transport its scheme and an upgrade
// need.
func (u *upstream) roundTrip(out *http.Request, b *backend) (*http.Response, error) {
	up := len(out.Header["Upgrade"]) > 0
	switch {
	case b.scheme == "https" && up:
		return u.secureUp.RoundTrip(out)
	case b.scheme == "https":
		return u.secure.RoundTrip(out)
	case up:
		return u.plainUp.RoundTrip(out)
	}
	return u.plain.RoundTrip(out)
}

// doneBody ends the backend's in-flight count when the response body is
// closed, which is when the proxy has finished copying it.
type doneBody struct {
	io.ReadCloser
	b    *backend
	done bool
}

func (d *doneBody) Close() error {
	if !d.done {
		d.done = true
		d.b.finished()
	}
	return d.ReadCloser.Close()
}

// Write lets a switched-protocol (WebSocket) body be written through.
func (d *doneBody) Write(p []byte) (int, error) {
	if w, ok := d.ReadCloser.(io.Writer); ok {
		return w.Write(p)
	}
	return 0, errors.New("edge: response body is not writable")
}

// lazyProxy is a route's reverse proxy, built on the route's first
// request through net/http: most routes are served by the fast paths and
// never need one (a table of 10,000 routes held 1.4 MiB of them).
type lazyProxy struct {
	s    *Server
	rt   *Route
	once sync.Once
	rp   *httputil.ReverseProxy
}

func (p *lazyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.once.Do(func() { p.rp = p.s.newReverseProxy(p.rt) })
	p.rp.ServeHTTP(w, r)
}

// newReverseProxy builds the proxy for one route.
func (s *Server) newReverseProxy(rt *Route) *httputil.ReverseProxy {
	pass, vhost := rt.Service.PassHostHeader, rt.Service.UpstreamHost
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http" // replaced by the transport
			pr.Out.URL.Host = "backend"
			switch {
			case vhost != "":
				pr.Out.Host = vhost
			case pass:
				pr.Out.Host = pr.In.Host
			default:
				pr.Out.Host = ""
			}
			forwarded(pr.In, pr.In.TLS != nil, s.ports, mapSink(pr.Out.Header))
			// ReverseProxy drops Forwarded before Rewrite; the others pass
			// as the request has them, as on the fast paths.
			for _, k := range forwardedFields[forwardedWritten:] {
				if v := pr.In.Header[k]; v != nil {
					pr.Out.Header[k] = v
				}
			}
		},
		Transport:     s.routeTransport(rt),
		FlushInterval: -1,
		BufferPool:    s.buffers,
		ErrorHandler:  s.proxyError,
		ErrorLog:      s.errorLog,
	}
}

func (s *Server) routeTransport(rt *Route) *routeTransport {
	t := &routeTransport{rt: rt, up: s.upstream.withTimeouts(rt.headerTimeout, rt.dialTimeout), h2: s.h2up}
	if !s.cfg.DisableFastPath {
		t.pool = &poolTransport{pools: s.pools, header: rt.headerTimeout}
	}
	return t
}

// proxyError turns a failed round trip into the answer the client sees.
func (s *Server) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	code := s.exchangeStatus(r, err)
	if code == statusClientClosed {
		// Nobody to answer; the counters and the log say 499.
		recordStatus(w, code)
		return
	}
	plainError(w, code)
}

// plainError writes a small plain-text error page.
func plainError(w http.ResponseWriter, code int) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	io.WriteString(w, statusBodies[code])
}

var statusBodies = map[int]string{
	http.StatusNotFound:              "404 page not found\n",
	http.StatusInternalServerError:   "500 Internal Server Error\n",
	http.StatusBadGateway:            "502 Bad Gateway\n",
	http.StatusServiceUnavailable:    "503 Service Unavailable\n",
	http.StatusGatewayTimeout:        "504 Gateway Timeout\n",
	http.StatusBadRequest:            "400 Bad Request\n",
	http.StatusMethodNotAllowed:      "405 Method Not Allowed\n",
	http.StatusRequestTimeout:        "408 Request Timeout\n",
	http.StatusRequestEntityTooLarge: "413 Request Entity Too Large\n",

	http.StatusRequestHeaderFieldsTooLarge: "431 Request Header Fields Too Large\n",
}
