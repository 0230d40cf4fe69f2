package file

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

// running is a provider started in the background for one test.
type running struct {
	p     *Provider
	snaps chan route.Snapshot
	done  chan error
}

func start(t *testing.T, cfg Config) *running {
	t.Helper()
	if cfg.Poll == 0 {
		cfg.Poll = 20 * time.Millisecond
	}
	cfg.ExposedByDefault = true
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{p: p, snaps: make(chan route.Snapshot, 16), done: make(chan error, 1)}
	go func() { r.done <- p.Run(ctx, func(s route.Snapshot) { r.snaps <- s }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run() = %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return r
}

// next waits for a snapshot.
func (r *running) next(t *testing.T) route.Snapshot {
	t.Helper()
	select {
	case s := <-r.snaps:
		return s
	case <-time.After(5 * time.Second):
		t.Fatalf("no snapshot within 5s; status %+v", r.p.Status())
		return route.Snapshot{}
	}
}

// none checks that nothing is published for a while.
func (r *running) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case s := <-r.snaps:
		t.Fatalf("unexpected snapshot %+v", s)
	case <-time.After(d):
	}
}

// eventually waits until cond holds on the status.
func (r *running) eventually(t *testing.T, what string, cond func(route.ProviderStatus) bool) route.ProviderStatus {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := r.p.Status()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never %s: %+v", what, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func rulesOf(s route.Snapshot) string {
	var rules []string
	for _, svc := range s.Services {
		rules = append(rules, svc.Rule)
	}
	return strings.Join(rules, ",")
}

func TestRunLifecycle(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "routes.yaml")
	writeFile(t, path, whoami)
	var logs syncBuffer
	r := start(t, Config{Path: path, Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	first := r.next(t)
	if rulesOf(first) != "Host:whoami.example.com" {
		t.Fatalf("first snapshot rules = %q", rulesOf(first))
	}
	st := r.p.Status()
	if st.Name != "file" || st.Endpoint != path || st.Mode != "watching" || st.Routes != 1 || st.Services != 1 ||
		st.Containers != 3 || st.LastError != "" || st.LastSuccess.IsZero() || st.Syncs == 0 {
		t.Errorf("status after first load = %+v", st)
	}

	// A rewrite is published.
	writeFile(t, path, strings.Replace(whoami, "whoami.example.com", "who.example.com", 1))
	if got := rulesOf(r.next(t)); got != "Host:who.example.com" {
		t.Fatalf("rules after rewrite = %q", got)
	}

	// Garbage keeps the previous routes and says why.
	writeFile(t, path, "services:\n  - name: x\n    bogus: true\n")
	st = r.eventually(t, "in error", func(s route.ProviderStatus) bool { return s.LastError != "" })
	if !strings.Contains(st.LastError, "line 3: field bogus not found") || st.ErrorSince.IsZero() || st.Errors == 0 || st.Routes != 1 {
		t.Errorf("status after garbage = %+v", st)
	}
	r.none(t, 200*time.Millisecond)
	since := st.ErrorSince
	if st = r.p.Status(); !st.ErrorSince.Equal(since) {
		t.Errorf("ErrorSince moved from %v to %v while the error persisted", since, st.ErrorSince)
	}

	// Fixing it recovers.
	writeFile(t, path, whoami)
	if got := rulesOf(r.next(t)); got != "Host:whoami.example.com" {
		t.Fatalf("rules after fix = %q", got)
	}
	st = r.eventually(t, "healthy", func(s route.ProviderStatus) bool { return s.LastError == "" })
	if !st.ErrorSince.IsZero() {
		t.Errorf("ErrorSince = %v after recovery", st.ErrorSince)
	}

	// The broken file was logged once, not once per poll.
	if n := strings.Count(logs.String(), "field bogus not found"); n != 1 {
		t.Errorf("parse error logged %d times, want 1:\n%s", n, logs.String())
	}
}

func TestRunKeepsRoutesWhenFileVanishes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "routes.yaml")
	writeFile(t, path, whoami)
	r := start(t, Config{Path: path})
	r.next(t)

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	r.eventually(t, "in error", func(s route.ProviderStatus) bool { return strings.Contains(s.LastError, "reading routes file") })
	r.none(t, 100*time.Millisecond)

	// The same content coming back clears the error without republishing.
	writeFile(t, path, whoami)
	r.eventually(t, "healthy", func(s route.ProviderStatus) bool { return s.LastError == "" })
	r.none(t, 100*time.Millisecond)
}

func TestRunMissingAtStart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "routes.yaml")
	r := start(t, Config{Path: path})
	r.eventually(t, "in error", func(s route.ProviderStatus) bool { return s.LastError != "" })
	r.none(t, 100*time.Millisecond)
	writeFile(t, path, whoami)
	if got := rulesOf(r.next(t)); got != "Host:whoami.example.com" {
		t.Fatalf("rules = %q", got)
	}
}

func TestRunFollowsSymlinkSwap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The layout Kubernetes and Rancher secrets use: a link to a
	// versioned directory, swapped atomically.
	for _, v := range []string{"v1", "v2"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "v1", "routes.yaml"), whoami)
	writeFile(t, filepath.Join(dir, "v2", "routes.yaml"), strings.Replace(whoami, "whoami.example.com", "v2.example.com", 1))
	if err := os.Symlink("v1", filepath.Join(dir, "current")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "current", "routes.yaml")
	r := start(t, Config{Path: path})
	if got := rulesOf(r.next(t)); got != "Host:whoami.example.com" {
		t.Fatalf("rules = %q", got)
	}
	if err := os.Symlink("v2", filepath.Join(dir, "next")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "next"), filepath.Join(dir, "current")); err != nil {
		t.Fatal(err)
	}
	if got := rulesOf(r.next(t)); got != "Host:v2.example.com" {
		t.Fatalf("rules after swap = %q", got)
	}
}

func TestRunIgnoresCosmeticEdits(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "routes.yaml")
	writeFile(t, path, whoami)
	r := start(t, Config{Path: path})
	r.next(t)
	writeFile(t, path, "# only a comment is new\n"+whoami)
	r.none(t, 200*time.Millisecond)
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string
	}{
		{name: "valid", cfg: Config{Path: "/x"}},
		{name: "everything wrong", cfg: Config{Poll: -time.Second, Domain: "bad/domain"},
			wantErr: []string{"path is empty", "poll interval -1s is negative", `domain "bad/domain"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := New(tt.cfg)
			if len(tt.wantErr) == 0 {
				if err != nil || p.Name() != "file" || p.poll != time.Second {
					t.Fatalf("New() = %v, %v", p, err)
				}
				return
			}
			if err == nil {
				t.Fatal("New() accepted a bad config")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New() error = %v, want %q", err, w)
				}
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A sync is a read that saw new content: polls of an unchanged file, good
// or broken, move the attempt's time but count nothing, so
// edge_discovery_syncs_total means what it says.
func TestUnchangedPollsAreNotSyncs(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "routes.yaml")
	writeFile(t, path, whoami)
	r := start(t, Config{Path: path})
	r.next(t)
	first := r.p.Status()
	time.Sleep(200 * time.Millisecond) // about ten polls
	st := r.p.Status()
	if st.Syncs != 1 || st.Errors != 0 {
		t.Errorf("after ten unchanged polls: %d syncs, %d errors; want 1, 0", st.Syncs, st.Errors)
	}
	if !st.LastSync.After(first.LastSync) || !st.LastSuccess.After(first.LastSuccess) {
		t.Errorf("unchanged polls did not stamp the attempt: %v → %v", first.LastSync, st.LastSync)
	}

	writeFile(t, path, "services: [\n")
	r.eventually(t, "in error", func(s route.ProviderStatus) bool { return s.LastError != "" })
	time.Sleep(200 * time.Millisecond)
	if st = r.p.Status(); st.Errors != 1 || st.Syncs != 1 {
		t.Errorf("a broken file polled ten times: %d errors, %d syncs; want 1, 1", st.Errors, st.Syncs)
	}
	writeFile(t, path, strings.Replace(whoami, "whoami.example.com", "who.example.com", 1))
	r.next(t)
	if st = r.p.Status(); st.Syncs != 2 {
		t.Errorf("after a real change: %d syncs, want 2", st.Syncs)
	}
}
