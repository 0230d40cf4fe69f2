package kubernetes

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rancher-edge/edge/route"
)

var (
	prefix = networkingv1.PathTypePrefix
	exact  = networkingv1.PathTypeExact
	impl   = networkingv1.PathTypeImplementationSpecific
	yes    = ptr(true)
	no     = ptr(false)
)

// web is a Service with one ready endpoint on port 80 → 8080.
func web(ns, name, ip string) []any {
	return []any{
		svc(ns, name, sport("http", 80, intstr.FromInt(8080))),
		slice(ns, name, name+"-a", "http", 8080, ep{addr: ip}),
	}
}

func objs(parts ...any) []any {
	var out []any
	for _, p := range parts {
		if list, ok := p.([]any); ok {
			out = append(out, list...)
		} else {
			out = append(out, p)
		}
	}
	return out
}

func TestClassSelection(t *testing.T) {
	other := &networkingv1.IngressClass{}
	other.Name, other.Spec.Controller = "nginx", "k8s.io/ingress-nginx"
	named := func(class string) *networkingv1.Ingress {
		i := ing("default", "by-"+class, 0, class+".example.com", p(prefix, "/", "web", 80))
		i.Spec.IngressClassName = ptr(class)
		return i
	}
	legacy := func(class string) *networkingv1.Ingress {
		i := ing("default", "legacy-"+class, 0, "legacy-"+class+".example.com", p(prefix, "/", "web", 80))
		i.Spec.IngressClassName = nil
		i.Annotations = map[string]string{annotationClass: class}
		return i
	}
	bare := ing("default", "bare", 0, "bare.example.com", p(prefix, "/", "web", 80))
	bare.Spec.IngressClassName = nil

	for _, tc := range []struct {
		name    string
		def     bool
		classes []any
		want    []string // Ingress names served
	}{
		{"our class, not default", false, []any{ourClass(false), other}, []string{"by-rancher-edge", "legacy-rancher-edge"}},
		{"our class is the default", true, []any{ourClass(true), other}, []string{"bare", "by-rancher-edge", "legacy-rancher-edge"}},
		// ingressClassName naming our class name but no IngressClass with
		// our controller: not ours.
		{"no IngressClass object", false, []any{other}, []string{"legacy-rancher-edge"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := run(t, defaultSettings(), objs(tc.classes, web("default", "web", "10.0.0.1"),
				named(DefaultClass), named("nginx"), legacy(DefaultClass), legacy("nginx"), bare)...)
			var got []string
			for _, s := range snap.Services {
				got = append(got, s.Source.Service)
			}
			slices.Sort(got)
			got = slices.Compact(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("served %q, want %q%s", got, tc.want, problemList(snap))
			}
		})
	}
}

func TestPathsAndPrecedence(t *testing.T) {
	a := ing("shop", "a", 0, "shop.example.com",
		p(prefix, "/foo", "foo", 80),
		p(exact, "/foo", "foo-exact", 80),
		p(prefix, "/foo/bar/", "bar", 80),
		p(impl, "/impl", "impl", 80),
		p(prefix, "/", "root", 80))
	wild := ing("shop", "wild", 1, "*.example.com", p(prefix, "/", "wild", 80), p(prefix, "/foo/bar/baz", "wild-deep", 80))
	any := ing("shop", "any", 2, "", p(prefix, "/", "any", 80))
	snap := run(t, defaultSettings(), objs(ourClass(false), a, wild, any,
		web("shop", "foo", "10.0.0.1"), web("shop", "foo-exact", "10.0.0.2"), web("shop", "bar", "10.0.0.3"),
		web("shop", "impl", "10.0.0.4"), web("shop", "root", "10.0.0.5"), web("shop", "wild", "10.0.0.6"),
		web("shop", "wild-deep", "10.0.0.7"), web("shop", "any", "10.0.0.8"))...)
	if len(snap.Problems) > 0 {
		t.Fatalf("problems:%s", problemList(snap))
	}
	for _, tc := range []struct{ host, path, want string }{
		{"shop.example.com", "/foo", "shop/a/shop.example.com/foo (exact)"}, // Exact beats Prefix at equal length
		{"shop.example.com", "/foo/", "shop/a/shop.example.com/foo"},
		{"shop.example.com", "/foo/x", "shop/a/shop.example.com/foo"},
		{"shop.example.com", "/foobar", "shop/a/shop.example.com/"}, // element-wise: /foo does not match /foobar
		{"shop.example.com", "/foo/bar", "shop/a/shop.example.com/foo/bar/"},
		{"shop.example.com", "/foo/bar/baz", "shop/a/shop.example.com/foo/bar/"}, // exact host beats a longer wildcard path
		{"shop.example.com", "/foo/barn", "shop/a/shop.example.com/foo"},
		{"shop.example.com", "/impl/x", "shop/a/shop.example.com/impl"}, // ImplementationSpecific is Prefix
		{"shop.example.com", "/implx", "shop/a/shop.example.com/"},
		{"a.example.com", "/x", "shop/wild/*.example.com/"},
		{"a.example.com", "/foo/bar/baz/q", "shop/wild/*.example.com/foo/bar/baz"},
		{"a.b.example.com", "/x", "shop/any/*/"}, // a wildcard covers one label only
		{"example.com", "/x", "shop/any/*/"},
		{"other.test", "/", "shop/any/*/"},
	} {
		if got := pick(t, snap, tc.host, tc.path); got != tc.want {
			t.Errorf("%s%s went to %q, want %q", tc.host, tc.path, got, tc.want)
		}
	}
}

func TestDefaultBackend(t *testing.T) {
	catch := ing("shop", "catch", 0, "")
	catch.Spec.DefaultBackend = ptr(backend("web", 80))
	specific := ing("shop", "specific", 1, "", p(prefix, "/api", "web", 80))
	snap := run(t, defaultSettings(), objs(ourClass(false), catch, specific, web("shop", "web", "10.0.0.1"))...)
	if got := pick(t, snap, "x.test", "/anything"); got != "shop/catch/*" {
		t.Errorf("catch-all: got %q%s", got, problemList(snap))
	}
	if got := pick(t, snap, "x.test", "/api/v1"); got != "shop/specific/*/api" {
		t.Errorf("a rule beats the defaultBackend: got %q", got)
	}
}

func TestConflictsOldestWins(t *testing.T) {
	older := ing("a", "older", 0, "shop.example.com", p(prefix, "/", "web", 80))
	newer := ing("b", "newer", 5, "shop.example.com", p(prefix, "/", "web", 80), p(prefix, "/only-new", "web", 80))
	snap := run(t, defaultSettings(), objs(ourClass(false), newer, older, web("a", "web", "10.0.0.1"), web("b", "web", "10.0.0.2"))...)
	if got := pick(t, snap, "shop.example.com", "/"); got != "a/older/shop.example.com/" {
		t.Errorf("/ went to %q, want the older Ingress", got)
	}
	if got := pick(t, snap, "shop.example.com", "/only-new/x"); got != "b/newer/shop.example.com/only-new" {
		t.Errorf("the newer Ingress's other path must still serve, got %q", got)
	}
	if !hasProblem(snap, "kubernetes:b/newer", route.Error, "claimed by Ingress a/older, which is older") {
		t.Errorf("no error on the newer Ingress:%s", problemList(snap))
	}
	if !hasProblem(snap, "kubernetes:a/older", route.Warning, "also claimed by Ingress b/newer") {
		t.Errorf("no warning on the older Ingress:%s", problemList(snap))
	}
}

func TestEndpoints(t *testing.T) {
	s := svc("shop", "web", sport("web", 80, intstr.FromString("http-alt")), sport("admin", 9000, intstr.FromInt(9000)))
	// Named target port: the slice's port named like the Service port
	// carries the resolved number.
	sl1 := slice("shop", "web", "web-1", "web", 8081,
		ep{addr: "10.0.0.1"},                                            // ready unset: ready
		ep{addr: "10.0.0.2", ready: yes},                                // ready
		ep{addr: "10.0.0.3", ready: no},                                 // not ready
		ep{addr: "10.0.0.4", ready: no, serving: yes},                   // serving, not terminating
		ep{addr: "10.0.0.5", ready: no, serving: yes, terminating: yes}, // draining: no new requests
	)
	sl2 := slice("shop", "web", "web-2", "web", 8081, ep{addr: "10.0.0.2", ready: yes}, ep{addr: "10.0.0.6", ready: yes})
	admin := slice("shop", "web", "web-admin", "admin", 9000, ep{addr: "10.0.0.9"})
	byName := ing("shop", "by-name", 0, "a.example.com", p(prefix, "/", "web", "web"))
	byNumber := ing("shop", "by-number", 0, "b.example.com", p(prefix, "/", "web", 80))
	snap := run(t, defaultSettings(), ourClass(false), s, sl1, sl2, admin, byName, byNumber)
	want := []string{"http://10.0.0.1:8081", "http://10.0.0.2:8081", "http://10.0.0.4:8081", "http://10.0.0.6:8081"}
	for _, name := range []string{"shop/by-name/a.example.com/", "shop/by-number/b.example.com/"} {
		got := urls(service(t, snap, name))
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s servers %q, want %q", name, got, want)
		}
	}
}

func TestNoReadyEndpointIs503WithProblem(t *testing.T) {
	s := svc("shop", "web", sport("http", 80, intstr.FromInt(80)))
	sl := slice("shop", "web", "web-1", "http", 80, ep{addr: "10.0.0.1", ready: no})
	snap := run(t, defaultSettings(), ourClass(false), s, sl, ing("shop", "i", 0, "a.example.com", p(prefix, "/", "web", 80)))
	if got := service(t, snap, "shop/i/a.example.com/"); len(got.Servers) != 0 {
		t.Errorf("servers %q, want none (503)", urls(got))
	}
	if !hasProblem(snap, "kubernetes:shop/i", route.Warning, "no ready endpoint") {
		t.Errorf("no problem:%s", problemList(snap))
	}
}

func TestMissingServiceOrPortSkipsOnlyThatPath(t *testing.T) {
	i := ing("shop", "i", 0, "a.example.com",
		p(prefix, "/ok", "web", 80),
		p(prefix, "/gone", "nope", 80),
		p(prefix, "/badport", "web", 81),
		p(prefix, "/badname", "web", "nope"))
	snap := run(t, defaultSettings(), objs(ourClass(false), i, web("shop", "web", "10.0.0.1"))...)
	if len(snap.Services) != 1 || snap.Services[0].Name != "shop/i/a.example.com/ok" {
		t.Fatalf("routes %v", snap.Services)
	}
	for _, want := range []string{"Service shop/nope not found", "Service shop/web has no port 81", "Service shop/web has no port nope"} {
		if !hasProblem(snap, "kubernetes:shop/i", route.Error, want) {
			t.Errorf("missing problem %q:%s", want, problemList(snap))
		}
	}
}

func TestExternalNameNeedsTheSetting(t *testing.T) {
	ext := svc("shop", "ext", sport("http", 80, intstr.FromInt(80)))
	ext.Spec.Type, ext.Spec.ExternalName = corev1.ServiceTypeExternalName, "backend.internal.test"
	i := ing("shop", "i", 0, "a.example.com", p(prefix, "/", "ext", 80))
	snap := run(t, defaultSettings(), ourClass(false), ext, i)
	if len(snap.Services) != 0 || !hasProblem(snap, "kubernetes:shop/i", route.Error, "TRAEFIK_KUBERNETES_ALLOW_EXTERNALNAME") {
		t.Errorf("ExternalName served without the setting:%s", problemList(snap))
	}
	s := defaultSettings()
	s.allowExternalName = true
	snap = run(t, s, ourClass(false), ext, i)
	if got := urls(service(t, snap, "shop/i/a.example.com/")); !slices.Equal(got, []string{"http://backend.internal.test:80"}) {
		t.Errorf("servers %q", got)
	}
}

func TestTLS(t *testing.T) {
	good := tlsSecret(t, "shop", "good", "a.example.com", "*.example.com")
	broken := tlsSecret(t, "shop", "broken", "b.example.com")
	broken.Data[corev1.TLSPrivateKeyKey] = tlsSecret(t, "shop", "other", "b.example.com").Data[corev1.TLSPrivateKeyKey]
	i := ing("shop", "i", 0, "a.example.com", p(prefix, "/", "web", 80))
	i.Spec.Rules = append(i.Spec.Rules,
		networkingv1.IngressRule{Host: "b.example.com", IngressRuleValue: i.Spec.Rules[0].IngressRuleValue},
		networkingv1.IngressRule{Host: "c.example.com", IngressRuleValue: i.Spec.Rules[0].IngressRuleValue},
		networkingv1.IngressRule{Host: "plain.example.com", IngressRuleValue: i.Spec.Rules[0].IngressRuleValue},
		networkingv1.IngressRule{Host: "d.example.com", IngressRuleValue: i.Spec.Rules[0].IngressRuleValue},
		networkingv1.IngressRule{Host: "e.other.test", IngressRuleValue: i.Spec.Rules[0].IngressRuleValue})
	i.Spec.TLS = []networkingv1.IngressTLS{
		{Hosts: []string{"a.example.com", "x.example.com"}, SecretName: "good"},
		{Hosts: []string{"b.example.com"}, SecretName: "broken"},
		{Hosts: []string{"c.example.com"}, SecretName: "missing"},
		{Hosts: []string{"d.example.com", "e.other.test"}}, // ACME
	}
	w := objs(ourClass(false), i, good, broken, web("shop", "web", "10.0.0.1"))

	t.Run("acme off", func(t *testing.T) {
		snap := run(t, defaultSettings(), w...)
		if len(snap.Certificates) != 1 || snap.Certificates[0].Source.String() != "kubernetes:shop/good" ||
			!slices.Equal(snap.Certificates[0].Hosts, []string{"a.example.com", "x.example.com"}) {
			t.Errorf("certificates %v", snap.Certificates)
		}
		for _, want := range []string{
			"TLS Secret shop/broken: ", "TLS Secret shop/missing not found",
			"d.example.com, e.other.test without a secretName and ACME is off",
		} {
			if !slices.ContainsFunc(snap.Problems, func(p route.Problem) bool { return strings.Contains(p.Message, want) }) {
				t.Errorf("missing problem %q:%s", want, problemList(snap))
			}
		}
		for _, s := range snap.Services {
			host := strings.Split(s.Name, "/")[2]
			wantPlain := host == "plain.example.com"
			if s.TLS == nil || s.TLS.PlainHTTP != wantPlain || len(s.TLS.ACMEHosts) != 0 {
				t.Errorf("%s: TLS %+v, want PlainHTTP %t and no ACME", s.Name, s.TLS, wantPlain)
			}
		}
	})
	t.Run("acme on, allowed suffixes", func(t *testing.T) {
		s := defaultSettings()
		s.acme, s.acmeAllowed = true, []string{"example.com"}
		snap := run(t, s, w...)
		for _, sv := range snap.Services {
			if !slices.Equal(sv.TLS.ACMEHosts, []string{"d.example.com"}) {
				t.Errorf("%s: ACME hosts %q, want only d.example.com (a Secret-backed host is never ordered, e.other.test is outside the allowed suffixes)", sv.Name, sv.TLS.ACMEHosts)
			}
		}
		if !hasProblem(snap, "kubernetes:shop/i", route.Warning, "no ACME certificate for e.other.test") {
			t.Errorf("missing problem:%s", problemList(snap))
		}
	})
}

func TestAnnotations(t *testing.T) {
	i := ing("shop", "i", 0, "a.example.com", p(prefix, "/api", "web", 80))
	i.Annotations = map[string]string{
		"traefik.ingress.kubernetes.io/priority":             "7",
		"ingress.kubernetes.io/whitelist-source-range":       "10.0.0.0/8",
		"ingress.kubernetes.io/custom-response-headers":      "X-A:1||X-B:2",
		"traefik.ingress.kubernetes.io/affinity":             "true",
		"traefik.ingress.kubernetes.io/rewrite-target":       "/v2",
		"traefik.ingress.kubernetes.io/service-weights":      "web: 10%",
		"traefik.ingress.kubernetes.io/load-balancer-method": "drr",
	}
	snap := run(t, defaultSettings(), objs(ourClass(false), i, web("shop", "web", "10.0.0.1"))...)
	s := service(t, snap, "shop/i/a.example.com/api")
	if s.Priority != 7 || s.WhiteList == nil || s.WhiteList.SourceRange[0] != "10.0.0.0/8" ||
		s.Headers == nil || s.Headers.CustomResponseHeaders["X-B"] != "2" || !s.LoadBalancer.Sticky || s.LoadBalancer.Method != "drr" {
		t.Errorf("annotations not applied: %+v", s)
	}
	if !strings.Contains(s.Rule, "ReplacePathRegex:^/api(.*) /v2$1") {
		t.Errorf("rule %q has no rewrite", s.Rule)
	}
	for _, want := range []string{"traefik.ingress.kubernetes.io/service-weights is not supported"} {
		if !hasProblem(snap, "kubernetes:shop/i", route.Warning, want) {
			t.Errorf("missing warning %q:%s", want, problemList(snap))
		}
	}
	// A bad value names the annotation, not the label it became.
	i.Annotations = map[string]string{"traefik.ingress.kubernetes.io/priority": "high"}
	snap = run(t, defaultSettings(), objs(ourClass(false), i, web("shop", "web", "10.0.0.1"))...)
	if len(snap.Services) != 1 || snap.Services[0].Priority != priority("a.example.com", kindPrefix, "/api") ||
		!hasProblem(snap, "kubernetes:shop/i", route.Warning, "annotation traefik.ingress.kubernetes.io/priority \"high\" is not a number") {
		t.Errorf("bad priority: %v%s", snap.Services, problemList(snap))
	}
	// Authentication the edge cannot honour is never served open.
	for _, ann := range []map[string]string{
		{"ingress.kubernetes.io/auth-type": "basic", "ingress.kubernetes.io/auth-secret": "missing"},
		{"ingress.kubernetes.io/auth-type": "digest", "ingress.kubernetes.io/auth-secret": "users"},
		{"ingress.kubernetes.io/auth-url": "http://auth.test/check"},
		{"traefik.ingress.kubernetes.io/auth-url": "http://auth.test/check"},
	} {
		i.Annotations = ann
		snap = run(t, defaultSettings(), objs(ourClass(false), i, web("shop", "web", "10.0.0.1"))...)
		if len(snap.Services) != 0 || !hasProblem(snap, "kubernetes:shop/i", route.Error, "not served without the protection") {
			t.Errorf("%v: served without authentication:%s", ann, problemList(snap))
		}
	}
}

func TestBasicAuthFromSecret(t *testing.T) {
	i := ing("shop", "i", 0, "a.example.com", p(prefix, "/", "web", 80))
	i.Annotations = map[string]string{"traefik.ingress.kubernetes.io/auth-type": "basic", "ingress.kubernetes.io/auth-secret": "users"}
	w := newWorld(objs(ourClass(false), i, web("shop", "web", "10.0.0.1"))...)
	if got := authSecretNames(w.Ingresses); !slices.Equal(got, []string{"shop/users"}) {
		t.Fatalf("auth secrets to read: %q", got)
	}
	w.AuthSecrets = map[string]*corev1.Secret{"shop/users": {Data: map[string][]byte{"auth": []byte("alice:{SHA}abc=\n\nbob:$apr1$x$y\n")}}}
	snap, _ := build(w, defaultSettings(), &buildCache{})
	s := service(t, snap, "shop/i/a.example.com/")
	if s.Auth == nil || !slices.Equal(s.Auth.Users, []string{"alice:{SHA}abc=", "bob:$apr1$x$y"}) {
		t.Errorf("auth %+v%s", s.Auth, problemList(snap))
	}
	if strings.Contains(problemList(snap), "{SHA}") {
		t.Errorf("a problem quotes the users")
	}
	w.AuthSecrets["shop/users"].Data["auth"] = []byte("\n")
	snap, _ = build(w, defaultSettings(), &buildCache{})
	if len(snap.Services) != 0 || !hasProblem(snap, "kubernetes:shop/i", route.Error, "has no users") {
		t.Errorf("an empty auth-secret served the path open:%s", problemList(snap))
	}
}

// TestStamper: a rebuild that says the same keeps the last fingerprint
// and is not published; one that says something new gets a new one.
func TestStamper(t *testing.T) {
	base := objs(ourClass(false), ing("shop", "i", 0, "a.example.com", p(prefix, "/", "web", 80)), web("shop", "web", "10.0.0.1"))
	var st stamper
	a := run(t, defaultSettings(), base...)
	if !st.stamp(&a) || a.Fingerprint == 0 {
		t.Fatalf("the first snapshot: fingerprint %d, want published with a non-zero one", a.Fingerprint)
	}
	b := run(t, defaultSettings(), base...)
	if st.stamp(&b) || b.Fingerprint != a.Fingerprint {
		t.Errorf("the same world built again: published, or fingerprint %d against %d", b.Fingerprint, a.Fingerprint)
	}
	// An unrelated Service changes nothing.
	c := run(t, defaultSettings(), objs(base, web("shop", "unrelated", "10.0.0.9"))...)
	if st.stamp(&c) || c.Fingerprint != a.Fingerprint {
		t.Errorf("an unrelated Service changed the fingerprint")
	}
	d := run(t, defaultSettings(), objs(ourClass(false), ing("shop", "i", 0, "a.example.com", p(prefix, "/", "web", 80)), web("shop", "web", "10.0.0.2"))...)
	if !st.stamp(&d) || d.Fingerprint == a.Fingerprint || d.Fingerprint == 0 {
		t.Errorf("a new endpoint did not change the fingerprint")
	}
	// Back to the first world: a change again, with a number of its own.
	e := run(t, defaultSettings(), base...)
	if !st.stamp(&e) || e.Fingerprint == d.Fingerprint || e.Fingerprint == a.Fingerprint {
		t.Errorf("the endpoint going back: fingerprint %d (a %d, d %d)", e.Fingerprint, a.Fingerprint, d.Fingerprint)
	}
}
