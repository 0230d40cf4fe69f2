package kubernetes

import (
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
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/discovery/kubernetes/kubetest"
	"github.com/rancher-edge/edge/route"
)

// TestGatewayStatusLeaderOnly: two edges with Gateway API against a real
// apiserver, with the deployment's RBAC and no Ingress address: only the
// Lease holder writes Gateway API status (the apiserver's managedFields
// name the writer), and the other takes over when it stops.
func TestGatewayStatusLeaderOnly(t *testing.T) {
	ctx := context.Background()
	c := kubetest.Start(t)
	if err := c.InstallGatewayAPI(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"rancher-edge", "shop"} {
		if _, err := c.Admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"rbac.yaml", "gateway-api.yaml"} {
		raw, err := os.ReadFile("../../deploy/kubernetes/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.GrantEdge(ctx, raw, "rancher-edge"); err != nil {
			t.Fatal(err)
		}
	}
	gwc := c.Admin
	if _, err := gwc.GatewayV1().GatewayClasses().Create(ctx, gwClass(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	g := gateway("shop", "web", httpListener("http", "", 80))
	g.CreationTimestamp = metav1.Time{}
	if _, err := gwc.GatewayV1().Gateways("shop").Create(ctx, g, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	const lease = 2 * time.Second
	start := func(id string) (stop func()) {
		rc := c.Rest(kubetest.EdgeToken)
		rc.UserAgent = id // the field manager of its writes
		prov, err := New(Config{Rest: rc, Source: "test", Gateway: true, LeaseNamespace: "rancher-edge", Identity: id,
			LeaseDuration: lease, RenewDeadline: 1500 * time.Millisecond, RetryPeriod: 250 * time.Millisecond,
			Logger: slog.New(slog.DiscardHandler)})
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
		return func() { cancel(); wg.Wait() }
	}
	// writers are the field managers of the Gateway's status.
	writers := func() []string {
		got, err := gwc.GatewayV1().Gateways("shop").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range got.ManagedFields {
			if m.Subresource == "status" {
				out = append(out, m.Manager)
			}
		}
		slices.Sort(out)
		return out
	}
	wait := func(what string, ok func() bool) {
		t.Helper()
		for end := time.Now().Add(20 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("%s: status writers %v", what, writers())
			}
		}
	}
	stopA := start("edge-a")
	wait("edge-a writes", func() bool { return slices.Equal(writers(), []string{"edge-a"}) })
	stopB := start("edge-b")
	defer stopB()
	// A change: the leader writes it, the follower nothing.
	cur, err := gwc.GatewayV1().Gateways("shop").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec.Listeners = append(cur.Spec.Listeners, httpListener("alt", "alt.example.com", 80))
	if _, err := gwc.GatewayV1().Gateways("shop").Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	listeners := func() int {
		got, err := gwc.GatewayV1().Gateways("shop").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return len(got.Status.Listeners)
	}
	wait("the leader writes the change", func() bool { return listeners() == 2 })
	for end := time.Now().Add(3 * lease); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if w := writers(); !slices.Equal(w, []string{"edge-a"}) {
			t.Fatalf("status written by %v while edge-a leads", w)
		}
	}
	// edge-a stops: edge-b leads and writes the next change.
	stopA()
	cur, err = gwc.GatewayV1().Gateways("shop").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec.Listeners = cur.Spec.Listeners[:1]
	if _, err := gwc.GatewayV1().Gateways("shop").Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("edge-b takes over", func() bool { return listeners() == 1 && slices.Contains(writers(), "edge-b") })
	got, err := gwc.GatewayV1().Gateways("shop").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l := got.Status.Listeners[0]; l.Name != "http" || fmt.Sprint(condOf(l.Conditions, string(gw.ListenerConditionProgrammed))) != "True/Programmed" {
		t.Errorf("after the takeover: listener %+v", l)
	}
}
