package kubernetes

import (
	"cmp"
	"net"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
)

// backend resolves an Ingress backend to its ready endpoints. ok is false
// when the path must be skipped.
func (b *builder) backend(ing *networkingv1.Ingress, source route.Source, be networkingv1.IngressBackend) ([]labels.Address, string, bool) {
	if be.Service == nil {
		b.problem(source, route.Error, "skipped: only Service backends are supported")
		return nil, "", false
	}
	key := ing.Namespace + "/" + be.Service.Name
	svc := b.service(key)
	if svc == nil {
		b.problem(source, route.Error, "skipped: Service %s not found", key)
		return nil, "", false
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		q := &svc.Spec.Ports[i]
		if (be.Service.Port.Name != "" && q.Name == be.Service.Port.Name) || (be.Service.Port.Name == "" && q.Port == be.Service.Port.Number) {
			sp = q
			break
		}
	}
	portDesc := be.Service.Port.Name
	if portDesc == "" {
		portDesc = strconv.Itoa(int(be.Service.Port.Number))
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		if !b.s.allowExternalName {
			b.problem(source, route.Error, "skipped: Service %s is of type ExternalName, allowed only with TRAEFIK_KUBERNETES_ALLOW_EXTERNALNAME=true", key)
			return nil, "", false
		}
		port := int(be.Service.Port.Number)
		if sp != nil {
			port = int(sp.Port)
		}
		if port == 0 {
			b.problem(source, route.Error, "skipped: ExternalName Service %s has no port %s", key, portDesc)
			return nil, "", false
		}
		scheme := schemeFor(sp, port)
		return []labels.Address{{Addr: scheme + "://" + net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(port)), Name: svc.Spec.ExternalName}}, scheme, true
	}
	if sp == nil {
		b.problem(source, route.Error, "skipped: Service %s has no port %s", key, portDesc)
		return nil, "", false
	}
	scheme := schemeFor(sp, int(sp.Port))
	var out []labels.Address
	seen := map[string]bool{}
	for _, sl := range b.endpointSlices(key) {
		port := slicePort(sl, sp)
		if port == 0 {
			continue
		}
		for _, ep := range sl.Endpoints {
			if !serving(ep.Conditions) {
				continue
			}
			for _, a := range ep.Addresses {
				addr := scheme + "://" + net.JoinHostPort(a, strconv.Itoa(port))
				if seen[addr] {
					continue
				}
				seen[addr] = true
				name := a
				if ep.TargetRef != nil && ep.TargetRef.Name != "" {
					name = ep.TargetRef.Name
				}
				out = append(out, labels.Address{Addr: addr, Name: name})
			}
		}
	}
	b.countService(key, len(out))
	slices.SortFunc(out, func(x, y labels.Address) int { return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(x.Addr, y.Addr)) })
	if len(out) == 0 {
		b.problem(source, route.Warning, "Service %s has no ready endpoint for port %s: requests get 503", key, portDesc)
	}
	return out, scheme, true
}

// slicePort is the endpoint port of an EndpointSlice for a Service port:
// the slice's port of the same name (which resolves named target ports).
func slicePort(sl *discoveryv1.EndpointSlice, sp *corev1.ServicePort) int {
	for _, p := range sl.Ports {
		name := ""
		if p.Name != nil {
			name = *p.Name
		}
		if name == sp.Name && p.Port != nil && (p.Protocol == nil || *p.Protocol == corev1.ProtocolTCP) {
			return int(*p.Port)
		}
	}
	return 0
}

// serving reports an endpoint that takes new requests: ready (nil means
// ready), or serving and not terminating.
func serving(c discoveryv1.EndpointConditions) bool {
	if c.Ready == nil || *c.Ready {
		return true
	}
	return c.Serving != nil && *c.Serving && (c.Terminating == nil || !*c.Terminating)
}

// schemeFor is Traefik 1.7's rule: port 443 or a port named https* speaks
// TLS.
func schemeFor(sp *corev1.ServicePort, port int) string {
	if port == 443 || (sp != nil && strings.HasPrefix(sp.Name, "https")) {
		return "https"
	}
	return "http"
}
