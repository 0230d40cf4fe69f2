package ranchertest

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"time"
)

// epoch is the creation time of the first resource; later ones are a
// second apart, so renderings are deterministic.
var epoch = time.Date(2018, 3, 5, 9, 12, 47, 0, time.UTC)

// restBytes returns the resource's REST representation: compact,
// slash-escaped, with links under the request's bases. It is cached until
// the resource changes or another base asks. Called with s.mu held.
func (s *Server) restBytes(id, versionBase, scopeBase string) []byte {
	cache := s.cacheSlot(id)
	if cache == nil {
		return nil
	}
	base := scopeBase + " " + versionBase
	if cache.body == nil || cache.base != base {
		var buf bytes.Buffer
		encodeJSON(&buf, s.render(id, false))
		cache.base = base
		cache.body = fillPlaceholders(escapeSlashes(buf.Bytes()), versionBase, scopeBase)
	}
	return cache.body
}

func (s *Server) cacheSlot(id string) *rendering {
	w := s.world
	if st, ok := w.stacks[id]; ok {
		return &st.cache
	}
	if svc, ok := w.services[id]; ok {
		return &svc.cache
	}
	if c, ok := w.containers[id]; ok {
		return &c.cache
	}
	return nil
}

// invalidate drops a resource's cached rendering. Called with s.mu held.
func (s *Server) invalidate(id string) {
	if c := s.cacheSlot(id); c != nil {
		*c = rendering{}
	}
}

// render builds a resource's representation from its fixture. With removed
// set it renders the resource as Cattle sends it once more after removal.
// Called with s.mu held.
func (s *Server) render(id string, removed bool) map[string]any {
	w := s.world
	var m map[string]any
	var created time.Time
	var plural string
	switch {
	case w.stacks[id] != nil:
		m, created, plural = s.renderStack(w.stacks[id]), w.stacks[id].created, "stacks"
	case w.services[id] != nil:
		m, created, plural = s.renderService(w.services[id]), w.services[id].created, "services"
	case w.containers[id] != nil:
		m, created, plural = s.renderContainer(w.containers[id]), w.containers[id].created, "containers"
	default:
		return nil
	}
	m["id"] = id
	m["created"] = created.Format(time.RFC3339)
	m["createdTS"] = created.UnixMilli()
	m["uuid"] = fakeUUID(id)
	m["transitioning"] = "no"
	m["transitioningMessage"] = nil
	m["transitioningProgress"] = nil
	m["removed"], m["removeTime"] = nil, nil
	if removed {
		now := time.Now().UTC().Truncate(time.Second)
		m["state"] = "removed"
		m["removed"] = now.Format(time.RFC3339)
		m["removedTS"] = now.UnixMilli()
		m["removeTime"] = now.Add(24 * time.Hour).Format(time.RFC3339)
		m["actions"] = map[string]any{"purge": phScope + "/" + plural + "/" + id + "/?action=purge"}
	}
	return m
}

func (s *Server) renderStack(st *stack) map[string]any {
	m := maps.Clone(s.tmpl.stack)
	m["links"] = withID(m["links"], st.id)
	m["actions"] = withID(m["actions"], st.id)
	m["name"] = st.name
	m["state"] = st.state
	m["healthState"] = st.health
	m["system"] = st.system
	m["dockerCompose"], m["rancherCompose"] = nil, nil
	m["externalId"] = nil
	if st.system {
		m["externalId"] = "catalog://library:infra*" + st.name + ":3"
	}
	m["serviceIds"] = s.sorted(slices.Collect(maps.Keys(st.services)))
	return m
}

func (s *Server) renderService(svc *service) map[string]any {
	m := maps.Clone(s.tmpl.service)
	m["links"] = withID(m["links"], svc.id)
	m["actions"] = withID(m["actions"], svc.id)
	m["type"], m["kind"] = svc.kind, svc.kind
	m["name"] = svc.name
	m["state"] = svc.state
	m["healthState"] = svc.health
	m["stackId"] = svc.stackID
	m["scale"] = svc.scale
	m["system"] = s.world.stacks[svc.stackID].system
	m["upgrade"] = nil
	m["createIndex"] = s.world.order[svc.id]
	ids := s.sorted(slices.Collect(maps.Keys(svc.containers)))
	m["instanceIds"] = ids
	m["currentScale"] = len(ids)
	if svc.publicIPs == nil {
		m["publicEndpoints"] = nil
	} else {
		eps := make([]any, 0, len(svc.publicIPs))
		for i, ip := range svc.publicIPs {
			inst := ""
			if i < len(ids) {
				inst = ids[i]
			}
			eps = append(eps, map[string]any{
				"type": "publicEndpoint", "hostId": fmt.Sprintf("1h%d", i%2+1), "instanceId": inst,
				"ipAddress": ip, "port": 80, "serviceId": svc.id,
			})
		}
		m["publicEndpoints"] = eps
	}
	lc := maps.Clone(s.tmpl.service["launchConfig"].(map[string]any))
	lc["labels"] = stringMap(svc.labels)
	lc["networkMode"] = svc.networkMode
	if !svc.healthCheck {
		lc["healthCheck"] = nil
	}
	m["launchConfig"] = lc
	return m
}

func (s *Server) renderContainer(c *container) map[string]any {
	w := s.world
	st, svc := w.stacks[c.stackID], w.services[c.serviceID]
	m := maps.Clone(s.tmpl.container)
	m["links"] = withID(m["links"], c.id)
	m["actions"] = withID(m["actions"], c.id)
	m["name"] = c.name
	m["state"] = c.state
	m["labels"] = stringMap(c.labels)
	m["networkMode"] = c.network
	m["serviceId"] = c.serviceID
	m["serviceIds"] = []string{c.serviceID}
	m["stackId"] = c.stackID
	m["hostId"] = c.hostID
	m["createIndex"] = c.index
	m["system"] = st.system
	m["primaryIpAddress"] = nullable(c.ip)
	m["healthState"] = nullable(c.health)
	m["healthcheckStates"] = nil
	if c.health != "" {
		m["healthcheckStates"] = []any{map[string]any{"type": "healthcheckState", "healthState": c.health, "hostId": c.hostID}}
	}
	if !svc.healthCheck {
		m["healthCheck"] = nil
	}
	m["dnsSearch"] = []string{st.name + ".rancher.internal", svc.name + "." + st.name + ".rancher.internal", "rancher.internal"}
	m["firstRunning"] = c.created.Add(2 * time.Second).Format(time.RFC3339)
	m["firstRunningTS"] = c.created.Add(2 * time.Second).UnixMilli()
	h := fnv.New128a()
	h.Write([]byte(c.id))
	sum := h.Sum(nil)
	m["externalId"] = fmt.Sprintf("%x%x", sum, sum)
	return m
}

// sorted orders ids by creation. Called with s.mu held.
func (s *Server) sorted(ids []string) []string {
	slices.SortFunc(ids, func(a, b string) int { return s.world.order[a] - s.world.order[b] })
	if ids == nil {
		return []string{}
	}
	return ids
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func stringMap(in map[string]string) map[string]any {
	out := make(map[string]any, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// fakeUUID derives a stable UUID-shaped string from an id.
func fakeUUID(id string) string {
	h := fnv.New128a()
	h.Write([]byte(id))
	b := h.Sum(nil)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
