// Package etcdstore keeps ACME certificates, the ACME account and
// challenge answers in etcd v3, and provides the cluster-wide locks with
// which several edge replicas share them: exactly one replica orders
// each certificate and the others pick it up.
//
// # Overview
//
// A [Store] is a certmagic.Storage (with Locker, TryLocker and
// LockLeaseRenewer) that talks to etcd through the JSON gateway every
// etcd since 3.4 serves on its client URLs, with a narrow client of its
// own (internal/etcdjson) rather than etcd's gRPC client, whose packages
// made every edge process, using etcd or not, about 3.5 MiB larger. Hand
// it to certs/acme as Config.Storage; every replica gets its own Store
// (its own client and lock session) on the same endpoints and prefix. [ParseURL] reads the
// TRAEFIK_ACME_STORAGE form, etcd://host1:2379,host2:2379/prefix (etcds://
// for TLS); credentials and client certificates come from secrets.
//
// Keys under the prefix:
//
//	<prefix>/data/<certmagic key>   the value, as certmagic stored it (PEM, JSON)
//	<prefix>/meta/<certmagic key>   {"modified", "size"}, written in the same transaction
//	<prefix>/locks/<lock name>/<lease>   waiters and holder of a lock (etcd mutex keys)
//	<prefix>/holders/<lock name>    {"replica", "lease", "acquired", "released"}
//
// Values are stored as they are, so `etcdctl get --prefix <prefix>/data/`
// shows readable certificates. A value over [MaxValueSize] is refused
// with [ErrTooLarge] before etcd sees it: etcd rejects requests over
// 1.5 MiB by default.
//
// # Locks
//
// certmagic takes "issue_cert_<name>" around every order and renewal and
// re-checks storage once it holds the lock. Lock takes an etcd mutex —
// the algorithm and key layout of etcd's concurrency package, so it
// excludes any etcd client's mutex on the same keys — bound to this
// instance's session lease, whose TTL is LockTTL and which is renewed
// every third of it: a replica that dies without unlocking blocks a name only
// until its lease expires, and Close revokes the lease so a clean
// shutdown frees its locks at once. Goroutines of one process first
// queue on a local gate, because etcd's mutex is re-entrant within a
// session. Only the holder can Unlock; anyone else gets [ErrNotLocked].
// Each acquisition writes a holder record, which [Store.Status] reports
// so the dashboard can show, per name, which replica holds or last held
// its lock. The lock losers take the lock briefly after the winner to
// re-check, so "last held" is often a replica that only loaded the
// certificate.
//
// # How replicas converge
//
// Replicas that discover a name at about the same time all call
// certmagic's ManageAsync: one wins the lock and orders; the others wait
// on the lock, then find the certificate in storage and load it instead
// of ordering, so every replica serves the same certificate seconds
// after it is issued. A replica that manages a name later loads it from
// storage directly. Renewals converge through certmagic's maintenance,
// which reloads a certificate from storage when another replica renewed
// it. What certmagic does not do is try again when its first storage
// read for a name fails (etcd unreachable at that moment): certs/acme
// has to re-check such names itself (see the package's tests).
//
// # When etcd is unreachable
//
// Certificates already in memory keep being served: handshakes never
// touch storage for them. Every storage operation is bounded by
// RequestTimeout and then fails with an error wrapping [ErrUnavailable];
// Exists reports false. Lock instead keeps trying until its context
// ends, so an order waiting for its lock resumes when etcd is back.
// Every request tries the endpoints in turn, from the one that last
// answered, and connects afresh when a connection broke. [Store.Status] turns
// unhealthy on the first failed request, and a background probe every
// StatusInterval keeps it current even when nothing else asks.
//
// # What the gateway asks of etcd
//
// The gateway must be on (etcd's --enable-grpc-gateway, the default).
// With authentication on, the store signs in with Username and Password
// and signs in again when etcd forgets its token; a client certificate
// may secure the connection but cannot sign in by its Common Name, and
// etcd refuses gateway requests whose certificate has one while
// authentication is on (its message is passed on as it is). Use a
// client certificate without a Common Name there.
package etcdstore
