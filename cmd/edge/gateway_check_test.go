package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/discovery/kubernetes"
	"github.com/rancher-edge/edge/discovery/kubernetes/kubetest"
)

// TestCheckOnlineGatewayAPI: `edge check --online` with
// TRAEFIK_KUBERNETES_GATEWAY against a real apiserver, with the
// deployment's RBAC: without the CRDs it warns and passes (the Ingresses
// are served); with them it lists the Gateways the edge serves and fails
// on a route's problem, in the words of the dashboard.
func TestCheckOnlineGatewayAPI(t *testing.T) {
	ctx := context.Background()
	c := kubetest.Start(t)
	for _, ns := range []string{"rancher-edge", "shop"} {
		must(t, create(ctx, c.Admin.CoreV1().Namespaces(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}
	for _, f := range []string{"rbac.yaml", "gateway-api.yaml"} {
		raw, err := os.ReadFile(filepath.Join("../../deploy/kubernetes", f))
		must(t, err)
		must(t, c.GrantEdge(ctx, raw, "rancher-edge"))
	}
	env := quietPorts(t, map[string]string{
		"TRAEFIK_HTTPS_ENABLE":        "false",
		"TRAEFIK_KUBERNETES_ENABLE":   "true",
		"TRAEFIK_KUBERNETES_GATEWAY":  "true",
		"TRAEFIK_KUBERNETES_ENDPOINT": c.URL,
		"TRAEFIK_KUBERNETES_TOKEN":    kubetest.EdgeToken,
		"TRAEFIK_KUBERNETES_CA":       string(c.CA),
	})
	var out bytes.Buffer
	if err := run(ctx, []string{"check", "--online"}, mapEnv(env), &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "kubernetes Gateway API: WARNING: gatewayclasses, gateways, httproutes, referencegrants not served (gateway.networking.k8s.io/v1)") {
		t.Errorf("without the CRDs: %v\n%s", err, out.String())
	}

	must(t, c.InstallGatewayAPI(ctx))
	gwc := c.Admin
	must(t, create(ctx, gwc.GatewayV1().GatewayClasses(), &gw.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "rancher-edge"},
		Spec: gw.GatewayClassSpec{ControllerName: kubernetes.GatewayController}}))
	must(t, create(ctx, gwc.GatewayV1().Gateways("shop"), &gw.Gateway{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: gw.GatewaySpec{
		GatewayClassName: "rancher-edge",
		Listeners:        []gw.Listener{{Name: "http", Port: 80, Protocol: gw.HTTPProtocolType}, {Name: "alt", Port: 8081, Protocol: gw.HTTPProtocolType}},
	}}))
	must(t, create(ctx, gwc.GatewayV1().HTTPRoutes("shop"), &gw.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: gw.HTTPRouteSpec{
		CommonRouteSpec: gw.CommonRouteSpec{ParentRefs: []gw.ParentReference{{Name: "web", SectionName: ptrTo(gw.SectionName("http"))}}},
		Rules: []gw.HTTPRouteRule{{BackendRefs: []gw.HTTPBackendRef{{BackendRef: gw.BackendRef{BackendObjectReference: gw.BackendObjectReference{
			Name: "nope", Port: ptrTo(gw.PortNumber(80))}}}}}},
	}}))
	out.Reset()
	err := run(ctx, []string{"check", "--online"}, mapEnv(env), &out, io.Discard)
	for _, want := range []string{
		"kubernetes Gateway API gateway.networking.k8s.io/v1: OK",
		"shop/web  rancher-edge  1 of 2",
		"listener not programmed: Accepted=False PortUnavailable",
		"backendRef nope: Service shop/nope not found",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the check does not say %q:\n%s", want, out.String())
		}
	}
	if err == nil || !strings.Contains(err.Error(), "Service shop/nope not found") {
		t.Errorf("a route's error does not fail the check: %v", err)
	}
}
