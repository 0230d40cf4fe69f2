package file

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
)

// providerName is the provider's name in snapshots, sources and status.
const providerName = "file"

// document is the routes file. Unknown keys are errors (KnownFields), so a
// typo such as "lables:" is reported with its line instead of silently
// serving a route without its labels.
type document struct {
	Domain   string        `yaml:"domain"`
	Services []serviceSpec `yaml:"services"`
}

type serviceSpec struct {
	Name    string            `yaml:"name"`
	Labels  map[string]string `yaml:"labels"`
	Servers []string          `yaml:"servers"`
}

// errEmpty marks a file without a YAML document.
var errEmpty = errors.New(`no YAML document (write "services: []" to serve nothing)`)

// result is one successful read of the file.
type result struct {
	snap     route.Snapshot
	services int // entries in the file
	servers  int // server entries in the file
}

// Load reads and builds the routes file once. It is what `edge check` uses;
// [Provider.Run] shares the code. opts.Provider defaults to "file"; a
// top-level domain key in the file overrides opts.Domain.
func Load(path string, opts labels.Options) (route.Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return route.Snapshot{}, fmt.Errorf("reading routes file: %w", err)
	}
	res, err := build(path, data, opts)
	if err != nil {
		return route.Snapshot{}, err
	}
	return res.snap, nil
}

// build parses data and turns it into a snapshot. Problems with single
// services are in the snapshot; only a file that cannot be understood as a
// whole is an error.
func build(path string, data []byte, opts labels.Options) (result, error) {
	doc, err := parse(data)
	if err != nil {
		return result{}, fmt.Errorf("parsing %s: %w", path, err)
	}
	if opts.Provider == "" {
		opts.Provider = providerName
	}
	if doc.Domain != "" {
		opts.Domain = doc.Domain
	}
	if err := opts.Validate(); err != nil {
		return result{}, fmt.Errorf("%s: %w", path, err)
	}

	res := result{services: len(doc.Services)}
	// One route per entry is the common case; sized for it, the services
	// array is allocated once and has no growth slack to keep alive.
	snap := route.Snapshot{Provider: opts.Provider, Built: time.Now(), Services: make([]route.Service, 0, len(doc.Services))}
	fp := fnv.New64a()
	fingerprintOptions(fp, opts)
	seen := make(map[string]int, len(doc.Services))
	for i, spec := range doc.Services {
		src := route.Source{Provider: opts.Provider, Service: spec.Name}
		res.servers += len(spec.Servers)
		// Every entry goes into the fingerprint, skipped ones too, so that
		// a change in what is reported republishes.
		in := labels.Input{Service: spec.Name, DefaultHost: spec.Name, Labels: spec.Labels, Servers: addresses(spec.Servers)}
		labels.Hash(fp, in)
		if strings.TrimSpace(spec.Name) == "" {
			snap.Problems = append(snap.Problems, route.Problem{Source: src, Severity: route.Error,
				Message: "skipped: service #" + strconv.Itoa(i+1) + " has no name"})
			continue
		}
		// Route names are lower-cased, so "Web" and "web" would collide.
		key := strings.ToLower(spec.Name)
		if first, dup := seen[key]; dup {
			snap.Problems = append(snap.Problems, route.Problem{Source: src, Severity: route.Error,
				Message: fmt.Sprintf("skipped: service #%d has the same name as service #%d", i+1, first)})
			continue
		}
		seen[key] = i + 1
		if !hasTraefikLabels(spec.Labels) {
			// The Rancher provider skips unlabelled services quietly; in a
			// routes file every service is meant to be served.
			snap.Problems = append(snap.Problems, route.Problem{Source: src, Severity: route.Error,
				Message: "skipped: no traefik.* labels (traefik.port is required)"})
			continue
		}
		svcs, problems := labels.Build(in, opts)
		snap.Services = append(snap.Services, svcs...)
		snap.Problems = append(snap.Problems, problems...)
	}
	var dups []route.Problem
	snap.Services, dups = labels.Dedupe(snap.Services)
	snap.Problems = append(snap.Problems, dups...)
	snap.Fingerprint = fp.Sum64()
	if snap.Fingerprint == 0 {
		snap.Fingerprint = 1 // zero means unknown
	}
	res.snap = snap
	return res, nil
}

// parse decodes exactly one YAML document, strictly.
func parse(data []byte) (document, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var doc document
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return document{}, errEmpty
		}
		return document{}, err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return document{}, errors.New("more than one YAML document")
	}
	return doc, nil
}

// addresses turns the file's server strings into label-builder addresses;
// the address doubles as the server name.
func addresses(servers []string) []labels.Address {
	out := make([]labels.Address, len(servers))
	for i, s := range servers {
		out[i] = labels.Address{Addr: s}
	}
	return out
}

func hasTraefikLabels(m map[string]string) bool {
	for k := range m {
		if strings.HasPrefix(k, "traefik.") {
			return true
		}
	}
	return false
}

// fingerprintOptions mixes the options into the fingerprint: a changed
// domain changes every default rule.
func fingerprintOptions(w io.Writer, opts labels.Options) {
	fmt.Fprintf(w, "%s\x00%s\x00%t\x00%q\x00", opts.Provider, opts.Domain, opts.ExposedByDefault, opts.Constraints)
}
