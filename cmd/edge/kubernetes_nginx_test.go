package main

import (
	"context"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/discovery/kubernetes"
	"github.com/rancher-edge/edge/discovery/kubernetes/kubetest"
)

// TestKubernetesNginxTakeover serves ingress-nginx's Ingresses as they
// are — class nginx, IngressClass k8s.io/ingress-nginx — against a real
// apiserver, with the Ingresses of ingress-nginx's documented examples
// (docs/examples/rewrite, app-root, auth/basic, external auth, affinity,
// canary, …) written out below, and cert-manager's HTTP-01 solver
// Ingress in the shape cert-manager creates.
func TestKubernetesNginxTakeover(t *testing.T) {
	if !kubetest.InNetns(t, kubeBackends...) {
		return
	}
	ctx := context.Background()
	c := kubetest.Start(t)
	for _, ns := range []string{"rancher-edge", "default"} {
		if err := create(ctx, c.Admin.CoreV1().Namespaces(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && ns != "default" {
			t.Fatal(err)
		}
	}
	rbac, err := os.ReadFile("../../deploy/kubernetes/rbac.yaml")
	must(t, err)
	must(t, c.GrantEdge(ctx, rbac, "rancher-edge"))
	must(t, create(ctx, c.Admin.NetworkingV1().IngressClasses(), &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: kubernetes.DefaultClass}, Spec: networkingv1.IngressClassSpec{Controller: kubernetes.Controller}}))
	must(t, create(ctx, c.Admin.NetworkingV1().IngressClasses(), &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx"}, Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}}))

	// Backends that echo what they were sent: http-svc (the examples'
	// name) and canary on port 8080, an authentication server, and
	// cert-manager's solver on 8089.
	nginxEcho(t, "10.200.0.1:8080", "http-svc")
	nginxEcho(t, "10.200.0.2:8080", "canary")
	const token, keyAuth = "Xq7token", "Xq7token.thumbprint"
	solverBackend(t, "10.200.0.3:8089", token, keyAuth)
	authBackend(t, "10.200.0.4:8080")
	grpcBackend(t, "10.200.0.5:50051")
	ns := "default"
	for _, s := range []struct {
		name, ip string
		port     int
	}{{"http-svc", "10.200.0.1", 8080}, {"canary-svc", "10.200.0.2", 8080}, {"oauth2-proxy", "10.200.0.4", 8080}, {"go-grpc-greeter-server", "10.200.0.5", 50051}} {
		must(t, create(ctx, c.Admin.CoreV1().Services(ns), kubeService(s.name, "http", 80, intstr.FromInt(s.port))))
		must(t, create(ctx, c.Admin.DiscoveryV1().EndpointSlices(ns), kubeSlice(s.name+"-1", s.name, "http", s.port, readyEP(s.ip, true))))
	}

	dir := t.TempDir()
	defCert, defKey, _ := writeCert(t, dir, "default", "default.test")
	crt, key, err := certs.SelfSigned([]string{"secure.bar.com", "acme.bar.com", "grpctest.dev.mydomain.com"}, time.Hour)
	must(t, err)
	must(t, create(ctx, c.Admin.CoreV1().Secrets(ns), tlsSecretObj("bar-tls", crt, key)))
	// docs/examples/auth/basic: htpasswd -c auth foo, password bar.
	sum := sha1.Sum([]byte("bar"))
	must(t, create(ctx, c.Admin.CoreV1().Secrets(ns), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "basic-auth"},
		Data: map[string][]byte{"auth": []byte("foo:{SHA}" + base64.StdEncoding.EncodeToString(sum[:]) + "\n")}}))

	nginxIng := func(name, host string, ann map[string]string, paths ...networkingv1.HTTPIngressPath) *networkingv1.Ingress {
		i := kubeIngress(name, "nginx", host, paths...)
		i.Annotations = ann
		return i
	}
	root := kubePath(networkingv1.PathTypePrefix, "/", "http-svc", 80)
	a := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m["nginx.ingress.kubernetes.io/"+kv[i]] = kv[i+1]
		}
		return m
	}
	secure := nginxIng("secure", "secure.bar.com", nil, root)
	secure.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"secure.bar.com"}, SecretName: "bar-tls"}}
	acmeHost := nginxIng("acme-host", "acme.bar.com", a("force-ssl-redirect", "true"), root)
	acmeHost.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"acme.bar.com"}, SecretName: "bar-tls"}}
	// docs/examples/grpc
	grpcIng := nginxIng("fortune-ingress", "grpctest.dev.mydomain.com", a("backend-protocol", "GRPC"),
		kubePath(networkingv1.PathTypePrefix, "/", "go-grpc-greeter-server", 80))
	grpcIng.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"grpctest.dev.mydomain.com"}, SecretName: "bar-tls"}}
	legacy := kubeIngress("legacy", "", "legacy.bar.com", root)
	legacy.Spec.IngressClassName = nil
	legacy.Annotations = map[string]string{"kubernetes.io/ingress.class": "nginx"}
	ings := []*networkingv1.Ingress{
		// docs/examples/rewrite
		nginxIng("rewrite", "rewrite.bar.com", a("use-regex", "true", "rewrite-target", "/$2"),
			kubePath(networkingv1.PathTypeImplementationSpecific, "/something(/|$)(.*)", "http-svc", 80)),
		// docs/examples/rewrite, app-root
		nginxIng("approot", "approot.bar.com", a("app-root", "/app1"), root),
		nginxIng("redirect", "redirect.bar.com", a("permanent-redirect", "https://www.bar.com$request_uri", "permanent-redirect-code", "308"), root),
		nginxIng("temporal", "temporal.bar.com", a("temporal-redirect", "https://www.bar.com/maintenance"), root),
		nginxIng("site", "site.bar.com", a("from-to-www-redirect", "true"), root),
		// docs/examples/affinity/cookie
		nginxIng("nginx-test", "stickyingress.example.com", a("affinity", "cookie", "session-cookie-name", "route", "session-cookie-max-age", "172800"), root),
		// docs/examples/auth/basic
		nginxIng("ingress-with-auth", "foo.bar.com", a("auth-type", "basic", "auth-secret", "basic-auth", "auth-realm", "Authentication Required - foo"), root),
		// docs/examples/auth/oauth-external-auth, with the proxy in the cluster
		nginxIng("external-auth", "oauth.bar.com", a("auth-url", "http://10.200.0.4:8080/oauth2/auth",
			"auth-signin", "https://$host/oauth2/start?rd=$escaped_request_uri", "auth-response-headers", "X-Auth-Request-User"), root),
		nginxIng("allow", "allow.bar.com", a("whitelist-source-range", "10.0.0.0/24,172.10.0.1"), root),
		nginxIng("allow-me", "allowme.bar.com", a("allowlist-source-range", "127.0.0.1/32"), root),
		nginxIng("deny", "deny.bar.com", a("denylist-source-range", "127.0.0.0/8"), root),
		nginxIng("headers", "headers.bar.com", a("x-forwarded-prefix", "/path", "upstream-vhost", "internal.bar.com",
			"proxy-body-size", "1k", "enable-cors", "true"), root),
		// docs/examples/canary: header first, then the weight (0 here).
		nginxIng("production", "echo.bar.com", nil, root),
		nginxIng("canary", "echo.bar.com", a("canary", "true", "canary-by-header", "X-Canary", "canary-weight", "0"),
			kubePath(networkingv1.PathTypePrefix, "/", "canary-svc", 80)),
		// docs/examples/canary by cookie, with a weight for the rest.
		nginxIng("production-w", "weight.bar.com", nil, root),
		nginxIng("canary-w", "weight.bar.com", a("canary", "true", "canary-by-cookie", "canary", "canary-weight", "30"),
			kubePath(networkingv1.PathTypePrefix, "/", "canary-svc", 80)),
		// An unsupported annotation and a snippet: problems, the rest serves.
		nginxIng("snippets", "snippet.bar.com", a("configuration-snippet", "more_set_headers \"Request-Id: $req_id\";",
			"server-snippet", "set $agentflag 0;", "mirror-target", "https://test.env.com/$request_uri"), root),
		secure, acmeHost, grpcIng, legacy,
	}
	for _, i := range ings {
		must(t, create(ctx, c.Admin.NetworkingV1().Ingresses(ns), i))
	}

	httpPort, httpsPort, adminPort := freePort(t), freePort(t), freePort(t)
	env := map[string]string{
		"TRAEFIK_HTTP_PORT":               strconv.Itoa(httpPort),
		"TRAEFIK_HTTPS_PORT":              strconv.Itoa(httpsPort),
		"TRAEFIK_HTTPS_PUBLIC_PORT":       "443",
		"TRAEFIK_SSL_CERT":                defCert,
		"TRAEFIK_SSL_PRIVATE_KEY":         defKey,
		"TRAEFIK_ADMIN_PORT":              strconv.Itoa(adminPort),
		"TRAEFIK_ADMIN_BIND":              "127.0.0.1",
		"TRAEFIK_KUBERNETES_ENABLE":       "true",
		"TRAEFIK_KUBERNETES_ENDPOINT":     c.URL,
		"TRAEFIK_KUBERNETES_TOKEN":        kubetest.EdgeToken,
		"TRAEFIK_KUBERNETES_CA":           string(c.CA),
		"TRAEFIK_KUBERNETES_INGRESSCLASS": "rancher-edge,nginx",
		"POD_NAMESPACE":                   "rancher-edge",
	}
	stop := startEdgeProcess(t, env)
	defer stop()
	client := httpsClient(nil, httpsPort, httpPort)
	try := func(host, path string, hdr ...string) (*http.Response, error) {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s:%d%s", host, httpPort, path), nil)
		for i := 0; i < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp, nil
	}
	get := func(host, path string, hdr ...string) *http.Response {
		t.Helper()
		resp, err := try(host, path, hdr...)
		must(t, err)
		return resp
	}
	// The last Ingress created is served: the others were seen with it.
	waitFor(t, 20*time.Second, func() error {
		r, err := try("legacy.bar.com", "/")
		if err != nil {
			return err
		}
		if r.StatusCode != 200 || r.Header.Get("X-Backend") != "http-svc" {
			return fmt.Errorf("legacy annotation class nginx: %d %q", r.StatusCode, r.Header.Get("X-Backend"))
		}
		return nil
	})

	t.Run("rewrite-target with capture groups", func(t *testing.T) {
		// As the example documents: /something → /, /something/ → /,
		// /something/new → /new; the regex is case-insensitive.
		for in, want := range map[string]string{"/something": "/", "/something/": "/", "/something/new": "/new", "/SomeThing/new": "/new"} {
			if r := get("rewrite.bar.com", in); r.StatusCode != 200 || r.Header.Get("X-Path") != want {
				t.Errorf("%s: %d, backend saw %q, want %q", in, r.StatusCode, r.Header.Get("X-Path"), want)
			}
		}
		// Outside the regex: no route (on HTTP the edge then redirects
		// to HTTPS, where it is 404).
		insecure := httpsClient(nil, httpsPort, httpPort)
		insecure.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // checks the route, not trust
		resp, err := insecure.Get(fmt.Sprintf("https://rewrite.bar.com:%d/other", httpsPort))
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("/other: %d, want 404", resp.StatusCode)
		}
	})
	t.Run("app-root and redirects", func(t *testing.T) {
		for _, c := range []struct {
			host, path string
			code       int
			loc        string
		}{
			{"approot.bar.com", "/", 302, "http://approot.bar.com:" + strconv.Itoa(httpPort) + "/app1"},
			{"redirect.bar.com", "/a?b=c", 308, "https://www.bar.com/a?b=c"},
			{"temporal.bar.com", "/x", 302, "https://www.bar.com/maintenance"},
			{"www.site.bar.com", "/x?y=1", 308, "http://site.bar.com/x?y=1"},
		} {
			r := get(c.host, c.path)
			if r.StatusCode != c.code || r.Header.Get("Location") != c.loc {
				t.Errorf("%s%s: %d %q, want %d %q", c.host, c.path, r.StatusCode, r.Header.Get("Location"), c.code, c.loc)
			}
		}
		if r := get("approot.bar.com", "/app1"); r.StatusCode != 200 {
			t.Errorf("app-root target: %d", r.StatusCode)
		}
	})
	t.Run("ssl-redirect defaults of class nginx", func(t *testing.T) {
		if r := get("secure.bar.com", "/p?q=1"); r.StatusCode != http.StatusPermanentRedirect || r.Header.Get("Location") != "https://secure.bar.com/p?q=1" {
			t.Errorf("TLS host on HTTP: %d %q, want 308 to https", r.StatusCode, r.Header.Get("Location"))
		}
		if r := get("rewrite.bar.com", "/something"); r.StatusCode != 200 {
			t.Errorf("a host without TLS is served on HTTP: %d", r.StatusCode)
		}
	})
	t.Run("affinity cookie", func(t *testing.T) {
		r := get("stickyingress.example.com", "/")
		if ck := r.Header.Get("Set-Cookie"); r.StatusCode != 200 || !strings.HasPrefix(ck, "route=") || !strings.Contains(ck, "Max-Age=172800") {
			t.Errorf("sticky cookie %q (%d)", ck, r.StatusCode)
		}
	})
	t.Run("basic auth", func(t *testing.T) {
		if r := get("foo.bar.com", "/"); r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") != `Basic realm="Authentication Required - foo"` {
			t.Errorf("without credentials: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
		}
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://foo.bar.com:%d/", httpPort), nil)
		req.SetBasicAuth("foo", "bar")
		resp, err := client.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("with foo:bar: %d", resp.StatusCode)
		}
	})
	t.Run("external auth with sign-in", func(t *testing.T) {
		r := get("oauth.bar.com", "/private?x=1")
		if want := "https://oauth.bar.com:" + strconv.Itoa(httpPort) + "/oauth2/start?rd=%2Fprivate%3Fx%3D1"; r.StatusCode != http.StatusFound || r.Header.Get("Location") != want {
			t.Errorf("signed out: %d %q, want 302 %q", r.StatusCode, r.Header.Get("Location"), want)
		}
		r = get("oauth.bar.com", "/private", "Cookie", "_oauth2_proxy=alice")
		if r.StatusCode != 200 || r.Header.Get("X-User") != "alice" {
			t.Errorf("signed in: %d, backend saw user %q", r.StatusCode, r.Header.Get("X-User"))
		}
	})
	t.Run("source ranges", func(t *testing.T) {
		for host, want := range map[string]int{"allow.bar.com": 403, "allowme.bar.com": 200, "deny.bar.com": 403} {
			if r := get(host, "/"); r.StatusCode != want {
				t.Errorf("%s from 127.0.0.1: %d, want %d", host, r.StatusCode, want)
			}
		}
	})
	t.Run("headers, vhost, body size, CORS", func(t *testing.T) {
		r := get("headers.bar.com", "/")
		if r.Header.Get("X-Prefix") != "/path" || r.Header.Get("X-Host") != "internal.bar.com" || r.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("prefix %q host %q CORS origin %q", r.Header.Get("X-Prefix"), r.Header.Get("X-Host"), r.Header.Get("Access-Control-Allow-Origin"))
		}
		// A browser's preflight is answered by the edge.
		req, _ := http.NewRequest("OPTIONS", fmt.Sprintf("http://headers.bar.com:%d/", httpPort), nil)
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Access-Control-Request-Method", "PUT")
		pre, err := client.Do(req)
		must(t, err)
		pre.Body.Close()
		if pre.StatusCode != http.StatusNoContent || pre.Header.Get("X-Backend") != "" || !strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "PUT") {
			t.Errorf("preflight: %d from %q, methods %q", pre.StatusCode, pre.Header.Get("X-Backend"), pre.Header.Get("Access-Control-Allow-Methods"))
		}
		resp, err := client.Post(fmt.Sprintf("http://headers.bar.com:%d/", httpPort), "text/plain", strings.NewReader(strings.Repeat("x", 2048)))
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("2 KiB body over proxy-body-size 1k: %d", resp.StatusCode)
		}
	})
	t.Run("canary by header", func(t *testing.T) {
		for hdr, want := range map[string]string{"always": "canary", "never": "http-svc", "": "http-svc", "other": "http-svc"} {
			var r *http.Response
			if hdr == "" {
				r = get("echo.bar.com", "/")
			} else {
				r = get("echo.bar.com", "/", "X-Canary", hdr)
			}
			if r.Header.Get("X-Backend") != want {
				t.Errorf("X-Canary %q: %q, want %q", hdr, r.Header.Get("X-Backend"), want)
			}
		}
	})
	t.Run("backend-protocol GRPC", func(t *testing.T) {
		// A gRPC client: HTTP/2 over TLS to the edge, a framed message,
		// the grpc-status trailer back from an h2c server.
		h2 := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // checks the protocol, not trust
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(httpsPort))
			}}}
		msg := "\x00\x00\x00\x00\x05hello"
		req, _ := http.NewRequest("POST", "https://grpctest.dev.mydomain.com/helloworld.Greeter/SayHello", strings.NewReader(msg))
		req.Header.Set("Content-Type", "application/grpc")
		req.Header.Set("Te", "trailers")
		resp, err := h2.Do(req)
		must(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || resp.StatusCode != 200 || string(body) != msg || resp.Trailer.Get("Grpc-Status") != "0" {
			t.Errorf("gRPC call: %s %d body %q trailer %v", resp.Proto, resp.StatusCode, body, resp.Trailer)
		}
	})
	t.Run("canary by cookie and weight", func(t *testing.T) {
		for ck, want := range map[string]string{"canary=always": "canary", "a=1; canary=never": "http-svc"} {
			if r := get("weight.bar.com", "/", "Cookie", ck); r.Header.Get("X-Backend") != want {
				t.Errorf("Cookie %q: %q, want %q", ck, r.Header.Get("X-Backend"), want)
			}
		}
		// Smooth weighted round robin: exactly 30 of every 100.
		n := 0
		for range 100 {
			if get("weight.bar.com", "/").Header.Get("X-Backend") == "canary" {
				n++
			}
		}
		if n != 30 {
			t.Errorf("canary-weight 30: %d of 100 requests went to the canary", n)
		}
	})
	t.Run("snippets and unsupported annotations are problems, the rest serves", func(t *testing.T) {
		if r := get("snippet.bar.com", "/"); r.StatusCode != 200 {
			t.Errorf("the Ingress with a snippet: %d", r.StatusCode)
		}
		admin := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // reads the page, not trust
		resp, err := admin.Get(fmt.Sprintf("https://127.0.0.1:%d/api/discovery", adminPort))
		must(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{"configuration-snippet refused", "CVE-2025-1974", "server-snippet refused", "mirror-target not supported"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("the dashboard does not show %q", want)
			}
		}
	})
	t.Run("edge check --online lists the Ingresses and their problems", func(t *testing.T) {
		var out strings.Builder
		err := run(ctx, []string{"check", "--online"}, mapEnv(env), &out, io.Discard)
		if err != nil {
			t.Errorf("check: %v\n%s", err, out.String())
		}
		for _, want := range []string{"kubernetes apiserver " + c.URL, "Ingresses served (21, classes rancher-edge,nginx)",
			"default/rewrite", "rewrite.bar.com", "ingress-nginx's, taken over in place", "default/canary", "canary",
			"warning: kubernetes:default/snippets: annotation nginx.ingress.kubernetes.io/configuration-snippet refused", "CVE-2025-1974",
			"annotation nginx.ingress.kubernetes.io/mirror-target not supported"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("check --online does not show %q:\n%s", want, out.String())
			}
		}
	})
	t.Run("cert-manager HTTP-01 solver", func(t *testing.T) {
		// What cert-manager creates for acme.bar.com (pkg/issuer/acme/http):
		// a NodePort Service on 8089 and an Ingress of the Issuer's class.
		solverSvc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "cm-acme-http-solver-x7k2p",
			Labels: map[string]string{"acme.cert-manager.io/http-domain": "1034233410", "acme.cert-manager.io/http-token": "1191279536", "acme.cert-manager.io/http01-solver": "true"}},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"acme.cert-manager.io/http01-solver": "true"},
				Ports: []corev1.ServicePort{{Name: "http", Port: 8089, TargetPort: intstr.FromInt(8089), Protocol: corev1.ProtocolTCP}}}}
		must(t, create(ctx, c.Admin.CoreV1().Services(ns), solverSvc))
		must(t, create(ctx, c.Admin.DiscoveryV1().EndpointSlices(ns), kubeSlice("cm-acme-http-solver-x7k2p-1", "cm-acme-http-solver-x7k2p", "http", 8089, readyEP("10.200.0.3", true))))
		solver := kubeIngress("cm-acme-http-solver-7qlvw", "nginx", "acme.bar.com",
			kubePath(networkingv1.PathTypeImplementationSpecific, "/.well-known/acme-challenge/"+token, "cm-acme-http-solver-x7k2p", 8089))
		solver.Labels = solverSvc.Labels
		solver.Annotations = map[string]string{"nginx.ingress.kubernetes.io/whitelist-source-range": "0.0.0.0/0,::/0"}
		must(t, create(ctx, c.Admin.NetworkingV1().Ingresses(ns), solver))
		var body string
		waitFor(t, 15*time.Second, func() error {
			resp, err := client.Get(fmt.Sprintf("http://acme.bar.com:%d/.well-known/acme-challenge/%s", httpPort, token))
			if err != nil {
				return err
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if body = string(b); resp.StatusCode != 200 {
				return fmt.Errorf("challenge on HTTP: %d %q", resp.StatusCode, b)
			}
			return nil
		})
		if body != keyAuth {
			t.Errorf("challenge answered %q, want %q", body, keyAuth)
		}
		// The host's other paths still redirect (force-ssl-redirect, 308).
		if r := get("acme.bar.com", "/"); r.StatusCode != http.StatusPermanentRedirect {
			t.Errorf("acme.bar.com/ on HTTP: %d, want 308", r.StatusCode)
		}
	})
}

// nginxEcho answers with its name and what it was sent: the path, the
// Host, X-Forwarded-Prefix and the user an authentication server named.
func nginxEcho(t *testing.T, addr, name string) {
	serveOn(t, addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", name)
		w.Header().Set("X-Path", r.URL.Path)
		w.Header().Set("X-Host", r.Host)
		w.Header().Set("X-Prefix", r.Header.Get("X-Forwarded-Prefix"))
		w.Header().Set("X-User", r.Header.Get("X-Auth-Request-User"))
		io.WriteString(w, name)
	}))
}

// authBackend is an oauth2-proxy stand-in: 202 with the user for a
// session cookie, 401 without.
func authBackend(t *testing.T, addr string) {
	serveOn(t, addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie("_oauth2_proxy")
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Auth-Request-User", ck.Value)
		w.WriteHeader(http.StatusAccepted)
	}))
}

// solverBackend answers the one challenge as cert-manager's solver pod.
func solverBackend(t *testing.T, addr, token, keyAuth string) {
	serveOn(t, addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/acme-challenge/"+token {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, keyAuth)
	}))
}

func serveOn(t *testing.T, addr string, h http.Handler) {
	ln, err := net.Listen("tcp", addr)
	must(t, err)
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// grpcBackend answers like a gRPC server over h2c: HTTP/2 only, the
// request's message echoed, grpc-status 0 in the trailer.
func grpcBackend(t *testing.T, addr string) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 || r.Header.Get("Content-Type") != "application/grpc" {
			http.Error(w, "gRPC over HTTP/2 only", http.StatusHTTPVersionNotSupported)
			return
		}
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		io.Copy(w, r.Body)
		w.Header().Set("Grpc-Status", "0")
	})
	serveOn(t, addr, h2c.NewHandler(h, &http2.Server{}))
}
