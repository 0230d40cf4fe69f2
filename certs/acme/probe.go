package acme

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// ProbeDirectory fetches the CA's ACME directory once and says in plain
// words why it is not usable: unreachable, an untrusted certificate, or
// not an ACME directory. ca is the TRAEFIK_ACME_CASERVER value
// (production, staging or a URL); caRoot is extra PEM roots, as in
// [Config.CARoot]. `edge check --online` uses it.
func ProbeDirectory(ctx context.Context, ca string, caRoot []byte) error {
	u, err := caURL(ca)
	if err != nil {
		return err
	}
	roots, err := trustedRoots(caRoot)
	if err != nil {
		return err
	}
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("acme: directory %s: %w", u, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("acme: cannot reach the CA's directory %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("acme: the CA's directory %s answered %s", u, resp.Status)
	}
	var dir struct {
		NewNonce   string `json:"newNonce"`
		NewAccount string `json:"newAccount"`
		NewOrder   string `json:"newOrder"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&dir); err != nil || dir.NewNonce == "" || dir.NewAccount == "" || dir.NewOrder == "" {
		return fmt.Errorf("acme: %s is not an ACME (RFC 8555) directory", u)
	}
	return nil
}
