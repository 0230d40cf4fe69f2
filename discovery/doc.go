// Package discovery defines what a provider is: something that watches part
// of the outside world (a routes file, a Rancher environment) and publishes
// an immutable [route.Snapshot] each time that world changes.
//
// Providers live in sub-packages: [github.com/rancher-edge/edge/discovery/file],
// [github.com/rancher-edge/edge/discovery/rancher] and
// [github.com/rancher-edge/edge/discovery/consul] (service tags as labels),
// among others. All turn Traefik 1.x labels into routes through one code
// path,
// [github.com/rancher-edge/edge/discovery/labels].
//
// Providers never import the edge or the dashboard: data flows one way.
package discovery
