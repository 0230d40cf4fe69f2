package kubestore

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rancher-edge/edge/certs/storagetest"
	"github.com/rancher-edge/edge/discovery/kubernetes/kubetest"
)

// testNamespace is the edge's namespace in these tests.
const testNamespace = "edge-acme"

// startCluster runs a real kube-apiserver with the edge's RBAC from
// deploy/kubernetes/rbac.yaml bound to the edge's user, and the edge's
// namespace: a permission the store needs and the manifests lack fails
// the tests.
func startCluster(t *testing.T) *kubetest.Cluster {
	t.Helper()
	c := kubetest.Start(t)
	ctx := t.Context()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNamespace}}
	if _, err := c.Admin.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, here, _, _ := runtime.Caller(0)
	rbac, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "deploy", "kubernetes", "rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.GrantEdge(ctx, rbac, testNamespace); err != nil {
		t.Fatalf("applying deploy/kubernetes/rbac.yaml: %v", err)
	}
	return c
}

// wipe deletes the store's Secrets and Leases, so each test starts
// empty.
func wipe(t *testing.T, c *kubetest.Cluster) {
	t.Helper()
	ctx := t.Context()
	if err := c.Admin.CoreV1().Secrets(testNamespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: labelManagedBy + "=" + managedBy}); err != nil {
		t.Fatal(err)
	}
	if err := c.Admin.CoordinationV1().Leases(testNamespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: labelManagedBy + "=" + managedBy}); err != nil {
		t.Fatal(err)
	}
}

// testConfig is a store config on c with the edge's token and short
// timings.
func testConfig(c *kubetest.Cluster, replica string, lockTTL time.Duration) Config {
	return Config{
		Rest:           c.Rest(kubetest.EdgeToken),
		Namespace:      testNamespace,
		RequestTimeout: 5 * time.Second, // -race on two cores is slow
		LockTTL:        lockTTL,
		StatusInterval: 200 * time.Millisecond,
		Replica:        replica,
		Logger:         storagetest.Logger(),
	}
}

// kubeBackend describes stores on c to the shared conformance suite.
func kubeBackend(c *kubetest.Cluster, lockTTL time.Duration) storagetest.Backend {
	return storagetest.Backend{
		Open: func(t testing.TB, replica string) storagetest.Store {
			t.Helper()
			s, err := New(testConfig(c, replica, lockTTL))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		Crash:        func(s storagetest.Store) { crash(s.(*Store)) },
		LockTTL:      lockTTL,
		MaxValueSize: MaxValueSize,
		ErrTooLarge:  ErrTooLarge,
		ErrNotLocked: ErrNotLocked,
		ErrClosed:    ErrClosed,
		Holder: func(s storagetest.Store, subject string) (storagetest.Lock, bool) {
			l, ok := s.(*Store).Status().Holder(subject)
			return storagetest.Lock{Replica: l.Replica, Held: l.Held, Released: l.Released}, ok
		},
		Healthy: func(s storagetest.Store) bool { return s.(*Store).Status().Healthy },
		LocksLeft: func(t testing.TB, s storagetest.Store) int {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			list, err := c.Admin.CoordinationV1().Leases(testNamespace).List(ctx, metav1.ListOptions{LabelSelector: lockSelector})
			if err != nil {
				t.Fatalf("listing Leases: %v", err)
			}
			n := 0
			for i := range list.Items {
				if current(&list.Items[i], time.Now()) {
					n++
				}
			}
			return n
		},
	}
}

// crash stops s the way a killed process would: renewals stop, but
// nothing is released, so its Leases stay until they expire.
func crash(s *Store) {
	s.mu.Lock()
	s.closed = true
	s.held = map[string]*heldLock{}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// TestConformance: the storage and lock semantics of the etcd store
// (certs/storagetest), on a real kube-apiserver with the edge's RBAC.
func TestConformance(t *testing.T) {
	c := startCluster(t)
	storagetest.Run(t, func(t *testing.T) storagetest.Backend {
		wipe(t, c)
		return kubeBackend(c, 2*time.Second)
	})
}

// TestReplicas: three edges on one namespace asked for the same 20 names
// at once place exactly 20 orders at Pebble and serve the same serials;
// a replica killed mid-order is taken over once its Lease expires.
func TestReplicas(t *testing.T) {
	c := startCluster(t)
	// Longer than the conformance tests' 2 s: a lock is renewed every
	// third of it, and under -race on two busy cores an apiserver request
	// can stall for seconds; a lease that expires in a stall hands a held
	// lock to another replica (a duplicate order).
	const lockTTL = 6 * time.Second
	t.Run("ThreeReplicasOrderEachNameOnce", func(t *testing.T) {
		wipe(t, c)
		storagetest.ThreeReplicasOrderEachNameOnce(t, kubeBackend(c, lockTTL))
	})
	t.Run("KilledHolderOrderCompletes", func(t *testing.T) {
		wipe(t, c)
		storagetest.KilledHolderOrderCompletes(t, kubeBackend(c, lockTTL))
	})
}
