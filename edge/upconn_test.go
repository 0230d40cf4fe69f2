package edge

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestIdleConnectionsHoldNoReadBuffer: a backend connection in the pool
// holds no read buffer (of some 500 pooled under h2 load, 320 wait for
// an answer at a time), and one drawn from the pool reads its answer as
// a fresh one does.
func TestIdleConnectionsHoldNoReadBuffer(t *testing.T) {
	u := newUpPools(Config{MaxIdleConnsPerHost: 4, DialTimeout: time.Second})
	p := u.forBackend("http", rawBackend(t))
	ask := func(uc *upConn) {
		t.Helper()
		if _, err := io.WriteString(uc.conn, "GET / HTTP/1.1\r\nHost: backend\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		uc.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(uc.br, nil)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || resp.StatusCode != 200 || n != 1024 {
			t.Fatalf("answer %d with %d bytes, %v; want 200 with 1024", resp.StatusCode, n, err)
		}
	}
	var conns []*upConn
	for range 3 {
		uc, err := u.get(context.Background(), p, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		ask(uc)
		conns = append(conns, uc)
	}
	for _, uc := range conns {
		u.put(uc)
	}
	p.mu.Lock()
	for i, uc := range p.idle {
		if uc.br != nil {
			t.Errorf("idle connection %d holds a %d-byte read buffer", i, uc.br.Size())
		}
	}
	idle := len(p.idle)
	p.mu.Unlock()
	if idle != 3 {
		t.Fatalf("%d idle connections, want 3", idle)
	}
	uc, err := u.get(context.Background(), p, false, 0)
	if err != nil || !uc.reused {
		t.Fatalf("get = %v, reused %v; want a pooled connection", err, uc != nil && uc.reused)
	}
	ask(uc)
	u.put(uc)
	u.close()
}
