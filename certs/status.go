package certs

import (
	"crypto/tls"
	"time"
)

// State is a certificate's condition as the status page shows it.
type State string

const (
	StateValid    State = "valid"    // in date, more than 1/3 of its lifetime left
	StateRenewing State = "renewing" // a renewal is under way
	StateExpiring State = "expiring" // less than 1/3 of its lifetime left
	StateExpired  State = "expired"  // past NotAfter
	StateFailed   State = "failed"   // could not be loaded or obtained; see LastError
)

// Status describes one certificate for the status page, the JSON API and
// metrics. It never holds key material.
type Status struct {
	// ID is stable for one certificate: its SHA-256 fingerprint, or, when no
	// certificate could be had, "pending:<name>" / "file:<setting>".
	ID string

	Names  []string // SANs (DNS names first, then IPs)
	Source string   // "file" or "acme"
	// Origin says where it came from without secrets: the setting and the
	// file path or secret alias for file certificates, the CA directory URL
	// for ACME ones.
	Origin string

	Issuer             string
	Serial             string // hex
	KeyType            string // "ECDSA", "RSA", "Ed25519"
	KeyBits            int
	SignatureAlgorithm string
	SHA256             string // hex fingerprint of the leaf DER

	NotBefore time.Time
	NotAfter  time.Time

	State State
	// Default is true for the certificate answering unknown or absent SNI.
	Default bool

	LastRenewal time.Time // when this certificate was loaded or obtained
	NextRenewal time.Time // next renewal attempt or retry; zero for files
	LastError   string    // plain words; empty when the last attempt worked
	LastErrorAt time.Time
}

// Manager is a source of certificates obtained at run time, such as ACME.
// The [Store] consults it after the file certificates.
type Manager interface {
	// GetCertificate returns a certificate for hello, or (nil, nil) when it
	// has none for that name. It also answers TLS-ALPN-01 challenges.
	GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error)
	// Status lists the certificates and pending names it manages.
	Status() []Status
}

// StateFor grades a certificate valid at now from its validity period.
func StateFor(notBefore, notAfter, now time.Time) State {
	if !now.Before(notAfter) {
		return StateExpired
	}
	life := notAfter.Sub(notBefore)
	if life > 0 && notAfter.Sub(now) < life/3 {
		return StateExpiring
	}
	return StateValid
}
