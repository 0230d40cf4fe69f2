package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	klabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/rancher-edge/edge/discovery"
	edgelabels "github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/internal/kubeclient"
	"github.com/rancher-edge/edge/route"
)

// Provider discovers routes from Ingresses. Create it with [New], start it
// with [Provider.Run]; [Provider.Status] may be called at any time.
type Provider struct {
	cfg Config
	set settings
	log *slog.Logger

	mu     sync.Mutex
	status route.ProviderStatus
	leader string // "leader", "follower" or "" without status writing

	// Gateway API (gateway_watch.go): the caches once synced, why it is
	// off while it is, the last build's problems and status.
	gateway     atomic.Pointer[gatewayCaches]
	gatewayNote string
	gwProblems  []route.Problem
	gwStatus    *gatewayStatus
	gwSources   map[string]int // routeSources of the last Gateway API snapshot

	// tableLost is the HTTPRoutes' share of the routing table's losses
	// (gateway_lost.go); statusPoke asks the status writer, while one
	// runs, to write what they change.
	tableLost  []route.Lost
	statusPoke func()
}

// New checks cfg and returns a provider. It does no I/O.
func New(cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	p := &Provider{
		cfg: cfg,
		set: settings{
			classes:           cfg.IngressClasses,
			allowExternalName: cfg.AllowExternalName,
			backendInsecure:   cfg.BackendInsecure,
			acme:              cfg.ACME,
			acmeAllowed:       cfg.ACMEDomainsAllowed,
			labels:            edgelabels.Options{Provider: "kubernetes", ExposedByDefault: true},
		},
		log: cfg.Logger.With("component", "discovery.kubernetes"),
	}
	p.status = route.ProviderStatus{Name: "kubernetes", Endpoint: cfg.Rest.Host, Mode: "starting", KeySource: cfg.Source}
	return p, nil
}

// Name returns "kubernetes".
func (p *Provider) Name() string { return "kubernetes" }

// Close releases nothing: Run's goroutines end with its context.
func (p *Provider) Close() error { return nil }

// Status reports the provider's state for the dashboard and the log.
func (p *Provider) Status() route.ProviderStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.status
	st.Problems = append(slices.Clone(st.Problems), p.gwProblems...)
	if p.gatewayNote != "" {
		st.Notes = append(slices.Clone(st.Notes), p.gatewayNote)
	}
	if p.leader != "" {
		st.Mode += ", " + p.leader
	}
	return st
}

// caches are the informers' listers.
type caches struct {
	ingresses []cache.SharedIndexInformer
	services  []cache.SharedIndexInformer
	slices    []cache.SharedIndexInformer
	secrets   []cache.SharedIndexInformer
	classes   cache.SharedIndexInformer
}

func (c *caches) all() []cache.SharedIndexInformer {
	out := []cache.SharedIndexInformer{c.classes}
	for _, l := range [][]cache.SharedIndexInformer{c.ingresses, c.services, c.slices, c.secrets} {
		out = append(out, l...)
	}
	return out
}

// world reads the caches.
func (c *caches) world() world {
	w := world{Services: map[string]*corev1.Service{}, Slices: map[string][]*discoveryv1.EndpointSlice{}, Secrets: map[string]*corev1.Secret{}}
	for _, inf := range c.ingresses {
		for _, o := range inf.GetStore().List() {
			w.Ingresses = append(w.Ingresses, o.(*networkingv1.Ingress))
		}
	}
	for _, o := range c.classes.GetStore().List() {
		w.Classes = append(w.Classes, o.(*networkingv1.IngressClass))
	}
	for _, inf := range c.services {
		for _, o := range inf.GetStore().List() {
			s := o.(*corev1.Service)
			w.Services[s.Namespace+"/"+s.Name] = s
		}
	}
	for _, inf := range c.slices {
		for _, o := range inf.GetStore().List() {
			s := o.(*discoveryv1.EndpointSlice)
			if name := s.Labels[labelServiceName]; name != "" {
				k := s.Namespace + "/" + name
				w.Slices[k] = append(w.Slices[k], s)
			}
		}
	}
	for _, inf := range c.secrets {
		for _, o := range inf.GetStore().List() {
			s := o.(*corev1.Secret)
			w.Secrets[s.Namespace+"/"+s.Name] = s
		}
	}
	// Store order is a map's: sort so that builds are deterministic.
	for _, l := range w.Slices {
		slices.SortFunc(l, func(a, b *discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	}
	return w
}

// informers makes the informers: Ingresses (label selector), Services,
// EndpointSlices and TLS Secrets (field selector: never every Secret) per
// namespace, and the cluster's IngressClasses.
func (p *Provider) informers(cs *kubeclient.Clients) *caches {
	var c caches
	ingSel := func(o *metav1.ListOptions) { o.LabelSelector = p.cfg.LabelSelector }
	tlsOnly := func(o *metav1.ListOptions) { o.FieldSelector = "type=" + string(corev1.SecretTypeTLS) }
	for _, ns := range p.cfg.Namespaces {
		ing := cs.NetworkingV1().Ingresses(ns)
		svc := cs.CoreV1().Services(ns)
		sl := cs.DiscoveryV1().EndpointSlices(ns)
		sec := cs.CoreV1().Secrets(ns)
		c.ingresses = append(c.ingresses, newInformer(&networkingv1.Ingress{}, ing.List, ing.Watch, ingSel))
		c.services = append(c.services, newInformer(&corev1.Service{}, svc.List, svc.Watch, nil))
		c.slices = append(c.slices, newInformer(&discoveryv1.EndpointSlice{}, sl.List, sl.Watch, nil))
		c.secrets = append(c.secrets, newInformer(&corev1.Secret{}, sec.List, sec.Watch, tlsOnly))
	}
	cls := cs.NetworkingV1().IngressClasses()
	c.classes = newInformer(&networkingv1.IngressClass{}, cls.List, cls.Watch, nil)
	return &c
}

// Run watches the cluster, publishes a snapshot once the caches have
// synced and after every change that alters the routes, and returns nil
// when ctx is done. While the apiserver is unreachable the informers keep
// their caches, so nothing is published and the last routes keep serving.
func (p *Provider) Run(ctx context.Context, publish func(route.Snapshot)) error {
	if publish == nil {
		return errors.New("kubernetes: publish is nil")
	}
	cs, err := kubeclient.New(p.cfg.Rest)
	if err != nil {
		return fmt.Errorf("kubernetes: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var running informerGroup
	defer func() {
		cancel()
		wg.Wait()
		running.wait()
	}()
	p.log.Info("kubernetes discovery starting", "apiserver", p.cfg.Rest.Host, "from", p.cfg.Source,
		"namespaces", p.cfg.Namespaces, "classes", p.cfg.IngressClasses, "label_selector", p.cfg.LabelSelector)

	c := p.informers(cs)
	changes := make(chan struct{}, 1)
	poke := func() {
		select {
		case changes <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke() },
		UpdateFunc: func(any, any) { poke() },
		DeleteFunc: func(any) { poke() },
	}
	for _, inf := range c.all() {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return fmt.Errorf("kubernetes: %w", err)
		}
		_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, r *cache.Reflector, err error) {
			p.watchFailed(r.TypeDescription(), err)
		})
	}
	running.run(ctx, c.all()...)
	wg.Go(func() { p.probe(ctx, cs) })
	if p.cfg.Gateway {
		wg.Go(func() { p.watchGateway(ctx, cs, poke, handler) })
	}

	var sw *statusWriter
	if p.cfg.PublishedService != "" || p.cfg.IngressAddress != "" || p.cfg.Gateway {
		sw = newStatusWriter(p, cs, c)
		p.mu.Lock()
		p.statusPoke = sw.poke
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			p.statusPoke = nil
			p.mu.Unlock()
		}()
		wg.Go(func() { sw.run(ctx) })
	}

	start := time.Now()
	for _, inf := range c.all() {
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return nil // ctx is done
		}
	}
	p.log.Info("kubernetes caches synced", "took", time.Since(start).Round(time.Millisecond))

	chk := &buildCache{}
	var fp stamper
	logged := map[string]bool{}
	var gw gatewayPublisher
	rebuild := func() {
		w := c.world()
		w.AuthSecrets = p.authSecrets(ctx, cs, w)
		snap, n := build(w, p.set, chk)
		if p.cfg.Gateway && gw.rebuild(p, w, chk, publish) && sw != nil {
			sw.poke()
		}
		if !fp.stamp(&snap) {
			p.synced(n, nil, -1)
			return
		}
		snap.Built = time.Now()
		logged = p.logProblems(logged, snap.Problems)
		p.log.Info("kubernetes routes changed", "routes", len(snap.Services), "problems", len(snap.Problems),
			"ingresses", n.ingresses, "certificates", len(snap.Certificates))
		p.synced(n, snap.Problems, len(snap.Services))
		publish(snap)
		if sw != nil {
			sw.poke()
		}
	}
	rebuild()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	// auth-secret Secrets are read, not watched: a periodic rebuild picks
	// up their changes (and publishes only if the routes changed).
	refresh := time.NewTicker(30 * time.Second)
	defer refresh.Stop()
	pending := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changes:
			if !pending {
				pending = true
				timer.Reset(p.cfg.Debounce)
			}
		case <-timer.C:
			pending = false
			rebuild()
		case <-refresh.C:
			rebuild()
		}
	}
}

// authSecrets reads the Secrets that served Ingresses name in
// auth-secret, one Get each: the edge never lists or caches every Secret.
// One that cannot be read is left out, and build skips its paths.
func (p *Provider) authSecrets(ctx context.Context, cs *kubeclient.Clients, w world) map[string]*corev1.Secret {
	b := &builder{w: &w, s: p.set}
	var ours []*networkingv1.Ingress
	for _, ing := range w.Ingresses {
		if b.ours(ing) {
			ours = append(ours, ing)
		}
	}
	names := authSecretNames(ours)
	if len(names) == 0 {
		return nil
	}
	out := make(map[string]*corev1.Secret, len(names))
	for _, key := range names {
		ns, name, _ := strings.Cut(key, "/")
		gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		sec, err := cs.CoreV1().Secrets(ns).Get(gctx, name, metav1.GetOptions{})
		cancel()
		if err != nil {
			p.log.Warn("reading an auth-secret", "secret", key, "err", err)
			continue
		}
		out[key] = sec
	}
	return out
}

// logProblems logs each problem once while it lasts.
func (p *Provider) logProblems(logged map[string]bool, problems []route.Problem) map[string]bool {
	now := make(map[string]bool, len(problems))
	for _, pr := range problems {
		key := pr.String()
		now[key] = true
		if logged[key] {
			continue
		}
		level := slog.LevelWarn
		if pr.Severity == route.Warning {
			level = slog.LevelInfo
		}
		msg, key := "ingress problem", "ingress"
		if pr.Source.Provider == gatewayProvider {
			msg, key = "gateway API problem", "object"
		}
		p.log.Log(context.Background(), level, msg, key, pr.Source.String(), "severity", string(pr.Severity), "problem", pr.Message)
	}
	return now
}

// probe checks, while a watch is failing, whether the apiserver answers
// again (a list of one Ingress, with the provider's own permissions), so
// the status clears once the informers can resync.
func (p *Provider) probe(ctx context.Context, cs *kubeclient.Clients) {
	t := time.NewTicker(p.cfg.Probe)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		failing := p.status.LastError != ""
		p.mu.Unlock()
		if !failing {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, p.cfg.Probe)
		_, err := cs.NetworkingV1().Ingresses(p.cfg.Namespaces[0]).List(pctx, metav1.ListOptions{Limit: 1})
		cancel()
		if err == nil {
			p.mu.Lock()
			p.log.Info("apiserver reachable again", "down_for", time.Since(p.status.ErrorSince).Round(time.Millisecond))
			p.status.LastError, p.status.ErrorSince = "", time.Time{}
			p.status.LastSuccess = time.Now()
			p.mu.Unlock()
		}
	}
}

func (p *Provider) watchFailed(what string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	st := &p.status
	if st.LastError == "" {
		st.ErrorSince = now
		p.log.Warn("kubernetes watch failed; keeping the last routes", "resource", what, "err", err)
	}
	st.LastSync = now
	st.LastError = what + ": " + err.Error()
	st.Errors++
}

func (p *Provider) synced(n counts, problems []route.Problem, routes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	st := &p.status
	st.Mode = "watching"
	st.LastSync, st.LastSuccess = now, now
	// The dashboard shows "N services · N instances": the Services the
	// Ingresses route to and their ready endpoints.
	st.Services, st.Instances = n.services, n.endpoints
	st.Syncs++
	if routes >= 0 {
		st.Routes = routes
		st.Problems = problems
	}
}

func (p *Provider) setLeader(role string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.leader = role
}

// ingressSelector is the label selector of the Ingress informers.
func (p *Provider) ingressSelector() klabels.Selector {
	s, err := klabels.Parse(p.cfg.LabelSelector)
	if err != nil {
		return klabels.Everything()
	}
	return s
}

var _ discovery.Provider = (*Provider)(nil)
