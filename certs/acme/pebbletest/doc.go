// Package pebbletest runs Let's Encrypt's Pebble test CA inside a Go test
// process, so ACME clients can be tested end to end without binaries,
// root privileges or fixed ports.
//
// # Overview
//
// [Start] builds Pebble's CA, validation authority and ACME front end
// from the pebble/v2 packages, serves the ACME API over TLS on a free
// loopback port, and gives the validation authority:
//
//   - two loopback listeners, already bound, on which it dials HTTP-01 and
//     TLS-ALPN-01 challenges; [CA.ServeChallenges] serves them the way the
//     edge serves ports 80 and 443;
//   - a [DNS] server that answers every A query with 127.0.0.1 (overridable
//     per name) and TXT queries from records a [Provider] writes, so DNS-01
//     runs through a real libdns provider.
//
// The CA counts every new-order request, with its identifiers, so tests can
// prove that no order was placed for a name.
//
// Pebble reads its knobs from environment variables when it is built, so
// [Start] sets them with t.Setenv: tests that call it cannot be parallel
// (their packages still run in parallel with each other, since every port
// is chosen at run time).
//
// challtestsrv is not used: it registers on miekg/dns's process-wide mux
// and answers SOA queries with NOTIMP, which breaks the zone lookup of
// certmagic's DNS-01 solver; the small [DNS] server here does neither.
package pebbletest
