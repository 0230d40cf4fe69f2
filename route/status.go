package route

import "time"

// ProviderStatus is what a discovery provider reports about itself for the
// dashboard and the logs. It never holds credentials.
type ProviderStatus struct {
	Name     string // "file", "rancher"
	Endpoint string // URL or path, without credentials
	Mode     string // "events", "polling", "watching"

	// KeySource says where credentials came from, e.g.
	// "TRAEFIK_RANCHER_ACCESSKEY" or "CATTLE_ACCESS_KEY"; never the value.
	KeySource string

	LastSync    time.Time // last attempt that finished, good or bad
	LastSuccess time.Time
	LastError   string // empty after a success
	ErrorSince  time.Time
	NextAttempt time.Time

	Stacks     int
	Services   int
	Containers int
	Instances  int // service instances (Consul), where there are no containers
	Routes     int

	Syncs  uint64 // successful syncs
	Errors uint64 // failed syncs

	Problems []Problem

	// Notes are plain statements about how the provider is set up that
	// people should not miss, e.g. that every registered service is
	// published. They are not errors.
	Notes []string
}
