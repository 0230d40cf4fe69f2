package memtrim

import (
	"errors"
	"fmt"
	"sync"
)

// ErrUnsupported is Release's error where the platform cannot do it.
var ErrUnsupported = errors.New("memtrim: not supported on this platform")

var (
	once     sync.Once
	released int64
	err      error
)

// Release drops the pages of the executable's read-only mappings from the
// process, once per process: later calls return the first call's result.
// It returns by how many bytes the process's resident file-backed memory
// (RssFile) fell: an estimate, since the other goroutines go on faulting
// pages in while it runs.
func Release() (int64, error) {
	once.Do(func() {
		released, err = release()
		if err != nil {
			err = fmt.Errorf("memtrim: %w", err)
		}
	})
	return released, err
}
