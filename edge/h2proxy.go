package edge

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/net/http2/hpack"

	"github.com/rancher-edge/edge/edge/internal/h1wire"
)

// An HTTP/2 stream proxied to an HTTP/1.1 backend over the fast path's
// pools, as the HTTP/1.1 fast path's side of the exchange engine
// (engine.go) is: the request head is written from the stream's fields and
// the response head becomes a HEADERS frame, its body DATA frames, its
// trailers a final HEADERS.

// serve proxies one request on a route without middlewares.
func (st *h2stream) serve(rt *Route, start time.Time) {
	s := st.c.s
	r := &st.req
	var code int
	var size int64
	switch code = s.admit(rt, r); {
	case code != 0:
		size = st.reply(code)
	case rt.rule.Modify(r):
		code, size = st.exchange(rt)
	default:
		code = http.StatusNotFound
		size = st.reply(code)
	}
	s.served(r, rt, code, size, start)
}

// h2BodyProbe is how long a request body of unknown length may take to
// end before it is sent chunked (net/http's transport waits as long).
const h2BodyProbe = 200 * time.Millisecond

func (st *h2stream) exchange(rt *Route) (int, int64) {
	length := st.bodyLength(h2BodyProbe)
	if rt.maxBody > 0 && length > rt.maxBody {
		return http.StatusRequestEntityTooLarge, st.reply(http.StatusRequestEntityTooLarge)
	}
	st.rt, st.length = rt, length
	b, retried, err := exchange(rt, &st.req, st)
	st.rt = nil
	if err == nil {
		uc, consume := st.upc, st.consume
		st.upc = nil
		return st.respond(rt, b, uc, consume, retried)
	}
	code := st.c.s.exchangeStatus(&st.req, err)
	if code == statusClientClosed {
		return code, 0
	}
	return code, st.reply(code)
}

// attempt is the exchanger's: it sends the request on a connection to b
// and reads the response head, leaving the connection in st.upc.
func (st *h2stream) attempt(b *backend, fresh bool) (bool, error) {
	s := st.c.s
	if st.isReset() {
		return false, clientError{errStreamReset}
	}
	uc, err := s.pools.get(s.bg, b, fresh, st.rt.dialTimeout)
	if err != nil {
		return false, err
	}
	if !st.attach(uc) {
		s.pools.put(uc) // untouched: still good for another request
		return false, clientError{errStreamReset}
	}
	read, err := st.send(uc, st.rt, b, st.length)
	st.readBody = st.readBody || read
	var consume int
	if err == nil {
		consume, err = st.readResponse(uc, st.rt.headerTimeout)
	}
	if err != nil {
		st.endBody(uc)
		st.detach()
		uc.conn.Close()
		return uc.reused, err
	}
	st.upc, st.consume = uc, consume
	return uc.reused, nil
}

func (st *h2stream) status() int { return st.resp.Status }

func (st *h2stream) bodyRead() bool { return st.readBody }

// clientFault is the exchanger's: a reset stream, a body that broke,
// stalled or grew too large, or a client error on the way.
func (st *h2stream) clientFault(err error) error {
	if st.isReset() {
		return clientError{errStreamReset}
	}
	if be := st.bodyError(); be != nil {
		return clientError{be}
	}
	var ce clientError
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}

func (st *h2stream) isReset() bool {
	st.c.mu.Lock()
	defer st.c.mu.Unlock()
	return st.reset
}

// attach records the backend connection the stream uses, so a reset can
// cut the exchange; it fails when the stream is already reset.
func (st *h2stream) attach(uc *upConn) bool {
	st.c.mu.Lock()
	defer st.c.mu.Unlock()
	if st.reset {
		return false
	}
	st.up = uc
	return true
}

// detach forgets the backend connection, after which a reset no longer
// reaches it; cut reports whether one had reached it (cutUpLocked), which
// leaves the connection unusable.
func (st *h2stream) detach() (cut bool) {
	st.c.mu.Lock()
	cut = st.upCut
	st.up, st.upCut = nil, false
	st.c.mu.Unlock()
	return cut
}

// h2HopRequestField reports the fields writeRequestHead writes itself or
// drops: the hop-by-hop ones an HTTP/2 request may carry (the others make
// it malformed) and the forwarded ones.
func h2HopRequestField(name string) bool {
	return h1wire.IsHopByHop(name) || isForwardedField(name)
}

// send writes the request head and streams the body, framed by length
// (bodyLength's answer; -1 is chunked). bodyRead reports whether any of
// the body was consumed, after which the request cannot be replayed.
func (st *h2stream) send(uc *upConn, rt *Route, b *backend, length int64) (bodyRead bool, err error) {
	w := uc.writer()
	async := false // the body's goroutine gives w back
	defer func() {
		if !async {
			putWriter(w)
		}
	}()
	chunked := length < 0
	announced := length
	if length == 0 && !methodWantsLength(st.method) {
		announced = -1
	}
	st.c.s.writeRequestHead(w, &st.req, rt, b, st.method, st.path, st.fields, h2HopRequestField, true, chunked, announced)
	if length == 0 {
		return false, w.Flush()
	}
	if st.bodyBuffered() {
		read, err := st.sendBody(w, chunked, rt.maxBody)
		if err != nil {
			return read, err
		}
		return read, w.Flush()
	}
	// The body is still arriving: the head goes now and the body from
	// its own goroutine, so the backend may answer while the client is
	// still sending (full duplex, as net/http's transport allows).
	if err := w.Flush(); err != nil {
		return false, err
	}
	done := make(chan error, 1)
	st.sending = done
	async = true
	go func() {
		_, err := st.sendBody(w, chunked, rt.maxBody)
		if err == nil {
			err = w.Flush()
		}
		putWriter(w)
		var ce clientError
		// io.ErrClosedPipe is endBody cutting the body short after the
		// exchange failed or ended: not the client's doing.
		if errors.As(err, &ce) && !errors.Is(ce.err, io.ErrClosedPipe) {
			st.c.mu.Lock()
			st.bodyFailedLocked(ce.err)
			st.c.mu.Unlock()
		}
		done <- err
	}()
	return true, nil
}

// endBody waits for the request body's goroutine, if one runs, cutting it
// short when it has not finished (the exchange failed, or the answer is
// complete before the body). cut means the backend connection's writes
// were stopped: it cannot be reused.
func (st *h2stream) endBody(uc *upConn) (err error, cut bool) {
	done := st.sending
	if done == nil {
		return nil, false
	}
	st.sending = nil
	select {
	case err := <-done:
		return err, false
	default:
	}
	st.Close()
	uc.conn.SetWriteDeadline(time.Unix(1, 0))
	return <-done, true
}

// methodWantsLength reports methods whose empty body is still announced
// with Content-Length: 0, as net/http's transport does.
func methodWantsLength(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}

func writeBodyPart(w *bufio.Writer, p []byte, chunked bool) {
	if chunked {
		w.Write(strconv.AppendInt(w.AvailableBuffer(), int64(len(p)), 16))
		w.WriteString("\r\n")
		w.Write(p)
		w.WriteString("\r\n")
		return
	}
	w.Write(p)
}

// sendBody streams the request body to the backend. What is written is
// flushed before waiting for the client, so the backend sees the head
// (and may answer) whatever the client does next.
//
// limit, when positive, bounds the body: crossing it is errBodyTooLarge.
func (st *h2stream) sendBody(w *bufio.Writer, chunked bool, limit int64) (read bool, err error) {
	buf := st.c.s.buffers.Get()
	defer st.c.s.buffers.Put(buf)
	var total int64
	for {
		if !st.hasData() {
			if err := w.Flush(); err != nil {
				return read, err
			}
		}
		n, err := st.Read(buf)
		if total += int64(n); limit > 0 && total > limit {
			return read, clientError{errBodyTooLarge}
		}
		if n > 0 {
			read = true
			writeBodyPart(w, buf[:n], chunked)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return read, clientError{err}
		}
	}
	if chunked {
		w.WriteString("0\r\n\r\n")
	}
	return read, nil
}

// readResponse reads the final response head into st.resp; interim
// responses are dropped (the edge answers Expect itself).
func (st *h2stream) readResponse(uc *upConn, timeout time.Duration) (int, error) {
	uc.conn.SetReadDeadline(time.Now().Add(timeout))
	defer uc.conn.SetReadDeadline(time.Time{})
	for {
		head, consume, err := h1wire.ReadResponseHead(uc.br, &st.scratch)
		if err != nil {
			return 0, err
		}
		if err := st.resp.Parse(head); err != nil {
			return 0, err
		}
		switch code := st.resp.Status; {
		case code >= 200:
			return consume, nil
		case code == http.StatusSwitchingProtocols:
			return 0, h1wire.ErrBadResponse
		}
		uc.br.Discard(consume)
	}
}

// respond relays the response whose head is in st.resp and its body.
func (st *h2stream) respond(rt *Route, b *backend, uc *upConn, consume int, retried bool) (code int, size int64) {
	s, c, h := st.c.s, st.c, &st.resp
	code = h.Status
	noBody := st.method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
	untilClose := !noBody && !h.Chunked && h.Length < 0
	st.hf = append(st.hf[:0], hpack.HeaderField{Name: ":status", Value: statusText3(code)})
	for _, l := range h.Lines {
		colon := h1wire.Index(l, ':')
		if h.HopField(l[:colon], h.Chunked) {
			continue
		}
		st.hf = append(st.hf, hpack.HeaderField{Name: lowerH2(l[:colon]), Value: string(h1wire.TrimOWS(l[colon+1:]))})
	}
	if cookie := rt.setCookie(&st.req, b, retried); cookie != "" {
		st.hf = append(st.hf, hpack.HeaderField{Name: "set-cookie", Value: cookie})
	}
	if h.Length >= 0 && code != http.StatusNoContent {
		st.hf = append(st.hf, hpack.HeaderField{Name: "content-length", Value: strconv.FormatInt(h.Length, 10)})
	}
	uc.br.Discard(consume)
	empty := noBody || h.Length == 0
	// The common small answer: its whole body came with the head. One
	// DATA frame carries it from the backend's buffer and ends the
	// stream; no body writer is taken.
	whole := !empty && !h.Chunked && h.Length > 0 && int64(uc.br.Buffered()) >= h.Length
	werr := c.writeHeaders(st, st.hf, empty)

	var d h1wire.Relayed
	var trailers []byte
	var bw *bufio.Writer
	switch {
	case empty || werr != nil:
	case whole:
		body, _ := uc.br.Peek(int(h.Length))
		if d.WErr = c.writeData(st, body, true); d.WErr == nil {
			d.N = h.Length
		}
		uc.br.Discard(len(body))
	default:
		// Streamed: a writer from the server's pool, so that only the
		// answers being relayed hold one, not every stream.
		st.dw = dataWriter{st: st}
		bw = s.h2bodies.Get().(*bufio.Writer)
		bw.Reset(&st.dw)
		if h.Chunked {
			d = s.relayChunked(bw, uc.br, false, &trailers, 0)
		} else {
			d = s.relay(bw, uc.br, h.Length)
		}
	}
	b.finished()
	bodyErr, cut := st.endBody(uc)
	// A reset may reach the connection after its answer was relayed
	// whole: cut, it would fail the next request drawn from the pool.
	reset := st.detach()
	if werr == nil && d.RErr == nil && d.WErr == nil && !untilClose && h.Reusable() && bodyErr == nil && !cut && !reset {
		s.pools.put(uc)
	} else {
		uc.conn.Close()
	}
	switch {
	case empty || werr != nil || d.WErr != nil || whole:
	case d.RErr != nil:
		// A truncated body: the reset tells the client (finish sends it).
		s.log.Debug("backend response interrupted", "host", st.req.Host, "status", code, "err", d.RErr)
	case len(trailers) > 0:
		if bw.Flush() == nil {
			c.writeHeaders(st, st.trailerFields(trailers), true)
		}
	default:
		st.dw.last = true
		if bw.Buffered() > 0 {
			bw.Flush()
		} else {
			c.writeData(st, nil, true)
		}
	}
	if bw != nil {
		bw.Reset(nil)
		s.h2bodies.Put(bw)
	}
	if werr != nil || d.WErr != nil || st.isReset() {
		// The client reset the stream or went away mid-answer.
		code = statusClientClosed
	}
	return code, d.N
}

// trailerFields turns raw trailer lines into HTTP/2 fields.
func (st *h2stream) trailerFields(raw []byte) []hpack.HeaderField {
	st.hf = st.hf[:0]
	for len(raw) > 0 {
		nl := bytes.IndexByte(raw, '\n')
		line := raw[:nl-1] // relayTrailers checked the CR
		raw = raw[nl+1:]
		colon := h1wire.Index(line, ':')
		name := line[:colon]
		if (&h1wire.ResponseHead{}).HopField(name, false) {
			continue
		}
		st.hf = append(st.hf, hpack.HeaderField{Name: lowerH2(name), Value: string(h1wire.TrimOWS(line[colon+1:]))})
	}
	return st.hf
}

// reply answers with a plain error page (the texts of plainError) and
// returns the body size.
func (st *h2stream) reply(code int) int64 {
	c := st.c
	body := statusBodies[code]
	if body == "" {
		body = strconv.Itoa(code) + " " + http.StatusText(code) + "\n"
	}
	st.hf = append(st.hf[:0],
		hpack.HeaderField{Name: ":status", Value: statusText3(code)},
		hpack.HeaderField{Name: "content-type", Value: "text/plain; charset=utf-8"},
		hpack.HeaderField{Name: "x-content-type-options", Value: "nosniff"},
		hpack.HeaderField{Name: "date", Value: time.Now().UTC().Format(http.TimeFormat)},
		hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(len(body))},
	)
	head := st.method == http.MethodHead
	if c.writeHeaders(st, st.hf, head) != nil || head {
		return 0
	}
	c.writeData(st, []byte(body), true)
	return int64(len(body))
}

// statusText3 is a status code's three digits, without allocating for
// the common ones.
func statusText3(code int) string {
	switch code {
	case 200:
		return "200"
	case 204:
		return "204"
	case 206:
		return "206"
	case 301:
		return "301"
	case 302:
		return "302"
	case 304:
		return "304"
	case 400:
		return "400"
	case 404:
		return "404"
	case 500:
		return "500"
	case 502:
		return "502"
	case 503:
		return "503"
	case 504:
		return "504"
	}
	return strconv.Itoa(code)
}
