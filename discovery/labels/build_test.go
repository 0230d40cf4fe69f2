package labels

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/route"
)

// kv builds a label map from alternating names and values.
func kv(pairs ...string) map[string]string {
	m := make(map[string]string, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

// svc is the route a service "web" in stack "shop" with one server and
// traefik.port=8080 yields; edit adjusts it per case.
func svc(edit ...func(*route.Service)) route.Service {
	s := route.Service{
		Name:           "web.shop",
		Source:         route.Source{Provider: "rancher", Stack: "shop", Service: "web"},
		Rule:           "Host:web.shop.example.com",
		Backend:        "web-shop",
		PassHostHeader: true,
		LoadBalancer:   route.LoadBalancer{Method: "wrr"},
		Servers:        []route.Server{{URL: "http://10.0.0.5:8080", Weight: 1, Name: "c1"}},
	}
	for _, e := range edit {
		e(&s)
	}
	return s
}

// seg turns the default route into the named segment's route.
func seg(name string) func(*route.Service) {
	return func(s *route.Service) {
		s.Name = "web.shop." + name
		s.Source.Segment = name
		s.Backend = "web-shop-web-shop-" + name
	}
}

type wantProblem struct {
	sev route.Severity
	seg string
	msg string // substring
}

func errp(seg, msg string) wantProblem  { return wantProblem{route.Error, seg, msg} }
func warnp(seg, msg string) wantProblem { return wantProblem{route.Warning, seg, msg} }

func TestBuild(t *testing.T) {
	t.Parallel()
	allHeaders := &route.Headers{
		CustomRequestHeaders:    map[string]string{"X-Foo": "bar", "X-Trace-Id": "a:b"},
		CustomResponseHeaders:   map[string]string{"X-Served-By": "edge"},
		SSLProxyHeaders:         map[string]string{"X-Forwarded-Proto": "https"},
		AllowedHosts:            []string{"a.example.com", "b.example.com"},
		HostsProxyHeaders:       []string{"X-Forwarded-Host"},
		SSLRedirect:             true,
		SSLTemporaryRedirect:    true,
		SSLForceHost:            true,
		SSLHost:                 "secure.example.com",
		STSSeconds:              31536000,
		STSIncludeSubdomains:    true,
		STSPreload:              true,
		ForceSTSHeader:          true,
		FrameDeny:               true,
		CustomFrameOptionsValue: "SAMEORIGIN",
		ContentTypeNosniff:      true,
		BrowserXSSFilter:        true,
		CustomBrowserXSSValue:   "1; mode=block",
		ContentSecurityPolicy:   "default-src 'self'",
		PublicKey:               "pin-sha256=\"x\"",
		ReferrerPolicy:          "no-referrer",
		IsDevelopment:           true,
	}
	tests := []struct {
		name     string
		labels   map[string]string
		servers  []Address // nil: one server 10.0.0.5 named c1
		host     string    // DefaultHost; "" means web.shop
		opts     func(*Options)
		want     []route.Service
		problems []wantProblem
	}{
		// Eligibility.
		{name: "minimal", labels: kv("traefik.port", "8080"), want: []route.Service{svc()}},
		{name: "no traefik labels", labels: kv("io.rancher.stack.name", "shop")},
		{name: "nil labels", labels: nil},
		{name: "missing port", labels: kv("traefik.frontend.rule", "Host:a.example.com"),
			problems: []wantProblem{errp("", "no traefik.port label")}},
		{name: "empty port", labels: kv("traefik.port", ""),
			problems: []wantProblem{errp("", "no traefik.port label")}},
		{name: "port not a number", labels: kv("traefik.port", "abc"),
			problems: []wantProblem{errp("", `traefik.port "abc" is not a number`)}},
		{name: "port out of range", labels: kv("traefik.port", "70000"),
			problems: []wantProblem{errp("", "traefik.port 70000 is not a port")}},
		{name: "disabled", labels: kv("traefik.port", "8080", "traefik.enable", "false")},
		{name: "disabled without port is silent", labels: kv("traefik.enable", "false")},
		{name: "enable unparsable falls back to exposed", labels: kv("traefik.port", "8080", "traefik.enable", "stack"),
			want: []route.Service{svc()}, problems: []wantProblem{warnp("", `traefik.enable "stack" is not a boolean`)}},
		{name: "enable unparsable falls back to not exposed", labels: kv("traefik.port", "8080", "traefik.enable", "stack"),
			opts:     func(o *Options) { o.ExposedByDefault = false },
			problems: []wantProblem{warnp("", "exposed-by-default setting (false)")}},
		{name: "enable empty falls back silently", labels: kv("traefik.port", "8080", "traefik.enable", ""),
			opts: func(o *Options) { o.ExposedByDefault = false }},
		{name: "enable true beats not exposed", labels: kv("traefik.port", "8080", "traefik.enable", "TRUE"),
			opts: func(o *Options) { o.ExposedByDefault = false }, want: []route.Service{svc()}},
		{name: "enable 1", labels: kv("traefik.port", "8080", "traefik.enable", "1"),
			opts: func(o *Options) { o.ExposedByDefault = false }, want: []route.Service{svc()}},

		// Constraints.
		{name: "constraint matches a tag", labels: kv("traefik.port", "8080", "traefik.tags", "web, api"),
			opts: func(o *Options) { o.Constraints = []string{"tag==api"} }, want: []route.Service{svc()}},
		{name: "constraint matches no tag", labels: kv("traefik.port", "8080", "traefik.tags", "web"),
			opts: func(o *Options) { o.Constraints = []string{"tag==api"} }},
		{name: "constraint needs tags", labels: kv("traefik.port", "8080"),
			opts: func(o *Options) { o.Constraints = []string{"tag==api"} }},
		{name: "negative constraint excludes", labels: kv("traefik.port", "8080", "traefik.tags", "internal"),
			opts: func(o *Options) { o.Constraints = []string{"tag!=internal"} }},
		{name: "negative constraint without tags", labels: kv("traefik.port", "8080"),
			opts: func(o *Options) { o.Constraints = []string{"tag!=internal"} }, want: []route.Service{svc()}},
		{name: "glob constraint", labels: kv("traefik.port", "8080", "traefik.tags", "cheese"),
			opts: func(o *Options) { o.Constraints = []string{"tag==ch*se", "tag!=*beta"} }, want: []route.Service{svc()}},
		{name: "glob constraint excludes", labels: kv("traefik.port", "8080", "traefik.tags", "cheese,v2-beta"),
			opts: func(o *Options) { o.Constraints = []string{"tag==ch*se", "tag!=*beta"} }},
		{name: "invalid constraint skips", labels: kv("traefik.port", "8080"),
			opts:     func(o *Options) { o.Constraints = []string{"tag=api"} },
			problems: []wantProblem{errp("", "no == or != operator")}},

		// Rules and names.
		{name: "default rule without domain", labels: kv("traefik.port", "8080"),
			opts: func(o *Options) { o.Domain = "" },
			want: []route.Service{svc(func(s *route.Service) { s.Rule = "Host:web.shop" })}},
		{name: "traefik.domain overrides", labels: kv("traefik.port", "8080", "traefik.domain", "other.org"),
			want: []route.Service{svc(func(s *route.Service) { s.Rule = "Host:web.shop.other.org" })}},
		{name: "traefik.domain without global domain", labels: kv("traefik.port", "8080", "traefik.domain", "other.org"),
			opts: func(o *Options) { o.Domain = "" },
			want: []route.Service{svc(func(s *route.Service) { s.Rule = "Host:web.shop.other.org" })}},
		{name: "mixed-case default host", labels: kv("traefik.port", "8080"), host: "Web.MyStack",
			want: []route.Service{svc(func(s *route.Service) {
				s.Name, s.Rule, s.Backend = "web.mystack", "Host:web.mystack.example.com", "Web-MyStack"
			})}},
		{name: "explicit rule", labels: kv("traefik.port", "8080", "traefik.frontend.rule", "Host:a.example.com;PathPrefix:/api"),
			want: []route.Service{svc(func(s *route.Service) { s.Rule = "Host:a.example.com;PathPrefix:/api" })}},
		{name: "empty rule uses default", labels: kv("traefik.port", "8080", "traefik.frontend.rule", ""),
			want: []route.Service{svc()}},
		{name: "bad rule", labels: kv("traefik.port", "8080", "traefik.frontend.rule", "Hots:a.example.com"),
			problems: []wantProblem{errp("", `traefik.frontend.rule: invalid frontend rule "Hots:a.example.com"`)}},

		// Backend basics.
		{name: "https protocol", labels: kv("traefik.port", "8443", "traefik.protocol", "https"),
			want: []route.Service{svc(func(s *route.Service) { s.Servers[0].URL = "https://10.0.0.5:8443" })}},
		{name: "bad protocol", labels: kv("traefik.port", "8080", "traefik.protocol", "spdy"),
			problems: []wantProblem{errp("", `traefik.protocol "spdy" is not http, https, h2c or h2`)}},
		{name: "weight", labels: kv("traefik.port", "8080", "traefik.weight", "5"),
			want: []route.Service{svc(func(s *route.Service) { s.Servers[0].Weight = 5 })}},
		{name: "weight zero drains", labels: kv("traefik.port", "8080", "traefik.weight", "0"),
			want: []route.Service{svc(func(s *route.Service) { s.Servers[0].Weight = 0 })}},
		{name: "weight not a number falls back to 1 like Traefik", labels: kv("traefik.port", "8080", "traefik.weight", "kls"),
			want:     []route.Service{svc()},
			problems: []wantProblem{warnp("", `traefik.weight "kls" is not a number; using 1`)}},
		{name: "weight negative", labels: kv("traefik.port", "8080", "traefik.weight", "-1"),
			problems: []wantProblem{errp("", "traefik.weight -1 is negative")}},

		// Frontend basics.
		{name: "priority", labels: kv("traefik.port", "8080", "traefik.frontend.priority", "10"),
			want: []route.Service{svc(func(s *route.Service) { s.Priority = 10 })}},
		{name: "bad priority falls back to the rule length like Traefik", labels: kv("traefik.port", "8080", "traefik.frontend.priority", "bar"),
			want:     []route.Service{svc()},
			problems: []wantProblem{warnp("", `traefik.frontend.priority "bar" is not a number; using the rule's length`)}},
		{name: "passHostHeader false", labels: kv("traefik.port", "8080", "traefik.frontend.passHostHeader", "false"),
			want: []route.Service{svc(func(s *route.Service) { s.PassHostHeader = false })}},
		{name: "passHostHeader bad keeps default", labels: kv("traefik.port", "8080", "traefik.frontend.passHostHeader", "nah"),
			want: []route.Service{svc()}, problems: []wantProblem{warnp("", `traefik.frontend.passHostHeader "nah" is not a boolean; using true`)}},
		{name: "entryPoints", labels: kv("traefik.port", "8080", "traefik.frontend.entryPoints", "http, https,"),
			want: []route.Service{svc(func(s *route.Service) { s.EntryPoints = []string{"http", "https"} })}},

		// Redirect.
		{name: "redirect entry point", labels: kv("traefik.port", "8080", "traefik.frontend.redirect.entryPoint", "https", "traefik.frontend.redirect.permanent", "true"),
			want: []route.Service{svc(func(s *route.Service) { s.Redirect = &route.Redirect{EntryPoint: "https", Permanent: true} })}},
		{name: "redirect regex", labels: kv("traefik.port", "8080", "traefik.frontend.redirect.regex", "^http://(.*)", "traefik.frontend.redirect.replacement", "https://$1"),
			want: []route.Service{svc(func(s *route.Service) { s.Redirect = &route.Redirect{Regex: "^http://(.*)", Replacement: "https://$1"} })}},
		{name: "redirect regex without replacement", labels: kv("traefik.port", "8080", "traefik.frontend.redirect.regex", "^http://(.*)"),
			want: []route.Service{svc()}, problems: []wantProblem{warnp("", "needs traefik.frontend.redirect.replacement")}},
		{name: "redirect entry point beats regex", labels: kv("traefik.port", "8080", "traefik.frontend.redirect.entryPoint", "https", "traefik.frontend.redirect.regex", "x", "traefik.frontend.redirect.replacement", "y"),
			want:     []route.Service{svc(func(s *route.Service) { s.Redirect = &route.Redirect{EntryPoint: "https"} })},
			problems: []wantProblem{warnp("", "traefik.frontend.redirect.regex is ignored")}},
		{name: "redirect bad regex", labels: kv("traefik.port", "8080", "traefik.frontend.redirect.regex", "(", "traefik.frontend.redirect.replacement", "y"),
			problems: []wantProblem{errp("", "does not compile")}},

		// Basic auth.
		{name: "basic auth users", labels: kv("traefik.port", "8080", "traefik.frontend.auth.basic.users", "a:$apr1$x$y, b:{SHA}z",
			"traefik.frontend.auth.basic.removeHeader", "true", "traefik.frontend.auth.headerField", "X-WebAuth-User"),
			want: []route.Service{svc(func(s *route.Service) {
				s.Auth = &route.BasicAuth{Users: []string{"a:$apr1$x$y", "b:{SHA}z"}, RemoveHeader: true, HeaderField: "X-WebAuth-User"}
			})}},
		{name: "deprecated basic auth wins", labels: kv("traefik.port", "8080", "traefik.frontend.auth.basic", "old:$2y$05$h", "traefik.frontend.auth.basic.users", "new:$2y$05$h"),
			want:     []route.Service{svc(func(s *route.Service) { s.Auth = &route.BasicAuth{Users: []string{"old:$2y$05$h"}} })},
			problems: []wantProblem{warnp("", "traefik.frontend.auth.basic.users is ignored because the deprecated traefik.frontend.auth.basic is set")}},
		{name: "basic auth bad entry", labels: kv("traefik.port", "8080", "traefik.frontend.auth.basic.users", "a:h,secretnocolon"),
			problems: []wantProblem{errp("", "entry 2 is not user:hash")}},
		{name: "basic auth empty fails closed", labels: kv("traefik.port", "8080", "traefik.frontend.auth.basic.users", ""),
			problems: []wantProblem{errp("", "lists no users")}},
		{name: "auth header field without auth", labels: kv("traefik.port", "8080", "traefik.frontend.auth.headerField", "X-User"),
			want: []route.Service{svc()}, problems: []wantProblem{warnp("", "traefik.frontend.auth.headerField is ignored")}},
		{name: "basic users file", labels: kv("traefik.port", "8080", "traefik.frontend.auth.basic.usersFile", "htpasswd",
			"traefik.frontend.auth.headerField", "X-User"),
			want: []route.Service{svc(func(s *route.Service) { s.Auth = &route.BasicAuth{UsersFile: "htpasswd", HeaderField: "X-User"} })}},
		{name: "basic users and users file", labels: kv("traefik.port", "8080", "traefik.frontend.auth.basic.usersFile", "/etc/htpasswd",
			"traefik.frontend.auth.basic.users", "a:{SHA}x"),
			want: []route.Service{svc(func(s *route.Service) {
				s.Auth = &route.BasicAuth{Users: []string{"a:{SHA}x"}, UsersFile: "/etc/htpasswd"}
			})}},
		{name: "empty users file fails closed", labels: kv("traefik.port", "8080", "traefik.frontend.auth.basic.usersFile", ""),
			problems: []wantProblem{errp("", "lists no users")}},
		{name: "basic remove header alone", labels: kv("traefik.port", "8080", "traefik.frontend.auth.basic.removeHeader", "true"),
			want: []route.Service{svc()}, problems: []wantProblem{warnp("", "basic auth options are ignored")}},
		{name: "digest users", labels: kv("traefik.port", "8080", "traefik.frontend.auth.digest.users", "a:traefik:0123,b:traefik:4567",
			"traefik.frontend.auth.digest.removeHeader", "true", "traefik.frontend.auth.headerField", "X-User"),
			want: []route.Service{svc(func(s *route.Service) {
				s.DigestAuth = &route.DigestAuth{Users: []string{"a:traefik:0123", "b:traefik:4567"}, RemoveHeader: true, HeaderField: "X-User"}
			})}},
		{name: "digest users file", labels: kv("traefik.port", "8080", "traefik.frontend.auth.digest.usersFile", "digest"),
			want: []route.Service{svc(func(s *route.Service) { s.DigestAuth = &route.DigestAuth{UsersFile: "digest"} })}},
		{name: "digest bad entry fails closed", labels: kv("traefik.port", "8080", "traefik.frontend.auth.digest.users", "a:secret"),
			problems: []wantProblem{errp("", "traefik.frontend.auth.digest.users: entry 1 is not user:realm:hash")}},
		{name: "digest without users fails closed", labels: kv("traefik.port", "8080", "traefik.frontend.auth.digest.removeHeader", "true"),
			problems: []wantProblem{errp("", "lists no users")}},
		{name: "basic wins over digest and forward", labels: kv("traefik.port", "8080", "traefik.frontend.auth.basic.users", "a:{SHA}x",
			"traefik.frontend.auth.digest.users", "a:traefik:0", "traefik.frontend.auth.forward.address", "http://auth"),
			want: []route.Service{svc(func(s *route.Service) { s.Auth = &route.BasicAuth{Users: []string{"a:{SHA}x"}} })},
			problems: []wantProblem{warnp("", "traefik.frontend.auth.digest.* labels are ignored because basic"),
				warnp("", "traefik.frontend.auth.forward.* labels are ignored because basic")}},
		{name: "forward auth", labels: kv("traefik.port", "8080", "traefik.frontend.auth.forward.address", "https://auth.example.com/check?token=x",
			"traefik.frontend.auth.forward.trustForwardHeader", "true", "traefik.frontend.auth.forward.authResponseHeaders", "X-Auth-User, X-Groups",
			"traefik.frontend.auth.forward.tls.ca", "auth_ca", "traefik.frontend.auth.forward.tls.caOptional", "true",
			"traefik.frontend.auth.forward.tls.cert", "/run/secrets/c", "traefik.frontend.auth.forward.tls.key", "/run/secrets/k",
			"traefik.frontend.auth.forward.tls.insecureSkipVerify", "true"),
			want: []route.Service{svc(func(s *route.Service) {
				s.ForwardAuth = &route.ForwardAuth{Address: "https://auth.example.com/check?token=x", TrustForwardHeader: true,
					AuthResponseHeaders: []string{"X-Auth-User", "X-Groups"},
					TLS:                 &route.ClientTLS{CA: "auth_ca", CAOptional: true, Cert: "/run/secrets/c", Key: "/run/secrets/k", InsecureSkipVerify: true}}
			})}},
		{name: "forward auth without address fails closed", labels: kv("traefik.port", "8080", "traefik.frontend.auth.forward.trustForwardHeader", "true"),
			problems: []wantProblem{errp("", "need traefik.frontend.auth.forward.address")}},
		{name: "forward auth bad address fails closed, token not quoted", labels: kv("traefik.port", "8080", "traefik.frontend.auth.forward.address", "auth?token=s3cret"),
			problems: []wantProblem{errp("", "traefik.frontend.auth.forward.address is not an http:// or https:// URL")}},
		{name: "forward auth cert without key fails closed", labels: kv("traefik.port", "8080", "traefik.frontend.auth.forward.address", "http://auth",
			"traefik.frontend.auth.forward.tls.cert", "c"),
			problems: []wantProblem{errp("", "go together")}},

		// Whitelist.
		{name: "whitelist", labels: kv("traefik.port", "8080", "traefik.frontend.whiteList.sourceRange", "10.0.0.0/8, 192.168.1.1,fd00::/8", "traefik.frontend.whiteList.useXForwardedFor", "true"),
			want: []route.Service{svc(func(s *route.Service) {
				s.WhiteList = &route.WhiteList{SourceRange: []string{"10.0.0.0/8", "192.168.1.1", "fd00::/8"}, UseXForwardedFor: true}
			})}},
		{name: "deprecated whitelist", labels: kv("traefik.port", "8080", "traefik.frontend.whitelistSourceRange", "10.0.0.0/8"),
			want: []route.Service{svc(func(s *route.Service) { s.WhiteList = &route.WhiteList{SourceRange: []string{"10.0.0.0/8"}} })}},
		{name: "whitelist beats deprecated", labels: kv("traefik.port", "8080", "traefik.frontend.whitelistSourceRange", "10.0.0.0/8", "traefik.frontend.whiteList.sourceRange", "1.2.3.4"),
			want:     []route.Service{svc(func(s *route.Service) { s.WhiteList = &route.WhiteList{SourceRange: []string{"1.2.3.4"}} })},
			problems: []wantProblem{warnp("", "deprecated traefik.frontend.whitelistSourceRange is ignored")}},
		{name: "whitelist bad CIDR", labels: kv("traefik.port", "8080", "traefik.frontend.whiteList.sourceRange", "10.0.0.0/33"),
			problems: []wantProblem{errp("", `"10.0.0.0/33" is neither a CIDR nor an IP address`)}},

		// Headers.
		{name: "all headers", labels: kv("traefik.port", "8080",
			"traefik.frontend.headers.customRequestHeaders", "x-foo: bar || X-TRACE-ID:a:b",
			"traefik.frontend.headers.customResponseHeaders", "X-Served-By:edge",
			"traefik.frontend.headers.SSLProxyHeaders", "X-Forwarded-Proto:https",
			"traefik.frontend.headers.allowedHosts", "a.example.com,b.example.com",
			"traefik.frontend.headers.hostsProxyHeaders", "X-Forwarded-Host",
			"traefik.frontend.headers.SSLRedirect", "true",
			"traefik.frontend.headers.SSLTemporaryRedirect", "true",
			"traefik.frontend.headers.SSLForceHost", "true",
			"traefik.frontend.headers.SSLHost", "secure.example.com",
			"traefik.frontend.headers.STSSeconds", "31536000",
			"traefik.frontend.headers.STSIncludeSubdomains", "true",
			"traefik.frontend.headers.STSPreload", "true",
			"traefik.frontend.headers.forceSTSHeader", "true",
			"traefik.frontend.headers.frameDeny", "true",
			"traefik.frontend.headers.customFrameOptionsValue", "SAMEORIGIN",
			"traefik.frontend.headers.contentTypeNosniff", "true",
			"traefik.frontend.headers.browserXSSFilter", "true",
			"traefik.frontend.headers.customBrowserXSSValue", "1; mode=block",
			"traefik.frontend.headers.contentSecurityPolicy", "default-src 'self'",
			"traefik.frontend.headers.publicKey", `pin-sha256="x"`,
			"traefik.frontend.headers.referrerPolicy", "no-referrer",
			"traefik.frontend.headers.isDevelopment", "true",
		), want: []route.Service{svc(func(s *route.Service) { s.Headers = allHeaders })}},
		{name: "headers bad values", labels: kv("traefik.port", "8080",
			"traefik.frontend.headers.customRequestHeaders", "X-A:1||nocolon",
			"traefik.frontend.headers.STSSeconds", "year",
			"traefik.frontend.headers.frameDeny", "sure"),
			want: []route.Service{svc(func(s *route.Service) {
				s.Headers = &route.Headers{CustomRequestHeaders: map[string]string{"X-A": "1"}}
			})},
			problems: []wantProblem{
				warnp("", "customRequestHeaders: entry 2 is not Name:value"),
				warnp("", `STSSeconds "year" is not a non-negative number`),
				warnp("", `frameDeny "sure" is not a boolean`),
			}},
		{name: "headers all false is nil", labels: kv("traefik.port", "8080", "traefik.frontend.headers.frameDeny", "false"),
			want: []route.Service{svc()}},

		// Load balancer and stickiness.
		{name: "drr", labels: kv("traefik.port", "8080", "traefik.backend.loadbalancer.method", "DRR"),
			want: []route.Service{svc(func(s *route.Service) { s.LoadBalancer.Method = "drr" })}},
		{name: "bad method", labels: kv("traefik.port", "8080", "traefik.backend.loadbalancer.method", "rr"),
			problems: []wantProblem{errp("", `traefik.backend.loadbalancer.method "rr" is not wrr or drr`)}},
		{name: "deprecated sticky", labels: kv("traefik.port", "8080", "traefik.backend.loadbalancer.sticky", "true"),
			want: []route.Service{svc(func(s *route.Service) { s.LoadBalancer.Sticky = true; s.LoadBalancer.CookieName = "_TRAEFIK_BACKEND" })}},
		{name: "stickiness default cookie", labels: kv("traefik.port", "8080", "traefik.backend.loadbalancer.stickiness", "true"),
			want: []route.Service{svc(func(s *route.Service) { s.LoadBalancer.Sticky = true; s.LoadBalancer.CookieName = "_bcb29" })}},
		{name: "stickiness cookie from backend label", labels: kv("traefik.port", "8080", "traefik.backend.loadbalancer.stickiness", "true", "traefik.backend", "custom"),
			want: []route.Service{svc(func(s *route.Service) {
				s.LoadBalancer.Sticky, s.LoadBalancer.CookieName, s.Backend = true, "_12526", "custom"
			})}},
		{name: "stickiness options", labels: kv("traefik.port", "8080", "traefik.backend.loadbalancer.stickiness", "true",
			"traefik.backend.loadbalancer.stickiness.cookieName", "my cookie", "traefik.backend.loadbalancer.stickiness.secure", "true",
			"traefik.backend.loadbalancer.stickiness.httpOnly", "true", "traefik.backend.loadbalancer.stickiness.sameSite", "Lax"),
			want: []route.Service{svc(func(s *route.Service) {
				s.LoadBalancer = route.LoadBalancer{Method: "wrr", Sticky: true, CookieName: "my_cookie", CookieSecure: true, CookieHTTPOnly: true, CookieSameSite: "lax"}
			})}},
		{name: "cookie name without stickiness", labels: kv("traefik.port", "8080", "traefik.backend.loadbalancer.stickiness.cookieName", "c"),
			want: []route.Service{svc()}, problems: []wantProblem{warnp("", "stickiness.cookieName is ignored: it needs")}},

		// Health check.
		{name: "health check", labels: kv("traefik.port", "8080", "traefik.backend.healthcheck.path", "/health",
			"traefik.backend.healthcheck.port", "9000", "traefik.backend.healthcheck.interval", "10",
			"traefik.backend.healthcheck.timeout", "3s", "traefik.backend.healthcheck.scheme", "https",
			"traefik.backend.healthcheck.hostname", "web.internal", "traefik.backend.healthcheck.headers", "x-probe:edge"),
			want: []route.Service{svc(func(s *route.Service) {
				s.HealthCheck = &route.HealthCheck{Path: "/health", Port: 9000, Interval: 10 * time.Second, Timeout: 3 * time.Second,
					Scheme: "https", Hostname: "web.internal", Headers: map[string]string{"X-Probe": "edge"}}
			})}},
		{name: "health check bad options", labels: kv("traefik.port", "8080", "traefik.backend.healthcheck.path", "health",
			"traefik.backend.healthcheck.interval", "often", "traefik.backend.healthcheck.port", "x", "traefik.backend.healthcheck.scheme", "tcp"),
			want: []route.Service{svc(func(s *route.Service) { s.HealthCheck = &route.HealthCheck{Path: "/health"} })},
			problems: []wantProblem{
				warnp("", `traefik.backend.healthcheck.interval "often" is not a positive duration`),
				warnp("", `traefik.backend.healthcheck.port "x" is not a port`),
				warnp("", `traefik.backend.healthcheck.scheme "tcp" is not http or https`),
			}},
		{name: "health check without path", labels: kv("traefik.port", "8080", "traefik.backend.healthcheck.interval", "5s"),
			want: []route.Service{svc()}, problems: []wantProblem{warnp("", "no traefik.backend.healthcheck.path label")}},

		// Segments.
		{name: "two segments, unnamed disappears", labels: kv(
			"traefik.port", "80", "traefik.frontend.rule", "Host:unused.example.com", "traefik.frontend.entryPoints", "https",
			"traefik.admin.port", "8081", "traefik.admin.frontend.rule", "Host:admin.example.com",
			"traefik.api.port", "8082", "traefik.api.frontend.rule", "Host:api.example.com;PathPrefix:/v1", "traefik.api.weight", "3",
		), want: []route.Service{
			svc(seg("admin"), func(s *route.Service) {
				s.Rule = "Host:admin.example.com"
				s.EntryPoints = []string{"https"}
				s.Servers[0].URL = "http://10.0.0.5:8081"
			}),
			svc(seg("api"), func(s *route.Service) {
				s.Rule = "Host:api.example.com;PathPrefix:/v1"
				s.EntryPoints = []string{"https"}
				s.Servers[0] = route.Server{URL: "http://10.0.0.5:8082", Weight: 3, Name: "c1"}
			}),
		}},
		{name: "segment inherits port and default rule", labels: kv("traefik.port", "80", "traefik.admin.frontend.priority", "5"),
			want: []route.Service{svc(seg("admin"), func(s *route.Service) { s.Priority = 5; s.Servers[0].URL = "http://10.0.0.5:80" })}},
		{name: "segment without any port skips service", labels: kv("traefik.admin.frontend.rule", "Host:admin.example.com", "traefik.api.port", "8082"),
			problems: []wantProblem{errp("admin", "no traefik.port label")}},
		{name: "segment bad rule skips only that segment", labels: kv(
			"traefik.admin.port", "8081", "traefik.admin.frontend.rule", "Nope:x",
			"traefik.api.port", "8082"),
			want:     []route.Service{svc(seg("api"), func(s *route.Service) { s.Servers[0].URL = "http://10.0.0.5:8082" })},
			problems: []wantProblem{errp("admin", `traefik.admin.frontend.rule: invalid frontend rule "Nope:x"`)}},
		{name: "segment stickiness cookie", labels: kv("traefik.admin.port", "8081", "traefik.backend.loadbalancer.stickiness", "true"),
			want: []route.Service{svc(seg("admin"), func(s *route.Service) {
				s.Servers[0].URL = "http://10.0.0.5:8081"
				s.LoadBalancer.Sticky = true
				s.LoadBalancer.CookieName = "_59ce8"
			})}},
		{name: "segment backend label cookie", labels: kv("traefik.api.port", "8081", "traefik.api.backend", "api", "traefik.backend.loadbalancer.stickiness", "true"),
			want: []route.Service{svc(seg("api"), func(s *route.Service) {
				s.Servers[0].URL = "http://10.0.0.5:8081"
				s.LoadBalancer.Sticky = true
				s.LoadBalancer.CookieName = "_dcf70"
				s.Backend = "web-shop-api"
			})}},
		{name: "segment https protocol", labels: kv("traefik.port", "80", "traefik.tls.port", "443", "traefik.tls.protocol", "https"),
			want: []route.Service{svc(seg("tls"), func(s *route.Service) { s.Servers[0].URL = "https://10.0.0.5:443" })}},

		// Limits (issue #13).
		{name: "body limit and header timeout", labels: kv("traefik.port", "8080",
			"traefik.backend.buffering.maxRequestBodyBytes", "1048576", "traefik.backend.responseHeaderTimeout", "5m"),
			want: []route.Service{svc(func(s *route.Service) { s.MaxRequestBodyBytes, s.ResponseHeaderTimeout = 1<<20, 5*time.Minute })}},
		{name: "header timeout in bare seconds", labels: kv("traefik.port", "8080", "traefik.backend.responseHeaderTimeout", "2"),
			want: []route.Service{svc(func(s *route.Service) { s.ResponseHeaderTimeout = 2 * time.Second })}},
		{name: "bad limits warn", labels: kv("traefik.port", "8080",
			"traefik.backend.buffering.maxRequestBodyBytes", "lots", "traefik.backend.responseHeaderTimeout", "never"),
			want: []route.Service{svc()},
			problems: []wantProblem{
				warnp("", `traefik.backend.responseHeaderTimeout "never" is not a positive duration`),
				warnp("", `traefik.backend.buffering.maxRequestBodyBytes "lots" is not a non-negative number`),
			}},

		{name: "circuit breaker served by passive health", labels: kv("traefik.port", "8080", "traefik.backend.circuitbreaker.expression", "NetworkErrorRatio() > 0.5"),
			want: []route.Service{svc()}},
		{name: "circuit breaker it cannot express", labels: kv("traefik.port", "8080", "traefik.backend.circuitbreaker.expression", "LatencyAtQuantileMS(50.0) > 50"),
			want:     []route.Service{svc()},
			problems: []wantProblem{warnp("", `traefik.backend.circuitbreaker.expression "LatencyAtQuantileMS(50.0) > 50" is ignored`)}},

		// Unsupported labels.
		{name: "unsupported labels warn", labels: kv("traefik.port", "8080",
			"traefik.frontend.rulee", "Host:x", "traefik.frontend.headers.sslRedirect", "true",
			"traefik.admin.domain", "x.org", "traefik.api.portIndex", "1", "traefik.api.port", "81",
		), want: []route.Service{svc(seg("api"), func(s *route.Service) { s.Servers[0].URL = "http://10.0.0.5:81" })},
			problems: []wantProblem{
				warnp("", "traefik.admin.domain is not supported and was ignored (only port, weight, protocol, backend and frontend.* can be set per segment)"),
				warnp("api", "traefik.api.portIndex is not supported"),
				warnp("", "did you mean traefik.frontend.headers.SSLRedirect?"),
				warnp("", "traefik.frontend.rulee is not supported"),
			}},

		// Rate limit (Traefik 1.7 label.GetRateLimit and oxy's limits).
		{name: "rate limit", labels: kv("traefik.port", "8080", "traefik.frontend.rateLimit.extractorFunc", "request.header.X-Api-Key",
			"traefik.frontend.rateLimit.rateSet.b.period", "1m", "traefik.frontend.rateLimit.rateSet.b.average", "100", "traefik.frontend.rateLimit.rateSet.b.burst", "200",
			"traefik.frontend.rateLimit.rateSet.a.period", "3", "traefik.frontend.rateLimit.rateSet.a.average", "5", "traefik.frontend.rateLimit.rateSet.a.burst", "10"),
			want: []route.Service{svc(func(s *route.Service) {
				s.RateLimit = &route.RateLimit{ExtractorFunc: "request.header.X-Api-Key", RateSets: []route.RateSet{
					{Name: "a", Period: 3 * time.Second, Average: 5, Burst: 10}, {Name: "b", Period: time.Minute, Average: 100, Burst: 200}}}
			})}},
		{name: "rate set without burst is not served, as in Traefik", labels: kv("traefik.port", "8080", "traefik.frontend.rateLimit.extractorFunc", "client.ip",
			"traefik.frontend.rateLimit.rateSet.a.period", "10s", "traefik.frontend.rateLimit.rateSet.a.average", "5"),
			problems: []wantProblem{errp("", "traefik.frontend.rateLimit.rateSet.a needs a positive period")}},
		{name: "rate set with an unparsable average is not served", labels: kv("traefik.port", "8080", "traefik.frontend.rateLimit.extractorFunc", "client.ip",
			"traefik.frontend.rateLimit.rateSet.a.period", "10s", "traefik.frontend.rateLimit.rateSet.a.average", "many", "traefik.frontend.rateLimit.rateSet.a.burst", "5"),
			problems: []wantProblem{errp("", "traefik.frontend.rateLimit.rateSet.a needs a positive period")}},
		{name: "rate limit bad extractor", labels: kv("traefik.port", "8080", "traefik.frontend.rateLimit.extractorFunc", "client.port",
			"traefik.frontend.rateLimit.rateSet.a.period", "10s", "traefik.frontend.rateLimit.rateSet.a.average", "5", "traefik.frontend.rateLimit.rateSet.a.burst", "5"),
			problems: []wantProblem{errp("", `traefik.frontend.rateLimit.extractorFunc "client.port" is not client.ip`)}},
		{name: "rate sets without extractor are ignored like Traefik", labels: kv("traefik.port", "8080",
			"traefik.frontend.rateLimit.rateSet.a.period", "10s", "traefik.frontend.rateLimit.rateSet.a.average", "5", "traefik.frontend.rateLimit.rateSet.a.burst", "5"),
			want: []route.Service{svc()}, problems: []wantProblem{warnp("", "they need traefik.frontend.rateLimit.extractorFunc")}},
		{name: "extractor without rate sets", labels: kv("traefik.port", "8080", "traefik.frontend.rateLimit.extractorFunc", "client.ip"),
			want: []route.Service{svc()}, problems: []wantProblem{warnp("", "no traefik.frontend.rateLimit.rateSet.<name>.* rate set")}},

		// Error pages (Traefik 1.7 label.ParseErrorPages).
		{name: "error pages", labels: kv("traefik.port", "8080",
			"traefik.frontend.errors.net.status", "500-599, 404", "traefik.frontend.errors.net.backend", "error_pages", "traefik.frontend.errors.net.query", "/{status}.html",
			"traefik.frontend.errors.auth.status", "401", "traefik.frontend.errors.auth.backend", "login"),
			want: []route.Service{svc(func(s *route.Service) {
				s.ErrorPages = []route.ErrorPage{{Name: "auth", Status: []string{"401"}, Backend: "login"},
					{Name: "net", Status: []string{"500-599", "404"}, Backend: "error-pages", Query: "/{status}.html"}}
			})}},
		{name: "error page without backend is dropped, route served", labels: kv("traefik.port", "8080", "traefik.frontend.errors.net.status", "502"),
			want: []route.Service{svc()}, problems: []wantProblem{warnp("", "error page traefik.frontend.errors.net is ignored: no .backend")}},
		{name: "error page bad status is dropped, route served", labels: kv("traefik.port", "8080",
			"traefik.frontend.errors.net.status", "5xx", "traefik.frontend.errors.net.backend", "e"),
			want: []route.Service{svc()}, problems: []wantProblem{warnp("", `status "5xx" is not a code`)}},

		// passTLSClientCert (Traefik 1.7 label.GetTLSClientCert).
		{name: "pass client cert", labels: kv("traefik.port", "8080", "traefik.frontend.passTLSClientCert.pem", "true",
			"traefik.frontend.passTLSClientCert.infos.subject.commonName", "true", "traefik.frontend.passTLSClientCert.infos.notAfter", "true",
			"traefik.frontend.passTLSClientCert.infos.sans", "false"),
			want: []route.Service{svc(func(s *route.Service) {
				s.PassTLSClientCert = &route.PassTLSClientCert{PEM: true, Infos: []string{"notAfter", "subject.commonName"}}
			})}},
		{name: "deprecated passTLSCert", labels: kv("traefik.port", "8080", "traefik.frontend.passTLSCert", "true"),
			want: []route.Service{svc(func(s *route.Service) { s.PassTLSClientCert = &route.PassTLSClientCert{PEM: true} })}},
		{name: "unknown client cert info warns", labels: kv("traefik.port", "8080", "traefik.frontend.passTLSClientCert.infos.subject.email", "true"),
			want: []route.Service{svc()}, problems: []wantProblem{warnp("", "traefik.frontend.passTLSClientCert.infos.subject.email is not supported")}},

		// Maxconn (Traefik 1.7 label.GetMaxConn).
		{name: "maxconn default extractor", labels: kv("traefik.port", "8080", "traefik.backend.maxconn.amount", "10"),
			want: []route.Service{svc(func(s *route.Service) { s.MaxConn = &route.MaxConn{Amount: 10, ExtractorFunc: "request.host"} })}},
		{name: "maxconn by client", labels: kv("traefik.port", "8080", "traefik.backend.maxconn.amount", "2", "traefik.backend.maxconn.extractorfunc", "client.ip"),
			want: []route.Service{svc(func(s *route.Service) { s.MaxConn = &route.MaxConn{Amount: 2, ExtractorFunc: "client.ip"} })}},
		{name: "maxconn unparsable means no limit like Traefik", labels: kv("traefik.port", "8080", "traefik.backend.maxconn.amount", "ten"),
			want: []route.Service{svc()}, problems: []wantProblem{warnp("", `traefik.backend.maxconn.amount "ten" is not a number; no connection limit`)}},
		{name: "maxconn zero means no limit", labels: kv("traefik.port", "8080", "traefik.backend.maxconn.amount", "0"),
			want: []route.Service{svc()}},
		{name: "maxconn bad extractor", labels: kv("traefik.port", "8080", "traefik.backend.maxconn.amount", "1", "traefik.backend.maxconn.extractorfunc", "x"),
			problems: []wantProblem{errp("", `traefik.backend.maxconn.extractorfunc "x" is not`)}},

		// Server address forms.
		{name: "server address forms", labels: kv("traefik.port", "8080"), servers: []Address{
			{Addr: "10.0.0.5", Name: "c1"},
			{Addr: "10.0.0.6:9090"},
			{Addr: "https://10.0.0.7:8443", Name: "c3"},
			{Addr: "", Name: "no-ip"},
			{Addr: "fe80::1"},
			{Addr: "[fd00::2]:9000"},
			{Addr: "http://10.0.0.8"},
			{Addr: "backend.local"},
			{Addr: "ftp://10.0.0.9:21"},
			{Addr: "10.0.0.10:0"},
			{Addr: "1:2:3"},
		}, want: []route.Service{svc(func(s *route.Service) {
			s.Servers = []route.Server{
				{URL: "http://10.0.0.5:8080", Weight: 1, Name: "c1"},
				{URL: "http://10.0.0.6:9090", Weight: 1, Name: "10.0.0.6:9090"},
				{URL: "https://10.0.0.7:8443", Weight: 1, Name: "c3"},
				{URL: "http://[fe80::1]:8080", Weight: 1, Name: "fe80::1"},
				{URL: "http://[fd00::2]:9000", Weight: 1, Name: "[fd00::2]:9000"},
				{URL: "http://10.0.0.8:8080", Weight: 1, Name: "http://10.0.0.8"},
				{URL: "http://backend.local:8080", Weight: 1, Name: "backend.local"},
			}
		})}, problems: []wantProblem{
			warnp("", `server "ftp://10.0.0.9:21" dropped: scheme "ftp"`),
			warnp("", `server "10.0.0.10:0" dropped: port "0"`),
			warnp("", `server "1:2:3" dropped`),
		}},
		{name: "no servers is still a route", labels: kv("traefik.port", "8080"), servers: []Address{},
			want: []route.Service{svc(func(s *route.Service) { s.Servers = []route.Server{} })}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := Options{Provider: "rancher", Domain: "example.com", ExposedByDefault: true}
			if tt.opts != nil {
				tt.opts(&opts)
			}
			in := Input{Stack: "shop", Service: "web", DefaultHost: "web.shop", Labels: tt.labels, Servers: tt.servers}
			if tt.host != "" {
				in.DefaultHost = tt.host
			}
			if in.Servers == nil {
				in.Servers = []Address{{Addr: "10.0.0.5", Name: "c1"}}
			}
			got, problems := Build(in, opts)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d services, want %d:\n got %+v\nproblems %v", len(got), len(tt.want), got, problems)
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tt.want[i]) {
					t.Errorf("service %d:\n got %+v\nwant %+v", i, fmtService(got[i]), fmtService(tt.want[i]))
				}
			}
			checkProblems(t, problems, tt.problems)
		})
	}
}

func fmtService(s route.Service) string {
	return fmt.Sprintf("%+v redirect=%+v auth=%+v wl=%+v headers=%+v hc=%+v", s, s.Redirect, s.Auth, s.WhiteList, s.Headers, s.HealthCheck)
}

func checkProblems(t *testing.T, got []route.Problem, want []wantProblem) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), problemList(got))
	}
	for i, w := range want {
		g := got[i]
		if g.Severity != w.sev || g.Source.Segment != w.seg || !strings.Contains(g.Message, w.msg) {
			t.Errorf("problem %d = %s (segment %q), want %s in segment %q containing %q", i, g, g.Source.Segment, w.sev, w.seg, w.msg)
		}
		if g.Source.Provider != "rancher" || g.Source.Stack != "shop" || g.Source.Service != "web" {
			t.Errorf("problem %d source = %+v", i, g.Source)
		}
	}
}

func problemList(ps []route.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}
