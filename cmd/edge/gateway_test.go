package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/discovery/kubernetes"
	"github.com/rancher-edge/edge/discovery/kubernetes/kubetest"
	"github.com/rancher-edge/edge/internal/kubeclient"
)

// TestKubernetesGateway runs the whole edge with TRAEFIK_KUBERNETES_GATEWAY
// against a real apiserver, with the chart's RBAC (deploy/kubernetes), the
// standard-channel CRDs of the gateway-api module and the scenarios of its
// conformance suite (base/manifests.yaml and tests/*.yaml, read from the
// module cache): requests are routed as the spec says and the status
// conditions carry the spec's reasons.
func TestKubernetesGateway(t *testing.T) {
	conf := kubetest.ConformanceDir(t) // outside the namespace: it may download
	addrs := []string{"10.200.0.100"}
	for _, ip := range conformanceBackends {
		addrs = append(addrs, ip)
	}
	if !kubetest.InNetns(t, addrs...) {
		return
	}
	ctx := context.Background()
	c := kubetest.Start(t)
	must(t, create(ctx, c.Admin.CoreV1().Namespaces(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "rancher-edge"}}))
	for _, f := range []string{"rbac.yaml", "gateway-api.yaml"} {
		raw, err := os.ReadFile(filepath.Join("../../deploy/kubernetes", f))
		must(t, err)
		must(t, c.GrantEdge(ctx, raw, "rancher-edge"))
	}
	// An Ingress, to show it is served while Gateway API is missing.
	must(t, create(ctx, c.Admin.CoreV1().Namespaces(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}))
	must(t, create(ctx, c.Admin.NetworkingV1().IngressClasses(), &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: kubernetes.DefaultClass}, Spec: networkingv1.IngressClassSpec{Controller: kubernetes.Controller}}))
	must(t, create(ctx, c.Admin.CoreV1().Services("shop"), kubeService("web", "http", 80, intstr.FromInt(3000))))
	shopSlice := kubeSlice("web-1", "web", "http", 3000, readyEP("10.200.1.6", true))
	must(t, create(ctx, c.Admin.DiscoveryV1().EndpointSlices("shop"), shopSlice))
	must(t, create(ctx, c.Admin.NetworkingV1().Ingresses("shop"), kubeIngress("web", kubernetes.DefaultClass, "shop.example.com",
		kubePath(networkingv1.PathTypePrefix, "/", "web", "http"))))
	for key, ip := range conformanceBackends {
		_, name, _ := strings.Cut(key, "/")
		gwEchoBackend(t, ip, name)
	}

	dir := t.TempDir()
	defCert, defKey, defPEM := writeCert(t, dir, "default", "default.test")
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(defPEM)
	httpPort, httpsPort, adminPort := freePort(t), freePort(t), freePort(t)
	// A routes file beside Kubernetes, for the clash between providers.
	routes := filepath.Join(dir, "routes.yaml")
	must(t, os.WriteFile(routes, []byte("services: []\n"), 0o600))
	// Every client before the edge starts: making one reads klog's
	// global logger, which the edge (in this process) sets.
	gwc := c.Admin
	ap := newApplier(t, c)
	stop := startEdgeProcess(t, map[string]string{
		"TRAEFIK_HTTP_PORT":                  strconv.Itoa(httpPort),
		"TRAEFIK_HTTPS_PORT":                 strconv.Itoa(httpsPort),
		"TRAEFIK_HTTPS_PUBLIC_PORT":          "443",
		"TRAEFIK_SSL_CERT":                   defCert,
		"TRAEFIK_SSL_PRIVATE_KEY":            defKey,
		"TRAEFIK_ADMIN_PORT":                 strconv.Itoa(adminPort),
		"TRAEFIK_ADMIN_BIND":                 "127.0.0.1",
		"TRAEFIK_FILE":                       routes,
		"TRAEFIK_KUBERNETES_ENABLE":          "true",
		"TRAEFIK_KUBERNETES_GATEWAY":         "true",
		"TRAEFIK_KUBERNETES_ENDPOINT":        c.URL,
		"TRAEFIK_KUBERNETES_TOKEN":           kubetest.EdgeToken,
		"TRAEFIK_KUBERNETES_CA":              string(c.CA),
		"TRAEFIK_KUBERNETES_INGRESS_ADDRESS": "10.200.0.100",
		"POD_NAMESPACE":                      "rancher-edge",
		"POD_NAME":                           "edge-0",
	})
	defer stop()
	client := httpsClient(roots, httpsPort, httpPort)
	insecure := httpsClient(roots, httpsPort, httpPort)
	insecure.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // the dashboard's default certificate
	f := &gwFixture{ctx: ctx, c: c, ap: ap, conf: conf, gwc: gwc, client: client, insecure: insecure, httpPort: httpPort, httpsPort: httpsPort, adminPort: adminPort, routes: routes}
	get := f.get

	t.Run("without the CRDs Ingresses serve and the dashboard says why", func(t *testing.T) {
		waitFor(t, 15*time.Second, func() error {
			e, code, err := gwEchoOf(client, get("shop.example.com", "/"), nil)
			if err == nil && (code != 200 || e.Backend != "web-backend") {
				err = fmt.Errorf("%d from %q", code, e.Backend)
			}
			return err
		})
		waitFor(t, 15*time.Second, func() error {
			resp, err := insecure.Get(fmt.Sprintf("https://127.0.0.1:%d/api/discovery", adminPort))
			if err != nil {
				return err
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), "Gateway API is off: the apiserver does not serve gateway.networking.k8s.io/v1") {
				return fmt.Errorf("the dashboard does not say Gateway API is missing:\n%s", body)
			}
			return nil
		})
	})

	// The CRDs, then the conformance base: Namespaces, Gateways (class
	// rancher-edge), Services, and the Secret the HTTPS Gateway names.
	must(t, c.InstallGatewayAPI(ctx))
	ap.apply(t, ctx, yamlObjects(t, mustRead(t, "../../deploy/kubernetes/gateway-api.yaml"))[2:]) // the GatewayClass
	base := conformanceFile(t, conf, "base/manifests.yaml")
	crt, key, err := certs.SelfSigned([]string{"example.org", "second-example.org", "*.wildcard.org"}, time.Hour)
	must(t, err)
	roots.AppendCertsFromPEM(crt)
	ap.apply(t, ctx, base)
	must(t, create(ctx, c.Admin.CoreV1().Secrets(infraNS), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tls-validity-checks-certificate"},
		Type: corev1.SecretTypeTLS, Data: map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key}}))
	conformanceSlices(t, ctx, c, base)

	accepted := []condition{{"Accepted", "True", "Accepted"}, {"ResolvedRefs", "True", "ResolvedRefs"}}

	t.Run("GatewayClass and Gateways accepted, listeners programmed, addresses", func(t *testing.T) {
		waitFor(t, 30*time.Second, func() error {
			gc, err := gwc.GatewayV1().GatewayClasses().Get(ctx, "rancher-edge", metav1.GetOptions{})
			if err != nil {
				return err
			}
			return conditionsMatch(gc.Status.Conditions, condition{"Accepted", "True", "Accepted"})
		})
		waitFor(t, 20*time.Second, func() error {
			g, err := gwc.GatewayV1().Gateways(infraNS).Get(ctx, "same-namespace", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if err := conditionsMatch(g.Status.Conditions, condition{"Accepted", "True", "Accepted"}, condition{"Programmed", "True", "Programmed"}); err != nil {
				return err
			}
			if err := conditionsMatch(gwListener(g, "http").Conditions, condition{"Accepted", "True", "Accepted"}, condition{"Programmed", "True", "Programmed"},
				condition{"ResolvedRefs", "True", "ResolvedRefs"}, condition{"Conflicted", "False", "NoConflicts"}); err != nil {
				return fmt.Errorf("listener http: %w", err)
			}
			if a := g.Status.Addresses; len(a) != 1 || a[0].Value != "10.200.0.100" || a[0].Type == nil || *a[0].Type != gw.IPAddressType {
				return fmt.Errorf("addresses %+v", a)
			}
			return nil
		})
		// The HTTPS Gateway's certificate Secret resolves.
		waitFor(t, 20*time.Second, func() error {
			g, err := gwc.GatewayV1().Gateways(infraNS).Get(ctx, "same-namespace-with-https-listener", metav1.GetOptions{})
			if err != nil {
				return err
			}
			return conditionsMatch(gwListener(g, "https-with-hostname").Conditions, condition{"ResolvedRefs", "True", "ResolvedRefs"}, condition{"Programmed", "True", "Programmed"})
		})
	})

	t.Run("simple same namespace", func(t *testing.T) {
		objs := conformanceFile(t, conf, "tests/httproute-simple-same-namespace.yaml")
		ap.apply(t, ctx, objs)
		defer ap.remove(t, ctx, objs)
		f.routed(t, gwReq{get("any.example", "/"), nil, "infra-backend-v1"})
		f.routeConds(t, infraNS, "gateway-conformance-infra-test", "same-namespace", accepted...)
		waitFor(t, 20*time.Second, func() error {
			g, err := gwc.GatewayV1().Gateways(infraNS).Get(ctx, "same-namespace", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if n := gwListener(g, "http").AttachedRoutes; n != 1 {
				return fmt.Errorf("attachedRoutes %d, want 1", n)
			}
			return nil
		})
		// Status is written on change only: once it says what the edge
		// wants, the edge's own writes cause no further ones (a loop
		// would bump the resource versions within milliseconds).
		versions := func() string {
			gc, err1 := gwc.GatewayV1().GatewayClasses().Get(ctx, "rancher-edge", metav1.GetOptions{})
			g, err2 := gwc.GatewayV1().Gateways(infraNS).Get(ctx, "same-namespace", metav1.GetOptions{})
			r, err3 := gwc.GatewayV1().HTTPRoutes(infraNS).Get(ctx, "gateway-conformance-infra-test", metav1.GetOptions{})
			must(t, errors.Join(err1, err2, err3))
			return gc.ResourceVersion + "/" + g.ResourceVersion + "/" + r.ResourceVersion
		}
		before := versions()
		time.Sleep(2 * time.Second)
		if after := versions(); after != before {
			t.Errorf("status rewritten with nothing changed: resource versions %s, then %s", before, after)
		}
	})

	t.Run("matching: path prefix by segment, headers", func(t *testing.T) {
		objs := conformanceFile(t, conf, "tests/httproute-matching.yaml")
		ap.apply(t, ctx, objs)
		defer ap.remove(t, ctx, objs)
		f.routeConds(t, infraNS, "matching", "same-namespace", accepted...)
		v1, v2 := "infra-backend-v1", "infra-backend-v2"
		f.routed(t,
			gwReq{get("m.example", "/"), nil, v1}, gwReq{get("m.example", "/example"), nil, v1},
			gwReq{get("m.example", "/"), map[string]string{"Version": "one"}, v1},
			gwReq{get("m.example", "/v2"), nil, v2}, gwReq{get("m.example", "/v2/example"), nil, v2},
			gwReq{get("m.example", "/"), map[string]string{"Version": "two"}, v2}, gwReq{get("m.example", "/v2/"), nil, v2},
			gwReq{get("m.example", "/v2example"), nil, v1}, gwReq{get("m.example", "/foo/v2/example"), nil, v1})
	})

	f.filterScenarios(t)
	f.hostScenarios(t)
	f.claimScenario(t)
	f.secretGrantScenarios(t)
	f.otherKindScenario(t)

	t.Run("nonexistent backend: BackendNotFound and 500", func(t *testing.T) {
		objs := conformanceFile(t, conf, "tests/httproute-invalid-nonexistent-backendref.yaml")
		ap.apply(t, ctx, objs)
		defer ap.remove(t, ctx, objs)
		f.routeConds(t, infraNS, "invalid-nonexistent-backend-ref", "same-namespace",
			condition{"Accepted", "True", "Accepted"}, condition{"ResolvedRefs", "False", "BackendNotFound"})
		waitFor(t, 20*time.Second, func() error {
			if _, code, err := gwEchoOf(client, get("x.example", "/"), nil); err != nil || code != 500 {
				return fmt.Errorf("%d, want 500 (%v)", code, err)
			}
			return nil
		})
	})

	t.Run("partly invalid backendRefs: their weight's share of 500s", func(t *testing.T) {
		objs := yamlObjects(t, []byte(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: partly-invalid
  namespace: gateway-conformance-infra
spec:
  parentRefs:
  - name: same-namespace
  hostnames: ["partly.example"]
  rules:
  - backendRefs:
    - name: infra-backend-v1
      port: 8080
      weight: 3
    - name: does-not-exist
      port: 8080
      weight: 1
`))
		ap.apply(t, ctx, objs)
		defer ap.remove(t, ctx, objs)
		f.routeConds(t, infraNS, "partly-invalid", "same-namespace",
			condition{"Accepted", "True", "Accepted"}, condition{"ResolvedRefs", "False", "BackendNotFound"})
		waitFor(t, 20*time.Second, func() error {
			if _, code, err := gwEchoOf(client, get("partly.example", "/"), nil); err != nil || code != 500 {
				return fmt.Errorf("%d, want 500 (%v)", code, err)
			}
			return nil
		})
		counts := map[string]int{}
		for range 200 {
			e, code, err := gwEchoOf(client, get("partly.example", "/"), nil)
			must(t, err)
			if code == 500 {
				counts["500"]++
				continue
			}
			counts[strconv.Itoa(code)+" "+e.Backend]++
		}
		// 1 in 4 answered 500, spread evenly: 50 of 200, within a few
		// for requests that raced a rebuild (each table counts afresh).
		if n := counts["500"]; n < 47 || n > 53 || n+counts["200 infra-backend-v1"] != 200 {
			t.Errorf("answers %v, want 150 from infra-backend-v1 and 50 of 500", counts)
		}
	})

	t.Run("cross-namespace backend: RefNotPermitted, then a ReferenceGrant", func(t *testing.T) {
		objs := conformanceFile(t, conf, "tests/httproute-invalid-cross-namespace-backend-ref.yaml")
		ap.apply(t, ctx, objs)
		f.routeConds(t, infraNS, "invalid-cross-namespace-backend-ref", "same-namespace",
			condition{"Accepted", "True", "Accepted"}, condition{"ResolvedRefs", "False", "RefNotPermitted"})
		ap.remove(t, ctx, objs)
		objs = conformanceFile(t, conf, "tests/httproute-reference-grant.yaml")
		ap.apply(t, ctx, objs)
		defer ap.remove(t, ctx, objs)
		f.routeConds(t, infraNS, "reference-grant", "same-namespace", accepted...)
		f.routed(t, gwReq{get("g.example", "/"), nil, "web-backend"})
	})

	t.Run("parent in another namespace: NotAllowedByListeners", func(t *testing.T) {
		objs := conformanceFile(t, conf, "tests/httproute-invalid-cross-namespace-parent-ref.yaml")
		ap.apply(t, ctx, objs)
		defer ap.remove(t, ctx, objs)
		f.routeConds(t, "gateway-conformance-web-backend", "invalid-cross-namespace-parent-ref", "same-namespace",
			condition{"Accepted", "False", "NotAllowedByListeners"})
	})

	t.Run("listener on a port the edge does not serve: PortUnavailable", func(t *testing.T) {
		g := &gw.Gateway{ObjectMeta: metav1.ObjectMeta{Name: "port-8080", Namespace: infraNS}, Spec: gw.GatewaySpec{
			GatewayClassName: "rancher-edge",
			Listeners:        []gw.Listener{{Name: "http", Port: 8080, Protocol: gw.HTTPProtocolType}},
		}}
		must(t, create(ctx, gwc.GatewayV1().Gateways(infraNS), g))
		waitFor(t, 20*time.Second, func() error {
			g, err := gwc.GatewayV1().Gateways(infraNS).Get(ctx, "port-8080", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if err := conditionsMatch(g.Status.Conditions, condition{"Accepted", "False", "ListenersNotValid"}, condition{"Programmed", "False", "Invalid"}); err != nil {
				return err
			}
			return conditionsMatch(gwListener(g, "http").Conditions, condition{"Accepted", "False", "PortUnavailable"}, condition{"Programmed", "False", "Invalid"})
		})
	})

	t.Run("weights, and a weight change goes live", func(t *testing.T) {
		objs := conformanceFile(t, conf, "tests/httproute-weight.yaml")
		ap.apply(t, ctx, objs)
		defer ap.remove(t, ctx, objs)
		f.routeConds(t, infraNS, "weighted-backends", "same-namespace", accepted...)
		f.routed(t, gwReq{get("w.example", "/"), nil, "infra-backend-v1"}) // served (v1 or v2)
		counts := map[string]int{}
		for range 200 {
			e, code, err := gwEchoOf(client, get("w.example", "/"), nil)
			must(t, err)
			if code != 200 {
				t.Fatalf("status %d", code)
			}
			counts[e.Backend]++
		}
		// 70/30/0 over 200 requests (weighted round robin is exact, within
		// a few for requests that raced a rebuild).
		if counts["infra-backend-v3"] != 0 || counts["infra-backend-v1"] < 130 || counts["infra-backend-v1"] > 150 || counts["infra-backend-v2"] < 50 {
			t.Errorf("shares %v, want about 140/60/0", counts)
		}
		start := updateRoute(t, gwc, "weighted-backends", func(r *gw.HTTPRoute) {
			r.Spec.Rules[0].BackendRefs[0].Weight = ptrTo(int32(0))
			r.Spec.Rules[0].BackendRefs[2].Weight = ptrTo(int32(50))
		})
		waitFor(t, 5*time.Second, func() error {
			seen := map[string]int{}
			for range 20 {
				e, _, err := gwEchoOf(client, get("w.example", "/"), nil)
				if err != nil {
					return err
				}
				seen[e.Backend]++
			}
			if seen["infra-backend-v1"] != 0 || seen["infra-backend-v2"] == 0 || seen["infra-backend-v3"] == 0 {
				return fmt.Errorf("after the weight change: %v", seen)
			}
			return nil
		})
		t.Logf("weight change live after %v", time.Since(start).Round(time.Millisecond))
	})

	t.Run("a route change goes live", func(t *testing.T) {
		objs := conformanceFile(t, conf, "tests/httproute-simple-same-namespace.yaml")
		ap.apply(t, ctx, objs)
		defer ap.remove(t, ctx, objs)
		f.routed(t, gwReq{get("c.example", "/"), nil, "infra-backend-v1"})
		start := updateRoute(t, gwc, "gateway-conformance-infra-test", func(r *gw.HTTPRoute) {
			r.Spec.Rules[0].BackendRefs[0].Name = "infra-backend-v2"
		})
		waitFor(t, 5*time.Second, func() error {
			return only(client, get("c.example", "/"), "infra-backend-v2")
		})
		t.Logf("route change live after %v", time.Since(start).Round(time.Millisecond))
	})

	t.Run("HTTPS listeners, and a Secret rotation", func(t *testing.T) {
		objs := conformanceFile(t, conf, "tests/httproute-https-listener.yaml")
		ap.apply(t, ctx, objs)
		defer ap.remove(t, ctx, objs)
		f.routeConds(t, infraNS, "httproute-https-test", "same-namespace-with-https-listener", accepted...)
		https := func(host string) string { return fmt.Sprintf("https://%s:%d/", host, httpsPort) }
		f.routed(t, gwReq{https("example.org"), nil, "infra-backend-v1"}, gwReq{https("second-example.org"), nil, "infra-backend-v2"})
		newCrt, newKey, err := certs.SelfSigned([]string{"example.org", "second-example.org", "*.wildcard.org"}, 2*time.Hour)
		must(t, err)
		roots.AppendCertsFromPEM(newCrt)
		want := mustParse(t, newCrt).SerialNumber
		sec, err := c.Admin.CoreV1().Secrets(infraNS).Get(ctx, "tls-validity-checks-certificate", metav1.GetOptions{})
		must(t, err)
		sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey] = newCrt, newKey
		start := time.Now()
		_, err = c.Admin.CoreV1().Secrets(infraNS).Update(ctx, sec, metav1.UpdateOptions{})
		must(t, err)
		waitFor(t, 5*time.Second, func() error {
			conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(httpsPort), &tls.Config{ServerName: "example.org", RootCAs: roots})
			if err != nil {
				return err
			}
			defer conn.Close()
			if got := conn.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(want) != 0 {
				return fmt.Errorf("serial %v, want %v", got, want)
			}
			return nil
		})
		t.Logf("rotated Secret served after %v", time.Since(start).Round(time.Millisecond))
	})
}

// updateRoute edits an HTTPRoute of the infra namespace, again when the
// edge's status write came between the read and the update; it returns
// when the edit was accepted.
func updateRoute(t *testing.T, gwc *kubeclient.Clients, name string, edit func(*gw.HTTPRoute)) time.Time {
	t.Helper()
	var start time.Time
	must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		r, err := gwc.GatewayV1().HTTPRoutes(infraNS).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		edit(r)
		start = time.Now()
		_, err = gwc.GatewayV1().HTTPRoutes(infraNS).Update(context.Background(), r, metav1.UpdateOptions{})
		return err
	}))
	return start
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return b
}
