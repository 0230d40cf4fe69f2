// Package cattle is the Rancher 1.x (Cattle) world as both Rancher
// providers see it: stacks, services and containers reduced to the fields
// discovery reads, and the one place that turns them into routes.
//
// The API provider ([github.com/rancher-edge/edge/discovery/rancher]) reads
// the three collections of the Rancher API; the metadata provider
// ([github.com/rancher-edge/edge/discovery/metadata]) reads the nested
// stacks of rancher-metadata. Both produce a [World], and [Build] applies
// Traefik 1.7's filters (containers by health and state, services by
// health and state when asked), the default rule and labels.Build, so the
// two modes route the same world the same way.
package cattle
