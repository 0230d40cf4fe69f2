package secrets

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// DefaultPoll is how often a [Watcher] reads its files when
// [WatchConfig.Interval] is zero. Well inside the 5 s in which a rotated
// certificate must be served, and cheap: a few small files a second.
const DefaultPoll = time.Second

// WatchConfig configures a [Watcher].
type WatchConfig struct {
	// Files are the values to watch. Only File values are watched; a file
	// named by several values is read once. The content a value was loaded
	// with is the baseline, so a change between loading and Run is seen on
	// the first poll.
	Files []Value
	// Interval is the time between polls; zero means [DefaultPoll].
	Interval time.Duration
	// Resolver reads the files (its ReadFile); the zero Resolver reads the
	// real file system.
	Resolver Resolver
	// OnChange is called from Run's goroutine, once per poll, with the
	// paths whose content changed, or that became unreadable or readable
	// again. It must not block for long: polling waits for it. Required.
	OnChange func(paths []string)
}

// Validate reports every problem with the configuration.
func (c WatchConfig) Validate() error {
	var errs []error
	if c.OnChange == nil {
		errs = append(errs, errors.New("secrets: WatchConfig.OnChange is required"))
	}
	if c.Interval < 0 {
		errs = append(errs, errors.New("secrets: WatchConfig.Interval must not be negative"))
	}
	return errors.Join(errs...)
}

// Watcher polls secret files and reports when their content changes.
//
// It polls instead of using inotify because the rotations it must see are
// symlink swaps ("..data" pointing at a new directory, as Kubernetes and
// Rancher do it), which change no watched inode, and in-place rewrites on
// volumes where events may not arrive. Reading each path by name and
// comparing a hash sees both.
type Watcher struct {
	cfg   WatchConfig
	paths []string
	// last holds the hash of each path's last seen content; a missing
	// entry means unreadable. Only Run's goroutine touches it.
	last map[string][sha256.Size]byte

	closeOnce sync.Once
	done      chan struct{}
}

// NewWatcher returns a Watcher for cfg. It does no I/O.
func NewWatcher(cfg WatchConfig) (*Watcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultPoll
	}
	w := &Watcher{
		cfg:  cfg,
		last: make(map[string][sha256.Size]byte),
		done: make(chan struct{}),
	}
	for _, v := range cfg.Files {
		if v.Kind != File {
			continue
		}
		if _, seen := w.last[v.Path]; seen {
			continue
		}
		w.paths = append(w.paths, v.Path)
		w.last[v.Path] = v.Sum()
	}
	return w, nil
}

// Paths returns the files being watched.
func (w *Watcher) Paths() []string { return append([]string(nil), w.paths...) }

// Run polls until ctx is done or Close is called, then returns nil. It
// returns at once when there is nothing to watch.
func (w *Watcher) Run(ctx context.Context) error {
	if len(w.paths) == 0 {
		return nil
	}
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.done:
			return nil
		case <-t.C:
		}
		if changed := w.poll(); len(changed) > 0 {
			w.cfg.OnChange(changed)
		}
	}
}

// poll reads every path once and returns those whose state changed.
func (w *Watcher) poll() []string {
	var changed []string
	for _, p := range w.paths {
		old, had := w.last[p]
		v, err := w.cfg.Resolver.readValue("", p)
		if err != nil {
			// Unreadable, e.g. mid-rewrite or removed. Report the
			// transition once; the consumer records the error.
			if had {
				delete(w.last, p)
				changed = append(changed, p)
			}
			continue
		}
		if sum := v.Sum(); !had || sum != old {
			w.last[p] = sum
			changed = append(changed, p)
		}
	}
	return changed
}

// Close stops Run. It is safe to call more than once and before Run.
func (w *Watcher) Close() error {
	w.closeOnce.Do(func() { close(w.done) })
	return nil
}
