// Package certs is the edge's certificate store: certificate and key pairs
// from secret files (rotated without a restart), SNI selection where an
// exact name beats a wildcard, a default certificate for unknown or absent
// SNI, the TLS settings the listeners use, and a [Status] for every
// certificate. Certificates obtained at run time (ACME) plug in through
// [Manager].
//
// # Overview
//
// cmd/edge resolves TRAEFIK_SSL_CERT / TRAEFIK_SSL_PRIVATE_KEY (and their
// aliases) into [secrets.Value] pairs and hands them to [New], which loads
// and checks every pair — key matches certificate, chain in order — and
// reports every bad pair at once, by setting and path, never by content.
//
// The handshake path ([Store.GetCertificate]) reads one immutable index
// through an atomic pointer and takes no lock. [Store.Run] polls the files
// (see [secrets.Watcher]); when one changes, the pair is reloaded and a new
// index is published, so new handshakes get the new certificate while
// handshakes under way finish with the old one. A replacement that does not
// load is not published: the old certificate keeps serving and the error
// shows in [Store.Status] until a good replacement arrives.
//
// # Selection
//
// For a ClientHello, in order: TLS-ALPN-01 challenges (ALPN acme-tls/1) go
// to the [Manager]; then an unexpired file certificate whose name equals the
// SNI name (case-insensitively), then one whose wildcard covers it — a
// wildcard covers exactly one label, so "*.example.com" serves
// "a.example.com" but neither "example.com" nor "a.b.example.com" — the one
// valid longest when several match; then the Manager; then the default
// certificate (TRAEFIK_DEFAULT_CERT, else the first pair). [Store.Covers]
// tells the Manager which names the files already serve.
//
// # TLS settings
//
// [Store.TLSConfig] follows Mozilla's intermediate profile (guidelines
// 6.0): TLS 1.2 and 1.3, TLS 1.2 suites ECDHE with AEAD only, groups
// X25519MLKEM768, X25519, P-256, P-384, ALPN h2 and http/1.1.
package certs
