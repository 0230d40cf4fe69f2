package metadata

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/rancher-edge/edge/discovery/cattle"
	md "github.com/rancher-edge/edge/discovery/metadata/metadatatest"
	"github.com/rancher-edge/edge/route"
)

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFirstSync measures what the provider's first sync of 2,000
// services × 3 containers costs against the real server: reading
// /latest/stacks over loopback, decoding it, joining, filtering and
// building the snapshot. cpu-ms/op is the provider's own CPU (this
// process's), the server's excluded.
func BenchmarkFirstSync(b *testing.B) {
	s := md.Start(b, bigWorld())
	cfg := testConfig(s, b).withDefaults()
	c := newClient(cfg)
	set := cfg.settings()
	ctx := context.Background()
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		w, err := c.stacks(ctx)
		if err != nil {
			b.Fatal(err)
		}
		snap, _ := cattle.Build(w, set)
		if len(snap.Services) != 2000 || len(snap.Services[0].Servers) != 3 {
			b.Fatalf("%d routes", len(snap.Services))
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkChange measures one change end to end in a 2,000-service world:
// the server's reload (regenerating its answers), the long poll's return,
// the read and the build, until the provider publishes.
func BenchmarkChange(b *testing.B) {
	w := bigWorld()
	s := md.Start(b, w)
	cfg := testConfig(s, b)
	cfg.Logger = nil
	p, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	published := make(chan int, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- p.Run(ctx, func(sn route.Snapshot) { published <- len(sn.Services[0].Servers) })
	}()
	defer func() { cancel(); <-done }()
	<-published
	n := 3
	var reload, after time.Duration
	for b.Loop() {
		n = 5 - n // 3 ↔ 2 servers on the first service
		w.Stacks[0].Services[0].Containers[2].Health = map[int]string{2: "unhealthy", 3: "healthy"}[n]
		start := time.Now()
		if err := s.Publish(w); err != nil {
			b.Fatal(err)
		}
		reloaded := time.Now()
		for got := <-published; got != n; got = <-published {
		}
		reload += reloaded.Sub(start)
		after += time.Since(reloaded)
	}
	// reload-ms is the server regenerating its answers (Rancher's side);
	// publish-ms is from the reload to the provider's publish.
	b.ReportMetric(float64(reload.Milliseconds())/float64(b.N), "reload-ms/op")
	b.ReportMetric(float64(after.Milliseconds())/float64(b.N), "publish-ms/op")
}
