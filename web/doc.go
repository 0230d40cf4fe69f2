// Package web is the edge's dashboard: server-rendered pages, a JSON API
// and Prometheus metrics, all read-only.
//
// # Overview
//
// The package never holds state of its own about routes or certificates.
// Every request asks the [Sources] functions for the current state (the
// edge's routing [edge.Table], the certificate rows of [certs.Status], the
// providers' [route.ProviderStatus]) and turns it into one view model per
// page. The HTML pages and the JSON API render the same view model, so the
// two can never disagree, and /metrics is a custom Prometheus collector
// that builds its series from the same sources at scrape time: a renewed or
// removed certificate leaves no stale series behind (traefik#8606).
//
// Pages are html/template documents with their stylesheet and one small
// script embedded with embed.FS; nothing is fetched from the network. The
// script refreshes the page's main section every few seconds by fetching
// the same page as an HTML fragment, so escaping stays in html/template and
// the Content-Security-Policy can forbid inline script.
//
// Access is HTTP basic authentication against bcrypt htpasswd lines. With
// no users the dashboard binds to loopback only, unless the operator
// explicitly accepts an open dashboard ([Config.Insecure]). /ping is always
// open, for liveness probes. The JSON API is documented in docs/api.md.
//
// # Lifecycle
//
// [New] validates and builds the router without binding anything;
// [Server.Run] listens and serves until its context ends; [Server.Close]
// stops it early. [Server.Handler] is the same router, for mounting under a
// host name on the edge's own HTTPS port.
package web
