package edge

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestIdleConnectionsHoldNoReadBuffer: a backend connection in the pool
// holds no read buffer (of some 500 pooled under h2 load, 320 wait for
// an answer at a time), and one drawn from the pool reads its answer as
// a fresh one does.
func TestIdleConnectionsHoldNoReadBuffer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					io.WriteString(c, "answer to "+line)
				}
			}()
		}
	}()
	u := newUpPools(Config{MaxIdleConnsPerHost: 4, DialTimeout: time.Second})
	p := u.forBackend("http", ln.Addr().String())
	ask := func(uc *upConn, q string) {
		t.Helper()
		if _, err := io.WriteString(uc.conn, q+"\n"); err != nil {
			t.Fatal(err)
		}
		uc.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := uc.br.ReadString('\n')
		if err != nil || got != "answer to "+q+"\n" {
			t.Fatalf("read %q, %v; want the answer to %s", got, err, q)
		}
	}
	var conns []*upConn
	for i := range 3 {
		uc, err := u.get(context.Background(), p, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		ask(uc, strings.Repeat("q", i+1))
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
	ask(uc, "again")
	u.put(uc)
	u.close()
}
