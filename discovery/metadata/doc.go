// Package metadata discovers routes from rancher-metadata, the metadata
// service inside every Rancher 1.x container
// (http://rancher-metadata.rancher.internal): no API key, and only what
// the environment publishes to its containers. It is the mode the Rancher
// 1.6 catalog's Traefik defaulted to (rancher_integration: metadata).
//
// # Overview
//
// [Provider.Run] reads <url>/<prefix>/stacks (services and containers are
// nested in it) as JSON, turns it into the world both Rancher providers
// share (package cattle: the same container filter, service filter, default
// rule and labels.Build as the API provider) and publishes a snapshot when
// its fingerprint changes.
//
// Changes are seen by long-polling <url>/<prefix>/version?wait=true&value=
// <last>&maxWait=<n>: the server answers as soon as its answers are
// reloaded, so a change is live in the time of one read. maxWait is the
// refresh period capped at the server's own cap (120 s), and the HTTP
// client waits maxWait + 10 s: Traefik 1.7 waited 10 s for a 15 s maxWait,
// so every poll timed out and was reissued. With IntervalPoll the provider
// instead asks for /version every refresh period (what cost Traefik users
// 80 % CPU when they polled /stacks; here only a changed version is read).
//
// Prefixes 2015-12-19, 2016-07-29 and latest (= 2016-07-29) are served
// with or without a leading slash: they differ in name casing
// (2016-07-29 lower-cases stack, service and container names) and in the
// port format, neither of which routes depend on. 2015-07-25 lists only
// names and is refused.
//
// Metadata carries no service health, so the service health filter acts on
// the service state alone; a host-network container's primary_ip is its
// host's address already (Cattle sets it so).
//
// A failed read or poll keeps the last good snapshot, is retried with
// capped exponential backoff, and [Provider.Status] says why (Traefik
// cleared its configuration when metadata was unreachable).
package metadata
