package etcdstore

import (
	"context"
	"fmt"
	"time"

	"github.com/rancher-edge/edge/certs/etcdstore/internal/etcdjson"
)

// keepAliveRetry paces keep-alives after one failed, while the lease
// may still be alive.
const keepAliveRetry = 500 * time.Millisecond

// session is this instance's lock lease, kept alive in the background.
// Lock keys are bound to it, so the locks of an instance that dies go
// when it expires.
type session struct {
	lease int64
	done  chan struct{} // closed when the lease is lost or the store closes
}

// Done is closed once the session can no longer hold locks.
func (sess *session) Done() <-chan struct{} { return sess.done }

// startSession keeps lease alive until the store closes or etcd no
// longer has it. s.mu is held.
func (s *Store) startSession(lease int64, ttl time.Duration) *session {
	sess := &session{lease: lease, done: make(chan struct{})}
	s.wg.Go(func() { s.keepAlive(sess, ttl) })
	return sess
}

// keepAlive renews sess's lease every third of its TTL, as etcd's own
// clients do. It gives up when etcd answers that the lease is gone, or
// when renewals have failed for longer than the lease would live: by
// then etcd has let it expire, and another replica may hold its locks.
func (s *Store) keepAlive(sess *session, ttl time.Duration) {
	defer close(sess.done)
	expires := time.Now().Add(ttl)
	t := time.NewTimer(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		sent := time.Now()
		ctx, cancel := context.WithTimeout(s.ctx, min(s.cfg.RequestTimeout, ttl/3))
		left, err := s.cli.KeepAlive(ctx, sess.lease)
		cancel()
		next := ttl / 3
		switch {
		case err == nil && left <= 0:
			return
		case err == nil:
			expires = sent.Add(time.Duration(left) * time.Second)
		case time.Now().After(expires):
			return
		default:
			next = min(next, keepAliveRetry)
		}
		t.Reset(next)
	}
}

// mutex is one attempt at an etcd mutex on a lock name, with the
// algorithm (and key layout) of etcd's concurrency package, so edges of
// either kind exclude each other: every contender puts
// <prefix>/<lease in hex> bound to its lease, and the key with the
// lowest create revision holds the lock.
type mutex struct {
	key string
	rev int64 // key's create revision, once known
	// seen is the revision of the last answer about key, so that a
	// stale key is deleted only if it is that very key (see forget).
	seen int64
}

// tryMutex makes one attempt at the mutex on prefix for sess. It
// reports whether sess now holds it; when another session does, it
// withdraws its own key, as etcd's TryLock does. On an error the key may
// or may not exist: the caller forgets it.
func (s *Store) tryMutex(ctx context.Context, cli *etcdjson.Client, prefix string, sess *session) (*mutex, bool, error) {
	m := &mutex{key: fmt.Sprintf("%s/%x", prefix, sess.lease)}
	owner := etcdjson.Get(etcdjson.FirstCreated(prefix + "/"))
	resp, err := cli.Txn(ctx, etcdjson.Txn{
		If:   []etcdjson.Compare{etcdjson.CreateRevision(m.key, "EQUAL", 0)},
		Then: []etcdjson.Op{etcdjson.Put(m.key, "", sess.lease), owner},
		Else: []etcdjson.Op{etcdjson.Get(etcdjson.RangeRequest{Key: []byte(m.key)}), owner},
	})
	if err != nil {
		return m, false, err
	}
	if len(resp.Responses) != 2 {
		return m, false, fmt.Errorf("etcd answered %d operations of 2", len(resp.Responses))
	}
	m.rev, m.seen = resp.Header.Revision, resp.Header.Revision
	if kvs := resp.Responses[0].Kvs(); !resp.Succeeded && len(kvs) > 0 {
		m.rev = kvs[0].CreateRevision
	}
	if first := resp.Responses[1].Kvs(); len(first) == 0 || first[0].CreateRevision == m.rev {
		return m, true, nil
	}
	_, err = cli.Txn(ctx, etcdjson.Txn{Then: []etcdjson.Op{etcdjson.Delete(m.key)}})
	return m, false, err
}

// isOwner holds while m's key is the one this attempt created: the lock
// is still m's unless its lease expired.
func (m *mutex) isOwner() etcdjson.Compare {
	return etcdjson.CreateRevision(m.key, "EQUAL", m.rev)
}
