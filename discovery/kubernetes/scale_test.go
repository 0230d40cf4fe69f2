package kubernetes

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rancher-edge/edge/discovery/kubernetes/kubetest"
	"github.com/rancher-edge/edge/route"
)

// BenchmarkScaleRealAPIServer loads a real apiserver with the issue's
// scale — 1,000 Ingresses, 2,000 Services, 10,000 endpoints — and reports
// the provider's first sync (apiserver lists to the first snapshot), the
// CPU it took, one endpoint change and then one Ingress change until its
// snapshot is published, and the heap the provider added. One iteration is the whole scenario.
func BenchmarkScaleRealAPIServer(b *testing.B) {
	ctx := context.Background()
	c := kubetest.Start(b)
	rbac, err := os.ReadFile("../../deploy/kubernetes/rbac.yaml")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "rancher-edge"}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	if err := c.GrantEdge(ctx, rbac, "rancher-edge"); err != nil {
		b.Fatal(err)
	}
	objs := scaleWorld(b)
	for i := range 50 {
		if _, err := c.Admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ns%d", i)}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	work := make(chan any)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for o := range work {
				var err error
				switch v := o.(type) {
				case *networkingv1.IngressClass:
					_, err = c.Admin.NetworkingV1().IngressClasses().Create(ctx, v, metav1.CreateOptions{})
				case *corev1.Service:
					v = v.DeepCopy()
					v.CreationTimestamp = metav1.Time{}
					_, err = c.Admin.CoreV1().Services(v.Namespace).Create(ctx, v, metav1.CreateOptions{})
				case *discoveryv1.EndpointSlice:
					v = v.DeepCopy()
					v.CreationTimestamp = metav1.Time{}
					_, err = c.Admin.DiscoveryV1().EndpointSlices(v.Namespace).Create(ctx, v, metav1.CreateOptions{})
				case *networkingv1.Ingress:
					v = v.DeepCopy()
					v.CreationTimestamp = metav1.Time{}
					_, err = c.Admin.NetworkingV1().Ingresses(v.Namespace).Create(ctx, v, metav1.CreateOptions{})
				}
				if err != nil {
					b.Error(err)
				}
			}
		})
	}
	loadStart := time.Now()
	for _, o := range objs {
		work <- o
	}
	close(work)
	wg.Wait()
	b.Logf("loaded %d objects into the apiserver in %v", len(objs), time.Since(loadStart).Round(time.Millisecond))

	for b.Loop() {
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		p, err := New(Config{Rest: c.Rest(kubetest.EdgeToken), Source: "bench", Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		snaps := make(chan route.Snapshot, 16)
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		cpu0, start := cpuTime(), time.Now()
		go func() { defer close(done); _ = p.Run(rctx, func(s route.Snapshot) { snaps <- s }) }()
		first := <-snaps
		sync := time.Since(start)
		cpu := cpuTime() - cpu0
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		if len(first.Services) < 1900 {
			b.Fatalf("first snapshot has %d routes", len(first.Services))
		}
		// One endpoint turns not ready: how long until it is published.
		sl, err := c.Admin.DiscoveryV1().EndpointSlices("ns0").Get(ctx, "svc0-a", metav1.GetOptions{})
		if err != nil {
			b.Fatal(err)
		}
		sl.Endpoints[0].Conditions.Ready = ptr(false)
		t0 := time.Now()
		if _, err := c.Admin.DiscoveryV1().EndpointSlices("ns0").Update(ctx, sl, metav1.UpdateOptions{}); err != nil {
			b.Fatal(err)
		}
		<-snaps
		live := time.Since(t0)
		// One Ingress sends a path to another Service: how long until it
		// is published.
		in, err := c.Admin.NetworkingV1().Ingresses("ns0").Get(ctx, "ing0", metav1.GetOptions{})
		if err != nil {
			b.Fatal(err)
		}
		in.Spec.Rules[0].HTTP.Paths[1].Backend.Service.Name = "svc0"
		t0 = time.Now()
		if _, err := c.Admin.NetworkingV1().Ingresses("ns0").Update(ctx, in, metav1.UpdateOptions{}); err != nil {
			b.Fatal(err)
		}
		<-snaps
		ingLive := time.Since(t0)
		cancel()
		<-done
		b.ReportMetric(sync.Seconds(), "first-sync-s")
		b.ReportMetric(cpu.Seconds(), "first-sync-cpu-s")
		b.ReportMetric(live.Seconds()*1000, "change-live-ms")
		b.ReportMetric(ingLive.Seconds()*1000, "ingress-change-live-ms")
		b.ReportMetric(float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc))/(1<<20), "heap-MiB")
	}
}
