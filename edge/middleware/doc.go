// Package middleware implements the per-route handlers that Traefik 1.x
// frontend labels switch on: redirects (traefik.frontend.redirect.*), HTTP
// basic, digest and forward authentication (traefik.frontend.auth.*), IP
// white lists (traefik.frontend.whiteList.*), custom and security headers
// (traefik.frontend.headers.*), client certificate headers
// (traefik.frontend.passTLSClientCert.*), error pages from another backend
// (traefik.frontend.errors.*), rate limits (traefik.frontend.rateLimit.*)
// and limits on requests in flight (traefik.backend.maxconn.*).
//
// # Overview
//
// The edge compiles a routing table once per generation, off the request
// path. For each route it calls the constructors here with the route's
// [route.Redirect], [route.BasicAuth], [route.WhiteList] or [route.Headers]
// and chains the results in front of the reverse proxy. Each constructor
// validates its configuration and precomputes everything it can (parsed
// prefixes, decoded hashes, header value slices), so that a bad label turns
// into one construction error for that route rather than a failure per
// request, and so that the request path allocates little or nothing.
//
// The handlers are immutable once built and safe for concurrent use. Their
// mutable state is bounded and dies with the generation that built them:
// the cache of successful bcrypt checks, the users re-read from a users
// file (at most once a second, on a request), the rate limiter's buckets
// (65,536 keys per route at most) and the maxconn counters (only keys with
// requests in flight). Forward authentication's transports outlive
// generations on purpose, one per server and TLS material, so that their
// idle connections are reused rather than abandoned.
//
// # Trust
//
// The edge removes X-Forwarded-* headers sent by untrusted peers before these
// handlers run. They therefore believe X-Forwarded-For (in [WhiteList], when
// asked to) and X-Forwarded-Proto (to tell HTTPS from plain HTTP) as given.
//
// # Compatibility
//
// Behaviour follows Traefik 1.7 and the unrolled/secure version it vendored,
// with deliberate differences documented on each constructor: standard ports
// are left out of redirect targets, and a failing white-list or basic-auth
// check never reveals which part failed.
package middleware
