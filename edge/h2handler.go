package edge

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/rancher-edge/edge/edge/internal/h1wire"
)

// Streams for routes with middlewares and for host handlers (the
// dashboard) run the net/http handler, as the HTTP/1.1 loop hands such
// requests to net/http: h2responseWriter is the http.ResponseWriter and
// http.Flusher over the stream.

// h2BodyBuffer is how much of a handler's body is held before the first
// DATA frame: a small answer goes out whole, with its Content-Length.
const h2BodyBuffer = 4 << 10

type h2responseWriter struct {
	st       *h2stream
	hdr      http.Header
	code     int
	wrote    bool // WriteHeader was called
	sent     bool // the HEADERS frame is queued
	noBody   bool
	declared []string // trailer names announced before the head was sent
	buf      []byte
	err      error
}

// serveHandler runs the routes handler for the stream's request.
func (st *h2stream) serveHandler() {
	c := st.c
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	st.cancel = cancel
	if st.reset {
		cancel()
	}
	c.mu.Unlock()
	r := st.req.WithContext(ctx)
	r.Body = http.NoBody
	if st.req.ContentLength != 0 {
		r.Body = st
	}
	w := &h2responseWriter{st: st, hdr: make(http.Header)}
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				c.s.log.Error("handler panic", "host", r.Host, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
			c.mu.Lock()
			c.resetLocked(st, http2.ErrCodeInternal)
			c.mu.Unlock()
			return
		}
		w.finish()
	}()
	c.handler.ServeHTTP(w, r)
}

func (w *h2responseWriter) Header() http.Header { return w.hdr }

func (w *h2responseWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code < 200 {
		if code == http.StatusEarlyHints {
			w.st.c.writeHeaders(w.st, w.fields(code, -1), false)
		}
		return // 100 Continue is the edge's to send, on the first body read
	}
	w.wrote = true
	w.code = code
	w.noBody = w.st.method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
}

func (w *h2responseWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.noBody {
		if w.code != http.StatusOK {
			return 0, http.ErrBodyNotAllowed
		}
		return len(p), nil // HEAD
	}
	if w.err != nil {
		return 0, w.err
	}
	if !w.sent && len(w.buf) == 0 {
		if _, ok := w.hdr["Content-Type"]; !ok && w.hdr.Get("Content-Encoding") == "" && len(p) > 0 {
			w.hdr.Set("Content-Type", http.DetectContentType(p))
		}
	}
	if len(w.buf)+len(p) <= h2BodyBuffer {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	if err := w.flush(false); err != nil {
		return 0, err
	}
	if len(p) < h2BodyBuffer {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	if err := w.st.c.writeData(w.st, p, false); err != nil {
		w.err = err
		return 0, err
	}
	return len(p), nil
}

// Flush sends the head and what is buffered now (streaming responses).
func (w *h2responseWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	w.flush(false)
}

func (w *h2responseWriter) flush(end bool) error {
	if w.err != nil {
		return w.err
	}
	c := w.st.c
	if !w.sent {
		w.sent = true
		w.declare()
		length := int64(-1)
		if end && !w.noBody && w.hdr.Get("Content-Length") == "" {
			length = int64(len(w.buf))
		}
		empty := end && (len(w.buf) == 0 || w.noBody)
		if w.err = c.writeHeaders(w.st, w.fields(w.code, length), empty); w.err != nil || empty {
			return w.err
		}
	}
	if len(w.buf) > 0 || end {
		w.err = c.writeData(w.st, w.buf, end)
		w.buf = w.buf[:0]
	}
	return w.err
}

// declare records the trailers the head announces, once: those fields
// are sent after the body, not in the head.
func (w *h2responseWriter) declare() {
	if w.declared != nil {
		return
	}
	w.declared = []string{}
	for _, v := range w.hdr["Trailer"] {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				w.declared = append(w.declared, http.CanonicalHeaderKey(k))
			}
		}
	}
}

// fields renders the head: :status, every header but the
// connection-specific ones and trailers, a Date, and the length when the
// whole body is known.
func (w *h2responseWriter) fields(code int, length int64) []hpack.HeaderField {
	hf := append(w.st.hf[:0], hpack.HeaderField{Name: ":status", Value: statusText3(code)})
	for k, vs := range w.hdr {
		if h1wire.IsConnectionSpecific(k) {
			continue
		}
		if strings.HasPrefix(k, http.TrailerPrefix) || slices.Contains(w.declared, k) {
			continue
		}
		name := lowerH2(k)
		for _, v := range vs {
			hf = append(hf, hpack.HeaderField{Name: name, Value: v})
		}
	}
	if _, ok := w.hdr["Date"]; !ok && code >= 200 {
		hf = append(hf, hpack.HeaderField{Name: "date", Value: time.Now().UTC().Format(http.TimeFormat)})
	}
	if length >= 0 && code != http.StatusNotModified {
		hf = append(hf, hpack.HeaderField{Name: "content-length", Value: strconv.FormatInt(length, 10)})
	}
	w.st.hf = hf
	return hf
}

// finish ends the stream after the handler returned: the rest of the
// body, then the trailers (announced ones and http.TrailerPrefix ones) or
// END_STREAM.
func (w *h2responseWriter) finish() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if !w.sent {
		w.declare()
	}
	var trailers []hpack.HeaderField
	for _, k := range w.declared {
		for _, v := range w.hdr[k] {
			trailers = append(trailers, hpack.HeaderField{Name: lowerH2(k), Value: v})
		}
	}
	for k, vs := range w.hdr {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			for _, v := range vs {
				trailers = append(trailers, hpack.HeaderField{Name: lowerH2(name), Value: v})
			}
		}
	}
	if len(trailers) == 0 || w.noBody {
		w.flush(true)
		return
	}
	if w.flush(false) == nil {
		w.st.c.writeHeaders(w.st, trailers, true)
	}
}
