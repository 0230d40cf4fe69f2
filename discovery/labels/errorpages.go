package labels

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/rancher-edge/edge/route"
)

// errorPages is Traefik 1.7 label.ParseErrorPages:
// traefik.frontend.errors.<name>.status (codes and ranges), .backend (a
// Traefik backend name: another service's traefik.backend, or its derived
// name) and .query (the page's path, "{status}" replaced). Error pages do
// not protect anything: a page that cannot work is dropped with a warning
// and the route is served, as Traefik served it.
func (sb *segBuilder) errorPages() []route.ErrorPage {
	byName := map[string]*route.ErrorPage{}
	for key := range sb.ls {
		rest, ok := strings.CutPrefix(key, lErrorsPrefix)
		if !ok {
			continue
		}
		name, field, ok := strings.Cut(rest, ".")
		if !ok || name == "" || strings.Contains(field, ".") {
			continue // reported as an unknown label
		}
		p := byName[name]
		if p == nil {
			p = &route.ErrorPage{Name: name}
			byName[name] = p
		}
		switch field {
		case "status":
			p.Status = splitCSV(sb.ls.str(key))
		case "backend":
			p.Backend = normalize(sb.ls.str(key))
		case "query":
			p.Query = sb.ls.str(key)
		}
	}
	var out []route.ErrorPage
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		p := byName[name]
		switch {
		case p.Backend == "":
			sb.warn("error page %s%s is ignored: no .backend", lErrorsPrefix, name)
			continue
		case len(p.Status) == 0:
			sb.warn("error page %s%s is ignored: no .status", lErrorsPrefix, name)
			continue
		}
		if bad := badStatus(p.Status); bad != "" {
			sb.warn("error page %s%s is ignored: status %q is not a code or a range of codes", lErrorsPrefix, name, bad)
			continue
		}
		out = append(out, *p)
	}
	return out
}

// badStatus returns the first entry that is neither a code nor a range of
// codes (100-599), or "".
func badStatus(list []string) string {
	for _, s := range list {
		lo, hi, isRange := strings.Cut(s, "-")
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.Atoi(strings.TrimSpace(hi))
		}
		if err1 != nil || err2 != nil || a < 100 || b > 599 || a > b {
			return s
		}
	}
	return ""
}
