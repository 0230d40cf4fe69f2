package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/discovery/kubernetes"
)

// hostScenarios replays the conformance scenarios of listener hostnames
// and their intersection with the routes' hostnames: their own Gateways
// with several HTTP listeners on port 80, one edge listener.
func (f *gwFixture) hostScenarios(t *testing.T) {
	const v1, v2, v3 = "infra-backend-v1", "infra-backend-v2", "infra-backend-v3"
	accepted := []condition{{"Accepted", "True", "Accepted"}, {"ResolvedRefs", "True", "ResolvedRefs"}}
	t.Run("listener hostname matching", func(t *testing.T) {
		objs := conformanceFile(t, f.conf, "tests/httproute-listener-hostname-matching.yaml")
		f.ap.apply(t, f.ctx, objs)
		defer f.ap.remove(t, f.ctx, objs)
		for _, r := range []string{"backend-v1", "backend-v2", "backend-v3"} {
			f.routeConds(t, infraNS, r, "httproute-listener-hostname-matching", accepted...)
		}
		f.cases(t, "",
			gwCase{host: "bar.com", path: "/", backend: v1}, gwCase{host: "foo.bar.com", path: "/", backend: v2},
			gwCase{host: "baz.bar.com", path: "/", backend: v3}, gwCase{host: "boo.bar.com", path: "/", backend: v3},
			gwCase{host: "multiple.prefixes.bar.com", path: "/", backend: v3}, gwCase{host: "multiple.prefixes.foo.com", path: "/", backend: v3},
			gwCase{host: "foo.com", path: "/", status: 404}, gwCase{host: "no.matching.host", path: "/", status: 404})
	})
	t.Run("hostname intersection", func(t *testing.T) {
		objs := conformanceFile(t, f.conf, "tests/httproute-hostname-intersection.yaml")
		f.ap.apply(t, f.ctx, objs)
		defer f.ap.remove(t, f.ctx, objs)
		for _, r := range []string{"specific-host-matches-listener-specific-host", "specific-host-matches-listener-wildcard-host",
			"wildcard-host-matches-listener-specific-host", "wildcard-host-matches-listener-wildcard-host"} {
			f.routeConds(t, infraNS, r, "httproute-hostname-intersection", accepted...)
		}
		f.routeConds(t, infraNS, "no-intersecting-hosts", "httproute-hostname-intersection",
			condition{"Accepted", "False", "NoMatchingListenerHostname"})
		f.cases(t, "",
			gwCase{host: "very.specific.com", path: "/s1", backend: v1},
			gwCase{host: "non.matching.com", path: "/s1", status: 404}, gwCase{host: "foo.nonmatchingwildcard.io", path: "/s1", status: 404},
			gwCase{host: "foo.wildcard.io", path: "/s1", status: 404}, gwCase{host: "very.specific.com", path: "/non-matching-prefix", status: 404},
			gwCase{host: "foo.wildcard.io", path: "/s2", backend: v2}, gwCase{host: "bar.wildcard.io", path: "/s2", backend: v2},
			gwCase{host: "foo.bar.wildcard.io", path: "/s2", backend: v2},
			gwCase{host: "non.matching.com", path: "/s2", status: 404}, gwCase{host: "wildcard.io", path: "/s2", status: 404},
			gwCase{host: "very.specific.com", path: "/s2", status: 404}, gwCase{host: "foo.wildcard.io", path: "/non-matching-prefix", status: 404},
			gwCase{host: "very.specific.com", path: "/s3", backend: v3},
			gwCase{host: "non.matching.com", path: "/s3", status: 404}, gwCase{host: "foo.specific.com", path: "/s3", status: 404},
			gwCase{host: "foo.wildcard.io", path: "/s3", status: 404},
			gwCase{host: "foo.anotherwildcard.io", path: "/s4", backend: v1}, gwCase{host: "bar.anotherwildcard.io", path: "/s4", backend: v1},
			gwCase{host: "foo.bar.anotherwildcard.io", path: "/s4", backend: v1},
			gwCase{host: "anotherwildcard.io", path: "/s4", status: 404}, gwCase{host: "foo.wildcard.io", path: "/s4", status: 404},
			gwCase{host: "very.specific.com", path: "/s4", status: 404},
			gwCase{host: "specific.but.wrong.com", path: "/s5", status: 404}, gwCase{host: "wildcard.io", path: "/s5", status: 404})
		// attachedRoutes counts the accepted routes only.
		waitFor(t, 20*time.Second, func() error {
			g, err := f.gwc.GatewayV1().Gateways(infraNS).Get(f.ctx, "httproute-hostname-intersection", metav1.GetOptions{})
			if err != nil {
				return err
			}
			for l, want := range map[string]int32{"listener-1": 2, "listener-2": 1, "listener-3": 1} {
				if got := gwListener(g, l).AttachedRoutes; got != want {
					return fmt.Errorf("%s attachedRoutes %d, want %d", l, got, want)
				}
			}
			return nil
		})
	})
}

// claimScenario: an Ingress and an HTTPRoute claiming the same host and
// path are settled as two Ingresses are, by the routing table: the older
// serves, the newer is not served there, and an HTTPRoute that lost says
// so in its status.
func (f *gwFixture) claimScenario(t *testing.T) {
	t.Run("an Ingress and an HTTPRoute claim the same host and path", func(t *testing.T) {
		ingresses := f.c.Admin.NetworkingV1().Ingresses("shop")
		ing := kubeIngress("clash", kubernetes.DefaultClass, "clash.example", kubePath(networkingv1.PathTypePrefix, "/", "web", "http"))
		must(t, create(f.ctx, ingresses, ing))
		f.cases(t, "clash.example", gwCase{path: "/", backend: "web-backend"})
		// Creation times have whole seconds, and objects of the same age
		// are settled by priority (the HTTPRoute's): the route is made a
		// second after the Ingress.
		curIng, err := ingresses.Get(f.ctx, "clash", metav1.GetOptions{})
		must(t, err)
		time.Sleep(time.Until(curIng.CreationTimestamp.Add(time.Second)))
		r := &gw.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "clash", Namespace: infraNS}, Spec: gw.HTTPRouteSpec{
			CommonRouteSpec: gw.CommonRouteSpec{ParentRefs: []gw.ParentReference{{Name: "same-namespace"}}},
			Hostnames:       []gw.Hostname{"clash.example"},
			Rules: []gw.HTTPRouteRule{{BackendRefs: []gw.HTTPBackendRef{{BackendRef: gw.BackendRef{BackendObjectReference: gw.BackendObjectReference{
				Name: "infra-backend-v1", Port: ptrTo(gw.PortNumber(8080))}}}}}},
		}}
		must(t, create(f.ctx, f.gwc.GatewayV1().HTTPRoutes(infraNS), r))
		defer func() { must(t, f.gwc.GatewayV1().HTTPRoutes(infraNS).Delete(f.ctx, "clash", metav1.DeleteOptions{})) }()
		// The Ingress is older: it keeps serving, the route lost.
		f.routeConds(t, infraNS, "clash", "same-namespace", condition{"Accepted", "False", "ConflictsWithIngress"})
		f.cases(t, "clash.example", gwCase{path: "/a", backend: "web-backend"})
		// Without the Ingress the route serves; an Ingress made now is
		// the newer: the route keeps the host.
		must(t, ingresses.Delete(f.ctx, "clash", metav1.DeleteOptions{}))
		f.routeConds(t, infraNS, "clash", "same-namespace", condition{"Accepted", "True", "Accepted"})
		f.cases(t, "clash.example", gwCase{path: "/", backend: "infra-backend-v1"})
		// An Ingress made a second after the route is the newer.
		cur, err := f.gwc.GatewayV1().HTTPRoutes(infraNS).Get(f.ctx, "clash", metav1.GetOptions{})
		must(t, err)
		time.Sleep(time.Until(cur.CreationTimestamp.Add(time.Second)))
		ing.ResourceVersion = ""
		must(t, create(f.ctx, ingresses, ing))
		defer func() { must(t, ingresses.Delete(f.ctx, "clash", metav1.DeleteOptions{})) }()
		waitFor(t, 20*time.Second, func() error {
			resp, err := f.insecure.Get(fmt.Sprintf("https://127.0.0.1:%d/api/discovery", f.adminPort))
			if err != nil {
				return err
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), "kubernetes-gateway:gateway-conformance-infra/httproute/clash#rule-0 gets the requests (the oldest)") {
				return fmt.Errorf("the clash is not on the dashboard")
			}
			return nil
		})
		f.cases(t, "clash.example", gwCase{path: "/", backend: "infra-backend-v1"})
		f.routeConds(t, infraNS, "clash", "same-namespace", condition{"Accepted", "True", "Accepted"})
	})

	// Between providers the same policy holds: a route in a file has no
	// creation time and counts as the older; it takes the host from the
	// HTTPRoute, whose status says it lost, and gives it back when it goes.
	// On HTTPS, where file routes are served (plain HTTP redirects them).
	t.Run("a file's route and an HTTPRoute claim the same host", func(t *testing.T) {
		const clashHost, gwHost = "file-clash.wildcard.org", "gw-only.wildcard.org"
		served := func(want map[string]string) {
			t.Helper()
			waitFor(t, 20*time.Second, func() error {
				for host, backend := range want {
					e, code, err := gwEchoOf(f.client, fmt.Sprintf("https://%s:%d/", host, f.httpsPort), nil)
					if err == nil && (code != 200 || e.Backend != backend) {
						err = fmt.Errorf("%s: %d from %q, want %s", host, code, e.Backend, backend)
					}
					if err != nil {
						return err
					}
				}
				return nil
			})
		}
		routes := f.gwc.GatewayV1().HTTPRoutes(infraNS)
		r := &gw.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "file-clash", Namespace: infraNS}, Spec: gw.HTTPRouteSpec{
			CommonRouteSpec: gw.CommonRouteSpec{ParentRefs: []gw.ParentReference{{Name: "same-namespace-with-https-listener", SectionName: ptrTo(gw.SectionName("https"))}}},
			Hostnames:       []gw.Hostname{clashHost, gwHost},
			Rules: []gw.HTTPRouteRule{{BackendRefs: []gw.HTTPBackendRef{{BackendRef: gw.BackendRef{BackendObjectReference: gw.BackendObjectReference{
				Name: "infra-backend-v1", Port: ptrTo(gw.PortNumber(8080))}}}}}},
		}}
		must(t, create(f.ctx, routes, r))
		defer func() { must(t, routes.Delete(f.ctx, "file-clash", metav1.DeleteOptions{})) }()
		const parent = "same-namespace-with-https-listener"
		f.routeConds(t, infraNS, "file-clash", parent, condition{"Accepted", "True", "Accepted"})
		served(map[string]string{clashHost: "infra-backend-v1", gwHost: "infra-backend-v1"})

		must(t, os.WriteFile(f.routes, []byte(`services:
  - name: file-clash
    labels:
      traefik.frontend.rule: "Host:`+clashHost+`"
      traefik.port: "3000"
    servers: ["10.200.1.2"]
`), 0o600))
		defer func() { must(t, os.WriteFile(f.routes, []byte("services: []\n"), 0o600)) }()
		// The other hostname is the HTTPRoute's alone and still served:
		// the route is partly served.
		served(map[string]string{clashHost: "infra-backend-v2", gwHost: "infra-backend-v1"})
		f.routeConds(t, infraNS, "file-clash", parent, condition{"Accepted", "True", "Accepted"},
			condition{"PartiallyInvalid", "True", "ConflictsWithRoute"})
		// Without that hostname, nothing of the HTTPRoute is served.
		cur, err := routes.Get(f.ctx, "file-clash", metav1.GetOptions{})
		must(t, err)
		cur.Spec.Hostnames = []gw.Hostname{clashHost}
		_, err = routes.Update(f.ctx, cur, metav1.UpdateOptions{})
		must(t, err)
		f.routeConds(t, infraNS, "file-clash", parent, condition{"Accepted", "False", "ConflictsWithRoute"})
		served(map[string]string{clashHost: "infra-backend-v2"})

		// The file's route removed, the HTTPRoute gets the host back.
		must(t, os.WriteFile(f.routes, []byte("services: []\n"), 0o600))
		served(map[string]string{clashHost: "infra-backend-v1"})
		f.routeConds(t, infraNS, "file-clash", parent, condition{"Accepted", "True", "Accepted"})
	})
}

// secretGrantScenarios: a listener's certificateRef to a Secret in
// another namespace resolves only with a ReferenceGrant there (the
// conformance scenarios), and the granted certificate is served by SNI.
func (f *gwFixture) secretGrantScenarios(t *testing.T) {
	t.Run("certificateRefs across namespaces need a ReferenceGrant", func(t *testing.T) {
		crt, key, err := certs.SelfSigned([]string{"granted.example"}, time.Hour)
		must(t, err)
		want := mustParse(t, crt).SerialNumber
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "certificate"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key}}
		must(t, create(f.ctx, f.c.Admin.CoreV1().Secrets("gateway-conformance-web-backend"), sec))
		listenerIs := func(gateway string, want ...condition) {
			t.Helper()
			waitFor(t, 20*time.Second, func() error {
				g, err := f.gwc.GatewayV1().Gateways(infraNS).Get(f.ctx, gateway, metav1.GetOptions{})
				if err != nil {
					return err
				}
				return conditionsMatch(gwListener(g, "https").Conditions, want...)
			})
		}
		objs := conformanceFile(t, f.conf, "tests/gateway-secret-missing-reference-grant.yaml")
		f.ap.apply(t, f.ctx, objs)
		listenerIs("gateway-secret-missing-reference-grant", condition{"ResolvedRefs", "False", "RefNotPermitted"}, condition{"Programmed", "False", "Invalid"})
		f.ap.remove(t, f.ctx, objs)

		objs = conformanceFile(t, f.conf, "tests/gateway-secret-reference-grant-specific.yaml")
		f.ap.apply(t, f.ctx, objs)
		defer f.ap.remove(t, f.ctx, objs)
		listenerIs("gateway-secret-reference-grant-specific", condition{"ResolvedRefs", "True", "ResolvedRefs"}, condition{"Programmed", "True", "Programmed"})
		waitFor(t, 20*time.Second, func() error {
			conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", f.httpsPort), &tls.Config{ServerName: "granted.example", InsecureSkipVerify: true}) // compares the serial
			if err != nil {
				return err
			}
			defer conn.Close()
			if got := conn.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(want) != 0 {
				return fmt.Errorf("granted.example served serial %v, want the granted Secret's %v", got, want)
			}
			return nil
		})
	})
}

// otherKindScenario: a GRPCRoute attached to the edge's Gateway is not
// served, and its status says so rather than nothing.
func (f *gwFixture) otherKindScenario(t *testing.T) {
	t.Run("a GRPCRoute is answered in its status", func(t *testing.T) {
		r := &gw.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Name: "rpc", Namespace: infraNS}, Spec: gw.GRPCRouteSpec{
			CommonRouteSpec: gw.CommonRouteSpec{ParentRefs: []gw.ParentReference{{Name: "same-namespace"}}},
		}}
		must(t, create(f.ctx, f.gwc.GatewayV1().GRPCRoutes(infraNS), r))
		defer func() { must(t, f.gwc.GatewayV1().GRPCRoutes(infraNS).Delete(f.ctx, "rpc", metav1.DeleteOptions{})) }()
		waitFor(t, 20*time.Second, func() error {
			got, err := f.gwc.GatewayV1().GRPCRoutes(infraNS).Get(f.ctx, "rpc", metav1.GetOptions{})
			if err != nil {
				return err
			}
			for _, p := range got.Status.Parents {
				if p.ControllerName == kubernetes.GatewayController && p.ParentRef.Name == "same-namespace" {
					return conditionsMatch(p.Conditions, condition{"Accepted", "False", "NotAllowedByListeners"})
				}
			}
			return fmt.Errorf("no status from the edge: %+v", got.Status.Parents)
		})
	})
}
