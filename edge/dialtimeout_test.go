package edge

import (
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// blackhole returns a loopback address whose connects hang: a listener
// with the shortest accept queue that never accepts, the queue filled,
// so the kernel drops further SYNs.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr // the queue is full: connects hang
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatalf("%s kept accepting connections", addr)
	return ""
}

// TestRouteDialTimeout: a route's own dial timeout (ingress-nginx's
// proxy-connect-timeout) bounds connecting to a backend that does not
// answer, on the fast path and on the net/http design's.
func TestRouteDialTimeout(t *testing.T) {
	addr := blackhole(t)
	for _, fast := range []bool{true, false} {
		te := startEdge(t, func(c *Config) { c.DisableFastPath = !fast })
		sv := svc("slow", "Host:slow.test.local", "http://"+addr)
		sv.DialTimeout = 300 * time.Millisecond
		te.srv.Update(snapshot(sv))
		start := time.Now()
		resp, _ := get(t, te.client(false), hostURL(te, "slow.test.local", "/"))
		if took := time.Since(start); resp.StatusCode < 500 || took > 5*time.Second {
			t.Errorf("fast path %v: %d after %v, want a 5xx within the route's 300 ms dial bound (and retries)", fast, resp.StatusCode, took)
		}
	}
}
