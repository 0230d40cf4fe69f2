package acme

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/mholt/acmez/v3/acme"
)

// importMarkerKey is where the storage remembers that an acme.json was
// imported, and what came of it; its presence makes the import happen
// once, whichever edge sharing the storage does it.
const importMarkerKey = "rancher-edge/traefik-import.json"

// importRecord is the marker's content.
type importRecord struct {
	Source       string           `json:"source"`
	At           time.Time        `json:"at"`
	Account      string           `json:"account,omitempty"` // e-mail, or "" when none was imported
	Certificates []importedCert   `json:"certificates"`
	Skipped      []TraefikSkipped `json:"skipped,omitempty"`
}

type importedCert struct {
	Names  []string `json:"names"`
	SHA256 string   `json:"sha256"`
}

// importTraefik imports cfg.ImportFrom into the storage once: the account
// registered at the configured CA, and every usable certificate under each
// of its names, where the storage has none yet. certmagic then finds them
// there as if it had obtained them, so nothing is ordered for them. It
// runs at the start of Run, before any name is managed. Errors are logged:
// the edge runs on, ordering what it has to.
func (m *Manager) importTraefik(ctx context.Context) {
	if m.cfg.ImportFrom == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	log := m.log.With("import", m.cfg.ImportFrom)
	issuer := m.configs.Load().issuer
	err := m.cfg.Storage.Lock(ctx, importMarkerKey)
	if err != nil {
		log.Error("importing Traefik's acme.json: locking the storage", "error", err)
		return
	}
	defer m.cfg.Storage.Unlock(context.WithoutCancel(ctx), importMarkerKey) //nolint:errcheck // the lock expires anyway

	if raw, err := m.cfg.Storage.Load(ctx, importMarkerKey); err == nil {
		var rec importRecord
		if json.Unmarshal(raw, &rec) == nil {
			m.noteImported(rec)
			log.Debug("Traefik's acme.json was imported before; not again", "at", rec.At, "source", rec.Source)
		}
		return
	} else if !errors.Is(err, fs.ErrNotExist) {
		log.Error("importing Traefik's acme.json: reading the storage", "error", err)
		return
	}

	data, err := os.ReadFile(m.cfg.ImportFrom)
	if err != nil {
		log.Error("importing Traefik's acme.json", "error", err)
		return
	}
	parsed, err := ParseTraefikACME(data, m.cfg.Now())
	if err != nil {
		log.Error("importing Traefik's acme.json", "error", err)
		return
	}
	rec := importRecord{Source: m.cfg.ImportFrom, At: m.cfg.Now().UTC(), Skipped: parsed.Skipped}

	for _, a := range parsed.Accounts {
		if !sameCA(a.URL, m.caURL) {
			rec.Skipped = append(rec.Skipped, TraefikSkipped{Resolver: a.Resolver,
				Reason: fmt.Sprintf("account registered at another CA (%s); the edge registers one at %s", a.URL, m.caURL)})
			continue
		}
		email := m.cfg.Email
		if email == "" {
			email = a.Email
		}
		imported, err := m.importAccount(ctx, issuer.IssuerKey(), email, a)
		if err != nil {
			log.Error("importing the ACME account from Traefik's acme.json", "error", err)
			return
		}
		if imported {
			rec.Account = a.Email
		}
		break // one account per CA is all the edge uses
	}

	for _, c := range parsed.Certificates {
		for _, name := range c.Names {
			if err := m.importCert(ctx, issuer.IssuerKey(), name, c); err != nil {
				log.Error("importing a certificate from Traefik's acme.json", "name", name, "error", err)
				return
			}
		}
		rec.Certificates = append(rec.Certificates, importedCert{Names: c.Names, SHA256: c.SHA256})
	}

	raw, err := json.MarshalIndent(rec, "", "\t")
	if err == nil {
		err = m.cfg.Storage.Store(ctx, importMarkerKey, raw)
	}
	if err != nil {
		log.Error("importing Traefik's acme.json: recording the import", "error", err)
		return
	}
	m.noteImported(rec)
	for _, s := range rec.Skipped {
		log.Warn("not imported from Traefik's acme.json", "names", strings.Join(s.Names, ","), "resolver", s.Resolver, "reason", s.Reason)
	}
	log.Info("imported Traefik's acme.json", "account", rec.Account != "", "certificates", len(rec.Certificates), "skipped", len(rec.Skipped))
}

// importAccount stores a as certmagic stores an account it registered,
// unless the storage already holds one for email. The registration
// carries status "valid", so certmagic uses it without registering.
func (m *Manager) importAccount(ctx context.Context, issuerKey, email string, a TraefikAccount) (bool, error) {
	regKey, keyKey := accountKeys(issuerKey, email)
	if m.cfg.Storage.Exists(ctx, keyKey) {
		return false, nil
	}
	acct := acme.Account{Status: "valid", Location: a.URL, TermsOfServiceAgreed: true}
	if a.Email != "" {
		acct.Contact = []string{"mailto:" + a.Email}
	}
	reg, err := json.MarshalIndent(acct, "", "\t")
	if err != nil {
		return false, err
	}
	keyPEM, err := certmagic.PEMEncodePrivateKey(a.Key)
	if err != nil {
		return false, err
	}
	if err := m.cfg.Storage.Store(ctx, regKey, reg); err != nil {
		return false, err
	}
	return true, m.cfg.Storage.Store(ctx, keyKey, keyPEM)
}

// accountKeys are the storage keys certmagic reads an account from
// (its account.go: acme/<issuer>/users/<email>/<user>.json and .key).
func accountKeys(issuerKey, email string) (reg, key string) {
	email = strings.ToLower(email)
	if email == "" {
		email = "default"
	}
	user := email
	if at := strings.Index(email, "@"); at > 0 {
		user = email[:at]
	} else if at == 0 {
		user = email[1:]
	}
	dir := path.Join("acme", certmagic.StorageKeys.Safe(issuerKey), "users", certmagic.StorageKeys.Safe(email))
	user = certmagic.StorageKeys.Safe(user)
	return path.Join(dir, user+".json"), path.Join(dir, user+".key")
}

// importCert stores c under name, as certmagic stores what it obtains,
// unless the storage already holds a certificate for name.
func (m *Manager) importCert(ctx context.Context, issuerKey, name string, c TraefikCertificate) error {
	certKey := certmagic.StorageKeys.SiteCert(issuerKey, name)
	if m.cfg.Storage.Exists(ctx, certKey) {
		return nil
	}
	meta, err := json.MarshalIndent(certmagic.CertificateResource{
		SANs:       c.Names,
		IssuerData: json.RawMessage(`{"imported_from":"traefik acme.json"}`),
	}, "", "\t")
	if err != nil {
		return err
	}
	for _, kv := range []struct {
		key   string
		value []byte
	}{
		{certmagic.StorageKeys.SitePrivateKey(issuerKey, name), c.KeyPEM},
		{certmagic.StorageKeys.SiteMeta(issuerKey, name), meta},
		{certKey, c.CertPEM}, // last: its presence means the rest is there
	} {
		if err := m.cfg.Storage.Store(ctx, kv.key, kv.value); err != nil {
			return err
		}
	}
	return nil
}

// noteImported remembers which certificates came from acme.json, for the
// status page.
func (m *Manager) noteImported(rec importRecord) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.imported = map[string]string{}
	for _, c := range rec.Certificates {
		m.imported[c.SHA256] = fmt.Sprintf("imported from Traefik's %s on %s", rec.Source, rec.At.Format(time.DateOnly))
	}
}
