package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// clkTck is USER_HZ, the unit of utime/stime in /proc/PID/stat.
var clkTck = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
}()

// procStat is what we read from /proc/PID/stat.
type procStat struct {
	ppid  int
	ticks uint64 // utime + stime
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// The command name is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("pid %d: bad stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("pid %d: short stat", pid)
	}
	ppid, _ := strconv.Atoi(f[1])
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return procStat{ppid: ppid, ticks: ut + st}, nil
}

// tree returns root and all its descendants (nginx's workers, say).
func tree(root int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return []int{root}
	}
	children := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(pid)
		if err != nil {
			continue
		}
		children[st.ppid] = append(children[st.ppid], pid)
	}
	out := []int{root}
	for i := 0; i < len(out) && i < 1000; i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// cpuTicks sums utime+stime over pids; processes gone are skipped.
func cpuTicks(pids []int) uint64 {
	var sum uint64
	for _, p := range pids {
		if st, err := readProcStat(p); err == nil {
			sum += st.ticks
		}
	}
	return sum
}

// ticksToSeconds converts USER_HZ ticks.
func ticksToSeconds(t uint64) float64 { return float64(t) / clkTck }

// statusKiB reads a "Name:   123 kB" line from /proc/PID/status.
func statusKiB(pid int, name string) int64 {
	return statusValue("/proc/"+strconv.Itoa(pid)+"/status", name)
}

// statusValue reads the number of a "Name:   123 …" line of a status file
// (/proc/PID/status, /proc/PID/task/TID/status), 0 when there is none.
func statusValue(path, name string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+":") {
			fs := strings.Fields(line[len(name)+1:])
			if len(fs) > 0 {
				v, _ := strconv.ParseInt(fs[0], 10, 64)
				return v
			}
		}
	}
	return 0
}

// peakRSSKiB sums VmHWM over the processes (master and workers alike).
func peakRSSKiB(pids []int) int64 { return sumStatusKiB(pids, "VmHWM") }

// sumStatusKiB sums one /proc/<pid>/status field over the processes.
func sumStatusKiB(pids []int, name string) int64 {
	var sum int64
	for _, p := range pids {
		sum += statusKiB(p, name)
	}
	return sum
}

// resetPeak writes 5 to clear_refs, which resets VmHWM to the current RSS.
func resetPeak(pids []int) error {
	var first error
	for _, p := range pids {
		if err := os.WriteFile("/proc/"+strconv.Itoa(p)+"/clear_refs", []byte("5"), 0); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// machineTicks reads the aggregate cpu line of /proc/stat: ticks spent in
// user+nice+system (what processes are charged for), everything busy
// (adds irq, softirq, steal) and the total.
// steal is the time the hypervisor ran something else while this
// machine had work: a run that shows it was slowed from outside.
type machineTicks struct{ proc, busy, total, steal uint64 }

func readMachine() machineTicks {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineTicks{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return machineTicks{}
	}
	v := make([]uint64, len(f)-1)
	for i := range v {
		v[i], _ = strconv.ParseUint(f[i+1], 10, 64)
	}
	// user nice system idle iowait irq softirq steal ...
	var m machineTicks
	m.proc = v[0] + v[1] + v[2]
	m.busy = m.proc + v[5] + v[6]
	if len(v) > 7 {
		m.busy += v[7]
		m.steal = v[7]
	}
	m.total = m.busy + v[3] + v[4]
	return m
}

// switches sums the voluntary and involuntary context switches of every
// thread of the processes (/proc/PID/task/*/status counts them per
// thread). A thread that exits during a run takes its counts with it;
// the proxies here keep theirs.
func switches(pids []int) (vol, invol uint64) {
	for _, p := range pids {
		tasks, err := os.ReadDir("/proc/" + strconv.Itoa(p) + "/task")
		if err != nil {
			continue
		}
		for _, t := range tasks {
			status := "/proc/" + strconv.Itoa(p) + "/task/" + t.Name() + "/status"
			vol += uint64(statusValue(status, "voluntary_ctxt_switches"))
			invol += uint64(statusValue(status, "nonvoluntary_ctxt_switches"))
		}
	}
	return vol, invol
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}

// busyCores samples the machine over d: how many cores were busy.
func busyCores(d time.Duration) float64 {
	a := readMachine()
	time.Sleep(d)
	b := readMachine()
	if b.total <= a.total {
		return 0
	}
	ncpu := float64(numCPU())
	return float64(b.busy-a.busy) / float64(b.total-a.total) * ncpu
}

func numCPU() int {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 1
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "cpu") && len(l) > 3 && l[3] >= '0' && l[3] <= '9' {
			n++
		}
	}
	if n == 0 {
		n = 1
	}
	return n
}

// cpuModel is the CPU's model name from /proc/cpuinfo ("AMD EPYC",
// "Intel(R) Xeon(R) …"): machines of one kind come with either, and the
// ratios to the peers differ between them.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
