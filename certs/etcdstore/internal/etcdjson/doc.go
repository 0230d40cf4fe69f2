// Package etcdjson is a narrow etcd v3 client that speaks the JSON
// gateway every etcd server since 3.4 serves on its client URLs
// (/v3/kv/range, /v3/kv/txn, /v3/lease/…, /v3/watch, /v3/auth/…).
//
// It exists so that the edge does not link etcd's official client: that
// client brings gRPC, protobuf and their generated API packages, whose
// package initialisation alone made every edge process about 6 MiB larger
// in resident memory, whether or not it used etcd. The gateway runs the
// same gRPC services on the server side, so the semantics — revisions,
// transactions, leases, watches — are etcd's own.
//
// What it covers is what certs/etcdstore needs: ranges (by key or
// prefix, sorted, limited, keys or count only), transactions with
// comparisons on create revision and value, puts with a lease, deletes,
// lease grant, keep-alive and revoke, waiting for a key's deletion with
// a watch, and password authentication with a token that is fetched
// again when etcd forgets it.
//
// # Wire form
//
// The gateway marshals with protobuf's JSON mapping using the proto
// field names (snake_case), omitting zero values: bytes are base64,
// 64-bit integers are decimal strings, enums are their names, and a
// streaming call answers with one {"result": …} object per message.
// Requests may use numbers for 64-bit integers, which this client does.
//
// # Failures
//
// Every call is bounded by its context. A call that cannot reach an
// endpoint (refused, reset, timed out before an answer) tries the next
// endpoint once round; the endpoint that last answered is tried first.
// An answer from etcd that is an error is returned as an [*Error] with
// the gRPC code and etcd's message, and is not retried elsewhere. Nothing
// in an error carries the password or the token.
//
// # Goroutines
//
// A [Client] starts none. [Client.WaitDeleted] reads its watch stream on
// the caller's goroutine and closes it when it returns.
package etcdjson
