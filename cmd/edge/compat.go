package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// The community images' variables, and what the edge does with each. The
// settings table, the aliases and the legacy list decide it; this file
// only lists what the images read (reference traefik-rancher.md §3) so
// that the migration table and the "nothing silently ignored" test cover
// every one of them.

// Images the edge replaces.
const (
	imageMch1307 = "mch1307/rancher-traefik"
	imageRawmind = "rawmind0/alpine-traefik"
)

// communityVar is one variable a community image read, with that image's
// default where the edge's differs in a way a user would notice.
type communityVar struct {
	name   string
	images []string          // which images read it
	def    map[string]string // image → its default, only where it matters
	// note says how the edge's behaviour differs, for the migration table
	// and for `edge check`; empty when it is the same.
	note string
}

// The images that read a variable.
var (
	bothImages = []string{imageMch1307, imageRawmind}
	mchOnly    = []string{imageMch1307}
	rawOnly    = []string{imageRawmind}
)

// communityVars is every variable of §3 of the reference, in its order.
var communityVars = []communityVar{
	{name: "TRAEFIK_HTTP_PORT", images: bothImages, def: map[string]string{imageRawmind: "8080"}},
	{name: "TRAEFIK_HTTPS_PORT", images: bothImages, def: map[string]string{imageRawmind: "8443"}},
	{name: "TRAEFIK_HTTPS_ENABLE", images: bothImages, def: map[string]string{imageRawmind: "false"},
		note: "`true` redirects HTTP to HTTPS as mch1307 did (rawmind0's `true` served routes on both without a redirect; its `only` redirected)"},
	{name: "TRAEFIK_HTTP_COMPRESSION", images: rawOnly, def: map[string]string{imageRawmind: "true"}},
	{name: "TRAEFIK_HTTPS_COMPRESSION", images: rawOnly, def: map[string]string{imageRawmind: "true"}},
	{name: "TRAEFIK_HTTPS_MIN_TLS", images: rawOnly},
	{name: "TRAEFIK_TRUSTEDIPS", images: rawOnly, note: "also accepts the PROXY protocol (v1 and v2) from these addresses on the HTTP and HTTPS ports, as rawmind0 configured"},
	{name: "TRAEFIK_SSL_CERT", images: mchOnly},
	{name: "TRAEFIK_SSL_PRIVATE_KEY", images: mchOnly},
	{name: "TRAEFIK_SSL_CRT", images: rawOnly, def: map[string]string{imageRawmind: "a demo certificate for *.local"},
		note: "without it the edge serves a generated self-signed certificate"},
	{name: "TRAEFIK_SSL_KEY", images: rawOnly},
	{name: "TRAEFIK_SSL_CRT_FILE", images: rawOnly},
	{name: "TRAEFIK_SSL_KEY_FILE", images: rawOnly},
	{name: "TRAEFIK_SSL_PATH", images: bothImages},
	{name: "TRAEFIK_RANCHER_ACCESSKEY", images: mchOnly},
	{name: "TRAEFIK_RANCHER_SECRET", images: mchOnly},
	{name: "TRAEFIK_RANCHER_ENDPOINT", images: mchOnly},
	{name: "TRAEFIK_RANCHER_DOMAIN", images: bothImages, def: map[string]string{imageRawmind: "rancher.internal"}},
	{name: "TRAEFIK_RANCHER_ENABLE", images: rawOnly, def: map[string]string{imageRawmind: "false"},
		note: "empty means on when an endpoint or CATTLE_URL is set"},
	{name: "TRAEFIK_RANCHER_MODE", images: rawOnly},
	{name: "TRAEFIK_RANCHER_REFRESH", images: rawOnly},
	{name: "TRAEFIK_RANCHER_EXPOSED", images: rawOnly, def: map[string]string{imageRawmind: "false"}},
	{name: "TRAEFIK_RANCHER_HEALTHCHECK", images: rawOnly},
	{name: "TRAEFIK_RANCHER_HEALTHCHEK", images: rawOnly},
	{name: "TRAEFIK_RANCHER_INTERVALPOLL", images: rawOnly},
	{name: "TRAEFIK_RANCHER_PREFIX", images: rawOnly, def: map[string]string{imageRawmind: "/2016-07-29"}},
	{name: "TRAEFIK_REFRESH_INTERVAL", images: mchOnly},
	{name: "TRAEFIK_REFRESH", images: mchOnly},
	{name: "CATTLE_URL", images: rawOnly},
	{name: "CATTLE_ACCESS_KEY", images: rawOnly},
	{name: "CATTLE_SECRET_KEY", images: rawOnly},
	{name: "TRAEFIK_ADMIN_PORT", images: bothImages},
	{name: "TRAEFIK_ADMIN_ENABLE", images: rawOnly, def: map[string]string{imageRawmind: "false"},
		note: "/ping is always served on every interface of the admin port; the dashboard stays on loopback unless users are set"},
	{name: "TRAEFIK_WEB", images: rawOnly},
	{name: "TRAEFIK_ADMIN_SSL", images: rawOnly, def: map[string]string{imageRawmind: "false"},
		note: "the edge's empty default means TLS on the admin port whenever it has certificates"},
	{name: "TRAEFIK_ADMIN_STATISTICS", images: rawOnly},
	{name: "TRAEFIK_ADMIN_AUTH_METHOD", images: rawOnly},
	{name: "TRAEFIK_ADMIN_AUTH_USERS", images: rawOnly, note: "bcrypt, apr1 and {SHA} htpasswd lines, one per line or comma-separated"},
	{name: "TRAEFIK_ADMIN_READ_ONLY", images: rawOnly},
	{name: "TRAEFIK_ADMIN_BASIC_AUTH_USERS", images: rawOnly},
	{name: "TRAEFIK_ADMIN_DIGEST_AUTH_USERS", images: rawOnly},
	{name: "TRAEFIK_CONSTRAINTS", images: rawOnly},
	{name: "TRAEFIK_DEBUG", images: bothImages, def: map[string]string{imageMch1307: "true"}},
	{name: "TRAEFIK_INSECURE_SKIP", images: rawOnly},
	{name: "TRAEFIK_LOG_LEVEL", images: bothImages},
	{name: "TRAEFIK_LOG_FILE", images: bothImages},
	{name: "TRAEFIK_ACCESS_FILE", images: bothImages, def: map[string]string{imageMch1307: "on", imageRawmind: "on"},
		note: "the access log is off unless TRAEFIK_ACCESS_LOG or a TRAEFIK_ACCESS_FILE path turns it on"},
	{name: "TRAEFIK_ACME_ENABLE", images: bothImages},
	{name: "TRAEFIK_ACME_EMAIL", images: bothImages},
	{name: "TRAEFIK_ACME_ONDEMAND", images: bothImages, def: map[string]string{imageMch1307: "true"}},
	{name: "TRAEFIK_ACME_ONHOSTRULE", images: bothImages},
	{name: "TRAEFIK_ACME_CASERVER", images: rawOnly},
	{name: "TRAEFIK_ACME_KEYTYPE", images: rawOnly},
	{name: "TRAEFIK_ACME_CHALLENGE", images: rawOnly},
	{name: "TRAEFIK_ACME_CHALLENGE_HTTP_ENTRYPOINT", images: rawOnly},
	{name: "TRAEFIK_ACME_CHALLENGE_DNS_PROVIDER", images: rawOnly},
	{name: "TRAEFIK_ACME_CHALLENGE_DNS_DELAY", images: rawOnly},
	{name: "TRAEFIK_FILE_ENABLE", images: rawOnly},
	{name: "TRAEFIK_FILE_NAME", images: rawOnly},
	{name: "TRAEFIK_DOCKER_ENABLE", images: rawOnly},
	{name: "TRAEFIK_DOCKER_ENDPOINT", images: rawOnly},
	{name: "TRAEFIK_K8S_ENABLE", images: bothImages},
	{name: "TRAEFIK_K8S_OPTS", images: mchOnly},
	{name: "TRAEFIK_METRICS_ENABLE", images: rawOnly},
	{name: "TRAEFIK_METRICS_EXPORTER", images: rawOnly},
	{name: "TRAEFIK_METRICS_PUSH", images: rawOnly},
	{name: "TRAEFIK_METRICS_ADDRESS", images: rawOnly},
	{name: "TRAEFIK_METRICS_PROMETHEUS_BUCKETS", images: rawOnly},
	{name: "TRAEFIK_PROMETHEUS_ENABLE", images: rawOnly},
	{name: "TRAEFIK_PROMETHEUS_BUCKETS", images: rawOnly},
	{name: "TRAEFIK_USAGE_ENABLE", images: rawOnly},
	{name: "TRAEFIK_TIMEOUT_READ", images: rawOnly, def: map[string]string{imageRawmind: "0"}, note: "`0`, rawmind0's \"no limit\", keeps the edge's bound (logged); every wait is bounded"},
	{name: "TRAEFIK_TIMEOUT_WRITE", images: rawOnly, def: map[string]string{imageRawmind: "0"}, note: "`0`, rawmind0's \"no limit\", keeps the edge's bound (logged); every wait is bounded"},
	{name: "TRAEFIK_TIMEOUT_IDLE", images: rawOnly},
	{name: "TRAEFIK_TIMEOUT_DIAL", images: rawOnly},
	{name: "TRAEFIK_TIMEOUT_HEADER", images: rawOnly, def: map[string]string{imageRawmind: "0"}, note: "`0`, rawmind0's \"no limit\", keeps the edge's bound (logged); every wait is bounded"},
	{name: "TRAEFIK_TIMEOUT_GRACE", images: rawOnly},
	{name: "TRAEFIK_TIMEOUT_ACCEPT", images: rawOnly},
}

// refused are variables whose only meaning the edge cannot provide: set to
// a value that asks for it, the edge refuses to start rather than serve
// something else. loadCompat enforces them; the text is for the docs.
var refused = map[string]string{
	"TRAEFIK_DOCKER_ENABLE":           "`true` is refused: there is no Docker provider (describe the services in TRAEFIK_FILE, or use Rancher discovery)",
	"TRAEFIK_DOCKER_ENDPOINT":         "refused with TRAEFIK_DOCKER_ENABLE=true; ignored with a warning otherwise",
	"TRAEFIK_ADMIN_DIGEST_AUTH_USERS": "refused: digest authentication stores the password or its MD5; use bcrypt users in TRAEFIK_ADMIN_USERS",
}

// disposition says, for the migration table, what the edge does with a
// variable: honoured under its own name, an alias, refused, or accepted
// and ignored with a warning. The second result is false for a variable
// the edge does not know at all (which a test forbids).
func disposition(name string) (string, bool) {
	if isSetting(name) {
		return "honoured", true
	}
	if canonical, ok := aliases[name]; ok {
		return "alias of `" + canonical + "`", true
	}
	if why, ok := refused[name]; ok {
		return "refused: " + why, true
	}
	if why, ok := legacy[name]; ok {
		return "accepted, ignored with a warning: " + why, true
	}
	switch name {
	case "CATTLE_URL", "CATTLE_ACCESS_KEY", "CATTLE_SECRET_KEY":
		return "honoured when the TRAEFIK_RANCHER_* equivalent is not set", true
	}
	return "", false
}

func isSetting(name string) bool {
	for _, s := range settings {
		if s.env == name {
			return true
		}
	}
	return false
}

func sortedAliases() []string {
	names := make([]string, 0, len(aliases))
	for k := range aliases {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// aliasConflicts reports a setting given under two names with different
// values: which one the user meant is a guess the edge does not make.
func aliasConflicts(e env, p *problems) {
	for _, alias := range sortedAliases() {
		canonical := aliases[alias]
		av := strings.TrimSpace(e.getenv(alias))
		if av == "" {
			continue
		}
		cv, fromFlag := e.flags[canonical]
		if !fromFlag {
			cv = e.getenv(canonical)
		}
		if cv = strings.TrimSpace(cv); cv != "" && cv != av {
			p.add("%s and %s are the same setting and have different values; set only %s", alias, canonical, canonical)
			continue
		}
		for _, other := range sortedAliases() {
			if other <= alias || aliases[other] != canonical {
				continue
			}
			if ov := strings.TrimSpace(e.getenv(other)); ov != "" && ov != av {
				p.add("%s and %s are both %s and have different values; set only %s", alias, other, canonical, canonical)
			}
		}
	}
}

// knownVariable reports whether a TRAEFIK_* name means something to the
// edge: a setting (or its _FILE), an alias, a legacy or refused name.
func knownVariable(name string) bool {
	base := strings.TrimSuffix(name, "_FILE")
	for _, n := range []string{name, base} {
		if isSetting(n) || legacy[n] != "" || refused[n] != "" {
			return true
		}
		if _, ok := aliases[n]; ok {
			return true
		}
	}
	return false
}

// unknownVariables lists the TRAEFIK_* variables in environ that the edge
// does not know, sorted: probably typos, and never silently dropped.
func unknownVariables(environ []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TRAEFIK_") && !knownVariable(name) && !injectedVariable(name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// writeMigrating prints the migration table of docs/migrating.md: every
// variable of both images and what the edge does with it.
func writeMigrating(w io.Writer) {
	fmt.Fprintln(w, "| variable | image | the edge | differences |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, v := range communityVars {
		d, _ := disposition(v.name)
		var imgs []string
		for _, img := range v.images {
			imgs = append(imgs, strings.SplitN(img, "/", 2)[0])
		}
		diff := v.note
		var defs []string
		for _, img := range v.images {
			if def, ok := v.def[img]; ok {
				defs = append(defs, fmt.Sprintf("%s's default: %s", strings.SplitN(img, "/", 2)[0], def))
			}
		}
		if len(defs) > 0 {
			if s, ok := settingDefault(v.name); ok {
				defs = append(defs, "the edge's: "+s)
			}
			if diff != "" {
				diff += "; "
			}
			diff += strings.Join(defs, ", ")
		}
		if diff == "" {
			diff = "-"
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s |\n", v.name, strings.Join(imgs, ", "), d, diff)
	}
}

// settingDefault is the default of a setting, or of the setting an alias
// stands for.
func settingDefault(name string) (string, bool) {
	if c, ok := aliases[name]; ok {
		name = c
	}
	for _, s := range settings {
		if s.env == name {
			if s.def == "" {
				return "empty", true
			}
			return s.def, true
		}
	}
	return "", false
}

// adminSummary says in words what the admin port serves to whom.
func adminSummary(a adminSettings) string {
	what := "dashboard, API, metrics and /ping"
	if !a.Dashboard {
		what = "/ping only (TRAEFIK_ADMIN_ENABLE=false)"
		if a.PublicMetrics {
			what = "/ping and /metrics only (TRAEFIK_ADMIN_ENABLE=false)"
		}
	}
	switch {
	case a.Users.IsZero() && !a.Insecure && (a.Bind == "" || a.Bind == "0.0.0.0" || a.Bind == "::"):
		pub := "/ping"
		if a.PublicMetrics {
			pub = "/ping and /metrics"
		}
		return what + "; " + pub + " on every interface, the rest on loopback only (no TRAEFIK_ADMIN_USERS)"
	case a.Users.IsZero() && !a.Insecure:
		return what + " on " + a.Bind
	case a.Users.IsZero():
		return what + " on every interface WITHOUT A PASSWORD (TRAEFIK_ADMIN_INSECURE)"
	}
	return what + " behind basic authentication"
}

// detectImages says which community images the environment looks like it
// was written for: a variable only that image read is set.
func detectImages(e env) []string {
	var out []string
	for _, img := range []string{imageMch1307, imageRawmind} {
		for _, v := range communityVars {
			if len(v.images) == 1 && v.images[0] == img && strings.TrimSpace(e.getenv(v.name)) != "" {
				out = append(out, img)
				break
			}
		}
	}
	return out
}

// imageDifferences lists, for each image the environment looks written
// for, where the edge will do something else than that image did with the
// same environment.
func imageDifferences(e env, cfg config) []string {
	var out []string
	set := func(name string) bool {
		if strings.TrimSpace(e.get(name)) != "" {
			return true
		}
		for alias, c := range aliases {
			if c == name && strings.TrimSpace(e.getenv(alias)) != "" {
				return true
			}
		}
		return false
	}
	for _, img := range detectImages(e) {
		short := strings.SplitN(img, "/", 2)[0]
		for _, v := range communityVars {
			def, ok := v.def[img]
			if !ok || set(v.name) {
				continue
			}
			ours, _ := settingDefault(v.name)
			line := fmt.Sprintf("%s unset: %s's default was %s, the edge's is %s", v.name, short, def, ours)
			if v.note != "" {
				line += " (" + v.note + ")"
			}
			out = append(out, line)
		}
		switch img {
		case imageRawmind:
			if cfg.HTTPSEnable && strings.EqualFold(strings.TrimSpace(e.get("TRAEFIK_HTTPS_ENABLE")), "true") {
				out = append(out, "TRAEFIK_HTTPS_ENABLE=true: rawmind0 served the routes on HTTP and HTTPS; the edge redirects HTTP to HTTPS (rawmind0's `only`)")
			}
		case imageMch1307:
			if !set("TRAEFIK_RANCHER_RULE_ORDER") {
				out = append(out, "TRAEFIK_RANCHER_RULE_ORDER unset: mch1307's Traefik 1.2–1.4 made the default rule Host:<stack>.<service>.<domain>; "+
					"the edge makes Host:<service>.<stack>.<domain> (Traefik ≥ 1.5); set TRAEFIK_RANCHER_RULE_ORDER=stack.service to keep the old names")
			}
		}
	}
	return out
}

// printDropIn prints the warnings and the differences from the image the
// environment was written for.
func printDropIn(w io.Writer, e env, cfg config) {
	if len(cfg.Warnings) > 0 {
		fmt.Fprintf(w, "\nwarnings (%d):\n", len(cfg.Warnings))
		for _, s := range cfg.Warnings {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	imgs := detectImages(e)
	diffs := imageDifferences(e, cfg)
	if len(imgs) == 0 {
		return
	}
	fmt.Fprintf(w, "\nthis environment looks written for %s; ", strings.Join(imgs, " and "))
	if len(diffs) == 0 {
		fmt.Fprintln(w, "the edge does the same with it")
		return
	}
	fmt.Fprintf(w, "where the edge does otherwise (%d):\n", len(diffs))
	for _, d := range diffs {
		fmt.Fprintf(w, "  %s\n", d)
	}
}

// injectedVariable reports names the platform, not the user, sets when a
// linked service or a Kubernetes Service is called "traefik": Docker links
// (TRAEFIK_PORT, TRAEFIK_PORT_80_TCP_ADDR, TRAEFIK_NAME, TRAEFIK_ENV_*) and
// Kubernetes service variables (TRAEFIK_SERVICE_HOST, TRAEFIK_SERVICE_PORT*).
// They are no typo, so they draw no warning.
func injectedVariable(name string) bool {
	rest := strings.TrimPrefix(name, "TRAEFIK_")
	switch {
	case rest == "PORT", rest == "NAME", rest == "SERVICE_HOST",
		strings.HasPrefix(rest, "PORT_"), strings.HasPrefix(rest, "ENV_"), strings.HasPrefix(rest, "SERVICE_PORT"):
		return true
	}
	return false
}
