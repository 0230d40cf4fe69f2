package consul

import (
	"fmt"
	"strings"
	"text/template"
)

// ruleData is what the frontend rule template sees, as in Traefik 1.7:
// {{.ServiceName}}, {{.Domain}} and {{.Attributes}}, the instances' tags.
type ruleData struct {
	ServiceName string
	Domain      string
	Attributes  []string
}

// ruleFuncs are Traefik 1.7's template functions for the rule; prefix is
// the tag prefix (lower-cased, with its dot) that getAttribute prepends.
func ruleFuncs(prefix string) template.FuncMap {
	return template.FuncMap{
		"getTag": getTag,
		"hasTag": hasTag,
		// getAttribute "x" .Attributes "d" is the value of <prefix>.x=…
		"getAttribute": func(name string, tags []string, def string) string {
			return getTag(prefix+name, tags, def)
		},
	}
}

// getTag returns the value of the first tag name=value (name matched
// case-insensitively), or def.
func getTag(name string, tags []string, def string) string {
	for _, t := range tags {
		if k, v, ok := strings.Cut(t, "="); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return def
}

// hasTag reports a tag that is name or name=value.
func hasTag(name string, tags []string) bool {
	for _, t := range tags {
		k, _, _ := strings.Cut(t, "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return true
		}
	}
	return false
}

// parseRule parses the frontend rule template for a tag prefix.
func parseRule(text, prefix string) (*template.Template, error) {
	t, err := template.New("frontend rule").Funcs(ruleFuncs(strings.ToLower(prefix) + ".")).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("consul: frontend rule template: %w", err)
	}
	return t, nil
}
