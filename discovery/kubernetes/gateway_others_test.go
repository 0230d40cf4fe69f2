package kubernetes

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/route"
)

// TestOtherRouteKinds: a GRPCRoute naming one of the edge's Gateways is
// answered (Accepted=False, NotAllowedByListeners, a warning), one naming
// another controller's Gateway is not touched.
func TestOtherRouteKinds(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GRPCRoute",
		"metadata": map[string]any{"name": "rpc", "namespace": "infra", "generation": int64(4)},
		"spec":     map[string]any{"parentRefs": []any{map[string]any{"name": "edge"}, map[string]any{"name": "theirs"}}},
	}}
	r, err := otherRouteOf("grpcroutes", u)
	if err != nil {
		t.Fatal(err)
	}
	theirs := gateway("infra", "theirs", httpListener("http", "", 80))
	theirs.Spec.GatewayClassName = "other"
	w := newGatewayWorld(objs(gwClass(), gateway("infra", "edge", httpListener("http", "", 80)), theirs)...)
	w.Others = []otherRoute{r}
	snap, st := buildGateway(w, gatewayTestSettings(), &buildCache{})
	ps := st.Others["grpcroutes/infra/rpc"]
	if len(ps) != 1 || ps[0].ParentRef.Name != "edge" || ps[0].ControllerName != GatewayController {
		t.Fatalf("parents %+v", ps)
	}
	if got := condOf(ps[0].Conditions, string(gw.RouteConditionAccepted)); got != "False/NotAllowedByListeners" || ps[0].Conditions[0].ObservedGeneration != 4 {
		t.Errorf("Accepted %s (generation %d)", got, ps[0].Conditions[0].ObservedGeneration)
	}
	if !hasProblem(snap, "kubernetes-gateway:infra/grpcroute/rpc", route.Warning, "GRPCRoute is not supported") {
		t.Errorf("problems %s", problemList(snap))
	}
	// The status as the writer sets it reads back the same.
	up, err := withParents(u, ps)
	if err != nil {
		t.Fatal(err)
	}
	back, err := otherRouteOf("grpcroutes", up)
	if err != nil || len(back.Parents) != 1 || back.Parents[0].Conditions[0].Reason != "NotAllowedByListeners" {
		t.Errorf("read back %+v, %v", back.Parents, err)
	}
}
