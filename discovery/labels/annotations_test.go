package labels

import (
	"os"
	"strings"
	"testing"
)

// TestAnnotationTable: every annotation maps onto a label the edge
// implements (or is applied by the provider), names are unique under both
// prefixes, and docs/kubernetes.md lists every one as generated.
func TestAnnotationTable(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range Annotations {
		k := annotationKey(a.Name)
		if k == "" || seen[k] {
			t.Errorf("%s: outside both prefixes or listed twice", a.Name)
		}
		seen[k] = true
		if a.Label != "" && !isSupported(a.Label) {
			t.Errorf("%s maps onto %s, which the edge does not implement", a.Name, a.Label)
		}
		if a.Doc == "" {
			t.Errorf("%s: no doc", a.Name)
		}
	}
	doc, err := os.ReadFile("../../docs/kubernetes.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), AnnotationsMarkdown()) {
		t.Errorf("docs/kubernetes.md does not contain the generated annotation table; paste it:\n%s", AnnotationsMarkdown())
	}
}

func TestFromAnnotations(t *testing.T) {
	lbls, prov, unknown := FromAnnotations(map[string]string{
		"traefik.ingress.kubernetes.io/priority":     "5",
		"ingress.kubernetes.io/priority":             "9", // the traefik.ingress spelling wins
		"ingress.kubernetes.io/frame-deny":           "true",
		"traefik.ingress.kubernetes.io/frame-deny":   "false",
		"traefik.ingress.kubernetes.io/app-root":     "/app",
		"traefik.ingress.kubernetes.io/error-pages":  "x",
		"nginx.ingress.kubernetes.io/rewrite-target": "/", // another namespace: not ours to judge
		"kubernetes.io/ingress.class":                "rancher-edge",
	})
	if lbls[lPriority] != "5" || lbls[lFrameDeny] != "false" || len(lbls) != 2 {
		t.Errorf("labels %v", lbls)
	}
	if prov[AnnotationPrefix+"app-root"] != "/app" || len(prov) != 1 {
		t.Errorf("provider annotations %v", prov)
	}
	if len(unknown) != 1 || unknown[0] != "traefik.ingress.kubernetes.io/error-pages" {
		t.Errorf("unknown %v", unknown)
	}
}
