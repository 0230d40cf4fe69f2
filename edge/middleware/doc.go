// Package middleware implements the per-route handlers that Traefik 1.x
// frontend labels switch on: redirects (traefik.frontend.redirect.*), HTTP
// basic authentication (traefik.frontend.auth.basic.*), IP white lists
// (traefik.frontend.whiteList.*) and custom and security headers
// (traefik.frontend.headers.*).
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
// The handlers are immutable once built and safe for concurrent use. The
// only mutable state is the bounded cache of successful bcrypt checks inside
// a [BasicAuth] handler, which dies with the generation that built it.
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
