// Package kubeclient is the edge's Kubernetes API client: the typed clients
// of the API groups the edge reads and writes, and a question of which
// resources a group version serves — no more.
//
// client-go's Clientset, its informer factory and the Gateway API's
// versioned clientset bring in every API group's typed client, apply
// configurations, informers and listers: some 220 generated packages the
// edge never calls, compiled on every cold build (about a minute on two
// cores, once per build configuration: the tests' -race build and each
// architecture of the image). Informers are made from these clients with
// [cache.NewSharedIndexInformer] instead (see discovery/kubernetes).
package kubeclient

import (
	"context"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authorizationv1 "k8s.io/client-go/kubernetes/typed/authorization/v1"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	discoveryv1 "k8s.io/client-go/kubernetes/typed/discovery/v1"
	networkingv1 "k8s.io/client-go/kubernetes/typed/networking/v1"
	"k8s.io/client-go/rest"
	gatewayv1 "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/typed/apis/v1"
)

// Clients are the typed clients of the groups the edge uses, sharing one
// HTTP client (one connection pool) as a Clientset's do.
type Clients struct {
	core          *corev1.CoreV1Client
	networking    *networkingv1.NetworkingV1Client
	discovery     *discoveryv1.DiscoveryV1Client
	coordination  *coordinationv1.CoordinationV1Client
	authorization *authorizationv1.AuthorizationV1Client
	gateway       *gatewayv1.GatewayV1Client
}

// New makes the clients for cfg. Nothing is dialled until a request.
func New(cfg *rest.Config) (*Clients, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	var c Clients
	for _, mk := range []func() error{
		func() (err error) { c.core, err = corev1.NewForConfigAndClient(cfg, hc); return err },
		func() (err error) { c.networking, err = networkingv1.NewForConfigAndClient(cfg, hc); return err },
		func() (err error) { c.discovery, err = discoveryv1.NewForConfigAndClient(cfg, hc); return err },
		func() (err error) { c.coordination, err = coordinationv1.NewForConfigAndClient(cfg, hc); return err },
		func() (err error) { c.authorization, err = authorizationv1.NewForConfigAndClient(cfg, hc); return err },
		func() (err error) { c.gateway, err = gatewayv1.NewForConfigAndClient(cfg, hc); return err },
	} {
		if err := mk(); err != nil {
			return nil, fmt.Errorf("kubernetes client: %w", err)
		}
	}
	return &c, nil
}

func (c *Clients) CoreV1() corev1.CoreV1Interface                   { return c.core }
func (c *Clients) NetworkingV1() networkingv1.NetworkingV1Interface { return c.networking }
func (c *Clients) DiscoveryV1() discoveryv1.DiscoveryV1Interface    { return c.discovery }
func (c *Clients) CoordinationV1() coordinationv1.CoordinationV1Interface {
	return c.coordination
}
func (c *Clients) AuthorizationV1() authorizationv1.AuthorizationV1Interface {
	return c.authorization
}
func (c *Clients) GatewayV1() gatewayv1.GatewayV1Interface { return c.gateway }

// Resources lists the resources the apiserver serves in gv (GET
// /apis/<group>/<version>, what discovery asks). An apiserver that serves
// none of gv answers 404: the error then satisfies apierrors.IsNotFound.
func (c *Clients) Resources(ctx context.Context, gv metav1.GroupVersion) (*metav1.APIResourceList, error) {
	raw, err := c.core.RESTClient().Get().AbsPath("/apis", gv.Group, gv.Version).Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	var list metav1.APIResourceList
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("decoding the resources of %s: %w", gv, err)
	}
	return &list, nil
}
