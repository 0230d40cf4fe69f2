package kubernetes

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilptr "k8s.io/utils/ptr"

	"github.com/rancher-edge/edge/discovery/kubernetes/kubetest"
	"github.com/rancher-edge/edge/route"
)

// TestLeaderElection: two edges with leader election against a real
// apiserver, with the chart's RBAC: exactly one writes Ingress status, and
// the other takes over within the lease duration when the first stops;
// a Lease a crashed replica still holds is taken once its duration passed.
func TestLeaderElection(t *testing.T) {
	ctx := context.Background()
	c := kubetest.Start(t)
	for _, ns := range []string{"rancher-edge", "shop"} {
		if _, err := c.Admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rbac, err := os.ReadFile("../../deploy/kubernetes/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.GrantEdge(ctx, rbac, "rancher-edge"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Admin.NetworkingV1().IngressClasses().Create(ctx, ourClass(false), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	i := ing("shop", "web", 0, "a.example.com", p(prefix, "/", "web", 80))
	i.CreationTimestamp = metav1.Time{}
	if _, err := c.Admin.NetworkingV1().Ingresses("shop").Create(ctx, i, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	const lease = 2 * time.Second
	start := func(id, addr string) (stop func(), prov *Provider) {
		prov, err := New(Config{
			Rest: c.Rest(kubetest.EdgeToken), Source: "test", IngressAddress: addr,
			LeaseNamespace: "rancher-edge", Identity: id,
			LeaseDuration: lease, RenewDeadline: 1500 * time.Millisecond, RetryPeriod: 250 * time.Millisecond,
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := prov.Run(ctx, func(route.Snapshot) {}); err != nil {
				t.Errorf("%s: Run: %v", id, err)
			}
		})
		return func() { cancel(); wg.Wait() }, prov
	}
	statusIP := func() string {
		got, err := c.Admin.NetworkingV1().Ingresses("shop").Get(ctx, "web", metav1.GetOptions{})
		if err != nil || len(got.Status.LoadBalancer.Ingress) == 0 {
			return ""
		}
		return got.Status.LoadBalancer.Ingress[0].IP
	}
	waitIP := func(want string, within time.Duration) time.Duration {
		t.Helper()
		t0 := time.Now()
		for statusIP() != want {
			if time.Since(t0) > within {
				t.Fatalf("status %q after %v, want %q", statusIP(), within, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
		return time.Since(t0)
	}

	// A replica that crashed holds the Lease: edge-a waits out its lease
	// duration from when it first sees the record, never less.
	probe, err := New(Config{Rest: c.Rest(kubetest.EdgeToken), Source: "test", IngressAddress: "10.0.0.1", LeaseNamespace: "rancher-edge"})
	if err != nil {
		t.Fatal(err)
	}
	crashed, secs, past := "edge-crashed", int32(lease/time.Second), metav1.NewMicroTime(time.Now().Add(-time.Hour))
	if _, err := c.Admin.CoordinationV1().Leases("rancher-edge").Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: probe.cfg.LeaseName},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &crashed, LeaseDurationSeconds: &secs, RenewTime: &past, AcquireTime: &past},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	stopA, a := start("edge-a", "10.0.0.1")
	waitIP("10.0.0.1", 20*time.Second)
	if took := time.Since(started); took < lease {
		t.Errorf("edge-a took the Lease of a crashed replica after %v, before its lease duration (%v) had passed", took, lease)
	} else {
		t.Logf("edge-a took the crashed replica's Lease after %v (lease %v; the renew time written in it is an hour old, and ignored)", took.Round(time.Millisecond), lease)
	}
	if l, err := c.Admin.CoordinationV1().Leases("rancher-edge").Get(ctx, probe.cfg.LeaseName, metav1.GetOptions{}); err != nil {
		t.Error(err)
	} else if h, n := utilptr.Deref(l.Spec.HolderIdentity, ""), utilptr.Deref(l.Spec.LeaseTransitions, 0); h != "edge-a" || n != 1 {
		t.Errorf("Lease held by %q after %d transitions, want edge-a after 1", h, n)
	}
	stopB, b := start("edge-b", "10.0.0.2")
	defer stopB()
	// B runs, follows, and never writes: the status stays A's.
	for end := time.Now().Add(3 * lease); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if got := statusIP(); got != "10.0.0.1" {
			t.Fatalf("status changed to %q while edge-a leads: two writers", got)
		}
	}
	if ma, mb := a.Status().Mode, b.Status().Mode; ma != "watching, leader" || mb != "watching, follower" {
		t.Errorf("modes %q and %q, want one leader and one follower", ma, mb)
	}
	stopA()
	took := waitIP("10.0.0.2", lease+time.Second)
	t.Logf("edge-b took over %v after edge-a stopped (lease %v)", took.Round(time.Millisecond), lease)
	if got := b.Status().Mode; got != "watching, leader" {
		t.Errorf("edge-b mode %q after the takeover", got)
	}
	_ = fmt.Sprint
	_ = networkingv1.PathTypePrefix
}
