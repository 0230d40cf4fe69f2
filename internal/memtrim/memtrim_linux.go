package memtrim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"unicode"
)

// The madvise advice values (linux/mman.h); syscall has no MADV_PAGEOUT.
const (
	madvRandom  = 1
	madvPageout = 21
)

// mapping is one line of /proc/self/maps: an address range and what it maps.
type mapping struct {
	lo, hi   uintptr
	writable bool
	path     string
}

func release() (int64, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	before := residentFileKiB()
	var errs []error
	n := 0
	for _, m := range parseMaps(maps) {
		if m.path != exe || m.writable {
			continue
		}
		n++
		for _, advice := range []uintptr{madvRandom, madvPageout} {
			if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, m.lo, m.hi-m.lo, advice); e != 0 {
				errs = append(errs, fmt.Errorf("madvise(%#x, %d, %d): %w", m.lo, m.hi-m.lo, advice, e))
			}
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("no read-only mapping of %s in /proc/self/maps", exe)
	}
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return max(before-residentFileKiB(), 0) * 1024, nil
}

// parseMaps reads the lines of /proc/<pid>/maps: "lo-hi perms offset dev
// inode path", where path may hold spaces (" (deleted)" when the file was
// replaced). Lines it cannot read are skipped.
func parseMaps(b []byte) []mapping {
	var ms []mapping
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		f := bytes.Fields(line)
		if len(f) < 6 {
			continue // anonymous: no path
		}
		lo, hi, ok := bytes.Cut(f[0], []byte("-"))
		if !ok {
			continue
		}
		l, err1 := strconv.ParseUint(string(lo), 16, 64)
		h, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || h <= l || len(f[1]) < 2 {
			continue
		}
		path := afterFields(line, 5)
		if len(path) == 0 {
			continue
		}
		ms = append(ms, mapping{lo: uintptr(l), hi: uintptr(h), writable: f[1][1] == 'w', path: string(path)})
	}
	return ms
}

// afterFields returns line from its (n+1)th field to its end: the last
// field of a maps line, spaces and all. Fields are split as bytes.Fields
// splits them.
func afterFields(line []byte, n int) []byte {
	for range n {
		line = bytes.TrimLeftFunc(line, unicode.IsSpace)
		i := bytes.IndexFunc(line, unicode.IsSpace)
		if i < 0 {
			return nil
		}
		line = line[i:]
	}
	return bytes.TrimLeftFunc(line, unicode.IsSpace)
}

// residentFileKiB is the process's resident file-backed memory
// (RssFile in /proc/self/status), 0 when it cannot be read.
func residentFileKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	_, rest, ok := bytes.Cut(b, []byte("\nRssFile:"))
	if !ok {
		return 0
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	kib, _ := strconv.ParseInt(string(bytes.TrimSuffix(bytes.TrimSpace(line), []byte(" kB"))), 10, 64)
	return kib
}
