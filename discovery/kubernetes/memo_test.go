package kubernetes

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
)

// TestMemoBuildsAsAFreshBuildDoes changes random worlds at random, the way
// the caches do (a changed object is a new object), and checks after each
// change that a build with the provider's memo says exactly what a build
// from nothing says: the same routes, problems (in order), certificates
// and counts. The worlds are small and crowded, so that Ingresses share
// hosts, paths, Services, Secrets and canaries.
func TestMemoBuildsAsAFreshBuildDoes(t *testing.T) {
	certs := map[string]*corev1.Secret{}
	for _, ns := range []string{"a", "b"} {
		for i := range 2 {
			name := fmt.Sprintf("cert%d", i)
			certs[ns+"/"+name] = tlsSecret(t, ns, name, "h0.test", "www.h0.test", "h1.test")
		}
	}
	replayed, afterIngress := 0, 0 // replays, and those in a rebuild an Ingress's change made
	for seed := range uint64(100) {
		r := rand.New(rand.NewPCG(seed, 7))
		m := memoWorld{t: t, r: r, certs: certs}
		m.init()
		s := defaultSettings()
		if r.IntN(2) == 0 {
			s = nginxSettings()
		}
		cache := &buildCache{}
		for step := range 40 {
			what := m.change()
			w := m.world()
			before := maps.Clone(cache.ingresses.built)
			got, gotN := build(w, s, cache)
			want, wantN := build(w, s, &buildCache{})
			if !route.SameRoutes(&got, &want) || gotN != wantN {
				t.Fatalf("seed %d, step %d (%s): the memo's build differs from a fresh one\nmemo:  %d routes %v\n%s\nfresh: %d routes %v\n%s",
					seed, step, what, len(got.Services), gotN, problemList(got), len(want.Services), wantN, problemList(want))
			}
			for ing, e := range cache.ingresses.built {
				if before[ing] == e {
					replayed++
					if strings.Contains(what, "Ingress ") {
						afterIngress++
					}
				}
			}
		}
	}
	t.Logf("%d Ingress builds replayed, %d of them after an Ingress changed", replayed, afterIngress)
	if replayed == 0 || afterIngress == 0 {
		t.Fatal("no Ingress was ever replayed (after an Ingress changed): the memo was not exercised")
	}
}

// memoWorld is a small random cluster that changes one object at a time.
type memoWorld struct {
	t        *testing.T
	r        *rand.Rand
	certs    map[string]*corev1.Secret
	classes  []any // the caches' IngressClasses: the same objects every time
	ings     []*networkingv1.Ingress
	services map[string]*corev1.Service
	slices   map[string][]any
	secrets  map[string]*corev1.Secret
	auth     map[string]*corev1.Secret
	n        int
}

var (
	memoHosts = []string{"h0.test", "www.h0.test", "h1.test", ""}
	memoPaths = []string{"/", "/api", "/api/v1"}
)

func (m *memoWorld) init() {
	m.classes = []any{ourClass(false), nginxClass()}
	m.services, m.slices, m.secrets, m.auth = map[string]*corev1.Service{}, map[string][]any{}, map[string]*corev1.Secret{}, map[string]*corev1.Secret{}
	for _, ns := range []string{"a", "b"} {
		for i := range 3 {
			m.setService(ns, fmt.Sprintf("s%d", i))
			m.setSlices(ns, fmt.Sprintf("s%d", i))
		}
		m.secrets[ns+"/cert0"] = m.certs[ns+"/cert0"]
		m.setAuth(ns)
	}
	for range 6 + m.r.IntN(4) {
		m.ings = append(m.ings, m.newIngress())
	}
}

func (m *memoWorld) setService(ns, name string) {
	port := "http"
	if m.r.IntN(6) == 0 {
		port = "other" // paths to it are skipped: no such port
	}
	m.services[ns+"/"+name] = svc(ns, name, sport(port, 80, intstr.FromInt(8080)))
}

func (m *memoWorld) setSlices(ns, name string) {
	var eps []ep
	for i := range m.r.IntN(3) {
		eps = append(eps, ep{addr: fmt.Sprintf("10.0.%d.%d", m.r.IntN(3), i+1), ready: ptr(m.r.IntN(4) != 0)})
	}
	m.slices[ns+"/"+name] = []any{slice(ns, name, name+"-a", "http", 8080, eps...)}
}

func (m *memoWorld) setAuth(ns string) {
	users := []string{"alice:{SHA}abc=", "bob:{SHA}def=", "\n"}[m.r.IntN(3)]
	m.auth[ns+"/users"] = &corev1.Secret{Data: map[string][]byte{"auth": []byte(users)}}
}

func (m *memoWorld) newIngress() *networkingv1.Ingress {
	m.n++
	ns := []string{"a", "b"}[m.r.IntN(2)]
	var paths []networkingv1.HTTPIngressPath
	for range 1 + m.r.IntN(2) {
		typ := prefix
		if m.r.IntN(4) == 0 {
			typ = networkingv1.PathTypeExact
		}
		paths = append(paths, p(typ, memoPaths[m.r.IntN(len(memoPaths))], fmt.Sprintf("s%d", m.r.IntN(4)), []any{80, "http"}[m.r.IntN(2)]))
	}
	i := ing(ns, fmt.Sprintf("i%d", m.n), m.r.IntN(5), memoHosts[m.r.IntN(len(memoHosts))], paths...)
	switch m.r.IntN(6) {
	case 0, 1:
		i.Spec.IngressClassName = ptr(NginxClass)
	case 2:
		i.Spec.IngressClassName = nil // the default class's
	}
	i.Annotations = map[string]string{}
	for _, kv := range [][2]string{ // in a fixed order: the seed decides the world
		{labels.NginxPrefix + "canary-weight", "30"},
		{labels.NginxPrefix + "canary-by-header", "X-Canary"},
		{labels.NginxPrefix + "use-regex", "true"},
		{labels.NginxPrefix + "from-to-www-redirect", "true"},
		{labels.NginxPrefix + "service-upstream", "true"},
		{labels.NginxPrefix + "server-alias", "h1.test"},
		{labels.AnnotationPrefix + "auth-type", "basic"},
		{labels.AnnotationLegacyPrefix + "auth-secret", "users"},
	} {
		if m.r.IntN(5) == 0 {
			i.Annotations[kv[0]] = kv[1]
		}
	}
	if m.r.IntN(4) == 0 {
		i.Annotations[labels.NginxPrefix+"canary"] = "true"
	}
	if m.r.IntN(3) == 0 {
		host := i.Spec.Rules
		var hosts []string
		if len(host) > 0 && host[0].Host != "" {
			hosts = []string{host[0].Host}
		}
		i.Spec.TLS = []networkingv1.IngressTLS{{Hosts: hosts, SecretName: fmt.Sprintf("cert%d", m.r.IntN(2))}}
	}
	return i
}

// change changes one object, as an informer event would, and says what.
func (m *memoWorld) change() string {
	ns := []string{"a", "b"}[m.r.IntN(2)]
	name := fmt.Sprintf("s%d", m.r.IntN(4))
	switch k := m.r.IntN(10); {
	case k < 4:
		m.setSlices(ns, name)
		return "endpoints of " + ns + "/" + name
	case k == 4:
		if m.r.IntN(3) == 0 {
			delete(m.services, ns+"/"+name)
			return "Service " + ns + "/" + name + " deleted"
		}
		m.setService(ns, name)
		return "Service " + ns + "/" + name
	case k == 5:
		key := ns + "/" + fmt.Sprintf("cert%d", m.r.IntN(2))
		if _, ok := m.secrets[key]; ok && m.r.IntN(2) == 0 {
			delete(m.secrets, key)
			return "Secret " + key + " deleted"
		}
		c := *m.certs[key] // a new object, the same content
		m.secrets[key] = &c
		return "Secret " + key
	case k == 6:
		m.setAuth(ns)
		return "auth Secret of " + ns
	case k == 7:
		i := m.r.IntN(len(m.ings))
		if m.r.IntN(2) == 0 {
			m.ings[i] = m.newIngress()
			return "Ingress " + m.ings[i].Name + " replaced"
		}
		// Edited in place: the same name and age, in the same place in
		// the build order, with another spec and annotations.
		n := m.newIngress()
		n.ObjectMeta = *m.ings[i].ObjectMeta.DeepCopy()
		n.Annotations = m.newIngress().Annotations
		m.ings[i] = n
		return "Ingress " + n.Name + " edited"
	case k == 8 && (len(m.ings) > 9 || (len(m.ings) > 2 && m.r.IntN(2) == 0)):
		i := m.r.IntN(len(m.ings))
		m.ings = slices.Delete(m.ings, i, i+1)
		return "an Ingress deleted"
	case k == 8:
		m.ings = append(m.ings, m.newIngress())
		return "Ingress " + m.ings[len(m.ings)-1].Name + " added"
	case k == 9 && m.r.IntN(3) == 0:
		def := m.r.IntN(2) == 0 // the edge's class the default, or not
		if m.r.IntN(2) == 0 {
			m.classes = []any{ourClass(def)} // ingress-nginx's IngressClass deleted
			return fmt.Sprintf("IngressClasses: ours (default %v) only", def)
		}
		m.classes = []any{ourClass(def), nginxClass()}
		return fmt.Sprintf("IngressClasses: ours (default %v) and nginx", def)
	}
	return "nothing"
}

func (m *memoWorld) world() world {
	objs := slices.Clone(m.classes)
	for _, i := range m.ings {
		objs = append(objs, i)
	}
	for _, s := range m.services {
		objs = append(objs, s)
	}
	for _, l := range m.slices {
		objs = append(objs, l...)
	}
	for _, s := range m.secrets {
		objs = append(objs, s)
	}
	w := newWorld(objs...)
	w.AuthSecrets = m.auth
	return w
}
