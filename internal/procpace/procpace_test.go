package procpace

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	p := Policy{Max: 8}
	for _, c := range []struct {
		name  string
		s     State
		cores float64
		want  State
	}{
		{"idle on one P", State{Procs: 1}, 0.1, State{Procs: 1}},
		{"busy once: wait for a second interval", State{Procs: 1}, 0.85, State{Procs: 1, Hot: 1}},
		{"busy twice: double", State{Procs: 1, Hot: 1}, 0.85, State{Procs: 2}},
		{"full: double at once", State{Procs: 1}, 0.97, State{Procs: 2}},
		{"busy on four: eight", State{Procs: 4, Hot: 1}, 3.3, State{Procs: 8}},
		{"doubling stops at Max", State{Procs: 6}, 5.9, State{Procs: 8}},
		{"at Max stays", State{Procs: 8, Hot: 5}, 8, State{Procs: 8}},
		{"a quiet interval ends a busy run", State{Procs: 1, Hot: 1}, 0.5, State{Procs: 1}},
		{"fits in one fewer: count", State{Procs: 2, Calm: 3}, 0.6, State{Procs: 2, Calm: 4}},
		{"fits in one fewer for Calm: one fewer", State{Procs: 2, Calm: 9}, 0.6, State{Procs: 1}},
		{"between the thresholds: stay", State{Procs: 2, Calm: 9}, 0.9, State{Procs: 2}},
		{"eight to seven", State{Procs: 8, Calm: 9}, 5, State{Procs: 7}},
		{"never below one", State{Procs: 1, Calm: 20}, 0, State{Procs: 1}},
	} {
		if got := p.Next(c.s, c.cores); got != c.want {
			t.Errorf("%s: Next(%+v, %.2f) = %+v, want %+v", c.name, c.s, c.cores, got, c.want)
		}
	}
}

// TestRunPacesGOMAXPROCS runs the pacer on the real runtime: idle, the Ps
// come down to one; a load that keeps two goroutines spinning brings them
// back up; when Run ends, the runtime's default is back. (Max is 2 even
// on one CPU: two spinning goroutines keep one P full.)
func TestRunPacesGOMAXPROCS(t *testing.T) {
	def := runtime.GOMAXPROCS(0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	p := Policy{Max: 2, Interval: 20 * time.Millisecond, Calm: 3}
	go func() { Run(ctx, p, slog.New(slog.NewTextHandler(io.Discard, nil))); close(done) }()
	waitProcs(t, 1, "idle")

	stop := make(chan struct{})
	for range 2 {
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	waitProcs(t, 2, "two goroutines spinning")
	close(stop)
	waitProcs(t, 1, "idle again")

	cancel()
	<-done
	if got := runtime.GOMAXPROCS(0); got != def {
		t.Errorf("GOMAXPROCS %d after Run, want the default %d", got, def)
	}
}

func waitProcs(t *testing.T, want int, when string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); runtime.GOMAXPROCS(0) != want; {
		if time.Now().After(end) {
			t.Fatalf("%s: GOMAXPROCS %d after 10 s, want %d", when, runtime.GOMAXPROCS(0), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
