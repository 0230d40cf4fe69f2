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
// check, demo, version and help settings.
package main
