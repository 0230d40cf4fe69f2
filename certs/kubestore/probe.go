package kubestore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rancher-edge/edge/internal/kubeclient"
)

// needed lists what the store does in its namespace, by resource.
var needed = []struct {
	group, resource string
	verbs           []string
}{
	{"", "secrets", []string{"get", "list", "create", "update", "delete"}},
	{"coordination.k8s.io", "leases", []string{"get", "list", "create", "update"}},
}

// Probe asks the apiserver, once and within cfg's RequestTimeout per
// question, whether the edge may do everything the store does in
// cfg.Namespace (SelfSubjectAccessReview, which every authenticated user
// may ask), for `edge check --online`. The error lists every missing
// permission at once.
func Probe(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults(func() (string, error) { return "", nil })
	kube, err := kubeclient.New(cfg.Rest)
	if err != nil {
		return fmt.Errorf("kubestore: %w", err)
	}
	var missing []string
	for _, n := range needed {
		for _, verb := range n.verbs {
			rctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
			r, err := kube.AuthorizationV1().SelfSubjectAccessReviews().Create(rctx, &authorizationv1.SelfSubjectAccessReview{
				Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: cfg.Namespace, Group: n.group, Resource: n.resource, Verb: verb,
				}},
			}, metav1.CreateOptions{})
			cancel()
			if err != nil {
				return fmt.Errorf("kubestore: asking the apiserver what the edge may do in namespace %s: %w: %w", cfg.Namespace, ErrUnavailable, err)
			}
			if !r.Status.Allowed {
				missing = append(missing, verb+" "+n.resource)
			}
		}
	}
	if len(missing) > 0 {
		return errors.New("kubestore: in namespace " + cfg.Namespace + " the edge may not " + strings.Join(missing, ", ") +
			" (deploy/kubernetes/rbac.yaml's Role rancher-edge-leases grants them)")
	}
	return nil
}
