package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rancher-edge/edge/certs/acme/pebbletest"
	"github.com/rancher-edge/edge/discovery/kubernetes"
	"github.com/rancher-edge/edge/discovery/kubernetes/kubetest"
)

// TestKubernetesIngressACME: an Ingress whose spec.tls lists a host
// without a secretName gets that host's certificate from the edge's ACME
// (Pebble, HTTP-01 answered by the edge itself) and is served over HTTPS
// with it, against a real kube-apiserver with the chart's RBAC. Only such
// hosts are ordered, and only within TRAEFIK_ACME_DOMAINS_ALLOWED: an
// Ingress without tls and a host outside the allowed suffixes get no
// order (the latter is shown as a problem and served the default
// certificate), so no namespace can make the edge order any name.
func TestKubernetesIngressACME(t *testing.T) {
	if !kubetest.InNetns(t, "10.200.0.1") {
		return
	}
	ca := pebbletest.Start(t) // in the namespace: Pebble validates on its loopback
	ca.ReleasePorts()
	ctx := context.Background()
	c := kubetest.Start(t)
	for _, ns := range []string{"rancher-edge", "shop"} {
		must(t, create(ctx, c.Admin.CoreV1().Namespaces(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}
	rbac, err := os.ReadFile("../../deploy/kubernetes/rbac.yaml")
	must(t, err)
	must(t, c.GrantEdge(ctx, rbac, "rancher-edge"))
	must(t, create(ctx, c.Admin.NetworkingV1().IngressClasses(), &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: kubernetes.DefaultClass}, Spec: networkingv1.IngressClassSpec{Controller: kubernetes.Controller}}))
	kubeBackend(t, "10.200.0.1", "b1")
	must(t, create(ctx, c.Admin.CoreV1().Services("shop"), kubeService("web", "http", 80, intstr.FromInt(8080))))
	must(t, create(ctx, c.Admin.DiscoveryV1().EndpointSlices("shop"), kubeSlice("web-1", "web", "http", 8080, readyEP("10.200.0.1", true))))

	const (
		host    = "app.example.test"   // spec.tls without a secretName: ordered
		plain   = "plain.example.test" // an Ingress without tls: never ordered
		outside = "evil.other.test"    // not within TRAEFIK_ACME_DOMAINS_ALLOWED
	)
	app := kubeIngress("app", kubernetes.DefaultClass, host, kubePath(networkingv1.PathTypePrefix, "/", "web", "http"))
	app.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}}}
	must(t, create(ctx, c.Admin.NetworkingV1().Ingresses("shop"), app))
	must(t, create(ctx, c.Admin.NetworkingV1().Ingresses("shop"),
		kubeIngress("plain", kubernetes.DefaultClass, plain, kubePath(networkingv1.PathTypePrefix, "/", "web", "http"))))
	evil := kubeIngress("evil", kubernetes.DefaultClass, outside, kubePath(networkingv1.PathTypePrefix, "/", "web", "http"))
	evil.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{outside}}}
	must(t, create(ctx, c.Admin.NetworkingV1().Ingresses("shop"), evil))

	dir := t.TempDir()
	defCert, defKey, _ := writeCert(t, dir, "default", "default.test")
	adminPort := freePort(t)
	env := map[string]string{
		// Pebble validates HTTP-01 on this port.
		"TRAEFIK_HTTP_PORT":            strconv.Itoa(ca.HTTPPort),
		"TRAEFIK_HTTPS_PORT":           strconv.Itoa(ca.TLSPort),
		"TRAEFIK_SSL_CERT":             defCert,
		"TRAEFIK_SSL_PRIVATE_KEY":      defKey,
		"TRAEFIK_ADMIN_PORT":           strconv.Itoa(adminPort),
		"TRAEFIK_ACME_ENABLE":          "true",
		"TRAEFIK_ACME_EMAIL":           "ops@example.test",
		"TRAEFIK_ACME_CASERVER":        ca.DirectoryURL,
		"TRAEFIK_ACME_CA_ROOT":         string(ca.APIRootPEM),
		"TRAEFIK_ACME_STORAGE":         filepath.Join(dir, "acme"),
		"TRAEFIK_ACME_CHALLENGE":       "http-01",
		"TRAEFIK_ACME_ONHOSTRULE":      "true",
		"TRAEFIK_ACME_DOMAINS_ALLOWED": "example.test",
		"TRAEFIK_KUBERNETES_ENABLE":    "true",
		"TRAEFIK_KUBERNETES_ENDPOINT":  c.URL,
		"TRAEFIK_KUBERNETES_TOKEN":     kubetest.EdgeToken,
		"TRAEFIK_KUBERNETES_CA":        string(c.CA),
		"POD_NAMESPACE":                "rancher-edge",
		"POD_NAME":                     "edge-0",
	}
	stop := startEdgeProcess(t, env)
	defer stop()

	// The certificate chains to Pebble's issuing root and names the host.
	st := waitForIssuer(t, ca, host, ca.TLSPort, ca.IssuerRoots())
	if got := st.PeerCertificates[0].DNSNames; len(got) != 1 || got[0] != host {
		t.Errorf("issued certificate for %v, want [%s]", got, host)
	}
	// HTTPS with it reaches the Ingress's backend; plain HTTP is
	// redirected, the host being in spec.tls.
	client := httpsClient(ca.IssuerRoots(), ca.TLSPort, ca.HTTPPort)
	got, err := backendOf(client, fmt.Sprintf("https://%s:%d/", host, ca.TLSPort))
	if err != nil || got != "b1" {
		t.Fatalf("https://%s/: backend %q, %v", host, got, err)
	}
	resp, err := client.Get(fmt.Sprintf("http://%s:%d/a?b=c", host, ca.HTTPPort))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode < 300 || resp.StatusCode > 308 || !strings.HasPrefix(resp.Header.Get("Location"), "https://"+host) {
		t.Errorf("http://%s/: %d to %q, want a redirect to HTTPS", host, resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := ca.OrdersFor(host); n != 1 {
		t.Errorf("%d orders for %s, want 1", n, host)
	}

	// The hosts not eligible: served (the default certificate on HTTPS),
	// never ordered. ACME learns a table's names all at once, so the
	// certificates page, which lists every name ACME manages (pending,
	// valid or skipped), has a row for the app's and none for them.
	insecure := httpsClient(nil, ca.TLSPort, ca.HTTPPort)
	insecure.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // checks what is served, not trust
	if got, err := backendOf(insecure, fmt.Sprintf("http://%s:%d/", plain, ca.HTTPPort)); err != nil || got != "b1" {
		t.Errorf("http://%s/ (no tls): backend %q, %v", plain, got, err)
	}
	for _, h := range []string{plain, outside} {
		conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ca.TLSPort), &tls.Config{ServerName: h, InsecureSkipVerify: true})
		must(t, err)
		if got := conn.ConnectionState().PeerCertificates[0].DNSNames; len(got) != 1 || got[0] != "default.test" {
			t.Errorf("%s served %v, want the default certificate", h, got)
		}
		conn.Close()
		if n := ca.OrdersFor(h); n != 0 {
			t.Errorf("%d orders for %s, which is not eligible", n, h)
		}
	}
	var page struct {
		Certificates []struct {
			ID, Source, State string
			Names             []string
		}
		UncoveredHosts []struct{ Host string } `json:"uncovered_hosts"`
	}
	resp, err = insecure.Get(fmt.Sprintf("https://127.0.0.1:%d/api/certificates", adminPort))
	must(t, err)
	must(t, json.NewDecoder(resp.Body).Decode(&page))
	resp.Body.Close()
	var acmeRows []string
	for _, r := range page.Certificates {
		if r.Source == "acme" || strings.HasPrefix(r.ID, "pending:") || strings.HasPrefix(r.ID, "skipped:") {
			acmeRows = append(acmeRows, r.State+" "+strings.Join(r.Names, ","))
		}
	}
	if !slices.Equal(acmeRows, []string{"valid " + host}) {
		t.Errorf("ACME rows on the certificates page: %q, want only [valid %s]", acmeRows, host)
	}
	var uncovered []string
	for _, u := range page.UncoveredHosts {
		uncovered = append(uncovered, u.Host)
	}
	slices.Sort(uncovered)
	if !slices.Equal(uncovered, []string{outside, plain}) {
		t.Errorf("uncovered hosts %q, want %s and %s (the default certificate)", uncovered, outside, plain)
	}
	// Why the outside host has no certificate is on the dashboard.
	waitFor(t, 10*time.Second, func() error {
		resp, err := insecure.Get(fmt.Sprintf("https://127.0.0.1:%d/api/discovery", adminPort))
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "no ACME certificate for "+outside+": it is not within TRAEFIK_ACME_DOMAINS_ALLOWED") {
			return fmt.Errorf("the dashboard does not say why %s has no certificate:\n%s", outside, body)
		}
		return nil
	})
	if n := ca.Orders(); n != 1 {
		t.Errorf("%d orders in all, want 1: %+v", n, ca.OrderLog())
	}
}
