package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// pageNames are the pages, each a template file defining "title" and
// "content" that the layout wraps.
func pageNames() []string { return []string{"overview", "routes", "certificates", "discovery"} }

// fragmentHeader asks for a page's main section only: app.js sends it when
// it refreshes a page in place.
const fragmentHeader = "X-Edge-Fragment"

// pages holds the parsed templates and the static files.
type pages struct {
	tmpl    map[string]*template.Template
	static  http.HandlerFunc
	refresh time.Duration
}

// pageData is what every template receives.
type pageData struct {
	Page    string // the page's name, for the navigation
	Refresh int    // seconds between refreshes
	Now     time.Time
	Data    any // the page's view model
}

func newPages(refresh time.Duration) (*pages, error) {
	p := &pages{tmpl: make(map[string]*template.Template), refresh: refresh}
	base, err := template.New("layout.html").Funcs(funcs()).ParseFS(assets, "assets/templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parsing layout: %w", err)
	}
	for _, name := range pageNames() {
		t, err := template.Must(base.Clone()).ParseFS(assets, "assets/templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parsing %s page: %w", name, err)
		}
		p.tmpl[name] = t
	}
	static, err := fs.Sub(assets, "assets/static")
	if err != nil {
		return nil, fmt.Errorf("static assets: %w", err)
	}
	etags := make(map[string]string)
	err = fs.WalkDir(static, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		etags["/static/"+path] = `"` + hex.EncodeToString(sum[:8]) + `"`
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static assets: %w", err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	// Embedded files have no modification time; an ETag lets browsers
	// revalidate instead of downloading on every page.
	p.static = func(w http.ResponseWriter, r *http.Request) {
		if tag, ok := etags[r.URL.Path]; ok {
			w.Header().Set("ETag", tag)
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	}
	return p, nil
}

// page serves one HTML page, or its main section for a refresh.
func (s *Server) page(name string, build func(*http.Request, state) any) http.HandlerFunc {
	t := s.pages.tmpl[name]
	return func(w http.ResponseWriter, r *http.Request) {
		st := s.read()
		data := pageData{Page: name, Refresh: int(s.pages.refresh / time.Second), Now: st.now, Data: build(r, st)}
		tmpl := "layout"
		if r.Header.Get(fragmentHeader) != "" {
			tmpl = "content"
		}
		// Render into a buffer so a template error becomes a clean 500
		// rather than half a page.
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, tmpl, data); err != nil {
			s.log.Error("rendering dashboard page", "page", name, "error", err)
			http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Vary", fragmentHeader)
		_, _ = w.Write(buf.Bytes())
	}
}

// api serves one view model as JSON.
func (s *Server) api(build func(*http.Request, state) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := json.MarshalIndent(build(r, s.read()), "", "  ")
		if err != nil {
			s.log.Error("encoding dashboard API response", "path", r.URL.Path, "error", err)
			http.Error(w, "internal error encoding the response", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write(append(body, '\n'))
	}
}

// funcs are the template helpers; all formatting of times for people is
// here, relative to the page's Now.
func funcs() template.FuncMap {
	return template.FuncMap{
		"stamp":   stamp,
		"rel":     rel,
		"human":   func(sec int64) string { return humanDuration(time.Duration(sec) * time.Second) },
		"pct":     func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
		"join":    strings.Join,
		"deref":   func(p *float64) float64 { return *p },
		"deref64": func(p *int64) int64 { return *p },
		"slug":    slug,
		"plural": func(n any, word string) string {
			switch n := n.(type) {
			case int:
				return plural(n, word)
			case int64:
				return plural(n, word)
			case uint64:
				return plural(n, word)
			}
			return fmt.Sprint(n) + " " + word
		},
		// age is how long ago t was, without "ago": "for 3m 7s".
		"age": func(t, now time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return humanDuration(now.Sub(t).Truncate(time.Second))
		},
		"spark":   sparkline,
		"latency": latency,
		"rate":    rate,
		// count shows a window's estimated count as a whole number.
		"count": func(f float64) string { return strconv.FormatFloat(f, 'f', 0, 64) },
		"ms": func(sec float64) string {
			return latency(&Quantile{Seconds: sec})
		},
		"health": func(h string) string {
			if h == "unchecked" {
				return "not checked"
			}
			return h
		},
		"seconds":  func(f float64) int64 { return int64(f) },
		"states":   certStates,
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"contains": func(s, sub string) bool { return strings.Contains(s, sub) },
		"add":      func(a, b int) int { return a + b },
		"errclass": func(f float64) string {
			switch {
			case f >= 0.05:
				return "bad"
			case f > 0:
				return "warn"
			}
			return ""
		},
	}
}

// stamp formats an absolute time for people, in UTC; "—" for none.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// rel formats t relative to now: "3m ago" or "in 2h"; "—" for none.
func rel(t, now time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := t.Sub(now)
	switch {
	case d > -time.Second && d < time.Second:
		return "now"
	case d < 0:
		return humanDuration(-d) + " ago"
	}
	return "in " + humanDuration(d)
}

// humanDuration rounds d to its two largest units: "3d 4h", "12m 5s".
func humanDuration(d time.Duration) string {
	if d < 0 {
		return "-" + humanDuration(-d)
	}
	units := []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	for i, u := range units {
		if d < u.d {
			continue
		}
		out := fmt.Sprintf("%d%s", d/u.d, u.name)
		if i+1 < len(units) {
			if n := (d % u.d) / units[i+1].d; n > 0 {
				out += fmt.Sprintf(" %d%s", n, units[i+1].name)
			}
		}
		return out
	}
	return "0s"
}
