package discovery

import (
	"context"

	"github.com/rancher-edge/edge/route"
)

// Provider watches one source of routes.
//
// Run blocks until ctx is done. It calls publish with a complete snapshot
// after the first successful read and after every change; it never publishes
// a snapshot built from a failed read, so the last good routes stay in
// service while the source is unreachable. publish must not block for long
// and must not retain a reference to anything but the snapshot. Run returns
// nil when ctx is cancelled and an error only when it cannot go on at all.
//
// Status may be called at any time from any goroutine.
type Provider interface {
	Name() string
	Run(ctx context.Context, publish func(route.Snapshot)) error
	Status() route.ProviderStatus
}
