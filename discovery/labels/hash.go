package labels

import (
	"hash"
	"slices"
	"strconv"

	"github.com/rancher-edge/edge/route"
)

// Hash writes everything [Build] reads from in to h, labels in sorted order,
// so that a provider can fingerprint a whole read cheaply and skip
// publishing when nothing changed. Options are not included: they are fixed
// for a provider's lifetime.
func Hash(h hash.Hash64, in Input) {
	// Fields are gathered in one buffer and written to h when it fills:
	// a Write per field through the interface made each field's bytes a
	// heap allocation, and a provider hashes every service on every read.
	// Every field ends with a NUL so that "ab"+"c" and "a"+"bc" differ.
	buf := make([]byte, 0, 512)
	write := func(s string) {
		if len(buf)+len(s)+1 > cap(buf) {
			_, _ = h.Write(buf)
			buf = buf[:0]
		}
		if len(s)+1 > cap(buf) {
			_, _ = h.Write([]byte(s))
			s = ""
		}
		buf = append(buf, s...)
		buf = append(buf, 0)
	}
	write(in.Stack)
	write(in.Service)
	write(in.DefaultHost)
	write(strconv.Itoa(len(in.Labels)))
	var arr [32]string
	keys := arr[:0]
	for k := range in.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		write(k)
		write(in.Labels[k])
	}
	write(strconv.Itoa(len(in.Servers)))
	for _, s := range in.Servers {
		write(s.Addr)
		write(s.Name)
		write(strconv.Itoa(s.Port))
		write(s.Weight)
	}
	// A service deleted and created again under its name is a new claim.
	if !in.Created.IsZero() {
		write(strconv.FormatInt(in.Created.UnixNano(), 10))
	}
	_, _ = h.Write(buf)
}

// Dedupe keeps the first service of each route name and reports the later
// ones as errors: names key per-route state (metrics, cookies) and must be
// unique within a provider. Collisions arise from case ("Web" and "web") or
// from a segment name that spells another service ("a" segment "b" against
// service "a.b"). Two services with the same rule are not duplicates; the
// edge keeps and reports both.
//
// services is not modified. Without duplicates, the usual case, it is
// returned as is: a snapshot of 10,000 routes holds 2.6 MB of services,
// and a copy here kept a second, growth-padded array alive with it.
func Dedupe(services []route.Service) ([]route.Service, []route.Problem) {
	seen := make(map[string]route.Source, len(services))
	var out []route.Service // nil until the first duplicate
	var problems []route.Problem
	for i, s := range services {
		if first, dup := seen[s.Name]; dup {
			if out == nil {
				out = make([]route.Service, i, len(services)-1)
				copy(out, services[:i])
			}
			problems = append(problems, route.Problem{
				Source:   s.Source,
				Severity: route.Error,
				Message:  "skipped: route name " + strconv.Quote(s.Name) + " is already used by " + first.String(),
			})
			continue
		}
		seen[s.Name] = s.Source
		if out != nil {
			out = append(out, s)
		}
	}
	if out == nil {
		return services, nil
	}
	return out, problems
}
