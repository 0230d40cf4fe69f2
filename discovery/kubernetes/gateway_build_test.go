package kubernetes

import (
	"k8s.io/apimachinery/pkg/util/intstr"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/route"
)

// TestGatewayRouted: a Gateway with an HTTP and an HTTPS listener on a
// wildcard hostname and one HTTPRoute: the route's host and element-wise
// prefix are served on both, the certificate is served for the listener's
// hostname, and every status the spec asks for is set.
func TestGatewayRouted(t *testing.T) {
	g := gateway("infra", "edge",
		allowAll(httpListener("http", "*.example.com", 80)),
		allowAll(httpsListener("https", "*.example.com", "", "wild")))
	r := httpRoute("shop", "web", 0, []gw.ParentReference{parent("infra", "edge", "")}, []string{"shop.example.com"},
		gw.HTTPRouteRule{Matches: []gw.HTTPRouteMatch{prefixMatch("/api")}, BackendRefs: []gw.HTTPBackendRef{backendRef("", "web", 80, -1)}})
	snap, st := runGateway(t, objs(gwClass(), g, r, tlsSecret(t, "infra", "wild", "*.example.com"), web("shop", "web", "10.0.0.1"))...)

	for _, tc := range []struct{ target, want string }{
		{"http://shop.example.com/api", "shop/web/rule-0/0/0"},
		{"http://shop.example.com/api/v1", "shop/web/rule-0/0/0"},
		// What no rule matches on the HTTP listener's hostname is the
		// listener's 404 (not the edge's redirect to HTTPS).
		{"http://shop.example.com/apix", "infra/edge/http/404"},
		{"http://other.example.com/api", "infra/edge/http/404"},
		{"http://example.org/api", ""},
	} {
		if got, _ := serve(t, snap, get(tc.target)); got != tc.want {
			t.Errorf("%s: routed to %q, want %q", tc.target, got, tc.want)
		}
	}
	if nf := service(t, snap, "infra/edge/http/404"); nf.Answer != 404 || nf.TLS == nil || !nf.TLS.PlainHTTP || len(nf.Servers) != 0 {
		t.Errorf("the listener's 404 route %+v", nf)
	}
	s := service(t, snap, "shop/web/rule-0/0/0")
	if got := urls(s); !slices.Equal(got, []string{"http://10.0.0.1:8080"}) {
		t.Errorf("servers %v", got)
	}
	if s.TLS == nil || !s.TLS.PlainHTTP {
		t.Errorf("attached to an HTTP listener: plain HTTP must be served, TLS=%+v", s.TLS)
	}
	if len(snap.Certificates) != 1 || !slices.Equal(snap.Certificates[0].Hosts, []string{"*.example.com"}) {
		t.Errorf("certificates %+v", snap.Certificates)
	}
	if got := condOf(st.Classes["edge"], "Accepted"); got != "True/Accepted" {
		t.Errorf("GatewayClass Accepted %s", got)
	}
	gs := st.Gateways["infra/edge"]
	for typ, want := range map[string]string{"Accepted": "True/Accepted", "Programmed": "True/Programmed"} {
		if got := condOf(gs.Conditions, typ); got != want {
			t.Errorf("Gateway %s = %s, want %s", typ, got, want)
		}
	}
	for _, l := range gs.Listeners {
		if l.AttachedRoutes != 1 {
			t.Errorf("listener %s attachedRoutes %d, want 1", l.Name, l.AttachedRoutes)
		}
		for typ, want := range map[string]string{"Accepted": "True/Accepted", "Programmed": "True/Programmed", "ResolvedRefs": "True/ResolvedRefs", "Conflicted": "False/NoConflicts"} {
			if got := condOf(l.Conditions, typ); got != want {
				t.Errorf("listener %s %s = %s, want %s", l.Name, typ, got, want)
			}
		}
	}
	if got := routeConds(st, "shop/web", "Accepted"); got != "True/Accepted" {
		t.Errorf("route Accepted %s", got)
	}
	if got := routeConds(st, "shop/web", "ResolvedRefs"); got != "True/ResolvedRefs" {
		t.Errorf("route ResolvedRefs %s", got)
	}
	if p := st.Routes["shop/web"][0]; p.ControllerName != GatewayController {
		t.Errorf("controllerName %q", p.ControllerName)
	}
}

// TestGatewayOthersUntouched: classes, Gateways and routes of other
// controllers get no status and no routes.
func TestGatewayOthersUntouched(t *testing.T) {
	other := &gw.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "other"}, Spec: gw.GatewayClassSpec{ControllerName: "example.com/other"}}
	g := gateway("default", "theirs", httpListener("http", "", 80))
	g.Spec.GatewayClassName = "other"
	r := httpRoute("default", "r", 0, []gw.ParentReference{parent("", "theirs", "")}, nil, gw.HTTPRouteRule{BackendRefs: []gw.HTTPBackendRef{backendRef("", "web", 80, -1)}})
	snap, st := runGateway(t, objs(other, g, r, web("default", "web", "10.0.0.1"))...)
	if len(snap.Services) != 0 || len(st.Classes) != 0 || len(st.Gateways) != 0 || len(st.Routes) != 0 {
		t.Errorf("touched another controller's objects: %d routes, status %+v", len(snap.Services), st)
	}
}

func TestGatewayListenerStatus(t *testing.T) {
	tcp := httpListener("tcp", "", 80)
	tcp.Protocol = gw.TCPProtocolType
	grpcKinds := httpListener("kinds", "", 80)
	grpcKinds.AllowedRoutes = &gw.AllowedRoutes{Kinds: []gw.RouteGroupKind{{Kind: "GRPCRoute"}}}
	for _, tc := range []struct {
		name     string
		l        []gw.Listener
		extra    []any
		listener string
		want     map[string]string
		gateway  map[string]string
	}{
		{name: "other port", l: []gw.Listener{httpListener("alt", "", 8080)}, listener: "alt",
			want:    map[string]string{"Accepted": "False/PortUnavailable", "Programmed": "False/Invalid"},
			gateway: map[string]string{"Accepted": "False/ListenersNotValid", "Programmed": "False/Invalid"}},
		{name: "unsupported protocol", l: []gw.Listener{tcp, httpListener("http", "", 80)}, listener: "tcp",
			want:    map[string]string{"Accepted": "False/UnsupportedProtocol"},
			gateway: map[string]string{"Accepted": "True/ListenersNotValid", "Programmed": "True/Programmed"}},
		{name: "missing secret", l: []gw.Listener{httpsListener("https", "a.example.com", "", "nope")}, listener: "https",
			want: map[string]string{"Accepted": "True/Accepted", "ResolvedRefs": "False/InvalidCertificateRef", "Programmed": "False/Invalid"}},
		{name: "cross-namespace secret refused", l: []gw.Listener{httpsListener("https", "a.example.com", "certs", "a")}, listener: "https",
			extra: []any{tlsSecret(t, "certs", "a", "a.example.com")},
			want:  map[string]string{"ResolvedRefs": "False/RefNotPermitted", "Programmed": "False/Invalid"}},
		{name: "cross-namespace secret granted", l: []gw.Listener{httpsListener("https", "a.example.com", "certs", "a")}, listener: "https",
			extra: []any{tlsSecret(t, "certs", "a", "a.example.com"), grant("certs", "infra", "Gateway", "Secret")},
			want:  map[string]string{"ResolvedRefs": "True/ResolvedRefs", "Programmed": "True/Programmed"}},
		{name: "hostname conflict", l: []gw.Listener{httpListener("a", "x.example.com", 80), httpListener("b", "x.example.com", 80)}, listener: "b",
			want: map[string]string{"Conflicted": "True/HostnameConflict", "Programmed": "False/Invalid"}},
		{name: "a listener on another port conflicts with nothing", l: []gw.Listener{httpListener("a", "", 80), httpListener("b", "", 8081)}, listener: "a",
			want:    map[string]string{"Conflicted": "False/NoConflicts", "Programmed": "True/Programmed"},
			gateway: map[string]string{"Accepted": "True/ListenersNotValid", "Programmed": "True/Programmed"}},
		{name: "protocol conflict", l: []gw.Listener{httpListener("a", "", 443), httpsListener("b", "", "", "s")}, listener: "a",
			want: map[string]string{"Conflicted": "True/ProtocolConflict"}},
		{name: "unsupported route kind", l: []gw.Listener{grpcKinds}, listener: "kinds",
			want: map[string]string{"ResolvedRefs": "False/InvalidRouteKinds", "Programmed": "False/Invalid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, st := runGateway(t, objs(gwClass(), gateway("infra", "edge", tc.l...), tc.extra)...)
			for typ, want := range tc.want {
				if got := listenerConds(st, "infra/edge", tc.listener, typ); got != want {
					t.Errorf("listener %s %s = %s, want %s", tc.listener, typ, got, want)
				}
			}
			for typ, want := range tc.gateway {
				if got := condOf(st.Gateways["infra/edge"].Conditions, typ); got != want {
					t.Errorf("Gateway %s = %s, want %s", typ, got, want)
				}
			}
		})
	}
}

func TestHTTPRouteStatus(t *testing.T) {
	to := func(ns, name string) gw.HTTPRouteRule {
		return gw.HTTPRouteRule{BackendRefs: []gw.HTTPBackendRef{backendRef(ns, name, 80, -1)}}
	}
	selector := httpListener("sel", "", 80)
	selector.AllowedRoutes = &gw.AllowedRoutes{Namespaces: &gw.RouteNamespaces{From: ptr(gw.NamespacesFromSelector),
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"edge": "yes"}}}}
	kindRef := backendRef("", "web", 80, -1)
	kindRef.Kind = ptr(gw.Kind("Pod"))
	mirror := to("", "web")
	mirror.Filters = []gw.HTTPRouteFilter{{Type: gw.HTTPRouteFilterRequestMirror, RequestMirror: &gw.HTTPRequestMirrorFilter{}}}
	both := to("", "web")
	both.Filters = []gw.HTTPRouteFilter{
		{Type: gw.HTTPRouteFilterRequestRedirect, RequestRedirect: &gw.HTTPRequestRedirectFilter{Hostname: ptr(gw.PreciseHostname("example.org"))}},
		{Type: gw.HTTPRouteFilterURLRewrite, URLRewrite: &gw.HTTPURLRewriteFilter{Path: &gw.HTTPPathModifier{Type: gw.FullPathHTTPPathModifier, ReplaceFullPath: ptr("/x")}}},
	}
	for _, tc := range []struct {
		name     string
		gateway  *gw.Gateway
		route    *gw.HTTPRoute
		extra    []any
		accepted string
		resolved string
		partial  string
		routes   int
	}{
		{name: "accepted", gateway: gateway("shop", "edge", httpListener("http", "", 80)),
			route: httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "")}, nil, to("", "web")), accepted: "True/Accepted", resolved: "True/ResolvedRefs", routes: 1},
		{name: "no such section", gateway: gateway("shop", "edge", httpListener("http", "", 80)),
			route: httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "nope")}, nil, to("", "web")), accepted: "False/NoMatchingParent", resolved: "True/ResolvedRefs"},
		{name: "other namespace, listener allows Same", gateway: gateway("infra", "edge", httpListener("http", "", 80)),
			route: httpRoute("shop", "r", 0, []gw.ParentReference{parent("infra", "edge", "")}, nil, to("", "web")), accepted: "False/NotAllowedByListeners", resolved: "True/ResolvedRefs"},
		{name: "selector admits", gateway: gateway("infra", "edge", selector), extra: []any{namespace("shop", map[string]string{"edge": "yes"})},
			route: httpRoute("shop", "r", 0, []gw.ParentReference{parent("infra", "edge", "")}, nil, to("", "web")), accepted: "True/Accepted", resolved: "True/ResolvedRefs", routes: 1},
		{name: "selector refuses", gateway: gateway("infra", "edge", selector), extra: []any{namespace("shop", map[string]string{"edge": "no"})},
			route: httpRoute("shop", "r", 0, []gw.ParentReference{parent("infra", "edge", "")}, nil, to("", "web")), accepted: "False/NotAllowedByListeners", resolved: "True/ResolvedRefs"},
		{name: "no matching hostname", gateway: gateway("shop", "edge", httpListener("http", "*.example.com", 80)),
			route: httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "")}, []string{"example.org"}, to("", "web")), accepted: "False/NoMatchingListenerHostname", resolved: "True/ResolvedRefs"},
		{name: "backend not found", gateway: gateway("shop", "edge", httpListener("http", "", 80)),
			route: httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "")}, nil, to("", "nope")), accepted: "True/Accepted", resolved: "False/BackendNotFound", routes: 1},
		{name: "cross-namespace backend refused", gateway: gateway("shop", "edge", httpListener("http", "", 80)), extra: []any{web("data", "api", "10.0.0.9")},
			route: httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "")}, nil, to("data", "api")), accepted: "True/Accepted", resolved: "False/RefNotPermitted", routes: 1},
		{name: "cross-namespace backend granted", gateway: gateway("shop", "edge", httpListener("http", "", 80)), extra: []any{web("data", "api", "10.0.0.9"), grant("data", "shop", "HTTPRoute", "Service")},
			route: httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "")}, nil, to("data", "api")), accepted: "True/Accepted", resolved: "True/ResolvedRefs", routes: 1},
		{name: "invalid kind", gateway: gateway("shop", "edge", httpListener("http", "", 80)),
			route: httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "")}, nil, gw.HTTPRouteRule{BackendRefs: []gw.HTTPBackendRef{kindRef}}), accepted: "True/Accepted", resolved: "False/InvalidKind", routes: 1},
		{name: "unsupported filter", gateway: gateway("shop", "edge", httpListener("http", "", 80)),
			route: httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "")}, nil, mirror), accepted: "False/UnsupportedValue", resolved: "True/ResolvedRefs"},
		{name: "incompatible filters", gateway: gateway("shop", "edge", httpListener("http", "", 80)),
			route: httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "")}, nil, both), accepted: "False/IncompatibleFilters", resolved: "True/ResolvedRefs"},
		{name: "partially invalid", gateway: gateway("shop", "edge", httpListener("http", "", 80)),
			route: httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "")}, nil, mirror, to("", "web")), accepted: "True/Accepted", partial: "True/UnsupportedValue", resolved: "True/ResolvedRefs", routes: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, st := runGateway(t, objs(gwClass(), tc.gateway, tc.route, web("shop", "web", "10.0.0.1"), tc.extra)...)
			key := tc.route.Namespace + "/" + tc.route.Name
			if got := routeConds(st, key, "Accepted"); got != tc.accepted {
				t.Errorf("Accepted = %s, want %s", got, tc.accepted)
			}
			if got := routeConds(st, key, "ResolvedRefs"); got != tc.resolved {
				t.Errorf("ResolvedRefs = %s, want %s", got, tc.resolved)
			}
			if got := routeConds(st, key, "PartiallyInvalid"); got != tc.partial {
				t.Errorf("PartiallyInvalid = %s, want %q", got, tc.partial)
			}
			var routes []route.Service
			for _, s := range snap.Services {
				if strings.HasPrefix(s.Source.Service, "httproute/") {
					routes = append(routes, s)
				}
			}
			if len(routes) != tc.routes {
				t.Errorf("%d routes, want %d%s", len(routes), tc.routes, problemList(snap))
			}
			// A rule whose backendRefs all fail answers 500 itself.
			if len(routes) == 1 && strings.HasPrefix(tc.resolved, "False/") != (routes[0].Answer == 500) {
				t.Errorf("ResolvedRefs %s, route answers %d", tc.resolved, routes[0].Answer)
			}
			// Attachment is decided by parentRefs and allowedRoutes alone
			// (and, here, hostnames): an unsupported value still attaches.
			attached := int32(1)
			if strings.Contains("NoMatchingParent NotAllowedByListeners NoMatchingListenerHostname", strings.TrimPrefix(tc.accepted, "False/")) {
				attached = 0
			}
			gk := tc.gateway.Namespace + "/" + tc.gateway.Name
			if l := st.Gateways[gk].Listeners[0]; l.AttachedRoutes != attached {
				t.Errorf("attachedRoutes %d, want %d", l.AttachedRoutes, attached)
			}
		})
	}
}

// TestHTTPRouteMatching: path kinds, methods, headers and query params,
// with the spec's precedence across rules and routes.
func TestHTTPRouteMatching(t *testing.T) {
	m := func(typ gw.PathMatchType, v string) gw.HTTPRouteMatch {
		return gw.HTTPRouteMatch{Path: &gw.HTTPPathMatch{Type: ptr(typ), Value: ptr(v)}}
	}
	withHeader := m(gw.PathMatchPathPrefix, "/")
	withHeader.Headers = []gw.HTTPHeaderMatch{{Name: "X-Version", Value: "2"}}
	withQuery := m(gw.PathMatchPathPrefix, "/")
	withQuery.QueryParams = []gw.HTTPQueryParamMatch{{Name: "beta", Value: "on"}}
	post := m(gw.PathMatchPathPrefix, "/")
	post.Method = ptr(gw.HTTPMethodPost)
	rule := func(match gw.HTTPRouteMatch, svc string) gw.HTTPRouteRule {
		return gw.HTTPRouteRule{Name: ptr(gw.SectionName(svc)), Matches: []gw.HTTPRouteMatch{match}, BackendRefs: []gw.HTTPBackendRef{backendRef("", svc, 80, -1)}}
	}
	r := httpRoute("shop", "r", 1, []gw.ParentReference{parent("", "edge", "")}, []string{"a.example.com"},
		rule(m(gw.PathMatchPathPrefix, "/"), "root"),
		rule(m(gw.PathMatchPathPrefix, "/api/"), "api"),
		rule(m(gw.PathMatchExact, "/api"), "exact"),
		rule(m(gw.PathMatchRegularExpression, "/img/[0-9]+\\.png"), "regex"),
		rule(withHeader, "v2"),
		rule(withQuery, "beta"),
		rule(post, "post"))
	older := httpRoute("shop", "older", 0, []gw.ParentReference{parent("", "edge", "")}, []string{"a.example.com"}, rule(m(gw.PathMatchPathPrefix, "/api"), "old"))
	world := objs(gwClass(), gateway("shop", "edge", httpListener("http", "", 80)), r, older)
	for _, s := range []string{"root", "api", "exact", "regex", "v2", "beta", "post", "old"} {
		world = append(world, web("shop", s, "10.0.0.1")...)
	}
	snap, _ := runGateway(t, world...)
	for _, tc := range []struct {
		req  func() *requestT
		want string
	}{
		{func() *requestT { return get("http://a.example.com/") }, "shop/r/root/0/0"},
		{func() *requestT { return get("http://a.example.com/api") }, "shop/r/exact/0/0"},
		{func() *requestT { return get("http://a.example.com/api/x") }, "shop/older/old/0/0"}, // same prefix: the older route wins
		{func() *requestT { return get("http://a.example.com/img/12.png") }, "shop/r/regex/0/0"},
		{func() *requestT { return get("http://a.example.com/img/x.png") }, "shop/r/root/0/0"},
		{func() *requestT { return get("http://a.example.com/", "X-Version", "2") }, "shop/r/v2/0/0"},
		{func() *requestT { return get("http://a.example.com/?beta=on") }, "shop/r/beta/0/0"},
		{func() *requestT { r := get("http://a.example.com/"); r.Method = "POST"; return r }, "shop/r/post/0/0"},
		{func() *requestT { return get("http://b.example.com/") }, "shop/edge/http/404"}, // the listener's 404
	} {
		req := tc.req()
		if got, _ := serve(t, snap, req); got != tc.want {
			t.Errorf("%s %s %v: routed to %q, want %q", req.Method, req.URL, req.Header, got, tc.want)
		}
	}
}

// TestHTTPRouteFilters: header modifiers become the route's headers,
// URLRewrite rewrites the path the backend sees, RequestRedirect answers
// with the spec's target.
func TestHTTPRouteFilters(t *testing.T) {
	hdr := gw.HTTPRouteRule{Name: ptr(gw.SectionName("hdr")), Matches: []gw.HTTPRouteMatch{prefixMatch("/hdr")}, BackendRefs: []gw.HTTPBackendRef{backendRef("", "web", 80, -1)},
		Filters: []gw.HTTPRouteFilter{
			{Type: gw.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gw.HTTPHeaderFilter{Set: []gw.HTTPHeader{{Name: "X-Env", Value: "prod"}}, Remove: []string{"X-Debug"}}},
			{Type: gw.HTTPRouteFilterResponseHeaderModifier, ResponseHeaderModifier: &gw.HTTPHeaderFilter{Set: []gw.HTTPHeader{{Name: "X-Served-By", Value: "edge"}}}},
		}}
	rewrite := func(name, prefix, to string) gw.HTTPRouteRule {
		return gw.HTTPRouteRule{Name: ptr(gw.SectionName(name)), Matches: []gw.HTTPRouteMatch{prefixMatch(prefix)}, BackendRefs: []gw.HTTPBackendRef{backendRef("", "web", 80, -1)},
			Filters: []gw.HTTPRouteFilter{{Type: gw.HTTPRouteFilterURLRewrite, URLRewrite: &gw.HTTPURLRewriteFilter{Path: &gw.HTTPPathModifier{Type: gw.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: ptr(to)}}}}}
	}
	full := gw.HTTPRouteRule{Name: ptr(gw.SectionName("full")), Matches: []gw.HTTPRouteMatch{prefixMatch("/full")}, BackendRefs: []gw.HTTPBackendRef{backendRef("", "web", 80, -1)},
		Filters: []gw.HTTPRouteFilter{{Type: gw.HTTPRouteFilterURLRewrite, URLRewrite: &gw.HTTPURLRewriteFilter{Path: &gw.HTTPPathModifier{Type: gw.FullPathHTTPPathModifier, ReplaceFullPath: ptr("/one")}}}}}
	redirect := func(name, prefix string, f gw.HTTPRequestRedirectFilter) gw.HTTPRouteRule {
		return gw.HTTPRouteRule{Name: ptr(gw.SectionName(name)), Matches: []gw.HTTPRouteMatch{prefixMatch(prefix)},
			Filters: []gw.HTTPRouteFilter{{Type: gw.HTTPRouteFilterRequestRedirect, RequestRedirect: &f}}}
	}
	r := httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "")}, []string{"a.example.com"},
		hdr, rewrite("prefix", "/old", "/new"), rewrite("root", "/strip", "/"), full,
		redirect("https", "/secure", gw.HTTPRequestRedirectFilter{Scheme: ptr("https"), StatusCode: ptr(301)}),
		redirect("moved", "/moved", gw.HTTPRequestRedirectFilter{Hostname: ptr(gw.PreciseHostname("b.example.com")), Path: &gw.HTTPPathModifier{Type: gw.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: ptr("/here")}}),
	)
	snap, st := runGateway(t, objs(gwClass(), gateway("shop", "edge", httpListener("http", "", 80)), r, web("shop", "web", "10.0.0.1"))...)
	if got := routeConds(st, "shop/r", "Accepted"); got != "True/Accepted" {
		t.Fatalf("Accepted %s%s", got, problemList(snap))
	}
	h := service(t, snap, "shop/r/hdr/0/0").Headers
	if h == nil || h.CustomRequestHeaders["X-Env"] != "prod" || h.CustomRequestHeaders["X-Debug"] != "" || h.CustomResponseHeaders["X-Served-By"] != "edge" {
		t.Errorf("headers %+v", h)
	} else if _, ok := h.CustomRequestHeaders["X-Debug"]; !ok {
		t.Errorf("X-Debug is not removed: %+v", h.CustomRequestHeaders)
	}
	for _, tc := range []struct{ in, route, path string }{
		{"/old/a?x=1", "shop/r/prefix/0/0", "/new/a"},
		{"/old", "shop/r/prefix/0/0", "/new"},
		{"/strip/a", "shop/r/root/0/0", "/a"},
		{"/strip", "shop/r/root/0/0", "/"},
		{"/full/x", "shop/r/full/0/0", "/one"},
	} {
		got, out := serve(t, snap, get("http://a.example.com"+tc.in))
		if got != tc.route || out.URL.Path != tc.path {
			t.Errorf("%s: %s saw %q, want %s saw %q", tc.in, got, out.URL.Path, tc.route, tc.path)
		}
	}
	for _, tc := range []struct {
		name, in, want string
		permanent      bool
	}{
		{"shop/r/https/0/0", "http://a.example.com/secure/x?q=1", "https://a.example.com/secure/x?q=1", true},
		// No scheme, no port: the listener's port (80), not the client's.
		{"shop/r/moved/0/0", "http://a.example.com:8080/moved/x?q=1", "http://b.example.com/here/x?q=1", false},
		{"shop/r/moved/0/0", "http://a.example.com/moved", "http://b.example.com/here", false},
	} {
		rd := service(t, snap, tc.name).Redirect
		if rd == nil {
			t.Fatalf("%s: no redirect", tc.name)
		}
		if got := regexp.MustCompile(rd.Regex).ReplaceAllString(tc.in, rd.Replacement); got != tc.want || rd.Permanent != tc.permanent {
			t.Errorf("%s: %s → %s (permanent %v), want %s (%v)", tc.name, tc.in, got, rd.Permanent, tc.want, tc.permanent)
		}
	}
}

// TestHTTPRoutePartlyInvalidBackends: a backendRef that does not resolve
// keeps its weight as the route's share of 500s, in the servers' units;
// the others serve theirs.
func TestHTTPRoutePartlyInvalidBackends(t *testing.T) {
	two := objs(svc("shop", "b", sport("http", 80, intstr.FromInt(8080))),
		slice("shop", "b", "b-1", "http", 8080, ep{addr: "10.0.1.1"}, ep{addr: "10.0.1.2"}))
	for _, tc := range []struct {
		name     string
		refs     []gw.HTTPBackendRef
		answer   int
		share    float64 // of the requests answered 500
		resolved string
	}{
		{"all resolve", []gw.HTTPBackendRef{backendRef("", "a", 80, 3), backendRef("", "b", 80, 1)}, 0, 0, "True/ResolvedRefs"},
		{"one of two missing", []gw.HTTPBackendRef{backendRef("", "a", 80, 3), backendRef("", "nope", 80, 1)}, 500, 0.25, "False/BackendNotFound"},
		{"missing beside two endpoints", []gw.HTTPBackendRef{backendRef("", "b", 80, 1), backendRef("", "nope", 80, 1)}, 500, 0.5, "False/BackendNotFound"},
		{"missing with weight 0", []gw.HTTPBackendRef{backendRef("", "a", 80, 1), backendRef("", "nope", 80, 0)}, 0, 0, "False/BackendNotFound"},
		{"port missing", []gw.HTTPBackendRef{backendRef("", "a", 80, 1), backendRef("", "b", 81, 2)}, 500, 2.0 / 3, "False/BackendNotFound"},
		{"none resolves", []gw.HTTPBackendRef{backendRef("", "nope", 80, 1)}, 500, 1, "False/BackendNotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "")}, nil, gw.HTTPRouteRule{BackendRefs: tc.refs})
			snap, st := runGateway(t, objs(gwClass(), gateway("shop", "edge", httpListener("http", "", 80)), r, web("shop", "a", "10.0.0.1"), two)...)
			if got := routeConds(st, "shop/r", "ResolvedRefs"); got != tc.resolved {
				t.Errorf("ResolvedRefs %s, want %s", got, tc.resolved)
			}
			s := service(t, snap, "shop/r/rule-0/0/0")
			if s.Answer != tc.answer {
				t.Fatalf("answers %d, want %d", s.Answer, tc.answer)
			}
			w := 0
			for _, sv := range s.Servers {
				w += sv.Weight
			}
			share := 0.0
			switch {
			case s.Answer != 0 && s.AnswerWeight == 0:
				share = 1
			case s.Answer != 0:
				share = float64(s.AnswerWeight) / float64(s.AnswerWeight+w)
			}
			if math.Abs(share-tc.share) > 1e-9 {
				t.Errorf("share of 500s %.3f (answer weight %d beside %d), want %.3f", share, s.AnswerWeight, w, tc.share)
			}
		})
	}
}

// TestHTTPRouteRedirectPort: the Location's port follows the spec's
// rules (HTTPRouteRedirectPortAndScheme): an explicit port; else the
// scheme's well-known port when a scheme is set; else the listener's port;
// and no port when it is the scheme's well-known one.
func TestHTTPRouteRedirectPort(t *testing.T) {
	type filter = gw.HTTPRequestRedirectFilter
	port := func(p int) *gw.PortNumber { v := gw.PortNumber(p); return &v }
	for _, tc := range []struct {
		name      string
		listeners []gw.Listener
		f         filter
		in, want  string
	}{
		{"listener 80", []gw.Listener{httpListener("http", "", 80)}, filter{}, "http://a.example.com/x", "http://a.example.com/x"},
		{"listener 8080", []gw.Listener{httpListener("http", "", 8080)}, filter{}, "http://a.example.com/x", "http://a.example.com:8080/x"},
		{"listener 8080, Host has its port", []gw.Listener{httpListener("http", "", 8080)}, filter{}, "http://a.example.com:8080/x", "http://a.example.com:8080/x"},
		{"scheme https", []gw.Listener{httpListener("http", "", 8080)}, filter{Scheme: ptr("https")}, "http://a.example.com:8080/x", "https://a.example.com/x"},
		{"scheme http from 8080", []gw.Listener{httpListener("http", "", 8080)}, filter{Scheme: ptr("http")}, "http://a.example.com:8080/x", "http://a.example.com/x"},
		{"port 8443, scheme https", []gw.Listener{httpListener("http", "", 80)}, filter{Scheme: ptr("https"), Port: port(8443)}, "http://a.example.com/x", "https://a.example.com:8443/x"},
		{"port 443, scheme https", []gw.Listener{httpListener("http", "", 80)}, filter{Scheme: ptr("https"), Port: port(443)}, "http://a.example.com/x", "https://a.example.com/x"},
		{"port 8081, no scheme", []gw.Listener{httpListener("http", "", 80)}, filter{Port: port(8081)}, "http://a.example.com/x", "http://a.example.com:8081/x"},
		{"port 80, no scheme", []gw.Listener{httpListener("http", "", 8080)}, filter{Port: port(80)}, "http://a.example.com:8080/x", "http://a.example.com/x"},
		{"port 443 on an HTTPS listener", []gw.Listener{httpsListener("https", "", "", "tls")}, filter{Port: port(443)}, "https://a.example.com/x", "https://a.example.com/x"},
		// HTTP on 8080 and HTTPS on 443 need different ports: the client's.
		{"mixed listeners", []gw.Listener{httpListener("http", "", 8080), httpsListener("https", "", "", "tls")}, filter{}, "http://a.example.com:8080/x", "http://a.example.com:8080/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "")}, []string{"a.example.com"},
				gw.HTTPRouteRule{Filters: []gw.HTTPRouteFilter{{Type: gw.HTTPRouteFilterRequestRedirect, RequestRedirect: &tc.f}}})
			st := gatewayTestSettings()
			st.httpPorts = []int32{80, 8080}
			snap, status := buildGateway(newGatewayWorld(objs(gwClass(), gateway("shop", "edge", tc.listeners...), r, tlsSecret(t, "shop", "tls", "a.example.com"))...), st, &buildCache{})
			if got := routeConds(status, "shop/r", "Accepted"); got != "True/Accepted" {
				t.Fatalf("Accepted %s%s", got, problemList(snap))
			}
			rd := service(t, snap, "shop/r/rule-0/0/0").Redirect
			if rd == nil {
				t.Fatal("no redirect")
			}
			if got := regexp.MustCompile(rd.Regex).ReplaceAllString(tc.in, rd.Replacement); got != tc.want {
				t.Errorf("%s → %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

// TestHTTPRouteWeights: each Service's share follows its weight whatever
// its endpoint count; weight 0 drains it.
func TestHTTPRouteWeights(t *testing.T) {
	r := httpRoute("shop", "r", 0, []gw.ParentReference{parent("", "edge", "")}, nil,
		gw.HTTPRouteRule{BackendRefs: []gw.HTTPBackendRef{backendRef("", "a", 80, 3), backendRef("", "b", 80, 1), backendRef("", "c", 80, 0)}})
	two := objs(svc("shop", "b", sport("http", 80, intstr.FromInt(8080))),
		slice("shop", "b", "b-1", "http", 8080, ep{addr: "10.0.1.1"}, ep{addr: "10.0.1.2"}))
	snap, _ := runGateway(t, objs(gwClass(), gateway("shop", "edge", httpListener("http", "", 80)), r, web("shop", "a", "10.0.0.1"), two, web("shop", "c", "10.0.2.1"))...)
	s := service(t, snap, "shop/r/rule-0/0/0")
	share := map[string]int{}
	for _, sv := range s.Servers {
		share[sv.URL[:len("http://10.0.0")]] += sv.Weight
	}
	if share["http://10.0.0"] != 3*share["http://10.0.1"] || share["http://10.0.1"] == 0 || share["http://10.0.2"] != 0 {
		t.Errorf("shares %v from servers %+v", share, s.Servers)
	}
}
