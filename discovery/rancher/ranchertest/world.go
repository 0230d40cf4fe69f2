package ranchertest

import (
	"fmt"
	"maps"
	"strconv"
	"time"
)

// StackSpec describes a stack to add.
type StackSpec struct {
	Name string
	// System marks infrastructure stacks (healthcheck, ipsec, ...), which
	// discovery must skip.
	System bool
}

// ServiceSpec describes a service to add.
type ServiceSpec struct {
	Name string
	// Labels are the primary launch config's labels (traefik.* and others).
	// Cattle copies them onto every container of the service.
	Labels map[string]string
	// Kind is the service type; empty means "service". Others are
	// "loadBalancerService", "externalService", "dnsService".
	Kind string
	// State is the service state; empty means "active".
	State string
	// NetworkMode is the launch config's network mode for new containers;
	// empty means "managed". With "host", containers have no primary IP of
	// their own, as Traefik assumes when it uses PublicEndpoints instead.
	NetworkMode string
	// PublicEndpoints are host IP addresses published by the service; nil
	// renders as null.
	PublicEndpoints []string
	// HealthCheck gives the launch config an HTTP health check; containers
	// created by Scale then start "healthy" instead of with a null health.
	HealthCheck bool
	// Scale is the number of running containers created with the service.
	Scale int
	// IP returns the primary IP of the container with the given 1-based
	// index; nil allocates addresses from 10.42.0.0/16.
	IP func(index int) string
}

// ContainerSpec describes a container to add to a service.
type ContainerSpec struct {
	// Name defaults to "<stack>-<service>-<index>" as in Rancher 1.6.
	Name string
	// IP is the primaryIpAddress; empty allocates one unless the network
	// mode is "host".
	IP string
	// State defaults to "running".
	State string
	// Health is the healthState; empty renders as null (no health check).
	Health string
	// NetworkMode defaults to the service's.
	NetworkMode string
}

type stack struct {
	id, name, state, health string
	system                  bool
	created                 time.Time
	services                map[string]*service
	cache                   rendering
}

type service struct {
	id, stackID, name, kind, state, health, networkMode string
	labels                                              map[string]string
	publicIPs                                           []string
	healthCheck                                         bool
	scale                                               int
	nextIndex                                           int
	ip                                                  func(int) string
	created                                             time.Time
	containers                                          map[string]*container
	cache                                               rendering
}

type container struct {
	id, serviceID, stackID, name string
	ip, state, health, network   string
	labels                       map[string]string
	index                        int
	hostID                       string
	created                      time.Time
	cache                        rendering
}

// rendering caches a resource's REST form for one URL base, the one
// nearly every request uses.
type rendering struct {
	base string // scope base + " " + version base
	body []byte // compact, slash-escaped, links filled in
}

// world is the fake's state. All access is under Server.mu.
type world struct {
	stacks     map[string]*stack
	services   map[string]*service
	containers map[string]*container
	order      map[string]int // id → creation sequence, the collections' order
	seq        int
	nextIP     int
	nextID     map[string]int // id prefix → next number
}

func newWorld() *world {
	return &world{
		stacks:     map[string]*stack{},
		services:   map[string]*service{},
		containers: map[string]*container{},
		order:      map[string]int{},
		// Start where the fixtures' ids start so ids look familiar.
		nextID: map[string]int{"1st": 5, "1s": 5, "1i": 10},
	}
}

func (w *world) newID(prefix string) string {
	n := w.nextID[prefix]
	w.nextID[prefix] = n + 1
	id := prefix + strconv.Itoa(n)
	w.seq++
	w.order[id] = w.seq
	return id
}

// allocIP hands out 10.42.x.y addresses, the Rancher managed network.
func (w *world) allocIP() string {
	w.nextIP++
	n := w.nextIP
	return fmt.Sprintf("10.42.%d.%d", n/250, n%250+2)
}

// containerLabels are the labels Cattle puts on a service's container: the
// launch config labels plus its own io.rancher.* system labels. Discovery
// joins containers to services by io.rancher.stack_service.name.
func containerLabels(st *stack, svc *service, c *container) map[string]string {
	l := maps.Clone(svc.labels)
	if l == nil {
		l = map[string]string{}
	}
	l["io.rancher.stack.name"] = st.name
	l["io.rancher.project.name"] = st.name
	l["io.rancher.stack_service.name"] = st.name + "/" + svc.name
	l["io.rancher.project_service.name"] = st.name + "/" + svc.name
	l["io.rancher.container.name"] = c.name
	l["io.rancher.service.launch.config"] = "io.rancher.service.primary.launch.config"
	l["io.rancher.environment.uuid"] = "adminProject"
	if c.ip != "" {
		l["io.rancher.container.ip"] = c.ip + "/16"
	}
	if st.system {
		l["io.rancher.container.system"] = "true"
	}
	return l
}

// serviceHealth computes a service's healthState as Cattle's
// ServiceDiscoveryServiceImpl does (reference §3.4).
func serviceHealth(svc *service) string {
	if svc.kind != "service" && svc.kind != "loadBalancerService" {
		return "healthy"
	}
	healthy, initializing := 0, 0
	for _, c := range svc.containers {
		if c.state != "running" {
			continue
		}
		switch c.health {
		case "", "healthy", "updating-healthy":
			healthy++
		case "initializing", "reinitializing":
			initializing++
		}
	}
	switch {
	case healthy >= svc.scale:
		return "healthy"
	case initializing > 0:
		return "initializing"
	case healthy > 0:
		return "degraded"
	default:
		return "unhealthy"
	}
}

// stackHealth aggregates the services' health as Cattle does for stacks.
func stackHealth(st *stack) string {
	total, healthy, initializing := 0, 0, 0
	for _, svc := range st.services {
		switch svc.state {
		case "removing", "removed", "purging", "purged":
			continue
		}
		total++
		active := svc.state == "active" || svc.state == "updating-active" || svc.state == "upgraded" || svc.state == "upgrading"
		switch {
		case active && (svc.health == "healthy" || svc.health == "started-once"):
			healthy++
		case svc.health == "initializing":
			initializing++
		}
	}
	switch {
	case total == healthy:
		return "healthy"
	case initializing > 0:
		return "initializing"
	case healthy > 0:
		return "degraded"
	default:
		return "unhealthy"
	}
}
