package middleware

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// headerValue is a canonical header name with a one-element value slice
// built at construction. Installing the slice directly (h[key] = val)
// instead of h.Set(key, v) saves an allocation per header per request. The
// slice is shared by every request of the route, so it is capped at its
// length: Header.Add then copies instead of appending into it. Nothing in
// net/http or httputil writes into a value slice in place.
type headerValue struct {
	key string
	val []string
}

func newHeaderValue(key, value string) headerValue {
	v := []string{value}
	return headerValue{key: key, val: v[:1:1]}
}

// responsePlan is the response header edit for one kind of request.
type responsePlan struct {
	set []headerValue
	del []string      // canonical names to remove
	add []headerValue // values appended after the backend's
}

func (p *responsePlan) empty() bool { return len(p.set) == 0 && len(p.del) == 0 && len(p.add) == 0 }

// apply edits h. Values the backend set for the same names are replaced,
// which is the point: the operator's label wins over the application.
func (p *responsePlan) apply(h http.Header) {
	for _, hv := range p.set {
		h[hv.key] = hv.val
	}
	for _, k := range p.del {
		delete(h, k)
	}
	for _, hv := range p.add {
		h[hv.key] = append(h[hv.key], hv.val[0])
	}
}

// headerWriter applies a responsePlan at the last moment before the
// response header is sent, so that it overrides whatever the backend (or
// httputil.ReverseProxy copying the backend's headers) put there.
//
// It implements Flusher and Hijacker directly, because either can send the
// header, and Unwrap for everything else http.ResponseController offers
// (deadlines, full duplex).
type headerWriter struct {
	http.ResponseWriter
	plan    *responsePlan
	applied bool
}

func (hw *headerWriter) apply() {
	if !hw.applied {
		hw.applied = true
		hw.plan.apply(hw.ResponseWriter.Header())
	}
}

func (hw *headerWriter) WriteHeader(code int) {
	// Informational responses (103 Early Hints) go out with the header map
	// as it is and do not fix the final header; 101 does.
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		hw.ResponseWriter.WriteHeader(code)
		return
	}
	hw.apply()
	hw.ResponseWriter.WriteHeader(code)
}

func (hw *headerWriter) Write(b []byte) (int, error) {
	hw.apply()
	return hw.ResponseWriter.Write(b)
}

// ReadFrom keeps the sendfile path of the underlying writer reachable for
// io.Copy.
func (hw *headerWriter) ReadFrom(r io.Reader) (int64, error) {
	hw.apply()
	return io.Copy(hw.ResponseWriter, r)
}

// FlushError is what http.ResponseController.Flush looks for first.
func (hw *headerWriter) FlushError() error {
	hw.apply()
	return http.NewResponseController(hw.ResponseWriter).Flush()
}

// Flush is for callers that type-assert http.Flusher, as older streaming
// code does.
func (hw *headerWriter) Flush() { _ = hw.FlushError() }

// Hijack applies the headers first because the hijacker may still write
// them: httputil.ReverseProxy sends a 101 response with rw.Header().
func (hw *headerWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hw.apply()
	return http.NewResponseController(hw.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (hw *headerWriter) Unwrap() http.ResponseWriter { return hw.ResponseWriter }

var (
	_ http.Flusher  = (*headerWriter)(nil)
	_ http.Hijacker = (*headerWriter)(nil)
	_ io.ReaderFrom = (*headerWriter)(nil)
)
