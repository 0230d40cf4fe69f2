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
	b := &backend{scheme: "http", host: rawBackend(t)}
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
		uc, err := u.get(context.Background(), b, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		ask(uc)
		conns = append(conns, uc)
	}
	for _, uc := range conns {
		u.put(uc)
	}
	p := b.pool.Load()
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
	uc, err := u.get(context.Background(), b, false, 0)
	if err != nil || !uc.reused {
		t.Fatalf("get = %v, reused %v; want a pooled connection", err, uc != nil && uc.reused)
	}
	ask(uc)
	u.put(uc)
	u.close()
}

// TestPoolsAttachOnFirstUseAndCloseWithTheirLastBackend: backends of one
// address share the pool their first request creates; it stays while one
// of them is held by a route and closes, with its idle connections, when
// the last is retired; a request still in flight for a retired backend
// gets a connection that is closed after it, not pooled.
func TestPoolsAttachOnFirstUseAndCloseWithTheirLastBackend(t *testing.T) {
	u := newUpPools(Config{MaxIdleConnsPerHost: 4, DialTimeout: time.Second})
	addr := rawBackend(t)
	b1 := &backend{scheme: "http", host: addr, routes: 1}
	b2 := &backend{scheme: "http", host: addr, routes: 1}
	if b1.pool.Load() != nil || len(u.byAddr) != 0 {
		t.Fatal("a pool exists before any request")
	}
	uc, err := u.get(context.Background(), b1, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	u.put(uc) // idle in the pool
	p := b1.pool.Load()
	if u.poolOf(b2) != p || p.refs != 2 || len(u.byAddr) != 1 {
		t.Fatalf("two backends of one address: pools %p and %p, refs %d, %d pools", p, b2.pool.Load(), p.refs, len(u.byAddr))
	}

	b1.routes = 0
	u.retire([]*backend{b1, b1})
	if p.closed || p.refs != 1 || len(p.idle) != 1 {
		t.Fatalf("after the first backend left: closed %v, refs %d, %d idle; want open, 1, 1", p.closed, p.refs, len(p.idle))
	}
	b2.routes = 0
	u.retire([]*backend{b2})
	if !p.closed || len(p.idle) != 0 || len(u.byAddr) != 0 {
		t.Fatalf("after the last backend left: closed %v, %d idle, %d pools; want closed, 0, 0", p.closed, len(p.idle), len(u.byAddr))
	}

	late, err := u.get(context.Background(), b2, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	if late.pool == p || !late.pool.closed || late.pool.addr != addr {
		t.Fatalf("a retired backend's request got pool %+v", late.pool)
	}
	u.put(late)
	if _, err := late.conn.Write([]byte("x")); err == nil {
		t.Error("the retired backend's connection is still open after its request")
	}
	if len(u.byAddr) != 0 {
		t.Errorf("%d pools after a retired backend's request, want 0", len(u.byAddr))
	}
}
