package edge

import (
	"bufio"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rancher-edge/edge/route"
)

func TestWRRDistributionMatchesWeights(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b1, b2, b3 := newBackend(t, "b1"), newBackend(t, "b2"), newBackend(t, "b3")
		te := startEdge(t, mode, nil)
		s := svc("app", "Host:app.test.local")
		s.Servers = []route.Server{
			{URL: b1.URL, Weight: 1, Name: "b1"},
			{URL: b2.URL, Weight: 3, Name: "b2"},
			{URL: b3.URL, Weight: 0, Name: "b3"}, // drained
		}
		te.srv.Update(snapshot(s))
		const n = 10000
		counts := countBackends(t, te, "app.test.local", n, 8)
		if counts["b3"] != 0 {
			t.Errorf("drained backend got %d requests", counts["b3"])
		}
		for name, want := range map[string]float64{"b1": 0.25, "b2": 0.75} {
			got := float64(counts[name]) / n
			if math.Abs(got-want) > 0.05*want {
				t.Errorf("%s share = %.4f, want %.2f ±5%%", name, got, want)
			}
		}
	})
}

// countBackends sends n requests over `workers` keep-alive connections and
// counts which backend answered.
func countBackends(t *testing.T, te *testEdge, host string, n, workers int) map[string]int {
	t.Helper()
	c := te.client(false)
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			local := map[string]int{}
			for i := w; i < n; i += workers {
				resp, body := get(t, c, hostURL(te, host, "/"))
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
					return
				}
				local[decodeEcho(t, body).Name]++
			}
			mu.Lock()
			for k, v := range local {
				counts[k] += v
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return counts
}

func TestSmoothWRRInterleaves(t *testing.T) {
	t.Parallel()
	a, b := &backend{url: "a"}, &backend{url: "b"}
	for _, x := range []*backend{a, b} {
		x.weight.Store(1)
		x.healthy.Store(true)
	}
	a.weight.Store(3)
	w := newWRR([]*backend{a, b}, []int{3, 1})
	var got []string
	for range 8 {
		got = append(got, w.pick(nil).url)
	}
	// Smooth WRR spreads b between the a's instead of a,a,a,b.
	if want := "a a b a a a b a"; strings.Join(got, " ") != want {
		t.Errorf("sequence = %v, want %s", got, want)
	}
}

func TestLeastOutstandingPrefersIdleBackend(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		slowRelease := make(chan struct{})
		var release sync.Once
		// Release the parked requests on every exit path, or the backend's
		// Close would wait for them forever.
		defer release.Do(func() { close(slowRelease) })
		slow := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
			<-slowRelease
			w.Write([]byte(`{"Name":"slow"}`))
		})
		fast := newBackend(t, "fast")
		te := startEdge(t, mode, nil)
		s := svc("app", "Host:app.test.local", slow.URL, fast.URL)
		s.LoadBalancer.Method = "drr"
		te.srv.Update(snapshot(s))
		c := te.client(false)
		// Park a few requests on whichever backend gets them; the slow one
		// keeps its in-flight count up.
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { get(t, c, hostURL(te, "app.test.local", "/")) })
		}
		deadline := time.Now().Add(5 * time.Second)
		// Wait until all four parked requests have been placed and the fast
		// backend is idle again: only then is the slow one strictly busier.
		for {
			bs := te.srv.Table().Routes()[0].Backends()
			if bs[0].Requests+bs[1].Requests == 4 && bs[0].InFlight > 0 && bs[1].InFlight == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("parked requests never settled: %+v", bs)
			}
			time.Sleep(5 * time.Millisecond)
		}
		for range 20 {
			if e := decodeEcho(t, mustBody(t, c, hostURL(te, "app.test.local", "/"))); e.Name != "fast" {
				t.Fatalf("request went to %q while the other backend was busy", e.Name)
			}
		}
		release.Do(func() { close(slowRelease) })
		wg.Wait()
	})
}

func TestStickyCookiePins(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b1, b2 := newBackend(t, "b1"), newBackend(t, "b2")
		te := startEdge(t, mode, nil)
		s := svc("app", "Host:app.test.local", b1.URL, b2.URL)
		s.LoadBalancer.Sticky = true
		s.LoadBalancer.CookieName = "pin"
		te.srv.Update(snapshot(s))
		c := te.client(false)
		resp, body := get(t, c, hostURL(te, "app.test.local", "/"))
		first := decodeEcho(t, body).Name
		var cookie string
		for _, sc := range resp.Cookies() {
			if sc.Name == "pin" {
				cookie = sc.Value
			}
		}
		if cookie == "" {
			t.Fatalf("no sticky cookie set: %v", resp.Header["Set-Cookie"])
		}
		if strings.Contains(cookie, "127.0.0.1") {
			t.Errorf("cookie %q reveals the backend address", cookie)
		}
		for range 10 {
			_, body := get(t, c, hostURL(te, "app.test.local", "/"), "Cookie", "pin="+cookie)
			if got := decodeEcho(t, body).Name; got != first {
				t.Fatalf("pinned to %s, got %s", first, got)
			}
		}
	})
}

func TestDialErrorRetriedOnAnotherBackend(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		dead := newBackend(t, "dead")
		deadURL := dead.URL
		dead.Close()
		live := newBackend(t, "live")
		te := startEdge(t, mode, nil)
		te.srv.Update(snapshot(svc("app", "Host:app.test.local", deadURL, live.URL)))
		c := te.client(false)
		for range 10 {
			req, _ := http.NewRequest(http.MethodPost, hostURL(te, "app.test.local", "/"), strings.NewReader("payload"))
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: the dead backend's dial error was not retried", resp.StatusCode)
			}
		}
	})
}

// resettingBackend reads each request head and resets the connection
// without answering, as a backend going down does; it counts the
// connections it took.
func resettingBackend(t *testing.T) (string, *atomic.Int32) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			go func() {
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadSlice('\n')
					if err != nil || len(line) <= 2 {
						break
					}
				}
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}()
		}
	}()
	return "http://" + l.Addr().String(), &n
}

// An idempotent request whose fresh backend connection is reset before
// any answer is sent once more, to another backend; a request with a
// body is not (the backend may have acted on it): 502.
func TestResetConnectionRetriedOnAnotherBackend(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		reset, accepted := resettingBackend(t)
		live := newBackend(t, "live")
		// Passive health off: the resetting backend stays in rotation.
		te := startEdge(t, mode, func(c *Config) { c.MaxFails = -1 })
		te.srv.Update(snapshot(svc("app", "Host:app.test.local", reset, live.URL)))
		for _, h2 := range []bool{false, true} {
			c := te.client(h2)
			for i := range 10 {
				resp, body := get(t, c, hostURL(te, "app.test.local", "/"))
				if resp.StatusCode != 200 {
					t.Fatalf("HTTP/2 %v, GET %d: status %d: the reset was not retried", h2, i, resp.StatusCode)
				}
				if got := decodeEcho(t, body).Name; got != "live" {
					t.Fatalf("GET %d answered by %q", i, got)
				}
			}
			if accepted.Load() == 0 {
				t.Fatal("the resetting backend was never tried")
			}
			failed := 0
			for range 10 {
				req, _ := http.NewRequest(http.MethodPost, hostURL(te, "app.test.local", "/"), strings.NewReader("payload"))
				resp, err := c.Do(req)
				if err != nil && h2 && strings.Contains(err.Error(), "NO_ERROR") {
					// The 502 came while the client still sent the body,
					// so the edge asked it to stop (RFC 9113 §8.1), and
					// Go's client may report that instead of the answer.
					failed++
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
				case http.StatusBadGateway:
					failed++
				default:
					t.Fatalf("POST: status %d", resp.StatusCode)
				}
			}
			if failed == 0 {
				t.Errorf("HTTP/2 %v: no POST reached the resetting backend, or one was sent twice", h2)
			}
		}
	})
}

func TestHealthCheckTakesBackendOutOfRotation(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		var mu sync.Mutex
		healthy := true
		sick := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			ok := healthy
			mu.Unlock()
			if r.URL.Path == "/health" && !ok {
				w.WriteHeader(500)
				return
			}
			w.Write([]byte(`{"Name":"sick"}`))
		})
		good := newBackend(t, "good")
		te := startEdge(t, mode, nil)
		s := svc("app", "Host:app.test.local", sick.URL, good.URL)
		s.HealthCheck = &route.HealthCheck{Path: "/health", Interval: 50 * time.Millisecond}
		te.srv.Update(snapshot(s))
		mu.Lock()
		healthy = false
		mu.Unlock()
		deadline := time.Now().Add(5 * time.Second)
		for te.srv.Table().Routes()[0].Backends()[0].Health != "failing" {
			if time.Now().After(deadline) {
				t.Fatal("backend never marked failing")
			}
			time.Sleep(10 * time.Millisecond)
		}
		c := te.client(false)
		for range 10 {
			if e := decodeEcho(t, mustBody(t, c, hostURL(te, "app.test.local", "/"))); e.Name != "good" {
				t.Fatalf("failing backend %q still gets traffic", e.Name)
			}
		}
	})
}

func TestWebSocketThroughProxy(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		up := websocket.Upgrader{}
		ws := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
			conn, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer conn.Close()
			for {
				mt, msg, err := conn.ReadMessage()
				if err != nil {
					return
				}
				conn.WriteMessage(mt, append([]byte("echo:"), msg...))
			}
		})
		te := startEdge(t, mode, nil)
		te.srv.Update(snapshot(svc("ws", "Host:ws.test.local", ws.URL)))
		d := websocket.Dialer{
			TLSClientConfig: te.client(false).Transport.(*http.Transport).TLSClientConfig,
			NetDialContext:  te.client(false).Transport.(*http.Transport).DialContext,
		}
		conn, resp, err := d.Dial("wss://ws.test.local:"+strings.Split(te.httpsHost, ":")[1]+"/socket", nil)
		if err != nil {
			t.Fatalf("dial: %v (resp %v)", err, resp)
		}
		defer conn.Close()
		for _, m := range []string{"hello", "world"} {
			if err := conn.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
				t.Fatal(err)
			}
			_, got, err := conn.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "echo:"+m {
				t.Errorf("got %q", got)
			}
		}
	})
}

func TestHTTP2Client(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		b := newBackend(t, "b")
		te := startEdge(t, mode, nil)
		te.srv.Update(snapshot(svc("app", "Host:app.test.local", b.URL)))
		resp, body := get(t, te.client(true), hostURL(te, "app.test.local", "/h2"))
		if resp.ProtoMajor != 2 {
			t.Errorf("protocol %s, want HTTP/2", resp.Proto)
		}
		if e := decodeEcho(t, body); e.Name != "b" || e.Path != "/h2" {
			t.Errorf("got %+v", e)
		}
	})
}

func TestStreamingResponseIsNotBuffered(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		release := make(chan struct{})
		stream := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write([]byte("data: first\n\n"))
			w.(http.Flusher).Flush()
			<-release
			w.Write([]byte("data: second\n\n"))
		})
		te := startEdge(t, mode, nil)
		te.srv.Update(snapshot(svc("sse", "Host:sse.test.local", stream.URL)))
		resp, err := te.client(false).Get(hostURL(te, "sse.test.local", "/"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 64)
		n, err := resp.Body.Read(buf)
		if err != nil || !strings.Contains(string(buf[:n]), "first") {
			t.Fatalf("first event not delivered before the stream ended: %q %v", buf[:n], err)
		}
		close(release)
	})
}

func newBackendFunc(t testing.TB, h http.HandlerFunc) *httptestServer {
	t.Helper()
	s := newHTTPTestServer(h)
	t.Cleanup(s.Close)
	return s
}
