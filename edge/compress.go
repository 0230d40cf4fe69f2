package edge

import (
	"compress/gzip"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

// Response compression for the entry points that ask for it
// (Config.CompressHTTP, Config.CompressHTTPS; rawmind0's
// TRAEFIK_HTTP_COMPRESSION and TRAEFIK_HTTPS_COMPRESSION, Traefik 1.x's
// entry point `compress`): brotli when the client accepts it, else gzip
// (Traefik 1.x's only one), of compressible responses of at least
// compressMinSize bytes that the backend did not encode itself. A response
// that flushes before that size is streaming: it is compressed and every
// flush is passed on, so server-sent events and long polls keep arriving
// as they are written.
//
// Encoders are pooled and Reset per response, so a response costs no
// encoder allocation. Brotli runs at quality 4 with a 256 KiB window
// (lgwin 18): about gzip's speed with smaller output — on-the-fly
// compression is no place for the slow top qualities — and a pooled
// encoder holds well under a megabyte.

// compressMinSize is the smallest body worth compressing: below about a
// packet, gzip's header and the CPU buy nothing.
const compressMinSize = 1024

// encoder is what gzip.Writer and brotli.Writer have in common.
type encoder interface {
	io.WriteCloser
	Flush() error
	Reset(io.Writer)
}

var (
	gzipWriters = sync.Pool{New: func() any {
		w, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression)
		return w
	}}
	brotliWriters = sync.Pool{New: func() any {
		return brotli.NewWriterOptions(io.Discard, brotli.WriterOptions{Quality: 4, LGWin: 18})
	}}
)

// encodings are the Content-Encodings the edge produces, by preference.
const (
	encNone = iota
	encGzip
	encBrotli
)

// wrapCompress is the compression stage: on every route when either entry
// point compresses (routes are not per entry point; the handler checks
// the request's).
func wrapCompress(s *Server, _ *Route, next http.Handler) (http.Handler, error) {
	if !s.cfg.CompressHTTP && !s.cfg.CompressHTTPS {
		return nil, nil
	}
	http1, https := s.cfg.CompressHTTP, s.cfg.CompressHTTPS
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		on := https
		if r.TLS == nil {
			on = http1
		}
		if !on || r.Header.Get("Range") != "" || r.Header.Get("Upgrade") != "" || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		enc := acceptedEncoding(r.Header)
		if enc == encNone {
			next.ServeHTTP(w, r)
			return
		}
		cw := &compressWriter{ResponseWriter: w, enc: enc}
		defer cw.finish()
		next.ServeHTTP(cw, r)
	}), nil
}

func describeCompress(*Route) string {
	return "brotli or gzip of compressible responses ≥ 1 KiB"
}

// acceptedEncoding picks the encoding for a request's Accept-Encoding:
// the one with the higher quality, brotli on a tie; gzip for "*" (any
// client that claims everything surely has gzip); encNone when neither
// is accepted with a non-zero quality.
func acceptedEncoding(h http.Header) int {
	gz, br, star := -1.0, -1.0, -1.0 // -1: not listed
	for _, v := range h.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			q := 1.0
			if qv, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(qv), 64)
				if err != nil || f < 0 || f > 1 {
					continue
				}
				q = f
			}
			switch name = strings.TrimSpace(name); {
			case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
				gz = max(gz, q)
			case strings.EqualFold(name, "br"):
				br = max(br, q)
			case name == "*":
				star = max(star, q)
			}
		}
	}
	if gz < 0 {
		gz = star // "*" covers what is not listed
	}
	switch {
	case br > 0 && br >= gz:
		return encBrotli
	case gz > 0:
		return encGzip
	}
	return encNone
}

// compressible reports whether a content type is worth compressing: text
// and the structured formats, not media and archives that are compressed
// already.
func compressible(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/javascript", "application/ecmascript", "application/xml",
		"application/x-javascript", "application/x-www-form-urlencoded", "application/wasm",
		"image/svg+xml", "image/x-icon", "image/bmp", "font/ttf", "font/otf", "application/vnd.ms-fontobject":
		return true
	}
	return false
}

// compressWriter decides at the first byte (or the first flush) whether to
// compress, holding up to compressMinSize bytes while the size is unknown.
type compressWriter struct {
	http.ResponseWriter
	enc     int // encGzip or encBrotli: what the client accepts
	status  int
	decided bool
	gz      encoder // nil: passing through
	buf     []byte  // held until the decision
}

func (cw *compressWriter) WriteHeader(code int) {
	if code < 200 {
		// 1xx informational answers go straight through.
		cw.ResponseWriter.WriteHeader(code)
		return
	}
	if cw.status == 0 {
		cw.status = code
	}
}

func (cw *compressWriter) Write(p []byte) (int, error) {
	if cw.status == 0 {
		cw.status = http.StatusOK
	}
	if !cw.decided {
		if cl := cw.Header().Get("Content-Length"); cl != "" || len(cw.buf)+len(p) >= compressMinSize || !cw.eligible() {
			n, _ := strconv.Atoi(cl)
			cw.decide(cl == "" || n >= compressMinSize)
		} else {
			cw.buf = append(cw.buf, p...)
			return len(p), nil
		}
	}
	if cw.gz != nil {
		return cw.gz.Write(p)
	}
	return cw.ResponseWriter.Write(p)
}

// eligible says whether the response as described so far may be
// compressed at all.
func (cw *compressWriter) eligible() bool {
	h := cw.Header()
	switch {
	case cw.status == http.StatusNoContent, cw.status == http.StatusNotModified, cw.status == http.StatusPartialContent:
		return false
	case h.Get("Content-Encoding") != "", h.Get("Content-Range") != "":
		return false
	case strings.Contains(strings.ToLower(h.Get("Cache-Control")), "no-transform"):
		return false
	}
	return compressible(h.Get("Content-Type"))
}

// decide sends the head, compressing when big is true and the response is
// eligible, and writes what was held.
func (cw *compressWriter) decide(big bool) {
	cw.decided = true
	if cw.status == 0 {
		cw.status = http.StatusOK
	}
	h := cw.Header()
	if big && cw.eligible() {
		h.Del("Content-Length")
		h.Del("Accept-Ranges")
		h.Add("Vary", "Accept-Encoding")
		if et := h.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
			h.Set("ETag", "W/"+et) // the bytes differ from the backend's
		}
		if cw.enc == encBrotli {
			h.Set("Content-Encoding", "br")
			cw.gz = brotliWriters.Get().(*brotli.Writer)
		} else {
			h.Set("Content-Encoding", "gzip")
			cw.gz = gzipWriters.Get().(*gzip.Writer)
		}
		cw.gz.Reset(cw.ResponseWriter)
	}
	cw.ResponseWriter.WriteHeader(cw.status)
	if len(cw.buf) > 0 {
		if cw.gz != nil {
			cw.gz.Write(cw.buf)
		} else {
			cw.ResponseWriter.Write(cw.buf)
		}
		cw.buf = nil
	}
}

// Flush passes a flush on: a response that flushes is streaming, so it is
// decided now (compressed if eligible, whatever its size so far).
func (cw *compressWriter) Flush() {
	if !cw.decided {
		// The reverse proxy flushes after every write; a body whose
		// length the backend announced is still judged by its size.
		if cl := cw.Header().Get("Content-Length"); cl != "" {
			n, _ := strconv.Atoi(cl)
			cw.decide(n >= compressMinSize)
		} else {
			cw.decide(true)
		}
	}
	if cw.gz != nil {
		cw.gz.Flush()
	}
	http.NewResponseController(cw.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (cw *compressWriter) Unwrap() http.ResponseWriter { return cw.ResponseWriter }

// finish ends the response: a small body is sent as it was.
func (cw *compressWriter) finish() {
	if !cw.decided {
		if cw.status == 0 && len(cw.buf) == 0 {
			return // the handler wrote nothing; net/http sends its default
		}
		cw.decide(false)
	}
	if cw.gz != nil {
		cw.gz.Close()
		cw.gz.Reset(io.Discard)
		if cw.enc == encBrotli {
			brotliWriters.Put(cw.gz)
		} else {
			gzipWriters.Put(cw.gz)
		}
		cw.gz = nil
	}
}
