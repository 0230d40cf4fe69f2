package rancher

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rancher-edge/edge/edge"
	"github.com/rancher-edge/edge/route"

	"github.com/rancher-edge/edge/discovery/rancher/ranchertest"
)

// bigFake is a fake Rancher serving 2,000 services × 3 containers in 20
// stacks.
func bigFake(b *testing.B) *ranchertest.Server {
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
	return s
}

// BenchmarkSync measures one full sync of 2,000 services × 3 containers:
// reading every page from the fake over loopback (HTTP, JSON decoding), joining, filtering and building the snapshot
// with labels.Build.
func BenchmarkSync(b *testing.B) {
	s := bigFake(b)
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
	w := world{raw: bigWorld()}
	set := defaults().settings()
	frame := []byte(`{"id":"1i0_0_0","type":"container","name":"c0","state":"running","healthState":"unhealthy",` +
		`"primaryIpAddress":"10.42.0.0","labels":{"io.rancher.stack_service.name":"stack00/svc000"}}`)
	b.ReportAllocs()
	for b.Loop() {
		pt, ok := decodePatch("container", frame)
		if !ok {
			b.Fatal("frame did not decode")
		}
		w.apply([]patch{pt})
		snap, _ := build(w.raw, set)
		if len(snap.Services) != 2000 || len(snap.Services[0].Servers) != 2 {
			b.Fatalf("%d routes, %d servers", len(snap.Services), len(snap.Services[0].Servers))
		}
	}
}

// bigPages serves the 2,000 × 3 world from the fake and keeps every page
// of the three collections as the fake wrote it (about 45 MB of real
// Rancher payloads).
func bigPages(b *testing.B) (stacks, services, containers [][]byte) {
	s := bigFake(b)
	ak, sk := s.EnvironmentKey()
	read := func(name string) (pages [][]byte) {
		for u := s.ProjectURL() + "/" + name + "?limit=" + strconv.Itoa(defaultPageLimit); u != ""; {
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			req.SetBasicAuth(ak, sk)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("%s: %d %v", u, resp.StatusCode, err)
			}
			pages = append(pages, body)
			var n int
			if u, n, err = decodePage(bytes.NewReader(body), func(*struct{}) {}); err != nil || n == 0 {
				b.Fatalf("%s: %d resources, %v", name, n, err)
			}
		}
		return pages
	}
	return read("stacks"), read("services"), read("containers")
}

// decodePages decodes stored pages as the provider decodes them from the
// network.
func decodePages(b *testing.B, stacks, services, containers [][]byte) raw {
	var r raw
	decodeAll(b, stacks, func(s *wireStack) { r.Stacks = append(r.Stacks, s.raw()) })
	decodeAll(b, services, func(s *wireService) { r.Services = append(r.Services, s.raw()) })
	decodeAll(b, containers, func(c *wireContainer) { r.Containers = append(r.Containers, c.raw()) })
	return r
}

func decodeAll[T any](b *testing.B, pages [][]byte, each func(*T)) {
	for _, p := range pages {
		if _, _, err := decodePage(bytes.NewReader(p), each); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFullSync measures what the edge spends between Rancher's pages
// and its first full routing table for 2,000 services × 3 containers:
// decoding the pages (held in memory: the fake's own work of writing them
// is not the edge's; BenchmarkSync reads them over loopback), building the
// snapshot, and compiling the table of a fresh edge. Issue #21's target is
// 250 ms.
func BenchmarkFullSync(b *testing.B) {
	stacks, services, containers := bigPages(b)
	var size int
	for _, p := range slices.Concat(stacks, services, containers) {
		size += len(p)
	}
	set := defaults().settings()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		r := decodePages(b, stacks, services, containers)
		snap, _ := build(r, set)
		e, err := edge.New(edge.Config{HTTPAddr: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		if t := e.Update(snap); len(t.Routes()) != 2000 {
			b.Fatalf("%d routes", len(t.Routes()))
		}
		e.Close()
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// BenchmarkEventToTable measures one resource.change event in the 2,000 × 3
// world, from the event's resource to the edge's new table, through the
// provider's own path: decoding the resource, patching the world,
// preparing, fingerprinting and assembling the routes (with what the
// previous build left), and compiling the table over the previous one
// (issue #21's target: 5 ms).
func BenchmarkEventToTable(b *testing.B) {
	stacks, services, containers := bigPages(b)
	r := decodePages(b, stacks, services, containers)
	cfg := defaults()
	cfg.Logger = slog.New(slog.DiscardHandler)
	p, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	e, err := edge.New(edge.Config{HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	var gen uint64
	l := &loop{world: &world{raw: r}, logged: map[string]bool{}, publish: func(s route.Snapshot) { gen = e.Update(s).Generation() }}
	p.publishFrom(l, r)
	// The event flips one container's health, so that every event changes
	// the routes: an unhealthy container leaves its service, then returns.
	c := r.Containers[0]
	var frames [2][]byte
	for i, health := range []string{"unhealthy", "healthy"} {
		frames[i] = fmt.Appendf(nil, `{"id":%q,"type":"container","name":%q,"state":"running","healthState":%q,`+
			`"primaryIpAddress":%q,"labels":{"io.rancher.stack_service.name":%q}}`, c.ID, c.Name, health, c.IP, c.StackService)
	}
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		pt, ok := decodePatch("container", frames[n%2])
		if !ok {
			b.Fatal("frame did not decode")
		}
		p.applyPatches(l, []patch{pt})
		if n++; gen != uint64(n+1) {
			b.Fatalf("event %d gave table generation %d: no change", n, gen)
		}
	}
	// Wall time on a shared machine counts the waits for a core; the
	// process's CPU time, the collector's included, is what an event
	// costs.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
