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
// # Who serves what
//
// With the fast path on (the default), the listener that serves routes
// has the edge's own accept loop (listen.go), which does the TLS
// handshake and then:
//
//   - HTTP/1.x: the fast loop (h1conn.go) parses heads with the codec of
//     internal/h1wire and proxies requests on routes without middlewares
//     itself (h1proxy.go). Any other request — a route with middlewares, an
//     upgrade, Expect, an unusual head, a host handler — hands the
//     connection, with the bytes already read, to net/http's server for
//     the rest of its life (conns.go: handoff, replayConn).
//   - HTTP/2: the edge's own server (h2conn.go, h2stream.go, h2write.go)
//     proxies streams on routes without middlewares itself (h2proxy.go)
//     and runs the handler chain for the others (h2handler.go).
//   - net/http's server, and the edge's HTTP/2 server for the streams it
//     does not proxy, run Server.routes (handler.go): the route's handler
//     chain (chain.go), whose innermost handler is an
//     httputil.ReverseProxy over a routeTransport (proxy.go). Its
//     attempts go over the fast path's pools (pooltransport.go), or to
//     h2c:// and h2:// backends over x/net/http2 (h2upstream.go).
//
// [Config.DisableFastPath] leaves everything to net/http's server (and
// x/net/http2's for HTTP/2) and its attempts to http.Transport.
//
// All three proxy paths — the HTTP/1.1 fast loop, the HTTP/2 server's
// proxied streams, ReverseProxy's transport — run one exchange engine
// (engine.go): balancing and stickiness, the replay on a stale
// connection, the retry on another backend, the accounting of each attempt
// (passive health, counters, in flight) and the status of a failure are
// decided there; each path supplies one attempt's wire work through the
// exchanger interface. The request's preamble (Server.admit), the
// forwarded fields (forwarded.go), the hop-by-hop list (internal/h1wire)
// and the end of the request's accounting (Server.served) are shared the
// same way.
//
// Which middlewares run is decided in one place, the stages list of
// chain.go: it builds each route's handler chain, describes it (the
// dashboard, edge check) and says whether the fast paths, which apply
// only the rule's path modifiers themselves, may serve the route.
//
// A listener accepts the PROXY protocol from trusted load balancers
// ([Config.ProxyProtocol], internal/proxyproto): the header is read by
// the connection's goroutine, and its client becomes the request's remote
// address. Compression ([Config.CompressHTTPS], compress.go) is the
// outermost stage of the handler chain.
//
// Every wait has a bound (Config documents each timeout next to its
// field), and a failure on the client's side (clienterr.go) is never
// charged to a backend: every path answers it 400, 408 or 413, or records
// 499 when the client left. Passive health (backend.go) takes a backend
// whose connections keep failing out of rotation for a while.
//
// # Goroutines
//
// Run owns the listeners' goroutines and waits for them before it
// returns: net/http's Serve loops; per fast listener an accept loop, which
// starts one goroutine per connection (serveConn, counted in the
// listener's connSet and waited for by the drain); the upstream pools'
// sweeper with the fast path, or the stall watch (stall.go) without it;
// and the drain's helpers. An HTTP/2 connection's goroutine runs its read
// loop and starts its writer (writeLoop), which teardown waits for, and
// an idle timer; its streams run on worker goroutines (h2workers.go),
// reused from stream to stream, counted per connection while they serve
// one (streamWG, waited for by teardown), ended after 10 to 20 s idle by
// a timer of their stack's, and by Close, which waits for them. A proxied
// HTTP/2 stream whose body is still arriving sends it from one more
// goroutine, which the stream waits for (endBody) before it ends.
//
// Health checkers belong to a table generation: the next publish cancels
// them and waits for them before its own start (health.go); Close waits
// for the last ones. The access log's flusher, started by New, ends at
// Close.
//
// # Locks
//
// The request path takes no lock but these, each held briefly:
// hostPool.mu (one backend address's idle connections) and upPools.mu (the
// pools by address and their counts, taken on a backend's first request); h2conn.mu (an HTTP/2 connection's write buffer, HPACK
// encoder, windows, stream table and the fields of h2stream marked
// "c.mu"); tracked.mu (whether a fast-path connection is idle, for
// shutdown); stallWatch.mu (the net/http HTTP/2 answers being written);
// traffic.mu (the recent-errors ring, 5xx only); accessLog.mu (its
// buffer). Elsewhere: Server.mu serialises compiles and guards the
// providers' snapshots, the generation counter and the registry of
// per-route state (which has no lock of its own); connSet.mu the set of
// a listener's connections; upstream.mu the transports of routes with
// their own header timeout; Server.addrMu the bound addresses.
//
// State that must outlive a generation — backend counters and health,
// upstream connection pools — is keyed by stable identity and owned by the
// Server, so a table swap neither resets counters nor reconnects backends.
package edge
