package storagetest

import (
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
)

// Store is what a backend's store offers: certmagic's storage and
// locks, and a Close that releases this instance's locks.
type Store interface {
	certmagic.Storage
	certmagic.TryLocker
	certmagic.LockLeaseRenewer
	Close() error
}

// Lock is what a backend's status says about one certificate's lock.
type Lock struct {
	Replica  string // "" if the holder has not recorded itself
	Held     bool
	Released time.Time // zero while held, and when the holder died
}

// Backend describes one storage backend to the suite. Every store that
// Open returns within one test shares the same data; stores of
// different tests never do.
type Backend struct {
	// Open returns a new store instance named replica (its own client
	// and lock identity), closed when the test ends.
	Open func(t testing.TB, replica string) Store
	// Crash stops s as a killed process would: nothing it holds is
	// released, so its locks stay until their lease expires.
	Crash func(s Store)
	// LockTTL is how long a crashed instance's locks stay held.
	LockTTL time.Duration
	// MaxValueSize is the largest value Store accepts; ErrTooLarge is
	// what it returns for one byte more.
	MaxValueSize int
	ErrTooLarge  error
	// ErrNotLocked is returned by Unlock and RenewLockLease for a lock
	// the instance does not hold; ErrClosed by Store after Close.
	ErrNotLocked, ErrClosed error
	// Holder reads the lock of a certificate subject from s's status;
	// the status may lag by its probe interval.
	Holder func(s Store, subject string) (Lock, bool)
	// Healthy, if set, reports whether s sees its backend answering.
	Healthy func(s Store) bool
	// LocksLeft counts the locks held in the backend, by anyone.
	LocksLeft func(t testing.TB, s Store) int
}

// Eventually polls cond every 50 ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Logger discards unless EDGE_STORAGE_TEST_LOG is set: certmagic and the
// stores may log after a test has ended.
func Logger() *slog.Logger {
	if os.Getenv("EDGE_STORAGE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
