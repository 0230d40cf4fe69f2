package edge

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/rancher-edge/edge/route"
)

// Waits that must end (issue #13). Timeouts are shortened; each test
// bounds its own wait well below the client's 10 s deadline.

// syncBuffer is an access log the test can read while the edge writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// eventually polls cond every 20 ms for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); ; {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bodyBackend reads request bodies; active counts handlers still running.
type bodyBackend struct {
	*httptestServer
	active atomic.Int64
}

func newBodyBackend(t *testing.T) *bodyBackend {
	bb := &bodyBackend{}
	bb.httptestServer = newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		bb.active.Add(1)
		defer bb.active.Add(-1)
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			return
		}
		io.WriteString(w, "read "+strconv.FormatInt(n, 10))
	})
	return bb
}

// A request body that stops arriving ends the request within
// ReadTimeout (408) and frees the backend, on every path.
func TestSlowRequestBodyEnds(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		bb := newBodyBackend(t)
		te := startEdge(t, mode, func(c *Config) { c.ReadTimeout = 300 * time.Millisecond })
		mw := svc("mw", "Host:mw.test.local", bb.URL)
		mw.Headers = &route.Headers{CustomRequestHeaders: map[string]string{"X-Mw": "1"}}
		te.srv.Update(snapshot(svc("app", "Host:app.test.local", bb.URL), mw))
		for _, host := range []string{"app.test.local", "mw.test.local"} {
			t.Run("h1 "+host, func(t *testing.T) {
				conn, br := te.dialRaw(t)
				io.WriteString(conn, "POST / HTTP/1.1\r\nHost: "+host+"\r\nContent-Length: 1000000\r\n\r\n0123456789")
				start := time.Now()
				resp, _ := readResp(t, br, http.MethodPost)
				if resp.StatusCode != http.StatusRequestTimeout {
					t.Errorf("status %d, want 408", resp.StatusCode)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("answered after %v", d)
				}
				if !eventually(5*time.Second, func() bool { return bb.active.Load() == 0 }) {
					t.Errorf("the backend still serves %d requests", bb.active.Load())
				}
			})
			t.Run("h2 "+host, func(t *testing.T) {
				r := dialRawH2(t, te)
				r.authority = host
				r.request(1, "POST", "/", false, "content-length", "1000000")
				if err := r.fr.WriteData(1, false, []byte("0123456789")); err != nil {
					t.Fatal(err)
				}
				for {
					switch f := r.next(1).(type) {
					case *http2.MetaHeadersFrame:
						if st := f.PseudoValue("status"); st != "408" {
							t.Errorf("status %s, want 408", st)
						}
					case *http2.RSTStreamFrame:
						t.Logf("reset %v", f.ErrCode)
					default:
						continue
					}
					break
				}
				if !eventually(5*time.Second, func() bool { return bb.active.Load() == 0 }) {
					t.Errorf("the backend still serves %d requests", bb.active.Load())
				}
			})
		}
	})
}

// An HTTP/2 client that gives no flow-control window (and never opens
// it) has its stream reset within WriteTimeout, the backend exchange
// released, and, all its streams being stalled, its connection closed.
func TestH2ZeroWindowStallReleased(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 200<<10)
	backend := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, big) })
	te := startEdge(t, func(c *Config) { c.WriteTimeout = 300 * time.Millisecond })
	te.srv.Update(snapshot(svc("app", "Host:app.test.local", backend.URL)))
	r := dialRawH2(t, te, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	for id := uint32(1); id <= 7; id += 2 {
		r.request(id, "GET", "/", true)
	}
	start := time.Now()
	resets, goaway := 0, false
	for !goaway {
		f, err := r.fr.ReadFrame()
		if err != nil {
			break // closed
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				r.fr.WriteSettingsAck()
			}
		case *http2.RSTStreamFrame:
			resets++
		case *http2.GoAwayFrame:
			goaway = true
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("released after %v", d)
	}
	if resets != 4 || !goaway {
		t.Errorf("%d streams reset, GOAWAY %v; want 4 and the connection closed", resets, goaway)
	}
	rt := te.srv.Table().Routes()[0]
	if !eventually(3*time.Second, func() bool { return rt.Backends()[0].InFlight == 0 && rt.Stats().InFlight == 0 }) {
		t.Errorf("backend in flight %d, route in flight %d", rt.Backends()[0].InFlight, rt.Stats().InFlight)
	}
}

// hangingBackend accepts connections and reads, but never answers.
func hangingBackend(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(io.Discard, c)
			}()
		}
	}()
	return "http://" + l.Addr().String()
}

// A backend that accepts and never answers costs the client at most the
// header timeout, which a route lowers or raises: 504.
func TestHangingBackendAnswers504(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te := startEdge(t, mode, func(c *Config) { c.ResponseHeaderTimeout = 400 * time.Millisecond })
		slow := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(600 * time.Millisecond) // a long poll
			io.WriteString(w, "polled")
		})
		hang := svc("hang", "Host:hang.test.local", hangingBackend(t))
		hang.ResponseHeaderTimeout = 200 * time.Millisecond
		poll := svc("poll", "Host:poll.test.local", slow.URL)
		poll.ResponseHeaderTimeout = 5 * time.Second
		mw := svc("mw", "Host:mw.test.local", hangingBackend(t))
		mw.ResponseHeaderTimeout = 200 * time.Millisecond
		mw.Headers = &route.Headers{CustomRequestHeaders: map[string]string{"X-Mw": "1"}}
		te.srv.Update(snapshot(hang, poll, mw))
		for _, h2 := range []bool{false, true} {
			for _, host := range []string{"hang.test.local", "mw.test.local"} {
				start := time.Now()
				resp, _ := get(t, te.client(h2), hostURL(te, host, "/"))
				if resp.StatusCode != http.StatusGatewayTimeout {
					t.Errorf("%s h2=%v: status %d, want 504", host, h2, resp.StatusCode)
				}
				if d := time.Since(start); d > 3*time.Second {
					t.Errorf("%s h2=%v: answered after %v", host, h2, d)
				}
			}
			if resp, body := get(t, te.client(h2), hostURL(te, "poll.test.local", "/")); resp.StatusCode != http.StatusOK || body != "polled" {
				t.Errorf("long poll on a route that raised the timeout: %d %q", resp.StatusCode, body)
			}
		}
	})
}

// A request body beyond the route's limit (or the global one) is
// answered 413 without buffering, on every path; the backend is not
// charged.
func TestBodyLimit413(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		bb := newBodyBackend(t)
		te := startEdge(t, mode, func(c *Config) { c.MaxBodySize = 20 })
		small := svc("small", "Host:small.test.local", bb.URL)
		small.MaxRequestBodyBytes = 10
		mw := svc("mw", "Host:mw.test.local", bb.URL)
		mw.MaxRequestBodyBytes = 10
		mw.Headers = &route.Headers{CustomRequestHeaders: map[string]string{"X-Mw": "1"}}
		te.srv.Update(snapshot(small, mw, svc("global", "Host:global.test.local", bb.URL)))
		for _, tc := range []struct {
			host, body string
			chunked    bool
			want       int
		}{
			{"small.test.local", "0123456789", false, 200},
			{"small.test.local", "0123456789A", false, 413},
			{"small.test.local", "0123456789A", true, 413},
			{"mw.test.local", "0123456789A", false, 413},
			{"mw.test.local", "0123456789A", true, 413},
			{"global.test.local", "0123456789A", false, 200},
			{"global.test.local", strings.Repeat("x", 21), false, 413},
			{"global.test.local", strings.Repeat("x", 21), true, 413},
		} {
			for _, h2 := range []bool{false, true} {
				var body io.Reader = strings.NewReader(tc.body)
				if tc.chunked {
					body = io.MultiReader(strings.NewReader(tc.body)) // no length: chunked, or HTTP/2 DATA without content-length
				}
				req, _ := http.NewRequest(http.MethodPost, hostURL(te, tc.host, "/"), body)
				resp, err := te.client(h2).Do(req)
				if err != nil {
					t.Fatalf("%s: %v", tc.host, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.want {
					t.Errorf("%s, %d bytes, chunked %v, h2 %v: status %d, want %d", tc.host, len(tc.body), tc.chunked, h2, resp.StatusCode, tc.want)
				}
			}
		}
		for _, rt := range te.srv.Table().Routes() {
			if b := rt.Backends()[0]; b.Failures != 0 {
				t.Errorf("%s: backend charged %d failures", rt.Service.Name, b.Failures)
			}
		}
	})
}

// A client that goes away mid-answer is logged and counted as 499, and
// the route's in-flight count returns to zero, on every path.
func TestClientAbortCountedAndLogged(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		backend := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
			chunk := []byte(strings.Repeat("y", 4<<10))
			for {
				if _, err := w.Write(chunk); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		})
		log := &syncBuffer{}
		te := startEdge(t, mode, func(c *Config) { c.AccessLog = log })
		mw := svc("mw", "Host:mw.test.local", backend.URL)
		mw.Headers = &route.Headers{CustomResponseHeaders: map[string]string{"X-Mw": "1"}}
		te.srv.Update(snapshot(svc("app", "Host:app.test.local", backend.URL), mw))
		const aborts = 3
		for _, host := range []string{"app.test.local", "mw.test.local"} {
			for _, h2 := range []bool{false, true} {
				for range aborts {
					c := te.client(h2)
					resp, err := c.Get(hostURL(te, host, "/stream"))
					if err != nil {
						t.Fatal(err)
					}
					io.ReadFull(resp.Body, make([]byte, 1000))
					resp.Body.Close()
					c.CloseIdleConnections()
				}
			}
		}
		for _, rt := range te.srv.Table().Routes() {
			if !eventually(5*time.Second, func() bool { return rt.Stats().InFlight == 0 && rt.Stats().Codes[statusClientClosed] == 2*aborts }) {
				t.Errorf("%s: in flight %d, codes %v; want 0 and %d × 499", rt.Service.Name, rt.Stats().InFlight, rt.Stats().Codes, 2*aborts)
			}
		}
		if !eventually(5*time.Second, func() bool { return strings.Count(log.String(), `" 499 `) == 4*aborts }) {
			n := strings.Count(log.String(), `" 499 `)
			t.Errorf("%d access-log lines with 499, want %d:\n%s", n, 4*aborts, log.String())
		}
	})
}

// A malformed chunked body on a route net/http serves (middlewares) is
// the client's fault: 400, and the backend is not charged.
func TestMalformedChunkedBodyIs400(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		bb := newBodyBackend(t)
		te := startEdge(t, mode)
		mw := svc("mw", "Host:mw.test.local", bb.URL)
		mw.Headers = &route.Headers{CustomRequestHeaders: map[string]string{"X-Mw": "1"}}
		te.srv.Update(snapshot(svc("app", "Host:app.test.local", bb.URL), mw))
		for _, host := range []string{"app.test.local", "mw.test.local"} {
			conn, br := te.dialRaw(t)
			io.WriteString(conn, "POST / HTTP/1.1\r\nHost: "+host+"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n")
			resp, _ := readResp(t, br, http.MethodPost)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", host, resp.StatusCode)
			}
		}
		for _, rt := range te.srv.Table().Routes() {
			if b := rt.Backends()[0]; b.Failures != 0 || b.ErrorRate != 0 {
				t.Errorf("%s: backend charged: %d failures, error rate %v", rt.Service.Name, b.Failures, b.ErrorRate)
			}
		}
	})
}

// Passive health: a backend whose connections fail (here: it never
// answers) several times in a row gets no more traffic for a while; 4xx
// answers do not count; the last backends are never all taken out.
func TestPassiveHealthEjectsFailingBackend(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te := startEdge(t, mode, func(c *Config) { c.MaxFails, c.FailTimeout = 2, time.Minute })
		good := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "good") })
		notFound := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
		pair := svc("pair", "Host:pair.test.local", hangingBackend(t), good.URL)
		pair.ResponseHeaderTimeout = 150 * time.Millisecond
		alone := svc("alone", "Host:alone.test.local", hangingBackend(t))
		alone.ResponseHeaderTimeout = 150 * time.Millisecond
		te.srv.Update(snapshot(pair, alone, svc("nf", "Host:nf.test.local", notFound.URL)))
		c := te.client(false)
		timeouts := 0
		for range 12 {
			resp, _ := get(t, c, hostURL(te, "pair.test.local", "/"))
			if resp.StatusCode == http.StatusGatewayTimeout {
				timeouts++
			} else if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
		}
		if timeouts != 2 {
			t.Errorf("%d requests went to the hanging backend, want 2 (then it is out)", timeouts)
		}
		var byName = map[string]BackendInfo{}
		for _, rt := range te.srv.Table().Routes() {
			byName[rt.Service.Name] = rt.Backends()[0]
		}
		if b := byName["pair"]; b.Health != "ejected" || b.EjectedUntil.IsZero() || b.ConsecutiveFailures < 2 {
			t.Errorf("hanging backend: %+v, want ejected", b)
		}
		// The only backend of a route is tried even when out: 504, not 503.
		for range 3 {
			if resp, _ := get(t, c, hostURL(te, "alone.test.local", "/")); resp.StatusCode != http.StatusGatewayTimeout {
				t.Errorf("alone: status %d, want 504", resp.StatusCode)
			}
		}
		for range 5 {
			get(t, c, hostURL(te, "nf.test.local", "/"))
		}
		for _, rt := range te.srv.Table().Routes() {
			if b := rt.Backends()[0]; rt.Service.Name == "nf" && b.Health != "passing" {
				t.Errorf("4xx answers took the backend out: %+v", b)
			}
		}
	})
}

// Shutdown drains for the grace period and says so: what was in flight
// when it began, and what the grace period cut off.
func TestDrainIsLogged(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	log := &syncBuffer{}
	te := startEdge(t, func(c *Config) {
		c.ShutdownTimeout = 300 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(log, nil))
	})
	te.srv.Update(snapshot(svc("app", "Host:app.test.local", slow.URL)))
	resp, err := te.client(false).Get(hostURL(te, "app.test.local", "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	stopped := make(chan struct{})
	go func() {
		te.stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		// A backend that never finishes its answer must not hold the
		// shutdown past the grace period.
		t.Fatal("shutdown still waiting 5s into a 300ms grace period")
	}
	out := log.String()
	for _, want := range []string{`msg="draining`, "grace=300ms", "requests_in_flight=1", "drain ended by the grace period", "requests_cut_off=1"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
