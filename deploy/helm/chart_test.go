package helm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/rancher-edge/edge/discovery/kubernetes/kubetest"
	"github.com/rancher-edge/edge/internal/testtools"
)

const chart = "rancher-edge"

func helm(t *testing.T, args ...string) string {
	t.Helper()
	bin := testtools.Binary(t, "helm", "helm")
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// docs splits rendered YAML into objects.
func docs(t *testing.T, y string) []*unstructured.Unstructured {
	t.Helper()
	dec := yaml.NewYAMLOrJSONDecoder(strings.NewReader(y), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("rendered YAML: %v", err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

func find(objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	return nil
}

func TestLint(t *testing.T) {
	out := helm(t, "lint", "--strict", chart)
	if !strings.Contains(out, "0 chart(s) failed") {
		t.Errorf("helm lint:\n%s", out)
	}
}

// TestTemplate renders the chart as users configure it and checks what
// it promises.
func TestTemplate(t *testing.T) {
	for name, set := range map[string][]string{
		"defaults":         nil,
		"daemonset":        {"--set", "kind=DaemonSet", "--set", "hostPorts.enabled=true", "--set", "service.type=NodePort"},
		"acme and secrets": {"--set", "acme.enabled=true", "--set", "acme.email=ops@example.com", "--set", "acme.domainsAllowed=example.com", "--set", "dashboard.usersSecret=edge-users", "--set", "defaultCertificateSecret=wild"},
		"gateway":          {"--set", "gateway.enabled=true"},
	} {
		t.Run(name, func(t *testing.T) {
			objs := docs(t, helm(t, append([]string{"template", "edge", chart, "--namespace", "ingress"}, set...)...))
			kind := "Deployment"
			if name == "daemonset" {
				kind = "DaemonSet"
			}
			w := find(objs, kind)
			if w == nil {
				t.Fatalf("no %s rendered", kind)
			}
			var spec corev1.PodSpec
			raw, _, _ := unstructured.NestedMap(w.Object, "spec", "template", "spec")
			b, _ := json.Marshal(raw)
			if err := json.Unmarshal(b, &spec); err != nil {
				t.Fatal(err)
			}
			c := spec.Containers[0]
			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 {
				t.Errorf("container security context %+v", sc)
			}
			if ps := spec.SecurityContext; ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot {
				t.Errorf("pod security context %+v", ps)
			}
			for _, p := range c.Ports {
				if p.ContainerPort <= 1024 {
					t.Errorf("port %s is %d: ports inside the pod must be above 1024", p.Name, p.ContainerPort)
				}
			}
			env := map[string]string{}
			for _, e := range c.Env {
				env[e.Name] = e.Value
			}
			if env["TRAEFIK_HTTPS_PUBLIC_PORT"] != "443" || env["TRAEFIK_K8S_ENABLE"] != "true" {
				t.Errorf("env %v", env)
			}
			grace, prestop := int64(0), int64(0)
			if spec.TerminationGracePeriodSeconds != nil {
				grace = *spec.TerminationGracePeriodSeconds
			}
			if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
				prestop = c.Lifecycle.PreStop.Sleep.Seconds
			}
			drain := int64(10)
			if prestop == 0 || grace <= prestop+drain {
				t.Errorf("grace %ds must exceed preStop %ds + drain %ds", grace, prestop, drain)
			}
			if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/ping" {
				t.Errorf("readiness probe %+v", c.ReadinessProbe)
			}
			if name == "acme and secrets" {
				if env["TRAEFIK_ACME_DOMAINS_ALLOWED"] != "example.com" || env["TRAEFIK_ADMIN_USERS"] == "" || env["TRAEFIK_SSL_CERT"] == "" {
					t.Errorf("env %v", env)
				}
			}
			if name == "daemonset" && (c.Ports[0].HostPort != 80 || find(objs, "PodDisruptionBudget") != nil) {
				t.Errorf("daemonset: host port %d, PDB %v", c.Ports[0].HostPort, find(objs, "PodDisruptionBudget") != nil)
			}
			if ic := find(objs, "IngressClass"); ic == nil || ic.GetName() != "rancher-edge" {
				t.Errorf("IngressClass %v", ic)
			}
			// Gateway API: off by default (no RBAC for it, no class);
			// gateway.enabled turns on the setting, the rules and the class.
			gc, roles := find(objs, "GatewayClass"), 0
			for _, o := range objs {
				if o.GetKind() == "ClusterRole" {
					roles++
				}
			}
			if on := name == "gateway"; (env["TRAEFIK_KUBERNETES_GATEWAY"] == "true") != on || (gc != nil) != on || (roles == 2) != on {
				t.Errorf("gateway.enabled=%v: TRAEFIK_KUBERNETES_GATEWAY=%q, GatewayClass %v, %d ClusterRoles", on, env["TRAEFIK_KUBERNETES_GATEWAY"], gc != nil, roles)
			}
			if gc != nil {
				if ctl, _, _ := unstructured.NestedString(gc.Object, "spec", "controllerName"); ctl != "rancher-edge.io/gateway-controller" || gc.GetName() != "rancher-edge" {
					t.Errorf("GatewayClass %s controllerName %q", gc.GetName(), ctl)
				}
			}
		})
	}
}

// TestRulesMatchTheManifests: the chart's ClusterRole and Role are the
// ones the real-apiserver tests bind (deploy/kubernetes/rbac.yaml).
func TestRulesMatchTheManifests(t *testing.T) {
	objs := docs(t, helm(t, "template", "edge", chart))
	raw, err := os.ReadFile("../kubernetes/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"ClusterRole", "Role"} {
		rendered, plain := find(objs, kind), find(docs(t, string(raw)), kind)
		if rendered == nil || plain == nil || !reflect.DeepEqual(rendered.Object["rules"], plain.Object["rules"]) {
			t.Errorf("the chart's %s rules differ from deploy/kubernetes/rbac.yaml", kind)
		}
	}
	// Gateway API: the second ClusterRole, with gateway.enabled.
	raw, err = os.ReadFile("../kubernetes/gateway-api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rendered *unstructured.Unstructured
	for _, o := range docs(t, helm(t, "template", "edge", chart, "--set", "gateway.enabled=true")) {
		if o.GetKind() == "ClusterRole" && strings.HasSuffix(o.GetName(), "-gateway") {
			rendered = o
		}
	}
	plain := find(docs(t, string(raw)), "ClusterRole")
	if rendered == nil || plain == nil || !reflect.DeepEqual(rendered.Object["rules"], plain.Object["rules"]) {
		t.Errorf("the chart's Gateway API ClusterRole rules differ from deploy/kubernetes/gateway-api.yaml")
	}
}

// TestServerSideDryRun applies the rendered chart and the plain manifests
// to a real apiserver with dryRun=All: the apiserver validates every
// object as it would on install.
func TestServerSideDryRun(t *testing.T) {
	c := kubetest.Start(t)
	ctx := context.Background()
	for _, ns := range []string{"ingress", "rancher-edge"} {
		if _, err := c.Admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The Gateway API CRDs, for the GatewayClass of gateway.enabled and
	// deploy/kubernetes/gateway-api.yaml.
	if err := c.InstallGatewayAPI(ctx); err != nil {
		t.Fatal(err)
	}
	rc := c.Rest(kubetest.AdminToken)
	dyn := dynamic.NewForConfigOrDie(rc)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(rc)))
	apply := func(t *testing.T, objs []*unstructured.Unstructured, ns string) {
		for _, o := range objs {
			gvk := o.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				t.Errorf("%s: %v", gvk, err)
				continue
			}
			ri := dyn.Resource(m.Resource)
			var r dynamic.ResourceInterface = ri
			if m.Scope.Name() == "namespace" {
				if o.GetNamespace() == "" {
					o.SetNamespace(ns)
				}
				r = ri.Namespace(o.GetNamespace())
			}
			body, _ := json.Marshal(o.Object)
			force := true
			if _, err := r.Patch(ctx, o.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{
				DryRun: []string{metav1.DryRunAll}, FieldManager: "edge-test", Force: &force}); err != nil {
				t.Errorf("server-side dry-run of %s %s: %v", o.GetKind(), o.GetName(), err)
			}
		}
	}
	t.Run("chart", func(t *testing.T) {
		for _, set := range [][]string{nil, {"--set", "kind=DaemonSet", "--set", "hostPorts.enabled=true", "--set", "service.type=NodePort"},
			{"--set", "acme.enabled=true", "--set", "acme.email=ops@example.com", "--set", "dashboard.usersSecret=u"},
			{"--set", "gateway.enabled=true"}} {
			apply(t, docs(t, helm(t, append([]string{"template", "edge", chart, "--namespace", "ingress"}, set...)...)), "ingress")
		}
	})
	t.Run("manifests", func(t *testing.T) {
		files, _ := filepath.Glob("../kubernetes/*.yaml")
		if len(files) < 2 {
			t.Fatalf("deploy/kubernetes has %d manifests", len(files))
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			apply(t, docs(t, string(raw)), "rancher-edge")
		}
	})
}
