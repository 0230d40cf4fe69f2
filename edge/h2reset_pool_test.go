package edge

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/net/http2"
)

// A client that resets a stream as its answer ends must not leave the
// backend connection that carried it cut in the pool: the next request
// drawn on it would fail at once with a timeout and be answered 504. On
// both paths: the fast one (app) and the one through middlewares (mw),
// with an answer that has a body and one that has none.
func TestH2ResetAsAnswerEndsKeepsPoolUsable(t *testing.T) {
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/reset/empty" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(b.Close)
	te := h2Edge(t, b.URL)
	for _, host := range []string{"app.test.local", "mw.test.local"} {
		for _, path := range []string{"/reset", "/reset/empty"} {
			t.Run(host+path, func(t *testing.T) {
				r := dialRawH2(t, te)
				r.authority = host
				rounds := 3000 // the fast path's window is a few microseconds
				if host == "mw.test.local" {
					rounds = 1000
				}
				resetAfterAnswer(t, r, path, rounds)
			})
		}
	}
}

func resetAfterAnswer(t *testing.T, r *rawH2, path string, rounds int) {
	bad := 0
	for i := range rounds {
		id := uint32(4*i + 1)
		r.request(id, "GET", path, true)
		// The reset follows the answer's head: it reaches the edge while
		// the answer's body is relayed, or just after.
		for {
			f := r.next(id)
			if _, ok := f.(*http2.MetaHeadersFrame); ok {
				break
			}
			if _, ok := f.(*http2.RSTStreamFrame); ok {
				break
			}
		}
		r.fr.WriteRSTStream(id, http2.ErrCodeCancel)
		next := id + 2
		r.request(next, "GET", "/next", true)
		for {
			f := r.next(next)
			if h, ok := f.(*http2.MetaHeadersFrame); ok {
				if s := h.PseudoValue("status"); s != "200" {
					bad++
					t.Errorf("round %d: the request after a reset got %s", i, s)
				}
			}
			if d, ok := f.(*http2.DataFrame); ok && d.StreamEnded() {
				break
			}
			if _, ok := f.(*http2.RSTStreamFrame); ok {
				break
			}
		}
		if bad > 3 {
			t.FailNow()
		}
	}
}

// A HEADERS frame on a stream both ends have closed is a connection error
// of type STREAM_CLOSED (RFC 9113 §5.1, h2spec 5.1/12), also in the moment
// after the answer's last frame went out and before the stream's goroutine
// retired it.
func TestH2HeadersOnClosedStreamEndsConnection(t *testing.T) {
	te := h2Edge(t, h2Backend(t, nil, nil))
	for i := range 1000 {
		r := dialRawH2(t, te)
		r.request(1, "GET", "/", true)
		for {
			if d, ok := r.next(1).(*http2.DataFrame); ok && d.StreamEnded() {
				break
			}
		}
		r.request(1, "GET", "/", true)
		for {
			f, err := r.fr.ReadFrame()
			if err != nil {
				break // closed after the GOAWAY
			}
			if ga, ok := f.(*http2.GoAwayFrame); ok {
				if ga.ErrCode != http2.ErrCodeStreamClosed {
					t.Fatalf("round %d: GOAWAY %v, want STREAM_CLOSED", i, ga.ErrCode)
				}
				break
			}
			if rst, ok := f.(*http2.RSTStreamFrame); ok && rst.ErrCode != http2.ErrCodeNo {
				t.Fatalf("round %d: RST_STREAM %v where a GOAWAY(STREAM_CLOSED) was due", i, rst.ErrCode)
			}
		}
		r.conn.Close()
	}
}
