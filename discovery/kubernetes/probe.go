package kubernetes

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rancher-edge/edge/internal/kubeclient"
	"github.com/rancher-edge/edge/route"
)

// Served is one Ingress the edge would serve, for `edge check --online`.
type Served struct {
	Namespace, Name string
	// Class is its class (spec.ingressClassName or the legacy
	// annotation), empty when it is served as the default class.
	Class string
	// Nginx: one of ingress-nginx's, served with its defaults.
	Nginx bool
	// Canary: it adds its backend to another Ingress's routes.
	Canary bool
	// Hosts are its rule hosts, "*" for none.
	Hosts []string
	// Routes counts the routes built from it.
	Routes int
}

// Check lists, once, what the provider would watch and builds the routes
// it would serve: every Ingress it would serve and the snapshot with every
// problem (annotations included). It is `edge check --online`'s view of
// the cluster; nothing is watched or written.
func Check(ctx context.Context, cfg Config) ([]Served, route.Snapshot, error) {
	p, err := New(cfg)
	if err != nil {
		return nil, route.Snapshot{}, err
	}
	cs, err := kubeclient.New(p.cfg.Rest)
	if err != nil {
		return nil, route.Snapshot{}, fmt.Errorf("kubernetes: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	w, err := p.listWorld(ctx, cs)
	if err != nil {
		return nil, route.Snapshot{}, err
	}
	w.AuthSecrets = p.authSecrets(ctx, cs, w)
	snap, _ := build(w, p.set, &buildCache{})

	b := &builder{w: &w, s: p.set}
	var out []Served
	for _, ing := range w.Ingresses {
		ours, nginx := b.classOf(ing)
		if !ours {
			continue
		}
		s := Served{Namespace: ing.Namespace, Name: ing.Name, Nginx: nginx, Canary: isCanary(ing)}
		if n := ing.Spec.IngressClassName; n != nil {
			s.Class = *n
		} else {
			s.Class = ing.Annotations[annotationClass]
		}
		for _, r := range ing.Spec.Rules {
			s.Hosts = append(s.Hosts, hostOrAny(strings.ToLower(r.Host)))
		}
		slices.Sort(s.Hosts)
		s.Hosts = slices.Compact(s.Hosts)
		for _, svc := range snap.Services {
			if svc.Source.Stack == ing.Namespace && svc.Source.Service == ing.Name {
				s.Routes++
			}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Served) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, snap, nil
}

// listWorld lists, once, what the informers would cache: the world a
// build reads.
func (p *Provider) listWorld(ctx context.Context, cs *kubeclient.Clients) (world, error) {
	w := world{Services: map[string]*corev1.Service{}, Slices: map[string][]*discoveryv1.EndpointSlice{}, Secrets: map[string]*corev1.Secret{}}
	classes, err := cs.NetworkingV1().IngressClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return world{}, fmt.Errorf("listing IngressClasses: %w", err)
	}
	for i := range classes.Items {
		w.Classes = append(w.Classes, &classes.Items[i])
	}
	for _, ns := range p.cfg.Namespaces {
		ings, err := cs.NetworkingV1().Ingresses(ns).List(ctx, metav1.ListOptions{LabelSelector: p.cfg.LabelSelector})
		if err != nil {
			return world{}, fmt.Errorf("listing Ingresses: %w", err)
		}
		for i := range ings.Items {
			w.Ingresses = append(w.Ingresses, &ings.Items[i])
		}
		svcs, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return world{}, fmt.Errorf("listing Services: %w", err)
		}
		for i := range svcs.Items {
			s := &svcs.Items[i]
			w.Services[s.Namespace+"/"+s.Name] = s
		}
		sls, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return world{}, fmt.Errorf("listing EndpointSlices: %w", err)
		}
		for i := range sls.Items {
			s := &sls.Items[i]
			if name := s.Labels[labelServiceName]; name != "" {
				w.Slices[s.Namespace+"/"+name] = append(w.Slices[s.Namespace+"/"+name], s)
			}
		}
		secs, err := cs.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{FieldSelector: "type=" + string(corev1.SecretTypeTLS)})
		if err != nil {
			return world{}, fmt.Errorf("listing TLS Secrets: %w", err)
		}
		for i := range secs.Items {
			s := &secs.Items[i]
			w.Secrets[s.Namespace+"/"+s.Name] = s
		}
	}
	for _, l := range w.Slices {
		slices.SortFunc(l, func(a, b *discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	}
	return w, nil
}
