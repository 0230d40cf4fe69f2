package edge

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/rancher-edge/edge/edge/internal/h1wire"
)

// The fast path: one goroutine per client connection serves its HTTP/1.x
// requests in order, synchronously — read a head, proxy the exchange, read
// the next — with no goroutine or channel per request. A request it does
// not serve (a middleware on the route, an upgrade, Expect, an unusual
// head) hands the connection with every byte it buffered to net/http for
// the rest of its life.

// h1conn is one client connection on the fast path. Everything in it is
// reused from request to request.
type h1conn struct {
	s     *Server
	conn  net.Conn
	track *tracked
	isTLS bool
	entry uint8
	br    *bufio.Reader
	bw    *bufio.Writer
	out   progressWriter // what bw writes to
	in    progressReader // what br reads from

	head     h1wire.RequestHead
	resp     h1wire.ResponseHead
	raw      []byte   // the current request head, canonicalised
	readBody bool     // the current request's body has been (partly) read
	rt       *Route   // the route of the exchange in progress
	upc      *upConn  // its backend connection, once a response head is read
	consume  int      // the bytes of upc's buffer that head occupies
	linger   bool     // the client may still be sending: see lingerClose
	scratch  []byte   // a response head too big for the upstream buffer
	vals     []string // backing for the header map's value slices
	req      http.Request
	url      url.URL
	hdr      http.Header
}

// h1Bufs pools the client connections' buffered readers and writers.
type h1Bufs struct{ r, w sync.Pool }

func newH1Bufs() *h1Bufs {
	b := &h1Bufs{}
	b.r.New = func() any { return bufio.NewReaderSize(nil, 4<<10) }
	b.w.New = func() any { return bufio.NewWriterSize(nil, 4<<10) }
	return b
}

// serveH1 runs the fast path on conn until the client or the server ends
// it. It returns the connection to hand to net/http, or nil when it
// closed it.
func (s *Server) serveH1(conn net.Conn, tr *tracked, entry uint8) net.Conn {
	c := &h1conn{s: s, conn: conn, track: tr, entry: entry, hdr: make(http.Header, 16)}
	c.in = progressReader{conn: conn, readDeadline: readDeadline{timeout: s.cfg.ReadTimeout}}
	c.br = s.h1bufs.r.Get().(*bufio.Reader)
	c.br.Reset(&c.in)
	c.bw = s.h1bufs.w.Get().(*bufio.Writer)
	c.out = progressWriter{conn: conn, writeDeadline: writeDeadline{timeout: s.cfg.WriteTimeout}}
	c.bw.Reset(&c.out)
	c.req.RemoteAddr = conn.RemoteAddr().String()
	if tc, ok := conn.(*tls.Conn); ok {
		c.isTLS = true
		st := tc.ConnectionState()
		c.req.TLS = &st
	}
	handed := c.loop()
	c.bw.Reset(nil)
	s.h1bufs.w.Put(c.bw)
	if handed {
		conn.SetWriteDeadline(time.Time{}) // net/http keeps its own
		return &replayConn{Conn: conn, br: c.br, bufs: s.h1bufs, tls: c.req.TLS}
	}
	if c.linger {
		lingerClose(conn)
	} else {
		conn.Close()
	}
	c.br.Reset(nil)
	s.h1bufs.r.Put(c.br)
	return nil
}

// writeDeadline gives each write to a client at least half of
// WriteTimeout to complete. Moving a deadline costs a timer update in the
// runtime (about 10 % of a proxied request's CPU when done per write), so
// it moves only once half of it has passed.
type writeDeadline struct {
	timeout time.Duration
	at      time.Time
}

// extend moves conn's write deadline to WriteTimeout from now when less
// than half of it is left.
func (d *writeDeadline) extend(conn net.Conn) {
	now := time.Now()
	if d.at.Sub(now) < d.timeout/2 {
		d.at = now.Add(d.timeout)
		conn.SetWriteDeadline(d.at)
	}
}

// progressWriter is a client connection whose writes keep a writeDeadline.
type progressWriter struct {
	conn net.Conn
	writeDeadline
}

func (w *progressWriter) Write(p []byte) (int, error) {
	w.extend(w.conn)
	return w.conn.Write(p)
}

// lingerClose closes a connection after an answer that refused a request
// whose body may still be arriving. Closing with unread bytes makes the
// kernel reset the connection, which can destroy the answer before the
// client reads it; so, as net/http does, the write side is closed first
// and the rest is read away for a moment.
func lingerClose(conn net.Conn) {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	io.CopyN(io.Discard, conn, 256<<10)
	conn.Close()
}

// loop serves requests; it returns true when the connection is to be
// handed to net/http (everything written so far has been flushed).
func (c *h1conn) loop() bool {
	first := true
	for {
		if c.br.Buffered() == 0 && !c.waitRequest(first) {
			return false
		}
		first = false
		n, err := c.readHead()
		if err == nil {
			err = c.parse(n)
		}
		if err != nil {
			if he, ok := err.(*h1wire.HeadError); ok {
				// Nothing of the refused head may shape the answer.
				c.head.Method, c.head.Minor = "", 1
				c.reply(he.Code, false)
				c.bw.Flush()
				return false
			}
			return err == h1wire.ErrHandOver && c.bw.Flush() == nil
		}
		start := time.Now()
		host := canonicalHost(c.req.Host)
		if c.s.hostHandler(host, c.entry) != nil {
			// Served by its own handler (the dashboard): net/http's design.
			return c.bw.Flush() == nil
		}
		rt := c.s.table.Load().lookup(&c.req, host, c.entry)
		if rt != nil && !rt.fast {
			// The route has middlewares: net/http's design serves it,
			// from this request on, head included.
			return c.bw.Flush() == nil
		}
		c.br.Discard(n)
		if c.head.HasBody() {
			// A body may take long, but not stall: each read that
			// makes progress moves the deadline (ReadTimeout).
			c.in.body(true)
		}
		ok := c.serve(rt, start)
		c.in.body(false)
		if !ok || c.track.closing() {
			c.bw.Flush()
			return false
		}
		if c.br.Buffered() == 0 {
			// Pipelined requests share one flush; the last one flushes.
			if c.bw.Flush() != nil {
				return false
			}
		}
	}
}

// waitRequest waits for the first byte of the next request, for up to
// IdleTimeout (ReadHeaderTimeout for a connection's first request).
func (c *h1conn) waitRequest(first bool) bool {
	d := c.s.cfg.IdleTimeout
	if first {
		d = c.s.cfg.ReadHeaderTimeout
	}
	c.conn.SetReadDeadline(time.Now().Add(d))
	if !c.track.setIdle(true) {
		return false
	}
	_, err := c.br.Peek(1)
	if !c.track.setIdle(false) && err == nil {
		// Shutdown began as the request arrived: serve it within the
		// header deadline, then close.
		c.conn.SetReadDeadline(time.Now().Add(c.s.cfg.ReadHeaderTimeout))
	}
	return err == nil
}

// maxLeadingBlankLines is how many empty lines may precede a request line;
// more are handed to net/http, which refuses them.
const maxLeadingBlankLines = 4

// readHead waits until a whole request head is buffered and returns its
// length. A head too big for the buffer is net/http's to read (it applies
// MaxHeaderBytes), unless it already exceeds MaxHeaderBytes.
func (c *h1conn) readHead() (int, error) {
	deadline := false
	max := c.s.cfg.MaxHeaderBytes
	blank := 0
	for {
		buf, _ := c.br.Peek(c.br.Buffered())
		if len(buf) >= 2 && buf[0] == '\r' && buf[1] == '\n' && blank < maxLeadingBlankLines {
			// RFC 9112 §2.2: empty lines before the request line (a
			// client's stray CRLF after a body) are ignored.
			c.br.Discard(2)
			blank++
			continue
		}
		n := h1wire.ScanHead(buf)
		switch {
		case n > max || (n == 0 && len(buf) > max):
			return 0, &h1wire.HeadError{Code: http.StatusRequestHeaderFieldsTooLarge, Why: "head too large"}
		case n > 0:
			return n, nil
		case n < 0 || len(buf) == c.br.Size():
			return 0, h1wire.ErrHandOver
		}
		if !deadline {
			deadline = true
			c.conn.SetReadDeadline(time.Now().Add(c.s.cfg.ReadHeaderTimeout))
		}
		if _, err := c.br.Peek(len(buf) + 1); err != nil {
			return 0, err
		}
	}
}

// parse parses the n-byte head at the front of the buffer into c.head and
// c.req. Only what rule matching and the proxy need is built: the header
// map's strings are substrings of one string, the only allocation.
func (c *h1conn) parse(n int) error {
	buf, _ := c.br.Peek(n)
	c.raw = append(c.raw[:0], buf...)
	if err := h1wire.CanonicalizeNames(c.raw); err != nil {
		return err
	}
	h := &c.head
	if err := h.Parse(string(c.raw), c.s.cfg.KeepUnderscoreHeaders); err != nil {
		return err
	}
	if h.Special {
		return h1wire.ErrHandOver
	}
	r := &c.req
	r.Method, r.Host, r.RequestURI = h.Method, h.Host, h.Target
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, h.Minor
	if h.Minor == 0 {
		r.Proto = "HTTP/1.0"
	}
	r.ContentLength = h.Length
	if !h1wire.ParseTarget(&c.url, h.Target) {
		return h1wire.BadHead("invalid request target")
	}
	r.URL = &c.url
	c.vals = fillHeader(c.hdr, c.vals, h.Fields)
	r.Header = c.hdr
	return nil
}

// fillHeader refills hdr with fields, in order. The value slices are
// windows on vals (returned, to reuse), so a request's header costs no
// allocation once the map and vals have grown.
func fillHeader(hdr http.Header, vals []string, fields []h1wire.Field) []string {
	clear(hdr)
	vals = vals[:0]
	for _, f := range fields {
		if old, ok := hdr[f.Name]; ok {
			hdr[f.Name] = append(old, f.Value)
			continue
		}
		vals = append(vals, f.Value)
		k := len(vals)
		hdr[f.Name] = vals[k-1 : k : k]
	}
	return vals
}

// serve answers one parsed request whose route (nil: none) the fast path
// serves; it returns whether the connection may carry another.
func (c *h1conn) serve(rt *Route, start time.Time) bool {
	r := &c.req
	if rt == nil {
		keep := c.reply(http.StatusNotFound, true)
		c.s.served(r, nil, http.StatusNotFound, int64(len(statusBodies[http.StatusNotFound])), start)
		return keep
	}
	var code int
	var size int64
	keep := false
	switch code = c.s.admit(rt, r); {
	case code != 0:
		// Refused before a backend is involved; the body is not read.
		size = int64(len(statusBodies[code]))
		keep = c.reply(code, false)
	case rt.rule.Modify(r):
		code, size, keep = c.exchange(rt)
		c.track.up.Store(nil)
	default:
		code = http.StatusNotFound
		size = int64(len(statusBodies[code]))
		keep = c.reply(code, true)
	}
	c.s.served(r, rt, code, size, start)
	return keep
}

// reply writes a plain error page (the texts of plainError). keep asks to
// keep the connection; it returns whether it was kept, which needs a
// persistent client and no unread request body.
func (c *h1conn) reply(code int, keep bool) bool {
	keep = keep && c.head.Persistent() && !c.head.HasBody()
	c.linger = c.linger || !keep
	body := statusBodies[code]
	w := c.bw
	w.WriteString("HTTP/1.1 ")
	w.Write(strconv.AppendInt(w.AvailableBuffer(), int64(code), 10))
	w.WriteByte(' ')
	w.WriteString(http.StatusText(code))
	w.WriteString("\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nDate: ")
	w.Write(time.Now().UTC().AppendFormat(w.AvailableBuffer(), http.TimeFormat))
	w.WriteString("\r\nContent-Length: ")
	w.Write(strconv.AppendInt(w.AvailableBuffer(), int64(len(body)), 10))
	c.connectionField(keep)
	w.WriteString("\r\n\r\n")
	if c.head.Method != http.MethodHead {
		w.WriteString(body)
	}
	return keep
}

// connectionField writes the Connection field a response needs, if any,
// after the previous field's value (no line end yet).
func (c *h1conn) connectionField(keep bool) {
	switch {
	case !keep:
		c.bw.WriteString("\r\nConnection: close")
	case c.head.Minor == 0:
		c.bw.WriteString("\r\nConnection: keep-alive")
	}
}
