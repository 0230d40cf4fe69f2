package labels

import (
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/rancher-edge/edge/route"
)

var update = flag.Bool("update", false, "rewrite docs/labels.md from the table")

const (
	docsPath  = "../../docs/labels.md"
	docsBegin = "<!-- BEGIN labels.Markdown: generated from discovery/labels/table.go, do not edit -->\n"
	docsEnd   = "<!-- END labels.Markdown -->\n"
)

// TestDocsLabelsInStep keeps the reference in docs/labels.md equal to the
// table it is generated from.
func TestDocsLabelsInStep(t *testing.T) {
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, docsBegin), strings.Index(doc, docsEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the generated section markers", docsPath)
	}
	want := doc[:i+len(docsBegin)] + Markdown() + doc[j:]
	if *update {
		if err := os.WriteFile(docsPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != doc {
		t.Errorf("%s is out of step with the label table: run go test ./discovery/labels -run TestDocs -update", docsPath)
	}
}

// TestTableRows checks every row: a unique key, a field that exists on
// route.Service, and a note wherever the edge differs or refuses.
func TestTableRows(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range Table {
		if seen[l.Key] {
			t.Errorf("%s: listed twice", l.Key)
		}
		seen[l.Key] = true
		if !strings.HasPrefix(l.Key, prefix) {
			t.Errorf("%s: not a traefik.* label", l.Key)
		}
		if l.Support != Supported && l.Note == "" {
			t.Errorf("%s: %s without a note saying how or why", l.Key, l.Support)
		}
		// A refused row names the field it will fill once implemented.
		if l.Field != "" && l.Support != Refused && !hasField(reflect.TypeOf(route.Service{}), l.Field) {
			t.Errorf("%s: route.Service has no field %s", l.Key, l.Field)
		}
		if got := Lookup(strings.ReplaceAll(l.Key, "<name>", "x1")); got == nil || got.Key != l.Key {
			t.Errorf("Lookup(%s) found %v", l.Key, got)
		}
	}
	if Lookup("traefik.frontend.errors..status") != nil || Lookup("traefik.frontend.errors.a.b.status") != nil {
		t.Error("<name> must match exactly one non-empty part")
	}
}

// hasField follows a selector such as "Auth.Users" through pointers and
// slices.
func hasField(t reflect.Type, sel string) bool {
	for part := range strings.SplitSeq(sel, ".") {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return false
		}
		f, ok := t.FieldByName(part)
		if !ok {
			return false
		}
		t = f.Type
	}
	return true
}
