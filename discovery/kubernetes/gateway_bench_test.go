package kubernetes

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/discovery/kubernetes/kubetest"
	"github.com/rancher-edge/edge/route"
)

// BenchmarkGatewayChangeToLive measures, against a real apiserver with the
// Gateway API CRDs and the chart's RBAC, how long a change takes from the
// apiserver accepting it to the provider publishing the snapshot that
// serves it (the edge swaps its table within microseconds after): an
// HTTPRoute's backendRef changed, a backend weight changed, and the
// listener's TLS Secret rotated. Goal: 1 s for routes, 5 s for Secrets.
// Run with -benchtime=10x: each iteration is the three changes.
func BenchmarkGatewayChangeToLive(b *testing.B) {
	ctx := context.Background()
	c := kubetest.Start(b)
	if err := c.InstallGatewayAPI(ctx); err != nil {
		b.Fatal(err)
	}
	for _, ns := range []string{"rancher-edge", "shop"} {
		if _, err := c.Admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range []string{"rbac.yaml", "gateway-api.yaml"} {
		raw, err := os.ReadFile("../../deploy/kubernetes/" + f)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.GrantEdge(ctx, raw, "rancher-edge"); err != nil {
			b.Fatal(err)
		}
	}
	gwc := c.Admin
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	sec := tlsSecret(b, "shop", "shop-tls", "shop.example.com")
	sec.CreationTimestamp = metav1.Time{}
	_, err := c.Admin.CoreV1().Secrets("shop").Create(ctx, sec, metav1.CreateOptions{})
	must(err)
	for i, name := range []string{"a", "b"} {
		s := svc("shop", name, sport("http", 80, intstr.FromInt(8080)))
		s.CreationTimestamp = metav1.Time{}
		_, err := c.Admin.CoreV1().Services("shop").Create(ctx, s, metav1.CreateOptions{})
		must(err)
		sl := slice("shop", name, name+"-1", "http", 8080, ep{addr: "10.200.0." + string(rune('1'+i)), ready: ptr(true)})
		sl.CreationTimestamp = metav1.Time{}
		_, err = c.Admin.DiscoveryV1().EndpointSlices("shop").Create(ctx, sl, metav1.CreateOptions{})
		must(err)
	}
	cls := gwClass()
	_, err = gwc.GatewayV1().GatewayClasses().Create(ctx, cls, metav1.CreateOptions{})
	must(err)
	g := gateway("shop", "web", httpListener("http", "", 80), httpsListener("https", "shop.example.com", "", "shop-tls"))
	g.CreationTimestamp = metav1.Time{}
	_, err = gwc.GatewayV1().Gateways("shop").Create(ctx, g, metav1.CreateOptions{})
	must(err)
	r := httpRoute("shop", "web", 0, []gw.ParentReference{parent("", "web", "")}, []string{"shop.example.com"},
		gw.HTTPRouteRule{BackendRefs: []gw.HTTPBackendRef{backendRef("", "a", 80, 1)}})
	r.CreationTimestamp = metav1.Time{}
	_, err = gwc.GatewayV1().HTTPRoutes("shop").Create(ctx, r, metav1.CreateOptions{})
	must(err)

	prov, err := New(Config{Rest: c.Rest(kubetest.EdgeToken), Source: "bench", Gateway: true, LeaseNamespace: "rancher-edge",
		Logger: slog.New(slog.DiscardHandler)})
	must(err)
	var mu sync.Mutex
	var last route.Snapshot
	changed := make(chan struct{}, 1)
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = prov.Run(rctx, func(s route.Snapshot) {
			if s.Provider != gatewayProvider {
				return
			}
			mu.Lock()
			last = s
			mu.Unlock()
			select {
			case changed <- struct{}{}:
			default:
			}
		})
	})
	defer func() { cancel(); wg.Wait() }()
	// live waits until the published snapshot satisfies ok.
	live := func(ok func(route.Snapshot) bool) {
		b.Helper()
		deadline := time.After(10 * time.Second)
		for {
			mu.Lock()
			s := last
			mu.Unlock()
			if ok(s) {
				return
			}
			select {
			case <-changed:
			case <-deadline:
				b.Fatalf("not live after 10 s: %+v", s.Services)
			}
		}
	}
	servers := func(s route.Snapshot) []route.Server {
		for _, svc := range s.Services {
			if svc.Source.Service == "httproute/web" {
				return svc.Servers
			}
		}
		return nil
	}
	weightOf := func(s route.Snapshot, url string) int {
		i := slices.IndexFunc(servers(s), func(sv route.Server) bool { return sv.URL == url })
		if i < 0 {
			return -1
		}
		return servers(s)[i].Weight
	}
	edit := func(f func(*gw.HTTPRoute)) time.Time {
		var start time.Time
		must(retry.RetryOnConflict(retry.DefaultRetry, func() error {
			r, err := gwc.GatewayV1().HTTPRoutes("shop").Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return err
			}
			f(r)
			_, err = gwc.GatewayV1().HTTPRoutes("shop").Update(ctx, r, metav1.UpdateOptions{})
			start = time.Now()
			return err
		}))
		return start
	}
	const urlA, urlB = "http://10.200.0.1:8080", "http://10.200.0.2:8080"
	live(func(s route.Snapshot) bool { return weightOf(s, urlA) > 0 })

	var routeT, weightT, secretT time.Duration
	for b.Loop() {
		// Route change: the rule moves from a to b.
		start := edit(func(r *gw.HTTPRoute) { r.Spec.Rules[0].BackendRefs = []gw.HTTPBackendRef{backendRef("", "b", 80, 1)} })
		live(func(s route.Snapshot) bool { return weightOf(s, urlB) > 0 && weightOf(s, urlA) < 0 })
		routeT += time.Since(start)
		// Weight change: a joins with weight 0 (drained), then b drains.
		edit(func(r *gw.HTTPRoute) {
			r.Spec.Rules[0].BackendRefs = []gw.HTTPBackendRef{backendRef("", "a", 80, 1), backendRef("", "b", 80, 1)}
		})
		live(func(s route.Snapshot) bool { return weightOf(s, urlA) > 0 && weightOf(s, urlB) > 0 })
		start = edit(func(r *gw.HTTPRoute) { r.Spec.Rules[0].BackendRefs[1].Weight = ptr(int32(0)) })
		live(func(s route.Snapshot) bool { return weightOf(s, urlA) > 0 && weightOf(s, urlB) == 0 })
		weightT += time.Since(start)
		edit(func(r *gw.HTTPRoute) { r.Spec.Rules[0].BackendRefs = []gw.HTTPBackendRef{backendRef("", "a", 80, 1)} })
		live(func(s route.Snapshot) bool { return weightOf(s, urlA) > 0 && weightOf(s, urlB) < 0 })
		// Secret rotation.
		crt, key, err := certs.SelfSigned([]string{"shop.example.com"}, time.Hour)
		must(err)
		cur, err := c.Admin.CoreV1().Secrets("shop").Get(ctx, "shop-tls", metav1.GetOptions{})
		must(err)
		cur.Data[corev1.TLSCertKey], cur.Data[corev1.TLSPrivateKeyKey] = crt, key
		_, err = c.Admin.CoreV1().Secrets("shop").Update(ctx, cur, metav1.UpdateOptions{})
		start = time.Now()
		must(err)
		live(func(s route.Snapshot) bool {
			return len(s.Certificates) == 1 && bytes.Equal(s.Certificates[0].CertPEM, crt)
		})
		secretT += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(float64(routeT.Milliseconds())/n, "route-ms")
	b.ReportMetric(float64(weightT.Milliseconds())/n, "weight-ms")
	b.ReportMetric(float64(secretT.Milliseconds())/n, "secret-ms")
}

// BenchmarkBuildGatewayScale measures one Gateway API rebuild at the
// Ingress scale of the issue: 1,000 HTTPRoutes (two rules each, one on a
// path, one weighted over two Services) on one Gateway with an HTTP and an
// HTTPS listener, 2,000 Services, 10,000 ready endpoints.
func BenchmarkBuildGatewayScale(b *testing.B) {
	parts := []any{gwClass(), gateway("infra", "edge", allowAll(httpListener("http", "", 80)), allowAll(httpsListener("https", "", "", "wild"))),
		tlsSecret(b, "infra", "wild", "*.example.com")}
	for i := range 2000 {
		ns := fmt.Sprintf("ns%d", i/40)
		name := fmt.Sprintf("svc%d", i)
		parts = append(parts, svc(ns, name, sport("http", 80, intstr.FromInt(8080))))
		var eps []ep
		for j := range 5 {
			eps = append(eps, ep{addr: fmt.Sprintf("10.%d.%d.%d", i/250, i%250, j+1), ready: ptr(true)})
		}
		parts = append(parts, slice(ns, name, name+"-a", "http", 8080, eps...))
	}
	for i := range 1000 {
		ns := fmt.Sprintf("ns%d", 2*i/40)
		parts = append(parts, httpRoute(ns, fmt.Sprintf("r%d", i), i, []gw.ParentReference{parent("infra", "edge", "")}, []string{fmt.Sprintf("app%d.example.com", i)},
			gw.HTTPRouteRule{Matches: []gw.HTTPRouteMatch{prefixMatch("/api")}, BackendRefs: []gw.HTTPBackendRef{backendRef("", fmt.Sprintf("svc%d", 2*i+1), 80, -1)}},
			gw.HTTPRouteRule{BackendRefs: []gw.HTTPBackendRef{backendRef("", fmt.Sprintf("svc%d", 2*i), 80, 90), backendRef("", fmt.Sprintf("svc%d", 2*i+1), 80, 10)}}))
	}
	w := newGatewayWorld(parts...)
	s := gatewayTestSettings()
	chk := &buildCache{}
	snap, _ := buildGateway(w, s, chk)
	if n := len(snap.Services); n < 2000 || len(snap.Problems) != 0 {
		b.Fatalf("%d routes, problems %v", n, snap.Problems)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		buildGateway(w, s, chk)
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}
