package kubernetes

import (
	"net/http"
	"net/http/httptest"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
	"github.com/rancher-edge/edge/route/rule"
)

func gwClass() *gw.GatewayClass {
	return &gw.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "edge", Generation: 1}, Spec: gw.GatewayClassSpec{ControllerName: GatewayController}}
}

func gateway(ns, name string, ls ...gw.Listener) *gw.Gateway {
	g := &gw.Gateway{ObjectMeta: meta(ns, name, 0), Spec: gw.GatewaySpec{GatewayClassName: "edge", Listeners: ls}}
	g.Generation = 1
	return g
}

func httpListener(name, host string, port int) gw.Listener {
	l := gw.Listener{Name: gw.SectionName(name), Port: gw.PortNumber(port), Protocol: gw.HTTPProtocolType}
	if host != "" {
		l.Hostname = ptr(gw.Hostname(host))
	}
	return l
}

func httpsListener(name, host string, secretNS, secret string) gw.Listener {
	l := httpListener(name, host, 443)
	l.Protocol = gw.HTTPSProtocolType
	ref := gw.SecretObjectReference{Name: gw.ObjectName(secret)}
	if secretNS != "" {
		ref.Namespace = ptr(gw.Namespace(secretNS))
	}
	l.TLS = &gw.ListenerTLSConfig{CertificateRefs: []gw.SecretObjectReference{ref}}
	return l
}

func allowAll(l gw.Listener) gw.Listener {
	l.AllowedRoutes = &gw.AllowedRoutes{Namespaces: &gw.RouteNamespaces{From: ptr(gw.NamespacesFromAll)}}
	return l
}

func parent(ns, name, section string) gw.ParentReference {
	p := gw.ParentReference{Name: gw.ObjectName(name)}
	if ns != "" {
		p.Namespace = ptr(gw.Namespace(ns))
	}
	if section != "" {
		p.SectionName = ptr(gw.SectionName(section))
	}
	return p
}

func backendRef(ns, name string, port, weight int) gw.HTTPBackendRef {
	r := gw.HTTPBackendRef{BackendRef: gw.BackendRef{BackendObjectReference: gw.BackendObjectReference{Name: gw.ObjectName(name), Port: ptr(gw.PortNumber(port))}}}
	if ns != "" {
		r.Namespace = ptr(gw.Namespace(ns))
	}
	if weight >= 0 {
		r.Weight = ptr(int32(weight))
	}
	return r
}

func prefixMatch(p string) gw.HTTPRouteMatch {
	return gw.HTTPRouteMatch{Path: &gw.HTTPPathMatch{Type: ptr(gw.PathMatchPathPrefix), Value: ptr(p)}}
}

func httpRoute(ns, name string, age int, parents []gw.ParentReference, hosts []string, rules ...gw.HTTPRouteRule) *gw.HTTPRoute {
	r := &gw.HTTPRoute{ObjectMeta: meta(ns, name, age)}
	r.Generation = 1
	r.Spec.ParentRefs = parents
	for _, h := range hosts {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gw.Hostname(h))
	}
	r.Spec.Rules = rules
	return r
}

func grant(ns string, fromNS, fromKind, toKind string) *gw.ReferenceGrant {
	return &gw.ReferenceGrant{ObjectMeta: meta(ns, "grant-"+fromNS, 0), Spec: gw.ReferenceGrantSpec{
		From: []gw.ReferenceGrantFrom{{Group: gw.GroupName, Kind: gw.Kind(fromKind), Namespace: gw.Namespace(fromNS)}},
		To:   []gw.ReferenceGrantTo{{Group: "", Kind: gw.Kind(toKind)}},
	}}
}

func namespace(name string, lbls map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls}}
}

func newGatewayWorld(objs ...any) gatewayWorld {
	w := gatewayWorld{Namespaces: map[string]*corev1.Namespace{}, Services: map[string]*corev1.Service{},
		Slices: map[string][]*discoveryv1.EndpointSlice{}, Secrets: map[string]*corev1.Secret{}}
	var add func(o any)
	add = func(o any) {
		switch v := o.(type) {
		case []any:
			for _, x := range v {
				add(x)
			}
		case *gw.GatewayClass:
			w.Classes = append(w.Classes, v)
		case *gw.Gateway:
			w.Gateways = append(w.Gateways, v)
		case *gw.HTTPRoute:
			w.Routes = append(w.Routes, v)
		case *gw.ReferenceGrant:
			w.Grants = append(w.Grants, v)
		case *corev1.Namespace:
			w.Namespaces[v.Name] = v
		case *corev1.Service:
			w.Services[v.Namespace+"/"+v.Name] = v
		case *discoveryv1.EndpointSlice:
			k := v.Namespace + "/" + v.Labels[labelServiceName]
			w.Slices[k] = append(w.Slices[k], v)
		case *corev1.Secret:
			w.Secrets[v.Namespace+"/"+v.Name] = v
		default:
			panic("newGatewayWorld: unexpected object")
		}
	}
	for _, o := range objs {
		add(o)
	}
	return w
}

func gatewayTestSettings() gatewaySettings {
	return gatewaySettings{httpPorts: []int32{80}, httpsPorts: []int32{443}, labels: labels.Options{Provider: gatewayProvider, ExposedByDefault: true}}
}

func runGateway(t testing.TB, objs ...any) (route.Snapshot, gatewayStatus) {
	t.Helper()
	return buildGateway(newGatewayWorld(objs...), gatewayTestSettings(), &buildCache{})
}

// condOf is "Status/Reason" of one condition type, "" when absent.
func condOf(cs []metav1.Condition, typ string) string {
	for _, c := range cs {
		if c.Type == typ {
			return string(c.Status) + "/" + c.Reason
		}
	}
	return ""
}

// routeConds is "Status/Reason" of a route's first parent's condition.
func routeConds(st gatewayStatus, key, typ string) string {
	ps := st.Routes[key]
	if len(ps) == 0 {
		return "no parent status"
	}
	return condOf(ps[0].Conditions, typ)
}

func listenerConds(st gatewayStatus, gwKey, name, typ string) string {
	for _, l := range st.Gateways[gwKey].Listeners {
		if string(l.Name) == name {
			return condOf(l.Conditions, typ)
		}
	}
	return "no listener " + name
}

// serve is the edge's choice for a request, as pick, but for any request
// (method, headers, query): the route's name and the request as the
// route's modifiers leave it; "" for none.
func serve(t testing.TB, snap route.Snapshot, req *http.Request) (string, *http.Request) {
	t.Helper()
	var best *route.Service
	var bestRule *rule.Rule
	bestPrio := -1
	for i, s := range snap.Services {
		r, err := rule.Parse(s.Rule)
		if err != nil {
			t.Fatalf("route %s: rule %q: %v", s.Name, s.Rule, err)
		}
		prio := s.Priority
		if prio <= 0 {
			prio = r.Len()
		}
		if r.Match(req, req.Host) && prio > bestPrio {
			best, bestRule, bestPrio = &snap.Services[i], r, prio
		}
	}
	if best == nil {
		return "", req
	}
	out := req.Clone(req.Context())
	if !bestRule.Modify(out) {
		t.Fatalf("route %s: the modifiers refused %s", best.Name, req.URL)
	}
	return best.Name, out
}

func get(target string, hdr ...string) *http.Request {
	req := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req
}

type requestT = http.Request
