package main

import (
	"slices"
	"strings"
	"testing"
)

func TestMetricsSettings(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		buckets []float64
		max     int
		err     string
	}{
		{env: map[string]string{}, max: 500},
		{env: map[string]string{"TRAEFIK_METRICS_PROMETHEUS_BUCKETS": "[0.1,0.3,1.2,5.0]"}, buckets: []float64{0.1, 0.3, 1.2, 5}, max: 500},
		{env: map[string]string{"TRAEFIK_PROMETHEUS_BUCKETS": "0.05, 0.5", "TRAEFIK_METRICS_MAX_ROUTES": "20"}, buckets: []float64{0.05, 0.5}, max: 20},
		{env: map[string]string{"TRAEFIK_METRICS_PROMETHEUS_BUCKETS": "0.5,0.1"}, err: "must increase"},
		{env: map[string]string{"TRAEFIK_METRICS_PROMETHEUS_BUCKETS": "fast"}, err: `"fast" is not a positive number`},
		{env: map[string]string{"TRAEFIK_METRICS_MAX_ROUTES": "0"}, err: "TRAEFIK_METRICS_MAX_ROUTES"},
	} {
		cfg, err := loadConfig(env{getenv: mapEnv(tc.env)})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want %q", tc.env, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.env, err)
			continue
		}
		if !slices.Equal(cfg.Metrics.Buckets, tc.buckets) || cfg.Metrics.MaxRoutes != tc.max {
			t.Errorf("%v: %+v", tc.env, cfg.Metrics)
		}
	}
}
