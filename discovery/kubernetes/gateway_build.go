package kubernetes

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	klabels "k8s.io/apimachinery/pkg/labels"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
)

// GatewayController is the controllerName of the GatewayClasses the edge
// implements.
const GatewayController gw.GatewayController = "rancher-edge.io/gateway-controller"

// gatewayProvider names the Gateway API routes' snapshot and sources.
const gatewayProvider = "kubernetes-gateway"

// gatewayWorld is everything buildGateway reads: the caches at one moment.
// Services, Slices and Secrets are shared with the Ingress world.
type gatewayWorld struct {
	Classes    []*gw.GatewayClass
	Gateways   []*gw.Gateway
	Routes     []*gw.HTTPRoute
	Grants     []*gw.ReferenceGrant
	Others     []otherRoute                 // GRPCRoutes, TLSRoutes, TCPRoutes, UDPRoutes: answered, not served
	Namespaces map[string]*corev1.Namespace // by name, for allowedRoutes selectors
	Services   map[string]*corev1.Service
	Slices     map[string][]*discoveryv1.EndpointSlice
	Secrets    map[string]*corev1.Secret
}

// gatewaySettings are what shape a Gateway API snapshot.
type gatewaySettings struct {
	// httpPorts and httpsPorts are the Gateway listener ports that map onto
	// the edge's HTTP and HTTPS listeners (80/443 and the public ports).
	httpPorts, httpsPorts []int32
	allowExternalName     bool
	labels                labels.Options
}

// gatewayStatus is the status build computes; the leader writes it.
type gatewayStatus struct {
	Classes  map[string][]metav1.Condition     // by GatewayClass name
	Gateways map[string]gw.GatewayStatus       // by namespace/name; addresses are the writer's
	Routes   map[string][]gw.RouteParentStatus // by namespace/name
	Others   map[string][]gw.RouteParentStatus // by resource/namespace/name
}

// listener is one Gateway listener as build judged it.
type listener struct {
	gw       *gw.Gateway
	l        *gw.Listener
	status   *gw.ListenerStatus
	https    bool
	proto    bool // HTTP or HTTPS, which the edge speaks
	accepted bool // on a port the edge serves, with a protocol it speaks
	usable   bool // accepted and programmed: routes may attach
	attached int32
}

// gbuilder collects one Gateway API build's output.
type gbuilder struct {
	w        *gatewayWorld
	s        gatewaySettings
	chk      *buildCache
	ib       *builder // the Ingress builder's backend resolution
	services []route.Service
	problems []route.Problem
	certs    map[string]*route.Certificate
	st       gatewayStatus
	// ruleReason is why the rule being built is refused, for the route's
	// Accepted=False: UnsupportedValue unless the spec has a better one.
	ruleReason gw.RouteConditionReason
}

func cond(typ string, ok bool, reason, msg string, gen int64) metav1.Condition {
	s := metav1.ConditionFalse
	if ok {
		s = metav1.ConditionTrue
	}
	return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen}
}

// buildGateway turns the Gateway API objects into routes, certificates,
// problems and the status the spec asks for. It is pure apart from chk's
// memo; conditions carry no LastTransitionTime (the writer sets it).
func buildGateway(w gatewayWorld, s gatewaySettings, chk *buildCache) (route.Snapshot, gatewayStatus) {
	iw := world{Services: w.Services, Slices: w.Slices, Secrets: w.Secrets}
	b := &gbuilder{w: &w, s: s, chk: chk, certs: map[string]*route.Certificate{},
		ib: &builder{w: &iw, s: settings{allowExternalName: s.allowExternalName}, chk: chk}}
	b.st = gatewayStatus{Classes: map[string][]metav1.Condition{}, Gateways: map[string]gw.GatewayStatus{}, Routes: map[string][]gw.RouteParentStatus{},
		Others: map[string][]gw.RouteParentStatus{}}

	ours := map[string]bool{}
	for _, c := range w.Classes {
		if c.Spec.ControllerName != GatewayController {
			continue
		}
		ours[c.Name] = true
		b.st.Classes[c.Name] = []metav1.Condition{cond(string(gw.GatewayClassConditionStatusAccepted), true, string(gw.GatewayClassReasonAccepted), "handled by rancher-edge", c.Generation)}
	}
	gws := slices.Clone(w.Gateways)
	slices.SortFunc(gws, func(a, c *gw.Gateway) int { return cmp.Compare(a.Namespace+"/"+a.Name, c.Namespace+"/"+c.Name) })
	listeners := map[string][]*listener{} // by Gateway namespace/name
	for _, g := range gws {
		if !ours[string(g.Spec.GatewayClassName)] {
			continue
		}
		listeners[g.Namespace+"/"+g.Name] = b.gateway(g)
	}
	routes := slices.Clone(w.Routes)
	// Oldest first: it wins conflicts and ties, as the spec says.
	slices.SortFunc(routes, func(a, c *gw.HTTPRoute) int {
		return cmp.Or(a.CreationTimestamp.Time.Compare(c.CreationTimestamp.Time), cmp.Compare(a.Namespace, c.Namespace), cmp.Compare(a.Name, c.Name))
	})
	for i, r := range routes {
		b.route(r, i, listeners)
	}
	b.others(w.Others, listeners)
	b.notFound(gws, listeners)
	for key, ls := range listeners {
		st := b.st.Gateways[key]
		for _, l := range ls {
			l.status.AttachedRoutes = l.attached
			st.Listeners = append(st.Listeners, *l.status)
		}
		b.st.Gateways[key] = st
	}
	b.services = labels.SortByName(b.services)
	var certList []route.Certificate
	for _, c := range b.certs {
		slices.Sort(c.Hosts)
		c.Hosts = slices.Compact(c.Hosts)
		certList = append(certList, *c)
	}
	slices.SortFunc(certList, func(a, c route.Certificate) int { return cmp.Compare(a.Source.String(), c.Source.String()) })
	return route.Snapshot{Provider: gatewayProvider, Services: b.services, Problems: b.problems, Certificates: certList}, b.st
}

// notFound adds, for the hostnames of the usable HTTP listeners, a route
// of the lowest priority answering 404 on plain HTTP: the spec's answer
// for a request no rule matches, where the edge would otherwise redirect
// plain HTTP to HTTPS. One per hostname, whichever listeners share it; a
// listener without hostname claims every host.
func (b *gbuilder) notFound(gws []*gw.Gateway, listeners map[string][]*listener) {
	seen := map[string]bool{}
	for _, g := range gws {
		for _, l := range listeners[g.Namespace+"/"+g.Name] {
			host := hostOf(l.l.Hostname)
			if !l.usable || l.https || seen[host] {
				continue
			}
			seen[host] = true
			rule := "PathPrefix:/"
			if h := ruleHosts([]string{host})[0]; host != "" {
				rule = h + ";" + rule
			}
			name := fmt.Sprintf("%s/%s/%s/404", g.Namespace, g.Name, l.l.Name)
			b.services = append(b.services, route.Service{Name: name, Source: gwSrc("gateway", g.Namespace, g.Name, string(l.l.Name)),
				Rule: rule, Priority: 1, Answer: 404, Fallback: true, TLS: &route.TLS{PlainHTTP: true}})
		}
	}
}

func gwSrc(kind, ns, name, seg string) route.Source {
	return route.Source{Provider: gatewayProvider, Stack: ns, Service: kind + "/" + name, Segment: seg}
}

// httpRouteOf is the namespace/name of the HTTPRoute a gwSrc("httproute",
// …) source names; ok is false for any other source.
func httpRouteOf(s route.Source) (key string, ok bool) {
	name, ok := strings.CutPrefix(s.Service, "httproute/")
	if !ok || s.Provider != gatewayProvider {
		return "", false
	}
	return s.Stack + "/" + name, true
}

func (b *gbuilder) problem(s route.Source, sev route.Severity, format string, args ...any) {
	b.problems = append(b.problems, route.Problem{Source: s, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

var httpRouteKind = gw.RouteGroupKind{Group: pointer(gw.Group(gw.GroupName)), Kind: "HTTPRoute"}

func pointer[T any](v T) *T { return &v }

// gateway judges a Gateway's listeners and sets its conditions.
func (b *gbuilder) gateway(g *gw.Gateway) []*listener {
	gen := g.Generation
	src := gwSrc("gateway", g.Namespace, g.Name, "")
	var out []*listener
	for i := range g.Spec.Listeners {
		out = append(out, b.listener(g, &g.Spec.Listeners[i]))
	}
	// Conflicts: listeners on one edge listener (HTTP or HTTPS) with the
	// same hostname; an HTTP and an HTTPS listener on one port number.
	// The first is the spec's, on port numbers; the second is the edge's,
	// where a listener that is not accepted takes no requests, so claims
	// no hostname.
	for i, a := range out {
		for _, c := range out[:i] {
			if !a.proto || !c.proto {
				continue
			}
			switch {
			case a.l.Port == c.l.Port && a.https != c.https:
				a.conflict(gw.ListenerReasonProtocolConflict, gen)
				c.conflict(gw.ListenerReasonProtocolConflict, gen)
			case a.accepted && c.accepted && a.https == c.https && hostOf(a.l.Hostname) == hostOf(c.l.Hostname):
				a.conflict(gw.ListenerReasonHostnameConflict, gen)
				c.conflict(gw.ListenerReasonHostnameConflict, gen)
			}
		}
	}
	valid := 0
	for _, l := range out {
		if l.usable {
			valid++
		} else {
			b.problem(gwSrc("gateway", g.Namespace, g.Name, string(l.l.Name)), route.Error, "listener not programmed: %s", listenerWhy(l.status))
		}
	}
	var conds []metav1.Condition
	switch {
	case len(g.Spec.Addresses) > 0:
		conds = append(conds,
			cond(string(gw.GatewayConditionAccepted), false, string(gw.GatewayReasonUnsupportedAddress), "spec.addresses is not supported: the edge's address is its Service's", gen),
			cond(string(gw.GatewayConditionProgrammed), false, string(gw.GatewayReasonInvalid), "not accepted", gen))
		b.problem(src, route.Error, "spec.addresses is not supported; the Gateway is not served")
		for _, l := range out {
			l.usable = false
		}
	case valid == len(out):
		conds = append(conds,
			cond(string(gw.GatewayConditionAccepted), true, string(gw.GatewayReasonAccepted), "", gen),
			cond(string(gw.GatewayConditionProgrammed), true, string(gw.GatewayReasonProgrammed), "", gen))
	case valid > 0:
		conds = append(conds,
			cond(string(gw.GatewayConditionAccepted), true, string(gw.GatewayReasonListenersNotValid), fmt.Sprintf("%d of %d listeners are not valid", len(out)-valid, len(out)), gen),
			cond(string(gw.GatewayConditionProgrammed), true, string(gw.GatewayReasonProgrammed), "", gen))
	default:
		conds = append(conds,
			cond(string(gw.GatewayConditionAccepted), false, string(gw.GatewayReasonListenersNotValid), "no listener is valid", gen),
			cond(string(gw.GatewayConditionProgrammed), false, string(gw.GatewayReasonInvalid), "no listener is valid", gen))
	}
	b.st.Gateways[g.Namespace+"/"+g.Name] = gw.GatewayStatus{Conditions: conds}
	return out
}

func listenerWhy(st *gw.ListenerStatus) string {
	var why []string
	for _, c := range st.Conditions {
		bad := c.Status == metav1.ConditionFalse
		if c.Type == string(gw.ListenerConditionConflicted) {
			bad = c.Status == metav1.ConditionTrue
		}
		if bad && c.Type != string(gw.ListenerConditionProgrammed) {
			why = append(why, c.Type+"="+string(c.Status)+" "+c.Reason+": "+c.Message)
		}
	}
	return strings.Join(why, "; ")
}

func hostOf(h *gw.Hostname) string {
	if h == nil {
		return ""
	}
	return strings.ToLower(string(*h))
}

// conflict marks a listener Conflicted; it takes no routes.
func (l *listener) conflict(reason gw.ListenerConditionReason, gen int64) {
	apimeta.SetStatusCondition(&l.status.Conditions, cond(string(gw.ListenerConditionConflicted), true, string(reason), "another listener of this Gateway claims the same port and hostname", gen))
	apimeta.SetStatusCondition(&l.status.Conditions, cond(string(gw.ListenerConditionProgrammed), false, string(gw.ListenerReasonInvalid), "conflicted", gen))
	l.usable = false
}

// listener judges one listener: protocol, port, TLS, allowed kinds.
func (b *gbuilder) listener(g *gw.Gateway, l *gw.Listener) *listener {
	gen := g.Generation
	out := &listener{gw: g, l: l, status: &gw.ListenerStatus{Name: l.Name}}
	accepted, acceptReason, acceptMsg := true, string(gw.ListenerReasonAccepted), ""
	resolved, resolveReason, resolveMsg := true, string(gw.ListenerReasonResolvedRefs), ""
	switch l.Protocol {
	case gw.HTTPProtocolType:
		out.proto = true
		if !slices.Contains(b.s.httpPorts, int32(l.Port)) {
			accepted, acceptReason, acceptMsg = false, string(gw.ListenerReasonPortUnavailable), fmt.Sprintf("the edge serves HTTP on ports %v only and opens no other", b.s.httpPorts)
		}
	case gw.HTTPSProtocolType:
		out.https, out.proto = true, true
		if !slices.Contains(b.s.httpsPorts, int32(l.Port)) {
			accepted, acceptReason, acceptMsg = false, string(gw.ListenerReasonPortUnavailable), fmt.Sprintf("the edge serves HTTPS on ports %v only and opens no other", b.s.httpsPorts)
		}
	default:
		accepted, acceptReason, acceptMsg = false, string(gw.ListenerReasonUnsupportedProtocol), fmt.Sprintf("protocol %s is not supported (HTTP and HTTPS are)", l.Protocol)
	}
	// Route kinds: only HTTPRoute.
	kinds := []gw.RouteGroupKind{httpRouteKind}
	if l.AllowedRoutes != nil && len(l.AllowedRoutes.Kinds) > 0 {
		kinds = nil
		for _, k := range l.AllowedRoutes.Kinds {
			if (k.Group == nil || *k.Group == gw.GroupName) && k.Kind == "HTTPRoute" {
				kinds = append(kinds, httpRouteKind)
			} else {
				resolved, resolveReason, resolveMsg = false, string(gw.ListenerReasonInvalidRouteKinds), fmt.Sprintf("route kind %s is not supported (HTTPRoute is)", k.Kind)
			}
		}
	}
	out.status.SupportedKinds = kinds
	if out.https && accepted {
		if ok, reason, msg := b.listenerTLS(g, l); !ok {
			resolved, resolveReason, resolveMsg = false, reason, msg
		}
	}
	st := &out.status.Conditions
	apimeta.SetStatusCondition(st, cond(string(gw.ListenerConditionAccepted), accepted, acceptReason, acceptMsg, gen))
	apimeta.SetStatusCondition(st, cond(string(gw.ListenerConditionResolvedRefs), resolved, resolveReason, resolveMsg, gen))
	apimeta.SetStatusCondition(st, cond(string(gw.ListenerConditionConflicted), false, string(gw.ListenerReasonNoConflicts), "", gen))
	programmed := accepted && (resolved || resolveReason == string(gw.ListenerReasonInvalidRouteKinds) && len(kinds) > 0)
	if programmed {
		apimeta.SetStatusCondition(st, cond(string(gw.ListenerConditionProgrammed), true, string(gw.ListenerReasonProgrammed), "", gen))
	} else {
		apimeta.SetStatusCondition(st, cond(string(gw.ListenerConditionProgrammed), false, string(gw.ListenerReasonInvalid), "", gen))
	}
	out.usable = programmed
	out.accepted = accepted && out.proto
	return out
}

// listenerTLS checks an HTTPS listener's tls: mode Terminate, every
// certificateRef a Secret this Gateway may read, valid; the certificates
// are served for the listener's hostname.
func (b *gbuilder) listenerTLS(g *gw.Gateway, l *gw.Listener) (bool, string, string) {
	if l.TLS == nil || len(l.TLS.CertificateRefs) == 0 {
		return false, string(gw.ListenerReasonInvalidCertificateRef), "an HTTPS listener needs tls.certificateRefs"
	}
	if l.TLS.Mode != nil && *l.TLS.Mode != gw.TLSModeTerminate {
		return false, string(gw.ListenerReasonInvalidCertificateRef), fmt.Sprintf("tls.mode %s is not supported on HTTPS", *l.TLS.Mode)
	}
	src := gwSrc("gateway", g.Namespace, g.Name, string(l.Name))
	var hosts []string
	if h := hostOf(l.Hostname); h != "" {
		hosts = []string{h}
	}
	for _, ref := range l.TLS.CertificateRefs {
		if (ref.Group != nil && *ref.Group != "") || (ref.Kind != nil && *ref.Kind != "Secret") {
			return false, string(gw.ListenerReasonInvalidCertificateRef), fmt.Sprintf("certificateRef %s is not a core Secret", ref.Name)
		}
		ns := g.Namespace
		if ref.Namespace != nil && *ref.Namespace != "" {
			ns = string(*ref.Namespace)
		}
		if ns != g.Namespace && !b.granted(g.Namespace, gw.GroupName, "Gateway", ns, "", "Secret", string(ref.Name)) {
			return false, string(gw.ListenerReasonRefNotPermitted), fmt.Sprintf("Secret %s/%s is in another namespace and no ReferenceGrant there allows it", ns, ref.Name)
		}
		key := ns + "/" + string(ref.Name)
		sec := b.w.Secrets[key]
		if sec == nil {
			b.problem(src, route.Error, "TLS Secret %s not found (or not of type kubernetes.io/tls)", key)
			return false, string(gw.ListenerReasonInvalidCertificateRef), fmt.Sprintf("Secret %s not found or not of type kubernetes.io/tls", key)
		}
		crt, k := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]
		names, err := b.chk.check(crt, k)
		if len(crt) == 0 || len(k) == 0 || err != nil {
			b.problem(src, route.Error, "TLS Secret %s holds no valid certificate and key", key)
			return false, string(gw.ListenerReasonInvalidCertificateRef), fmt.Sprintf("Secret %s holds no valid certificate and key", key)
		}
		c := b.certs[key]
		if c == nil {
			c = &route.Certificate{Source: route.Source{Provider: gatewayProvider, Stack: ns, Service: string(ref.Name)}, CertPEM: crt, KeyPEM: k}
			b.certs[key] = c
		}
		if len(hosts) > 0 {
			c.Hosts = append(c.Hosts, hosts...)
		} else {
			c.Hosts = append(c.Hosts, names...)
		}
	}
	return true, string(gw.ListenerReasonResolvedRefs), ""
}

// granted reports whether a ReferenceGrant in toNS lets objects of
// fromGroup/fromKind in fromNS refer to toGroup/toKind name.
func (b *gbuilder) granted(fromNS, fromGroup, fromKind, toNS, toGroup, toKind, name string) bool {
	for _, g := range b.w.Grants {
		if g.Namespace != toNS {
			continue
		}
		from := slices.ContainsFunc(g.Spec.From, func(f gw.ReferenceGrantFrom) bool {
			return string(f.Namespace) == fromNS && string(f.Group) == fromGroup && string(f.Kind) == fromKind
		})
		to := slices.ContainsFunc(g.Spec.To, func(t gw.ReferenceGrantTo) bool {
			return string(t.Group) == toGroup && string(t.Kind) == toKind && (t.Name == nil || *t.Name == "" || string(*t.Name) == name)
		})
		if from && to {
			return true
		}
	}
	return false
}

// admits reports whether a listener's allowedRoutes.namespaces admits a
// route in ns.
func (b *gbuilder) admits(l *listener, ns string) bool {
	from := gw.NamespacesFromSame
	var sel *metav1.LabelSelector
	if ar := l.l.AllowedRoutes; ar != nil && ar.Namespaces != nil {
		if ar.Namespaces.From != nil {
			from = *ar.Namespaces.From
		}
		sel = ar.Namespaces.Selector
	}
	switch from {
	case gw.NamespacesFromAll:
		return true
	case gw.NamespacesFromSame:
		return ns == l.gw.Namespace
	case gw.NamespacesFromSelector:
		if sel == nil {
			return false
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return false
		}
		n := b.w.Namespaces[ns]
		if n == nil {
			return false
		}
		return s.Matches(klabels.Set(n.Labels))
	}
	return false
}
