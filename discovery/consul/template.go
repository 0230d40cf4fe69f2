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
	prefix      string
}

// GetAttribute is Traefik's getAttribute: the value of the tag
// <prefix>.<name>=value, or def.
func (d ruleData) GetAttribute(name string, tags []string, def string) string {
	return getTag(d.prefix+name, tags, def)
}

// ruleFuncs are Traefik 1.7's template functions for the rule.
var ruleFuncs = template.FuncMap{
	"getTag": getTag,
	"hasTag": hasTag,
	// getAttribute needs the prefix: {{getAttribute "x" .Attributes "d"}}
	// is rewritten by parseRule to the method form.
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

// parseRule parses the frontend rule template. Traefik's getAttribute
// function becomes the data's method, which knows the tag prefix.
func parseRule(text string) (*template.Template, error) {
	text = strings.ReplaceAll(text, "getAttribute ", ".GetAttribute ")
	t, err := template.New("frontend rule").Funcs(ruleFuncs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("consul: frontend rule template: %w", err)
	}
	return t, nil
}
