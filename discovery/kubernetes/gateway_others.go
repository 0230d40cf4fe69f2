package kubernetes

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/route"
)

// otherRouteResources are the route kinds of the standard channel the
// edge does not serve. They are watched (where the apiserver serves them)
// only to say so in their status, never left without an answer.
var otherRouteResources = map[string]string{
	"grpcroutes": "GRPCRoute",
	"tlsroutes":  "TLSRoute",
	"tcproutes":  "TCPRoute",
	"udproutes":  "UDPRoute",
}

func otherRouteGVR(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: gw.GroupName, Version: "v1", Resource: resource}
}

// otherRoute is what the build needs of a route of another kind.
type otherRoute struct {
	Resource, Kind, Namespace, Name string
	Generation                      int64
	ParentRefs                      []gw.ParentReference
	Parents                         []gw.RouteParentStatus // its status.parents, all controllers'
}

// otherRouteOf reads a route of another kind from its unstructured form.
func otherRouteOf(resource string, u *unstructured.Unstructured) (otherRoute, error) {
	var v struct {
		Spec struct {
			ParentRefs []gw.ParentReference `json:"parentRefs"`
		} `json:"spec"`
		Status struct {
			Parents []gw.RouteParentStatus `json:"parents"`
		} `json:"status"`
	}
	b, err := json.Marshal(u.Object)
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil {
		return otherRoute{}, fmt.Errorf("%s %s/%s: %w", resource, u.GetNamespace(), u.GetName(), err)
	}
	return otherRoute{Resource: resource, Kind: otherRouteResources[resource], Namespace: u.GetNamespace(), Name: u.GetName(),
		Generation: u.GetGeneration(), ParentRefs: v.Spec.ParentRefs, Parents: v.Status.Parents}, nil
}

func (o otherRoute) key() string { return o.Resource + "/" + o.Namespace + "/" + o.Name }

// others answers the routes of kinds the edge does not serve that name one
// of its Gateways: each such parent gets Accepted=False, reason
// NotAllowedByListeners (no listener of the edge's allows the kind), and
// the dashboard a warning. Routes of other controllers' Gateways are not
// touched.
func (b *gbuilder) others(routes []otherRoute, listeners map[string][]*listener) {
	routes = slices.Clone(routes)
	slices.SortFunc(routes, func(x, y otherRoute) int { return strings.Compare(x.key(), y.key()) })
	for _, r := range routes {
		var parents []gw.RouteParentStatus
		for _, pr := range r.ParentRefs {
			if (pr.Group != nil && *pr.Group != gw.GroupName) || (pr.Kind != nil && *pr.Kind != "Gateway") {
				continue
			}
			ns := r.Namespace
			if pr.Namespace != nil && *pr.Namespace != "" {
				ns = string(*pr.Namespace)
			}
			if _, ok := listeners[ns+"/"+string(pr.Name)]; !ok {
				continue
			}
			msg := fmt.Sprintf("rancher-edge serves HTTPRoutes only: %s is not supported", r.Kind)
			parents = append(parents, gw.RouteParentStatus{ParentRef: pr, ControllerName: GatewayController,
				Conditions: []metav1.Condition{cond(string(gw.RouteConditionAccepted), false, string(gw.RouteReasonNotAllowedByListeners), msg, r.Generation)}})
		}
		if len(parents) == 0 {
			continue
		}
		b.st.Others[r.key()] = parents
		b.problem(gwSrc(strings.ToLower(r.Kind), r.Namespace, r.Name, ""), route.Warning, "not served: rancher-edge serves HTTPRoutes only (%s is not supported)", r.Kind)
	}
}
