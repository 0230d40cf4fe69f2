package edge

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

// grpcLike is an HTTP/2-only backend that answers as gRPC does: it
// refuses HTTP/1.1, echoes each line of the request body as it arrives
// (flushed, so a bidirectional stream works), and ends with the
// grpc-status trailer.
func grpcLike(t *testing.T) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			http.Error(w, "HTTP/2 only", http.StatusHTTPVersionNotSupported)
			return
		}
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		sc := bufio.NewScanner(r.Body)
		for sc.Scan() {
			io.WriteString(w, "echo:"+sc.Text()+"\n")
			w.(http.Flusher).Flush()
		}
		w.Header().Set("Grpc-Status", "0")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h2c.NewHandler(h, &http2.Server{})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestH2Backend: a route to an h2c:// backend (ingress-nginx's
// backend-protocol GRPC) is proxied over HTTP/2 with its trailers, both
// for a whole request and for a bidirectional stream, and leaves the fast
// paths.
func TestH2Backend(t *testing.T) {
	addr := grpcLike(t)
	te := startEdge(t)
	te.srv.Update(snapshot(svc("grpc", "Host:grpc.test.local", "h2c://"+addr)))
	if rt := te.srv.Table().Routes()[0]; rt.fast {
		t.Errorf("an HTTP/2 backend's route is on the fast paths, which speak HTTP/1.1 upstream")
	}
	c := te.client(true)

	req, _ := http.NewRequest("POST", hostURL(te, "grpc.test.local", "/echo.Echo/Say"), strings.NewReader("hi\n"))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "echo:hi\n" || resp.Trailer.Get("Grpc-Status") != "0" {
		t.Fatalf("unary: %d %q trailer %v", resp.StatusCode, body, resp.Trailer)
	}

	// Bidirectional: each line is answered before the next is sent.
	pr, pw := io.Pipe()
	req, _ = http.NewRequest("POST", hostURL(te, "grpc.test.local", "/echo.Echo/Chat"), pr)
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := c.Do(req)
		if err != nil {
			t.Error(err)
			close(done)
			return
		}
		done <- resp
	}()
	io.WriteString(pw, "one\n")
	var r *bufio.Reader
	select {
	case resp = <-done:
		if resp == nil {
			return
		}
		r = bufio.NewReader(resp.Body)
	case <-time.After(10 * time.Second):
		t.Fatal("no response head while the request streams")
	}
	for _, word := range []string{"one", "two"} {
		if word != "one" {
			io.WriteString(pw, word+"\n")
		}
		line, err := r.ReadString('\n')
		if err != nil || line != "echo:"+word+"\n" {
			t.Fatalf("stream: %q %v", line, err)
		}
	}
	pw.Close()
	io.Copy(io.Discard, r)
	resp.Body.Close()
	if resp.Trailer.Get("Grpc-Status") != "0" {
		t.Errorf("stream trailer %v", resp.Trailer)
	}
}
