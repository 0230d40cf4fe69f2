package ranchertest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Paging limits of Cattle 1.6 (reference §2.2).
const (
	defaultLimit = 100
	maxLimit     = 3000
)

// collectionDef describes one collection the fake serves.
type collectionDef struct {
	resourceType string // the collection's resourceType
	info         string // which fixture's createTypes and filters to show
	kinds        []string
}

var collections = map[string]collectionDef{
	"stacks":               {resourceType: "stack", info: "stacks"},
	"services":             {resourceType: "service", info: "services"},
	"loadbalancerservices": {resourceType: "loadBalancerService", info: "services", kinds: []string{"loadBalancerService"}},
	"externalservices":     {resourceType: "externalService", info: "services", kinds: []string{"externalService"}},
	"dnsservices":          {resourceType: "dnsService", info: "services", kinds: []string{"dnsService"}},
	"containers":           {resourceType: "container", info: "containers"},
	"instances":            {resourceType: "instance", info: "containers"},
	"apikeys":              {resourceType: "apiKey"},
	"hosts":                {resourceType: "host"},
}

func isServiceCollection(name string) bool {
	return name == "services" || collections[name].info == "services"
}

// members returns the ids in a collection in creation order, which stands
// in for Cattle's primary-key order (it has no ORDER BY without ?sort=).
// Called with s.mu held.
func (s *Server) members(name string) []string {
	def := collections[name]
	w := s.world
	var ids []string
	switch def.info {
	case "stacks":
		for id := range w.stacks {
			ids = append(ids, id)
		}
	case "services":
		for id, svc := range w.services {
			if def.kinds == nil || slices.Contains(def.kinds, svc.kind) {
				ids = append(ids, id)
			}
		}
	case "containers":
		for id := range w.containers {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int { return w.order[a] - w.order[b] })
	return ids
}

// writeCollection answers a collection GET with Cattle's paging:
// limit (default 100, ≤0 or >3000 means 3000), marker m<offset>, and
// pagination.next as the only paging link.
func (s *Server) writeCollection(w http.ResponseWriter, req *request, name string) {
	def := collections[name]
	q := req.r.URL.Query()
	limit := defaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.writeError(w, req.r, http.StatusUnprocessableEntity)
			return
		}
		limit = n
	}
	if limit <= 0 || limit > maxLimit {
		limit = maxLimit
	}
	offset := 0
	if m := q.Get("marker"); strings.HasPrefix(m, "m") {
		offset, _ = strconv.Atoi(m[1:]) // a bad marker starts at the beginning
		offset = max(offset, 0)
	}
	info := s.tmpl.collections[def.info]
	filters := map[string]string{}
	for _, k := range info.filterKeys {
		if v, ok := q[k]; ok && len(v) > 0 {
			filters[k] = v[0]
		}
	}

	s.mu.Lock()
	s.stats.Lists[name]++
	var ids []string
	if req.visible {
		ids = s.members(name)
	}
	if len(filters) > 0 {
		ids = slices.DeleteFunc(ids, func(id string) bool { return !s.matches(id, filters) })
	}
	end := min(offset+limit, len(ids))
	page := ids[min(offset, end):end]
	var data bytes.Buffer
	for i, id := range page {
		if i > 0 {
			data.WriteByte(',')
		}
		data.Write(s.restBytes(id, req.versionBase, req.scopeBase))
	}
	s.mu.Unlock()

	self := "http://" + req.r.Host + req.r.URL.Path
	var buf bytes.Buffer
	buf.WriteString(`{"type":"collection","resourceType":`)
	encodeString(&buf, def.resourceType)
	buf.WriteString(`,"links":{"self":`)
	encodeString(&buf, self)
	buf.WriteString(`},"createTypes":`)
	ct := map[string]any{}
	for k, v := range info.createTypes {
		ct[k] = req.scopeBase + v
	}
	encodeJSON(&buf, ct)
	buf.WriteString(`,"actions":{},"data":[`)
	head := escapeSlashes(buf.Bytes())
	buf.Reset()
	buf.WriteString(`],"sortLinks":`)
	sortQuery := cloneValues(q)
	sortQuery.Del("sort")
	sortQuery.Del("order")
	sl := map[string]any{}
	for _, k := range info.filterKeys {
		sl[k] = self + "?" + joinQuery(sortQuery.Encode(), "sort="+k)
	}
	encodeJSON(&buf, sl)
	buf.WriteString(`,"pagination":{"first":null,"previous":null,"next":`)
	if offset+limit < len(ids) {
		next := cloneValues(q)
		next.Del("marker")
		encodeString(&buf, self+"?"+joinQuery(next.Encode(), "marker=m"+strconv.Itoa(offset+limit)))
		fmt.Fprintf(&buf, `,"limit":%d,"total":null,"partial":true}`, limit)
	} else {
		fmt.Fprintf(&buf, `null,"limit":%d,"total":null,"partial":false}`, limit)
	}
	buf.WriteString(`,"sort":null,"filters":`)
	fm := map[string]any{}
	for _, k := range info.filterKeys {
		if v, ok := filters[k]; ok {
			fm[k] = []any{map[string]any{"modifier": "eq", "value": v}}
		} else {
			fm[k] = nil
		}
	}
	encodeJSON(&buf, fm)
	buf.WriteString(`,"createDefaults":{}}`)

	// The resources are cached escaped and filled in; escape the frame
	// around them.
	out := make([]byte, 0, len(head)+data.Len()+2*buf.Len())
	out = append(out, head...)
	out = append(out, data.Bytes()...)
	out = append(out, escapeSlashes(buf.Bytes())...)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
	_, _ = w.Write(out)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func joinQuery(q, extra string) string {
	if q == "" {
		return extra
	}
	return q + "&" + extra
}

// matches applies equality filters to a resource's rendered fields.
// Called with s.mu held.
func (s *Server) matches(id string, filters map[string]string) bool {
	doc := s.render(id, false)
	for k, want := range filters {
		v, ok := doc[k]
		if !ok || v == nil || fmt.Sprint(v) != want {
			return false
		}
	}
	return true
}

// writeResource answers a single resource GET; unknown ids get Cattle's
// 404, which go-rancher's ById turns into (nil, nil).
func (s *Server) writeResource(w http.ResponseWriter, req *request, name, id string) {
	s.mu.Lock()
	var body []byte
	if req.visible && slices.Contains(s.members(name), id) {
		body = s.restBytes(id, req.versionBase, req.scopeBase)
	}
	s.mu.Unlock()
	if body == nil {
		s.writeError(w, req.r, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(body)
}
