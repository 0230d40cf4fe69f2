package ranchertest

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// fixtureFS holds payloads captured from (or generated to match) a real
// Rancher 1.6 server; see the shared reference, rancher-api.md §8.
//
//go:embed fixtures/*.json
var fixtureFS embed.FS

// The fixtures were captured from http://rancher.example.com:8080 in
// project 1a5. These are replaced by placeholders so one rendering serves
// any host and either URL scope.
const (
	fixtureVersionBase = "http://rancher.example.com:8080/v2-beta"
	fixtureScopeBase   = fixtureVersionBase + "/projects/1a5"

	// phVersion stands for "<scheme>://<host>/<version>" and phScope for
	// the collection base of the request's scope (unscoped or project).
	phVersion = "@V@"
	phScope   = "@B@"
	phID      = "@ID@"
)

// templates are the parsed fixtures a Server renders resources from. They
// are read-only after loadTemplates returns.
type templates struct {
	apiRoot, project, schemas []byte // compact, slash-escaped, with placeholders
	err401, err403, err404    map[string]any
	ping                      map[string]any

	stack, service, container map[string]any // one resource each, placeholders in links
	collections               map[string]collectionInfo
}

// collectionInfo is what a collection fixture says about its collection:
// the child types it can create and the keys it can filter on.
type collectionInfo struct {
	createTypes map[string]string // type → plural path, appended to the scope base
	filterKeys  []string          // sorted
}

func loadTemplates() (*templates, error) {
	t := &templates{collections: map[string]collectionInfo{}}
	var err error
	// raw reads a fixture compacted. Links under project 1a5 become the
	// scope placeholder only in the schemas, whose links follow the
	// request's scope; the project's own links always name the project.
	raw := func(name string) []byte {
		if err != nil {
			return nil
		}
		var b []byte
		b, err = fixtureFS.ReadFile("fixtures/" + name)
		if err != nil {
			return nil
		}
		var out bytes.Buffer
		if err = json.Compact(&out, b); err != nil {
			return nil
		}
		s := out.String()
		if name == "schemas-collection.json" || !strings.HasPrefix(name, "project") && !strings.HasPrefix(name, "api-root") {
			s = strings.ReplaceAll(s, escapeString(fixtureScopeBase), escapeString(phScope))
		}
		s = strings.ReplaceAll(s, escapeString(fixtureVersionBase), escapeString(phVersion))
		return []byte(s)
	}
	object := func(name string) map[string]any {
		b := raw(name)
		if err != nil {
			return nil
		}
		m := map[string]any{}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber() // keep epoch milliseconds exact
		if err = dec.Decode(&m); err != nil {
			err = fmt.Errorf("fixture %s: %w", name, err)
		}
		return m
	}
	t.apiRoot = raw("api-root-v2-beta.json")
	t.project = raw("project.json")
	t.schemas = raw("schemas-collection.json")
	t.err401 = object("error-401.json")
	t.err403 = object("error-403.json")
	t.err404 = object("error-404.json")
	t.ping = object("subscribe-ping.json")
	t.stack = resourceTemplate(object("stack.json"), "stacks", "1st5")
	t.service = resourceTemplate(object("service.json"), "services", "1s5")
	t.container = resourceTemplate(object("container.json"), "containers", "1i10")
	for name, file := range map[string]string{
		"stacks":     "stacks-collection.json",
		"services":   "services-collection.json",
		"containers": "containers-collection-limit0.json",
	} {
		m := object(file)
		if err != nil {
			return nil, err
		}
		info := collectionInfo{createTypes: map[string]string{}}
		if ct, ok := m["createTypes"].(map[string]any); ok {
			for k, v := range ct {
				s, _ := v.(string)
				info.createTypes[k] = strings.TrimPrefix(s, phScope)
			}
		}
		if f, ok := m["filters"].(map[string]any); ok {
			info.filterKeys = slices.Sorted(maps.Keys(f))
		}
		t.collections[name] = info
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// resourceTemplate rewrites a fixture resource's links and actions so that
// they carry the placeholders for the scope base and the resource id.
func resourceTemplate(m map[string]any, plural, id string) map[string]any {
	if m == nil {
		return nil
	}
	fix := func(key string) {
		in, _ := m[key].(map[string]any)
		out := make(map[string]any, len(in))
		for k, v := range in {
			s, _ := v.(string)
			out[k] = strings.ReplaceAll(s, "/"+plural+"/"+id, "/"+plural+"/"+phID)
		}
		m[key] = out
	}
	fix("links")
	fix("actions")
	return m
}

func escapeString(s string) string { return strings.ReplaceAll(s, "/", `\/`) }

// withID returns links or actions of a template with the resource id filled
// in. The scope placeholder stays until the response is written.
func withID(tmpl any, id string) map[string]any {
	in, _ := tmpl.(map[string]any)
	out := make(map[string]any, len(in))
	for k, v := range in {
		out[k] = strings.ReplaceAll(v.(string), phID, id)
	}
	return out
}
