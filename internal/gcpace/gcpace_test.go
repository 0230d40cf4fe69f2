package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		name string
		p    Policy
		live uint64
		want int
	}{
		{"off", Policy{}, 500 * mib, 100},
		{"small live heap keeps the default", Policy{Headroom: 16 * mib}, 4 * mib, 100},
		{"live heap equal to the headroom", Policy{Headroom: 16 * mib}, 16 * mib, 100},
		{"goal is live plus headroom", Policy{Headroom: 16 * mib}, 20 * mib, 80},
		{"10,000 routes", Policy{Headroom: 16 * mib}, 28 * mib, 57},
		{"default floor", Policy{Headroom: 16 * mib}, 64 * mib, 50},
		{"own floor", Policy{Headroom: 16 * mib, Floor: 20}, 64 * mib, 25},
		{"own floor reached", Policy{Headroom: 16 * mib, Floor: 20}, 160 * mib, 20},
	} {
		if got := c.p.Percent(c.live); got != c.want {
			t.Errorf("%s: Percent(%d MiB) = %d, want %d", c.name, c.live/mib, got, c.want)
		}
	}
}

func gogc(t *testing.T) int {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// waitPercent collects until the GC percent is want, for up to 10 s.
func waitPercent(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for gogc(t) != want {
		if time.Now().After(deadline) {
			t.Fatalf("GC percent is %d after 10 s of collections, want %d", gogc(t), want)
		}
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
}

// A live heap eight times the headroom gets the floor's percent once the
// collector has run, and the default again once it is gone; Stop restores
// Go's default and pacing ends.
func TestStartPacesTheCollector(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100)) // whatever GOGC the run has
	live := make([]byte, 8<<20)
	pc := Start(Policy{Headroom: 1 << 20, Floor: 30})
	defer pc.Stop()
	waitPercent(t, 30)

	// Once the big allocation is gone, the live heap is below the
	// headroom again and the default comes back.
	runtime.KeepAlive(live)
	live = nil
	waitPercent(t, 100)

	live = make([]byte, 8<<20)
	waitPercent(t, 30)
	pc.Stop()
	if got := gogc(t); got != 100 {
		t.Fatalf("GC percent after Stop = %d, want 100", got)
	}
	for range 3 {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
	if got := gogc(t); got != 100 {
		t.Fatalf("GC percent after Stop and three collections = %d, want 100: pacing went on", got)
	}
	runtime.KeepAlive(live)
}
