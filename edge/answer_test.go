package edge

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
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

// With an AnswerWeight the answer is a share of the requests beside the
// servers' weights, spread evenly; the rest reach the servers; the route's
// description says which share.
func TestRouteAnswerShare(t *testing.T) {
	t.Parallel()
	inModes(t, func(t *testing.T, mode func(*Config)) {
		te := startEdge(t, mode)
		a, b := newBackend(t, "a"), newBackend(t, "b")
		partly := svc("partly", "Host:partly.test.local", a.URL, b.URL)
		partly.Servers[0].Weight, partly.Servers[1].Weight = 2, 1
		partly.Answer, partly.AnswerWeight = http.StatusInternalServerError, 1
		drained := svc("drained", "Host:drained.test.local", a.URL)
		drained.Servers[0].Weight = 0
		drained.Answer, drained.AnswerWeight = http.StatusInternalServerError, 1
		tbl := te.srv.Update(snapshot(partly, drained))
		for _, h2 := range []bool{false, true} {
			counts := map[string]int{}
			prev500 := false
			for i := range 40 {
				resp, body := get(t, te.client(h2), hostURL(te, "partly.test.local", "/"))
				var e echo
				if resp.StatusCode == 200 {
					if err := json.Unmarshal([]byte(body), &e); err != nil {
						t.Fatalf("h2=%v: %v in %q", h2, err, body)
					}
				}
				counts[strconv.Itoa(resp.StatusCode)+" "+e.Name]++
				// Evenly: never two 500s in a row.
				if resp.StatusCode == 500 && prev500 {
					t.Errorf("h2=%v: two 500s in a row at request %d", h2, i)
				}
				prev500 = resp.StatusCode == 500
			}
			if counts["500 "] != 10 || counts["200 a"] != 20 || counts["200 b"] != 10 {
				t.Errorf("h2=%v: answers %v, want 10 of 500, 20 from a, 10 from b", h2, counts)
			}
			// Every server drained: the answer takes every request.
			if resp, _ := get(t, te.client(h2), hostURL(te, "drained.test.local", "/")); resp.StatusCode != 500 {
				t.Errorf("h2=%v: drained route answered %d, want 500", h2, resp.StatusCode)
			}
		}
		var desc string
		for _, rt := range tbl.Routes() {
			if rt.Service.Name == "partly" {
				for _, m := range rt.Middlewares() {
					if m.Kind == "answer" {
						desc = m.Detail
					}
				}
			}
		}
		if !strings.Contains(desc, "answers 500 itself to 25% of requests") {
			t.Errorf("the route's answer stage says %q", desc)
		}
	})
}
