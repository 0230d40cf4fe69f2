package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Run binds the listeners and serves until ctx is done, then drains
// in-flight requests for up to ShutdownTimeout.
//
// The listener that serves routes (HTTPS, or HTTP when HTTPS is off) runs
// the fast path unless DisableFastPath is set: the edge's own accept loop
// does the TLS handshake and serves HTTP/1.1 and HTTP/2 itself, and
// passes the HTTP/1.1 connections it does not serve to a net/http server
// through a hand-off listener. The plain HTTP listener next to HTTPS only redirects
// and answers challenges; net/http serves it.
func (s *Server) Run(ctx context.Context) error {
	var servers []*http.Server
	var lns []net.Listener
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	type fastListener struct {
		ln    net.Listener
		tls   *tls.Config
		entry uint8
		hand  *handoff
		conns *connSet
	}
	var fast []fastListener
	if s.cfg.HTTPAddr != "" {
		ln, err := net.Listen("tcp", s.cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("listening for HTTP: %w", err)
		}
		ln = s.withProxyProtocol(ln)
		srv := s.httpServer(s.HTTPHandler())
		if s.cfg.HTTPSAddr == "" && !s.cfg.DisableFastPath {
			f := fastListener{ln: ln, entry: entryHTTP, hand: newHandoff(ln.Addr()), conns: newConnSet()}
			fast = append(fast, f)
			lns = append(lns, f.hand)
		} else {
			lns = append(lns, ln)
		}
		servers = append(servers, srv)
		s.addrMu.Lock()
		s.httpAddr = ln.Addr()
		s.addrMu.Unlock()
	}
	if s.cfg.HTTPSAddr != "" {
		ln, err := net.Listen("tcp", s.cfg.HTTPSAddr)
		if err != nil {
			closeAll()
			return fmt.Errorf("listening for HTTPS: %w", err)
		}
		ln = s.withProxyProtocol(ln)
		srv := s.httpServer(s.HTTPSHandler())
		srv.TLSConfig = s.cfg.TLS
		if s.cfg.DisableFastPath {
			lns = append(lns, tls.NewListener(ln, s.cfg.TLS))
		} else {
			f := fastListener{ln: ln, tls: s.cfg.TLS, entry: entryHTTPS, hand: newHandoff(ln.Addr()), conns: newConnSet()}
			fast = append(fast, f)
			lns = append(lns, f.hand)
			srv.ConnContext = handedOverContext
		}
		servers = append(servers, srv)
		s.addrMu.Lock()
		s.httpsAddr = ln.Addr()
		s.addrMu.Unlock()
	}
	close(s.ready)
	// rctx ends the accept loops and the pool sweeper however Run ends.
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if err := srv.Serve(lns[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
				return
			}
			errc <- nil
		}()
	}
	var bg sync.WaitGroup
	for _, f := range fast {
		bg.Go(func() {
			s.acceptLoop(rctx, f.ln, f.tls, f.entry, f.hand, f.conns)
		})
	}
	if len(fast) > 0 {
		bg.Go(func() { s.pools.sweepLoop(rctx) })
	} else {
		// x/net/http2 serves HTTP/2: its stalled streams need watching.
		bg.Go(func() { s.stalls.run(rctx) })
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	drainStart := time.Now()
	conns := 0 // the fast path's; net/http's are not counted
	for _, f := range fast {
		conns += f.conns.size()
	}
	s.log.Info("draining: no new connections; requests in flight may finish",
		"grace", s.cfg.ShutdownTimeout, "requests_in_flight", s.inFlight(), "connections", conns)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	// The drainers close what is left once cut is called, which is after
	// the grace period ended and what it cut off was counted.
	cutCtx, cut := context.WithCancel(context.Background())
	defer cut()
	for _, f := range fast {
		f.ln.Close() // stop accepting; the loop returns
		f.conns.shutdown()
	}
	var drain sync.WaitGroup
	for _, srv := range servers {
		drain.Go(func() {
			if err := srv.Shutdown(cutCtx); err != nil {
				srv.Close()
			}
		})
	}
	for _, f := range fast {
		drain.Go(func() { f.conns.wait(cutCtx) })
	}
	drained := make(chan struct{})
	go func() {
		drain.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-sctx.Done():
		left := s.inFlight()
		cut()
		<-drained
		s.log.Warn("drain ended by the grace period (TRAEFIK_TIMEOUT_GRACE); connections closed",
			"took", time.Since(drainStart).Round(time.Millisecond), "requests_cut_off", left)
	}
	if sctx.Err() == nil {
		s.log.Info("drained", "took", time.Since(drainStart).Round(time.Millisecond))
	}
	rcancel()
	bg.Wait()
	return runErr
}

// inFlight counts the requests being served on the current table's
// routes.
func (s *Server) inFlight() int64 {
	var n int64
	for _, rt := range s.table.Load().routes {
		n += rt.stats.inflight.Load()
	}
	return n
}

func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ErrorLog:          s.errorLog,
	}
}

// acceptLoop accepts connections for the fast path until ln is closed or
// ctx ends, one goroutine per connection.
func (s *Server) acceptLoop(ctx context.Context, ln net.Listener, cfg *tls.Config, entry uint8, hand *handoff, conns *connSet) {
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			// Out of file descriptors and the like: back off as
			// net/http does, rather than spin or stop serving.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; retrying", "err", err, "delay", delay)
			select {
			case <-time.After(delay):
				continue
			case <-ctx.Done():
				return
			}
		}
		delay = 0
		t := conns.add(conn)
		if t == nil {
			conn.Close()
			continue
		}
		go s.serveConn(conn, t, cfg, entry, hand, conns)
	}
}

// serveConn owns one accepted connection: the TLS handshake, then HTTP/2
// to the edge's HTTP/2 server, an acme-tls/1 challenge closed (the certificate store
// answered it in the handshake), and HTTP/1.x to the fast path.
func (s *Server) serveConn(conn net.Conn, t *tracked, cfg *tls.Config, entry uint8, hand *handoff, conns *connSet) {
	defer conns.wg.Done()
	defer conns.remove(t)
	if cfg != nil {
		tc := tls.Server(conn, cfg)
		// Bounded like net/http's handshake: by the header timeout.
		conn.SetDeadline(time.Now().Add(s.cfg.ReadHeaderTimeout))
		if !t.setIdle(true) {
			conn.Close()
			return
		}
		if err := tc.Handshake(); err != nil {
			s.log.Debug("TLS handshake failed", "remote", conn.RemoteAddr().String(), "err", err)
			conn.Close()
			return
		}
		conn.SetWriteDeadline(time.Time{})
		switch tc.ConnectionState().NegotiatedProtocol {
		case "h2":
			conn.SetReadDeadline(time.Time{})
			s.serveH2(tc, t, entry)
			return
		case "acme-tls/1":
			tc.Close()
			return
		}
		conn = tc
	}
	if hc := s.serveH1(conn, t, entry); hc != nil {
		conn.SetReadDeadline(time.Time{})
		conns.remove(t)
		hand.give(hc)
	}
}
