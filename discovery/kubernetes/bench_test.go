package kubernetes

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// scaleWorld is the scale: 1,000 Ingresses (two paths each, a TLS
// Secret on every tenth), 2,000 Services and 10,000 ready endpoints.
func scaleWorld(b testing.TB) []any {
	objs := []any{ourClass(false)}
	for i := range 2000 {
		ns := fmt.Sprintf("ns%d", i/40)
		name := fmt.Sprintf("svc%d", i)
		objs = append(objs, svc(ns, name, sport("http", 80, intstr.FromInt(8080))))
		var eps []ep
		for j := range 5 {
			eps = append(eps, ep{addr: fmt.Sprintf("10.%d.%d.%d", i/250, i%250, j+1), ready: yes})
		}
		objs = append(objs, slice(ns, name, name+"-a", "http", 8080, eps...))
	}
	for i := range 1000 {
		// Services 2i and 2i+1 share namespace 2i/40.
		in := ing(fmt.Sprintf("ns%d", 2*i/40), fmt.Sprintf("ing%d", i), i, fmt.Sprintf("app%d.example.com", i),
			p(prefix, "/", fmt.Sprintf("svc%d", 2*i), 80), p(prefix, "/api", fmt.Sprintf("svc%d", 2*i+1), 80))
		objs = append(objs, in)
	}
	return objs
}

// BenchmarkBuildScale measures one full build at the scale: what
// the first build costs, and any after the IngressClasses or the settings
// changed (every Ingress is built again), the comparison with the last
// snapshot included (here it finds every route the same, its longest).
func BenchmarkBuildScale(b *testing.B) {
	w := newWorld(scaleWorld(b)...)
	chk := &buildCache{}
	s := defaultSettings()
	snap, n := build(w, s, chk)
	if len(snap.Services) != 2000 || n.services != 2000 || n.endpoints != 10000 {
		b.Fatalf("routes %d, endpoints %d", len(snap.Services), n.endpoints)
	}
	var fp stamper
	fp.stamp(&snap)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		chk.ingresses = ingressMemo{} // what an IngressClass change does
		snap, _ := build(w, s, chk)
		if fp.stamp(&snap) {
			b.Fatal("the same world built again says something new")
		}
	}
	// Wall time on a shared machine counts the waits for a core; the CPU
	// time is what a rebuild costs.
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkEndpointChangeScale measures the commonest rebuild at the
// issue's scale: one EndpointSlice replaced (an endpoint turning ready or
// not), from the caches' world to the stamped snapshot.
func BenchmarkEndpointChangeScale(b *testing.B) {
	benchChange(b, "an endpoint turning ready or not", func(w *world, n int) {
		// Service i flips its last endpoint; the world is the caches'
		// view, with the new slice object in place of the old.
		i := n % 2000
		key := fmt.Sprintf("ns%d/svc%d", i/40, i)
		nsl := w.Slices[key][0].DeepCopy()
		last := &nsl.Endpoints[len(nsl.Endpoints)-1].Conditions
		last.Ready = ptr(last.Ready != nil && !*last.Ready)
		w.Slices[key] = []*discoveryv1.EndpointSlice{nsl}
	})
}

// BenchmarkIngressChangeScale measures a rebuild after one Ingress was
// edited (a path sent to another Service, as a deploy does), in the same
// world: the edited Ingress is built, every other one replayed.
func BenchmarkIngressChangeScale(b *testing.B) {
	benchChange(b, "an Ingress edited", func(w *world, n int) {
		// Ingress i's /api path goes to its other Service, and back on
		// the next pass; the world holds the edited Ingress in place of
		// the old one.
		i := n % 1000
		edited := w.Ingresses[i].DeepCopy()
		be := edited.Spec.Rules[0].HTTP.Paths[1].Backend.Service
		be.Name = fmt.Sprintf("svc%d", 2*i)
		if (n/1000)%2 == 1 {
			be.Name = fmt.Sprintf("svc%d", 2*i+1)
		}
		w.Ingresses[i] = edited
	})
}

// benchChange builds the world, then measures change n (which
// must change the routes: one that does not fails the benchmark) and the
// rebuild after it, to the stamped snapshot, in CPU time per change.
func benchChange(b *testing.B, what string, change func(w *world, n int)) {
	w := newWorld(scaleWorld(b)...)
	chk := &buildCache{}
	s := defaultSettings()
	snap, _ := build(w, s, chk)
	var fp stamper
	fp.stamp(&snap)
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		change(&w, n)
		snap, _ := build(w, s, chk)
		if !fp.stamp(&snap) {
			b.Fatal(what + " changed nothing")
		}
		n++
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
