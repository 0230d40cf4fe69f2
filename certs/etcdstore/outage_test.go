package etcdstore

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rancher-edge/edge/certs/acme"
	"github.com/rancher-edge/edge/certs/storagetest"
)

// outage is how long etcd stays down in TestEtcdOutage, as the issue
// asks: far longer than the lock lease, so every lock session expires
// during it.
const outage = 30 * time.Second

// TestEtcdOutage: etcd stops while two replicas serve. Clients keep
// getting answers with no failure (certificates are served from memory),
// both stores report etcd unhealthy, and an order placed during the
// outage reaches the CA only after etcd is back, then completes.
func TestEtcdOutage(t *testing.T) {
	te := startEtcd(t)
	c := storagetest.NewCluster(t, 2, etcdBackend(te, clusterLockTTL), func(cfg *acme.Config) { cfg.RecheckInterval = 500 * time.Millisecond })
	names := []string{"a.outage.example.test", "b.outage.example.test", "c.outage.example.test"}
	const late = "late.outage.example.test"
	c.SetHosts(names)
	c.WaitServed(names, 60*time.Second)

	// Clients: one fresh connection per request, round the replicas and
	// names, for the whole outage and a little after.
	ctx, stopClients := context.WithCancel(t.Context())
	var requests, failures atomic.Int64
	var lastErr atomic.Value
	var wg sync.WaitGroup
	for _, r := range c.Live() {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				_, err := c.Get(r.Addr, names[i%len(names)])
				requests.Add(1)
				if err != nil {
					failures.Add(1)
					lastErr.Store(err.Error())
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}

	// etcd refuses requests as soon as it starts stopping, but its
	// graceful stop waits up to 7 s for the clients' streams, so it runs
	// in the background and the outage counts from its start.
	down := time.Now()
	stopped := make(chan struct{})
	go func() { te.Stop(); close(stopped) }()
	for _, r := range c.Live() {
		storagetest.Eventually(t, 5*time.Second, r.Name+" reporting etcd unhealthy", func() bool {
			st := r.Store.(*Store).Status()
			return !st.Healthy && st.LastError != ""
		})
	}
	t.Logf("status unhealthy %v after etcd began to stop: %q", time.Since(down).Round(time.Millisecond), c.Live()[0].Store.(*Store).Status().LastError)
	c.SetHosts(append([]string{late}, names...))
	<-stopped
	t.Logf("etcd took %v to stop", time.Since(down).Round(time.Millisecond))
	time.Sleep(outage - time.Since(down))
	if n := c.CA.OrdersFor(late); n != 0 {
		t.Errorf("%d orders for %s reached the CA while etcd was down; want them to wait", n, late)
	}
	te.Start()
	up := time.Now()
	t.Logf("etcd was down for %v", up.Sub(down).Round(time.Millisecond))
	for _, r := range c.Live() {
		storagetest.Eventually(t, 10*time.Second, r.Name+" reporting etcd healthy", func() bool { return r.Store.(*Store).Status().Healthy })
	}

	// certmagic gave up on the name when its first storage read failed;
	// the manager's storage re-check starts it again once etcd answers.
	serials := c.WaitServed([]string{late}, 60*time.Second)
	t.Logf("%s served by both replicas %v after etcd came back", late, time.Since(up).Round(time.Millisecond))
	storagetest.SameSerials(t, serials, []string{late})
	if n := c.CA.OrdersFor(late); n != 1 {
		t.Errorf("orders for %s = %d, want 1", late, n)
	}

	time.Sleep(200 * time.Millisecond)
	stopClients()
	wg.Wait()
	t.Logf("%d client requests during and after the outage, %d failed", requests.Load(), failures.Load())
	if n := failures.Load(); n != 0 {
		t.Errorf("%d of %d client requests failed; last: %v", n, requests.Load(), lastErr.Load())
	}
	if requests.Load() < 50 {
		t.Errorf("only %d client requests ran", requests.Load())
	}
}
