//go:build !linux

package memtrim

func release() (int64, error) { return 0, ErrUnsupported }
