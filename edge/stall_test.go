package edge

import (
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// net/http's design bounds a stalled client as the fast paths do: an
// HTTP/2 stream held at a zero window (x/net/http2's server waits for
// window without a deadline) is reset within WriteTimeout, an HTTP/1.1
// client that stops reading is disconnected, and the backend exchange is
// released either way.
func TestNetHTTPStalledClientReleased(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 200<<10)
	cut := make(chan struct{}, 2)
	backend := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/endless" {
			io.WriteString(w, big)
			return
		}
		chunk := make([]byte, 32<<10)
		for range 8192 { // 256 MiB: far more than the sockets hold
			if _, err := w.Write(chunk); err != nil {
				cut <- struct{}{}
				return
			}
		}
	})
	te := startEdge(t, modes[1].set, func(c *Config) { c.WriteTimeout = 300 * time.Millisecond })
	te.srv.Update(snapshot(svc("app", "Host:app.test.local", backend.URL)))
	rt := te.srv.Table().Routes()[0]
	released := func(t *testing.T) {
		t.Helper()
		if !eventually(3*time.Second, func() bool { return rt.Backends()[0].InFlight == 0 && rt.Stats().InFlight == 0 }) {
			t.Errorf("backend in flight %d, route in flight %d", rt.Backends()[0].InFlight, rt.Stats().InFlight)
		}
	}

	t.Run("HTTP/2 zero window", func(t *testing.T) {
		r := dialRawH2(t, te, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
		for id := uint32(1); id <= 7; id += 2 {
			r.request(id, "GET", "/", true)
		}
		start := time.Now()
		resets := 0
		for resets < 4 {
			f, err := r.fr.ReadFrame()
			if err != nil {
				t.Fatalf("after %v, %d streams reset: %v", time.Since(start), resets, err)
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					r.fr.WriteSettingsAck()
				}
			case *http2.RSTStreamFrame:
				resets++
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("reset after %v", d)
		}
		released(t)
	})
	t.Run("HTTP/1.1 stops reading", func(t *testing.T) {
		conn, err := tls.Dial("tcp", te.httpsHost, &tls.Config{RootCAs: te.roots, ServerName: "app.test.local", NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		io.WriteString(conn, "GET /endless HTTP/1.1\r\nHost: app.test.local\r\n\r\n")
		waitCut(t, cut)
		released(t)
	})
}
