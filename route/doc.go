// Package route holds the plain data that flows from discovery to the edge:
// a [Snapshot] of [Service] values, each a frontend rule plus the servers
// behind it, and the [Problem] values found while building it.
//
// # Overview
//
// Providers (package discovery and its children) turn the outside world into
// a Snapshot. The edge compiles the union of the latest snapshot of every
// provider into an immutable routing table. The web dashboard reads
// snapshots and tables; it never writes them.
//
// The package imports only the standard library so that every other package
// may depend on it. Values are immutable once published: a provider builds a
// fresh Snapshot for every change and never modifies one it has sent.
package route
