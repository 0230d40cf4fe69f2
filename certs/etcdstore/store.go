package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/rancher-edge/edge/certs/etcdstore/internal/etcdjson"
)

// Errors callers can match with errors.Is.
var (
	// ErrUnavailable wraps every failure to reach etcd in time.
	ErrUnavailable = errors.New("etcd is unavailable")
	// ErrTooLarge is returned by Store for values over MaxValueSize.
	ErrTooLarge = errors.New("value too large for etcd")
	// ErrNotLocked is returned by Unlock for a lock this instance does
	// not hold.
	ErrNotLocked = errors.New("lock not held by this instance")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("etcdstore: store is closed")
)

// MaxValueSize is the largest value Store accepts: etcd refuses requests
// over 1.5 MiB by default (--max-request-bytes), and a store request
// also carries the keys and the metadata record.
const MaxValueSize = 1536*1024 - 8*1024

// Store is a certmagic.Storage, Locker and TryLocker on etcd v3. Values
// live under <prefix>/data/, their modification times under
// <prefix>/meta/, lock waiters under <prefix>/locks/<name>/ (keys bound
// to this instance's session lease) and the last holder of each lock
// under <prefix>/holders/<name>.
//
// Its lifecycle is [New], then use, then [Store.Close]. All methods are
// safe for concurrent use.
type Store struct {
	cfg Config
	log *slog.Logger

	// ctx ends the status loop and the lock sessions' keep-alives.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	sessMu sync.Mutex // serializes creating the lock session

	mu     sync.Mutex
	closed bool
	cli    *etcdjson.Client
	sess   *session
	held   map[string]*heldLock // by lock name
	stale  map[string]staleKey  // by lock name; see cleanStale
	gates  map[string]*gate     // by lock name; serializes this process

	health health
}

// New builds a Store from cfg. It does not wait for etcd: the client
// connects on first use and the status loop starts in the background,
// so an unreachable cluster never delays start-up.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults(os.Hostname)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		cfg:    cfg,
		log:    cfg.Logger.With("component", "certs.etcdstore"),
		ctx:    ctx,
		cancel: cancel,
		held:   map[string]*heldLock{},
		stale:  map[string]staleKey{},
		gates:  map[string]*gate{},
		cli: etcdjson.New(etcdjson.Config{
			Endpoints: cfg.Endpoints, TLS: cfg.TLS,
			Username: cfg.Username, Password: cfg.Password,
			DialTimeout: cfg.DialTimeout,
		}),
	}
	s.health.since = time.Now()
	s.wg.Go(s.statusLoop)
	return s, nil
}

// String names the store without credentials; certmagic logs storages
// with it.
func (s *Store) String() string {
	return "etcd" + fmt.Sprint(s.cfg.Endpoints) + s.cfg.Prefix
}

// Close releases this instance's locks at once (by revoking its session
// lease), stops the background work and closes the client. It is safe to
// call more than once.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	cli, sess := s.cli, s.sess
	s.held = map[string]*heldLock{}
	s.mu.Unlock()

	var err error
	if sess != nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
		if rerr := cli.Revoke(ctx, sess.lease); rerr != nil {
			// The lease then expires by itself after LockTTL.
			err = fmt.Errorf("etcdstore: revoking the lock session: %w", rerr)
		}
		cancel()
	}
	s.cancel()
	s.wg.Wait()
	cli.Close()
	return err
}

// client returns the etcd client, or ErrClosed after Close.
func (s *Store) client() (*etcdjson.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	return s.cli, nil
}

// session returns this instance's live lock session, granting a new
// lease when there is none or the last one expired (etcd was out of
// reach for longer than LockTTL). The grant is bounded by
// RequestTimeout; the keep-alives run until Close.
func (s *Store) session(ctx context.Context) (*session, error) {
	// One grant at a time, so that racing lockers share one lease.
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	if sess != nil && !isDone(sess.Done()) {
		return sess, nil
	}
	if sess != nil {
		s.warnLost(sess)
	}
	cli, err := s.client()
	if err != nil {
		return nil, err
	}
	ttl := max(s.cfg.LockTTL.Round(time.Second), time.Second)
	gctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	lease, err := cli.Grant(gctx, int64(ttl/time.Second))
	cancel()
	if err != nil {
		return nil, s.fail(ctx, "granting a lock lease", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		// Close revokes only the session it saw; this lease expires.
		return nil, ErrClosed
	}
	s.sess = s.startSession(lease, ttl)
	return s.sess, nil
}

// warnLost reports the locks that went with an expired session: their
// holders may still be working, and another replica may now hold them.
func (s *Store) warnLost(sess *session) {
	s.mu.Lock()
	var names []string
	for name, h := range s.held {
		if h.sess == sess {
			names = append(names, name)
		}
	}
	s.mu.Unlock()
	if len(names) > 0 {
		s.log.Warn("lock session expired while holding locks; etcd was out of reach for longer than the lock TTL",
			"locks", names, "lock_ttl", s.cfg.LockTTL)
	}
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// do runs one etcd request with RequestTimeout, recording the outcome in
// the store's health. what describes the operation for errors.
func (s *Store) do(ctx context.Context, what string, f func(context.Context, *etcdjson.Client) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("etcdstore: %s: %w", what, err)
	}
	cli, err := s.client()
	if err != nil {
		s.health.record(err)
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	if err := f(rctx, cli); err != nil {
		return s.fail(ctx, what, err)
	}
	s.health.record(nil)
	return nil
}

// fail wraps an etcd error. Unless the caller gave up (ctx done), it is
// an outage: it marks the store unhealthy and wraps ErrUnavailable.
func (s *Store) fail(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("etcdstore: %s: %w", what, ctx.Err())
	}
	if errors.Is(err, context.Canceled) && s.ctx.Err() != nil {
		return ErrClosed
	}
	wrapped := fmt.Errorf("etcdstore: %s: %w: %w", what, ErrUnavailable, err)
	s.health.record(wrapped)
	return wrapped
}

// Key layout under the prefix.
func (s *Store) dataKey(key string) string  { return s.cfg.Prefix + "/data/" + cleanKey(key) }
func (s *Store) metaKey(key string) string  { return s.cfg.Prefix + "/meta/" + cleanKey(key) }
func (s *Store) lockPrefix(n string) string { return s.cfg.Prefix + "/locks/" + n }
func (s *Store) holderKey(n string) string  { return s.cfg.Prefix + "/holders/" + n }

// cleanKey drops leading and trailing slashes: certmagic keys are
// relative paths, and "a/" names the same directory as "a".
func cleanKey(key string) string { return strings.Trim(key, "/") }

var (
	_ certmagic.Storage          = (*Store)(nil)
	_ certmagic.TryLocker        = (*Store)(nil)
	_ certmagic.LockLeaseRenewer = (*Store)(nil)
)
