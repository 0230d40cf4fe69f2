package main

import (
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/discovery/kubernetes"
	"github.com/rancher-edge/edge/discovery/kubernetes/kubetest"
)

// kubeBackends are the test addresses added to the namespace's loopback:
// the apiserver refuses endpoint addresses in 127.0.0.0/8.
var kubeBackends = []string{"10.200.0.1", "10.200.0.2", "10.200.0.3", "10.200.0.4", "10.200.0.5"}

// TestKubernetesIngress runs the whole edge as a user configures it (env
// settings, the chart's RBAC) against a real kube-apiserver, with real
// backends on test addresses inside the test's own network namespace.
func TestKubernetesIngress(t *testing.T) {
	if !kubetest.InNetns(t, kubeBackends...) {
		return
	}
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
	must(t, create(ctx, c.Admin.NetworkingV1().IngressClasses(), &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}))
	for i, ip := range kubeBackends {
		kubeBackend(t, ip, fmt.Sprint("b", i+1))
	}

	dir := t.TempDir()
	defCert, defKey, defPEM := writeCert(t, dir, "default", "default.test")
	shopCrt, shopKey, err := certs.SelfSigned([]string{"shop.example.com"}, time.Hour)
	must(t, err)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(defPEM)
	roots.AppendCertsFromPEM(shopCrt)
	must(t, create(ctx, c.Admin.CoreV1().Secrets("shop"), tlsSecretObj("shop-tls", shopCrt, shopKey)))

	// Services: web (port 80 named http → target 8080), api (port 8080).
	must(t, create(ctx, c.Admin.CoreV1().Services("shop"), kubeService("web", "http", 80, intstr.FromString("web-http"))))
	must(t, create(ctx, c.Admin.CoreV1().Services("shop"), kubeService("api", "", 8080, intstr.FromInt(8080))))
	must(t, create(ctx, c.Admin.DiscoveryV1().EndpointSlices("shop"), kubeSlice("web-1", "web", "http", 8080, readyEP("10.200.0.1", true))))
	must(t, create(ctx, c.Admin.DiscoveryV1().EndpointSlices("shop"), kubeSlice("api-1", "api", "", 8080, readyEP("10.200.0.4", true))))

	web := kubeIngress("web", kubernetes.DefaultClass, "shop.example.com",
		kubePath(networkingv1.PathTypePrefix, "/", "web", "http"),
		kubePath(networkingv1.PathTypePrefix, "/api", "api", 8080))
	web.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"shop.example.com"}, SecretName: "shop-tls"}}
	must(t, create(ctx, c.Admin.NetworkingV1().Ingresses("shop"), web))

	httpPort, httpsPort, adminPort := freePort(t), freePort(t), freePort(t)
	env := map[string]string{
		"TRAEFIK_HTTP_PORT":                  strconv.Itoa(httpPort),
		"TRAEFIK_HTTPS_PORT":                 strconv.Itoa(httpsPort),
		"TRAEFIK_HTTPS_PUBLIC_PORT":          "443",
		"TRAEFIK_SSL_CERT":                   defCert,
		"TRAEFIK_SSL_PRIVATE_KEY":            defKey,
		"TRAEFIK_ADMIN_PORT":                 strconv.Itoa(adminPort),
		"TRAEFIK_ADMIN_BIND":                 "127.0.0.1",
		"TRAEFIK_K8S_ENABLE":                 "true", // the community images' name
		"TRAEFIK_KUBERNETES_ENDPOINT":        c.URL,
		"TRAEFIK_KUBERNETES_TOKEN":           kubetest.EdgeToken,
		"TRAEFIK_KUBERNETES_CA":              string(c.CA),
		"TRAEFIK_KUBERNETES_INGRESS_ADDRESS": "10.200.0.100",
		"POD_NAMESPACE":                      "rancher-edge",
		"POD_NAME":                           "edge-0",
	}
	stop := startEdgeProcess(t, env)
	defer stop()
	client := httpsClient(roots, httpsPort, httpPort)
	url := func(scheme, host, path string) string {
		port := httpsPort
		if scheme == "http" {
			port = httpPort
		}
		return fmt.Sprintf("%s://%s:%d%s", scheme, host, port, path)
	}
	// served waits until host+path is answered by backend want.
	insecure := httpsClient(roots, httpsPort, httpPort)
	insecure.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // checks what is served, not trust
	served := func(t *testing.T, scheme, host, path, want string) {
		t.Helper()
		cl := client
		if host == "nosecret.example.com" {
			cl = insecure
		}
		waitFor(t, 15*time.Second, func() error {
			got, err := backendOf(cl, url(scheme, host, path))
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("%s%s answered by %q, want %q", host, path, got, want)
			}
			return nil
		})
	}

	t.Run("TLS and two paths", func(t *testing.T) {
		served(t, "https", "shop.example.com", "/", "b1")
		served(t, "https", "shop.example.com", "/api/v1", "b4")
		resp, err := client.Get(url("https", "shop.example.com", "/"))
		must(t, err)
		resp.Body.Close()
		if got := resp.TLS.PeerCertificates[0].DNSNames; len(got) != 1 || got[0] != "shop.example.com" {
			t.Errorf("served certificate for %v, want the Secret's", got)
		}
		// A tls host is redirected, to the public port (443: no port).
		resp, err = client.Get(url("http", "shop.example.com", "/a?b=c"))
		must(t, err)
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "https://shop.example.com/a?b=c" {
			t.Errorf("HTTP: %d %q, want a redirect to https://shop.example.com/a?b=c", resp.StatusCode, loc)
		}
	})

	t.Run("precedence", func(t *testing.T) {
		prec := kubeIngress("prec", kubernetes.DefaultClass, "exact.example.com",
			kubePath(networkingv1.PathTypeExact, "/foo", "api", 8080),
			kubePath(networkingv1.PathTypePrefix, "/foo", "web", "http"))
		wild := kubeIngress("wild", kubernetes.DefaultClass, "*.example.com", kubePath(networkingv1.PathTypePrefix, "/", "api", 8080))
		must(t, create(ctx, c.Admin.NetworkingV1().Ingresses("shop"), prec))
		must(t, create(ctx, c.Admin.NetworkingV1().Ingresses("shop"), wild))
		// Hosts without tls are served on plain HTTP.
		served(t, "http", "exact.example.com", "/foo", "b4")     // Exact beats Prefix
		served(t, "http", "exact.example.com", "/foo/bar", "b1") // Prefix, element-wise
		served(t, "http", "exact.example.com", "/foobar", "b4")  // not /foo: the wildcard's /
		served(t, "http", "any.example.com", "/foo", "b4")       // wildcard host
		if code := status(t, insecure, url("https", "a.b.example.com", "/")); code != http.StatusNotFound {
			t.Errorf("a.b.example.com: %d, want 404 (a wildcard covers one label)", code)
		}
	})

	t.Run("endpoints and edits go live", func(t *testing.T) {
		sl, err := c.Admin.DiscoveryV1().EndpointSlices("shop").Get(ctx, "web-1", metav1.GetOptions{})
		must(t, err)
		sl.Endpoints = append(sl.Endpoints, readyEP("10.200.0.5", true))
		sl, err = c.Admin.DiscoveryV1().EndpointSlices("shop").Update(ctx, sl, metav1.UpdateOptions{})
		must(t, err)
		waitFor(t, 15*time.Second, func() error { return sawBoth(client, url("https", "shop.example.com", "/"), "b1", "b5") })
		sl.Endpoints[0].Conditions.Ready = ptrTo(false)
		_, err = c.Admin.DiscoveryV1().EndpointSlices("shop").Update(ctx, sl, metav1.UpdateOptions{})
		must(t, err)
		waitFor(t, 15*time.Second, func() error { return only(client, url("https", "shop.example.com", "/"), "b5") })
		ing, err := c.Admin.NetworkingV1().Ingresses("shop").Get(ctx, "web", metav1.GetOptions{})
		must(t, err)
		ing.Spec.Rules[0].HTTP.Paths[1].Backend = kubePath(networkingv1.PathTypePrefix, "/api", "web", "http").Backend
		_, err = c.Admin.NetworkingV1().Ingresses("shop").Update(ctx, ing, metav1.UpdateOptions{})
		must(t, err)
		served(t, "https", "shop.example.com", "/api/v1", "b5")
	})

	t.Run("secret rotation", func(t *testing.T) {
		newCrt, newKey, err := certs.SelfSigned([]string{"shop.example.com"}, 2*time.Hour)
		must(t, err)
		// The hammer must accept both certificates; its pool is made
		// before it starts, never changed while it handshakes.
		both := roots.Clone()
		both.AppendCertsFromPEM(newCrt)
		var fails, ok atomic.Int64
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", "127.0.0.1:"+strconv.Itoa(httpsPort),
					&tls.Config{ServerName: "shop.example.com", RootCAs: both})
				if err != nil {
					fails.Add(1)
					continue
				}
				conn.Close()
				ok.Add(1)
			}
		})
		want := mustParse(t, newCrt).SerialNumber
		sec, err := c.Admin.CoreV1().Secrets("shop").Get(ctx, "shop-tls", metav1.GetOptions{})
		must(t, err)
		sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey] = newCrt, newKey
		start := time.Now()
		_, err = c.Admin.CoreV1().Secrets("shop").Update(ctx, sec, metav1.UpdateOptions{})
		must(t, err)
		waitFor(t, 5*time.Second, func() error {
			conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(httpsPort), &tls.Config{ServerName: "shop.example.com", RootCAs: both})
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
		time.Sleep(200 * time.Millisecond)
		close(done)
		wg.Wait()
		roots.AppendCertsFromPEM(newCrt) // for the later subtests' clients, now nothing handshakes
		if fails.Load() != 0 || ok.Load() == 0 {
			t.Errorf("%d failed handshakes (%d good) during the rotation", fails.Load(), ok.Load())
		}
	})

	t.Run("other class ignored, missing Secret", func(t *testing.T) {
		other := kubeIngress("other", "nginx", "other.test", kubePath(networkingv1.PathTypePrefix, "/", "web", "http"))
		must(t, create(ctx, c.Admin.NetworkingV1().Ingresses("shop"), other))
		nosec := kubeIngress("nosec", kubernetes.DefaultClass, "nosecret.example.com", kubePath(networkingv1.PathTypePrefix, "/", "web", "http"))
		nosec.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"nosecret.example.com"}, SecretName: "missing"}}
		must(t, create(ctx, c.Admin.NetworkingV1().Ingresses("shop"), nosec))
		// Created after the other: once it serves, the other was seen.
		served(t, "https", "nosecret.example.com", "/", "b5")
		if code := status(t, insecure, url("https", "other.test", "/")); code != http.StatusNotFound {
			t.Errorf("an Ingress of another class is served: %d", code)
		}
		conn, err := tls.Dial("tcp", "127.0.0.1:"+strconv.Itoa(httpsPort), &tls.Config{ServerName: "nosecret.example.com", RootCAs: roots, InsecureSkipVerify: true})
		must(t, err)
		if got := conn.ConnectionState().PeerCertificates[0].DNSNames; len(got) == 0 || got[0] != "default.test" {
			t.Errorf("missing Secret: served %v, want the default certificate", got)
		}
		conn.Close()
		// The dashboard is on HTTPS, with the default certificate.
		resp, err := insecure.Get(fmt.Sprintf("https://127.0.0.1:%d/api/discovery", adminPort))
		must(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "TLS Secret shop/missing not found") {
			t.Errorf("the dashboard does not show the missing Secret:\n%s", body)
		}
	})

	t.Run("status written for our Ingresses only", func(t *testing.T) {
		waitFor(t, 15*time.Second, func() error {
			ing, err := c.Admin.NetworkingV1().Ingresses("shop").Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if lb := ing.Status.LoadBalancer.Ingress; len(lb) != 1 || lb[0].IP != "10.200.0.100" {
				return fmt.Errorf("status %+v", lb)
			}
			return nil
		})
		other, err := c.Admin.NetworkingV1().Ingresses("shop").Get(ctx, "other", metav1.GetOptions{})
		must(t, err)
		if len(other.Status.LoadBalancer.Ingress) != 0 {
			t.Errorf("status written on another controller's Ingress: %+v", other.Status.LoadBalancer.Ingress)
		}
	})

	t.Run("basic auth from auth-secret", func(t *testing.T) {
		sum := sha1.Sum([]byte("s3cret"))
		users := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "users"},
			Data: map[string][]byte{"auth": []byte("alice:{SHA}" + base64.StdEncoding.EncodeToString(sum[:]) + "\n")}}
		must(t, create(ctx, c.Admin.CoreV1().Secrets("shop"), users))
		private := kubeIngress("private", kubernetes.DefaultClass, "private.test", kubePath(networkingv1.PathTypePrefix, "/", "api", 8080))
		private.Annotations = map[string]string{"ingress.kubernetes.io/auth-type": "basic", "ingress.kubernetes.io/auth-secret": "users"}
		must(t, create(ctx, c.Admin.NetworkingV1().Ingresses("shop"), private))
		waitFor(t, 15*time.Second, func() error {
			if code := status(t, client, url("http", "private.test", "/")); code != http.StatusUnauthorized {
				return fmt.Errorf("without credentials: %d, want 401", code)
			}
			return nil
		})
		req, _ := http.NewRequest("GET", url("http", "private.test", "/"), nil)
		req.SetBasicAuth("alice", "s3cret")
		resp, err := client.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Backend") != "b4" {
			t.Errorf("with credentials: %d from %q", resp.StatusCode, resp.Header.Get("X-Backend"))
		}
	})

	t.Run("apiserver outage loses no route", func(t *testing.T) {
		c.StopAPIServer()
		end := time.Now().Add(30 * time.Second)
		n := 0
		for time.Now().Before(end) {
			for _, u := range []string{url("https", "shop.example.com", "/"), url("http", "exact.example.com", "/foo")} {
				if _, err := backendOf(client, u); err != nil {
					t.Fatalf("during the outage: %v", err)
				}
				n++
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("%d requests served during the 30 s outage", n)
		c.StartAPIServer()
		// The informers resync: a change made after the outage goes live.
		must(t, create(ctx, c.Admin.NetworkingV1().Ingresses("shop"), kubeIngress("after", kubernetes.DefaultClass, "after.example.com",
			kubePath(networkingv1.PathTypePrefix, "/", "api", 8080))))
		waitFor(t, 60*time.Second, func() error {
			got, err := backendOf(client, url("http", "after.example.com", "/"))
			if err == nil && got != "b4" {
				err = fmt.Errorf("answered by %s", got)
			}
			return err
		})
	})
}

// kubeBackend answers with its name on ip:8080.
func kubeBackend(t *testing.T, ip, name string) {
	ln, err := net.Listen("tcp", ip+":8080")
	must(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", name)
		io.WriteString(w, name)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

func backendOf(c *http.Client, u string) (string, error) {
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	return resp.Header.Get("X-Backend"), nil
}

func status(t *testing.T, c *http.Client, u string) int {
	resp, err := c.Get(u)
	must(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func sawBoth(c *http.Client, u, a, b string) error {
	seen := map[string]bool{}
	for range 20 {
		got, err := backendOf(c, u)
		if err != nil {
			return err
		}
		seen[got] = true
	}
	if !seen[a] || !seen[b] {
		return fmt.Errorf("saw %v, want %s and %s", seen, a, b)
	}
	return nil
}

func only(c *http.Client, u, want string) error {
	for range 10 {
		got, err := backendOf(c, u)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("answered by %s, want only %s", got, want)
		}
	}
	return nil
}

func waitFor(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustParse(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	c, err := x509.ParseCertificate(block.Bytes)
	must(t, err)
	return c
}

func ptrTo[T any](v T) *T { return &v }

type creator[T any] interface {
	Create(context.Context, T, metav1.CreateOptions) (T, error)
}

func create[T any](ctx context.Context, c creator[T], obj T) error {
	_, err := c.Create(ctx, obj, metav1.CreateOptions{})
	return err
}

func tlsSecretObj(name string, crt, key []byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key}}
}

func kubeService(name, portName string, port int, target intstr.IntOrString) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.ServiceSpec{
		Ports: []corev1.ServicePort{{Name: portName, Port: int32(port), TargetPort: target, Protocol: corev1.ProtocolTCP}}}}
}

func kubeSlice(name, svc, portName string, port int, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptrTo(portName), Port: ptrTo(int32(port)), Protocol: ptrTo(corev1.ProtocolTCP)}},
		Endpoints:   eps,
	}
}

func readyEP(ip string, ready bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptrTo(ready)}}
}

func kubePath(typ networkingv1.PathType, path, svc string, port any) networkingv1.HTTPIngressPath {
	sb := &networkingv1.IngressServiceBackend{Name: svc}
	switch v := port.(type) {
	case int:
		sb.Port.Number = int32(v)
	case string:
		sb.Port.Name = v
	}
	return networkingv1.HTTPIngressPath{Path: path, PathType: ptrTo(typ), Backend: networkingv1.IngressBackend{Service: sb}}
}

func kubeIngress(name, class, host string, paths ...networkingv1.HTTPIngressPath) *networkingv1.Ingress {
	return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: networkingv1.IngressSpec{
		IngressClassName: ptrTo(class),
		Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}},
	}}
}
