//go:build linux

package memtrim

import (
	"bytes"
	"os"
	"strconv"
	"testing"
)

// TestReleaseDropsTheExecutablesPages: the test binary, like the edge,
// has run its packages' initialisers; once released, its executable is
// mostly out of memory, and it goes on running (the code it needs
// faults back in).
func TestReleaseDropsTheExecutablesPages(t *testing.T) {
	before := exeResidentKiB(t)
	if before < 1024 {
		t.Fatalf("the test binary has %d KiB of its executable resident: nothing to measure", before)
	}
	n, err := Release()
	if err != nil {
		t.Fatal(err)
	}
	after := exeResidentKiB(t)
	t.Logf("executable resident: %d KiB before, %d KiB after; Release reports %d KiB", before, after, n/1024)
	if after > before/2 {
		t.Errorf("after Release %d KiB of the executable are resident, of %d before: want less than half", after, before)
	}
	if n <= 0 {
		t.Errorf("Release reports %d bytes released", n)
	}
	// A second call drops what came back in since: the program runs on.
	if _, err := Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	// The variables in the writable mappings are intact.
	if got := strconv.Itoa(12345); got != "12345" || !bytes.Equal([]byte("edge"), []byte("edge")) {
		t.Errorf("after Release the program misbehaves: %q", got)
	}
}

// exeResidentKiB sums Rss over the executable's read-only mappings in
// /proc/self/smaps.
func exeResidentKiB(t *testing.T) int64 {
	t.Helper()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	counting := false
	for _, line := range bytes.Split(b, []byte("\n")) {
		if f := bytes.Fields(line); len(f) >= 2 && bytes.Contains(f[0], []byte("-")) && len(f[1]) == 4 {
			ms := parseMaps(line)
			counting = len(ms) == 1 && ms[0].path == exe && !ms[0].writable
			continue
		}
		if v, ok := bytes.CutPrefix(line, []byte("Rss:")); ok && counting {
			kib, _ := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			sum += kib
		}
	}
	return sum
}

func TestParseMaps(t *testing.T) {
	maps := []byte(`00400000-01640000 r-xp 00000000 fe:00 1234 /usr/local/bin/edge
01640000-028ae000 r--p 01240000 fe:00 1234 /usr/local/bin/edge
028ae000-029cc000 rw-p 024ae000 fe:00 1234 /usr/local/bin/edge
029cc000-04a15000 rw-p 00000000 00:00 0
7f0000000000-7f0000001000 r-xp 00000000 fe:00 99 /tmp/my edge (deleted)
7fff71af3000-7fff71b14000 rw-p 00000000 00:00 0                          [stack]
garbage line
ffff-1000 r--p 0 0 0 /backwards
`)
	want := []mapping{
		{0x400000, 0x1640000, false, "/usr/local/bin/edge"},
		{0x1640000, 0x28ae000, false, "/usr/local/bin/edge"},
		{0x28ae000, 0x29cc000, true, "/usr/local/bin/edge"},
		{0x7f0000000000, 0x7f0000001000, false, "/tmp/my edge (deleted)"},
		{0x7fff71af3000, 0x7fff71b14000, true, "[stack]"},
	}
	got := parseMaps(maps)
	if len(got) != len(want) {
		t.Fatalf("parseMaps = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mapping %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func FuzzParseMaps(f *testing.F) {
	f.Add([]byte("00400000-01640000 r-xp 00000000 fe:00 1234 /usr/local/bin/edge\n"))
	f.Add([]byte("7f0000000000-7f0000001000 r-xp 00000000 fe:00 99 /tmp/my edge (deleted)\n"))
	f.Add([]byte("029cc000-04a15000 rw-p 00000000 00:00 0\n"))
	f.Add([]byte("1-2 r 0 0 0 x\n1-2 rw 0 0 0  \t \n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range parseMaps(b) {
			if m.hi <= m.lo {
				t.Errorf("mapping %#x-%#x: empty or backwards", m.lo, m.hi)
			}
			if m.path == "" {
				t.Errorf("mapping %#x-%#x without a path", m.lo, m.hi)
			}
		}
	})
}
