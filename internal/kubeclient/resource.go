package kubeclient

import (
	"context"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Resource is the API of one kind in one namespace ("" for a
// cluster-scoped kind, or for every namespace in List and Watch): T is the
// object's type, L its list's. Its methods are the typed clients' — same
// names, arguments and requests — so code reads as it would with those.
type Resource[T, L any] struct {
	c        *rest.RESTClient
	ns       string
	resource string // the plural, lower-case name: "services"
}

func newResource[T, L any](c *rest.RESTClient, ns, resource string) Resource[T, L] {
	return Resource[T, L]{c: c, ns: ns, resource: resource}
}

// obj is p as the runtime.Object every API type's pointer is.
func obj[T any](p *T) runtime.Object { return any(p).(runtime.Object) }

func (r Resource[T, L]) req(verb string) *rest.Request {
	return r.c.Verb(verb).NamespaceIfScoped(r.ns, r.ns != "").Resource(r.resource)
}

func (r Resource[T, L]) Get(ctx context.Context, name string, o metav1.GetOptions) (*T, error) {
	out := new(T)
	err := r.req("GET").Name(name).VersionedParams(&o, paramCodec()).Do(ctx).Into(obj(out))
	return out, err
}

func (r Resource[T, L]) List(ctx context.Context, o metav1.ListOptions) (*L, error) {
	out := new(L)
	err := r.collection(&o).Do(ctx).Into(obj(out))
	return out, err
}

func (r Resource[T, L]) Watch(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	o.Watch = true
	return r.collection(&o).Watch(ctx)
}

// collection is a GET of the collection with o's options, bounded by
// o.TimeoutSeconds as the typed clients bound it.
func (r Resource[T, L]) collection(o *metav1.ListOptions) *rest.Request {
	req := r.req("GET").VersionedParams(o, paramCodec())
	if o.TimeoutSeconds != nil {
		req = req.Timeout(time.Duration(*o.TimeoutSeconds) * time.Second)
	}
	return req
}

func (r Resource[T, L]) Create(ctx context.Context, v *T, o metav1.CreateOptions) (*T, error) {
	out := new(T)
	err := r.req("POST").VersionedParams(&o, paramCodec()).Body(obj(v)).Do(ctx).Into(obj(out))
	return out, err
}

func (r Resource[T, L]) Update(ctx context.Context, v *T, o metav1.UpdateOptions) (*T, error) {
	return r.update(ctx, v, o, "")
}

// UpdateStatus writes v's status subresource.
func (r Resource[T, L]) UpdateStatus(ctx context.Context, v *T, o metav1.UpdateOptions) (*T, error) {
	return r.update(ctx, v, o, "status")
}

func (r Resource[T, L]) update(ctx context.Context, v *T, o metav1.UpdateOptions, sub string) (*T, error) {
	out := new(T)
	name := any(v).(metav1.Object).GetName()
	req := r.req("PUT").Name(name)
	if sub != "" {
		req = req.SubResource(sub)
	}
	err := req.VersionedParams(&o, paramCodec()).Body(obj(v)).Do(ctx).Into(obj(out))
	return out, err
}

func (r Resource[T, L]) Delete(ctx context.Context, name string, o metav1.DeleteOptions) error {
	return r.req("DELETE").Name(name).Body(&o).Do(ctx).Error()
}

func (r Resource[T, L]) DeleteCollection(ctx context.Context, o metav1.DeleteOptions, lo metav1.ListOptions) error {
	return r.req("DELETE").VersionedParams(&lo, paramCodec()).Body(&o).Do(ctx).Error()
}

// The groups, in the typed clients' shape: cs.CoreV1().Secrets(ns).Get(…).

func (c *Clients) CoreV1() CoreV1                 { return CoreV1{c.core} }
func (c *Clients) NetworkingV1() NetworkingV1     { return NetworkingV1{c.networking} }
func (c *Clients) DiscoveryV1() DiscoveryV1       { return DiscoveryV1{c.discovery} }
func (c *Clients) CoordinationV1() CoordinationV1 { return CoordinationV1{c.coordination} }
func (c *Clients) AuthorizationV1() AuthorizationV1 {
	return AuthorizationV1{c.authorization}
}
func (c *Clients) GatewayV1() GatewayV1 { return GatewayV1{c.gateway} }

type CoreV1 struct{ c *rest.RESTClient }

func (g CoreV1) Services(ns string) Resource[corev1.Service, corev1.ServiceList] {
	return newResource[corev1.Service, corev1.ServiceList](g.c, ns, "services")
}
func (g CoreV1) Secrets(ns string) Resource[corev1.Secret, corev1.SecretList] {
	return newResource[corev1.Secret, corev1.SecretList](g.c, ns, "secrets")
}
func (g CoreV1) Namespaces() Resource[corev1.Namespace, corev1.NamespaceList] {
	return newResource[corev1.Namespace, corev1.NamespaceList](g.c, "", "namespaces")
}

type NetworkingV1 struct{ c *rest.RESTClient }

func (g NetworkingV1) Ingresses(ns string) Resource[networkingv1.Ingress, networkingv1.IngressList] {
	return newResource[networkingv1.Ingress, networkingv1.IngressList](g.c, ns, "ingresses")
}
func (g NetworkingV1) IngressClasses() Resource[networkingv1.IngressClass, networkingv1.IngressClassList] {
	return newResource[networkingv1.IngressClass, networkingv1.IngressClassList](g.c, "", "ingressclasses")
}

type DiscoveryV1 struct{ c *rest.RESTClient }

func (g DiscoveryV1) EndpointSlices(ns string) Resource[discoveryv1.EndpointSlice, discoveryv1.EndpointSliceList] {
	return newResource[discoveryv1.EndpointSlice, discoveryv1.EndpointSliceList](g.c, ns, "endpointslices")
}

type CoordinationV1 struct{ c *rest.RESTClient }

func (g CoordinationV1) Leases(ns string) Resource[coordinationv1.Lease, coordinationv1.LeaseList] {
	return newResource[coordinationv1.Lease, coordinationv1.LeaseList](g.c, ns, "leases")
}

type AuthorizationV1 struct{ c *rest.RESTClient }

// SelfSubjectAccessReviews is create-only; its list type is unused.
func (g AuthorizationV1) SelfSubjectAccessReviews() Resource[authorizationv1.SelfSubjectAccessReview, authorizationv1.SelfSubjectAccessReview] {
	return newResource[authorizationv1.SelfSubjectAccessReview, authorizationv1.SelfSubjectAccessReview](g.c, "", "selfsubjectaccessreviews")
}

type GatewayV1 struct{ c *rest.RESTClient }

func (g GatewayV1) GatewayClasses() Resource[gatewayv1.GatewayClass, gatewayv1.GatewayClassList] {
	return newResource[gatewayv1.GatewayClass, gatewayv1.GatewayClassList](g.c, "", "gatewayclasses")
}
func (g GatewayV1) Gateways(ns string) Resource[gatewayv1.Gateway, gatewayv1.GatewayList] {
	return newResource[gatewayv1.Gateway, gatewayv1.GatewayList](g.c, ns, "gateways")
}
func (g GatewayV1) HTTPRoutes(ns string) Resource[gatewayv1.HTTPRoute, gatewayv1.HTTPRouteList] {
	return newResource[gatewayv1.HTTPRoute, gatewayv1.HTTPRouteList](g.c, ns, "httproutes")
}
func (g GatewayV1) GRPCRoutes(ns string) Resource[gatewayv1.GRPCRoute, gatewayv1.GRPCRouteList] {
	return newResource[gatewayv1.GRPCRoute, gatewayv1.GRPCRouteList](g.c, ns, "grpcroutes")
}
func (g GatewayV1) ReferenceGrants(ns string) Resource[gatewayv1.ReferenceGrant, gatewayv1.ReferenceGrantList] {
	return newResource[gatewayv1.ReferenceGrant, gatewayv1.ReferenceGrantList](g.c, ns, "referencegrants")
}
