package main

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rancher-edge/edge/certs/acme/pebbletest"
	"github.com/rancher-edge/edge/certs/kubestore"
	"github.com/rancher-edge/edge/discovery/kubernetes/kubetest"
	"github.com/rancher-edge/edge/discovery/rancher/ranchertest"
	"github.com/rancher-edge/edge/web"
)

// TestKubernetesStorageSettings: TRAEFIK_ACME_STORAGE=kubernetes names the
// pod's namespace, kubernetes://ns another; the connection comes from the
// Kubernetes settings even with the provider off; a storage the edge
// cannot place is refused with the reason.
func TestKubernetesStorageSettings(t *testing.T) {
	base := map[string]string{
		"TRAEFIK_ACME_ENABLE":         "true",
		"TRAEFIK_KUBERNETES_ENDPOINT": "https://10.0.0.1:6443",
		"POD_NAMESPACE":               "edge-system",
		"POD_NAME":                    "edge-7d9f-x2",
	}
	load := func(storage string) (config, error) {
		m := map[string]string{"TRAEFIK_ACME_STORAGE": storage}
		for k, v := range base {
			m[k] = v
		}
		return loadConfig(env{getenv: mapEnv(m)})
	}
	cfg, err := load("kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	if ks := cfg.ACME.Kube; ks == nil || ks.Store.Namespace != "edge-system" || ks.Store.Replica != "edge-7d9f-x2" || ks.Conn.Endpoint != "https://10.0.0.1:6443" {
		t.Fatalf("kubernetes storage = %+v", cfg.ACME.Kube)
	}
	cfg, err = load("kubernetes://certs?lock_ttl=20s")
	if err != nil || cfg.ACME.Kube.Store.Namespace != "certs" || cfg.ACME.Kube.Store.LockTTL != 20*time.Second {
		t.Fatalf("kubernetes://certs = %+v, %v", cfg.ACME.Kube, err)
	}
	if cfg, _ := load("/data/acme"); cfg.ACME.Kube != nil {
		t.Error("a directory was taken for kubernetes storage")
	}
	delete(base, "POD_NAMESPACE")
	if _, err := load("kubernetes"); err == nil || !strings.Contains(err.Error(), "TRAEFIK_ACME_STORAGE: kubestore: no namespace") {
		t.Errorf("no namespace: %v", err)
	}
	if _, err := load("kubernetes://Not_A_Namespace"); err == nil || !strings.Contains(err.Error(), "Not_A_Namespace") {
		t.Errorf("bad namespace: %v", err)
	}
}

// TestACMEStorageInKubernetes runs the whole edge with its ACME storage
// in a real kube-apiserver, with only the RBAC of
// deploy/kubernetes/rbac.yaml: the certificate Pebble issues is kept as
// Secrets in the edge's namespace, and a restarted edge serves it again
// without a new order.
func TestACMEStorageInKubernetes(t *testing.T) {
	kc := kubetest.Start(t)
	ctx := t.Context()
	const ns = "edge-system"
	if _, err := kc.Admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rbac, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kubernetes", "rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := kc.GrantEdge(ctx, rbac, ns); err != nil {
		t.Fatal(err)
	}

	ca := pebbletest.Start(t)
	ca.ReleasePorts()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backend.Close()
	_, bport, _ := net.SplitHostPort(strings.TrimPrefix(backend.URL, "http://"))
	rancher, err := ranchertest.New(ranchertest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rancher.Close()
	stack := rancher.AddStack(ranchertest.StackSpec{Name: "web"})
	rancher.AddService(stack, ranchertest.ServiceSpec{
		Name: "shop", Scale: 1, IP: func(int) string { return "127.0.0.1" },
		Labels: map[string]string{"traefik.port": bport},
	})
	dir := t.TempDir()
	certPath, keyPath, _ := writeCert(t, dir, "default", "default.example.test")
	env := rancherACMEEnv(ca, rancher, certPath, keyPath, "kubernetes")
	env["TRAEFIK_ADMIN_PORT"] = "0"
	env["TRAEFIK_KUBERNETES_ENDPOINT"] = kc.URL
	env["TRAEFIK_KUBERNETES_TOKEN"] = kubetest.EdgeToken
	env["TRAEFIK_KUBERNETES_CA"] = string(kc.CA)
	env["POD_NAMESPACE"] = ns
	env["POD_NAME"] = "edge-0"
	const host = "shop.web.example.test"

	serial := func() string {
		stop := startEdgeProcess(t, env)
		defer stop()
		return waitForIssuer(t, ca, host, ca.TLSPort, ca.IssuerRoots()).PeerCertificates[0].SerialNumber.String()
	}
	first := serial()
	secrets, err := kc.Admin.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: "rancher-edge.io/acme=storage"})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range secrets.Items {
		keys = append(keys, s.Annotations["rancher-edge.io/acme-key"])
	}
	if !strings.Contains(strings.Join(keys, "\n"), "/"+host+"/"+host+".crt") {
		t.Errorf("no Secret holds the certificate of %s; keys: %q", host, keys)
	}
	// The certificate page's storage section, as another edge sees it.
	st, err := kubestore.New(kubestore.Config{Rest: kc.Rest(kubetest.EdgeToken), Namespace: ns, Replica: "viewer", StatusInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var page web.StorageStatus
	deadline := time.Now().Add(10 * time.Second)
	for {
		page = kubeStorageStatus(st)
		if page.State == "ok" && slices.ContainsFunc(page.Locks, func(l web.StorageLock) bool {
			return l.Name == host && strings.HasPrefix(l.Holder, "edge-0 (last held, released ")
		}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("storage status = %+v; want ok, with %s last held by edge-0", page, host)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if page.Backend != "kubernetes" || !strings.Contains(page.Location, "namespace "+ns) {
		t.Errorf("storage status = %+v", page)
	}

	// edge check --online asks whether the edge may use the namespace.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check", "--online"}, mapEnv(env), &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "ACME storage kubernetes://"+ns+": OK") {
		t.Errorf("check --online: %v\n%s", err, out.String())
	}
	elsewhere := maps.Clone(env)
	elsewhere["TRAEFIK_ACME_STORAGE"] = "kubernetes://default"
	out.Reset()
	err = run(context.Background(), []string{"check", "--online"}, mapEnv(elsewhere), &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "in namespace default the edge may not create secrets") {
		t.Errorf("check --online for a namespace without the Role: %v\n%s", err, out.String())
	}

	orders := ca.Orders()
	if second := serial(); second != first || ca.Orders() != orders {
		t.Errorf("after a restart: serial %s (want %s), %d new orders", second, first, ca.Orders()-orders)
	}
}
