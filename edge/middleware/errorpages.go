package middleware

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/rancher-edge/edge/route"
)

// errorPageLimit bounds the error page the edge holds in memory.
const errorPageLimit = 1 << 20

// PageBackend returns the handler that serves a Traefik backend by name
// (the route's proxy, without its middlewares, as in Traefik), or nil when
// no route has that backend now.
type PageBackend func(name string) http.Handler

// ErrorPages replaces answers whose status one of pages lists with a page
// from another backend, as Traefik 1.7's errors.<name>.* did: the page is a
// GET of the page's query ("{status}" replaced by the code) on its backend,
// with the original request's headers; the client gets the original status
// with the page's headers and body. That includes the edge's own answers
// (502 when the backend is down, 503 without backends). An answer whose
// status no page lists streams through unchanged, and so does one whose
// page backend is missing or fails.
func ErrorPages(pages []route.ErrorPage, backend PageBackend, next http.Handler) (http.Handler, error) {
	if next == nil {
		return nil, fmt.Errorf("error pages: %w", errNoNext)
	}
	if backend == nil {
		return nil, errors.New("error pages: no backend lookup")
	}
	e := &errorPages{backend: backend, next: next}
	for _, p := range pages {
		ranges, err := ParseStatusRanges(p.Status)
		if err != nil {
			return nil, fmt.Errorf("error pages %q: %w", p.Name, err)
		}
		e.pages = append(e.pages, errorPage{ErrorPage: p, ranges: ranges})
	}
	if len(e.pages) == 0 {
		return nil, errors.New("error pages: none configured")
	}
	return e, nil
}

// ParseStatusRanges reads Traefik's status list: codes ("404") and
// inclusive ranges ("500-599").
func ParseStatusRanges(list []string) ([][2]int, error) {
	var out [][2]int
	for _, s := range list {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(s), "-")
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(strings.TrimSpace(hi))
		}
		if err1 != nil || err2 != nil || a < 100 || b > 599 || a > b {
			return nil, fmt.Errorf("status %q is not a code or a range of codes (100-599)", s)
		}
		out = append(out, [2]int{a, b})
	}
	if len(out) == 0 {
		return nil, errors.New("no status")
	}
	return out, nil
}

type errorPage struct {
	route.ErrorPage
	ranges [][2]int
}

type errorPages struct {
	pages   []errorPage
	backend PageBackend
	next    http.Handler
}

// page returns the page for code, or nil.
func (e *errorPages) page(code int) *errorPage {
	for i := range e.pages {
		for _, r := range e.pages[i].ranges {
			if code >= r[0] && code <= r[1] {
				return &e.pages[i]
			}
		}
	}
	return nil
}

func (e *errorPages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pw := &pageWriter{ResponseWriter: w, e: e, header: http.Header{}}
	e.next.ServeHTTP(pw, r)
	if !pw.wrote {
		pw.WriteHeader(http.StatusOK)
	}
	if pw.caught == nil {
		return
	}
	if !e.serve(w, r, pw.caught, pw.code) {
		// No page: the original answer, whose body was dropped while
		// the page was the plan, is replaced by a plain one.
		copyHeader(w.Header(), pw.header)
		w.Header().Del("Content-Length")
		w.WriteHeader(pw.code)
		w.Write(pw.body.Bytes())
	}
}

// serve fetches the page and writes it with code; false when it could not.
func (e *errorPages) serve(w http.ResponseWriter, r *http.Request, p *errorPage, code int) bool {
	h := e.backend(p.Backend)
	if h == nil {
		return false
	}
	query := "/" + strings.TrimPrefix(strings.ReplaceAll(p.Query, "{status}", strconv.Itoa(code)), "/")
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, query, nil)
	if err != nil {
		return false
	}
	req.Host, req.RemoteAddr, req.TLS, req.Proto, req.ProtoMajor, req.ProtoMinor = r.Host, r.RemoteAddr, r.TLS, "HTTP/1.1", 1, 1
	req.RequestURI = req.URL.RequestURI()
	req.Header = r.Header.Clone()
	for _, k := range []string{"If-Modified-Since", "If-None-Match", "If-Range", "Range", "Content-Length", "Content-Type"} {
		req.Header.Del(k)
	}
	rec := &pageRecorder{header: http.Header{}}
	h.ServeHTTP(rec, req)
	if rec.code != 0 && (rec.code < 200 || rec.code > 299) {
		return false
	}
	copyHeader(w.Header(), rec.header)
	w.Header().Del("Content-Length")
	w.WriteHeader(code)
	w.Write(rec.body.Bytes())
	return true
}

func copyHeader(dst, src http.Header) {
	for k, vv := range src {
		dst[k] = vv
	}
}

// pageWriter passes an answer through unless its status has a page; then
// it keeps the head and (a bounded copy of) the body for a fallback.
type pageWriter struct {
	http.ResponseWriter
	e      *errorPages
	header http.Header
	wrote  bool
	code   int
	caught *errorPage
	body   bytes.Buffer
}

func (p *pageWriter) Header() http.Header {
	if p.wrote && p.caught == nil {
		return p.ResponseWriter.Header()
	}
	return p.header
}

func (p *pageWriter) WriteHeader(code int) {
	if p.wrote {
		return
	}
	if code >= 100 && code <= 199 {
		copyHeader(p.ResponseWriter.Header(), p.header)
		p.ResponseWriter.WriteHeader(code)
		return
	}
	p.wrote, p.code = true, code
	if p.caught = p.e.page(code); p.caught != nil {
		return
	}
	copyHeader(p.ResponseWriter.Header(), p.header)
	p.ResponseWriter.WriteHeader(code)
}

func (p *pageWriter) Write(b []byte) (int, error) {
	if !p.wrote {
		p.WriteHeader(http.StatusOK)
	}
	if p.caught != nil {
		if room := errorPageLimit - p.body.Len(); room > 0 {
			p.body.Write(b[:min(len(b), room)])
		}
		return len(b), nil
	}
	return p.ResponseWriter.Write(b)
}

func (p *pageWriter) Flush() {
	if p.caught != nil {
		return
	}
	if !p.wrote {
		p.WriteHeader(http.StatusOK)
	}
	if f, ok := p.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (p *pageWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// pageRecorder holds the page backend's answer.
type pageRecorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *pageRecorder) Header() http.Header { return r.header }

func (r *pageRecorder) WriteHeader(code int) {
	if r.code == 0 && code >= 200 {
		r.code = code
	}
}

func (r *pageRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	if room := errorPageLimit - r.body.Len(); room > 0 {
		r.body.Write(b[:min(len(b), room)])
	}
	return len(b), nil
}

func (r *pageRecorder) Flush() {}
