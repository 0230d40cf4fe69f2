// Command edge is a TLS edge proxy for Rancher 1.x stacks: it terminates
// TLS with secret-held or ACME certificates, redirects HTTP to HTTPS and
// routes to the services Rancher labels with Traefik 1.x labels.
//
// This package reads the configuration once (flags over the environment
// variables the community Traefik images used, with the secret-file rules
// of package secrets), wires the parts — certificate store, ACME manager,
// discovery providers, edge server, dashboard — and runs them until a
// signal. Everything is in run(ctx, args, getenv, stdout, stderr) so tests
// drive the whole program in-process. Subcommands: serve (the default),
// check (the same construction as serve, binding nothing; --online also
// contacts Rancher and the ACME CA), demo, version, help settings and help
// migrating.
//
// The community images' variables (compat.go lists every one) are
// honoured, aliased to the edge's own names, or refused or warned about
// out loud (dropin.go); docs/migrating.md is generated from the same
// tables.
package main
