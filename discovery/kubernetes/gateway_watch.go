package kubernetes

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	gw "sigs.k8s.io/gateway-api/apis/v1"

	edgelabels "github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/internal/kubeclient"
	"github.com/rancher-edge/edge/route"
)

// gatewayResources are the gateway.networking.k8s.io/v1 resources the
// provider watches; without them (the CRDs are not installed) Gateway API
// is off and says so, and the Ingresses keep being served.
var gatewayResources = []string{"gatewayclasses", "gateways", "httproutes", "referencegrants"}

// GatewayCRDs reports which of the Gateway API resources the edge needs
// the apiserver does not serve (nil: all there). err is set when the
// apiserver could not tell, which is not the same as "not installed".
func GatewayCRDs(ctx context.Context, cs *kubeclient.Clients) (missing []string, err error) {
	served, err := servedResources(ctx, cs)
	return missingResources(served), err
}

// servedResources are the gateway.networking.k8s.io/v1 resources the
// apiserver serves: none when it serves no such group version, an error
// when it cannot tell.
func servedResources(ctx context.Context, cs *kubeclient.Clients) (map[string]bool, error) {
	out := map[string]bool{}
	list, err := cs.Resources(ctx, gw.GroupVersion)
	if apierrors.IsNotFound(err) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("asking the apiserver for %s: %w", gw.GroupVersion, err)
	}
	for _, r := range list.APIResources {
		out[r.Name] = true
	}
	return out, nil
}

// servedResources asks within GatewayRecheck, the period it is asked
// at: an apiserver that does not answer fails the question, which is
// asked again.
func (p *Provider) servedResources(ctx context.Context, cs *kubeclient.Clients) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.GatewayRecheck)
	defer cancel()
	return servedResources(ctx, cs)
}

// missingResources are the resources of gatewayResources not in served;
// nil when served is (the apiserver could not tell).
func missingResources(served map[string]bool) (missing []string) {
	if served == nil {
		return nil
	}
	for _, r := range gatewayResources {
		if !served[r] {
			missing = append(missing, r)
		}
	}
	return missing
}

// gatewayCaches are the Gateway API informers, made once the CRDs are
// served. Services, EndpointSlices and Secrets come from the Ingress
// caches: one cache of each for both APIs.
type gatewayCaches struct {
	client  *kubeclient.Clients
	dynamic dynamic.Interface
	// others are the informers of the route kinds answered, not served,
	// by resource; kinds installed later are added (othersMu).
	othersMu   sync.RWMutex
	others     map[string][]cache.SharedIndexInformer
	classes    cache.SharedIndexInformer
	gateways   []cache.SharedIndexInformer
	routes     []cache.SharedIndexInformer
	grants     []cache.SharedIndexInformer
	namespaces cache.SharedIndexInformer // for allowedRoutes selectors
}

func (g *gatewayCaches) all() []cache.SharedIndexInformer {
	out := []cache.SharedIndexInformer{g.classes, g.namespaces}
	for _, l := range [][]cache.SharedIndexInformer{g.gateways, g.routes, g.grants} {
		out = append(out, l...)
	}
	for _, infs := range g.otherInformers() {
		out = append(out, infs...)
	}
	return out
}

// otherInformers is a copy of others, safe to range over.
func (g *gatewayCaches) otherInformers() map[string][]cache.SharedIndexInformer {
	g.othersMu.RLock()
	defer g.othersMu.RUnlock()
	return maps.Clone(g.others)
}

// world reads the Gateway API caches next to the Ingress world w.
func (g *gatewayCaches) world(w world) gatewayWorld {
	gwld := gatewayWorld{Namespaces: map[string]*corev1.Namespace{}, Services: w.Services, Slices: w.Slices, Secrets: w.Secrets}
	for _, o := range g.classes.GetStore().List() {
		gwld.Classes = append(gwld.Classes, o.(*gw.GatewayClass))
	}
	for _, inf := range g.gateways {
		for _, o := range inf.GetStore().List() {
			gwld.Gateways = append(gwld.Gateways, o.(*gw.Gateway))
		}
	}
	for _, inf := range g.routes {
		for _, o := range inf.GetStore().List() {
			gwld.Routes = append(gwld.Routes, o.(*gw.HTTPRoute))
		}
	}
	for _, inf := range g.grants {
		for _, o := range inf.GetStore().List() {
			gwld.Grants = append(gwld.Grants, o.(*gw.ReferenceGrant))
		}
	}
	for _, o := range g.namespaces.GetStore().List() {
		n := o.(*corev1.Namespace)
		gwld.Namespaces[n.Name] = n
	}
	for res, infs := range g.otherInformers() {
		for _, inf := range infs {
			for _, o := range inf.GetStore().List() {
				if r, err := otherRouteOf(res, o.(*unstructured.Unstructured)); err == nil {
					gwld.Others = append(gwld.Others, r)
				}
			}
		}
	}
	return gwld
}

// gatewaySettings are the build settings from the configuration.
func (c Config) gatewaySettings() gatewaySettings {
	return gatewaySettings{
		httpPorts:         c.GatewayHTTPPorts,
		httpsPorts:        c.GatewayHTTPSPorts,
		allowExternalName: c.AllowExternalName,
		labels:            edgelabels.Options{Provider: gatewayProvider, ExposedByDefault: true},
	}
}

// watchGateway waits until the Gateway API CRDs are served (asking every
// GatewayRecheck, each question bounded by it; until then the provider
// says they are missing), then starts the Gateway API informers, waits for
// their caches and hands them over; every change pokes the same debounced
// rebuild as the Ingresses.
func (p *Provider) watchGateway(ctx context.Context, cs *kubeclient.Clients, poke func(), handler cache.ResourceEventHandler) {
	var served map[string]bool
	for {
		var err error
		served, err = p.servedResources(ctx, cs)
		missing := missingResources(served)
		switch {
		case err == nil && len(missing) == 0:
			p.setGatewayNote("")
		case err == nil:
			p.setGatewayNote(fmt.Sprintf("Gateway API is off: the apiserver does not serve %s %s (install the standard-channel CRDs of Gateway API v1.6); Ingresses are served",
				gw.GroupVersion, strings.Join(missing, ", ")))
		case ctx.Err() != nil:
			return
		default:
			p.setGatewayNote("Gateway API: cannot tell whether its CRDs are installed: " + err.Error())
		}
		poke()
		if err == nil && len(missing) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(p.cfg.GatewayRecheck):
		}
	}
	dyn, err := dynamic.NewForConfig(p.cfg.Rest)
	if err != nil {
		p.setGatewayNote("Gateway API: " + err.Error())
		poke()
		return
	}
	g := &gatewayCaches{client: cs, dynamic: dyn, others: map[string][]cache.SharedIndexInformer{}}
	api := cs.GatewayV1()
	for _, ns := range p.cfg.Namespaces {
		gws, rts, grs := api.Gateways(ns), api.HTTPRoutes(ns), api.ReferenceGrants(ns)
		g.gateways = append(g.gateways, newInformer(&gw.Gateway{}, gws.List, gws.Watch, nil))
		g.routes = append(g.routes, newInformer(&gw.HTTPRoute{}, rts.List, rts.Watch, nil))
		g.grants = append(g.grants, newInformer(&gw.ReferenceGrant{}, grs.List, grs.Watch, nil))
		// Route kinds the edge does not serve, where the apiserver has
		// them: watched only to answer them in their status.
		for res := range otherRouteResources {
			if served[res] {
				g.others[res] = append(g.others[res], otherInformer(dyn, res, ns))
			}
		}
	}
	cls, nss := api.GatewayClasses(), cs.CoreV1().Namespaces()
	g.classes = newInformer(&gw.GatewayClass{}, cls.List, cls.Watch, nil)
	g.namespaces = newInformer(&corev1.Namespace{}, nss.List, nss.Watch, nil)
	var running informerGroup
	defer running.wait()
	for _, inf := range g.all() {
		if _, err := inf.AddEventHandler(handler); err != nil {
			p.setGatewayNote("Gateway API: " + err.Error())
			return
		}
		_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, r *cache.Reflector, err error) {
			p.watchFailed(r.TypeDescription(), err)
		})
	}
	running.run(ctx, g.all()...)
	start := time.Now()
	for _, inf := range g.all() {
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return
		}
	}
	p.log.Info("gateway API caches synced", "took", time.Since(start).Round(time.Millisecond))
	p.gateway.Store(g)
	poke()
	p.watchOtherKinds(ctx, cs, g, &running, handler, poke)
}

// otherInformer watches, through the dynamic client, one of the route
// kinds answered but not served, in namespace ns.
func otherInformer(dyn dynamic.Interface, res, ns string) cache.SharedIndexInformer {
	ri := dyn.Resource(otherRouteGVR(res)).Namespace(ns)
	return newInformer(&unstructured.Unstructured{}, ri.List, ri.Watch, nil)
}

// watchOtherKinds adds, as their CRDs appear, the informers of the route
// kinds answered but not served (installed after the edge started, or
// established after the ones it needs), until all are watched or ctx ends.
// They run in running, which watchGateway waits for.
func (p *Provider) watchOtherKinds(ctx context.Context, cs *kubeclient.Clients, g *gatewayCaches, running *informerGroup,
	handler cache.ResourceEventHandler, poke func()) {
	t := time.NewTicker(p.cfg.GatewayRecheck)
	defer t.Stop()
	for {
		have := g.otherInformers()
		if len(have) == len(otherRouteResources) {
			<-ctx.Done()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		served, _ := p.servedResources(ctx, cs) // none when it cannot tell: asked again next tick
		for res := range otherRouteResources {
			if have[res] != nil || !served[res] {
				continue
			}
			var infs []cache.SharedIndexInformer
			for _, ns := range p.cfg.Namespaces {
				inf := otherInformer(g.dynamic, res, ns)
				if _, err := inf.AddEventHandler(handler); err != nil {
					continue
				}
				_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, r *cache.Reflector, err error) {
					p.watchFailed(r.TypeDescription(), err)
				})
				infs = append(infs, inf)
			}
			running.run(ctx, infs...)
			for _, inf := range infs {
				if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
					return
				}
			}
			g.othersMu.Lock()
			g.others[res] = infs
			g.othersMu.Unlock()
			p.log.Info("gateway API: answering routes of another kind", "kind", otherRouteResources[res])
			poke()
		}
	}
}

func (p *Provider) setGatewayNote(note string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if note != p.gatewayNote && note != "" {
		p.log.Warn(note)
	}
	p.gatewayNote = note
}

// buildGatewaySnapshot is the Gateway API half of a rebuild: the routes of
// the synced caches, or, before they are, a snapshot that only carries the
// reason (a warning: the rest of the edge is fine).
func (p *Provider) buildGatewaySnapshot(w world, chk *buildCache) (route.Snapshot, *gatewayStatus) {
	g := p.gateway.Load()
	if g == nil {
		p.mu.Lock()
		note := p.gatewayNote
		p.mu.Unlock()
		snap := route.Snapshot{Provider: gatewayProvider}
		if note != "" {
			snap.Problems = []route.Problem{{Source: route.Source{Provider: gatewayProvider, Service: "gateway-api"}, Severity: route.Warning, Message: note}}
		}
		return snap, nil
	}
	snap, st := buildGateway(g.world(w), p.cfg.gatewaySettings(), chk)
	// apimeta.SetStatusCondition stamps a time on the listeners'
	// conditions; the writer decides transition times, and two builds of
	// the same world must compare equal.
	for _, gs := range st.Gateways {
		for i := range gs.Listeners {
			for j := range gs.Listeners[i].Conditions {
				gs.Listeners[i].Conditions[j].LastTransitionTime = metav1.Time{}
			}
		}
	}
	return snap, &st
}

// gatewayPublisher is the Gateway API half of the provider's rebuild: it
// publishes the "kubernetes-gateway" snapshot next to the Ingresses' when
// it says something new (see stamper), and keeps the status the leader
// writes.
type gatewayPublisher struct {
	fp     stamper
	last   *gatewayStatus
	logged map[string]bool
}

// rebuild builds and publishes, and reports whether the wanted status
// changed (the status writer then compares it with the objects). Claims
// an HTTPRoute shares with an Ingress or another provider's route are the
// routing table's to settle (edge/clash.go); the table tells the provider
// which HTTPRoutes lost (TableLost).
func (g *gatewayPublisher) rebuild(p *Provider, w world, chk *buildCache, publish func(route.Snapshot)) bool {
	snap, st := p.buildGatewaySnapshot(w, chk)
	if g.fp.stamp(&snap) {
		snap.Built = time.Now()
		g.logged = p.logProblems(g.logged, snap.Problems)
		p.log.Info("gateway API routes changed", "routes", len(snap.Services), "problems", len(snap.Problems), "certificates", len(snap.Certificates))
		publish(snap)
	}
	changed := st != nil && (g.last == nil || !equality.Semantic.DeepEqual(*st, *g.last))
	p.mu.Lock()
	p.gwProblems = snap.Problems
	p.gwSources = routeSources(snap)
	if changed {
		g.last = st
		p.gwStatus = st
	}
	p.mu.Unlock()
	return changed
}
