package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// SIGHUP does not kill the edge: it is logged. (Without the handler this
// test process would die.)
func TestHangupIsLoggedNotFatal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var buf lockedBuf
	watchHangup(ctx, newLogger(&buf, 0, ""))
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(5 * time.Second); !strings.Contains(buf.String(), "SIGHUP received"); {
		if time.Now().After(end) {
			t.Fatalf("no log line; log: %q", buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
