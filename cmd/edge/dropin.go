package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/rancher-edge/edge/certs"
	"github.com/rancher-edge/edge/discovery"
)

// The settings that make the edge a drop-in for the community images:
// their names, their meanings, and a loud word for what the edge does not
// do. Reference: traefik-rancher.md §3.

// dropIn holds the settings read by loadDropIn.
type dropIn struct {
	LogFormat  string // "text" or "json"
	LogFile    string // "" means stderr
	AccessFile string // "" means stdout
	// Constraints are TRAEFIK_CONSTRAINTS: global, ANDed with each
	// provider's own.
	Constraints []string
	MinTLS      uint16 // tls.VersionTLS12 or tls.VersionTLS13
	// CompressHTTP and CompressHTTPS are TRAEFIK_HTTP_COMPRESSION and
	// TRAEFIK_HTTPS_COMPRESSION.
	CompressHTTP, CompressHTTPS bool

	// Warnings are settings accepted but worth a word: check prints them,
	// serve logs them once.
	Warnings []string
}

// oldLogPaths are the files the community images symlinked to the
// container's output: set to them, a log goes where it always went.
var oldLogPaths = map[string]bool{
	"/opt/traefik/log/traefik.log": true,
	"/opt/traefik/log/access.log":  true,
}

// rawmindRules is rawmind0's TRAEFIK_FILE_NAME default.
const rawmindRules = "/opt/traefik/etc/rules.toml"

func (d *dropIn) warn(format string, args ...any) {
	d.Warnings = append(d.Warnings, fmt.Sprintf(format, args...))
}

// loadDropIn reads the drop-in settings into c, after the others.
func loadDropIn(e env, c *config, p *problems) {
	aliasConflicts(e, p)

	switch v := strings.ToLower(e.value(lookupSetting("TRAEFIK_LOG_FORMAT"))); v {
	case "text", "common":
		c.LogFormat = "text"
	case "json":
		c.LogFormat = "json"
	default:
		p.add("TRAEFIK_LOG_FORMAT: %q is not text or json", v)
	}
	if e.boolSetting("TRAEFIK_DEBUG", p) {
		c.LogLevel = slog.LevelDebug
	}
	c.LogFile = logPath(e, "TRAEFIK_LOG_FILE", p)
	c.AccessFile = logPath(e, "TRAEFIK_ACCESS_FILE", p)
	if c.AccessFile != "" && strings.TrimSpace(e.get("TRAEFIK_ACCESS_LOG")) == "" {
		// A path of its own is a request for the log.
		c.AccessLog = "common"
	}

	raw := e.get("TRAEFIK_CONSTRAINTS")
	c.Constraints = discovery.SplitConstraints(raw)
	if _, err := discovery.ParseConstraints(c.Constraints); err != nil {
		for _, one := range unjoin(err) {
			p.add("TRAEFIK_CONSTRAINTS: %v", one)
		}
	}

	switch v := strings.TrimPrefix(strings.ToLower(e.value(lookupSetting("TRAEFIK_HTTPS_MIN_TLS"))), "versiontls"); v {
	case "12", "1.2":
		c.MinTLS = tls.VersionTLS12
	case "13", "1.3":
		c.MinTLS = tls.VersionTLS13
	case "10", "11", "1.0", "1.1", "versionssl30", "ssl30":
		c.MinTLS = tls.VersionTLS12
		c.warn("TRAEFIK_HTTPS_MIN_TLS=%s: TLS 1.0 and 1.1 are not offered (RFC 8996); serving TLS 1.2 and 1.3", e.get("TRAEFIK_HTTPS_MIN_TLS"))
	default:
		p.add("TRAEFIK_HTTPS_MIN_TLS: %q is not VersionTLS12 or VersionTLS13", e.get("TRAEFIK_HTTPS_MIN_TLS"))
	}

	c.CompressHTTP = e.boolSetting("TRAEFIK_HTTP_COMPRESSION", p)
	c.CompressHTTPS = e.boolSetting("TRAEFIK_HTTPS_COMPRESSION", p)
	// Let's Encrypt's ACME v1 (the catalog's default CA) is gone; v2 at
	// the same CA is what the stack needs.
	switch {
	case strings.Contains(c.ACME.CA, "acme-v01.api.letsencrypt.org"):
		c.warn("TRAEFIK_ACME_CASERVER=%s is Let's Encrypt's retired ACME v1; using its v2 directory (production)", c.ACME.CA)
		c.ACME.CA = "production"
	case strings.Contains(c.ACME.CA, "acme-staging.api.letsencrypt.org"):
		c.warn("TRAEFIK_ACME_CASERVER=%s is Let's Encrypt's retired ACME v1 staging; using its v2 staging directory", c.ACME.CA)
		c.ACME.CA = "staging"
	}
	loadSSLPath(e, c, p)
	loadFileEnable(e, c, p)
	loadRancherDropIn(e, c, p)
	loadAdminDropIn(e, c, p)

	if strings.TrimSpace(e.getenv("TRAEFIK_ADMIN_DIGEST_AUTH_USERS")) != "" {
		p.add("TRAEFIK_ADMIN_DIGEST_AUTH_USERS is refused: digest authentication stores the password or its MD5; " +
			"create basic-auth users with `htpasswd -nbB user password` and set TRAEFIK_ADMIN_USERS")
	}
	if on, _ := strconv.ParseBool(strings.TrimSpace(e.getenv("TRAEFIK_DOCKER_ENABLE"))); on {
		p.add("TRAEFIK_DOCKER_ENABLE=true: there is no Docker provider; describe the services in TRAEFIK_FILE or use Rancher discovery, and unset TRAEFIK_DOCKER_ENABLE")
	}
	names := make([]string, 0, len(legacy))
	for name := range legacy {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if e.getenv(name) != "" && !isSetting(name) {
			c.warn("%s is ignored: %s", name, legacy[name])
		}
	}
	for _, name := range unknownVariables(e.environ) {
		c.warn("%s is not a setting of the edge (a typo?); it is ignored", name)
	}
}

// unjoin splits a joined error into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// logPath reads a log file setting: "" or an old image's default path mean
// the standard stream; any other path must be in an existing directory.
func logPath(e env, name string, p *problems) string {
	v := strings.TrimSpace(e.get(name))
	if v == "" || oldLogPaths[v] {
		return ""
	}
	if fi, err := os.Stat(filepath.Dir(v)); err != nil || !fi.IsDir() {
		p.add("%s: directory %q does not exist", name, filepath.Dir(v))
	}
	return v
}

// loadSSLPath adds every *.crt with a matching *.key in TRAEFIK_SSL_PATH,
// as rawmind0's image did, sorted by name.
func loadSSLPath(e env, c *config, p *problems) {
	dir := strings.TrimSpace(e.get("TRAEFIK_SSL_PATH"))
	if dir == "" {
		return
	}
	crts, err := filepath.Glob(filepath.Join(dir, "*.crt"))
	if fi, serr := os.Stat(dir); serr != nil || !fi.IsDir() || err != nil {
		p.add("TRAEFIK_SSL_PATH: directory %q does not exist", dir)
		return
	}
	sort.Strings(crts)
	found := 0
	for _, crt := range crts {
		key := strings.TrimSuffix(crt, ".crt") + ".key"
		if _, err := os.Stat(key); err != nil {
			c.warn("TRAEFIK_SSL_PATH: %s has no matching %s; skipped", filepath.Base(crt), filepath.Base(key))
			continue
		}
		name := "TRAEFIK_SSL_PATH (" + filepath.Base(crt) + ")"
		cv, err := c.Resolver.Resolve(name, crt, true)
		p.addErr(err)
		kv, kerr := c.Resolver.Resolve(name, key, true)
		p.addErr(kerr)
		if err == nil && kerr == nil {
			c.Pairs = append(c.Pairs, certs.Pair{Name: name, Cert: cv, Key: kv})
			found++
		}
	}
	if found == 0 {
		c.warn("TRAEFIK_SSL_PATH: no *.crt with a matching *.key in %s", dir)
	}
}

// loadFileEnable applies rawmind0's TRAEFIK_FILE_ENABLE to TRAEFIK_FILE
// (whose alias is its TRAEFIK_FILE_NAME). rawmind0's rules file is
// Traefik's TOML, which the edge does not read: refusing it beats serving
// without the routes it held.
func loadFileEnable(e env, c *config, p *problems) {
	raw := strings.TrimSpace(e.get("TRAEFIK_FILE_ENABLE"))
	if raw != "" {
		on, err := strconv.ParseBool(raw)
		if err != nil {
			p.add("TRAEFIK_FILE_ENABLE: %q is not true or false", raw)
			return
		}
		if !on {
			if c.File != "" {
				c.warn("TRAEFIK_FILE_ENABLE=false: the routes file %s is not read", c.File)
			}
			c.File = ""
			return
		}
		if c.File == "" {
			c.File = rawmindRules
		}
	}
	if strings.HasSuffix(strings.ToLower(c.File), ".toml") {
		p.add("TRAEFIK_FILE: %s is a Traefik TOML rules file, which the edge does not read; "+
			"the edge reads Rancher itself (TRAEFIK_RANCHER_*, no rancher-traefik sidekick needed), "+
			"or describe the routes as YAML with Traefik labels (docs/configuration.md)", c.File)
	}
}

// loadRancherDropIn applies rawmind0's TRAEFIK_RANCHER_ENABLE and the
// global constraints to both ways of reading Rancher (TRAEFIK_RANCHER_MODE
// is read by loadMetadata).
func loadRancherDropIn(e env, c *config, p *problems) {
	enable := strings.TrimSpace(e.get("TRAEFIK_RANCHER_ENABLE"))
	on, err := strconv.ParseBool(enable)
	if enable != "" && err != nil {
		p.add("TRAEFIK_RANCHER_ENABLE: %q is not true or false", enable)
		return
	}
	if enable != "" && !on {
		c.Rancher, c.Metadata = nil, nil
		return
	}
	if c.Metadata == nil && (strings.TrimSpace(e.get("TRAEFIK_RANCHER_PREFIX")) != "" || strings.TrimSpace(e.get("TRAEFIK_RANCHER_INTERVALPOLL")) != "") {
		c.warn("TRAEFIK_RANCHER_PREFIX and TRAEFIK_RANCHER_INTERVALPOLL only matter with TRAEFIK_RANCHER_MODE=metadata; ignored in api mode")
	}
	// Global first: both lists are ANDed, as Traefik did.
	switch {
	case c.Metadata != nil:
		c.Metadata.Constraints = append(append([]string(nil), c.Constraints...), c.Metadata.Constraints...)
	case c.Rancher != nil:
		c.Rancher.Constraints = append(append([]string(nil), c.Constraints...), c.Rancher.Constraints...)
	case on:
		p.add("TRAEFIK_RANCHER_ENABLE=true but no Rancher endpoint: set TRAEFIK_RANCHER_ENDPOINT, or give the edge's service the labels " +
			"io.rancher.container.create_agent=true and io.rancher.container.agent.role=environment so that Rancher injects CATTLE_URL and the keys, " +
			"or use TRAEFIK_RANCHER_MODE=metadata")
	}
}

// loadAdminDropIn reads rawmind0's admin settings.
func loadAdminDropIn(e env, c *config, p *problems) {
	a := &c.Admin
	a.Dashboard = e.boolSetting("TRAEFIK_ADMIN_ENABLE", p)
	switch m := strings.ToLower(e.value(lookupSetting("TRAEFIK_ADMIN_AUTH_METHOD"))); m {
	case "basic":
	case "digest":
		p.add("TRAEFIK_ADMIN_AUTH_METHOD=digest is refused: digest authentication stores the password or its MD5; " +
			"create basic-auth users with `htpasswd -nbB user password` and set TRAEFIK_ADMIN_USERS (or TRAEFIK_ADMIN_AUTH_USERS)")
	default:
		p.add("TRAEFIK_ADMIN_AUTH_METHOD: %q is not basic", m)
	}
	if ro := e.boolSetting("TRAEFIK_ADMIN_READ_ONLY", p); !ro {
		c.warn("TRAEFIK_ADMIN_READ_ONLY=false: the dashboard and API are always read-only; there is nothing to write")
	}
	a.PublicMetrics = e.boolSetting("TRAEFIK_METRICS_ENABLE", p)
	if a.PublicMetrics {
		if ex := strings.ToLower(e.value(lookupSetting("TRAEFIK_METRICS_EXPORTER"))); ex != "prometheus" {
			p.add("TRAEFIK_METRICS_EXPORTER=%s is refused: the edge exports Prometheus metrics only, at /metrics on TRAEFIK_ADMIN_PORT", ex)
		}
		if a.Port == 0 {
			p.add("TRAEFIK_METRICS_ENABLE=true needs the admin port, and TRAEFIK_ADMIN_PORT is 0")
		}
	}
}
