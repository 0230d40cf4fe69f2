package labels

import (
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Label names this file needs; the full table lives in known.go.
const (
	prefix         = "traefik."
	prefixFrontend = "traefik.frontend."
	prefixBackend  = "traefik.backend."
)

// segmentRE is Traefik 1.7's provider/label/segment.go expression, kept
// verbatim so that exactly the same labels form segments.
var segmentRE = regexp.MustCompile(`^traefik\.(?P<segment_name>.+?)\.(?P<property_name>port|portIndex|portName|weight|protocol|backend|frontend\.(.+))$`)

// value is one label as seen by a segment: its value and the name the user
// wrote, so that problems name "traefik.admin.port" rather than the
// normalised "traefik.port".
type value struct {
	v    string
	name string
}

// labelSet is one segment's labels keyed by normalised name
// (traefik.port, traefik.frontend.rule, ...).
type labelSet map[string]value

// segment is one label segment: "" for the unnamed one.
type segment struct {
	name   string
	labels labelSet
}

// hasTraefikLabels says whether any label starts with "traefik.".
func hasTraefikLabels(labels map[string]string) bool {
	for k := range labels {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// splitLabel says which segment a traefik.* label belongs to and its name
// inside that segment.
func splitLabel(name string) (seg, key string) {
	if strings.HasPrefix(name, prefixFrontend) || strings.HasPrefix(name, prefixBackend) {
		return "", name
	}
	// A segment label has at least two dots after "traefik"; the cheap
	// check keeps the regexp off the common classic labels.
	if strings.Count(name, ".") < 2 {
		return "", name
	}
	m := segmentRE.FindStringSubmatch(name)
	if m == nil {
		return "", name
	}
	return m[1], prefix + m[2]
}

// extractSegments reproduces Traefik 1.7 label.ExtractTraefikLabels: classic
// labels form the unnamed segment, named segments inherit the classic labels
// they do not set, and the unnamed segment is dropped as soon as a named one
// exists (#4186). Segments come back unnamed first, then sorted by name.
func extractSegments(labels map[string]string) []segment {
	classic := labelSet{}
	named := map[string]labelSet{}
	for name, v := range labels {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		seg, key := splitLabel(name)
		if seg == "" {
			classic[key] = value{v: v, name: name}
			continue
		}
		set := named[seg]
		if set == nil {
			set = labelSet{}
			named[seg] = set
		}
		set[key] = value{v: v, name: name}
	}
	if len(named) == 0 {
		return []segment{{labels: classic}}
	}
	out := make([]segment, 0, len(named))
	for _, name := range slices.Sorted(maps.Keys(named)) {
		set := named[name]
		for k, v := range classic {
			if _, ok := set[k]; !ok {
				set[k] = v
			}
		}
		out = append(out, segment{name: name, labels: set})
	}
	return out
}

// has says whether the label is present, even with an empty value.
func (s labelSet) has(key string) bool {
	_, ok := s[key]
	return ok
}

// str is Traefik's GetStringValue: present and non-empty, else "".
func (s labelSet) str(key string) string {
	return strings.TrimSpace(s[key].v)
}

// name is the label as the user wrote it, for messages.
func (s labelSet) name(key string) string {
	if v, ok := s[key]; ok {
		return v.name
	}
	return key
}

// hasPrefix says whether any label starts with p.
func (s labelSet) hasPrefix(p string) bool {
	for k := range s {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// splitCSV is Traefik's GetSliceStringValue: split on commas, trim, drop
// empty pieces.
func splitCSV(v string) []string {
	var out []string
	for piece := range strings.SplitSeq(v, ",") {
		if piece = strings.TrimSpace(piece); piece != "" {
			out = append(out, piece)
		}
	}
	return out
}
