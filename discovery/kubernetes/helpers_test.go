package kubernetes

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
	"github.com/rancher-edge/edge/route/rule"
)

func ptr[T any](v T) *T { return &v }

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func meta(ns, name string, age int) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(age) * time.Minute))}
}

func ourClass(def bool) *networkingv1.IngressClass {
	c := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: DefaultClass}, Spec: networkingv1.IngressClassSpec{Controller: Controller}}
	if def {
		c.Annotations = map[string]string{annotationDefaultClass: "true"}
	}
	return c
}

// path is one rule path: "Prefix:/api->svc:80" style helpers are too
// clever; tests build them with p().
func p(typ networkingv1.PathType, path, svc string, port any) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: path, PathType: ptr(typ), Backend: backend(svc, port)}
}

func backend(svc string, port any) networkingv1.IngressBackend {
	sb := &networkingv1.IngressServiceBackend{Name: svc}
	switch v := port.(type) {
	case int:
		sb.Port.Number = int32(v)
	case string:
		sb.Port.Name = v
	}
	return networkingv1.IngressBackend{Service: sb}
}

func ing(ns, name string, age int, host string, paths ...networkingv1.HTTPIngressPath) *networkingv1.Ingress {
	i := &networkingv1.Ingress{ObjectMeta: meta(ns, name, age)}
	i.Spec.IngressClassName = ptr(DefaultClass)
	if len(paths) > 0 {
		i.Spec.Rules = []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}}
	}
	return i
}

func svc(ns, name string, ports ...corev1.ServicePort) *corev1.Service {
	s := &corev1.Service{ObjectMeta: meta(ns, name, 0)}
	s.Spec.Ports = ports
	return s
}

func sport(name string, port int, target intstr.IntOrString) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: int32(port), TargetPort: target, Protocol: corev1.ProtocolTCP}
}

type ep struct {
	addr                        string
	ready, serving, terminating *bool
}

func slice(ns, svcName, sliceName, portName string, port int, eps ...ep) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{ObjectMeta: meta(ns, sliceName, 0), AddressType: discoveryv1.AddressTypeIPv4}
	s.Labels = map[string]string{labelServiceName: svcName}
	s.Ports = []discoveryv1.EndpointPort{{Name: ptr(portName), Port: ptr(int32(port)), Protocol: ptr(corev1.ProtocolTCP)}}
	for _, e := range eps {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{e.addr},
			Conditions: discoveryv1.EndpointConditions{Ready: e.ready, Serving: e.serving, Terminating: e.terminating}})
	}
	return s
}

func tlsSecret(t testing.TB, ns, name string, names ...string) *corev1.Secret {
	t.Helper()
	c, k, err := certs.SelfSigned(names, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &corev1.Secret{ObjectMeta: meta(ns, name, 0), Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: c, corev1.TLSPrivateKeyKey: k}}
}

// newWorld indexes objects the way the provider's listers do.
func newWorld(objs ...any) world {
	w := world{Services: map[string]*corev1.Service{}, Slices: map[string][]*discoveryv1.EndpointSlice{}, Secrets: map[string]*corev1.Secret{}}
	for _, o := range objs {
		switch v := o.(type) {
		case *networkingv1.Ingress:
			w.Ingresses = append(w.Ingresses, v)
		case *networkingv1.IngressClass:
			w.Classes = append(w.Classes, v)
		case *corev1.Service:
			w.Services[v.Namespace+"/"+v.Name] = v
		case *discoveryv1.EndpointSlice:
			k := v.Namespace + "/" + v.Labels[labelServiceName]
			w.Slices[k] = append(w.Slices[k], v)
		case *corev1.Secret:
			w.Secrets[v.Namespace+"/"+v.Name] = v
		default:
			panic("newWorld: unexpected object")
		}
	}
	return w
}

func defaultSettings() settings {
	return settings{classes: []string{DefaultClass}, labels: labels.Options{Provider: "kubernetes", ExposedByDefault: true}}
}

func run(t testing.TB, s settings, objs ...any) route.Snapshot {
	t.Helper()
	snap, _ := build(newWorld(objs...), s, &buildCache{})
	return snap
}

// pick is the edge's choice for a request: the highest-priority route whose
// rule matches (ties by source, as the table compiler orders them); "" for
// none.
func pick(t testing.TB, snap route.Snapshot, host, path string) string {
	t.Helper()
	best, bestPrio := "", -1
	for _, s := range snap.Services {
		r, err := rule.Parse(s.Rule)
		if err != nil {
			t.Fatalf("route %s: rule %q: %v", s.Name, s.Rule, err)
		}
		req := httptest.NewRequest("GET", "http://"+host+path, nil)
		prio := s.Priority
		if prio <= 0 {
			prio = r.Len()
		}
		if r.Match(req, host) && prio > bestPrio {
			best, bestPrio = s.Name, prio
		}
	}
	return best
}

func service(t testing.TB, snap route.Snapshot, name string) route.Service {
	t.Helper()
	for _, s := range snap.Services {
		if s.Name == name {
			return s
		}
	}
	var names []string
	for _, s := range snap.Services {
		names = append(names, s.Name)
	}
	t.Fatalf("no route %q; have %q", name, names)
	return route.Service{}
}

func urls(s route.Service) []string {
	var out []string
	for _, sv := range s.Servers {
		out = append(out, sv.URL)
	}
	return out
}

func hasProblem(snap route.Snapshot, source string, sev route.Severity, substr string) bool {
	for _, p := range snap.Problems {
		if strings.HasPrefix(p.Source.String(), source) && (sev == "" || p.Severity == sev) && strings.Contains(p.Message, substr) {
			return true
		}
	}
	return false
}

func problemList(snap route.Snapshot) string {
	var b strings.Builder
	for _, p := range snap.Problems {
		b.WriteString("\n\t" + p.String())
	}
	return b.String()
}
