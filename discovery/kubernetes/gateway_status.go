package kubernetes

import (
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	gw "sigs.k8s.io/gateway-api/apis/v1"
)

// writeGateway writes the status the last Gateway API build computed, as
// the leader: Accepted on our GatewayClasses, the conditions, listeners
// and addresses of their Gateways, and our controller's entries in the
// HTTPRoutes' status.parents (other controllers' entries are kept). An
// object is written only when what it says differs from what it should
// say; a condition keeps its lastTransitionTime while its status stays,
// so a write changes nothing the next build sees and nothing loops.
func (w *statusWriter) writeGateway(ctx context.Context, lb []networkingv1.IngressLoadBalancerIngress) {
	g := w.p.gateway.Load()
	st := w.p.wantedGatewayStatus()
	if g == nil || st == nil {
		return
	}
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	failed := false
	fail := func(kind, key string, err error) {
		if ctx.Err() != nil {
			return
		}
		failed = true
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			w.p.log.Debug("gateway API status: object changed meanwhile; retrying", "kind", kind, "object", key)
			return
		}
		w.p.log.Warn("writing gateway API status", "kind", kind, "object", key, "err", err)
	}
	api := g.client.GatewayV1()

	for _, o := range g.classes.GetStore().List() {
		c := o.(*gw.GatewayClass)
		want, ok := st.Classes[c.Name]
		if !ok {
			continue
		}
		conds := conditionsFor(want, c.Status.Conditions, now)
		if equality.Semantic.DeepEqual(conds, c.Status.Conditions) {
			continue
		}
		up := c.DeepCopy()
		up.Status.Conditions = conds
		if _, err := api.GatewayClasses().UpdateStatus(ctx, up, metav1.UpdateOptions{}); err != nil {
			fail("GatewayClass", c.Name, err)
		}
	}

	addrs := gatewayAddresses(lb)
	for _, inf := range g.gateways {
		for _, o := range inf.GetStore().List() {
			gwy := o.(*gw.Gateway)
			key := gwy.Namespace + "/" + gwy.Name
			want, ok := st.Gateways[key]
			if !ok {
				continue
			}
			next := gw.GatewayStatus{Addresses: addrs, Conditions: conditionsFor(want.Conditions, gwy.Status.Conditions, now)}
			for _, l := range want.Listeners {
				var have []metav1.Condition
				if i := slices.IndexFunc(gwy.Status.Listeners, func(h gw.ListenerStatus) bool { return h.Name == l.Name }); i >= 0 {
					have = gwy.Status.Listeners[i].Conditions
				}
				l.Conditions = conditionsFor(l.Conditions, have, now)
				next.Listeners = append(next.Listeners, l)
			}
			if sameGatewayStatus(next, gwy.Status) {
				continue
			}
			up := gwy.DeepCopy()
			up.Status.Addresses, up.Status.Conditions, up.Status.Listeners = next.Addresses, next.Conditions, next.Listeners
			if _, err := api.Gateways(gwy.Namespace).UpdateStatus(ctx, up, metav1.UpdateOptions{}); err != nil {
				fail("Gateway", key, err)
			}
		}
	}

	for _, inf := range g.routes {
		for _, o := range inf.GetStore().List() {
			r := o.(*gw.HTTPRoute)
			key := r.Namespace + "/" + r.Name
			parents := routeParents(r.Status.Parents, st.Routes[key], now)
			if equality.Semantic.DeepEqual(parents, r.Status.Parents) {
				continue
			}
			up := r.DeepCopy()
			up.Status.Parents = parents
			if _, err := api.HTTPRoutes(r.Namespace).UpdateStatus(ctx, up, metav1.UpdateOptions{}); err != nil {
				fail("HTTPRoute", key, err)
			}
		}
	}
	for res, infs := range g.otherInformers() {
		for _, inf := range infs {
			for _, o := range inf.GetStore().List() {
				u := o.(*unstructured.Unstructured)
				r, err := otherRouteOf(res, u)
				if err != nil {
					continue
				}
				parents := routeParents(r.Parents, st.Others[r.key()], now)
				if equality.Semantic.DeepEqual(parents, r.Parents) {
					continue
				}
				up, err := withParents(u, parents)
				if err == nil {
					_, err = g.dynamic.Resource(otherRouteGVR(res)).Namespace(r.Namespace).UpdateStatus(ctx, up, metav1.UpdateOptions{})
				}
				if err != nil {
					fail(r.Kind, r.Namespace+"/"+r.Name, err)
				}
			}
		}
	}
	if failed {
		// A conflict means the object moved on: try again soon rather than
		// at the next period.
		time.AfterFunc(time.Second, w.poke)
	}
}

// withParents is a copy of u with status.parents set to parents.
func withParents(u *unstructured.Unstructured, parents []gw.RouteParentStatus) (*unstructured.Unstructured, error) {
	b, err := json.Marshal(parents)
	if err != nil {
		return nil, err
	}
	var list []any
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, err
	}
	up := u.DeepCopy()
	if list == nil {
		list = []any{}
	}
	if err := unstructured.SetNestedSlice(up.Object, list, "status", "parents"); err != nil {
		return nil, err
	}
	return up, nil
}

// conditionsFor is want with lastTransitionTime set: kept from have while a
// condition's status is the same, now when it changed.
func conditionsFor(want, have []metav1.Condition, now metav1.Time) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(want))
	for _, c := range want {
		c.LastTransitionTime = now
		if h := apimeta.FindStatusCondition(have, c.Type); h != nil && h.Status == c.Status {
			c.LastTransitionTime = h.LastTransitionTime
		}
		out = append(out, c)
	}
	return out
}

// routeParents is an HTTPRoute's status.parents: the entries of other
// controllers as they are, then ours (dropped when the route no longer
// names one of our Gateways).
func routeParents(have, ours []gw.RouteParentStatus, now metav1.Time) []gw.RouteParentStatus {
	var out []gw.RouteParentStatus
	for _, h := range have {
		if h.ControllerName != GatewayController {
			out = append(out, h)
		}
	}
	for _, p := range ours {
		var prev []metav1.Condition
		if i := slices.IndexFunc(have, func(h gw.RouteParentStatus) bool {
			return h.ControllerName == GatewayController && equality.Semantic.DeepEqual(h.ParentRef, p.ParentRef)
		}); i >= 0 {
			prev = have[i].Conditions
		}
		p.Conditions = conditionsFor(p.Conditions, prev, now)
		out = append(out, p)
	}
	if len(out) == 0 && len(have) == 0 {
		return have // nil and empty are the same status
	}
	return out
}

// gatewayAddresses are the Ingress status addresses as Gateway addresses.
func gatewayAddresses(lb []networkingv1.IngressLoadBalancerIngress) []gw.GatewayStatusAddress {
	var out []gw.GatewayStatusAddress
	for _, a := range lb {
		switch {
		case a.IP != "":
			if _, err := netip.ParseAddr(a.IP); err == nil {
				out = append(out, gw.GatewayStatusAddress{Type: pointer(gw.IPAddressType), Value: a.IP})
			}
		case a.Hostname != "":
			out = append(out, gw.GatewayStatusAddress{Type: pointer(gw.HostnameAddressType), Value: a.Hostname})
		}
	}
	return out
}

func sameGatewayStatus(a, b gw.GatewayStatus) bool {
	if len(a.Addresses) == 0 && len(b.Addresses) == 0 {
		a.Addresses, b.Addresses = nil, nil
	}
	return equality.Semantic.DeepEqual(a.Addresses, b.Addresses) &&
		equality.Semantic.DeepEqual(a.Conditions, b.Conditions) &&
		equality.Semantic.DeepEqual(a.Listeners, b.Listeners)
}
