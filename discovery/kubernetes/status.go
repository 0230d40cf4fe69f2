package kubernetes

import (
	"context"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rancher-edge/edge/internal/kubeclient"
)

// statusWriter writes status.loadBalancer.ingress of the served Ingresses
// while this replica holds the Lease; every replica serves, one writes, so
// two replicas never fight over the status.
type statusWriter struct {
	p      *Provider
	cs     *kubeclient.Clients
	c      *caches
	pokes  chan struct{}
	period time.Duration
}

func newStatusWriter(p *Provider, cs *kubeclient.Clients, c *caches) *statusWriter {
	return &statusWriter{p: p, cs: cs, c: c, pokes: make(chan struct{}, 1), period: 30 * time.Second}
}

func (w *statusWriter) poke() {
	select {
	case w.pokes <- struct{}{}:
	default:
	}
}

// run campaigns for the Lease until ctx is done; as leader it writes the
// status after every published change and every period.
func (w *statusWriter) run(ctx context.Context) {
	cfg := w.p.cfg
	id := cfg.Identity
	if id == "" {
		id, _ = os.Hostname()
	}
	e := &leaderElector{
		leases: w.cs.CoordinationV1().Leases(cfg.LeaseNamespace), name: cfg.LeaseName, id: id,
		leaseDuration: cfg.LeaseDuration, renewDeadline: cfg.RenewDeadline, retryPeriod: cfg.RetryPeriod,
	}
	w.p.setLeader("follower")
	e.run(ctx, func(ctx context.Context) {
		w.p.setLeader("leader")
		w.p.log.Info("leading: this replica writes Ingress and Gateway API status", "lease", cfg.LeaseNamespace+"/"+cfg.LeaseName, "identity", id)
		w.lead(ctx)
		w.p.setLeader("follower")
		w.p.log.Info("no longer leading", "identity", id)
	})
}

func (w *statusWriter) lead(ctx context.Context) {
	t := time.NewTicker(w.period)
	defer t.Stop()
	for {
		w.write(ctx)
		select {
		case <-ctx.Done():
			return
		case <-w.pokes:
		case <-t.C:
		}
	}
}

// addresses are what status.loadBalancer.ingress (and a Gateway's
// status.addresses) should say; none when neither is configured.
func (w *statusWriter) addresses(ctx context.Context) ([]networkingv1.IngressLoadBalancerIngress, bool) {
	cfg := w.p.cfg
	if cfg.IngressAddress == "" && cfg.PublishedService == "" {
		return nil, true
	}
	if a := strings.TrimSpace(cfg.IngressAddress); a != "" {
		if _, err := netip.ParseAddr(a); err == nil {
			return []networkingv1.IngressLoadBalancerIngress{{IP: a}}, true
		}
		return []networkingv1.IngressLoadBalancerIngress{{Hostname: a}}, true
	}
	ns, name, _ := strings.Cut(cfg.PublishedService, "/")
	svc, err := w.cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		w.p.log.Warn("reading the published service for Ingress status", "service", cfg.PublishedService, "err", err)
		return nil, false
	}
	return lbIngress(svc), true
}

func lbIngress(svc *corev1.Service) []networkingv1.IngressLoadBalancerIngress {
	var out []networkingv1.IngressLoadBalancerIngress
	for _, in := range svc.Status.LoadBalancer.Ingress {
		out = append(out, networkingv1.IngressLoadBalancerIngress{IP: in.IP, Hostname: in.Hostname})
	}
	if len(out) == 0 {
		for _, ip := range svc.Spec.ExternalIPs {
			out = append(out, networkingv1.IngressLoadBalancerIngress{IP: ip})
		}
	}
	return out
}

// write updates the status of every served Ingress whose status differs,
// then the Gateway API objects'. Ingresses of other controllers are never
// touched.
func (w *statusWriter) write(ctx context.Context) {
	want, ok := w.addresses(ctx)
	if !ok {
		return
	}
	if w.p.cfg.Gateway {
		w.writeGateway(ctx, want)
	}
	if w.p.cfg.IngressAddress == "" && w.p.cfg.PublishedService == "" {
		return
	}
	wd := w.c.world()
	b := &builder{w: &wd, s: w.p.set}
	for _, ing := range wd.Ingresses {
		if !b.ours(ing) || b.nginxAlive(ing) || sameLB(ing.Status.LoadBalancer.Ingress, want) {
			continue
		}
		up := ing.DeepCopy()
		up.Status.LoadBalancer.Ingress = want
		if _, err := w.cs.NetworkingV1().Ingresses(ing.Namespace).UpdateStatus(ctx, up, metav1.UpdateOptions{}); err != nil {
			if ctx.Err() == nil {
				w.p.log.Warn("writing Ingress status", "ingress", ing.Namespace+"/"+ing.Name, "err", err)
			}
			continue
		}
		w.p.log.Debug("ingress status written", "ingress", ing.Namespace+"/"+ing.Name)
	}
}

func sameLB(a, b []networkingv1.IngressLoadBalancerIngress) bool {
	return slices.EqualFunc(a, b, func(x, y networkingv1.IngressLoadBalancerIngress) bool {
		return x.IP == y.IP && x.Hostname == y.Hostname && len(x.Ports) == 0 && len(y.Ports) == 0
	})
}
