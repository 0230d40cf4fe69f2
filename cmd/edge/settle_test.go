package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// TestStartupEndsOnceServingAndPublished: the start-up pages are given
// back once the edge listens and every provider has published, not
// before; a provider that never publishes delays it by the bound only;
// a stop before it never trims.
func TestStartupEndsOnceServingAndPublished(t *testing.T) {
	p := &parts{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	newTest := func(providers int, wait time.Duration) (*startup, chan struct{}, chan struct{}) {
		su := newStartup(providers)
		su.wait = wait
		trimmed := make(chan struct{}, 2)
		su.trim = func() (int64, error) { trimmed <- struct{}{}; return 4096, nil }
		return su, make(chan struct{}), trimmed
	}
	settled := func(su *startup, ready chan struct{}, ctx context.Context) chan struct{} {
		done := make(chan struct{})
		go func() { p.settle(ctx, su, ready); close(done) }()
		return done
	}
	quiet := func(trimmed chan struct{}, what string) {
		t.Helper()
		select {
		case <-trimmed:
			t.Fatalf("trimmed %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}

	t.Run("both providers published", func(t *testing.T) {
		su, ready, trimmed := newTest(2, time.Hour)
		a, b := su.firstOf(), su.firstOf()
		done := settled(su, ready, context.Background())
		a()
		a() // a provider's later snapshots do not count as the other's
		close(ready)
		quiet(trimmed, "with one provider of two yet to publish")
		b()
		<-done
		if len(trimmed) != 1 {
			t.Fatalf("trimmed %d times, want once", len(trimmed))
		}
	})
	t.Run("not before the edge listens", func(t *testing.T) {
		su, ready, trimmed := newTest(1, time.Hour)
		done := settled(su, ready, context.Background())
		su.firstOf()()
		quiet(trimmed, "before the edge listens")
		close(ready)
		<-done
		<-trimmed
	})
	t.Run("a provider that never publishes", func(t *testing.T) {
		su, ready, trimmed := newTest(2, 100*time.Millisecond)
		su.firstOf()()
		close(ready)
		start := time.Now()
		<-settled(su, ready, context.Background())
		<-trimmed
		if waited := time.Since(start); waited < 100*time.Millisecond {
			t.Errorf("trimmed after %v, before the bound", waited)
		}
	})
	t.Run("no providers", func(t *testing.T) {
		su, ready, trimmed := newTest(0, time.Hour)
		close(ready)
		<-settled(su, ready, context.Background())
		<-trimmed
	})
	t.Run("stopped first", func(t *testing.T) {
		su, ready, trimmed := newTest(1, time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		done := settled(su, ready, ctx)
		close(ready)
		cancel()
		<-done
		quiet(trimmed, "after the stop")
	})
}
