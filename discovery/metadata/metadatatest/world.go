package metadatatest

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
)

// World is an environment as Rancher describes it to rancher-metadata.
// Zero values take the defaults named on each field.
type World struct {
	Hosts  []Host
	Stacks []Stack
}

// Host is a Rancher host.
type Host struct {
	Name    string // required
	AgentIP string
	Labels  map[string]string
}

// Stack is a stack and its services.
type Stack struct {
	Name     string // required; any case (2016-07-29 lower-cases it)
	System   bool
	Services []Service
}

// Service is a service and its containers.
type Service struct {
	Name   string // required
	Kind   string // "" means "service"
	State  string // "" means "active"
	System bool
	Labels map[string]string
	// Primary names the service whose sidekick this is; "" for a
	// primary service.
	Primary    string
	Containers []Container
}

// Container is a container of a service.
type Container struct {
	Name   string // "" means <stack>-<service>-<n>, as Rancher names them
	IP     string // primary_ip; for host networking, the host's address
	State  string // "" means "running"
	Health string // health_state, verbatim: "" is a container without health check
	Host   string // a Host's name, optional
	Ports  []string
}

// object is one metadata object of the answers stream.
type object map[string]any

// Answers encodes w as an answers file for the server; version is the
// file's own version (the server's /version changes on every reload
// whatever it is).
func Answers(w World, version string) ([]byte, error) {
	objs, err := objects(w, version)
	if err != nil {
		return nil, err
	}
	var data bytes.Buffer
	zw, err := flate.NewWriter(&data, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	enc := json.NewEncoder(zw)
	for _, o := range objs {
		if err := enc.Encode(o); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	// []byte fields marshal as base64, which is how the server's
	// MetadataDelta reads Data.
	return json.Marshal(struct {
		Version string
		Data    []byte
	}{version, data.Bytes()})
}

// objects lists the metadata objects of w, in the order Cattle sends them:
// defaults, hosts, stacks, services, containers, then the links.
func objects(w World, version string) ([]object, error) {
	const env = "env-uuid-1a5"
	objs := []object{{"metadata_kind": "defaultData", "version": version}}
	hosts := map[string]object{}
	for i, h := range w.Hosts {
		if h.Name == "" {
			return nil, fmt.Errorf("host %d has no name", i)
		}
		o := object{
			"metadata_kind": "host", "uuid": "host-" + h.Name, "name": h.Name, "hostname": h.Name,
			"agent_ip": h.AgentIP, "host_id": i + 1, "labels": labels(h.Labels), "state": "active",
			"environment_uuid": env,
		}
		hosts[h.Name] = o
		objs = append(objs, o)
	}
	var services, containers, links []object
	seen := map[string]bool{}
	for _, st := range w.Stacks {
		if st.Name == "" {
			return nil, fmt.Errorf("a stack has no name")
		}
		if seen[strings.ToLower(st.Name)] {
			return nil, fmt.Errorf("stack %s twice", st.Name)
		}
		seen[strings.ToLower(st.Name)] = true
		stackUUID := "stack-" + strings.ToLower(st.Name)
		objs = append(objs, object{
			"metadata_kind": "stack", "uuid": stackUUID, "name": st.Name, "system": st.System,
			"environment_uuid": env, "environment_name": "Default",
		})
		for _, svc := range st.Services {
			if svc.Name == "" {
				return nil, fmt.Errorf("stack %s: a service has no name", st.Name)
			}
			serviceUUID := "service-" + strings.ToLower(st.Name+"-"+svc.Name)
			primary := svc.Name
			if svc.Primary != "" {
				primary = svc.Primary
			}
			services = append(services, object{
				"metadata_kind": "service", "uuid": serviceUUID, "name": svc.Name,
				"stack_name": st.Name, "stack_uuid": stackUUID, "primary_service_name": primary,
				"kind": or(svc.Kind, "service"), "state": or(svc.State, "active"), "system": svc.System,
				"labels": labels(svc.Labels), "scale": len(svc.Containers), "create_index": len(services) + 1,
				"environment_uuid": env, "environment_name": "Default",
				"fqdn": "", "health_check": nil, "links": nil, "metadata": map[string]any{}, "ports": []string{}, "sidekicks": nil,
			})
			for i, c := range svc.Containers {
				name := c.Name
				if name == "" {
					name = fmt.Sprintf("%s-%s-%d", st.Name, svc.Name, i+1)
				}
				containerUUID := fmt.Sprintf("container-%s-%d", serviceUUID, i+1)
				o := object{
					"metadata_kind": "container", "uuid": containerUUID, "name": name,
					"primary_ip": c.IP, "ips": nonEmpty(c.IP), "state": or(c.State, "running"), "health_state": c.Health,
					"service_name": svc.Name, "stack_name": st.Name, "create_index": i + 1, "service_index": fmt.Sprint(i + 1),
					"labels": labels(map[string]string{
						"io.rancher.stack.name":         st.Name,
						"io.rancher.stack_service.name": st.Name + "/" + primary,
					}),
					"ports": ports(c.Ports), "system": svc.System, "environment_uuid": env,
				}
				if c.Host != "" {
					h, ok := hosts[c.Host]
					if !ok {
						return nil, fmt.Errorf("container %s: no host %s", name, c.Host)
					}
					o["host_uuid"], o["hostname"], o["host_ip"] = h["uuid"], c.Host, h["agent_ip"]
				}
				containers = append(containers, o)
				links = append(links, object{
					"metadata_kind": "serviceContainerLink", "service_uuid": serviceUUID,
					"service_name": svc.Name, "container_uuid": containerUUID,
				})
			}
		}
	}
	objs = append(objs, services...)
	objs = append(objs, containers...)
	return append(objs, links...), nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func labels(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

func nonEmpty(ip string) []string {
	if ip == "" {
		return []string{}
	}
	return []string{ip}
}

func ports(p []string) []any {
	out := make([]any, len(p))
	for i, x := range p {
		out[i] = x
	}
	return out
}
