package ranchertest

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// The methods below change the world. Each change is visible to the next
// request and is sent to subscribers as resource.change events, together
// with the service and stack health Cattle recomputes. Unknown ids are
// programming errors in the test and panic.

// AddStack adds a stack and returns its id.
func (s *Server) AddStack(spec StackSpec) string {
	s.mu.Lock()
	defer s.flushUnlock()
	w := s.world
	id := w.newID("1st")
	w.stacks[id] = &stack{
		id: id, name: spec.Name, state: "active", health: "healthy", system: spec.System,
		created: epoch.Add(time.Duration(w.seq) * time.Second), services: map[string]*service{},
	}
	s.changed(id)
	return id
}

// AddService adds a service with spec.Scale running containers and
// returns its id.
func (s *Server) AddService(stackID string, spec ServiceSpec) string {
	s.mu.Lock()
	defer s.flushUnlock()
	w := s.world
	st := s.mustStack(stackID)
	id := w.newID("1s")
	svc := &service{
		id: id, stackID: stackID, name: spec.Name, kind: spec.Kind, state: spec.State,
		networkMode: spec.NetworkMode, labels: maps.Clone(spec.Labels),
		publicIPs: slices.Clone(spec.PublicEndpoints), healthCheck: spec.HealthCheck,
		scale: spec.Scale, ip: spec.IP, created: epoch.Add(time.Duration(w.seq) * time.Second),
		containers: map[string]*container{},
	}
	if svc.kind == "" {
		svc.kind = "service"
	}
	if svc.state == "" {
		svc.state = "active"
	}
	if svc.networkMode == "" {
		svc.networkMode = "managed"
	}
	w.services[id] = svc
	st.services[id] = svc
	s.changed(id)
	for range spec.Scale {
		s.addContainer(svc, ContainerSpec{})
	}
	s.updateHealth(svc)
	return id
}

// AddContainer adds a container to a service without changing its scale
// and returns its id.
func (s *Server) AddContainer(serviceID string, spec ContainerSpec) string {
	s.mu.Lock()
	defer s.flushUnlock()
	svc := s.mustService(serviceID)
	id := s.addContainer(svc, spec)
	s.updateHealth(svc)
	return id
}

// addContainer creates a container. Called with s.mu held.
func (s *Server) addContainer(svc *service, spec ContainerSpec) string {
	w := s.world
	st := w.stacks[svc.stackID]
	svc.nextIndex++
	c := &container{
		id: w.newID("1i"), serviceID: svc.id, stackID: svc.stackID, name: spec.Name,
		ip: spec.IP, state: spec.State, health: spec.Health, network: spec.NetworkMode,
		index: svc.nextIndex, hostID: fmt.Sprintf("1h%d", (svc.nextIndex+1)%2+1),
	}
	c.created = epoch.Add(time.Duration(w.seq) * time.Second)
	if c.name == "" {
		c.name = fmt.Sprintf("%s-%s-%d", st.name, svc.name, c.index)
	}
	if c.state == "" {
		c.state = "running"
	}
	if c.network == "" {
		c.network = svc.networkMode
	}
	if spec.Health == "" && svc.healthCheck {
		c.health = "healthy"
	}
	if c.ip == "" && c.network != "host" {
		if svc.ip != nil {
			c.ip = svc.ip(c.index)
		} else {
			c.ip = w.allocIP()
		}
	}
	c.labels = containerLabels(st, svc, c)
	w.containers[c.id] = c
	svc.containers[c.id] = c
	s.changed(c.id)
	s.changed(svc.id) // instanceIds and currentScale
	return c.id
}

// Scale sets a service's scale, starting new containers (healthy when the
// service has a health check) or removing the newest ones, as Cattle does.
// It returns the ids of the containers it started.
func (s *Server) Scale(serviceID string, n int) []string {
	s.mu.Lock()
	defer s.flushUnlock()
	svc := s.mustService(serviceID)
	svc.scale = n
	s.changed(svc.id)
	ids := s.sorted(slices.Collect(maps.Keys(svc.containers)))
	var started []string
	for i := len(ids); i < n; i++ {
		started = append(started, s.addContainer(svc, ContainerSpec{}))
	}
	for i := len(ids) - 1; i >= n; i-- {
		s.removeContainer(ids[i])
	}
	s.updateHealth(svc)
	return started
}

// setScale changes the scale without starting or removing containers.
func (s *Server) setScale(serviceID string, n int) {
	s.mu.Lock()
	defer s.flushUnlock()
	svc := s.mustService(serviceID)
	svc.scale = n
	s.changed(svc.id)
	s.updateHealth(svc)
}

// SetHealth sets a container's healthState ("" for null).
func (s *Server) SetHealth(containerID, health string) {
	s.mu.Lock()
	defer s.flushUnlock()
	c := s.mustContainer(containerID)
	c.health = health
	s.changed(c.id)
	s.updateHealth(s.world.services[c.serviceID])
}

// SetState sets the state of a stack, service or container.
func (s *Server) SetState(id, state string) {
	s.mu.Lock()
	defer s.flushUnlock()
	w := s.world
	switch {
	case w.stacks[id] != nil:
		w.stacks[id].state = state
	case w.services[id] != nil:
		w.services[id].state = state
		s.updateHealth(w.services[id])
	case w.containers[id] != nil:
		c := w.containers[id]
		c.state = state
		s.updateHealth(w.services[c.serviceID])
	default:
		panic("ranchertest: no resource " + id)
	}
	s.changed(id)
}

// SetLabels replaces a service's launch config labels. The fake also puts
// them on the existing containers at once; Rancher would replace the
// containers in an upgrade, with the same effect on discovery.
func (s *Server) SetLabels(serviceID string, labels map[string]string) {
	s.mu.Lock()
	defer s.flushUnlock()
	svc := s.mustService(serviceID)
	svc.labels = maps.Clone(labels)
	s.changed(svc.id)
	st := s.world.stacks[svc.stackID]
	for _, c := range svc.containers {
		c.labels = containerLabels(st, svc, c)
		s.changed(c.id)
	}
}

// SetPublicEndpoints replaces the host IPs a service publishes.
func (s *Server) SetPublicEndpoints(serviceID string, ips ...string) {
	s.mu.Lock()
	defer s.flushUnlock()
	svc := s.mustService(serviceID)
	svc.publicIPs = slices.Clone(ips)
	s.changed(svc.id)
}

// RemoveContainer removes a container (its service keeps its scale).
func (s *Server) RemoveContainer(id string) {
	s.mu.Lock()
	defer s.flushUnlock()
	c := s.mustContainer(id)
	svc := s.world.services[c.serviceID]
	s.removeContainer(id)
	s.updateHealth(svc)
}

// RemoveService removes a service and its containers.
func (s *Server) RemoveService(id string) {
	s.mu.Lock()
	defer s.flushUnlock()
	s.removeService(s.mustService(id))
}

// RemoveStack removes a stack with its services and containers.
func (s *Server) RemoveStack(id string) {
	s.mu.Lock()
	defer s.flushUnlock()
	st := s.mustStack(id)
	for _, svc := range st.services {
		s.removeService(svc)
	}
	s.removed(id)
	delete(s.world.stacks, id)
}

func (s *Server) removeService(svc *service) {
	for id := range svc.containers {
		s.removeContainer(id)
	}
	s.removed(svc.id)
	st := s.world.stacks[svc.stackID]
	delete(st.services, svc.id)
	delete(s.world.services, svc.id)
	s.updateStackHealth(st)
	s.changed(st.id)
}

func (s *Server) removeContainer(id string) {
	w := s.world
	c := w.containers[id]
	s.removed(id)
	delete(w.services[c.serviceID].containers, id)
	delete(w.containers, id)
	s.changed(c.serviceID)
}

// ServiceID finds a service by stack and service name; "" if absent.
func (s *Server) ServiceID(stackName, serviceName string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, svc := range s.world.services {
		if svc.name == serviceName && s.world.stacks[svc.stackID].name == stackName {
			return id
		}
	}
	return ""
}

// ContainerIDs lists a service's containers, oldest first.
func (s *Server) ContainerIDs(serviceID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sorted(slices.Collect(maps.Keys(s.mustService(serviceID).containers)))
}

// The helpers below are called with s.mu held. must* panic for unknown ids;
// the caller's deferred unlock releases the lock.

// updateHealth recomputes a service's and its stack's healthState.
func (s *Server) updateHealth(svc *service) {
	if h := serviceHealth(svc); h != svc.health {
		svc.health = h
		s.changed(svc.id)
	}
	s.updateStackHealth(s.world.stacks[svc.stackID])
}

func (s *Server) updateStackHealth(st *stack) {
	if h := stackHealth(st); h != st.health {
		st.health = h
		s.changed(st.id)
	}
}

func (s *Server) mustStack(id string) *stack {
	if st := s.world.stacks[id]; st != nil {
		return st
	}
	panic("ranchertest: no stack " + id)
}

func (s *Server) mustService(id string) *service {
	if svc := s.world.services[id]; svc != nil {
		return svc
	}
	panic("ranchertest: no service " + id)
}

func (s *Server) mustContainer(id string) *container {
	if c := s.world.containers[id]; c != nil {
		return c
	}
	panic("ranchertest: no container " + id)
}
