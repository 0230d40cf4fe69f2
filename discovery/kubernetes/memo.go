package kubernetes

import (
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/rancher-edge/edge/route"
)

// ingressMemo keeps what each Ingress built in the last rebuild and what
// it read to build it, so that the next rebuild replays an Ingress whose
// reads give the same answers instead of building it again. Most changes
// in a cluster are endpoints turning ready or not: such a change rebuilds
// the Ingresses that route to that Service, not every Ingress.
//
// Correctness rests on two facts:
//
//   - The caches hand out immutable objects: an update replaces an object
//     with a new one (client-go's rule, which the provider keeps), so the
//     same pointer means the same object.
//   - What one Ingress's build leaves for the next (claimed hosts and
//     paths, host names, canaries, from-to-www names) follows from the
//     Ingresses alone. The memo is therefore used only while the Ingresses
//     in build order, the IngressClasses and the settings are those it was
//     filled with; any change there builds everything again. Within that,
//     an Ingress's build depends on the Services, EndpointSlices and
//     Secrets it looked up, which it records.
//
// TestMemoBuildsAsAFreshBuildDoes checks random changes to random worlds
// against building from nothing.
type ingressMemo struct {
	settings  settings
	ingresses []*networkingv1.Ingress // in build order
	classes   []*networkingv1.IngressClass
	built     map[*networkingv1.Ingress]*ingressBuilt
	// last is the size of the last build, to size the next one's.
	last struct{ services, claims, seen int }
}

// ingressBuilt is one Ingress's build: what it read and what it left in
// the builder.
type ingressBuilt struct {
	reads    []read
	services []route.Service
	problems []route.Problem
	claims   []claimed
	hosts    []string // names taken by from-to-www redirects
	canaries []string // canary keys this Ingress's paths joined
	certs    []certUse
	seen     []seenService
}

// read is one lookup in the world and its answer.
type read struct {
	kind   readKind
	key    string
	svc    *corev1.Service
	secret *corev1.Secret
	slices []*discoveryv1.EndpointSlice
}

type readKind uint8

const (
	readService readKind = iota
	readSlices
	readSecret
	readAuthSecret
)

type claimed struct {
	key string
	c   claim
}

// certUse is one TLS Secret an Ingress serves, and for which hosts.
type certUse struct {
	namespace, name string
	certPEM, keyPEM []byte
	hosts           []string
}

// seenService is a Service whose endpoints an Ingress resolved, for the
// counts.
type seenService struct {
	key       string
	endpoints int
}

// prepare readies the memo for a build of ings (in build order) with w's
// classes and settings s: unless it was filled for exactly those, it is
// emptied and set up for them.
func (m *ingressMemo) prepare(ings []*networkingv1.Ingress, w *world, s settings) {
	if m.built != nil && slices.Equal(m.ingresses, ings) && slices.Equal(m.classes, w.Classes) && reflect.DeepEqual(m.settings, s) {
		return
	}
	*m = ingressMemo{
		settings:  s,
		ingresses: slices.Clone(ings),
		classes:   slices.Clone(w.Classes),
		built:     make(map[*networkingv1.Ingress]*ingressBuilt, len(ings)),
		last:      m.last,
	}
}

// current reports whether every read of e gives the same answer in w.
func (e *ingressBuilt) current(w *world) bool {
	for i := range e.reads {
		r := &e.reads[i]
		switch r.kind {
		case readService:
			if w.Services[r.key] != r.svc {
				return false
			}
		case readSlices:
			if !slices.Equal(w.Slices[r.key], r.slices) {
				return false
			}
		case readSecret:
			if w.Secrets[r.key] != r.secret {
				return false
			}
		case readAuthSecret:
			if w.AuthSecrets[r.key] != r.secret {
				return false
			}
		}
	}
	return true
}

// buildIngress builds ing, or replays its last build when the memo holds
// a current one, and records the build for the next rebuild.
func (b *builder) buildIngress(ing *networkingv1.Ingress, nginx bool) {
	memo := &b.chk.ingresses
	if e := memo.built[ing]; e != nil && e.current(b.w) {
		b.replay(e)
		return
	}
	rec := &ingressBuilt{}
	services, problems := len(b.services), len(b.problems)
	b.rec = rec
	b.ingress(ing, nginx)
	b.rec = nil
	rec.services = slices.Clone(b.services[services:])
	rec.problems = slices.Clone(b.problems[problems:])
	memo.built[ing] = rec
}

// replay leaves in the builder what e's build left.
func (b *builder) replay(e *ingressBuilt) {
	for _, c := range e.claims {
		b.claim(c.key, c.c)
	}
	for _, h := range e.hosts {
		b.takeHost(h)
	}
	for _, k := range e.canaries {
		b.joinCanary(k, b.canaries[k])
	}
	for _, c := range e.certs {
		b.addCert(c.namespace, c.name, c.certPEM, c.keyPEM, c.hosts)
	}
	for _, s := range e.seen {
		b.countService(s.key, s.endpoints)
	}
	b.services = append(b.services, e.services...)
	b.problems = append(b.problems, e.problems...)
}

// The world's lookups an Ingress's build makes go through these, which
// record them while an Ingress is being built.

func (b *builder) service(key string) *corev1.Service {
	svc := b.w.Services[key]
	if b.rec != nil {
		b.rec.reads = append(b.rec.reads, read{kind: readService, key: key, svc: svc})
	}
	return svc
}

func (b *builder) endpointSlices(key string) []*discoveryv1.EndpointSlice {
	sl := b.w.Slices[key]
	if b.rec != nil {
		b.rec.reads = append(b.rec.reads, read{kind: readSlices, key: key, slices: sl})
	}
	return sl
}

func (b *builder) tlsSecret(key string) *corev1.Secret {
	sec := b.w.Secrets[key]
	if b.rec != nil {
		b.rec.reads = append(b.rec.reads, read{kind: readSecret, key: key, secret: sec})
	}
	return sec
}

func (b *builder) authSecret(key string) *corev1.Secret {
	sec := b.w.AuthSecrets[key]
	if b.rec != nil {
		b.rec.reads = append(b.rec.reads, read{kind: readAuthSecret, key: key, secret: sec})
	}
	return sec
}

// What an Ingress's build leaves for the rest of the build goes through
// these, which record it.

func (b *builder) claim(key string, c claim) {
	b.claimed[key] = c
	if b.rec != nil {
		b.rec.claims = append(b.rec.claims, claimed{key, c})
	}
}

func (b *builder) takeHost(host string) {
	b.hosts[host] = true
	if b.rec != nil {
		b.rec.hosts = append(b.rec.hosts, host)
	}
}

func (b *builder) joinCanary(key string, c *canary) {
	c.used = true
	if b.rec != nil {
		b.rec.canaries = append(b.rec.canaries, key)
	}
}

// addCert serves the certificate of the TLS Secret namespace/name for
// hosts.
func (b *builder) addCert(namespace, name string, crt, k []byte, hosts []string) {
	key := namespace + "/" + name
	c := b.certs[key]
	if c == nil {
		c = &route.Certificate{Source: route.Source{Provider: "kubernetes", Stack: namespace, Service: name}, CertPEM: crt, KeyPEM: k}
		b.certs[key] = c
	}
	c.Hosts = append(c.Hosts, hosts...)
	if b.rec != nil {
		b.rec.certs = append(b.rec.certs, certUse{namespace: namespace, name: name, certPEM: crt, keyPEM: k, hosts: hosts})
	}
}

// countService counts a Service and its endpoints the first time a build
// resolves it.
func (b *builder) countService(key string, endpoints int) {
	if b.rec != nil {
		b.rec.seen = append(b.rec.seen, seenService{key, endpoints})
	}
	if b.seenSvc[key] {
		return
	}
	if b.seenSvc == nil { // the Gateway API builder's backend resolution
		b.seenSvc = map[string]bool{}
	}
	b.seenSvc[key] = true
	b.counts.services++
	b.counts.endpoints += endpoints
}
