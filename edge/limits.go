package edge

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/rancher-edge/edge/edge/middleware"
)

// The limiting stages (chain.go): rate limit and maxconn.

func wrapRateLimit(_ *Server, rt *Route, next http.Handler) (http.Handler, error) {
	if rt.Service.RateLimit == nil {
		return nil, nil
	}
	return middleware.RateLimit(*rt.Service.RateLimit, next)
}

func describeRateLimit(rt *Route) string {
	rl := rt.Service.RateLimit
	var sets []string
	for _, s := range rl.RateSets {
		sets = append(sets, fmt.Sprintf("%d per %v (burst %d)", s.Average, s.Period, s.Burst))
	}
	return "per " + rl.ExtractorFunc + ": " + strings.Join(sets, ", ")
}

func wrapMaxConn(_ *Server, rt *Route, next http.Handler) (http.Handler, error) {
	if rt.Service.MaxConn == nil {
		return nil, nil
	}
	return middleware.MaxConn(*rt.Service.MaxConn, next)
}

func describeMaxConn(rt *Route) string {
	m := rt.Service.MaxConn
	key := m.ExtractorFunc
	if key == "" {
		key = "request.host"
	}
	return fmt.Sprintf("%d in flight per %s", m.Amount, key)
}
