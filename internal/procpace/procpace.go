package procpace

import (
	"context"
	"log/slog"
	"runtime"
	"syscall"
	"time"
)

// Policy is when GOMAXPROCS moves. The zero value is the edge's policy.
//
// The thresholds leave a band between them because the same load costs
// more CPU on more Ps (the hand-offs above): a load that measures Down ×
// (p−1) cores on p Ps measures about a quarter less on p−1, clear of Up.
type Policy struct {
	// Max is the most Ps; zero means runtime.GOMAXPROCS(0) when Run
	// starts (the runtime's default: the CPUs the process may use).
	Max int
	// Interval is how often the CPU time is read; zero means 100 ms.
	Interval time.Duration
	// Up is the CPU use, in cores per P, at or above which the Ps
	// double after Hot intervals in a row, or at once from Full; zero
	// means 0.8.
	Up float64
	// Hot is that number of intervals; zero means 2.
	Hot int
	// Full is the use per P that doubles the Ps after one interval; zero
	// means 0.95.
	Full float64
	// Down is the CPU use, in cores per P of one P fewer, below which the
	// Ps come down by one after Calm intervals in a row; zero means 0.75.
	Down float64
	// Calm is that number of intervals; zero means 10.
	Calm int
}

func (p Policy) withDefaults() Policy {
	if p.Max <= 0 {
		p.Max = runtime.GOMAXPROCS(0)
	}
	if p.Interval <= 0 {
		p.Interval = 100 * time.Millisecond
	}
	if p.Up <= 0 {
		p.Up = 0.8
	}
	if p.Hot <= 0 {
		p.Hot = 2
	}
	if p.Full <= 0 {
		p.Full = 0.95
	}
	if p.Down <= 0 {
		p.Down = 0.75
	}
	if p.Calm <= 0 {
		p.Calm = 10
	}
	return p
}

// State is what Next carries from one interval to the next.
type State struct {
	Procs int // GOMAXPROCS
	Hot   int // intervals in a row at or above Up
	Calm  int // intervals in a row below Down
}

// Next is the state after an interval in which the process used cores of
// CPU. It applies the defaults but for Max, which it needs.
func (p Policy) Next(s State, cores float64) State {
	most := max(p.Max, 1)
	p = p.withDefaults()
	p.Max = most
	n := float64(s.Procs)
	if s.Procs < p.Max && cores >= p.Up*n {
		s.Hot, s.Calm = s.Hot+1, 0
		if s.Hot >= p.Hot || cores >= p.Full*n {
			return State{Procs: min(2*s.Procs, p.Max)}
		}
		return s
	}
	s.Hot = 0
	if s.Procs > 1 && cores < p.Down*(n-1) {
		s.Calm++
		if s.Calm >= p.Calm {
			return State{Procs: s.Procs - 1}
		}
		return s
	}
	s.Calm = 0
	return s
}

// Run paces GOMAXPROCS by p until ctx ends, then gives back the
// runtime's default. (Pacing stops the runtime's own updates of
// GOMAXPROCS to a changed cgroup CPU limit; Max is the limit when Run
// starts.) It starts from Max: start-up's work (routes,
// certificates) has every P, and the first calm second brings them down.
// Changes are logged at debug level.
func Run(ctx context.Context, p Policy, log *slog.Logger) {
	p = p.withDefaults()
	// The runtime's own default, which follows the CPU limit of the
	// process's cgroup, again once pacing ends.
	defer runtime.SetDefaultGOMAXPROCS()
	if p.Max <= 1 {
		return // nothing to pace
	}
	procs := p.Max
	runtime.GOMAXPROCS(procs)
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	last := time.Now()
	lastCPU, ok := cpuTime()
	if !ok {
		return
	}
	s := State{Procs: procs}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			used, _ := cpuTime()
			cores := (used - lastCPU).Seconds() / now.Sub(last).Seconds()
			last, lastCPU = now, used
			next := p.Next(s, cores)
			if next.Procs != s.Procs {
				runtime.GOMAXPROCS(next.Procs)
				log.Debug("GOMAXPROCS paced", "from", s.Procs, "to", next.Procs, "cores", float32(cores))
			}
			s = next
		}
	}
}

// cpuTime is the CPU time the process has used, user and system; false
// when the system does not say.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
