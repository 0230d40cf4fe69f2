package kubernetes

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/rancher-edge/edge/internal/kubeclient"
	"github.com/rancher-edge/edge/route"
)

// GatewayServed is one Gateway the edge would serve, for `edge check
// --online`.
type GatewayServed struct {
	Namespace, Name, Class string
	// Listeners and Programmed count its listeners and those that serve.
	Listeners, Programmed int
	// Routes counts the HTTPRoutes attached to it.
	Routes int32
}

// GatewayCheck is what `edge check --online` says about Gateway API.
type GatewayCheck struct {
	// Missing lists the Gateway API resources the apiserver does not
	// serve; when any is missing, nothing else is set.
	Missing  []string
	Gateways []GatewayServed
	// Snapshot holds the routes and every problem, as the provider would
	// publish them.
	Snapshot route.Snapshot
}

// CheckGateway asks whether the Gateway API CRDs are served and, when
// they are, lists once what the provider would watch and builds what it
// would serve. Nothing is watched or written.
func CheckGateway(ctx context.Context, cfg Config) (GatewayCheck, error) {
	p, err := New(cfg)
	if err != nil {
		return GatewayCheck{}, err
	}
	cs, err := kubeclient.New(p.cfg.Rest)
	if err != nil {
		return GatewayCheck{}, fmt.Errorf("kubernetes: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	missing, err := GatewayCRDs(ctx, cs)
	if err != nil || len(missing) > 0 {
		return GatewayCheck{Missing: missing}, err
	}
	w, err := p.listWorld(ctx, cs)
	if err != nil {
		return GatewayCheck{}, err
	}
	gwld := gatewayWorld{Namespaces: map[string]*corev1.Namespace{}, Services: w.Services, Slices: w.Slices, Secrets: w.Secrets}
	api := cs.GatewayV1()
	classes, err := api.GatewayClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return GatewayCheck{}, fmt.Errorf("listing GatewayClasses: %w", err)
	}
	for i := range classes.Items {
		gwld.Classes = append(gwld.Classes, &classes.Items[i])
	}
	nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return GatewayCheck{}, fmt.Errorf("listing Namespaces: %w", err)
	}
	for i := range nss.Items {
		gwld.Namespaces[nss.Items[i].Name] = &nss.Items[i]
	}
	for _, ns := range p.cfg.Namespaces {
		gws, err := api.Gateways(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return GatewayCheck{}, fmt.Errorf("listing Gateways: %w", err)
		}
		for i := range gws.Items {
			gwld.Gateways = append(gwld.Gateways, &gws.Items[i])
		}
		rs, err := api.HTTPRoutes(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return GatewayCheck{}, fmt.Errorf("listing HTTPRoutes: %w", err)
		}
		for i := range rs.Items {
			gwld.Routes = append(gwld.Routes, &rs.Items[i])
		}
		grants, err := api.ReferenceGrants(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return GatewayCheck{}, fmt.Errorf("listing ReferenceGrants: %w", err)
		}
		for i := range grants.Items {
			gwld.Grants = append(gwld.Grants, &grants.Items[i])
		}
	}
	snap, st := buildGateway(gwld, p.cfg.gatewaySettings(), &buildCache{})
	out := GatewayCheck{Snapshot: snap}
	for _, g := range gwld.Gateways {
		gs, ok := st.Gateways[g.Namespace+"/"+g.Name]
		if !ok {
			continue // another controller's
		}
		s := GatewayServed{Namespace: g.Namespace, Name: g.Name, Class: string(g.Spec.GatewayClassName), Listeners: len(gs.Listeners)}
		for _, l := range gs.Listeners {
			if c := findCond(l.Conditions, string(gw.ListenerConditionProgrammed)); c != nil && c.Status == metav1.ConditionTrue {
				s.Programmed++
			}
			s.Routes += l.AttachedRoutes
		}
		out.Gateways = append(out.Gateways, s)
	}
	slices.SortFunc(out.Gateways, func(a, b GatewayServed) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

func findCond(cs []metav1.Condition, typ string) *metav1.Condition {
	for i := range cs {
		if cs[i].Type == typ {
			return &cs[i]
		}
	}
	return nil
}
