package middleware

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FileReader reads a file a label names — a path in the container or a
// secret alias — through the secrets rules (secrets.Resolver). Errors name
// the file, never its content.
type FileReader func(ref string) ([]byte, error)

// AuthOptions are what the authentication middlewares need beyond their
// route.* configuration.
type AuthOptions struct {
	// ReadFile reads users files. Nil refuses every users file, so a route
	// that names one fails to compile rather than serving unprotected.
	ReadFile FileReader

	// Logger reports a users file that changed into something unusable
	// (the last good users stay in force). Nil discards.
	Logger *slog.Logger

	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// usersRecheck is how often a users file is looked at again. The check
// runs on the request that finds it due (one at a time, the others go on
// with the current users), so an idle route costs nothing.
const usersRecheck = time.Second

// liveUsers holds the users of one authentication middleware: the label's
// lines plus a users file's, rebuilt into T when the file's content
// changes. A file that becomes unreadable or invalid keeps the last good
// users: authentication goes on, and the problem is logged.
type liveUsers[T any] struct {
	inline []string
	file   string
	read   FileReader
	build  func(lines []string) (*T, error)
	log    *slog.Logger
	now    func() time.Time

	cur  atomic.Pointer[T]
	due  atomic.Int64 // unix nanoseconds of the next check
	mu   sync.Mutex   // one reload at a time; guards sum
	sum  [sha256.Size]byte
	what string // for messages: "basic auth users file"
}

var errNoReader = errors.New("no reader for users files is configured")

func newLiveUsers[T any](what string, inline []string, file string, opts AuthOptions, build func([]string) (*T, error)) (*liveUsers[T], error) {
	l := &liveUsers[T]{inline: inline, file: file, read: opts.ReadFile, build: build, log: opts.Logger, now: opts.Now, what: what}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if file == "" {
		u, err := build(inline)
		if err != nil {
			return nil, err
		}
		l.cur.Store(u)
		return l, nil
	}
	if l.read == nil {
		return nil, fmt.Errorf("%s %q: %w", what, file, errNoReader)
	}
	data, err := l.read(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	u, err := l.buildFrom(data)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", what, file, err)
	}
	l.cur.Store(u)
	l.sum = sha256.Sum256(data)
	l.due.Store(l.now().Add(usersRecheck).UnixNano())
	return l, nil
}

// get returns the current users, re-reading the file when a check is due.
func (l *liveUsers[T]) get() *T {
	if l.file != "" {
		if now := l.now(); now.UnixNano() >= l.due.Load() && l.mu.TryLock() {
			l.due.Store(now.Add(usersRecheck).UnixNano())
			l.reload()
			l.mu.Unlock()
		}
	}
	return l.cur.Load()
}

// reload runs with mu held.
func (l *liveUsers[T]) reload() {
	data, err := l.read(l.file)
	if err != nil {
		l.log.Warn(l.what+" unreadable; keeping the last good users", "file", l.file, "error", err)
		return
	}
	sum := sha256.Sum256(data)
	if sum == l.sum {
		return
	}
	u, err := l.buildFrom(data)
	if err != nil {
		l.log.Warn(l.what+" changed but is not usable; keeping the last good users", "file", l.file, "error", err)
		return
	}
	l.sum = sum
	l.cur.Store(u)
	l.log.Info(l.what+" re-read", "file", l.file)
}

func (l *liveUsers[T]) buildFrom(data []byte) (*T, error) {
	return l.build(append(append([]string(nil), l.inline...), fileLines(data)...))
}

// fileLines is Traefik's users-file reading: one entry per line, blank
// lines and lines starting with # skipped.
func fileLines(data []byte) []string {
	var out []string
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if s != "" && !strings.HasPrefix(s, "#") {
			out = append(out, s)
		}
	}
	return out
}
