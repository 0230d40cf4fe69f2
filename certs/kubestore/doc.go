// Package kubestore keeps ACME certificates, the ACME account and
// challenge answers in Kubernetes Secrets, and provides the cluster-wide
// locks with which several edge replicas share them, on
// coordination.k8s.io/v1 Leases: exactly one replica orders each
// certificate and the others pick it up. It is the etcd store
// (certs/etcdstore) for edges that run in a cluster and have no etcd of
// their own, and passes the same conformance suite (certs/storagetest)
// against a real kube-apiserver.
//
// # Layout
//
// A [Store] is a certmagic.Storage (with Locker, TryLocker and
// LockLeaseRenewer) on client-go, in one namespace — the edge's own by
// default. [ParseURL] reads the TRAEFIK_ACME_STORAGE form, kubernetes or
// kubernetes://<namespace>; the connection is the edge's Kubernetes
// connection.
//
// Every certmagic key is one Secret of type rancher-edge.io/acme,
// labelled app.kubernetes.io/managed-by=rancher-edge and
// rancher-edge.io/acme=storage, whose name is derived from the key: a
// readable part and 20 hex digits of its SHA-256
// (acme-certificates-acme-v02.api.letsencrypt.org-directory-example.com-example.com.crt-3f…).
// The key itself, in full, is the annotation rancher-edge.io/acme-key,
// and the time of the last write rancher-edge.io/modified; the value is
// data.value, as certmagic stored it (PEM, JSON). List and Stat of a
// directory read the Secrets' metadata only, never the certificates.
// A value over [MaxValueSize] (1 MiB, the apiserver's limit for a
// Secret) is refused with [ErrTooLarge] before the apiserver sees it.
//
// # Locks
//
// Each lock is a Lease named like the Secrets (acme-lock-…), labelled
// rancher-edge.io/acme=lock. Taking it writes this instance's identity
// (the replica name and a random suffix), the acquire and renew times
// and LockTTL as the lease duration, with the Lease's resourceVersion as
// a precondition, so of two replicas that try at once exactly one wins.
// The holder renews the Lease every third of LockTTL while it holds the
// lock; Unlock and Close empty it (and record the release time) so a
// waiter takes it at once. A holder that crashed stops renewing, and
// its Lease is taken over once it is LockTTL old; expiry compares the
// holder's renew time with the waiter's clock, so node clocks must
// agree within a fraction of LockTTL. Lock polls at most every 500 ms
// while the name is held elsewhere, and keeps trying through apiserver
// errors until its context ends.
//
// # When the apiserver is unreachable
//
// Certificates already in memory keep being served. Every request is
// bounded by RequestTimeout and then fails with an error wrapping
// [ErrUnavailable] (as does a request RBAC forbids, with the rules the
// edge needs); Exists reports false. [Store.Status] turns unhealthy on
// the first failure, and a probe every StatusInterval keeps it, and the
// holders of the locks, current.
package kubestore
