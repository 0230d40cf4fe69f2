package certs

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hammer handshakes with sni in a loop until the test ends, recording the
// last serial served and every failed handshake.
type hammer struct {
	last     atomic.Int64
	ok, fail atomic.Int64
	firstErr atomic.Value
	stop     chan struct{}
	wg       sync.WaitGroup
}

func startHammer(t *testing.T, addr, sni string) *hammer {
	t.Helper()
	h := &hammer{stop: make(chan struct{})}
	h.wg.Go(func() {
		for {
			select {
			case <-h.stop:
				return
			default:
			}
			st, err := dial(addr, sni, nil)
			if err != nil {
				h.fail.Add(1)
				h.firstErr.CompareAndSwap(nil, err.Error())
				continue
			}
			h.ok.Add(1)
			h.last.Store(st.PeerCertificates[0].SerialNumber.Int64())
		}
	})
	t.Cleanup(h.halt)
	return h
}

func (h *hammer) halt() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	h.wg.Wait()
}

// check stops the loop and fails the test on any failed handshake.
func (h *hammer) check(t *testing.T) {
	t.Helper()
	h.halt()
	if n := h.fail.Load(); n != 0 {
		t.Errorf("%d of %d handshakes failed; first: %v", n, n+h.ok.Load(), h.firstErr.Load())
	}
	if h.ok.Load() == 0 {
		t.Error("no handshake completed")
	}
	t.Logf("%d handshakes, %d failed", h.ok.Load()+h.fail.Load(), h.fail.Load())
}

// rotationStore serves one pair from certPath and keyPath; poll zero is
// the production default.
func rotationStore(t *testing.T, certPath, keyPath string, poll time.Duration) (*Store, string) {
	t.Helper()
	s, err := New(Config{
		Pairs: []Pair{filePair(t, "TRAEFIK_SSL_CERT (rot)", certPath, keyPath)},
		Poll:  poll,
	})
	if err != nil {
		t.Fatal(err)
	}
	runStore(t, s)
	return s, serve(t, s.TLSConfig())
}

func TestRotateInPlace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "wild_crt"), filepath.Join(dir, "wild_key")
	c1, k1, _ := mint(t, certOpts{names: []string{"*.rot.test"}, serial: 1})
	write(t, certPath, c1)
	write(t, keyPath, k1)
	s, addr := rotationStore(t, certPath, keyPath, 0) // the default 1 s poll meets the 5 s promise
	h := startHammer(t, addr, "a.rot.test")
	eventually(t, "first handshake", func() bool { return h.last.Load() == 1 })

	// In place, as Rancher does it: truncate and write, the certificate
	// before the key, so polls see half-written and mismatched states.
	c2, k2, _ := mint(t, certOpts{names: []string{"*.rot.test"}, serial: 2})
	gen := s.Generation()
	write(t, certPath, c2)
	write(t, keyPath, k2)
	eventually(t, "new serial served", func() bool { return h.last.Load() == 2 })
	h.check(t)
	if s.Generation() <= gen {
		t.Errorf("generation %d not advanced from %d", s.Generation(), gen)
	}
	eventually(t, "error cleared", func() bool { return s.Status()[0].LastError == "" })
	if st := s.Status()[0]; st.Serial != "2" {
		t.Errorf("status serial %s", st.Serial)
	}
}

// TestRotateSymlinkSwap rotates like Kubernetes' atomic writer and
// Rancher's secrets driver: the files are links into ..data, itself a link
// to a timestamped directory, replaced by rename.
func TestRotateSymlinkSwap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c1, k1, _ := mint(t, certOpts{names: []string{"swap.test"}, serial: 1})
	write(t, filepath.Join(dir, "..v1", "tls.crt"), c1)
	write(t, filepath.Join(dir, "..v1", "tls.key"), k1)
	mustSymlink(t, "..v1", filepath.Join(dir, "..data"))
	certPath, keyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	mustSymlink(t, filepath.Join("..data", "tls.crt"), certPath)
	mustSymlink(t, filepath.Join("..data", "tls.key"), keyPath)

	s, addr := rotationStore(t, certPath, keyPath, 50*time.Millisecond)
	h := startHammer(t, addr, "swap.test")
	eventually(t, "first handshake", func() bool { return h.last.Load() == 1 })

	for serial := int64(2); serial <= 3; serial++ {
		c, k, _ := mint(t, certOpts{names: []string{"swap.test"}, serial: serial})
		v := filepath.Join(dir, "..v"+string(rune('0'+serial)))
		write(t, filepath.Join(v, "tls.crt"), c)
		write(t, filepath.Join(v, "tls.key"), k)
		tmp := filepath.Join(dir, "..data_tmp")
		mustSymlink(t, filepath.Base(v), tmp)
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "new serial served", func() bool { return h.last.Load() == serial })
	}
	h.check(t)
	if st := s.Status()[0]; st.LastError != "" || st.Serial != "3" {
		t.Errorf("status serial %s error %q", st.Serial, st.LastError)
	}
}

func TestBrokenReplacementKeepsOld(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "crt"), filepath.Join(dir, "key")
	c1, k1, _ := mint(t, certOpts{names: []string{"keep.test"}, serial: 1})
	write(t, certPath, c1)
	write(t, keyPath, k1)
	s, addr := rotationStore(t, certPath, keyPath, 50*time.Millisecond)
	h := startHammer(t, addr, "keep.test")
	eventually(t, "first handshake", func() bool { return h.last.Load() == 1 })

	// A certificate for another key: the key file was not replaced.
	c2, k2, _ := mint(t, certOpts{names: []string{"keep.test"}, serial: 2})
	write(t, certPath, c2)
	eventually(t, "error recorded", func() bool { return s.Status()[0].LastError != "" })
	st := s.Status()[0]
	if !strings.Contains(st.LastError, "does not match") || st.LastErrorAt.IsZero() || st.Serial != "1" || st.State != StateValid {
		t.Errorf("status after broken replacement: %+v", st)
	}
	// Garbage is rejected too, and the old certificate still serves.
	write(t, certPath, []byte("garbage\n"))
	eventually(t, "not-PEM error recorded", func() bool { return strings.Contains(s.Status()[0].LastError, "not PEM") })
	if got := servedSerial(t, addr, "keep.test"); got != 1 {
		t.Fatalf("serial %d after broken replacement, want the old 1", got)
	}

	// Removing the file is an error as well, never a fallback.
	if err := os.Remove(certPath); err != nil {
		t.Fatal(err)
	}
	eventually(t, "missing file recorded", func() bool { return strings.Contains(s.Status()[0].LastError, "not found") })

	// A good replacement clears the error.
	write(t, keyPath, k2)
	write(t, certPath, c2)
	eventually(t, "new serial served", func() bool { return h.last.Load() == 2 })
	eventually(t, "error cleared", func() bool { return s.Status()[0].LastError == "" })
	h.check(t)
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
