package metadatatest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rancher-edge/edge/internal/testtools"
)

// Addresses inside the server's namespace.
const (
	listen       = "127.0.0.1:8080"
	listenReload = "127.0.0.1:8112"
)

// startTimeout bounds every wait for the server.
const startTimeout = 15 * time.Second

// Server is one rancher-metadata process in a network namespace of its
// own. Its methods may be called from any goroutine.
type Server struct {
	// URL is the server's address inside its namespace; reach it through
	// DialContext or Transport.
	URL string

	t      testing.TB
	bin    string
	dir    string
	holder *exec.Cmd // keeps the namespace alive across Stop and Start
	nsPath string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	log     *lockedWriter
	version int
}

// Start runs the server with world w loaded. It is stopped, and its
// namespace removed, when the test ends.
func Start(t testing.TB, w World) *Server {
	t.Helper()
	s := &Server{URL: "http://" + listen, t: t, bin: testtools.Binary(t, "rancher-metadata", "rancher-metadata"), dir: t.TempDir()}
	if err := s.namespace(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	if err := s.write(w); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// namespace starts the process that holds the network namespace and
// brings its loopback up.
func (s *Server) namespace() error {
	// sh reports once unshare has made the namespace, then becomes sleep.
	cmd := exec.Command("unshare", "--net", "--", "sh", "-c", "echo up && exec sleep 3600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("metadatatest: unshare: %w", err)
	}
	fail := func(err error) error {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return err
	}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if strings.TrimSpace(l) != "up" {
			return fail(fmt.Errorf("metadatatest: making a network namespace (unshare -n): %s", strings.TrimSpace(stderr.String())))
		}
	case <-time.After(startTimeout):
		return fail(errors.New("metadatatest: the network namespace did not come up"))
	}
	s.holder = cmd
	s.nsPath = fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)
	if err := s.inNamespace(loopbackUp); err != nil {
		s.holder = nil
		return fail(fmt.Errorf("metadatatest: bringing lo up: %w", err))
	}
	return nil
}

// loopbackUp sets IFF_UP on lo, what `ip link set lo up` does.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

func (s *Server) answersPath() string { return filepath.Join(s.dir, "answers.json") }

// write writes w as the answers file.
func (s *Server) write(w World) error {
	s.mu.Lock()
	s.version++
	v := s.version
	s.mu.Unlock()
	b, err := Answers(w, strconv.Itoa(v))
	if err != nil {
		return fmt.Errorf("metadatatest: %w", err)
	}
	tmp := s.answersPath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.answersPath())
}

// Start starts the server (again, after Stop) and waits until it answers.
func (s *Server) Start() error {
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		return errors.New("metadatatest: already running")
	}
	cmd := exec.Command("nsenter", "--net="+s.nsPath, "--", s.bin,
		"--listen", listen, "--listenReload", listenReload, "--answers", s.answersPath())
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	log := &lockedWriter{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("metadatatest: starting rancher-metadata: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited, s.log = cmd, exited, log
	s.mu.Unlock()

	c := &http.Client{Transport: s.oneShot(), Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := c.Get(s.URL + "/latest/version")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("HTTP %s", resp.Status)
		}
		select {
		case <-exited:
			return fmt.Errorf("metadatatest: rancher-metadata exited: %s", s.Log())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("metadatatest: rancher-metadata did not answer within %v: %v\n%s", startTimeout, err, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server; the namespace and its answers stay for Start.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	select {
	case <-exited:
	case <-time.After(startTimeout):
		s.t.Errorf("metadatatest: rancher-metadata did not exit")
	}
}

// Log returns what the server has logged.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log == nil {
		return ""
	}
	return s.log.String()
}

func (s *Server) close() {
	s.Stop()
	if s.holder != nil {
		_ = s.holder.Process.Kill()
		_ = s.holder.Wait()
	}
}

// Publish loads world w into the running server, as a change in Rancher
// would, and returns once the server has reloaded: its /version has a new
// value and long polls on the old one return within about 1.5 s (the
// server re-checks waiting polls every 5 s or on a reload).
func (s *Server) Publish(w World) error {
	if err := s.write(w); err != nil {
		return err
	}
	c := &http.Client{Transport: s.oneShot(), Timeout: startTimeout}
	resp, err := c.Post("http://"+listenReload+"/v1/reload", "text/plain", nil)
	if err != nil {
		return fmt.Errorf("metadatatest: reload: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("metadatatest: reload: HTTP %s: %s", resp.Status, body)
	}
	return nil
}

// DialContext opens a connection inside the server's namespace: the
// socket is created by a thread that has joined it (a socket stays in the
// namespace it was made in).
func (s *Server) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := s.inNamespace(func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// inNamespace runs f on an OS thread that has joined the server's network
// namespace, then returns the thread to the test's namespace.
func (s *Server) inNamespace(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		back, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("metadatatest: own namespace: %w", err)
			return
		}
		defer unix.Close(back)
		ns, err := unix.Open(s.nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("metadatatest: server namespace: %w", err)
			return
		}
		defer unix.Close(ns)
		if err := unix.Setns(ns, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("metadatatest: setns: %w", err)
			return
		}
		errc <- f()
		if unix.Setns(back, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		} // else the goroutine ends locked, and the runtime retires the thread
	}()
	return <-errc
}

// Transport returns an HTTP transport whose connections are made inside
// the server's namespace.
func (s *Server) Transport() *http.Transport {
	return &http.Transport{DialContext: s.DialContext, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}
}

// oneShot is a transport for the helper's own requests, which keeps no
// connection open.
func (s *Server) oneShot() *http.Transport {
	return &http.Transport{DialContext: s.DialContext, DisableKeepAlives: true}
}

// lockedWriter collects the server's stdout and stderr in one buffer.
type lockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
