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
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
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

// maxReconnectDelay caps the wait between attempts to reach etcd again.
const maxReconnectDelay = 2 * time.Second

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

	// ctx ends the status loop and the lock session's keep-alives.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	sessMu sync.Mutex // serializes creating the lock session

	mu     sync.Mutex
	closed bool
	cli    *clientv3.Client
	sess   *concurrency.Session
	held   map[string]*heldLock // by lock name
	stale  map[string]staleKey  // by lock name; see cleanStale
	gates  map[string]*gate     // by lock name; serializes this process

	health health
}

// New builds a Store from cfg. It does not wait for etcd: the client is
// created on first use and the status loop starts in the background, so
// an unreachable cluster never delays start-up.
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
		if _, rerr := cli.Revoke(ctx, sess.Lease()); rerr != nil {
			// The lease then expires by itself after LockTTL.
			err = fmt.Errorf("etcdstore: revoking the lock session: %w", rerr)
		}
		cancel()
	}
	s.cancel()
	s.wg.Wait()
	if cli != nil {
		if cerr := cli.Close(); cerr != nil && !errors.Is(cerr, context.Canceled) {
			err = errors.Join(err, fmt.Errorf("etcdstore: closing the etcd client: %w", cerr))
		}
	}
	return err
}

// client returns the etcd client, creating it on first use. Creating it
// only dials in the background, except with authentication, where it
// fetches a token within DialTimeout.
func (s *Store) client() (*clientv3.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.cli != nil {
		return s.cli, nil
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   s.cfg.Endpoints,
		DialTimeout: s.cfg.DialTimeout,
		TLS:         s.cfg.TLS,
		Username:    s.cfg.Username,
		Password:    s.cfg.Password,
		Context:     s.ctx,
		// The client logs every retry at warn level; failures reach
		// the caller as errors and Status instead.
		Logger: zap.NewNop(),
		// Values up to MaxValueSize plus framing must fit.
		MaxCallSendMsgSize: 2 * 1024 * 1024,
		// Notice a silently dead connection (a host gone without a
		// reset) within about a request timeout; etcd refuses pings
		// more often than every 5 s.
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: s.cfg.RequestTimeout,
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			// gRPC's default backoff grows to 2 minutes, so after a
			// long outage the edge would notice etcd's return late;
			// reconnecting every few seconds costs nothing.
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: maxReconnectDelay},
			MinConnectTimeout: s.cfg.DialTimeout,
		})},
	})
	if err != nil {
		return nil, fmt.Errorf("etcdstore: connecting to %v: %w: %w", s.cfg.Endpoints, ErrUnavailable, err)
	}
	s.cli = cli
	return cli, nil
}

// session returns this instance's live lock session, granting a new
// lease when there is none or the last one expired (etcd was out of
// reach for longer than LockTTL). The grant is bounded by
// RequestTimeout; the keep-alives run until Close.
func (s *Store) session(ctx context.Context) (*concurrency.Session, error) {
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
	ttl := int(max(s.cfg.LockTTL.Seconds(), 1))
	gctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	lease, err := cli.Grant(gctx, int64(ttl))
	cancel()
	if err != nil {
		return nil, s.fail(ctx, "granting a lock lease", err)
	}
	sess, err = concurrency.NewSession(cli, concurrency.WithTTL(ttl), concurrency.WithLease(lease.ID), concurrency.WithContext(s.ctx))
	if err != nil {
		return nil, s.fail(ctx, "starting the lock session", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		sess.Orphan() // Close revokes only the session it saw
		return nil, ErrClosed
	}
	s.sess = sess
	return sess, nil
}

// warnLost reports the locks that went with an expired session: their
// holders may still be working, and another replica may now hold them.
func (s *Store) warnLost(sess *concurrency.Session) {
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
func (s *Store) do(ctx context.Context, what string, f func(context.Context, *clientv3.Client) error) error {
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
