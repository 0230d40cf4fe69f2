package consul

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rancher-edge/edge/discovery/consul/consultest"
	"github.com/rancher-edge/edge/route"
)

const (
	benchServices  = 500
	benchInstances = 4
)

// benchWorld is 500 services × 4 instances, as the agent would return it.
func benchWorld() world {
	w := make(world, benchServices)
	for s := range benchServices {
		name := fmt.Sprintf("svc%03d", s)
		for i := range benchInstances {
			w[name] = append(w[name], instance{
				ID: fmt.Sprintf("%s-%d", name, i), Node: "n1", NodeAddress: "10.0.0.1",
				Address: fmt.Sprintf("10.1.%d.%d", s/250, i), Port: 30000 + s, State: statePassing,
				Tags: []string{"traefik.enable=true", "traefik.tags=kubernetes", "traefik.frontend.rule=Host:" + name + ".example.com"},
			})
		}
	}
	return w
}

// BenchmarkBuild500x4 is the pure part of every sync: 500 services × 4
// instances into a snapshot.
func BenchmarkBuild500x4(b *testing.B) {
	s := mustSettings(b, Config{Constraints: []string{"tag==kubernetes"}})
	w := benchWorld()
	b.ReportAllocs()
	for b.Loop() {
		snap, _ := build(w, s)
		if len(snap.Services) != benchServices {
			b.Fatalf("%d routes", len(snap.Services))
		}
	}
}

// BenchmarkAgent500x4 runs against a real agent holding 500 services × 4
// instances with TTL checks: first-sync is New → the first snapshot with
// every route and server; change-to-live is a check turning critical (or
// passing again) → the snapshot without (with) that instance.
func BenchmarkAgent500x4(b *testing.B) {
	a := consultest.Start(b, consultest.Options{})
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for s := range benchServices {
		for i := range benchInstances {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				name := fmt.Sprintf("svc%03d", s)
				a.Register(consultest.Service{ID: fmt.Sprintf("%s-%d", name, i), Name: name,
					Address: fmt.Sprintf("10.1.%d.%d", s/250, i), Port: 30000 + s, Check: "passing",
					Tags: []string{"traefik.enable=true", "traefik.tags=kubernetes", "traefik.frontend.rule=Host:" + name + ".example.com"}})
			}()
		}
	}
	wg.Wait()
	complete := func(s route.Snapshot) bool {
		if len(s.Services) != benchServices {
			return false
		}
		for _, svc := range s.Services {
			if len(svc.Servers) != benchInstances {
				return false
			}
		}
		return true
	}
	cfg := testConfig(b, a)
	cfg.Logger = nil
	cfg.Constraints = []string{"tag==kubernetes"}

	b.Run("first-sync", func(b *testing.B) {
		for b.Loop() {
			p, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			rec := newRecorder()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { _ = p.Run(ctx, rec.publish); close(done) }()
			rec.waitFor(b, time.Minute, "every route", complete)
			cancel()
			<-done
		}
	})
	b.Run("change-to-live", func(b *testing.B) {
		_, rec := run(b, cfg)
		rec.waitFor(b, time.Minute, "every route", complete)
		n := 0
		for b.Loop() {
			name := fmt.Sprintf("svc%03d", n%benchServices)
			id := name + "-0"
			a.SetCheck(id, "critical")
			rec.waitFor(b, 10*time.Second, name+" without "+id, hasServers(name, benchInstances-1))
			a.SetCheck(id, "passing")
			rec.waitFor(b, 10*time.Second, name+" with "+id, hasServers(name, benchInstances))
			n++
		}
		// Two changes per iteration.
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(2*b.N), "ms/change")
	})
}
