package edge

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

// TestCompression: with the HTTPS entry point compressing, compressible
// responses of 1 KiB or more are gzipped for clients that accept it;
// small, already encoded, media and range responses pass as the backend
// sent them; a streaming response keeps arriving flush by flush.
func TestCompression(t *testing.T) {
	big := strings.Repeat(`{"name":"edge","ok":true},`, 200)
	inModes(t, func(t *testing.T, mode func(*Config)) {
		// Each design has its own backend: the modes run in parallel, and a
		// stream one releases must not be one the other is waiting on.
		release := make(chan struct{})
		gone := make(chan struct{}, 2) // a stream whose client left
		b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/big":
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("ETag", `"v1"`)
				io.WriteString(w, big)
			case "/big-length":
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Header().Set("Content-Length", fmt.Sprint(len(big)))
				io.WriteString(w, big)
			case "/small":
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"ok":true}`)
			case "/encoded":
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("Content-Encoding", "br")
				io.WriteString(w, big)
			case "/image":
				w.Header().Set("Content-Type", "image/png")
				io.WriteString(w, big)
			case "/stream":
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, "data: first\n\n")
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-r.Context().Done():
					gone <- struct{}{}
				}
				io.WriteString(w, "data: second\n\n")
			}
		}))
		t.Cleanup(b.Close)
		te := startEdge(t, mode, func(c *Config) { c.CompressHTTPS = true })
		t.Cleanup(func() { close(release) }) // before the edge's shutdown waits for the streams
		te.srv.Update(snapshot(svc("app", "Host:app.test.local", b.URL)))
		c := te.client(false)
		for _, tc := range []struct {
			path, accept string
			enc          string // the Content-Encoding expected; "" none
		}{
			{"/big", "gzip, deflate, br", "br"},
			{"/big-length", "br;q=1, gzip;q=0.5", "br"},
			{"/big", "br;q=0.5, gzip", "gzip"},
			{"/big", "gzip, br;q=0", "gzip"},
			{"/big", "", ""},
			{"/big", "gzip;q=0", ""},
			{"/small", "gzip, br", ""},
			{"/encoded", "gzip, br", "br (the backend's)"},
			{"/image", "gzip, br", ""},
		} {
			resp, body := get(t, c, hostURL(te, "app.test.local", tc.path), "Accept-Encoding", tc.accept)
			want, backends := strings.CutSuffix(tc.enc, " (the backend's)")
			if got := resp.Header.Get("Content-Encoding"); got != want {
				t.Errorf("%s (Accept-Encoding %q): Content-Encoding %q, want %q", tc.path, tc.accept, got, tc.enc)
				continue
			}
			if backends {
				if body != big {
					t.Errorf("%s: the backend's encoded body was changed", tc.path)
				}
				continue
			}
			if tc.enc == "" {
				continue
			}
			plain, err := io.ReadAll(decoder(t, tc.enc, strings.NewReader(body)))
			if err != nil || string(plain) != big {
				t.Errorf("%s: %s body does not decompress to the backend's (%v)", tc.path, tc.enc, err)
			}
			if resp.Header.Get("Content-Length") != "" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s: headers %v", tc.path, resp.Header)
			}
			if et := resp.Header.Get("ETag"); tc.path == "/big" && et != `W/"v1"` {
				t.Errorf("ETag %q is not weakened", et)
			}
			if len(body) >= len(big)/4 {
				t.Errorf("%s: %d bytes compressed to %d", tc.path, len(big), len(body))
			}
		}

		// Streaming, over HTTP/1.1 and HTTP/2, gzip and brotli: the first
		// event arrives while the backend still holds the second.
		for _, h2 := range []bool{false, true} {
			enc := map[bool]string{false: "gzip", true: "br"}[h2]
			streamsCompressed(t, te.client(h2), hostURL(te, "app.test.local", "/stream"), h2, enc)
			// The client has gone: the backend's exchange is cut, not
			// held until the backend ends the stream.
			select {
			case <-gone:
			case <-time.After(5 * time.Second):
				t.Fatalf("HTTP/2 %v: the backend never saw the client go", h2)
			}
		}
	})
}

// decoder reads a body of Content-Encoding enc (gzip or br).
func decoder(t *testing.T, enc string, r io.Reader) io.Reader {
	t.Helper()
	if enc == "br" {
		return brotli.NewReader(r)
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	return zr
}

func streamsCompressed(t *testing.T, c *http.Client, url string, h2 bool, enc string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept-Encoding", enc)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if (resp.ProtoMajor == 2) != h2 {
		t.Fatalf("protocol %s, want HTTP/2 %v", resp.Proto, h2)
	}
	if resp.Header.Get("Content-Encoding") != enc {
		t.Fatalf("%s stream not compressed with %s: %v", resp.Proto, enc, resp.Header)
	}
	got := make(chan string, 1)
	go func() {
		var zr io.Reader
		if enc == "br" {
			zr = brotli.NewReader(resp.Body)
		} else {
			gz, err := gzip.NewReader(resp.Body)
			if err != nil {
				got <- err.Error()
				return
			}
			zr = gz
		}
		line, _ := bufio.NewReader(zr).ReadString('\n')
		got <- line
	}()
	select {
	case line := <-got:
		if line != "data: first\n" {
			t.Errorf("%s: first event %q", resp.Proto, line)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("%s: the first event did not arrive while the stream was open", resp.Proto)
	}
}

// TestCompressionPerEntryPoint: the HTTP entry point compresses only with
// CompressHTTP.
func TestCompressionPerEntryPoint(t *testing.T) {
	big := strings.Repeat("hello edge ", 300)
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, big)
	}))
	t.Cleanup(b.Close)
	for _, on := range []bool{false, true} {
		te := startEdge(t, func(c *Config) {
			c.HTTPSAddr, c.TLS = "", nil
			c.CompressHTTP, c.CompressHTTPS = on, true
		})
		te.srv.Update(snapshot(svc("app", "Host:app.test.local", b.URL)))
		resp, _ := get(t, te.client(false), te.httpURL+"/", "Host", "app.test.local", "Accept-Encoding", "gzip")
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != on {
			t.Errorf("CompressHTTP=%v: gzipped %v", on, got)
		}
	}
}

func TestAcceptedEncoding(t *testing.T) {
	const none, gz, br = encNone, encGzip, encBrotli
	for v, want := range map[string]int{
		"gzip": gz, "GZIP": gz, "x-gzip": gz, "deflate, gzip;q=0.8": gz, "*": gz, "gzip;q=0": none, "gzip; q=0.0": none,
		"br": br, "gzip, deflate, br, zstd": br, "br;q=0.5, gzip": gz, "br;q=0.9, gzip;q=0.9": br, "gzip, br;q=0": gz,
		"*;q=0.5, br;q=0.2": gz, "": none, "identity": none, "gzip;q=2": none, "gzip;q=x, br": br,
	} {
		h := http.Header{}
		if v != "" {
			h.Set("Accept-Encoding", v)
		}
		if got := acceptedEncoding(h); got != want {
			t.Errorf("acceptedEncoding(%q) = %v, want %v", v, got, want)
		}
	}
}

// BenchmarkCompressedResponse is a 16 KiB JSON answer through the edge
// with and without TRAEFIK_HTTPS_COMPRESSION, for a client that accepts
// gzip, and one that accepts brotli: the CPU and allocations compression
// costs per response.
func BenchmarkCompressedResponse(b *testing.B) {
	body := []byte(strings.Repeat(`{"name":"edge","ok":true,"n":12345},`, 455))
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer backend.Close()
	for _, enc := range []string{"off", "gzip", "br"} {
		on := enc != "off"
		b.Run("compress="+enc, func(b *testing.B) {
			te := startEdge(b, func(c *Config) { c.CompressHTTPS = on })
			te.srv.Update(snapshot(svc("app", "Host:app.test.local", backend.URL)))
			c := te.client(false)
			req, _ := http.NewRequest(http.MethodGet, hostURL(te, "app.test.local", "/"), nil)
			req.Header.Set("Accept-Encoding", enc)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
