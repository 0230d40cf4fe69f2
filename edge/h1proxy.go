package edge

import (
	"bufio"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rancher-edge/edge/edge/internal/h1wire"
)

// The HTTP/1.1 fast path's side of the exchange engine (engine.go): the
// engine decides which backend, whether to retry and what a failure
// answers; h1conn writes the request and relays the response.

// exchange proxies the current request to a backend of rt and relays the
// answer. It returns the status and body size for the counters, and
// whether the client connection may carry another request.
func (c *h1conn) exchange(rt *Route) (code int, size int64, keep bool) {
	c.rt, c.readBody = rt, false
	b, retried, err := exchange(rt, &c.req, c)
	c.rt = nil // an idle connection keeps no table generation alive
	if err == nil {
		uc, consume := c.upc, c.consume
		c.upc = nil
		return c.respond(rt, b, uc, consume, retried)
	}
	code = c.s.exchangeStatus(&c.req, err)
	if code == statusClientClosed {
		return code, 0, false
	}
	// After the client's failure its connection cannot be trusted to
	// be in step: it is closed.
	var ce clientError
	keep = c.reply(code, !errors.As(err, &ce))
	return code, int64(len(statusBodies[code])), keep
}

// attempt is the exchanger's: it sends the request on a connection to b
// and reads the response head, leaving the connection in c.upc.
func (c *h1conn) attempt(b *backend, fresh bool) (bool, error) {
	uc, err := c.s.pools.get(c.s.bg, b, fresh, c.rt.dialTimeout)
	if err != nil {
		return false, err
	}
	c.track.up.Store(uc) // cleared by serve
	err = c.send(uc, c.rt, b)
	if err == nil {
		c.consume, err = c.readResponse(uc, c.rt.headerTimeout)
	}
	if err != nil {
		uc.conn.Close()
		return uc.reused, err
	}
	c.upc = uc
	return uc.reused, nil
}

func (c *h1conn) status() int { return c.resp.Status }

func (c *h1conn) bodyRead() bool { return c.readBody }

func (c *h1conn) clientFault(err error) error {
	var ce clientError
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}

// send writes the request head and streams the body to the backend.
func (c *h1conn) send(uc *upConn, rt *Route, b *backend) error {
	h, w := &c.head, uc.writer()
	defer putWriter(w)
	c.s.writeRequestHead(w, &c.req, rt, b, h.Method, h.Target, h.Fields, c.hopRequestField, c.isTLS, h.Chunked, h.Length)
	var d h1wire.Relayed
	switch {
	case h.Chunked:
		c.readBody = true
		d = c.s.relayChunked(w, c.br, true, nil, rt.maxBody)
	case h.Length > 0:
		c.readBody = true
		d = c.s.relay(w, c.br, h.Length)
	}
	if d.RErr != nil {
		return clientError{d.RErr}
	}
	if d.WErr != nil {
		return d.WErr
	}
	return w.Flush()
}

// writeRequestHead writes the head of a request proxied over rt to b, for
// both fast paths: the request line (the target rebuilt when the rule
// modifies the path), Host (the client's when the route passes it), the
// client's fields but those Te and skip take out, Te: trailers when the
// client accepts trailers, the forwarded fields, the rule modifiers'
// fields, and the framing — chunked, or Content-Length when length >= 0.
func (s *Server) writeRequestHead(w *bufio.Writer, r *http.Request, rt *Route, b *backend, method, target string,
	fields []h1wire.Field, skip func(string) bool, isTLS, chunked bool, length int64) {
	if rt.rule.HasModifiers() {
		target = r.URL.RequestURI()
	}
	host := b.host
	if rt.Service.PassHostHeader && r.Host != "" {
		host = r.Host
	}
	if rt.Service.UpstreamHost != "" {
		host = rt.Service.UpstreamHost
	}
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(target)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\n")
	teTrailers := false
	for _, f := range fields {
		if f.Name == "Te" {
			teTrailers = teTrailers || hasToken(f.Value, "trailers")
			continue
		}
		if skip(f.Name) {
			continue
		}
		writeField(w, f.Name, f.Value)
	}
	if teTrailers {
		w.WriteString("Te: trailers\r\n")
	}
	forwarded(r, isTLS, s.ports, wireSink{w})
	// Rule modifiers add some; untrusted clients' were scrubbed.
	for _, k := range forwardedFields[forwardedWritten:] {
		for _, v := range r.Header[k] {
			writeField(w, k, v)
		}
	}
	switch {
	case chunked:
		w.WriteString("Transfer-Encoding: chunked\r\n")
	case length >= 0:
		w.WriteString("Content-Length: ")
		w.Write(strconv.AppendInt(w.AvailableBuffer(), length, 10))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
}

// hopRequestField reports whether a request field is not forwarded as it
// is: hop-by-hop fields (and those the client's Connection names) but
// Trailer with a chunked body, whose trailers pass through; Host and
// Content-Length (writeRequestHead writes them); and the forwarded
// fields, which writeRequestHead writes from the request once scrubbed
// and modified.
func (c *h1conn) hopRequestField(name string) bool {
	switch {
	case name == "Trailer":
		return !c.head.Chunked
	case name == "Host", name == "Content-Length", h1wire.IsHopByHop(name), isForwardedField(name):
		return true
	}
	for _, n := range c.head.ConnNames {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func hasToken(v, token string) bool {
	for v != "" {
		var t string
		t, v, _ = strings.Cut(v, ",")
		if strings.EqualFold(h1wire.TrimOWS(t), token) {
			return true
		}
	}
	return false
}

func writeField(w *bufio.Writer, name, value string) {
	w.WriteString(name)
	w.WriteString(": ")
	w.WriteString(value)
	w.WriteString("\r\n")
}

// wireSink writes the forwarded fields straight into a request head.
type wireSink struct{ w *bufio.Writer }

func (s wireSink) chain(key string, prior []string, last string) {
	s.w.WriteString(key)
	s.w.WriteString(": ")
	for _, p := range prior {
		s.w.WriteString(p)
		s.w.WriteString(", ")
	}
	s.w.WriteString(last)
	s.w.WriteString("\r\n")
}

func (s wireSink) keep(key string, prior []string, def string) {
	if len(prior) == 0 {
		writeField(s.w, key, def)
		return
	}
	for _, p := range prior {
		writeField(s.w, key, p)
	}
}

// readResponse reads the final response head into c.resp, relaying
// interim (1xx) responses to the client on the way. It returns how many
// bytes of uc's buffer the head occupies, to discard once written out.
func (c *h1conn) readResponse(uc *upConn, timeout time.Duration) (int, error) {
	uc.conn.SetReadDeadline(time.Now().Add(timeout))
	defer uc.conn.SetReadDeadline(time.Time{})
	for {
		head, consume, err := h1wire.ReadResponseHead(uc.br, &c.scratch)
		if err != nil {
			return 0, err
		}
		if err := c.resp.Parse(head); err != nil {
			return 0, err
		}
		st := c.resp.Status
		if st >= 200 {
			return consume, nil
		}
		if st == http.StatusSwitchingProtocols {
			return 0, h1wire.ErrBadResponse // never asked for: upgrades go through net/http
		}
		if c.head.Minor == 1 {
			c.writeRespHead(false, "", false)
			if err := c.bw.Flush(); err != nil {
				return 0, clientError{err}
			}
		}
		uc.br.Discard(consume)
	}
}

// respond relays the response whose head is in c.resp (consume bytes of
// uc's buffer) and its body, then returns uc to its pool when the backend
// keeps it open.
func (c *h1conn) respond(rt *Route, b *backend, uc *upConn, consume int, retried bool) (code int, size int64, keep bool) {
	h := &c.resp
	code = h.Status
	noBody := c.head.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
	chunkedOut := h.Chunked && c.head.Minor == 1
	untilClose := !noBody && !h.Chunked && h.Length < 0
	keep = c.head.Persistent() && !untilClose && !(h.Chunked && !noBody && !chunkedOut) && !c.track.closing()
	c.writeRespHead(chunkedOut, rt.setCookie(&c.req, b, retried), keep)
	uc.br.Discard(consume)

	var d h1wire.Relayed
	switch {
	case noBody:
	case h.Chunked:
		d = c.s.relayChunked(c.bw, uc.br, chunkedOut, nil, 0)
	default:
		d = c.s.relay(c.bw, uc.br, h.Length) // -1: until the backend closes
	}
	b.finished()
	if d.RErr == nil && d.WErr == nil && !untilClose && h.Reusable() {
		c.s.pools.put(uc)
	} else {
		uc.conn.Close()
	}
	if d.RErr != nil {
		// The client has a truncated body; closing is the only way to
		// tell it.
		c.s.log.Debug("backend response interrupted", "host", c.req.Host, "status", code, "err", d.RErr)
		keep = false
	}
	if d.WErr != nil {
		// The client went away (or stopped reading) mid-answer.
		code, keep = statusClientClosed, false
	}
	return code, d.N, keep
}

// writeRespHead writes c.resp's head to the client without its hop-by-hop
// fields, adding a sticky cookie and the framing and Connection fields the
// client connection needs.
func (c *h1conn) writeRespHead(chunkedOut bool, cookie string, keep bool) {
	h, w := &c.resp, c.bw
	w.WriteString("HTTP/1.1 ")
	w.Write(h.Reason)
	w.WriteString("\r\n")
	for _, l := range h.Lines {
		if h.HopField(l[:h1wire.Index(l, ':')], chunkedOut) {
			continue
		}
		w.Write(l)
		w.WriteString("\r\n")
	}
	if h.Status < 200 {
		w.WriteString("\r\n")
		return
	}
	if cookie != "" {
		writeField(w, "Set-Cookie", cookie)
	}
	if h.Length >= 0 && h.Status != http.StatusNoContent {
		w.WriteString("Content-Length: ")
		w.Write(strconv.AppendInt(w.AvailableBuffer(), h.Length, 10))
		w.WriteString("\r\n")
	}
	if chunkedOut {
		w.WriteString("Transfer-Encoding: chunked\r\n")
	}
	switch {
	case !keep:
		w.WriteString("Connection: close\r\n")
	case c.head.Minor == 0:
		w.WriteString("Connection: keep-alive\r\n")
	}
	w.WriteString("\r\n")
}

// relay and relayChunked are h1wire's relays with the server's copy
// buffers.
func (s *Server) relay(dst *bufio.Writer, src *bufio.Reader, n int64) h1wire.Relayed {
	return h1wire.Relay(dst, src, n, s.buffers)
}

func (s *Server) relayChunked(dst *bufio.Writer, src *bufio.Reader, pass bool, trailers *[]byte, limit int64) h1wire.Relayed {
	return h1wire.RelayChunked(dst, src, pass, trailers, limit, s.buffers)
}
