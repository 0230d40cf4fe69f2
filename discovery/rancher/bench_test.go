package rancher

import (
	"context"
	"fmt"
	"testing"

	"github.com/rancher-edge/edge/discovery/rancher/ranchertest"
)

// BenchmarkSync measures one full sync of 2,000 services × 3 containers:
// reading every page through go-rancher from the fake over loopback
// (HTTP, JSON decoding), joining, filtering and building the snapshot
// with labels.Build.
func BenchmarkSync(b *testing.B) {
	s := fake(b, ranchertest.Options{})
	for st := range 20 {
		stack := s.AddStack(ranchertest.StackSpec{Name: fmt.Sprintf("stack%02d", st)})
		for i := range 100 {
			s.AddService(stack, ranchertest.ServiceSpec{
				Name:        fmt.Sprintf("svc%03d", i),
				Labels:      map[string]string{"traefik.port": "8080", "traefik.frontend.entryPoints": "http,https"},
				HealthCheck: true,
				Scale:       3,
			})
		}
	}
	cfg := testConfig(s, b).withDefaults()
	l, err := connect(cfg, defaultPageLimit)
	if err != nil {
		b.Fatal(err)
	}
	set := cfg.settings()
	ctx := context.Background()
	// Warm the fake's rendering cache so that the loop measures the client.
	if _, err := readAll(ctx, l); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := readAll(ctx, l)
		if err != nil {
			b.Fatal(err)
		}
		snap, _ := build(r, set)
		if len(snap.Services) != 2000 || len(snap.Services[0].Servers) != 3 {
			b.Fatalf("%d routes", len(snap.Services))
		}
	}
}

// bigWorld is 2,000 services × 3 containers in 20 stacks.
func bigWorld() raw {
	var r raw
	for st := range 20 {
		stackID := fmt.Sprintf("1st%d", st)
		r.Stacks = append(r.Stacks, rawStack{ID: stackID, Name: fmt.Sprintf("stack%02d", st), State: "active"})
		for i := range 100 {
			name := fmt.Sprintf("svc%03d", i)
			r.Services = append(r.Services, rawService{
				ID: fmt.Sprintf("1s%d_%d", st, i), StackID: stackID, Name: name, Kind: "service", State: "active", Health: "healthy",
				Labels: map[string]string{"traefik.port": "8080", "traefik.frontend.entryPoints": "http,https"},
			})
			for c := range 3 {
				r.Containers = append(r.Containers, rawContainer{
					ID: fmt.Sprintf("1i%d_%d_%d", st, i, c), Name: fmt.Sprintf("c%d", c), State: "running", Health: "healthy",
					IP: fmt.Sprintf("10.42.%d.%d", i, c+st*3), StackService: fmt.Sprintf("stack%02d/%s", st, name),
				})
			}
		}
	}
	return r
}

// BenchmarkBuild measures the pure part of a sync of 2,000 services × 3
// containers: join, filter, fingerprint and labels.Build.
func BenchmarkBuild(b *testing.B) {
	r := bigWorld()
	set := defaults().settings()
	b.ReportAllocs()
	for b.Loop() {
		snap, _ := build(r, set)
		if len(snap.Services) != 2000 {
			b.Fatalf("%d routes", len(snap.Services))
		}
	}
}

// BenchmarkEventPatch measures what one resource.change event costs in a
// 2,000 × 3 world: decoding the event's resource, patching the world and
// rebuilding the snapshot — the work between Rancher's event and the
// publish, without reading the API again.
func BenchmarkEventPatch(b *testing.B) {
	r := bigWorld()
	set := defaults().settings()
	frame := []byte(`{"id":"1i0_0_0","type":"container","name":"c0","state":"running","healthState":"unhealthy",` +
		`"primaryIpAddress":"10.42.0.0","labels":{"io.rancher.stack_service.name":"stack00/svc000"}}`)
	b.ReportAllocs()
	for b.Loop() {
		pt, ok := decodePatch("container", frame)
		if !ok {
			b.Fatal("frame did not decode")
		}
		w := apply(r, []patch{pt})
		snap, _ := build(w, set)
		if len(snap.Services) != 2000 || len(snap.Services[0].Servers) != 2 {
			b.Fatalf("%d routes, %d servers", len(snap.Services), len(snap.Services[0].Servers))
		}
	}
}
