package cattle

import (
	"time"

	"github.com/rancher-edge/edge/discovery/labels"
)

// World is one complete read of a Rancher environment, reduced to the
// fields discovery uses.
type World struct {
	Stacks     []Stack
	Services   []Service
	Containers []Container
	Took       time.Duration // how long the read took, for the log
}

// Stack is a Rancher stack (an "environment" in API v1).
type Stack struct {
	ID, Name, State string
	System          bool
}

// Service is one service of a stack: its primary launch config's labels
// and, for host networking, the addresses Rancher published for it.
type Service struct {
	ID, StackID, Name, Kind, State, Health string
	System                                 bool
	Labels                                 map[string]string // primary launch config
	PublicIPs                              []string          // publicEndpoints[].ipAddress
	// Created is the service's creation time (the API's createdTS); zero
	// where the source has none (rancher-metadata).
	Created time.Time
}

// Container is one container; it belongs to the service that
// StackService names.
type Container struct {
	ID, Name, State, Health, IP, NetworkMode string
	StackService                             string // "<stack>/<service>", io.rancher.stack_service.name
}

// Default rule orders.
const (
	// RuleOrderServiceStack makes the default rule Host:<service>.<stack>,
	// as Traefik ≥ 1.5 does.
	RuleOrderServiceStack = "service.stack"
	// RuleOrderStackService makes it Host:<stack>.<service>, as the Traefik
	// 1.2–1.4 inside the mch1307/rancher-traefik images did.
	RuleOrderStackService = "stack.service"
)

// Settings are the provider settings that shape a snapshot.
type Settings struct {
	// Provider names the provider in snapshots and problems ("rancher",
	// "metadata"); Labels.Provider is expected to be the same.
	Provider     string
	Labels       labels.Options
	HealthFilter bool // also filter services by their own health and state
	StackFirst   bool // RuleOrderStackService
}
