package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/discovery/kubernetes/kubetest"
	"github.com/rancher-edge/edge/internal/kubeclient"
)

// conformance Services that get a backend: their Deployments become an
// EndpointSlice the test writes, with the address of a real backend in the
// test's network namespace (port 3000, the Services' targetPort).
var conformanceBackends = map[string]string{
	"gateway-conformance-infra/infra-backend-v1":     "10.200.1.1",
	"gateway-conformance-infra/infra-backend-v2":     "10.200.1.2",
	"gateway-conformance-infra/infra-backend-v3":     "10.200.1.3",
	"gateway-conformance-app-backend/app-backend-v1": "10.200.1.4",
	"gateway-conformance-app-backend/app-backend-v2": "10.200.1.5",
	"gateway-conformance-web-backend/web-backend":    "10.200.1.6",
}

const infraNS = "gateway-conformance-infra"

// gwEcho is what a conformance backend answers: who it is and what it got,
// like the suite's gwEcho-basic server.
type gwEcho struct {
	Backend string              `json:"backend"`
	Host    string              `json:"host"`
	Path    string              `json:"path"`
	Headers map[string][]string `json:"headers"`
}

// gwEchoBackend serves ip:3000 as the Service name (the pods' names in the
// conformance suite start with it).
func gwEchoBackend(t *testing.T, ip, name string) {
	ln, err := net.Listen("tcp", ip+":3000")
	must(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", name)
		// X-Echo-Set-Header: "Name:value,Name2:value2" are set on the
		// response, as the suite's echo server does.
		for _, kv := range strings.Split(r.Header.Get("X-Echo-Set-Header"), ",") {
			if k, v, ok := strings.Cut(kv, ":"); ok {
				w.Header().Set(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		_ = json.NewEncoder(w).Encode(gwEcho{Backend: name, Host: r.Host, Path: r.URL.RequestURI(), Headers: r.Header})
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// applier applies YAML documents server-side as the administrator.
type applier struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func newApplier(t *testing.T, c *kubetest.Cluster) *applier {
	rc := c.Rest(kubetest.AdminToken)
	return &applier{dyn: dynamic.NewForConfigOrDie(rc),
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(rc)))}
}

// conformanceFile reads one of the conformance module's manifests, with
// the suite's placeholder for the GatewayClass filled in.
func conformanceFile(t *testing.T, dir, name string) []*unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, name))
	must(t, err)
	raw = bytes.ReplaceAll(raw, []byte("{GATEWAY_CLASS_NAME}"), []byte("rancher-edge"))
	return yamlObjects(t, raw)
}

func yamlObjects(t *testing.T, raw []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("manifest: %v", err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

func (a *applier) resource(t *testing.T, o *unstructured.Unstructured) dynamic.ResourceInterface {
	t.Helper()
	gvk := o.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		a.mapper.Reset() // the Gateway API CRDs may be newer than the cache
		if m, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			t.Fatalf("%s: %v", gvk, err)
		}
	}
	if m.Scope.Name() == "namespace" {
		return a.dyn.Resource(m.Resource).Namespace(o.GetNamespace())
	}
	return a.dyn.Resource(m.Resource)
}

// apply applies objs, leaving out the kinds the test plays itself
// (Deployments: their EndpointSlices are written for the Services).
func (a *applier) apply(t *testing.T, ctx context.Context, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		if slices.Contains([]string{"Deployment", "ConfigMap"}, o.GetKind()) {
			continue
		}
		body, err := json.Marshal(o.Object)
		must(t, err)
		force := true
		if _, err := a.resource(t, o).Patch(ctx, o.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "edge-test", Force: &force}); err != nil {
			t.Fatalf("applying %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
}

// remove deletes objs (a scenario's routes) so the next scenario starts
// from the base manifests.
func (a *applier) remove(t *testing.T, ctx context.Context, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		if err := a.resource(t, o).Delete(ctx, o.GetName(), metav1.DeleteOptions{}); err != nil {
			t.Errorf("deleting %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}

// conformanceSlices writes an EndpointSlice for each backed Service of
// objs, with a ready endpoint on its test address and every Service port
// on the targetPort.
func conformanceSlices(t *testing.T, ctx context.Context, c *kubetest.Cluster, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		ip, ok := conformanceBackends[o.GetNamespace()+"/"+o.GetName()]
		if o.GetKind() != "Service" || !ok {
			continue
		}
		ports, _, _ := unstructured.NestedSlice(o.Object, "spec", "ports")
		sl := kubeSlice(o.GetName()+"-1", o.GetName(), "", 3000, readyEP(ip, true))
		sl.Ports = nil
		for _, p := range ports {
			m := p.(map[string]any)
			name, _ := m["name"].(string)
			target := intstr.FromInt(3000)
			if tp, ok := m["targetPort"].(int64); ok {
				target = intstr.FromInt(int(tp))
			}
			sl.Ports = append(sl.Ports, kubeSlice("", "", name, target.IntValue()).Ports...)
		}
		sl.Namespace = o.GetNamespace()
		must(t, create(ctx, c.Admin.DiscoveryV1().EndpointSlices(o.GetNamespace()), sl))
	}
}

// condition is one expected status condition.
type condition struct{ typ, status, reason string }

func (c condition) String() string { return c.typ + "=" + c.status + "/" + c.reason }

// conditionsMatch reports which wanted conditions have is missing or
// differ, by the exact status and reason the spec gives.
func conditionsMatch(have []metav1.Condition, want ...condition) error {
	var bad []string
	for _, w := range want {
		i := slices.IndexFunc(have, func(c metav1.Condition) bool { return c.Type == w.typ })
		if i < 0 {
			bad = append(bad, w.String()+" missing")
			continue
		}
		if h := have[i]; string(h.Status) != w.status || h.Reason != w.reason {
			bad = append(bad, fmt.Sprintf("%s is %s/%s (%s)", w, h.Status, h.Reason, h.Message))
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// ourParent is the edge's entry in a route's status.parents for the
// Gateway named name.
func ourParent(r *gw.HTTPRoute, name string) []metav1.Condition {
	for _, p := range r.Status.Parents {
		if p.ControllerName == "rancher-edge.io/gateway-controller" && string(p.ParentRef.Name) == name {
			return p.Conditions
		}
	}
	return nil
}

func decodeEcho(resp *http.Response, e *gwEcho) error {
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, e); err != nil {
		return fmt.Errorf("%s: %q: %w", resp.Request.URL, body, err)
	}
	return nil
}

func gwEchoOf(c *http.Client, u string, header map[string]string) (gwEcho, int, error) {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return gwEcho{}, 0, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return gwEcho{}, 0, err
	}
	defer resp.Body.Close()
	var e gwEcho
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(body, &e); err != nil {
			return e, resp.StatusCode, fmt.Errorf("GET %s: %q: %w", u, body, err)
		}
	}
	return e, resp.StatusCode, nil
}

// gwFixture is one running edge with Gateway API against the test's
// apiserver, and the ways the scenarios ask it things.
type gwFixture struct {
	ctx                 context.Context
	c                   *kubetest.Cluster
	ap                  *applier
	conf                string // the conformance module's directory
	gwc                 *kubeclient.Clients
	client              *http.Client
	insecure            *http.Client // for the dashboard's default certificate
	httpPort, httpsPort int
	adminPort           int
	routes              string // the edge's TRAEFIK_FILE
}

func (f *gwFixture) get(host, path string) string {
	return fmt.Sprintf("http://%s:%d%s", host, f.httpPort, path)
}

// routeConds waits until the edge's entry for parent in the route's
// status has the wanted conditions.
func (f *gwFixture) routeConds(t *testing.T, ns, name, parent string, want ...condition) {
	t.Helper()
	waitFor(t, 20*time.Second, func() error {
		r, err := f.gwc.GatewayV1().HTTPRoutes(ns).Get(f.ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		return conditionsMatch(ourParent(r, parent), want...)
	})
}

// gwReq is a request and the backend that must answer it.
type gwReq struct {
	url     string
	header  map[string]string
	backend string
}

// routed waits until every case is answered by its backend.
func (f *gwFixture) routed(t *testing.T, cases ...gwReq) {
	t.Helper()
	waitFor(t, 20*time.Second, func() error {
		for _, rq := range cases {
			e, code, err := gwEchoOf(f.client, rq.url, rq.header)
			if err != nil {
				return err
			}
			if code != 200 || e.Backend != rq.backend {
				return fmt.Errorf("%s %v: %d from %q, want %s", rq.url, rq.header, code, e.Backend, rq.backend)
			}
		}
		return nil
	})
}

func gwListener(g *gw.Gateway, name string) gw.ListenerStatus {
	for _, l := range g.Status.Listeners {
		if string(l.Name) == name {
			return l
		}
	}
	return gw.ListenerStatus{}
}
