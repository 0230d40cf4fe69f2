// Package rancher discovers routes in a Rancher 1.x (Cattle) environment,
// as Traefik 1.x's Rancher provider did, but live and without losing routes
// when Rancher is unreachable.
//
// # Overview
//
// [Provider.Run] reads every page of the stacks, services and containers
// collections (behind a narrow interface, lister): the real go-rancher v2
// client connects and reads the schemas, and the pages stream through a
// decoder that keeps only the fields discovery reads (pages.go). It joins
// containers to services by their
// io.rancher.stack_service.name label, keeps the healthy running ones
// (Traefik's container filter) and hands each service's launch-config labels
// to labels.Build, the one code path that turns traefik.* labels into
// routes. The joined world, the filters and the assembly live in package
// cattle, shared with the rancher-metadata provider. The result is
// published as a [route.Snapshot] only when its fingerprint, a hash of
// everything the routes are built from, changed.
//
// Changes arrive through the …/subscribe?eventNames=resource.change
// websocket. Each event carries the changed resource's full current state:
// the provider patches it into the last world it read and rebuilds after a
// short debounce, without reading the API again, so a scale-up or a
// container turning unhealthy reaches the routing table in a fraction of a
// second instead of Traefik's 15 s poll; an event it cannot decode triggers
// a full re-read. The provider also polls every
// Config.Refresh, as a safety net while the socket is up and as the only
// source of changes while it is not.
//
// Any failed read keeps the last good snapshot (Traefik 1.3/1.4 published
// an empty configuration when Rancher was down) and is retried with capped
// exponential backoff. [Provider.Status] reports the mode, the last success
// and error, the next attempt, counts and every per-service problem; it
// never contains the API secret.
//
// The fake server in package ranchertest plays Rancher in the tests and in
// the `edge demo` command.
package rancher
