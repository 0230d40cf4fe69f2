package memtrim

import (
	"errors"
	"fmt"
	"sync"
)

// ErrUnsupported is Release's error where the platform cannot do it.
var ErrUnsupported = errors.New("memtrim: not supported on this platform")

// mu serialises releases: two at once would each count the other's pages.
var mu sync.Mutex

// Release drops the pages of the executable's read-only mappings from the
// process. Each call drops what is resident at the time: the edge calls it
// before it loads its routes (what the package initialisers touched) and
// again once it serves (what loading and the first compile touched).
// It returns by how many bytes the process's resident file-backed memory
// (RssFile) fell: an estimate, since the other goroutines go on faulting
// pages in while it runs.
func Release() (int64, error) {
	mu.Lock()
	defer mu.Unlock()
	n, err := release()
	if err != nil {
		return 0, fmt.Errorf("memtrim: %w", err)
	}
	return n, nil
}
