package certs

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
)

// ACMETLS1Protocol is the ALPN protocol of TLS-ALPN-01 challenges
// (RFC 8737).
const ACMETLS1Protocol = "acme-tls/1"

// cipherSuites are Mozilla's intermediate TLS 1.2 suites (guidelines 6.0):
// ECDHE with AEAD only. Set explicitly because Go's default list still
// offers the CBC suites. TLS 1.3 suites are not configurable in Go and are
// all fine.
func cipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}

// TLSConfig returns a new server configuration, Mozilla intermediate:
// TLS 1.2 and 1.3, ECDHE+AEAD suites, groups X25519MLKEM768, X25519,
// P-256, P-384, ALPN h2 and http/1.1 (and acme-tls/1 when a [Manager] is
// set, without which Go would refuse TLS-ALPN-01 hellos), certificates from
// [Store.GetCertificate]. Callers may change their copy.
func (s *Store) TLSConfig() *tls.Config {
	protos := []string{"h2", "http/1.1"}
	if s.manager() != nil {
		protos = append(protos, ACMETLS1Protocol)
	}
	return &tls.Config{
		MinVersion:       tls.VersionTLS12,
		CipherSuites:     cipherSuites(),
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384},
		NextProtos:       protos,
		GetCertificate:   s.GetCertificate,
	}
}

// GetCertificate chooses the certificate for a handshake:
//
//  1. a TLS-ALPN-01 challenge (ALPN acme-tls/1) goes to the Manager;
//  2. an unexpired file certificate for the SNI name, exact beating
//     wildcard, the one valid longest among several;
//  3. the Manager's certificate for the name;
//  4. an expired file certificate for the name, rather than a wrong one;
//  5. the default certificate, for unknown or absent SNI.
//
// It takes no lock: the file certificates are an immutable index swapped
// on reload.
func (s *Store) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	m := s.manager()
	if m != nil && slices.Contains(hello.SupportedProtos, ACMETLS1Protocol) {
		c, err := m.GetCertificate(hello)
		if err != nil {
			return nil, fmt.Errorf("certs: TLS-ALPN-01 challenge for %q: %w", hello.ServerName, err)
		}
		if c == nil {
			return nil, fmt.Errorf("certs: no TLS-ALPN-01 challenge for %q", hello.ServerName)
		}
		return c, nil
	}

	ix := s.idx.Load()
	name := normalize(hello.ServerName)
	sl, fresh := ix.match(name, s.now())
	if fresh {
		return sl.cur.cert, nil
	}
	if m != nil && name != "" {
		c, err := m.GetCertificate(hello)
		if c != nil {
			return c, nil
		}
		if err != nil {
			if sl == nil && ix.def == nil {
				return nil, fmt.Errorf("certs: certificate for %q: %w", name, err)
			}
			// Not returned, so logged; a file certificate answers.
			s.log.Debug("certificate manager failed; serving a file certificate",
				"server_name", name, "error", err)
		}
	}
	if sl != nil {
		return sl.cur.cert, nil
	}
	if ix.def != nil {
		return ix.def.cur.cert, nil
	}
	return nil, fmt.Errorf("certs: no certificate for %q", name)
}

// Covers reports whether an unexpired file certificate covers name,
// exactly or through a wildcard. The ACME manager does not order such
// names: the operator's own certificate wins.
func (s *Store) Covers(name string) bool {
	_, fresh := s.idx.Load().match(normalize(name), s.now())
	return fresh
}

// CertificateFor says which certificate a handshake with SNI name would
// get, so that a status page can list the routed hosts each certificate
// serves. ok is false when none would (no file certificate, no default,
// and nothing from the Manager). TLS-ALPN-01 challenges are not
// considered.
func (s *Store) CertificateFor(name string) (st Status, ok bool) {
	ix := s.idx.Load()
	now := s.now()
	name = normalize(name)
	sl, fresh := ix.match(name, now)
	if fresh {
		return ix.status(sl, now), true
	}
	if m := s.manager(); m != nil && name != "" {
		for _, ms := range m.Status() {
			// A pending name has no certificate yet: the default answers.
			if ms.State != StateFailed && !strings.HasPrefix(ms.ID, "pending:") && NamesCover(ms.Names, name) {
				return ms, true
			}
		}
	}
	if sl != nil {
		return ix.status(sl, now), true
	}
	if ix.def != nil {
		return ix.status(ix.def, now), true
	}
	return Status{}, false
}

// Status describes every file certificate, in configuration order, then
// the Manager's. The default one is flagged; a pair whose last
// replacement failed shows the error while its previous certificate keeps
// serving.
func (s *Store) Status() []Status {
	ix := s.idx.Load()
	now := s.now()
	out := make([]Status, 0, len(ix.slots))
	for _, sl := range ix.slots {
		out = append(out, ix.status(sl, now))
	}
	if m := s.manager(); m != nil {
		out = append(out, m.Status()...)
	}
	return out
}
