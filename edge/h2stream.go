package edge

import (
	"context"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/rancher-edge/edge/edge/internal/h1wire"
)

// h2stream is one request on an HTTP/2 connection. Fields under "c.mu"
// are shared with the read loop; the rest belong to the stream's
// goroutine. Streams served by the proxy are recycled; those handed to a
// net/http handler are not, since a handler may keep the request.
type h2stream struct {
	c  *h2conn
	id uint32

	// c.mu
	sendWin    int64
	recvWin    int64 // what the peer may still send on this stream
	credit     int64 // consumed body bytes not yet returned to the peer
	body       []byte
	off        int
	remoteDone bool // END_STREAM received, or reset
	reset      bool // reset by the peer or the protocol, or the connection died
	localDone  bool // END_STREAM or RST_STREAM sent
	discard    bool // the body is no longer wanted
	expect     bool // send 100 Continue before the first body read
	declLen    int64
	recvd      int64
	up         *upConn            // the backend exchange in progress
	upCut      bool               // up's deadline was set in the past (cutUpLocked)
	cancel     context.CancelFunc // the handler's context
	readable   sync.Cond
	// waitSince is when the stream's goroutine began to wait for the
	// client (a DATA frame of the body, or, with waitWrite, flow-control
	// window to send); zero when it does not wait. The connection's
	// sweep ends waits that last too long.
	waitSince time.Time
	waitWrite bool
	stalled   bool  // the body made no progress for ReadTimeout
	bodyErr   error // why the client's body ended the exchange (stalled, too large)

	// the stream's goroutine
	early   int // a status to answer without routing (431)
	method  string
	path    string
	fields  []h1wire.Field // regular fields, canonical names, cookies joined
	req     http.Request
	url     url.URL
	hdr     http.Header
	vals    []string
	resp    h1wire.ResponseHead
	scratch []byte
	hf      []hpack.HeaderField
	dw      dataWriter
	sending chan error // the request body's goroutine, while it runs

	// the exchange in progress (engine.go)
	rt       *Route
	length   int64   // the request body's, as bodyLength decided; -1 chunked
	readBody bool    // some of the body was consumed: no replay, no retry
	upc      *upConn // the backend connection, once a response head is read
	consume  int     // the bytes of upc's buffer that head occupies
}

// onHeaders opens a stream for a request, or ends one with trailers.
func (c *h2conn) onHeaders(f *http2.MetaHeadersFrame) error {
	id := f.StreamID
	c.mu.Lock()
	defer c.mu.Unlock()
	if id%2 == 0 {
		return http2.ConnectionError(http2.ErrCodeProtocol)
	}
	if st := c.streams[id]; st != nil {
		// Trailers: they end the body; the edge does not forward them.
		if st.remoteDone {
			if c.resetByUs(id) {
				return nil // in flight when the client saw our reset
			}
			if st.localDone {
				// Closed at both ends, not yet retired by its goroutine:
				// the same connection error as on a retired stream.
				return http2.ConnectionError(http2.ErrCodeStreamClosed)
			}
			st.localDone = true
			c.rstLocked(id, http2.ErrCodeStreamClosed)
			c.abortLocked(st)
			return c.controlLocked()
		}
		if !f.StreamEnded() || len(f.PseudoFields()) > 0 {
			c.resetLocked(st, http2.ErrCodeProtocol)
			c.abortLocked(st)
			return nil
		}
		if st.declLen >= 0 && st.recvd != st.declLen {
			c.resetLocked(st, http2.ErrCodeProtocol)
			c.abortLocked(st)
			return nil
		}
		st.remoteDone = true
		st.readable.Broadcast()
		return nil
	}
	if id <= c.lastID {
		if c.resetByUs(id) {
			// Trailers sent before the client saw our reset: the
			// decoder has seen the block, nothing else is owed.
			return nil
		}
		return http2.ConnectionError(http2.ErrCodeStreamClosed)
	}
	if f.HasPriority() && f.Priority.StreamDep == id {
		c.lastID = id
		c.rstLocked(id, http2.ErrCodeProtocol)
		return c.controlLocked()
	}
	c.lastID = id
	if c.draining {
		if !c.sentGoAway {
			c.rstLocked(id, http2.ErrCodeRefusedStream)
		}
		return c.controlLocked()
	}
	if len(c.streams) >= h2MaxStreams {
		c.rstLocked(id, http2.ErrCodeRefusedStream)
		return c.controlLocked()
	}
	st := c.s.h2streams.Get().(*h2stream)
	st.c, st.id = c, id
	st.readable.L = &c.mu
	st.sendWin, st.recvWin = c.peerInitWin, h2StreamWindow
	st.remoteDone = f.StreamEnded()
	if f.Truncated {
		// Answered without reading the head or the body.
		st.early = http.StatusRequestHeaderFieldsTooLarge
		st.declLen, st.discard = -1, true
	} else if !st.parse(f) {
		c.s.h2streams.Put(st.recycle())
		c.rstLocked(id, http2.ErrCodeProtocol)
		return c.controlLocked()
	}
	c.streams[id] = st
	c.streamWG.Add(1)
	c.s.h2workers.serve(st)
	return nil
}

// parse builds the request from the header block; false means it is
// malformed (RFC 9113 §8.1.1).
func (st *h2stream) parse(f *http2.MetaHeadersFrame) bool {
	var scheme, authority string
	for _, p := range f.PseudoFields() {
		switch p.Name {
		case ":method":
			st.method = p.Value
		case ":path":
			st.path = p.Value
		case ":scheme":
			scheme = p.Value
		case ":authority":
			authority = p.Value
		default: // :protocol: extended CONNECT is not offered
			return false
		}
	}
	if st.method == "" || scheme == "" || !validToken(st.method) || !validTarget(st.path) {
		return false
	}
	if st.method == http.MethodConnect {
		// A CONNECT with :scheme and :path is malformed (RFC 9113
		// §8.5); a well-formed one has neither and failed above. The
		// edge tunnels nothing.
		return false
	}
	if st.path == "*" && st.method != http.MethodOptions {
		return false
	}
	st.declLen = -1
	var cookies []string
	host := authority
	for _, hf := range f.RegularFields() {
		if h1wire.IsConnectionSpecific(hf.Name) {
			return false // malformed in HTTP/2
		}
		switch hf.Name {
		case "te":
			if hf.Value != "trailers" {
				return false
			}
		case "content-length":
			n, ok := h1wire.ParseContentLength(hf.Value)
			if !ok || (st.declLen >= 0 && n != st.declLen) {
				return false
			}
			st.declLen = n
			continue
		case "cookie":
			// Split for compression; one field again for HTTP/1.1.
			cookies = append(cookies, hf.Value)
			continue
		case "host":
			if authority == "" {
				host = hf.Value
			}
			continue
		case "expect":
			if strings.EqualFold(hf.Value, "100-continue") {
				st.expect = true
				continue
			}
		}
		if !st.c.s.cfg.KeepUnderscoreHeaders && strings.IndexByte(hf.Name, '_') >= 0 {
			continue // as on HTTP/1.1 (h1wire.RequestHead.Parse)
		}
		st.fields = append(st.fields, h1wire.Field{Name: canonicalH2(hf.Name), Value: hf.Value})
	}
	if len(cookies) > 0 {
		st.fields = append(st.fields, h1wire.Field{Name: "Cookie", Value: strings.Join(cookies, "; ")})
	}
	if host != "" && !h1wire.ValidHost(host) {
		return false
	}
	if st.remoteDone {
		st.expect = false
		if st.declLen > 0 {
			return false
		}
	}
	r := &st.req
	r.Method, r.Host, r.RequestURI = st.method, host, st.path
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
	r.RemoteAddr, r.TLS = st.c.remote, st.c.tls
	r.ContentLength = st.declLen
	if st.remoteDone {
		r.ContentLength = 0
	}
	if !h1wire.ParseTarget(&st.url, st.path) {
		return false
	}
	r.URL = &st.url
	if st.hdr == nil {
		st.hdr = make(http.Header, 16)
	}
	st.vals = fillHeader(st.hdr, st.vals, st.fields)
	r.Header = st.hdr
	return true
}

// validTarget accepts an origin-form path or "*": no space or control
// character may reach the backend's request line.
func validTarget(p string) bool {
	if p == "*" {
		return true
	}
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] <= ' ' || p[i] == 0x7f {
			return false
		}
	}
	return true
}

func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !h1wire.IsTokenChar(s[i]) {
			return false
		}
	}
	return s != ""
}

// recycle clears a stream for reuse, keeping its buffers.
func (st *h2stream) recycle() *h2stream {
	clear(st.hdr)
	clear(st.fields)
	clear(st.hf)
	body := st.body[:0]
	if cap(body) > h2KeepBody {
		body = nil
	}
	*st = h2stream{
		body:    body,
		fields:  st.fields[:0],
		hdr:     st.hdr,
		vals:    st.vals[:0],
		resp:    h1wire.ResponseHead{ConnNames: st.resp.ConnNames[:0], Lines: st.resp.Lines[:0]},
		scratch: st.scratch[:0],
		hf:      st.hf[:0],
	}
	return st
}

// h2KeepBody is the largest request-body buffer a stream keeps once it
// is drained (bodies arriving faster than the backend takes them make it
// grow up to the stream window).
const h2KeepBody = 32 << 10

// run serves the stream's request, then retires the stream.
func (st *h2stream) run() {
	s := st.c.s
	pooled := true
	defer func() { st.c.finish(st, pooled) }()
	start := time.Now()
	if st.early != 0 {
		st.reply(st.early)
		return
	}
	r := &st.req
	if st.isReset() {
		return // reset before it started: no backend work for it
	}
	host := canonicalHost(r.Host)
	if s.hostHandler(host, st.c.entry) == nil {
		rt := s.table.Load().lookup(r, host, st.c.entry)
		if rt == nil {
			code := http.StatusNotFound
			size := st.reply(code)
			s.served(r, nil, code, size, start)
			return
		}
		if rt.fast {
			st.serve(rt, start)
			return
		}
	}
	pooled = false
	st.serveHandler()
}

// finish retires a stream whose goroutine is done: a request body still
// arriving is refused with RST_STREAM(NO_ERROR) and what was buffered of
// it is returned to the connection window.
func (c *h2conn) finish(st *h2stream, pooled bool) {
	c.mu.Lock()
	if !st.remoteDone {
		// The answer is complete (or the stream is given up): the
		// client may stop sending (RFC 9113 §8.1); what it sent before
		// it saw this is ignored (resetByUs).
		if !c.dead {
			st.localDone = true
			c.rstLocked(st.id, http2.ErrCodeNo)
		}
	} else if !st.localDone {
		c.resetLocked(st, http2.ErrCodeInternal)
	}
	if unread := int64(len(st.body) - st.off); unread > 0 {
		c.returnConnLocked(unread)
	}
	st.discard = true
	delete(c.streams, st.id)
	if len(c.streams) == 0 {
		c.idleSince = time.Now()
		if c.draining {
			c.conn.SetReadDeadline(time.Unix(1, 0)) // the read loop may end
		}
	}
	if st.cancel != nil {
		st.cancel()
	}
	c.mu.Unlock()
	if pooled {
		c.s.h2streams.Put(st.recycle())
	}
	c.streamWG.Done()
}

// Read reads the request body as DATA frames bring it, returning what is
// consumed to the peer's windows.
func (st *h2stream) Read(p []byte) (int, error) {
	c := st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	st.continueLocked()
	if st.off == len(st.body) && !st.remoteDone && !st.discard && !st.stalled {
		st.waitSince, st.waitWrite = time.Now(), false
		for st.off == len(st.body) && !st.remoteDone && !st.discard && !st.stalled {
			st.readable.Wait()
		}
		st.waitSince = time.Time{}
	}
	if st.off < len(st.body) {
		n := copy(p, st.body[st.off:])
		st.off += n
		if st.off == len(st.body) {
			st.body, st.off = st.body[:0], 0
			if cap(st.body) > h2KeepBody {
				st.body = nil
			}
		}
		c.returnConnLocked(int64(n))
		st.returnLocked(int64(n))
		return n, nil
	}
	switch {
	case st.reset:
		return 0, errStreamReset
	case st.discard:
		return 0, io.ErrClosedPipe
	case st.stalled:
		return 0, errBodyTimeout
	}
	return 0, io.EOF
}

// bodyError is why the client's body ended the exchange, if it did: it
// stalled (the sweep) or grew beyond the limit (the body's goroutine).
func (st *h2stream) bodyError() error {
	st.c.mu.Lock()
	defer st.c.mu.Unlock()
	return st.bodyErr
}

// bodyFailedLocked records, with c.mu held, that the client's body ended
// the exchange, and cuts the backend connection waiting for it.
func (st *h2stream) bodyFailedLocked(err error) {
	if st.bodyErr == nil {
		st.bodyErr = err
	}
	st.cutUpLocked()
}

// cutUpLocked ends, with c.mu held, the backend exchange in progress: a
// deadline in the past fails its reads and writes at once. Not Close: a
// TLS backend's close_notify may block, with c.mu held; the stream's
// goroutine closes the connection when its I/O fails. The connection is
// marked: detach tells the goroutine, which must not pool it even when
// the exchange had already ended (the deadline stays).
func (st *h2stream) cutUpLocked() {
	if st.up != nil {
		st.up.conn.SetDeadline(time.Unix(1, 0))
		st.upCut = true
	}
}

// continueLocked sends 100 Continue, once, when the client asked for it
// and the body is wanted now. The block goes through the connection's
// HPACK encoder only when it is certain to be sent: an encoded block left
// unsent would leave the client's table behind the edge's.
func (st *h2stream) continueLocked() {
	c := st.c
	if !st.expect {
		return
	}
	st.expect = false
	if st.localDone || st.reset || c.dead {
		return
	}
	c.headersLocked(st, []hpack.HeaderField{{Name: ":status", Value: "100"}}, false)
}

// bodyLength decides how the request body is framed for the backend
// before a backend connection is taken: its declared length, or, when
// the client declared none, the length of a body that ends within wait
// (as net/http's transport probes), else -1: chunked. Nothing is read.
func (st *h2stream) bodyLength(wait time.Duration) int64 {
	if st.req.ContentLength >= 0 {
		return st.req.ContentLength
	}
	c := st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if !st.remoteDone && !st.reset {
		st.continueLocked()
		expired := false
		fired := make(chan struct{})
		t := time.AfterFunc(wait, func() {
			c.mu.Lock()
			expired = true
			st.readable.Broadcast()
			c.mu.Unlock()
			close(fired)
		})
		for !st.remoteDone && !expired && !st.reset {
			st.readable.Wait()
		}
		if !t.Stop() {
			// The timer's func touches st: let it finish before st can
			// be recycled.
			c.mu.Unlock()
			<-fired
			c.mu.Lock()
		}
	}
	if st.remoteDone && !st.reset {
		return int64(len(st.body) - st.off)
	}
	return -1
}

// hasData reports whether a body read would return without waiting.
func (st *h2stream) hasData() bool {
	st.c.mu.Lock()
	defer st.c.mu.Unlock()
	return st.off < len(st.body) || st.remoteDone || st.discard
}

// bodyBuffered reports whether the whole request body has arrived.
func (st *h2stream) bodyBuffered() bool {
	st.c.mu.Lock()
	defer st.c.mu.Unlock()
	return st.remoteDone && !st.reset
}

// returnLocked gives n consumed bytes back to the peer's stream window,
// in updates of at least a quarter of the window, while the peer may
// still send.
func (st *h2stream) returnLocked(n int64) {
	if st.remoteDone || st.localDone || st.c.dead {
		return
	}
	st.credit += n
	if st.credit >= h2StreamWindow/4 {
		st.c.windowUpdateLocked(st.id, st.credit)
		st.recvWin += st.credit
		st.credit = 0
	}
}

// Close stops reading the body: what is buffered and what still arrives
// is dropped, and returned to the connection window.
func (st *h2stream) Close() error {
	c := st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if !st.discard {
		st.discard = true
		c.returnConnLocked(int64(len(st.body) - st.off))
		st.body, st.off = st.body[:0], 0
		st.readable.Broadcast()
	}
	return nil
}

// canonicalH2 maps an HTTP/2 field name (lower case) to the canonical form
// net/http and HTTP/1.1 backends expect, without allocating for common
// names.
func canonicalH2(name string) string {
	if c, ok := h2CommonCanonical[name]; ok {
		return c
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// lowerH2 maps a field name from an HTTP/1.1 head to its HTTP/2 (lower
// case) form, without allocating for common names.
func lowerH2[T []byte | string](name T) string {
	if l, ok := h2CommonLower[string(name)]; ok {
		return l
	}
	return strings.ToLower(string(name))
}

var h2CommonNames = [...]string{
	"accept", "accept-charset", "accept-encoding", "accept-language", "accept-ranges",
	"access-control-allow-credentials", "access-control-allow-headers", "access-control-allow-methods",
	"access-control-allow-origin", "access-control-expose-headers", "access-control-max-age",
	"access-control-request-headers", "access-control-request-method", "age", "allow",
	"authorization", "cache-control", "content-disposition", "content-encoding",
	"content-language", "content-length", "content-location", "content-range",
	"content-security-policy", "content-type", "cookie", "date", "dnt", "etag", "expect",
	"expires", "forwarded", "from", "host", "if-match", "if-modified-since", "if-none-match",
	"if-range", "if-unmodified-since", "last-modified", "link", "location", "max-forwards",
	"origin", "pragma", "priority", "range", "referer", "referrer-policy", "refresh",
	"retry-after", "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site", "sec-fetch-user",
	"server", "set-cookie", "strict-transport-security", "te", "trailer",
	"upgrade-insecure-requests", "user-agent", "vary", "via", "www-authenticate",
	"x-content-type-options", "x-forwarded-for", "x-forwarded-host", "x-forwarded-port",
	"x-forwarded-prefix", "x-forwarded-proto", "x-frame-options", "x-real-ip",
	"x-request-id", "x-requested-with", "x-xss-protection",
}

// The two lookups, built from the list once when the package loads.
var h2CommonCanonical, h2CommonLower = func() (map[string]string, map[string]string) {
	canon := make(map[string]string, len(h2CommonNames))
	lower := make(map[string]string, 2*len(h2CommonNames))
	for _, n := range h2CommonNames {
		c := textproto.CanonicalMIMEHeaderKey(n)
		canon[n] = c
		lower[n] = n
		lower[c] = n
	}
	return canon, lower
}()
