package storagetest

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

// Run runs the conformance suite, each test on a fresh backend from
// newBackend (a new etcd, a new namespace).
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	for _, tc := range []struct {
		name string
		f    func(*testing.T, Backend)
	}{
		{"StorageMethods", testStorageMethods},
		{"ConcurrentStores", testConcurrentStores},
		{"ValueSizeLimit", testValueSizeLimit},
		{"LockContention", testLockContention},
		{"UnlockByHolderOnly", testUnlockByHolderOnly},
		{"DeadHolderLeaseExpires", testDeadHolderLeaseExpires},
		{"CloseReleasesLocks", testCloseReleasesLocks},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, newBackend(t)) })
	}
}

// TestStorageMethods exercises every certmagic.Storage method against a
// real etcd, with the semantics certmagic relies on.
func testStorageMethods(t *testing.T, b Backend) {
	s := b.Open(t, "r1")
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
	s2 := b.Open(t, "r2")
	if got, err := s2.Load(ctx, "certificates/ca/b.test/b.test.crt"); err != nil || string(got) != "cert b" {
		t.Errorf("second store Load = %q, %v", got, err)
	}
}

// testConcurrentStores: concurrent writers to one key never leave a
// mixed value, and Load returns one of them whole.
func testConcurrentStores(t *testing.T, b Backend) {
	s := b.Open(t, "r1")
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

// testValueSizeLimit: the largest value allowed fits etcd's default
// request limit; one byte more is refused with a clear error.
func testValueSizeLimit(t *testing.T, b Backend) {
	s := b.Open(t, "r1")
	ctx := t.Context()
	big := bytes.Repeat([]byte("x"), b.MaxValueSize)
	if err := s.Store(ctx, "certificates/ca/big.test/big.test.crt", big); err != nil {
		t.Fatalf("Store(b.MaxValueSize) = %v; etcd should accept it", err)
	}
	err := s.Store(ctx, "too/big", append(big, 'x'))
	if !errors.Is(err, b.ErrTooLarge) {
		t.Fatalf("Store(b.MaxValueSize+1) = %v, want ErrTooLarge", err)
	}
	t.Logf("refused: %v", err)
	if s.Exists(ctx, "too/big") {
		t.Error("a refused value was stored")
	}
	if b.Healthy != nil && !b.Healthy(s) {
		t.Error("a refused value marked the backend unhealthy")
	}
}

// testLockContention: goroutines in several instances (each with its
// own client and session) fight over one lock; exactly one holds it at
// any time, and every one of them gets it.
func testLockContention(t *testing.T, b Backend) {
	const stores, perStore, rounds = 3, 4, 3
	var inside, maxInside, total atomic.Int32
	var wg sync.WaitGroup
	for i := range stores {
		s := b.Open(t, fmt.Sprintf("r%d", i))
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
	s := b.Open(t, "check")
	if n := b.LocksLeft(t, s); n != 0 {
		t.Errorf("%d locks left, want 0", n)
	}
}

// testUnlockByHolderOnly: another instance can neither release nor take
// a held lock; TryLock says so without waiting.
func testUnlockByHolderOnly(t *testing.T, be Backend) {
	a, b := be.Open(t, "a"), be.Open(t, "b")
	ctx := t.Context()
	const name = "issue_cert_held.test"
	if err := a.Lock(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := b.Unlock(ctx, name); !errors.Is(err, be.ErrNotLocked) {
		t.Errorf("Unlock by a non-holder = %v, want ErrNotLocked", err)
	}
	if ok, err := b.TryLock(ctx, name); ok || err != nil {
		t.Errorf("TryLock while held elsewhere = %v, %v; want false, nil", ok, err)
	}
	if ok, err := a.TryLock(ctx, name); ok || err != nil {
		t.Errorf("TryLock while held in this instance = %v, %v; want false, nil", ok, err)
	}
	if n := be.LocksLeft(t, a); n != 1 {
		t.Errorf("%d locks held, want the holder's only", n)
	}
	Eventually(t, 5*time.Second, "the holder in the status", func() bool {
		l, ok := be.Holder(b, "held.test")
		return ok && l.Held && l.Replica == "a"
	})
	if err := a.Unlock(ctx, name); err != nil {
		t.Fatalf("Unlock by the holder: %v", err)
	}
	if err := a.Unlock(ctx, name); !errors.Is(err, be.ErrNotLocked) {
		t.Errorf("second Unlock = %v, want ErrNotLocked", err)
	}
	Eventually(t, 5*time.Second, "the release in the status", func() bool {
		l, ok := be.Holder(b, "held.test")
		return ok && !l.Held && l.Replica == "a" && !l.Released.IsZero()
	})
	if ok, err := b.TryLock(ctx, name); !ok || err != nil {
		t.Fatalf("TryLock after release = %v, %v; want true", ok, err)
	}
	if err := b.RenewLockLease(ctx, name, time.Minute); err != nil {
		t.Errorf("RenewLockLease by the holder: %v", err)
	}
	if err := a.RenewLockLease(ctx, name, time.Minute); !errors.Is(err, be.ErrNotLocked) {
		t.Errorf("RenewLockLease by a non-holder = %v, want ErrNotLocked", err)
	}
	if err := b.Unlock(ctx, name); err != nil {
		t.Fatal(err)
	}
}

// testDeadHolderLeaseExpires: a holder that dies without unlocking
// blocks the lock only until its lease expires.
func testDeadHolderLeaseExpires(t *testing.T, b Backend) {
	dead, alive := b.Open(t, "dead"), b.Open(t, "alive")
	ctx := t.Context()
	const name = "issue_cert_dead.test"
	if err := dead.Lock(ctx, name); err != nil {
		t.Fatal(err)
	}
	b.Crash(dead)
	start := time.Now()
	lctx, cancel := context.WithTimeout(ctx, 5*b.LockTTL+10*time.Second)
	defer cancel()
	if err := alive.Lock(lctx, name); err != nil {
		t.Fatalf("Lock after the holder died: %v", err)
	}
	waited := time.Since(start)
	t.Logf("lock taken over %v after the holder died (LockTTL %v)", waited.Round(10*time.Millisecond), b.LockTTL)
	if waited < b.LockTTL/2 {
		t.Errorf("took the lock after %v: the dead holder's lease should hold it for about LockTTL", waited)
	}
	Eventually(t, 5*time.Second, "the new holder in the status", func() bool {
		l, ok := b.Holder(alive, "dead.test")
		return ok && l.Held && l.Replica == "alive"
	})
	if err := alive.Unlock(ctx, name); err != nil {
		t.Fatal(err)
	}
	if n := b.LocksLeft(t, alive); n != 0 {
		t.Errorf("%d locks left, want 0", n)
	}
}

// testCloseReleasesLocks: a clean shutdown releases the holder's locks, so the
// next holder does not wait for the lease.
func testCloseReleasesLocks(t *testing.T, be Backend) {
	a, b := be.Open(t, "a"), be.Open(t, "b")
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
	if err := a.Store(ctx, "k", []byte("v")); !errors.Is(err, be.ErrClosed) {
		t.Errorf("Store after Close = %v, want ErrClosed", err)
	}
}
