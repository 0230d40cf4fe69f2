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
// the Ingresses that route to that Service, not every Ingress; an Ingress
// changed rebuilds that Ingress and those its change reaches.
//
// Correctness rests on three facts:
//
//   - The caches hand out immutable objects: an update replaces an object
//     with a new one (client-go's rule, which the provider keeps), so the
//     same pointer means the same object.
//   - An Ingress's build reads the world (Services, EndpointSlices,
//     Secrets) and what the Ingresses built before it left in the builder
//     (claimed hosts and paths, canaries, host names, and the hosts with
//     TLS or regex paths), all through the recording lookups below. It
//     reads the IngressClasses and the settings too: the memo is used
//     only while those are the ones it was filled with.
//   - Ingresses are built one after the other, in a fixed order, and a
//     replay checks each read against the builder as it is at that
//     Ingress's turn. A changed Ingress (a new object) is built; any later
//     Ingress that read what it claimed, or did not claim before, sees a
//     different answer and is built too.
//
// TestMemoBuildsAsAFreshBuildDoes checks random changes to random worlds
// against building from nothing.
type ingressMemo struct {
	settings settings
	classes  []*networkingv1.IngressClass
	built    map[*networkingv1.Ingress]*ingressBuilt
	// gen numbers the builds: an entry not used by the last one is of an
	// Ingress that is gone, or no longer served, and is dropped.
	gen uint64
	// last is the size of the last build, to size the next one's.
	last struct{ services, claims, seen int }
}

// ingressBuilt is one Ingress's build: what it read and what it left in
// the builder.
type ingressBuilt struct {
	gen      uint64 // the last build that used it
	reads    []read
	services []route.Service
	problems []route.Problem
	claims   []claimed
	hosts    []string // names taken by from-to-www redirects
	canaries []string // canary keys this Ingress's paths joined
	certs    []certUse
	seen     []seenService
}

// read is one lookup, in the world or in the builder, and its answer.
type read struct {
	kind   readKind
	key    string
	svc    *corev1.Service
	secret *corev1.Secret
	slices []*discoveryv1.EndpointSlice
	ing    *networkingv1.Ingress // a claimant's, a canary's
	ok     bool                  // a host set's answer
}

type readKind uint8

const (
	readService readKind = iota
	readSlices
	readSecret
	readAuthSecret
	readClaim
	readCanary
	readHost
	readTLSHost
	readRegexHost
)

type claimed struct {
	key string
	ing *networkingv1.Ingress
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

// prepare readies the memo for a build with w's classes and settings s:
// unless it was filled for exactly those, it is emptied and set up for
// them.
func (m *ingressMemo) prepare(w *world, s settings) {
	m.gen++
	if m.built != nil && slices.Equal(m.classes, w.Classes) && reflect.DeepEqual(m.settings, s) {
		return
	}
	*m = ingressMemo{
		settings: s,
		classes:  slices.Clone(w.Classes),
		built:    make(map[*networkingv1.Ingress]*ingressBuilt, len(w.Ingresses)),
		gen:      m.gen,
		last:     m.last,
	}
}

// sweep drops the entries the build that just ended did not use.
func (m *ingressMemo) sweep() {
	for ing, e := range m.built {
		if e.gen != m.gen {
			delete(m.built, ing)
		}
	}
}

// current reports whether every read of e gives the same answer now, in
// b's world and in what b has built so far.
func (e *ingressBuilt) current(b *builder) bool {
	w := b.w
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
		case readClaim:
			if b.claimed[r.key] != r.ing {
				return false
			}
		case readCanary:
			if canaryIngress(b.canaries[r.key]) != r.ing {
				return false
			}
		case readHost:
			if b.hosts[r.key] != r.ok {
				return false
			}
		case readTLSHost:
			if b.nginxTLS[r.key] != r.ok {
				return false
			}
		case readRegexHost:
			if b.nginxRegex[r.key] != r.ok {
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
	if e := memo.built[ing]; e != nil && e.current(b) {
		e.gen = memo.gen
		b.replay(e)
		return
	}
	rec := &ingressBuilt{gen: memo.gen}
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
		b.claim(c.key, c.ing)
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

// What the Ingresses built before leave for an Ingress's build is read
// through these, which record it too.

// claimant is the Ingress that claimed the host and path key first.
func (b *builder) claimant(key string) (*networkingv1.Ingress, bool) {
	ing, ok := b.claimed[key]
	if b.rec != nil {
		b.rec.reads = append(b.rec.reads, read{kind: readClaim, key: key, ing: ing})
	}
	return ing, ok
}

// canaryAt is the canary of the host and path key; nil when there is none.
func (b *builder) canaryAt(key string) *canary {
	c := b.canaries[key]
	if b.rec != nil {
		b.rec.reads = append(b.rec.reads, read{kind: readCanary, key: key, ing: canaryIngress(c)})
	}
	return c
}

// canaryIngress is c's Ingress, which decides the rest of c: its backend
// and segment are those of its first path with c's key.
func canaryIngress(c *canary) *networkingv1.Ingress {
	if c == nil {
		return nil
	}
	return c.ing
}

// hostServed reports a host some served Ingress has a rule for, or that a
// from-to-www redirect took.
func (b *builder) hostServed(host string) bool {
	return b.readSet(readHost, b.hosts, host)
}

// tlsHost reports a host some served ingress-nginx Ingress lists in
// spec.tls.
func (b *builder) tlsHost(host string) bool {
	return b.readSet(readTLSHost, b.nginxTLS, host)
}

// regexHost reports a host some served ingress-nginx Ingress has regex
// paths on.
func (b *builder) regexHost(host string) bool {
	return b.readSet(readRegexHost, b.nginxRegex, host)
}

func (b *builder) readSet(kind readKind, set map[string]bool, key string) bool {
	ok := set[key]
	if b.rec != nil {
		b.rec.reads = append(b.rec.reads, read{kind: kind, key: key, ok: ok})
	}
	return ok
}

// What an Ingress's build leaves for the rest of the build goes through
// these, which record it.

func (b *builder) claim(key string, ing *networkingv1.Ingress) {
	b.claimed[key] = ing
	if b.rec != nil {
		b.rec.claims = append(b.rec.claims, claimed{key, ing})
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
