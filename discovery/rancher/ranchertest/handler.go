package ranchertest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// request is one API request, parsed the way Cattle's ApiRequestParser
// parses it.
type request struct {
	r           *http.Request
	key         keyKind
	versionBase string   // "http://host/v2-beta" or ".../v1"
	scopeBase   string   // versionBase, or versionBase + "/projects/<id>"
	parts       []string // path after the scope
	visible     bool     // false: an account key on unscoped URLs sees nothing
}

// ServeHTTP answers the Rancher API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Requests++
	s.mu.Unlock()

	path := strings.Trim(strings.ToLower(r.URL.Path), "/")
	version, rest, _ := strings.Cut(path, "/")
	if version != "v2-beta" && version != "v1" {
		s.writeError(w, r, http.StatusNotFound)
		return
	}
	var parts []string
	if rest != "" {
		parts = strings.Split(rest, "/")
	}
	req := &request{r: r, versionBase: "http://" + r.Host + "/" + version, visible: true}
	req.scopeBase, req.parts = req.versionBase, parts

	// Cattle sets X-API-Schemas before any handler runs, authentication
	// included, and scopes it only for paths of more than four segments.
	schemas := req.versionBase + "/schemas"
	if len(parts) > 2 && parts[0] == "projects" {
		schemas = req.versionBase + "/projects/" + parts[1] + "/schemas"
	}
	w.Header().Set("X-Api-Schemas", schemas)
	w.Header().Set("X-Rancher-Version", "v1.6.17")

	if s.injected(w, r) {
		return
	}
	req.key = s.authenticate(r)
	if req.key == noKey {
		s.mu.Lock()
		s.stats.Unauthorized++
		s.mu.Unlock()
		s.writeError(w, r, http.StatusUnauthorized)
		return
	}
	w.Header().Set("X-Api-Account-Id", s.opts.ProjectID)

	switch {
	case len(parts) == 0:
		s.writeRaw(w, req, s.tmpl.apiRoot)
		return
	case parts[0] == "projects" && len(parts) == 1:
		s.writeProjects(w, req)
		return
	case parts[0] == "projects":
		pid := parts[1]
		if !s.canSee(req.key, pid) {
			if s.knownProject(pid) {
				s.writeError(w, r, http.StatusForbidden)
			} else {
				s.writeError(w, r, http.StatusNotFound)
			}
			return
		}
		if len(parts) == 2 {
			s.writeRaw(w, req, s.projectBody(pid))
			return
		}
		req.scopeBase = req.versionBase + "/projects/" + pid
		req.parts = parts[2:]
		req.visible = pid == s.opts.ProjectID
	default:
		req.visible = req.key == environmentKey
	}
	s.route(w, req)
}

func (s *Server) route(w http.ResponseWriter, req *request) {
	p := req.parts
	r := req.r
	if p[0] == "subscribe" && len(p) == 1 {
		s.serveSubscribe(w, req)
		return
	}
	if p[0] == "projects" && len(p) == 1 {
		s.writeProjects(w, req)
		return
	}
	if p[0] == "schemas" && len(p) == 1 {
		s.writeRaw(w, req, s.tmpl.schemas)
		return
	}
	if _, ok := collections[p[0]]; !ok || len(p) > 2 {
		s.writeError(w, r, http.StatusNotFound)
		return
	}
	switch {
	case len(p) == 1 && r.Method == http.MethodGet:
		s.writeCollection(w, req, p[0])
	case len(p) == 2 && r.Method == http.MethodGet:
		s.writeResource(w, req, p[0], p[1])
	case len(p) == 2 && r.Method == http.MethodPut && isServiceCollection(p[0]):
		s.updateService(w, req, p[1])
	default:
		s.writeError(w, r, http.StatusMethodNotAllowed)
	}
}

func (s *Server) knownProject(pid string) bool {
	return pid == s.opts.ProjectID || slices.Contains(s.opts.OtherProjects, pid)
}

// canSee reports whether a key may use a project's URLs: an environment
// key only its own project (Cattle answers 403 otherwise).
func (s *Server) canSee(k keyKind, pid string) bool {
	if k == environmentKey {
		return pid == s.opts.ProjectID
	}
	return s.knownProject(pid)
}

func (s *Server) projectBody(pid string) []byte {
	if pid == s.opts.ProjectID && pid == "1a5" {
		return s.tmpl.project
	}
	b := bytes.ReplaceAll(s.tmpl.project, []byte(`\/projects\/1a5`), []byte(`\/projects\/`+pid))
	return bytes.ReplaceAll(b, []byte(`"id":"1a5"`), []byte(`"id":"`+pid+`"`))
}

// writeProjects answers the projects collection, which is not
// jOOQ-backed: pagination null, no sort links or filters.
func (s *Server) writeProjects(w http.ResponseWriter, req *request) {
	ids := []string{s.opts.ProjectID}
	if req.key == accountKey {
		ids = append(ids, s.opts.OtherProjects...)
	}
	var buf bytes.Buffer
	buf.WriteString(`{"type":"collection","resourceType":"project","links":{"self":`)
	encodeString(&buf, "http://"+req.r.Host+req.r.URL.Path)
	buf.WriteString(`},"createTypes":{"project":`)
	encodeString(&buf, req.versionBase+"/projects")
	buf.WriteString(`},"actions":{},"data":[`)
	for i, id := range ids {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(bytes.ReplaceAll(s.projectBody(id), []byte(`\/`), []byte(`/`)))
	}
	buf.WriteString(`],"sortLinks":{},"pagination":null,"sort":null,"filters":{},"createDefaults":{}}`)
	s.writeRaw(w, req, escapeSlashes(buf.Bytes()))
}

// writeRaw writes a slash-escaped body after filling in the placeholders.
func (s *Server) writeRaw(w http.ResponseWriter, req *request, body []byte) {
	body = fillPlaceholders(body, req.versionBase, req.scopeBase)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Expires", "Thu, 01 Jan 1970 00:00:00 GMT")
	_, _ = w.Write(body) // the client went away; nothing to do
}

func fillPlaceholders(body []byte, versionBase, scopeBase string) []byte {
	body = bytes.ReplaceAll(body, []byte(phScope), []byte(escapeString(scopeBase)))
	return bytes.ReplaceAll(body, []byte(phVersion), []byte(escapeString(versionBase)))
}

// errorCodes are Cattle's default error codes (api/messages.properties);
// others use the HTTP reason phrase.
var errorCodes = map[int]string{405: "Method not allowed"}

// writeError answers Cattle's JSON error body with a fresh id. A 401 also
// carries the Basic challenge, except on websocket dials and when the
// client asks for none.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int) {
	var m map[string]any
	switch status {
	case http.StatusUnauthorized:
		m = cloneMap(s.tmpl.err401)
		if !strings.EqualFold(r.Header.Get("Connection"), "upgrade") && r.Header.Get("X-API-No-Challenge") != "true" {
			w.Header().Set("WWW-Authenticate", `Basic realm="Enter API access key and secret key as username and password"`)
		}
	case http.StatusForbidden:
		m = cloneMap(s.tmpl.err403)
	case http.StatusNotFound:
		m = cloneMap(s.tmpl.err404)
	default:
		code := errorCodes[status]
		if code == "" {
			code = http.StatusText(status)
		}
		m = map[string]any{
			"type": "error", "links": map[string]any{}, "actions": map[string]any{},
			"baseType": "error", "status": status, "code": code, "message": code, "detail": nil,
		}
	}
	m["id"] = newUUID()
	var buf bytes.Buffer
	encodeJSON(&buf, m)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(escapeSlashes(buf.Bytes()))
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// updateService answers PUT /services/<id>, which Rancher uses for
// changing a service; the fake honours "scale" so that
// `curl -X PUT -d '{"scale":4}'` works against it as against Cattle.
func (s *Server) updateService(w http.ResponseWriter, req *request, id string) {
	var body struct {
		Scale *int `json:"scale"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, req.r.Body, 1<<20)).Decode(&body); err != nil {
		s.writeError(w, req.r, http.StatusUnprocessableEntity)
		return
	}
	s.mu.Lock()
	_, ok := s.world.services[id]
	s.mu.Unlock()
	if !ok || !req.visible {
		s.writeError(w, req.r, http.StatusNotFound)
		return
	}
	if body.Scale != nil {
		if *body.Scale < 0 {
			s.writeError(w, req.r, http.StatusUnprocessableEntity)
			return
		}
		s.Scale(id, *body.Scale)
	}
	s.writeResource(w, req, "services", id)
}
