package edge

import (
	"crypto/sha1"
	"encoding/base64"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

// middlewareFields maps each field of route.Service that configures a
// middleware of the handler chain to a change that turns it on. A field
// the fast paths cannot honour themselves belongs here.
var middlewareFields = map[string]func(*route.Service){
	"Redirect":  func(s *route.Service) { s.Redirect = &route.Redirect{EntryPoint: "https"} },
	"Auth":      func(s *route.Service) { s.Auth = &route.BasicAuth{Users: []string{"ops:" + shaPassword("secret")}} },
	"WhiteList": func(s *route.Service) { s.WhiteList = &route.WhiteList{SourceRange: []string{"10.0.0.0/8"}} },
	"Headers":   func(s *route.Service) { s.Headers = &route.Headers{FrameDeny: true} },
	"DigestAuth": func(s *route.Service) {
		s.DigestAuth = &route.DigestAuth{Users: []string{"ops:traefik:" + strings.Repeat("0", 32)}}
	},
	"ForwardAuth": func(s *route.Service) { s.ForwardAuth = &route.ForwardAuth{Address: "http://127.0.0.1:1/auth"} },
	"RateLimit": func(s *route.Service) {
		s.RateLimit = &route.RateLimit{ExtractorFunc: "client.ip", RateSets: []route.RateSet{{Period: time.Second, Average: 1, Burst: 1}}}
	},
	"MaxConn":           func(s *route.Service) { s.MaxConn = &route.MaxConn{Amount: 1} },
	"CORS":              func(s *route.Service) { s.CORS = &route.CORS{AllowOrigins: []string{"*"}} },
	"Answer":            func(s *route.Service) { s.Answer = 404 },
	"AnswerWeight":      func(s *route.Service) { s.Answer, s.AnswerWeight = 500, 1 }, // a share of Answer's: the same stage
	"PassTLSClientCert": func(s *route.Service) { s.PassTLSClientCert = &route.PassTLSClientCert{PEM: true} },
	"ErrorPages": func(s *route.Service) {
		s.Backend = "pages" // its own page backend, so the table has it
		s.ErrorPages = []route.ErrorPage{{Name: "e", Status: []string{"502"}, Backend: "pages", Query: "/{status}.html"}}
	},
}

// configStages maps the stages the server's configuration turns on, for
// every route, to a change of Config that does.
var configStages = map[string]func(*Config){
	"compress": func(c *Config) { c.CompressHTTP = true },
}

// fastPathFields lists the fields of route.Service that both proxy
// designs honour without the handler chain, and where.
var fastPathFields = map[string]string{
	"Name":           "identity (per-route state, sticky cookie name)",
	"Source":         "identity",
	"Created":        "settles clashes in the table (clash.go)",
	"Rule":           "matched by the table; its path modifiers are applied by the fast paths (stage path-rewrite)",
	"Priority":       "orders the table",
	"PassHostHeader": "both proxies write the upstream Host",
	"UpstreamHost":   "both proxies write it as the upstream Host (writeRequestHead, newReverseProxy)",
	"EntryPoints":    "the table's lookup",
	"LoadBalancer":   "balancers and sticky cookies, shared by both designs",
	"HealthCheck":    "checkers outside the request path",
	"Servers":        "the backends",
	"Backend":        "names the route for other routes' error pages",
	"Fallback":       "the table's clash report leaves it out",

	"ResponseHeaderTimeout": "every proxy path's wait for the response head (Route.headerTimeout)",
	"MaxRequestBodyBytes":   "every proxy path counts the body (Route.maxBody)",
	"DialTimeout":           "every proxy path's connect to a backend (Route.dialTimeout; TestRouteDialTimeout)",
	"TLS":                   "the table's lookup on the plain HTTP listener, and the names offered to ACME",
}

func shaPassword(p string) string {
	sum := sha1.Sum([]byte(p))
	return "{SHA}" + base64.StdEncoding.EncodeToString(sum[:])
}

// TestEveryMiddlewareFieldTurnsFastPathOff walks every field of
// route.Service: a field that configures a middleware must take the route
// off the fast paths (which would otherwise skip the chain), and a new
// field must be classified before this test passes, so a middleware
// cannot be bypassed by forgetting it.
func TestEveryMiddlewareFieldTurnsFastPathOff(t *testing.T) {
	s, err := New(Config{HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	compileOne := func(t *testing.T, sv route.Service) *Route {
		t.Helper()
		tbl := s.Update(snapshot(sv))
		if ps := tbl.Problems(); len(ps) > 0 {
			t.Fatalf("problems: %v", ps)
		}
		return tbl.Routes()[0]
	}
	base := svc("plain", "Host:a.test.local", "http://127.0.0.1:1")
	if rt := compileOne(t, base); !rt.fast || len(rt.Middlewares()) != 0 {
		t.Fatalf("a route without middlewares: fast=%v middlewares=%v, want the fast path and none", rt.fast, rt.Middlewares())
	}

	kinds := map[string]bool{}
	typ := reflect.TypeFor[route.Service]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		on, isMiddleware := middlewareFields[name]
		_, isFast := fastPathFields[name]
		switch {
		case isMiddleware && isFast:
			t.Errorf("route.Service.%s is listed both as a middleware and as honoured by the fast paths", name)
		case isFast:
		case isMiddleware:
			t.Run(name, func(t *testing.T) {
				sv := base
				on(&sv)
				rt := compileOne(t, sv)
				if rt.fast {
					t.Errorf("route with %s is served by the fast paths, which skip its middleware", name)
				}
				mws := rt.Middlewares()
				if len(mws) != 1 {
					t.Fatalf("Middlewares() = %v, want the one %s configures", mws, name)
				}
				kinds[mws[0].Kind] = true
			})
		default:
			t.Errorf("route.Service.%s is new: add it to middlewareFields (and a row to stages) if the handler chain applies it, "+
				"or to fastPathFields if both fast paths honour it themselves", name)
		}
	}
	// Stages the server's configuration turns on for every route.
	for kind, on := range configStages {
		t.Run(kind, func(t *testing.T) {
			cfg := Config{HTTPAddr: "127.0.0.1:0"}
			on(&cfg)
			cs, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			rt := cs.Update(snapshot(base)).Routes()[0]
			if mws := rt.Middlewares(); rt.fast || len(mws) != 1 || mws[0].Kind != kind {
				t.Errorf("with %s on: fast=%v middlewares=%v", kind, rt.fast, mws)
			}
			kinds[kind] = true
		})
	}
	// Every stage the fast paths do not apply is reachable from a field
	// or the configuration.
	for _, st := range stages {
		if !st.fast && !kinds[st.kind] {
			t.Errorf("stage %q is turned on by no field in middlewareFields", st.kind)
		}
	}
}

// TestMiddlewaresInChainOrder: the dashboard and `edge check` list the
// middlewares in the order requests meet them, from the same list the
// chain is built from, and a path modifier alone keeps the fast path.
func TestMiddlewaresInChainOrder(t *testing.T) {
	s, err := New(Config{HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sv := svc("all", "Host:a.test.local;PathPrefixStrip:/api", "http://127.0.0.1:1")
	for _, on := range middlewareFields {
		on(&sv)
	}
	rt := s.Update(snapshot(sv)).Routes()[0]
	var got []string
	for _, m := range rt.Middlewares() {
		got = append(got, m.Kind)
		if m.Detail == "" {
			t.Errorf("middleware %s has no description", m.Kind)
		}
	}
	want := []string{"whitelist", "redirect", "cors", "headers", "auth", "digest-auth", "forward-auth", "pass-client-cert", "error-pages", "rate-limit", "maxconn", "answer", "path-rewrite"}
	if !slices.Equal(got, want) {
		t.Errorf("Middlewares() kinds = %v, want %v", got, want)
	}

	rt = s.Update(snapshot(svc("strip", "Host:a.test.local;PathPrefixStrip:/api", "http://127.0.0.1:1"))).Routes()[0]
	if !rt.fast {
		t.Error("a route whose only stage is a path modifier left the fast paths, which apply it themselves")
	}
}
