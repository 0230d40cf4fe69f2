package edge

import (
	"net/http"
	"testing"

	"github.com/rancher-edge/edge/route"
)

// A route with an Answer answers it itself in both proxy designs, over
// HTTP/1.1 and HTTP/2, even with servers listed; a status that is not an
// error is a problem on that route, the others serve.
func TestRouteAnswer(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te := startEdge(t, mode)
		live := newBackend(t, "live")
		broken := svc("broken", "Host:broken.test.local")
		broken.Answer = http.StatusInternalServerError
		missing := svc("missing", "Host:missing.test.local", live.URL)
		missing.Answer = http.StatusNotFound
		bad := svc("bad", "Host:bad.test.local", live.URL)
		bad.Answer = http.StatusOK
		tbl := te.srv.Update(snapshot(broken, missing, bad, svc("app", "Host:app.test.local", live.URL)))
		for _, h2 := range []bool{false, true} {
			for host, want := range map[string]int{"broken.test.local": 500, "missing.test.local": 404, "app.test.local": 200} {
				resp, body := get(t, te.client(h2), hostURL(te, host, "/"))
				if resp.StatusCode != want {
					t.Errorf("h2=%v %s: %d (%q), want %d", h2, host, resp.StatusCode, body, want)
				}
			}
		}
		found := false
		for _, p := range tbl.Problems() {
			found = found || p.Source.Service == "bad" && p.Severity == route.Error
		}
		if !found {
			t.Errorf("answer 200 accepted: %v", tbl.Problems())
		}
	})
}
