// Package storagetest is the conformance suite every shared ACME storage
// backend of the edge passes (certs/etcdstore, certs/kubestore): the
// certmagic.Storage semantics certmagic relies on, cluster-wide locks
// with holders and expiry, and a [Cluster] of edges (certs/acme
// managers) sharing one backend and one Pebble, for the tests that
// several replicas order each name once.
//
// A backend's tests describe it with a [Backend] and call [Run]; the
// tests run against the backend's real server, never a fake.
package storagetest
