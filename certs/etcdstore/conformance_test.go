package etcdstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestStorageMethods exercises every certmagic.Storage method against a
// real etcd, with the semantics certmagic relies on.
func TestStorageMethods(t *testing.T) {
	te := startEtcd(t)
	s := newStore(t, te, "r1")
	ctx := t.Context()

	before := time.Now().Add(-time.Second)
	files := map[string]string{
		"certificates/ca/a.test/a.test.crt":  "cert a",
		"certificates/ca/a.test/a.test.key":  "key a",
		"certificates/ca/b.test/b.test.crt":  "cert b",
		"acme/ca/users/ops@example.test/key": "account",
		"top":                                "top level",
	}
	for k, v := range files {
		if err := s.Store(ctx, k, []byte(v)); err != nil {
			t.Fatalf("Store(%s): %v", k, err)
		}
	}
	for k, v := range files {
		got, err := s.Load(ctx, k)
		if err != nil || string(got) != v {
			t.Errorf("Load(%s) = %q, %v; want %q", k, got, err, v)
		}
	}

	// Overwrite: Load returns the last Store.
	if err := s.Store(ctx, "top", []byte("second")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Load(ctx, "top"); string(got) != "second" {
		t.Errorf("Load after overwrite = %q", got)
	}

	// Not found matches fs.ErrNotExist, as certmagic checks.
	if _, err := s.Load(ctx, "certificates/ca/none"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) error = %v, want fs.ErrNotExist", err)
	}
	if _, err := s.Stat(ctx, "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(missing) error = %v, want fs.ErrNotExist", err)
	}
	if _, err := s.List(ctx, "nope", true); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("List(missing) error = %v, want fs.ErrNotExist", err)
	}
	// "certificates/ca/a" is a name prefix of "a.test", not a directory.
	if s.Exists(ctx, "certificates/ca/a") {
		t.Error("Exists(certificates/ca/a) = true; a name prefix is not a directory")
	}

	for _, k := range []string{"top", "certificates", "certificates/ca/a.test", "certificates/ca/a.test/a.test.key"} {
		if !s.Exists(ctx, k) {
			t.Errorf("Exists(%s) = false", k)
		}
	}

	st, err := s.Stat(ctx, "certificates/ca/a.test/a.test.key")
	if err != nil || !st.IsTerminal || st.Size != int64(len("key a")) || st.Modified.Before(before) || st.Modified.After(time.Now()) ||
		st.Key != "certificates/ca/a.test/a.test.key" {
		t.Errorf("Stat(file) = %+v, %v; want terminal, size 5, modified now", st, err)
	}
	st, err = s.Stat(ctx, "certificates/ca")
	if err != nil || st.IsTerminal || st.Key != "certificates/ca" {
		t.Errorf("Stat(dir) = %+v, %v; want a non-terminal key", st, err)
	}

	list := func(dir string, recursive bool, want ...string) {
		t.Helper()
		got, err := s.List(ctx, dir, recursive)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("List(%q, %v) = %q, %v; want %q", dir, recursive, got, err, want)
		}
	}
	list("certificates/ca", false, "certificates/ca/a.test", "certificates/ca/b.test")
	list("certificates/ca/a.test", false, "certificates/ca/a.test/a.test.crt", "certificates/ca/a.test/a.test.key")
	list("certificates", true, "certificates/ca/a.test/a.test.crt", "certificates/ca/a.test/a.test.key", "certificates/ca/b.test/b.test.crt")
	list("", false, "acme", "certificates", "top")

	// Delete is recursive for directories and quiet for missing keys.
	if err := s.Delete(ctx, "certificates/ca/a.test"); err != nil {
		t.Fatalf("Delete(dir): %v", err)
	}
	if s.Exists(ctx, "certificates/ca/a.test") || s.Exists(ctx, "certificates/ca/a.test/a.test.crt") {
		t.Error("Delete(dir) left keys behind")
	}
	list("certificates/ca", false, "certificates/ca/b.test")
	if err := s.Delete(ctx, "top"); err != nil || s.Exists(ctx, "top") {
		t.Errorf("Delete(file) = %v; exists afterwards: %v", err, s.Exists(ctx, "top"))
	}
	if err := s.Delete(ctx, "never/was"); err != nil {
		t.Errorf("Delete(missing) = %v, want nil", err)
	}
	if _, err := s.Stat(ctx, "top"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat after Delete: %v, want fs.ErrNotExist (metadata must go too)", err)
	}

	if st, err := s.Stat(ctx, ""); err != nil || st.IsTerminal {
		t.Errorf("Stat(root) = %+v, %v; want a directory", st, err)
	}
	if err := s.Delete(ctx, ""); err == nil || !s.Exists(ctx, "certificates") {
		t.Errorf("Delete(\"\") = %v; want refused, with the data kept", err)
	}

	// Another store on the same prefix sees the same data.
	s2 := newStore(t, te, "r2")
	if got, err := s2.Load(ctx, "certificates/ca/b.test/b.test.crt"); err != nil || string(got) != "cert b" {
		t.Errorf("second store Load = %q, %v", got, err)
	}
}

// TestConcurrentStores: concurrent writers to one key never leave a
// mixed value, and Load returns one of them whole.
func TestConcurrentStores(t *testing.T) {
	te := startEtcd(t)
	s := newStore(t, te, "r1")
	ctx := t.Context()
	var wg sync.WaitGroup
	values := make([][]byte, 16)
	for i := range values {
		values[i] = bytes.Repeat([]byte{byte('a' + i)}, 64*1024)
		wg.Go(func() {
			if err := s.Store(ctx, "shared/key", values[i]); err != nil {
				t.Errorf("Store: %v", err)
			}
		})
	}
	wg.Wait()
	got, err := s.Load(ctx, "shared/key")
	if err != nil || !slices.ContainsFunc(values, func(v []byte) bool { return bytes.Equal(v, got) }) {
		t.Errorf("Load = %d bytes, %v; want one stored value whole", len(got), err)
	}
	st, err := s.Stat(ctx, "shared/key")
	if err != nil || st.Size != int64(len(got)) {
		t.Errorf("Stat = %+v, %v", st, err)
	}
}

// TestValueSizeLimit: the largest value allowed fits etcd's default
// request limit; one byte more is refused with a clear error.
func TestValueSizeLimit(t *testing.T) {
	te := startEtcd(t)
	s := newStore(t, te, "r1")
	ctx := t.Context()
	big := bytes.Repeat([]byte("x"), MaxValueSize)
	if err := s.Store(ctx, "certificates/ca/big.test/big.test.crt", big); err != nil {
		t.Fatalf("Store(MaxValueSize) = %v; etcd should accept it", err)
	}
	err := s.Store(ctx, "too/big", append(big, 'x'))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Store(MaxValueSize+1) = %v, want ErrTooLarge", err)
	}
	t.Logf("refused: %v", err)
	if s.Exists(ctx, "too/big") {
		t.Error("a refused value was stored")
	}
	if !s.Status().Healthy {
		t.Error("a refused value marked etcd unhealthy")
	}
}

// TestLockContention: goroutines in several instances (each with its
// own client and session) fight over one lock; exactly one holds it at
// any time, and every one of them gets it.
func TestLockContention(t *testing.T) {
	te := startEtcd(t)
	const stores, perStore, rounds = 3, 4, 3
	var inside, maxInside, total atomic.Int32
	var wg sync.WaitGroup
	for i := range stores {
		s := newStore(t, te, fmt.Sprintf("r%d", i))
		for range perStore {
			wg.Go(func() {
				for range rounds {
					ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
					if err := s.Lock(ctx, "issue_cert_contended.test"); err != nil {
						cancel()
						t.Errorf("Lock: %v", err)
						return
					}
					n := inside.Add(1)
					for m := maxInside.Load(); n > m && !maxInside.CompareAndSwap(m, n); m = maxInside.Load() {
					}
					time.Sleep(5 * time.Millisecond)
					inside.Add(-1)
					total.Add(1)
					if err := s.Unlock(ctx, "issue_cert_contended.test"); err != nil {
						t.Errorf("Unlock: %v", err)
					}
					cancel()
				}
			})
		}
	}
	wg.Wait()
	if m := maxInside.Load(); m != 1 {
		t.Errorf("at most %d holders at once, want 1", m)
	}
	if n := total.Load(); n != stores*perStore*rounds {
		t.Errorf("%d critical sections ran, want %d", n, stores*perStore*rounds)
	}
	s := newStore(t, te, "check")
	if n := lockKeys(t, s); n != 0 {
		t.Errorf("%d lock keys left, want 0", n)
	}
}

// TestUnlockByHolderOnly: another instance can neither release nor take
// a held lock; TryLock says so without waiting.
func TestUnlockByHolderOnly(t *testing.T) {
	te := startEtcd(t)
	a, b := newStore(t, te, "a"), newStore(t, te, "b")
	ctx := t.Context()
	const name = "issue_cert_held.test"
	if err := a.Lock(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := b.Unlock(ctx, name); !errors.Is(err, ErrNotLocked) {
		t.Errorf("Unlock by a non-holder = %v, want ErrNotLocked", err)
	}
	if ok, err := b.TryLock(ctx, name); ok || err != nil {
		t.Errorf("TryLock while held elsewhere = %v, %v; want false, nil", ok, err)
	}
	if ok, err := a.TryLock(ctx, name); ok || err != nil {
		t.Errorf("TryLock while held in this instance = %v, %v; want false, nil", ok, err)
	}
	if n := lockKeys(t, a); n != 1 {
		t.Errorf("%d lock keys, want the holder's only", n)
	}
	eventually(t, 5*time.Second, "the holder in the status", func() bool {
		l, ok := b.Status().Holder("held.test")
		return ok && l.Held && l.Replica == "a"
	})
	if err := a.Unlock(ctx, name); err != nil {
		t.Fatalf("Unlock by the holder: %v", err)
	}
	if err := a.Unlock(ctx, name); !errors.Is(err, ErrNotLocked) {
		t.Errorf("second Unlock = %v, want ErrNotLocked", err)
	}
	eventually(t, 5*time.Second, "the release in the status", func() bool {
		l, ok := b.Status().Holder("held.test")
		return ok && !l.Held && l.Replica == "a" && !l.Released.IsZero()
	})
	if ok, err := b.TryLock(ctx, name); !ok || err != nil {
		t.Fatalf("TryLock after release = %v, %v; want true", ok, err)
	}
	if err := b.RenewLockLease(ctx, name, time.Minute); err != nil {
		t.Errorf("RenewLockLease by the holder: %v", err)
	}
	if err := a.RenewLockLease(ctx, name, time.Minute); !errors.Is(err, ErrNotLocked) {
		t.Errorf("RenewLockLease by a non-holder = %v, want ErrNotLocked", err)
	}
	if err := b.Unlock(ctx, name); err != nil {
		t.Fatal(err)
	}
}

// TestDeadHolderLeaseExpires: a holder that dies without unlocking
// blocks the lock only until its session lease expires.
func TestDeadHolderLeaseExpires(t *testing.T) {
	te := startEtcd(t)
	dead, alive := newStore(t, te, "dead"), newStore(t, te, "alive")
	ctx := t.Context()
	const name = "issue_cert_dead.test"
	if err := dead.Lock(ctx, name); err != nil {
		t.Fatal(err)
	}
	crash(dead)
	start := time.Now()
	lctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := alive.Lock(lctx, name); err != nil {
		t.Fatalf("Lock after the holder died: %v", err)
	}
	waited := time.Since(start)
	t.Logf("lock taken over %v after the holder died (LockTTL 2s)", waited.Round(10*time.Millisecond))
	if waited < time.Second {
		t.Errorf("took the lock after %v: the dead holder's lease should hold it for about LockTTL", waited)
	}
	eventually(t, 5*time.Second, "the new holder in the status", func() bool {
		l, ok := alive.Status().Holder("dead.test")
		return ok && l.Held && l.Replica == "alive"
	})
	if err := alive.Unlock(ctx, name); err != nil {
		t.Fatal(err)
	}
	if n := lockKeys(t, alive); n != 0 {
		t.Errorf("%d lock keys left, want 0", n)
	}
}

// TestCloseReleasesLocks: a clean shutdown revokes the session, so the
// next holder does not wait for the lease.
func TestCloseReleasesLocks(t *testing.T) {
	te := startEtcd(t)
	a, b := newStore(t, te, "a"), newStore(t, te, "b")
	ctx := t.Context()
	if err := a.Lock(ctx, "issue_cert_close.test"); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if ok, err := b.TryLock(ctx, "issue_cert_close.test"); !ok || err != nil {
		t.Errorf("TryLock right after the holder closed = %v, %v; want true", ok, err)
	}
	if err := a.Store(ctx, "k", []byte("v")); !errors.Is(err, ErrClosed) {
		t.Errorf("Store after Close = %v, want ErrClosed", err)
	}
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
	eventually(t, 5*time.Second, "an unhealthy status", func() bool {
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

	eventually(t, 5*time.Second, "the stale key removed", func() bool { return lockKeys(t, s) == 0 })
	if ok, err := other.TryLock(ctx, name); !ok || err != nil {
		t.Fatalf("TryLock by another instance = %v, %v; want the lock free", ok, err)
	}
	if err := other.Unlock(ctx, name); err != nil {
		t.Fatal(err)
	}
}
