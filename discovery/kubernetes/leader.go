package kubernetes

import (
	"context"
	"math/rand/v2"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilptr "k8s.io/utils/ptr"

	"github.com/rancher-edge/edge/internal/kubeclient"
)

// leaderElector campaigns for a coordination.k8s.io/v1 Lease with the
// protocol of client-go's leaderelection package, on the same fields, so
// replicas running either agree on who leads: a replica takes the Lease
// when it has no holder or when its record has not changed for its
// leaseDurationSeconds — counted on this replica's clock from when it saw
// the record change, never from the timestamps in it, so clocks need not
// agree —, renews it every retry period while it leads, and stops leading
// when it could not renew for the renew deadline. On the way out a held
// Lease is released (its holder cleared), so another replica takes over
// at once.
//
// client-go's package is not used because it imports the whole clientset
// and every informer (internal/kubeclient says why that matters).
type leaderElector struct {
	leases        kubeclient.Resource[coordinationv1.Lease, coordinationv1.LeaseList]
	name, id      string
	leaseDuration time.Duration
	renewDeadline time.Duration
	retryPeriod   time.Duration

	// The record last seen, and when (this replica's clock).
	seen   coordinationv1.LeaseSpec
	seenAt time.Time
}

// run campaigns until ctx ends. Each time this replica gains the Lease,
// lead runs with a context that ends when it loses it (or ctx ends), and
// run waits for it before it campaigns again.
func (e *leaderElector) run(ctx context.Context, lead func(context.Context)) {
	for {
		if !e.acquire(ctx) {
			return // ctx is done
		}
		lctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			lead(lctx)
		}()
		e.renew(lctx)
		cancel()
		<-done
		if ctx.Err() != nil {
			e.release()
			return
		}
	}
}

// acquire tries every retry period (with up to 20 % jitter, as client-go
// does) until this replica holds the Lease or ctx ends.
func (e *leaderElector) acquire(ctx context.Context) bool {
	for {
		if e.try(ctx) {
			return true
		}
		jitter := time.Duration(rand.Int64N(int64(e.retryPeriod)/5 + 1))
		select {
		case <-ctx.Done():
			return false
		case <-time.After(e.retryPeriod + jitter):
		}
	}
}

// renew keeps the Lease every retry period and returns when a renewal has
// failed for the renew deadline (the Lease is then lost: another replica
// may take it once the lease duration passes) or ctx ends.
func (e *leaderElector) renew(ctx context.Context) {
	t := time.NewTicker(e.retryPeriod)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if e.try(ctx) {
			last = time.Now()
		} else if time.Since(last) >= e.renewDeadline {
			return
		}
	}
}

// try takes or renews the Lease once, within the renew deadline, and
// reports whether this replica holds it.
func (e *leaderElector) try(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, e.renewDeadline)
	defer cancel()
	now := metav1.NowMicro()
	secs := int32((e.leaseDuration + time.Second - 1) / time.Second)
	lease, err := e.leases.Get(ctx, e.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: e.name}}
		lease.Spec = coordinationv1.LeaseSpec{HolderIdentity: &e.id, LeaseDurationSeconds: &secs,
			AcquireTime: &now, RenewTime: &now, LeaseTransitions: new(int32)}
		created, err := e.leases.Create(ctx, lease, metav1.CreateOptions{})
		if err != nil {
			return false
		}
		e.saw(created.Spec)
		return true
	}
	if err != nil {
		return false
	}
	if !specEqual(lease.Spec, e.seen) {
		e.saw(lease.Spec)
	}
	holder := utilptr.Deref(lease.Spec.HolderIdentity, "")
	if holder != "" && holder != e.id && time.Since(e.seenAt) < time.Duration(utilptr.Deref(lease.Spec.LeaseDurationSeconds, 0))*time.Second {
		return false // another replica holds it and has renewed lately
	}
	up := lease.DeepCopy()
	up.Spec.HolderIdentity, up.Spec.LeaseDurationSeconds, up.Spec.RenewTime = &e.id, &secs, &now
	if holder != e.id {
		n := utilptr.Deref(lease.Spec.LeaseTransitions, 0) + 1
		up.Spec.AcquireTime, up.Spec.LeaseTransitions = &now, &n
	}
	// The resourceVersion makes this a compare-and-swap: of two replicas
	// taking a free Lease, one gets a conflict.
	updated, err := e.leases.Update(ctx, up, metav1.UpdateOptions{})
	if err != nil {
		return false
	}
	e.saw(updated.Spec)
	return true
}

// release clears the holder of a Lease this replica holds, so the next
// replica need not wait for the lease duration (client-go's
// ReleaseOnCancel). Bounded by the renew deadline: the context it served
// is already done.
func (e *leaderElector) release() {
	ctx, cancel := context.WithTimeout(context.Background(), e.renewDeadline)
	defer cancel()
	lease, err := e.leases.Get(ctx, e.name, metav1.GetOptions{})
	if err != nil || utilptr.Deref(lease.Spec.HolderIdentity, "") != e.id {
		return
	}
	now := metav1.NowMicro()
	one := int32(1)
	up := lease.DeepCopy()
	up.Spec.HolderIdentity, up.Spec.LeaseDurationSeconds, up.Spec.AcquireTime, up.Spec.RenewTime = nil, &one, &now, &now
	_, _ = e.leases.Update(ctx, up, metav1.UpdateOptions{})
}

func (e *leaderElector) saw(s coordinationv1.LeaseSpec) { e.seen, e.seenAt = s, time.Now() }

// specEqual compares what the protocol reads of two records.
func specEqual(a, b coordinationv1.LeaseSpec) bool {
	return utilptr.Deref(a.HolderIdentity, "") == utilptr.Deref(b.HolderIdentity, "") &&
		utilptr.Deref(a.LeaseDurationSeconds, 0) == utilptr.Deref(b.LeaseDurationSeconds, 0) &&
		utilptr.Deref(a.LeaseTransitions, 0) == utilptr.Deref(b.LeaseTransitions, 0) &&
		a.RenewTime.Equal(b.RenewTime) && a.AcquireTime.Equal(b.AcquireTime) // nil-safe
}
