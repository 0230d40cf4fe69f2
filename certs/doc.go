// Package certs is the edge's certificate store: certificate and key pairs
// from secret files (rotated without a restart), SNI selection where an
// exact name beats a wildcard, a default certificate for unknown or absent
// SNI, the TLS settings the listeners use, and a [Status] for every
// certificate. Certificates obtained at run time (ACME) plug in through
// [Manager].
package certs
