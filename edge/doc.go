// Package edge serves HTTP and HTTPS: it redirects plain HTTP to HTTPS,
// matches each request against an immutable routing table, and proxies it
// to one of the route's backends.
//
// # Overview
//
// Discovery providers hand the [Server] a [route.Snapshot] each time their
// world changes. The server compiles the union of the latest snapshot of
// every provider into a [Table] — exact hosts in a map, every other rule in
// one priority-ordered list, a balancer and a handler chain per route — and
// publishes it with a single atomic pointer store. Requests load the pointer
// once and never take a lock; a request that started on one generation
// finishes on it.
//
// Two designs serve the requests, with the same policies (balancing, dial
// retry, stickiness, forwarded headers, counters, error pages). net/http's
// server with an httputil.ReverseProxy per route serves HTTP/1.x upgrades,
// Expect: 100-continue and routes with middlewares. Everything else takes
// the fast path, the edge's own accept loop: on HTTP/1.x one synchronous
// goroutine per connection parses heads strictly, proxies over the edge's
// own upstream connection pools and streams bodies, handing a connection
// to net/http (with the bytes it already read) when a request needs the
// other design; on HTTP/2 the edge's own server (h2conn.go) runs a read
// loop per connection and a goroutine per stream, proxies over the same
// pools, calls the net/http handler chain for routes with middlewares, and
// batches frame writes. [Config.DisableFastPath] switches to net/http
// alone.
//
// Two things sit around both designs. A listener accepts the PROXY
// protocol from trusted load balancers ([Config.ProxyProtocol],
// internal/proxyproto): the header is read by the connection's goroutine,
// and its client becomes the request's remote address. Compression
// ([Config.CompressHTTPS], compress.go) is the outermost stage of the
// handler chain, so a route is served by net/http while it is on.
//
// Which middlewares run is decided in one place, the stages list of
// chain.go: it builds each route's handler chain, describes it (the
// dashboard, edge check) and says whether the fast paths, which apply
// only the rule's path modifiers themselves, may serve the route.
//
// Every wait has a bound (Config documents each timeout next to its
// field), and a failure on the client's side (clienterr.go) is never
// charged to a backend: both designs answer it 400, 408 or 413, or record
// 499 when the client left. Passive health (backend.go) takes a backend
// whose connections keep failing out of rotation for a while.
//
// State that must outlive a generation — backend counters and health,
// upstream connection pools — is keyed by stable identity and owned by the
// Server, so a table swap neither resets counters nor reconnects backends.
package edge
