package labels

import (
	"strings"
)

// Markdown renders [Table] as the label reference of docs/labels.md: one
// row per label with how the edge honours it. A test keeps the file in step
// (go test ./discovery/labels -run TestDocs -update rewrites it).
func Markdown() string {
	var b strings.Builder
	section := func(title string, sidekick bool) {
		b.WriteString("### " + title + "\n\n")
		b.WriteString("| label | field | support | notes |\n|---|---|---|---|\n")
		for _, l := range Table {
			if l.Sidekick != sidekick {
				continue
			}
			field := ""
			if l.Field != "" {
				field = "`" + l.Field + "`"
			}
			support := string(l.Support)
			if l.Protects {
				support += ", protects"
			}
			b.WriteString("| `" + l.Key + "` | " + field + " | " + support + " | " + escapeCell(l.Note) + " |\n")
		}
		b.WriteString("\n")
	}
	section("Traefik 1.7 labels", false)
	section("rawmind0/rancher-traefik sidekick labels", true)
	return b.String()
}

// escapeCell keeps a note inside its Markdown table cell.
func escapeCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
