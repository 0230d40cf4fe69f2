package edge

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// HTTPSHandler serves requests arriving over TLS: every route.
func (s *Server) HTTPSHandler() http.Handler {
	return s.routes(entryHTTPS)
}

// HTTPHandler serves the plain HTTP listener: ACME challenges, then the
// routes whose own TLS policy serves plain HTTP (route.TLS.PlainHTTP), then
// a redirect to HTTPS — or, with HTTPS off, every route.
func (s *Server) HTTPHandler() http.Handler {
	if s.cfg.HTTPSAddr == "" {
		return s.routes(entryHTTP)
	}
	plain := s.routes(entryPlain)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		freshWriteDeadline(w, r)
		if s.cfg.HTTPChallenge != nil && s.cfg.HTTPChallenge(w, r) {
			return
		}
		// Only tables with such routes cost a lookup here. A table swapped
		// between this lookup and plain's answers 404 at worst.
		t := s.table.Load()
		if t.plain && t.lookup(r, canonicalHost(r.Host), entryPlain) != nil {
			plain.ServeHTTP(w, r)
			return
		}
		code := s.cfg.RedirectCode
		if t.redirectCodes {
			if rt := t.lookup(r, canonicalHost(r.Host), entryHTTPS); rt != nil && rt.Service.TLS != nil && rt.Service.TLS.RedirectCode != 0 {
				code = rt.Service.TLS.RedirectCode
			}
		}
		s.redirect(w, r, code)
	})
}

// redirect sends the client to the same host, path and query over HTTPS
// with code.
// The port is named only when HTTPS is not on 443.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, code int) {
	host := stripPort(r.Host)
	if host == "" {
		plainError(w, http.StatusBadRequest)
		return
	}
	if strings.IndexByte(host, ':') >= 0 {
		host = "[" + host + "]"
	}
	var b strings.Builder
	b.Grow(len("https://") + len(host) + 6 + len(r.URL.RawPath) + len(r.URL.Path) + len(r.URL.RawQuery) + 1)
	b.WriteString("https://")
	b.WriteString(host)
	if s.cfg.HTTPSPort != 443 {
		b.WriteByte(':')
		b.WriteString(s.ports.https)
	}
	b.WriteString(r.URL.EscapedPath())
	if r.URL.RawQuery != "" {
		b.WriteByte('?')
		b.WriteString(r.URL.RawQuery)
	}
	w.Header().Set("Location", b.String())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
}

// routes is the request path: one atomic load, a lookup, the route's
// handler chain, and the counters.
func (s *Server) routes(entry uint8) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		freshWriteDeadline(w, r)
		if r.TLS == nil && entry == entryHTTPS {
			r = withHandedOverTLS(r)
		}
		host := canonicalHost(r.Host)
		if h := s.hostHandler(host, entry); h != nil {
			h.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodConnect {
			// The edge tunnels nothing: CONNECT never reaches a backend.
			w.Header().Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
			plainError(w, http.StatusMethodNotAllowed)
			s.served(r, nil, http.StatusMethodNotAllowed, int64(len(statusBodies[http.StatusMethodNotAllowed])), start)
			return
		}
		s.sanitize(r)
		rec := s.recorders.Get().(*recorder)
		rec.reset(w, r, s.cfg.WriteTimeout, &s.stalls)
		t := s.table.Load()
		rt := t.lookup(r, host, entry)
		// Deferred so that a client that goes away mid-answer, which
		// makes ReverseProxy panic with http.ErrAbortHandler, is still
		// counted (as 499) and logged, and the in-flight count drops.
		defer func() {
			p := recover()
			switch {
			case p == http.ErrAbortHandler,
				// An HTTP/2 request's context ends while its handler
				// runs only when the client resets the stream or
				// leaves; an HTTP/1 request's, when the client leaves.
				r.Context().Err() != nil && (r.ProtoMajor == 2 || rec.status == 0):
				rec.status = statusClientClosed
			case p != nil:
				rec.status = http.StatusInternalServerError
			}
			s.served(r, rt, rec.code(), rec.size, start)
			if rec.watched {
				s.stalls.remove(rec)
			}
			rec.ResponseWriter, rec.dl = nil, nil
			s.recorders.Put(rec)
			if p != nil {
				panic(p) // net/http closes the connection; it logs other panics
			}
		}()
		if rt == nil {
			plainError(rec, http.StatusNotFound)
			return
		}
		if code := s.admit(rt, r); code != 0 {
			plainError(rec, code)
			return
		}
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			// A body may take long but not stall (ReadTimeout), nor
			// grow beyond the limit; its errors are the client's
			// (routeTransport).
			r.Body = &watchedBody{ReadCloser: r.Body, rc: http.NewResponseController(w), timeout: s.cfg.ReadTimeout, limit: rt.maxBody}
		}
		rt.handler.ServeHTTP(rec, r)
	})
}

// freshWriteDeadline clears the write deadline a previous request on the
// same HTTP/1 connection left (recorder.extend keeps it past the answer,
// bounding net/http's last flush): net/http's own writes before this
// request's first — 100 Continue, a host handler's or a redirect's answer —
// must not meet it. An HTTP/2 stream's deadline ends with the stream.
func freshWriteDeadline(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 {
		if d, ok := w.(writeDeadliner); ok {
			d.SetWriteDeadline(time.Time{})
		}
	}
}

// served ends the accounting of one request, in both proxy designs: the
// route's counters (whose in-flight count the caller raised) or the
// unrouted count, then the access log.
func (s *Server) served(r *http.Request, rt *Route, code int, size int64, start time.Time) {
	name := ""
	if rt == nil {
		s.unrouted.Add(1)
	} else {
		name = rt.Service.Name
		rt.stats.inflight.Add(-1)
		rt.stats.observe(&s.traffic, code, start)
	}
	if s.access != nil {
		s.access.log(r, code, size, name, start)
	}
}

// bufferPool recycles the proxy's copy buffers.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any {
		b := make([]byte, 32<<10)
		return &b
	}}}
}

func (b *bufferPool) Get() []byte  { return *(b.p.Get().(*[]byte)) }
func (b *bufferPool) Put(p []byte) { b.p.Put(&p) }

// hostHandler returns the handler Config.HostHandlers names for host on
// the HTTPS listener, or nil.
func (s *Server) hostHandler(host string, entry uint8) http.Handler {
	if len(s.cfg.HostHandlers) == 0 || entry != entryHTTPS {
		return nil
	}
	return s.cfg.HostHandlers[host]
}
