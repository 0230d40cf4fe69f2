package kubeclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// scheme holds the kinds the edge uses: core, networking, discovery,
// coordination and authorization v1, and Gateway API v1, with their
// codecs. It is built by the first [New], not at init: an edge without
// Kubernetes never registers the kinds (about 150 KB of heap and the
// pages of their code at every start).
var scheme = sync.OnceValue(func() *kinds {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, networkingv1.AddToScheme, discoveryv1.AddToScheme,
		coordinationv1.AddToScheme, authorizationv1.AddToScheme, gatewayv1.Install,
	} {
		if err := add(s); err != nil {
			panic(err) // a programming error: the types are fixed
		}
	}
	// The options of list, watch, get… as query parameters, for any
	// group (as client-go's scheme registers them).
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	return &kinds{scheme: s, codecs: serializer.NewCodecFactory(s), params: runtime.NewParameterCodec(s)}
})

type kinds struct {
	scheme *runtime.Scheme
	codecs serializer.CodecFactory
	params runtime.ParameterCodec
}

// paramCodec encodes request options as query parameters; only requests
// of clients that [New] made use it, so the scheme is built by then.
func paramCodec() runtime.ParameterCodec { return scheme().params }

// Clients are the REST clients of the group versions the edge uses,
// sharing one HTTP client (one connection pool), as a Clientset's do.
type Clients struct {
	core, networking, discovery, coordination, authorization, gateway *rest.RESTClient
}

// New makes the clients for cfg. Nothing is dialled until a request.
func New(cfg *rest.Config) (*Clients, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	var c Clients
	for _, g := range []struct {
		to *(*rest.RESTClient)
		gv schema.GroupVersion
	}{
		{&c.core, corev1.SchemeGroupVersion},
		{&c.networking, networkingv1.SchemeGroupVersion},
		{&c.discovery, discoveryv1.SchemeGroupVersion},
		{&c.coordination, coordinationv1.SchemeGroupVersion},
		{&c.authorization, authorizationv1.SchemeGroupVersion},
		{&c.gateway, schema.GroupVersion(gatewayv1.GroupVersion)},
	} {
		if *g.to, err = restClient(cfg, hc, g.gv); err != nil {
			return nil, fmt.Errorf("kubernetes client for %s: %w", g.gv, err)
		}
	}
	return &c, nil
}

// restClient is a client for one group version, configured as client-go's
// typed clients configure theirs (JSON, the default user agent).
func restClient(cfg *rest.Config, hc *http.Client, gv schema.GroupVersion) (*rest.RESTClient, error) {
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &gv
	c.APIPath = "/apis"
	if gv.Group == "" {
		c.APIPath = "/api"
	}
	c.NegotiatedSerializer = scheme().codecs.WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	return rest.RESTClientForConfigAndClient(c, hc)
}

// Resources lists the resources the apiserver serves in gv (GET
// /apis/<group>/<version>, what discovery asks). An apiserver that serves
// none of gv answers 404: the error then satisfies apierrors.IsNotFound.
func (c *Clients) Resources(ctx context.Context, gv metav1.GroupVersion) (*metav1.APIResourceList, error) {
	raw, err := c.core.Get().AbsPath("/apis", gv.Group, gv.Version).Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	var list metav1.APIResourceList
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("decoding the resources of %s: %w", gv, err)
	}
	return &list, nil
}
