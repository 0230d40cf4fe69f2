package etcdstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rancher-edge/edge/certs/etcdstore/internal/etcdjson"
)

// lockPoll bounds each wait for a held lock's release before Lock tries
// again (releases are watched, so this is only a safety net), and
// retryDelay paces attempts while etcd is unreachable.
const (
	lockPoll   = 10 * time.Second
	retryDelay = time.Second
)

// heldLock is a lock this instance holds.
type heldLock struct {
	mutex  *mutex
	sess   *session
	record string // holder record as written, for the conditional release
}

// staleKey is a lock key whose release failed (etcd unreachable). The
// session keeps its lease alive, so the key would block the name for
// good: the status loop deletes it once etcd answers.
type staleKey struct {
	key string
	rev int64 // creation revision, so that only that very key goes
}

// holderRecord is the side record of who holds or last held a lock.
type holderRecord struct {
	Replica  string    `json:"replica"`
	Lease    string    `json:"lease"` // hex, as in the lock key
	Acquired time.Time `json:"acquired"`
	Released time.Time `json:"released,omitzero"`
}

// Lock acquires the cluster-wide lock name, blocking until it is held or
// ctx is done. While etcd is unreachable it keeps trying: certmagic
// calls Lock before an order and treats an error as a failed order, so
// waiting here is what lets orders resume when etcd is back.
func (s *Store) Lock(ctx context.Context, name string) error {
	// Goroutines of this process share one session, and etcd's mutex is
	// re-entrant per session, so they queue here first.
	if err := s.acquireGate(ctx, name); err != nil {
		return fmt.Errorf("etcdstore: locking %q: %w", name, err)
	}
	warned := false
	for {
		ok, err := s.tryLock(ctx, name)
		if ok {
			return nil
		}
		if ctx.Err() != nil || errors.Is(err, ErrClosed) {
			s.releaseGate(name)
			return fmt.Errorf("etcdstore: locking %q: %w", name, errors.Join(ctx.Err(), err))
		}
		if err != nil {
			if !warned {
				s.log.Warn("waiting for etcd to take a lock", "lock", name, "error", err)
				warned = true
			}
			sleep(ctx, retryDelay)
			continue
		}
		s.waitRelease(ctx, name)
	}
}

// TryLock takes the lock name if nobody holds it, without waiting.
func (s *Store) TryLock(ctx context.Context, name string) (bool, error) {
	if !s.tryGate(name) {
		return false, nil
	}
	ok, err := s.tryLock(ctx, name)
	if !ok {
		s.releaseGate(name)
	}
	return ok, err
}

// tryLock makes one attempt at the etcd mutex and, when it is ours,
// records this replica as the holder. It reports false, nil when another
// instance holds the lock.
func (s *Store) tryLock(ctx context.Context, name string) (bool, error) {
	sess, err := s.session(ctx)
	if err != nil {
		return false, err
	}
	var m *mutex
	locked := false
	err = s.do(ctx, "locking "+name, func(ctx context.Context, cli *etcdjson.Client) error {
		var err error
		m, locked, err = s.tryMutex(ctx, cli, s.lockPrefix(name), sess)
		return err
	})
	if err != nil {
		// The attempt may have left its waiter key behind, which our
		// live session would keep, and which would one day own the lock
		// with nobody to release it.
		s.forget(name, m)
		return false, err
	}
	if !locked {
		return false, nil
	}
	rec, _ := json.Marshal(holderRecord{ // cannot fail
		Replica: s.cfg.Replica, Lease: fmt.Sprintf("%x", sess.lease), Acquired: time.Now().UTC(),
	})
	owned := false
	err = s.do(ctx, "recording the holder of "+name, func(ctx context.Context, cli *etcdjson.Client) error {
		resp, err := cli.Txn(ctx, etcdjson.Txn{
			If:   []etcdjson.Compare{m.isOwner()},
			Then: []etcdjson.Op{etcdjson.Put(s.holderKey(name), string(rec), 0)},
		})
		owned = err == nil && resp.Succeeded
		return err
	})
	if err != nil || !owned {
		// The session expired in between, or etcd went away: the key
		// goes with its lease, or the status loop removes it.
		s.forget(name, m)
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.stale, name)
	s.held[name] = &heldLock{mutex: m, sess: sess, record: string(rec)}
	return true, nil
}

// Unlock releases the lock name. Only the instance holding it can: for
// any other it returns ErrNotLocked and changes nothing.
func (s *Store) Unlock(ctx context.Context, name string) error {
	s.mu.Lock()
	h := s.held[name]
	delete(s.held, name)
	s.mu.Unlock()
	if h == nil {
		return fmt.Errorf("etcdstore: unlocking %q: %w", name, ErrNotLocked)
	}
	defer s.releaseGate(name)

	var rel holderRecord
	_ = json.Unmarshal([]byte(h.record), &rel) // we wrote it
	rel.Released = time.Now().UTC()
	released, _ := json.Marshal(rel)
	// Release even when the caller's work was cancelled.
	ctx = context.WithoutCancel(ctx)
	err := s.do(ctx, "unlocking "+name, func(ctx context.Context, cli *etcdjson.Client) error {
		hk := s.holderKey(name)
		_, err := cli.Txn(ctx, etcdjson.Txn{
			If:   []etcdjson.Compare{etcdjson.ValueEquals(hk, h.record)},
			Then: []etcdjson.Op{etcdjson.Delete(h.mutex.key), etcdjson.Put(hk, string(released), 0)},
			Else: []etcdjson.Op{etcdjson.Delete(h.mutex.key)},
		})
		return err
	})
	if err != nil {
		s.forget(name, h.mutex)
	}
	return err
}

// RenewLockLease confirms that this instance still holds lockKey; the
// session's keep-alives already extend the lease, so leaseDuration is
// not needed. If etcd was unreachable long enough for the lease to
// expire, the lock is taken again when it is free, or the call fails so
// that certmagic does not go on without it.
func (s *Store) RenewLockLease(ctx context.Context, lockKey string, _ time.Duration) error {
	s.mu.Lock()
	h := s.held[lockKey]
	s.mu.Unlock()
	if h == nil {
		return fmt.Errorf("etcdstore: renewing %q: %w", lockKey, ErrNotLocked)
	}
	owned := false
	err := s.do(ctx, "checking lock "+lockKey, func(ctx context.Context, cli *etcdjson.Client) error {
		resp, err := cli.Txn(ctx, etcdjson.Txn{If: []etcdjson.Compare{h.mutex.isOwner()}})
		owned = err == nil && resp.Succeeded
		return err
	})
	if err != nil || owned {
		return err
	}
	ok, err := s.tryLock(ctx, lockKey)
	if err == nil && !ok {
		err = fmt.Errorf("etcdstore: lock %q expired and another instance took it", lockKey)
	}
	return err
}

// forget records m's key for deletion by the status loop. The key is
// harmless once its lease has expired, but a live session keeps it.
func (s *Store) forget(name string, m *mutex) {
	if m == nil || m.key == "" {
		return
	}
	rev := int64(-1)
	if m.seen > 0 {
		rev = m.seen
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stale[name] = staleKey{key: m.key, rev: rev}
}

// cleanStale deletes stale lock keys; a name held or being locked by
// this process again is skipped, its key being in use.
func (s *Store) cleanStale(ctx context.Context) {
	s.mu.Lock()
	stale := make(map[string]staleKey, len(s.stale))
	for n, k := range s.stale {
		stale[n] = k
	}
	s.mu.Unlock()
	for name, k := range stale {
		if !s.tryGate(name) {
			continue
		}
		err := s.do(ctx, "removing a stale lock key", func(ctx context.Context, cli *etcdjson.Client) error {
			txn := etcdjson.Txn{Then: []etcdjson.Op{etcdjson.Delete(k.key)}}
			if k.rev > 0 {
				txn.If = []etcdjson.Compare{etcdjson.CreateRevision(k.key, "LESS", k.rev+1)}
			}
			_, err := cli.Txn(ctx, txn)
			return err
		})
		if err == nil {
			s.mu.Lock()
			if s.stale[name] == k {
				delete(s.stale, name)
			}
			s.mu.Unlock()
		}
		s.releaseGate(name)
	}
}

// waitRelease returns once the current owner of the lock name releases
// it (its key is deleted, by Unlock or with its lease), or after
// lockPoll as a safety net; the caller then tries again. Watching from
// the revision of the owner read misses no release, so waiters cost
// etcd nothing while they wait.
func (s *Store) waitRelease(ctx context.Context, name string) {
	pfx := s.lockPrefix(name) + "/"
	var owner string
	var rev int64
	err := s.do(ctx, "reading the holder of "+name, func(ctx context.Context, cli *etcdjson.Client) error {
		resp, err := cli.Range(ctx, etcdjson.FirstCreated(pfx))
		if err != nil {
			return err
		}
		rev = resp.Header.Revision
		if len(resp.Kvs) > 0 {
			owner = string(resp.Kvs[0].Key)
		}
		return nil
	})
	switch {
	case err != nil:
		sleep(ctx, retryDelay)
		return
	case owner == "":
		return // released already
	}
	cli, err := s.client()
	if err != nil {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, lockPoll)
	defer cancel()
	// Whatever ends the wait — the deletion, the poll bound, a broken
	// stream — the caller tries again.
	_ = cli.WaitDeleted(wctx, owner, rev+1)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// gate serializes this process's goroutines on one lock name.
type gate struct {
	ch   chan struct{}
	refs int // holder and waiters; the gate goes when it drops to 0
}

func (s *Store) gateFor(name string) *gate {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gates[name]
	if g == nil {
		g = &gate{ch: make(chan struct{}, 1)}
		s.gates[name] = g
	}
	g.refs++
	return g
}

func (s *Store) dropGate(name string, g *gate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.refs--; g.refs == 0 {
		delete(s.gates, name)
	}
}

func (s *Store) acquireGate(ctx context.Context, name string) error {
	g := s.gateFor(name)
	select {
	case g.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		s.dropGate(name, g)
		return ctx.Err()
	case <-s.ctx.Done():
		s.dropGate(name, g)
		return ErrClosed
	}
}

func (s *Store) tryGate(name string) bool {
	g := s.gateFor(name)
	select {
	case g.ch <- struct{}{}:
		return true
	default:
		s.dropGate(name, g)
		return false
	}
}

func (s *Store) releaseGate(name string) {
	s.mu.Lock()
	g := s.gates[name]
	s.mu.Unlock()
	<-g.ch
	s.dropGate(name, g)
}
