package certs

import (
	"crypto/sha256"
	"slices"
	"strings"
	"time"
)

// Provided is a certificate a discovery provider found, such as the
// Kubernetes Secret an Ingress names in spec.tls, with the hosts it is to
// be served for.
type Provided struct {
	// ID names it stably and without secrets, e.g.
	// "kubernetes:shop/web-tls"; it is the status page's Origin.
	ID string
	// Hosts are the names to serve it for; only those the certificate
	// covers are served. Empty means the certificate's own names.
	Hosts []string
	// Cert is the PEM chain, leaf first; Key the PEM private key.
	Cert, Key []byte
}

// providedCache remembers loaded provider certificates by ID and content,
// so a table rebuild does not parse keys again. Guarded by Store.mu.
type providedCache map[string]providedEntry

type providedEntry struct {
	sum [32]byte
	l   *loaded
	err error
}

// Check parses a provider's certificate and key as the store would load
// them — chain in order, key matching the leaf — and returns the names it
// serves and when it expires. Errors never quote the material.
func Check(certPEM, keyPEM []byte) (names []string, notAfter time.Time, err error) {
	l, err := loadBytes("certificate", certPEM, keyPEM, time.Now())
	if err != nil {
		return nil, time.Time{}, err
	}
	return l.names, l.status.NotAfter, nil
}

func loadBytes(name string, certPEM, keyPEM []byte, now time.Time) (*loaded, error) {
	return loadPEM(name, "tls.crt", "tls.key", certPEM, keyPEM, now)
}

// SetProvided replaces the provider certificates. Each is served by SNI for
// those of its hosts it covers, next to the file certificates (exact beats
// wildcard; among equals the one valid longest); the default certificate
// stays the file one. One that does not load is listed in [Store.Status]
// as failed and not served, so its hosts get the default certificate.
// New handshakes see the new set at once; handshakes under way finish
// with the old one.
func (s *Store) SetProvided(list []Provided) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.provided == nil {
		s.provided = providedCache{}
	}
	old := s.idx.Load()
	slots := slices.Clone(old.slots[:len(s.pairs)])
	next := make(providedCache, len(list))
	same := len(old.slots)-len(s.pairs) == len(list)
	for i, p := range list {
		h := sha256.New()
		h.Write(p.Cert)
		h.Write([]byte{0})
		h.Write(p.Key)
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		e, ok := s.provided[p.ID]
		if !ok || e.sum != sum {
			l, err := loadBytes(p.ID, p.Cert, p.Key, now)
			e = providedEntry{sum: sum, l: l, err: err}
			if err == nil {
				s.log.Info("provider certificate loaded", "origin", p.ID, "names", l.names)
			} else {
				s.log.Warn("provider certificate rejected; its hosts get the default certificate", "origin", p.ID, "error", err)
			}
		}
		next[p.ID] = e
		sl := &slot{pair: -1, provided: p.ID}
		if e.err != nil {
			sl.lastErr, sl.lastErrAt = e.err.Error(), now
		} else {
			sl.cur = e.l
			sl.serve = servedNames(e.l.names, p.Hosts)
			if len(sl.serve) == 0 {
				sl.lastErr, sl.lastErrAt = "the certificate covers none of the hosts "+strings.Join(p.Hosts, ", "), now
			}
		}
		slots = append(slots, sl)
		if same {
			o := old.slots[len(s.pairs)+i]
			same = o.provided == sl.provided && o.cur == sl.cur && slices.Equal(o.serve, sl.serve) && o.lastErr == sl.lastErr
		}
	}
	s.provided = next
	if same {
		return // nothing changed: keep the generation
	}
	s.idx.Store(buildIndex(old.gen+1, slots, s.defPair))
}

// servedNames are the hosts a certificate with names serves: those of
// hosts it covers, or all its names when hosts is empty.
func servedNames(names, hosts []string) []string {
	if len(hosts) == 0 {
		return names
	}
	var out []string
	for _, h := range hosts {
		h = normalize(h)
		if coversHost(names, h) && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// coversHost is NamesCover for a listed host, which may itself be a
// wildcard: "*.example.com" is covered only by the same wildcard.
func coversHost(names []string, host string) bool {
	if strings.HasPrefix(host, "*.") {
		return slices.Contains(names, host)
	}
	return NamesCover(names, host)
}

// describeProvided completes the status of a provider certificate.
func describeProvided(st *Status, sl *slot) {
	st.Source = "provider"
	if src, _, ok := strings.Cut(sl.provided, ":"); ok {
		st.Source = src
	}
	st.Origin = sl.provided
	if sl.cur == nil {
		st.ID = "provided:" + sl.provided
	}
	if sl.cur != nil && len(sl.serve) > 0 {
		st.Names = slices.Clone(sl.serve)
	}
}
