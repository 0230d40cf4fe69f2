package storagetest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs/acme"
)

// ThreeReplicasOrderEachNameOnce: three edges on one backend discover
// the same 20 names at once. Exactly one order per name reaches the CA,
// and all three serve the same certificate for each: the lock losers
// find the winner's certificate in storage after taking the lock
// (certmagic re-checks there) and load it instead of ordering.
func ThreeReplicasOrderEachNameOnce(t *testing.T, b Backend) {
	c := NewCluster(t, 3, b, nil)
	names := make([]string, 20)
	for i := range names {
		names[i] = fmt.Sprintf("n%02d.cluster.example.test", i)
	}
	start := time.Now()
	c.SetHosts(names)
	serials := c.WaitServed(names, 90*time.Second)
	t.Logf("3 replicas serve all %d names after %v", len(names), time.Since(start).Round(time.Millisecond))

	if n := c.CA.Orders(); n != len(names) {
		t.Errorf("orders at the CA = %d, want %d (one per name)", n, len(names))
	}
	for _, name := range names {
		if n := c.CA.OrdersFor(name); n != 1 {
			t.Errorf("orders for %s = %d, want 1", name, n)
		}
	}
	SameSerials(t, serials, names)

	// Every name's lock was taken by one of the replicas and is free.
	wins := map[string]int{}
	st := c.Live()[0].Store
	Eventually(t, 10*time.Second, "all locks released", func() bool { return b.LocksLeft(t, st) == 0 })
	// A replica that sees a name after another obtained it may still take
	// its lock briefly to find the certificate in storage: wait until every
	// record is released, then check who released it.
	Eventually(t, 10*time.Second, "lock records for every name, released", func() bool {
		for _, name := range names {
			if l, ok := b.Holder(st, name); !ok || l.Held {
				return false
			}
		}
		return true
	})
	for _, name := range names {
		l, _ := b.Holder(st, name)
		if l.Held || !strings.HasPrefix(l.Replica, "edge-") || l.Released.IsZero() {
			t.Errorf("lock of %s = %+v, want released by a replica", name, l)
		}
		wins[l.Replica]++
	}
	t.Logf("orders: %d; names last locked by replica: %v", c.CA.Orders(), wins)
}

// KilledHolderOrderCompletes: the replica holding a name's lock dies
// in the middle of the order (its challenge is held up, then its store's
// connection and manager go without unlocking). Another replica takes
// the lock once the dead one's lease expires and completes the order;
// no lock is left behind.
func KilledHolderOrderCompletes(t *testing.T, b Backend) {
	const name = "killed.cluster.example.test"
	reached := make(chan struct{})
	release := make(chan struct{})
	var first atomic.Bool
	c := NewCluster(t, 3, b, func(cfg *acme.Config) { cfg.Challenges = []string{acme.ChallengeHTTP01} })
	hold := func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") || !first.CompareAndSwap(false, true) {
			return false
		}
		close(reached)
		<-release
		http.Error(w, "the replica that started this order is gone", http.StatusServiceUnavailable)
		return true
	}
	c.Intercept.Store(&hold)

	c.SetHosts([]string{name})
	select {
	case <-reached:
	case <-time.After(30 * time.Second):
		t.Fatal("no challenge request arrived")
	}
	var holder string
	Eventually(t, 5*time.Second, "a replica holding the lock", func() bool {
		l, ok := b.Holder(c.Live()[0].Store, name)
		holder = l.Replica
		return ok && l.Held
	})
	var victim *Replica
	for _, r := range c.Live() {
		if r.Name == holder {
			victim = r
		}
	}
	killed := time.Now()
	victim.Kill()
	close(release)
	t.Logf("killed %s while it held the lock for %s mid-order", holder, name)

	serials := c.WaitServed([]string{name}, 60*time.Second)
	waited := time.Since(killed)
	t.Logf("order completed by another replica %v after the kill (LockTTL %v)", waited.Round(time.Millisecond), b.LockTTL)
	if waited < b.LockTTL/2 {
		t.Errorf("completed %v after the kill; the dead holder's lease should have held the lock for about %v", waited, b.LockTTL)
	}
	SameSerials(t, serials, []string{name})
	if n := c.CA.OrdersFor(name); n != 2 {
		t.Errorf("orders for %s = %d, want 2: the dead replica's and the one that completed", name, n)
	}
	st := c.Live()[0].Store
	Eventually(t, 10*time.Second, "no locks left", func() bool { return b.LocksLeft(t, st) == 0 })
	survivors := []string{c.Live()[0].Name, c.Live()[1].Name}
	Eventually(t, 5*time.Second, "the lock released by a survivor in the status", func() bool {
		l, _ := b.Holder(st, name)
		return !l.Held && slices.Contains(survivors, l.Replica)
	})
}
