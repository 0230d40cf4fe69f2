package middleware

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/rancher-edge/edge/route"
)

// CORS answers cross-origin requests as ingress-nginx's enable-cors does.
// A request is a CORS request when cfg allows every origin ("*") or its
// Origin header is one of cfg's origins or matches one of its
// *.wildcards (one label). Such a request's response gets
// Access-Control-Allow-Origin (its Origin, or "*"), -Allow-Credentials,
// -Allow-Methods, -Allow-Headers, -Max-Age and -Expose-Headers, replacing
// what the backend sent; an OPTIONS request (a preflight) is answered 204
// by the edge and never reaches the backend. Other requests pass
// untouched.
//
// The plans of "*" and of the listed origins are built once; only an
// origin matched by a wildcard costs a plan per request.
func CORS(cfg route.CORS, next http.Handler) (http.Handler, error) {
	if next == nil {
		return nil, fmt.Errorf("cors: %w", errNoNext)
	}
	c := &cors{next: next, exact: map[string]*responsePlan{}}
	for _, h := range []string{cfg.AllowMethods, cfg.AllowHeaders, cfg.ExposeHeaders} {
		if strings.ContainsAny(h, "\r\n") {
			return nil, fmt.Errorf("cors: a header value holds a line break")
		}
	}
	add := func(k, v string) {
		if v != "" {
			c.common = append(c.common, newHeaderValue(k, v))
		}
	}
	if cfg.AllowCredentials {
		add("Access-Control-Allow-Credentials", "true")
	}
	add("Access-Control-Allow-Methods", cfg.AllowMethods)
	add("Access-Control-Allow-Headers", cfg.AllowHeaders)
	add("Access-Control-Expose-Headers", cfg.ExposeHeaders)
	if cfg.MaxAge > 0 {
		add("Access-Control-Max-Age", strconv.Itoa(cfg.MaxAge))
	}
	if len(cfg.AllowOrigins) == 0 {
		return nil, fmt.Errorf("cors: no allowed origin")
	}
	for _, o := range cfg.AllowOrigins {
		o = strings.TrimSpace(o)
		if err := route.CheckCORSOrigin(o); err != nil {
			return nil, fmt.Errorf("cors: %w", err)
		}
		switch scheme, host, _ := strings.Cut(o, "://"); {
		case o == "*":
			c.any = c.plan("*")
		case strings.HasPrefix(host, "*."):
			c.patterns = append(c.patterns, regexp.MustCompile("^"+scheme+`://[A-Za-z0-9-]+\.`+regexp.QuoteMeta(host[2:])+"$"))
		default:
			c.exact[o] = c.plan(o)
		}
	}
	return c, nil
}

type cors struct {
	next     http.Handler
	common   []headerValue
	any      *responsePlan
	exact    map[string]*responsePlan
	patterns []*regexp.Regexp
}

func (c *cors) plan(origin string) *responsePlan {
	p := &responsePlan{set: make([]headerValue, 0, len(c.common)+1)}
	p.set = append(p.set, newHeaderValue("Access-Control-Allow-Origin", origin))
	p.set = append(p.set, c.common...)
	return p
}

func (c *cors) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	plan := c.any
	if plan == nil {
		if v := r.Header["Origin"]; len(v) > 0 {
			plan = c.exact[v[0]]
			if plan == nil {
				for _, re := range c.patterns {
					if re.MatchString(v[0]) {
						plan = c.plan(v[0])
						break
					}
				}
			}
		}
	}
	if plan == nil {
		c.next.ServeHTTP(w, r)
		return
	}
	if r.Method == http.MethodOptions {
		h := w.Header()
		plan.apply(h)
		h["Content-Type"] = preflightType
		h["Content-Length"] = preflightLength
		w.WriteHeader(http.StatusNoContent)
		return
	}
	c.next.ServeHTTP(&headerWriter{ResponseWriter: w, plan: plan}, r)
}

var (
	preflightType   = []string{"text/plain; charset=utf-8"}
	preflightLength = []string{"0"}
)
