package secrets

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// watch starts a Watcher over paths and returns a channel of the changes
// it reports.
func watch(t *testing.T, r Resolver, paths ...string) <-chan []string {
	t.Helper()
	var files []Value
	for _, p := range paths {
		v, err := r.Resolve("W", p, true)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, v)
	}
	ch := make(chan []string, 16)
	w, err := NewWatcher(WatchConfig{
		Files:    files,
		Interval: 10 * time.Millisecond,
		Resolver: r,
		OnChange: func(p []string) { ch <- p },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := w.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		_ = w.Close()
	})
	return ch
}

func wantChange(t *testing.T, ch <-chan []string, path string) {
	t.Helper()
	select {
	case got := <-ch:
		if !slices.Contains(got, path) {
			t.Fatalf("changed %v, want %s", got, path)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no change reported for %s", path)
	}
}

func wantQuiet(t *testing.T, ch <-chan []string) {
	t.Helper()
	select {
	case got := <-ch:
		t.Fatalf("unexpected change %v", got)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestWatcherInPlace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := writeFile(t, filepath.Join(dir, "crt"), "one\n")
	ch := watch(t, Resolver{Dir: dir}, p)
	wantQuiet(t, ch)

	// Only a trailing newline: the resolved value is the same. Written
	// through a rename so that no poll sees a half-written file.
	writeFile(t, p+".tmp", "one")
	if err := os.Rename(p+".tmp", p); err != nil {
		t.Fatal(err)
	}
	wantQuiet(t, ch)

	writeFile(t, p, "two")
	wantChange(t, ch, p)

	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	wantChange(t, ch, p) // became unreadable
	writeFile(t, p, "two")
	wantChange(t, ch, p) // readable again
}

// TestWatcherSymlinkSwap rotates the way Kubernetes' atomic writer does:
// dir/crt -> ..data/crt, ..data -> ..v1, then ..data is renamed over by a
// link to ..v2.
func TestWatcherSymlinkSwap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "..v1", "crt"), "one")
	if err := os.Symlink("..v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "crt")
	if err := os.Symlink(filepath.Join("..data", "crt"), p); err != nil {
		t.Fatal(err)
	}
	ch := watch(t, Resolver{Dir: dir}, p)
	wantQuiet(t, ch)

	writeFile(t, filepath.Join(dir, "..v2", "crt"), "two")
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink("..v2", tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	wantChange(t, ch, p)
}

func TestWatcherConfig(t *testing.T) {
	t.Parallel()
	if _, err := NewWatcher(WatchConfig{}); err == nil {
		t.Fatal("missing OnChange accepted")
	}
	w, err := NewWatcher(WatchConfig{
		Files:    []Value{{Kind: Literal}, {Kind: File, Path: "/a"}, {Kind: File, Path: "/a"}},
		OnChange: func([]string) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Paths(); !slices.Equal(got, []string{"/a"}) {
		t.Errorf("Paths = %v", got)
	}
	// Close before Run makes Run return at once.
	_ = w.Close()
	_ = w.Close()
	if err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}
