package edge

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// startHealthChecks stops the previous generation's checks and starts one
// checker per backend of every route with a health check. Verdicts land in
// the backend, which outlives the generation.
//
// The previous generation's checkers are waited for before the new ones
// start: a cancelled checker finishing its last probe would otherwise
// write a verdict older than the new generation's first.
func (s *Server) startHealthChecks(t *Table) {
	if s.genCancel != nil {
		s.genCancel()
		s.genChecks.Wait()
	}
	ctx, cancel := context.WithCancel(s.bg)
	s.genCancel = cancel
	now := time.Now()
	for _, rt := range t.routes {
		hc := rt.Service.HealthCheck
		if hc == nil || hc.Path == "" {
			// Without a check a backend is healthy; one that had a check
			// before must not stay out of rotation. A reused route had
			// no check in the table before either.
			if !rt.reused {
				for _, b := range rt.backends {
					b.setHealthy(true, now)
				}
			}
			continue
		}
		for _, b := range rt.backends {
			target, err := healthURL(b, rt)
			if err != nil {
				continue
			}
			s.startCheck(ctx, rt, b, target)
		}
	}
}

// startCheck starts the checker of b, one of rt's backends, in the
// generation that ctx bounds. It is apart from startHealthChecks so that
// only a checker's own variables are captured, and the loop over
// thousands of routes without checks does not allocate.
func (s *Server) startCheck(ctx context.Context, rt *Route, b *backend, target string) {
	hc := rt.Service.HealthCheck
	s.genChecks.Add(1)
	s.checks.Go(func() {
		defer s.genChecks.Done()
		s.checkLoop(ctx, rt, b, target, hc.Every(), hc.Wait())
	})
}

func healthURL(b *backend, rt *Route) (string, error) {
	hc := rt.Service.HealthCheck
	u := url.URL{Scheme: b.scheme, Host: b.host}
	if hc.Scheme != "" {
		u.Scheme = hc.Scheme
	}
	if hc.Port > 0 {
		host, _, err := net.SplitHostPort(b.host)
		if err != nil {
			return "", err
		}
		u.Host = net.JoinHostPort(host, strconv.Itoa(hc.Port))
	}
	p, err := url.Parse(hc.Path)
	if err != nil {
		return "", err
	}
	u.Path, u.RawQuery = p.Path, p.RawQuery
	return u.String(), nil
}

func (s *Server) checkLoop(ctx context.Context, rt *Route, b *backend, target string, interval, timeout time.Duration) {
	// Check at once so a dead server leaves rotation without waiting a
	// whole interval after a table swap.
	for {
		ok := s.checkOnce(ctx, rt, b, target, timeout)
		if ctx.Err() != nil {
			return
		}
		if b.setHealthy(ok, time.Now()) {
			s.log.Info("backend health changed", "route", rt.Service.Name, "backend", b.url, "healthy", ok)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

func (s *Server) checkOnce(ctx context.Context, rt *Route, b *backend, target string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return false
	}
	hc := rt.Service.HealthCheck
	if hc.Hostname != "" {
		req.Host = hc.Hostname
	}
	for k, v := range hc.Headers {
		req.Header.Set(k, v)
	}
	tr := s.upstream.plain
	if req.URL.Scheme == "https" {
		tr = s.upstream.secure
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	// Traefik 1.x counts 2xx and 3xx as up.
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}
