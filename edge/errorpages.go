package edge

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/rancher-edge/edge/edge/middleware"
	"github.com/rancher-edge/edge/route"
)

// The error-pages stage (chain.go): pages come from the route that has the
// named Traefik backend in the table serving the request, so a page
// backend that appears or moves later is picked up without recompiling.

func wrapErrorPages(s *Server, rt *Route, next http.Handler) (http.Handler, error) {
	if len(rt.Service.ErrorPages) == 0 {
		return nil, nil
	}
	return middleware.ErrorPages(rt.Service.ErrorPages, s.pageBackend, next)
}

func (s *Server) pageBackend(name string) http.Handler {
	t := s.table.Load()
	if t == nil {
		return nil
	}
	if rt := t.backends[name]; rt != nil {
		return rt.proxy
	}
	return nil
}

func describeErrorPages(rt *Route) string {
	var parts []string
	for _, p := range rt.Service.ErrorPages {
		parts = append(parts, strings.Join(p.Status, ",")+" from "+p.Backend+" "+p.Query)
	}
	return strings.Join(parts, "; ")
}

// missingPageBackends warns about error pages whose backend no route of
// the table has: those errors are answered as they are.
func missingPageBackends(t *Table) []route.Problem {
	var out []route.Problem
	for _, rt := range t.routes {
		for _, p := range rt.Service.ErrorPages {
			if t.backends[p.Backend] == nil {
				out = append(out, route.Problem{Source: rt.Service.Source, Severity: route.Warning,
					Message: fmt.Sprintf("error page %q: no route has the backend %q; those errors are answered as they are", p.Name, p.Backend)})
			}
		}
	}
	return out
}
