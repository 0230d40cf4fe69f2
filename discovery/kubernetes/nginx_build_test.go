package kubernetes

import (
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rancher-edge/edge/route"
)

func nginxClass() *networkingv1.IngressClass {
	return &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: NginxClass}, Spec: networkingv1.IngressClassSpec{Controller: NginxController}}
}

func nginxSettings() settings {
	s := defaultSettings()
	s.classes = []string{DefaultClass, NginxClass}
	return s
}

func nginxIng(ns, name string, age int, host string, paths ...networkingv1.HTTPIngressPath) *networkingv1.Ingress {
	i := ing(ns, name, age, host, paths...)
	i.Spec.IngressClassName = ptr(NginxClass)
	return i
}

// TestNginxClasses: with the class list, Ingresses of class nginx are
// served by name, by ingress-nginx's IngressClass, by the legacy
// annotation, and after that IngressClass is gone; without the list they
// are not; another controller's class is never served.
func TestNginxClasses(t *testing.T) {
	byName := nginxIng("a", "by-name", 0, "a.test", p(prefix, "/", "web", 80))
	legacy := ing("a", "legacy", 1, "b.test", p(prefix, "/", "web", 80))
	legacy.Spec.IngressClassName = nil
	legacy.Annotations = map[string]string{annotationClass: "nginx"}
	other := ing("a", "other", 2, "c.test", p(prefix, "/", "web", 80))
	other.Spec.IngressClassName = ptr("traefik")
	traefik := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "traefik"}, Spec: networkingv1.IngressClassSpec{Controller: "traefik.io/ingress-controller"}}
	world := objs(ourClass(false), nginxClass(), traefik, byName, legacy, other, web("a", "web", "10.0.0.1"))

	names := func(snap route.Snapshot) string {
		var out []string
		for _, s := range snap.Services {
			out = append(out, s.Source.Service)
		}
		return strings.Join(out, ",")
	}
	if got := names(run(t, nginxSettings(), world...)); got != "by-name,legacy" {
		t.Errorf("served %q, want by-name,legacy", got)
	}
	if got := names(run(t, defaultSettings(), world...)); got != "" {
		t.Errorf("without the list served %q", got)
	}
	// ingress-nginx uninstalled: its IngressClass went with it.
	if got := names(run(t, nginxSettings(), objs(ourClass(false), byName, web("a", "web", "10.0.0.1"))...)); got != "by-name" {
		t.Errorf("after ingress-nginx's IngressClass was deleted: %q", got)
	}
	// A class of the list whose IngressClass names another controller.
	s := nginxSettings()
	s.classes = []string{DefaultClass, "traefik"}
	if got := names(run(t, s, world...)); got != "" {
		t.Errorf("another controller's class served: %q", got)
	}
}

// TestNginxTLSDefaults: for class nginx, a host in spec.tls redirects with
// 308 unless ssl-redirect is false; a host without TLS is served on HTTP
// unless force-ssl-redirect.
func TestNginxTLSDefaults(t *testing.T) {
	mk := func(name, host string, tls bool, ann map[string]string) *networkingv1.Ingress {
		i := nginxIng("a", name, 0, host, p(prefix, "/", "web", 80))
		if tls {
			i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "cert"}}
		}
		i.Annotations = ann
		return i
	}
	snap := run(t, nginxSettings(), objs(ourClass(false), nginxClass(), web("a", "web", "10.0.0.1"), tlsSecret(t, "a", "cert", "*.test"),
		mk("tls", "tls.test", true, nil),
		mk("off", "off.test", true, map[string]string{"nginx.ingress.kubernetes.io/ssl-redirect": "false"}),
		mk("plain", "plain.test", false, nil),
		mk("force", "force.test", false, map[string]string{"nginx.ingress.kubernetes.io/force-ssl-redirect": "true"}),
		// Another Ingress of a TLS host, itself without spec.tls: the
		// host's server has TLS, so ingress-nginx redirects it too.
		nginxIng("a", "sibling", 1, "tls.test", p(prefix, "/other", "web", 80)),
	)...)
	for name, plain := range map[string]bool{"tls": false, "off": true, "plain": true, "force": false, "sibling": false} {
		for _, s := range snap.Services {
			if s.Source.Service == name && (s.TLS == nil || s.TLS.PlainHTTP != plain || s.TLS.RedirectCode != http.StatusPermanentRedirect) {
				t.Errorf("%s: TLS policy %+v, want plain HTTP %v with 308", name, s.TLS, plain)
			}
		}
	}
}

// TestNginxRewriteAndProblems: rewrite-target with groups makes the paths
// case-insensitive regexes; a snippet and an unknown annotation are
// problems while the rest of the Ingress serves; a path RE2 cannot express
// is skipped alone.
func TestNginxRewriteAndProblems(t *testing.T) {
	i := nginxIng("a", "rw", 0, "rewrite.bar.com", p(impl, "/something(/|$)(.*)", "web", 80), p(impl, "/(?<x>bad", "web", 80))
	i.Annotations = map[string]string{
		"nginx.ingress.kubernetes.io/rewrite-target":        "/$2",
		"nginx.ingress.kubernetes.io/configuration-snippet": "more_set_headers \"X: y\";",
		"nginx.ingress.kubernetes.io/made-up":               "1",
	}
	snap := run(t, nginxSettings(), objs(ourClass(false), nginxClass(), i, web("a", "web", "10.0.0.1"))...)
	if len(snap.Services) != 1 {
		t.Fatalf("routes %d, want 1:%s", len(snap.Services), problemList(snap))
	}
	if r := snap.Services[0].Rule; r != "Host:rewrite.bar.com;PathPrefix:{path:(?i)/something(/|$)(.*)};ReplacePathRegex:(?i)^(?:/something(/|$)(.*)).* /${2}" {
		t.Errorf("rule %q", r)
	}
	for _, want := range []string{"CVE-2025-1974", "made-up is not an ingress-nginx annotation", "RE2 can"} {
		if !hasProblem(snap, "kubernetes:a/rw", "", want) {
			t.Errorf("no problem %q:%s", want, problemList(snap))
		}
	}
}

// TestNginxCanary: a canary Ingress adds weighted servers to its primary
// and header routes in front of it; alone it is a warning.
func TestNginxCanary(t *testing.T) {
	prod := nginxIng("a", "prod", 0, "echo.test", p(prefix, "/", "web", 80))
	can := nginxIng("a", "canary", 1, "echo.test", p(prefix, "/", "web2", 80))
	can.Annotations = map[string]string{
		"nginx.ingress.kubernetes.io/canary":           "true",
		"nginx.ingress.kubernetes.io/canary-weight":    "20",
		"nginx.ingress.kubernetes.io/canary-by-header": "X-Canary",
		"nginx.ingress.kubernetes.io/rewrite-target":   "/",
	}
	snap := run(t, nginxSettings(), objs(ourClass(false), nginxClass(), prod, can, web("a", "web", "10.0.0.1"), web("a", "web2", "10.0.0.2"))...)
	if len(snap.Services) != 3 {
		t.Fatalf("routes %d, want 3:%s", len(snap.Services), problemList(snap))
	}
	main := service(t, snap, "a/prod/echo.test/")
	if len(main.Servers) != 2 || main.Servers[0].Weight != 80 || main.Servers[1].Weight != 20 {
		t.Errorf("weights %+v, want 80/20", main.Servers)
	}
	var always, never bool
	for _, s := range snap.Services {
		switch {
		case strings.HasSuffix(s.Rule, "Headers:X-Canary,always"):
			always = len(s.Servers) == 1 && strings.Contains(s.Servers[0].URL, "10.0.0.2") && s.Priority > main.Priority
		case strings.HasSuffix(s.Rule, "Headers:X-Canary,never"):
			never = len(s.Servers) == 1 && strings.Contains(s.Servers[0].URL, "10.0.0.1") && s.Priority > main.Priority
		}
	}
	if !always || !never {
		t.Errorf("header routes always=%v never=%v: %+v", always, never, snap.Services)
	}
	if !hasProblem(snap, "kubernetes:a/canary", route.Warning, "rewrite-target ignored — a canary takes them from its primary") {
		t.Errorf("a canary's own annotation is not reported:%s", problemList(snap))
	}
	snap = run(t, nginxSettings(), objs(ourClass(false), nginxClass(), can, web("a", "web2", "10.0.0.2"))...)
	if len(snap.Services) != 0 || !hasProblem(snap, "kubernetes:a/canary", route.Warning, "canary without a primary") {
		t.Errorf("lone canary: %v%s", snap.Services, problemList(snap))
	}
}

// TestCertManagerSolver: the solver's path outranks every route of its
// host and is served on plain HTTP even when the host redirects.
func TestCertManagerSolver(t *testing.T) {
	app := nginxIng("a", "app", 0, "app.test", p(prefix, "/", "web", 80))
	app.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"app.test"}, SecretName: "cert"}}
	app.Annotations = map[string]string{"nginx.ingress.kubernetes.io/force-ssl-redirect": "true"}
	solver := nginxIng("a", "cm-acme-http-solver-x", 1, "app.test", p(impl, "/.well-known/acme-challenge/tok", "cm-acme-http-solver-y", 8089))
	solver.Labels = map[string]string{labelSolver: "true"}
	snap := run(t, nginxSettings(), objs(ourClass(false), nginxClass(), app, solver, web("a", "web", "10.0.0.1"), svc("a", "cm-acme-http-solver-y", sport("http", 8089, intstr.FromInt(8089))),
		slice("a", "cm-acme-http-solver-y", "cm-acme-http-solver-y-a", "http", 8089, ep{addr: "10.0.0.3"}),
		tlsSecret(t, "a", "cert", "app.test"))...)
	s := service(t, snap, "a/cm-acme-http-solver-x/app.test/.well-known/acme-challenge/tok")
	if s.Priority != solverPriority || s.TLS == nil || !s.TLS.PlainHTTP {
		t.Errorf("solver route: priority %d TLS %+v", s.Priority, s.TLS)
	}
}

// TestNginxBackendProtocol: HTTPS switches the servers' scheme (with a
// warning while the edge verifies backends), GRPC to h2c, FCGI skips the
// path.
func TestNginxBackendProtocol(t *testing.T) {
	i := nginxIng("a", "tls-backend", 0, "b.test", p(prefix, "/", "web", 80))
	i.Annotations = map[string]string{"nginx.ingress.kubernetes.io/backend-protocol": "HTTPS", "nginx.ingress.kubernetes.io/proxy-connect-timeout": "5"}
	g := nginxIng("a", "grpc", 1, "g.test", p(prefix, "/", "web", 80))
	g.Annotations = map[string]string{"nginx.ingress.kubernetes.io/backend-protocol": "GRPC"}
	f := nginxIng("a", "fcgi", 2, "f.test", p(prefix, "/", "web", 80))
	f.Annotations = map[string]string{"nginx.ingress.kubernetes.io/backend-protocol": "FCGI"}
	world := objs(ourClass(false), nginxClass(), i, g, f, web("a", "web", "10.0.0.1"))
	snap := run(t, nginxSettings(), world...)
	s := service(t, snap, "a/tls-backend/b.test/")
	if len(s.Servers) != 1 || s.Servers[0].URL != "https://10.0.0.1:8080" || s.DialTimeout != 5*time.Second {
		t.Errorf("servers %+v, dial timeout %v", s.Servers, s.DialTimeout)
	}
	if g := service(t, snap, "a/grpc/g.test/"); len(g.Servers) != 1 || g.Servers[0].URL != "h2c://10.0.0.1:8080" {
		t.Errorf("GRPC servers %+v", g.Servers)
	}
	if !hasProblem(snap, "kubernetes:a/tls-backend", route.Warning, "TRAEFIK_BACKEND_INSECURE") ||
		!hasProblem(snap, "kubernetes:a/fcgi", route.Error, "skipped: annotation nginx.ingress.kubernetes.io/backend-protocol \"FCGI\"") || len(snap.Services) != 2 {
		t.Errorf("problems:%s", problemList(snap))
	}
	set := nginxSettings()
	set.backendInsecure = true
	if snap := run(t, set, world...); hasProblem(snap, "kubernetes:a/tls-backend", "", "TRAEFIK_BACKEND_INSECURE") {
		t.Errorf("warned although backends are not verified")
	}
}

// TestNginxRegexPerHost: use-regex on one Ingress makes the paths of every
// ingress-nginx Ingress of that host regexes, as ingress-nginx's server
// does; another host keeps the Ingress spec's element-wise prefix.
func TestNginxRegexPerHost(t *testing.T) {
	re := nginxIng("a", "re", 0, "h.test", p(impl, "/api/v[0-9]+", "web", 80))
	re.Annotations = map[string]string{"nginx.ingress.kubernetes.io/use-regex": "true"}
	sib := nginxIng("a", "sib", 1, "h.test", p(prefix, "/static", "web", 80))
	other := nginxIng("a", "other", 2, "o.test", p(prefix, "/static", "web", 80))
	snap := run(t, nginxSettings(), objs(ourClass(false), nginxClass(), re, sib, other, web("a", "web", "10.0.0.1"))...)
	for name, want := range map[string]string{
		"a/re/h.test/api/v[0-9]+": "Host:h.test;PathPrefix:{path:(?i)/api/v[0-9]+}",
		"a/sib/h.test/static":     "Host:h.test;PathPrefix:{path:(?i)/static}",
		"a/other/o.test/static":   "Host:o.test;Path:/static,/static/{rest:.*}",
	} {
		if r := service(t, snap, name).Rule; r != want {
			t.Errorf("%s: rule %q, want %q", name, r, want)
		}
	}
}

// TestNginxFromToWWW: www.<host> redirects to <host> with 308 unless an
// Ingress serves it.
func TestNginxFromToWWW(t *testing.T) {
	i := nginxIng("a", "site", 0, "foo.test", p(prefix, "/", "web", 80))
	i.Annotations = map[string]string{"nginx.ingress.kubernetes.io/from-to-www-redirect": "true"}
	snap := run(t, nginxSettings(), objs(ourClass(false), nginxClass(), i, web("a", "web", "10.0.0.1"))...)
	s := service(t, snap, "a/site/www.foo.test (from-to-www-redirect)")
	if s.Rule != "Host:www.foo.test;PathPrefix:/" || s.Redirect == nil || s.Redirect.Code != 308 || s.Redirect.Replacement != "${1}://foo.test${2}" || !s.TLS.PlainHTTP {
		t.Errorf("redirect route %+v %+v", s, s.Redirect)
	}
	www := nginxIng("a", "www", 1, "www.foo.test", p(prefix, "/", "web", 80))
	snap = run(t, nginxSettings(), objs(ourClass(false), nginxClass(), i, www, web("a", "web", "10.0.0.1"))...)
	if len(snap.Services) != 2 || !hasProblem(snap, "kubernetes:a/site", route.Warning, "has its own Ingress") {
		t.Errorf("an Ingress of www.foo.test: %d routes%s", len(snap.Services), problemList(snap))
	}
}

// TestNginxServerAlias: the aliases join the rule's hosts, except one
// another Ingress serves.
func TestNginxServerAlias(t *testing.T) {
	i := nginxIng("a", "site", 0, "foo.test", p(prefix, "/", "web", 80))
	i.Annotations = map[string]string{"nginx.ingress.kubernetes.io/server-alias": "Alias.test, taken.test, *.bad.test"}
	taken := nginxIng("a", "taken", 1, "taken.test", p(prefix, "/", "web", 80))
	snap := run(t, nginxSettings(), objs(ourClass(false), nginxClass(), i, taken, web("a", "web", "10.0.0.1"))...)
	if r := service(t, snap, "a/site/foo.test/").Rule; r != "Host:foo.test,alias.test;PathPrefix:/" {
		t.Errorf("rule %q", r)
	}
	if !hasProblem(snap, "kubernetes:a/site", route.Warning, "taken.test has its own Ingress") || !hasProblem(snap, "kubernetes:a/site", route.Warning, "not a host name") {
		t.Errorf("problems:%s", problemList(snap))
	}
}

// TestNginxDefaultBackend: the default-backend Service answers while the
// path's Service has no ready endpoint.
func TestNginxDefaultBackend(t *testing.T) {
	i := nginxIng("a", "site", 0, "foo.test", p(prefix, "/", "down", 80))
	i.Annotations = map[string]string{"nginx.ingress.kubernetes.io/default-backend": "errors"}
	down := svc("a", "down", sport("http", 80, intstr.FromInt(8080)))
	snap := run(t, nginxSettings(), objs(ourClass(false), nginxClass(), i, down, web("a", "errors", "10.0.0.9"))...)
	s := service(t, snap, "a/site/foo.test/")
	if len(s.Servers) != 1 || s.Servers[0].URL != "http://10.0.0.9:8080" || !hasProblem(snap, "kubernetes:a/site", route.Warning, "Service errors answers") {
		t.Errorf("servers %+v%s", s.Servers, problemList(snap))
	}
	snap = run(t, nginxSettings(), objs(ourClass(false), nginxClass(), i, web("a", "down", "10.0.0.1"), web("a", "errors", "10.0.0.9"))...)
	if s := service(t, snap, "a/site/foo.test/"); len(s.Servers) != 1 || s.Servers[0].URL != "http://10.0.0.1:8080" {
		t.Errorf("with ready endpoints: %+v", s.Servers)
	}
}

// TestNginxAuthURLVariables: the oauth2-proxy example's auth-url
// https://$host/oauth2/auth is resolved per exact host; under a wildcard
// the path is not served.
func TestNginxAuthURLVariables(t *testing.T) {
	ann := map[string]string{"nginx.ingress.kubernetes.io/auth-url": "https://$host/oauth2/auth",
		"nginx.ingress.kubernetes.io/auth-signin": "https://$host/oauth2/start?rd=$escaped_request_uri"}
	i := nginxIng("a", "app", 0, "app.test", p(prefix, "/", "web", 80))
	i.Annotations = ann
	w := nginxIng("a", "wild", 1, "*.wild.test", p(prefix, "/", "web", 80))
	w.Annotations = ann
	snap := run(t, nginxSettings(), objs(ourClass(false), nginxClass(), i, w, web("a", "web", "10.0.0.1"))...)
	s := service(t, snap, "a/app/app.test/")
	if s.ForwardAuth == nil || s.ForwardAuth.Address != "https://app.test/oauth2/auth" || s.ForwardAuth.SignIn == "" {
		t.Errorf("forward auth %+v", s.ForwardAuth)
	}
	if len(snap.Services) != 1 || !hasProblem(snap, "kubernetes:a/wild", route.Error, "need an exact host") {
		t.Errorf("wildcard host: %d routes%s", len(snap.Services), problemList(snap))
	}
}

// TestNginxServiceUpstream: the cluster IP replaces the endpoints.
func TestNginxServiceUpstream(t *testing.T) {
	i := nginxIng("a", "app", 0, "app.test", p(prefix, "/", "web", 80))
	i.Annotations = map[string]string{"nginx.ingress.kubernetes.io/service-upstream": "true"}
	w := web("a", "web", "10.0.0.1")
	w[0].(*corev1.Service).Spec.ClusterIP = "10.96.0.10"
	snap := run(t, nginxSettings(), objs(ourClass(false), nginxClass(), i, w)...)
	if s := service(t, snap, "a/app/app.test/"); len(s.Servers) != 1 || s.Servers[0].URL != "http://10.96.0.10:80" {
		t.Errorf("servers %+v", s.Servers)
	}
}
