// Package acme obtains and renews certificates from Let's Encrypt, or any
// ACME CA, for the names the edge routes, with certmagic.
//
// # Overview
//
// A [Manager] owns one certmagic Cache and up to three Configs on it: one
// solving HTTP-01 and TLS-ALPN-01 for plain names, one solving DNS-01
// through a libdns provider for wildcards (see [DNSProvider]), and, when
// on-demand issuance is on, one whose decision is the route table. The
// cache's GetConfigForCert routes each certificate's renewals to the
// right one. Nothing touches certmagic's package-level defaults.
//
// The edge feeds the routing table's names to [Manager.SetHosts] on every
// change. Eligible names are handed to certmagic's ManageAsync, one
// context per name, so orders run in the background with certmagic's
// backoff and never block start-up or serving; names whose routes have
// been gone for [Config.ReleaseAfter] are released (their files stay in
// storage). Names that a certificate from secrets already covers
// ([Config.Covers]) are never ordered, nor are IP addresses, localhost,
// dotless names, names with underscores, or HostRegexp rules.
//
// The account key and certificates live in certmagic storage (files under
// /data/acme by default): a restart loads them and orders nothing.
// Renewals swap the cached certificate in place, so handshakes in flight
// and after see a valid certificate throughout.
//
// A stack switching from Traefik keeps what Traefik obtained:
// [Config.ImportFrom] names its acme.json ([ParseTraefikACME] reads every
// format), and Run, before managing any name, writes the account and the
// usable certificates into storage under the keys certmagic reads, once
// per storage (a marker records it), so certmagic finds them instead of
// ordering.
//
// [Manager.GetCertificate] implements certs.Manager: the certificate
// store asks it after its own files. It also answers TLS-ALPN-01
// handshakes, which the store must pass to it before anything else.
// [Manager.HandleHTTPChallenge] answers HTTP-01 on port 80 ahead of the
// redirect to HTTPS.
//
// certmagic's events (cert_obtaining, cert_obtained, cert_failed,
// cached_managed_cert) are recorded per name, and [Manager.Status]
// turns them, with the cached certificates, into certs.Status rows: state,
// last renewal, next renewal or retry, and the last error in plain words.
//
// The pebbletest subpackage runs Pebble, Let's Encrypt's test CA, in
// process, which the tests here and elsewhere use; bindtest runs BIND 9
// as a real authoritative DNS server for DNS-01 through RFC 2136.
package acme
