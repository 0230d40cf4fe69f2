package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs/storagetest"
)

// TestConformance: the storage and lock semantics every shared backend
// has (certs/storagetest), against a real etcd per test.
func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Backend { return etcdBackend(startEtcd(t), 2*time.Second) })
}

// TestUnreachableFailsFast: with nothing listening, New returns at once,
// operations fail within RequestTimeout with ErrUnavailable, Status says
// so, and Lock waits only as long as its context.
func TestUnreachableFailsFast(t *testing.T) {
	cfg := Config{
		Endpoints:      []string{fmt.Sprintf("127.0.0.1:%d", freePort(t))},
		DialTimeout:    500 * time.Millisecond,
		RequestTimeout: 500 * time.Millisecond,
		StatusInterval: 100 * time.Millisecond,
		Replica:        "lonely",
		Logger:         testLogger(),
	}
	start := time.Now()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("New took %v; it must not wait for etcd", d)
	}
	ctx := t.Context()
	start = time.Now()
	_, err = s.Load(ctx, "certificates/x")
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load = %v, want ErrUnavailable and not fs.ErrNotExist", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Load took %v with a 500ms RequestTimeout", d)
	}
	if s.Exists(ctx, "certificates/x") {
		t.Error("Exists = true on an unreachable etcd")
	}
	storagetest.Eventually(t, 5*time.Second, "an unhealthy status", func() bool {
		st := s.Status()
		return !st.Healthy && st.LastError != "" && !st.LastErrorAt.IsZero()
	})
	st := s.Status()
	if st.Backend != "etcd" || st.Replica != "lonely" || st.Prefix != DefaultPrefix || len(st.Endpoints) != 1 {
		t.Errorf("status = %+v", st)
	}
	lctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	start = time.Now()
	if err := s.Lock(lctx, "issue_cert_x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Lock returned %v after its deadline", d-1500*time.Millisecond)
	}
}

// TestStaleLockKeyRemoved: a lock key whose release failed (etcd out of
// reach at Unlock) would be kept alive by this instance's session and
// block the name for good; the status loop deletes it.
func TestStaleLockKeyRemoved(t *testing.T) {
	te := startEtcd(t)
	s, other := newStore(t, te, "a"), newStore(t, te, "b")
	ctx := t.Context()
	const name = "issue_cert_stale.test"
	if err := s.Lock(ctx, name); err != nil {
		t.Fatal(err)
	}
	// What Unlock does when its request fails.
	s.mu.Lock()
	h := s.held[name]
	delete(s.held, name)
	s.mu.Unlock()
	s.forget(name, h.mutex)
	s.releaseGate(name)

	storagetest.Eventually(t, 5*time.Second, "the stale key removed", func() bool { return lockKeys(t, s) == 0 })
	if ok, err := other.TryLock(ctx, name); !ok || err != nil {
		t.Fatalf("TryLock by another instance = %v, %v; want the lock free", ok, err)
	}
	if err := other.Unlock(ctx, name); err != nil {
		t.Fatal(err)
	}
}
