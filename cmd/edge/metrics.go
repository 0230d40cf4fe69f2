package main

import (
	"strconv"
	"strings"
)

// metricsSettings are the TRAEFIK_METRICS_* settings the edge honours: one
// set of duration buckets for every histogram (the dashboard's latency
// quantiles and /metrics), and how many routes get series of their own.
type metricsSettings struct {
	Buckets   []float64 // nil: the edge's defaults
	MaxRoutes int
}

func loadMetrics(e env, p *problems) metricsSettings {
	m := metricsSettings{MaxRoutes: e.intSetting("TRAEFIK_METRICS_MAX_ROUTES", p, 1, 1_000_000)}
	raw := strings.TrimSpace(e.get("TRAEFIK_METRICS_PROMETHEUS_BUCKETS"))
	// Traefik's images wrote the TOML list "[0.1,0.3,1.2,5.0]"; a plain
	// comma-separated list works too.
	raw = strings.TrimSuffix(strings.TrimPrefix(raw, "["), "]")
	for _, f := range splitList(raw) {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > 0) {
			p.add("TRAEFIK_METRICS_PROMETHEUS_BUCKETS: %q is not a positive number of seconds", f)
			return m
		}
		if n := len(m.Buckets); n > 0 && v <= m.Buckets[n-1] {
			p.add("TRAEFIK_METRICS_PROMETHEUS_BUCKETS: the bounds must increase (%v after %v)", v, m.Buckets[n-1])
			return m
		}
		m.Buckets = append(m.Buckets, v)
	}
	if len(m.Buckets) > 30 {
		p.add("TRAEFIK_METRICS_PROMETHEUS_BUCKETS: %d bounds; at most 30", len(m.Buckets))
	}
	return m
}
