package kubestore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// maxPoll caps the pause of a Lock after an error; a release is noticed
// at once, through a watch.
const maxPoll = 500 * time.Millisecond

// heldLock is a lock this instance holds, with its renewal goroutine.
type heldLock struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	lease *coordinationv1.Lease // as last written by this instance
}

// stop ends the renewals and waits for them.
func (h *heldLock) stop() {
	h.cancel()
	<-h.done
}

// Lock takes the lock name, waiting while another holder's Lease is
// current. It watches that Lease, so a release is noticed at once, and
// tries again at the latest when the Lease would expire. It keeps trying
// through apiserver errors until ctx ends, so an order waiting for its
// lock resumes when the apiserver is back.
func (s *Store) Lock(ctx context.Context, name string) error {
	for {
		ok, held, err := s.tryLock(ctx, name)
		switch {
		case ok:
			return nil
		case err == ErrClosed:
			return err
		case ctx.Err() != nil:
			return ctx.Err()
		case held != nil:
			s.waitRelease(ctx, held)
			continue
		case err == nil:
			// A race lost to another instance: read again, and wait on
			// the winner's Lease.
			continue
		}
		// An error: a short pause, spread over [poll/2, poll) so that
		// waiters do not all ask at once.
		poll := min(maxPoll, s.cfg.LockTTL/4)
		if err := s.sleep(ctx, poll/2+rand.N(poll/2)); err != nil {
			return err
		}
	}
}

// sleep waits d, or returns early with the reason to stop.
func (s *Store) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ctx.Done():
		return ErrClosed
	case <-t.C:
		return nil
	}
}

// waitRelease returns when the Lease l (as read, held by someone) is
// released, taken by someone else or deleted, or when it would expire;
// renewals by its holder keep the wait going. Should the watch fail, it
// returns after a short pause and the caller tries again.
func (s *Store) waitRelease(ctx context.Context, l *coordinationv1.Lease) {
	wait := time.Until(l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second))
	wctx, cancel := context.WithTimeout(ctx, max(wait, 0)+10*time.Millisecond)
	defer cancel()
	w, err := s.kube.CoordinationV1().Leases(s.cfg.Namespace).Watch(wctx, metav1.ListOptions{
		FieldSelector:   "metadata.name=" + l.Name,
		ResourceVersion: l.ResourceVersion,
	})
	if err != nil {
		_ = s.sleep(wctx, min(maxPoll, s.cfg.LockTTL/4))
		return
	}
	defer w.Stop()
	holder := *l.Spec.HolderIdentity
	for {
		select {
		case <-wctx.Done():
			return
		case <-s.ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok {
				return
			}
			next, isLease := ev.Object.(*coordinationv1.Lease)
			if ev.Type != watch.Modified || !isLease || next.Spec.HolderIdentity == nil || *next.Spec.HolderIdentity != holder {
				return // released, deleted, taken over, or the watch broke
			}
			if next.Spec.RenewTime != nil && next.Spec.LeaseDurationSeconds != nil {
				// Renewed: it now expires later.
				exp := next.Spec.RenewTime.Add(time.Duration(*next.Spec.LeaseDurationSeconds) * time.Second)
				if d, ok := wctx.Deadline(); ok && exp.After(d) {
					return // the caller starts a new wait with the new expiry
				}
			}
		}
	}
}

// TryLock takes the lock name if no one holds it (its Lease is empty or
// expired), without waiting. A name this instance holds already is
// held: TryLock reports false.
func (s *Store) TryLock(ctx context.Context, name string) (bool, error) {
	ok, _, err := s.tryLock(ctx, name)
	return ok, err
}

// tryLock is TryLock that also returns the Lease as read when someone
// holds it, for Lock to wait on.
func (s *Store) tryLock(ctx context.Context, name string) (bool, *coordinationv1.Lease, error) {
	leases := s.kube.CoordinationV1().Leases(s.cfg.Namespace)
	lname := leaseName(name)
	var cur *coordinationv1.Lease
	err := s.do(ctx, "reading the lock "+name, func(ctx context.Context) error {
		var err error
		cur, err = leases.Get(ctx, lname, metav1.GetOptions{})
		return err
	})
	now := time.Now()
	var taken *coordinationv1.Lease
	switch {
	case apierrors.IsNotFound(err):
		l := s.newLease(lname, name, now)
		err = s.do(ctx, "taking the lock "+name, func(ctx context.Context) error {
			var err error
			taken, err = leases.Create(ctx, l, metav1.CreateOptions{})
			return err
		})
		if apierrors.IsAlreadyExists(err) {
			return false, nil, nil // another instance was faster
		}
	case err != nil:
		return false, nil, err
	case current(cur, now):
		return false, cur, nil
	default:
		l := cur.DeepCopy()
		s.claim(l, name, now)
		err = s.do(ctx, "taking the lock "+name, func(ctx context.Context) error {
			var err error
			taken, err = leases.Update(ctx, l, metav1.UpdateOptions{})
			return err
		})
		if apierrors.IsConflict(err) {
			return false, nil, nil // changed since read: someone else took it
		}
	}
	if err != nil {
		return false, nil, err
	}
	s.hold(name, taken)
	return true, nil, nil
}

// current reports whether l is held by someone whose lease has not run
// out. Expiry compares the holder's last renewal with this host's clock,
// so clocks of the nodes must agree within a fraction of LockTTL (as
// they do under NTP).
func current(l *coordinationv1.Lease, now time.Time) bool {
	sp := l.Spec
	if sp.HolderIdentity == nil || *sp.HolderIdentity == "" || sp.RenewTime == nil || sp.LeaseDurationSeconds == nil {
		return false
	}
	return now.Before(sp.RenewTime.Add(time.Duration(*sp.LeaseDurationSeconds) * time.Second))
}

func (s *Store) newLease(lname, name string, now time.Time) *coordinationv1.Lease {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
		Name: lname, Namespace: s.cfg.Namespace, Labels: labels(kindLock),
		Annotations: map[string]string{annotationLock: name},
	}}
	s.claim(l, name, now)
	return l
}

// claim makes l this instance's, acquired now.
func (s *Store) claim(l *coordinationv1.Lease, name string, now time.Time) {
	id, secs := s.id, int32(s.cfg.LockTTL/time.Second)
	t := metav1.NewMicroTime(now)
	if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "" {
		n := int32(1)
		if l.Spec.LeaseTransitions != nil {
			n += *l.Spec.LeaseTransitions
		}
		l.Spec.LeaseTransitions = &n
	}
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds = &id, &secs
	l.Spec.AcquireTime, l.Spec.RenewTime = &t, &t
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[annotationLock] = name
	l.Annotations[annotationReplica] = s.cfg.Replica
	delete(l.Annotations, annotationReleased)
}

// hold records a taken lock and starts renewing its Lease every third
// of LockTTL, so it stays current for as long as the work takes.
func (s *Store) hold(name string, l *coordinationv1.Lease) {
	ctx, cancel := context.WithCancel(s.ctx)
	h := &heldLock{cancel: cancel, done: make(chan struct{}), lease: l}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		return
	}
	s.held[name] = h
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer close(h.done)
		t := time.NewTicker(s.cfg.LockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := s.renew(ctx, name, h); err != nil && ctx.Err() == nil {
				s.log.Warn("renewing an ACME lock", "lock", name, "err", err)
			}
		}
	}()
}

// renew writes a new renewal time into h's Lease. A Lease changed by
// someone else means the lock was lost (it expired during an outage and
// was taken over): that is reported, and nothing is overwritten.
func (s *Store) renew(ctx context.Context, name string, h *heldLock) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	leases := s.kube.CoordinationV1().Leases(s.cfg.Namespace)
	for attempt := 0; ; attempt++ {
		l := h.lease.DeepCopy()
		t := metav1.NewMicroTime(time.Now())
		l.Spec.RenewTime = &t
		var out *coordinationv1.Lease
		err := s.do(ctx, "renewing the lock "+name, func(ctx context.Context) error {
			var err error
			out, err = leases.Update(ctx, l, metav1.UpdateOptions{})
			return err
		})
		switch {
		case err == nil:
			h.lease = out
			return nil
		case apierrors.IsConflict(err) && attempt == 0:
			// An earlier renewal may have landed after its timeout,
			// moving the resourceVersion: read again and, if the Lease is
			// still ours, renew that.
			var fresh *coordinationv1.Lease
			gerr := s.do(ctx, "renewing the lock "+name, func(ctx context.Context) error {
				var err error
				fresh, err = leases.Get(ctx, l.Name, metav1.GetOptions{})
				return err
			})
			if gerr == nil && fresh.Spec.HolderIdentity != nil && *fresh.Spec.HolderIdentity == s.id {
				h.lease = fresh
				continue
			}
			if gerr != nil && !apierrors.IsNotFound(gerr) {
				return gerr
			}
			return fmt.Errorf("kubestore: lock %q was taken over by another instance after its lease expired", name)
		case apierrors.IsConflict(err) || apierrors.IsNotFound(err):
			return fmt.Errorf("kubestore: lock %q was taken over by another instance after its lease expired", name)
		default:
			return err
		}
	}
}

// Unlock releases the lock name: its Lease is emptied (holder cleared,
// release time recorded) so a waiter takes it at once. Only the holder
// can Unlock; anyone else gets [ErrNotLocked].
func (s *Store) Unlock(ctx context.Context, name string) error {
	s.mu.Lock()
	h := s.held[name]
	delete(s.held, name)
	s.mu.Unlock()
	if h == nil {
		return fmt.Errorf("kubestore: unlocking %q: %w", name, ErrNotLocked)
	}
	h.stop()
	return s.release(ctx, name)
}

// release empties the Lease of name if this instance still holds it.
func (s *Store) release(ctx context.Context, name string) error {
	leases := s.kube.CoordinationV1().Leases(s.cfg.Namespace)
	for range 3 {
		var l *coordinationv1.Lease
		err := s.request(ctx, "releasing the lock "+name, func(ctx context.Context) error {
			var err error
			l, err = leases.Get(ctx, leaseName(name), metav1.GetOptions{})
			return err
		})
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil:
			return err
		case l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != s.id:
			return nil // expired and taken over meanwhile: not ours to clear
		}
		l.Spec.HolderIdentity = nil
		if l.Annotations == nil {
			l.Annotations = map[string]string{}
		}
		l.Annotations[annotationReleased] = time.Now().UTC().Format(time.RFC3339Nano)
		err = s.request(ctx, "releasing the lock "+name, func(ctx context.Context) error {
			_, err := leases.Update(ctx, l, metav1.UpdateOptions{})
			return err
		})
		if !apierrors.IsConflict(err) {
			return err
		}
	}
	return fmt.Errorf("kubestore: releasing the lock %q: its Lease kept changing", name)
}

// RenewLockLease renews the Lease of a lock this instance holds now,
// besides the regular renewals. certmagic calls it during long
// operations.
func (s *Store) RenewLockLease(ctx context.Context, name string, _ time.Duration) error {
	s.mu.Lock()
	h := s.held[name]
	s.mu.Unlock()
	if h == nil {
		return fmt.Errorf("kubestore: renewing %q: %w", name, ErrNotLocked)
	}
	return s.renew(ctx, name, h)
}
