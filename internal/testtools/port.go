package testtools

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Port returns a port on 127.0.0.1 that nothing listens on (TCP or UDP), for a test
// that must name its ports before the program under test binds them.
//
// Asking the kernel for port 0 and closing the listener is not enough: the
// kernel hands the same port out again (two ports picked in a row have come
// back equal), outgoing connections take ports from the same ephemeral
// range, and packages' test binaries run at the same time. So Port picks
// from below the ephemeral range (Linux's default starts at 32768), checks
// the port can be bound, and holds an flock on a file named after it until
// the test ends: no other test, in this process or another, gets it
// meanwhile.
func Port(t testing.TB) int {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "rancher-edge-test-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatalf("test ports: %v", err)
	}
	for range 500 {
		port := 20000 + rand.IntN(12000)
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			t.Fatalf("test ports: %v", err)
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close() // another test holds it
			continue
		}
		if !bindable(port) {
			f.Close()
			continue
		}
		t.Cleanup(func() { f.Close() }) // closing releases the lock
		return port
	}
	t.Fatal("test ports: no free port in 500 tries")
	return 0
}

// bindable reports whether port can be bound for TCP on loopback and on
// every interface, and for UDP on loopback: some servers under test bind
// wider than asked, and DNS servers and Serf use both protocols.
func bindable(port int) bool {
	for _, addr := range []string{"127.0.0.1", ""} {
		ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
		if err != nil {
			return false
		}
		ln.Close()
	}
	pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	pc.Close()
	return true
}

// Addr is Port as a host:port on 127.0.0.1.
func Addr(t testing.TB) string {
	return fmt.Sprintf("127.0.0.1:%d", Port(t))
}
