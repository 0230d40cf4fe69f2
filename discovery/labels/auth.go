package labels

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/rancher-edge/edge/route"
)

// auth is Traefik 1.7 label.GetAuth: one of basic, digest or forward
// authentication, in that precedence, plus the deprecated
// traefik.frontend.auth.basic CSV, which wins over .users. Values are
// credentials: messages name labels and positions, never contents. Every
// problem here fails the segment: these labels protect the route.
func (sb *segBuilder) auth(svc *route.Service) {
	if !sb.ls.hasPrefix(lAuthPrefix) {
		return
	}
	headerField := sb.ls.str(lAuthHeaderField)
	basic := sb.ls.has(lAuthBasic) || sb.ls.hasPrefix(lAuthBasicPrefix)
	digest := sb.ls.hasPrefix(lAuthDigestPrefix)
	forward := sb.ls.hasPrefix(lAuthForwardPrefix)
	switch {
	case basic:
		svc.Auth = sb.basicAuth(headerField)
		sb.ignoredAuth(digest, lAuthDigestPrefix, "basic")
		sb.ignoredAuth(forward, lAuthForwardPrefix, "basic")
	case digest:
		svc.DigestAuth = sb.digestAuth(headerField)
		sb.ignoredAuth(forward, lAuthForwardPrefix, "digest")
	case forward:
		svc.ForwardAuth = sb.forwardAuth()
	case headerField != "":
		sb.warn("%s is ignored: no basic or digest authentication is configured", sb.ls.name(lAuthHeaderField))
	}
}

// ignoredAuth warns about an authentication family Traefik ignored
// because another one took precedence; the route stays protected.
func (sb *segBuilder) ignoredAuth(set bool, family, winner string) {
	if set {
		sb.warn("%s* labels are ignored because %s authentication is configured (Traefik uses one kind)", family, winner)
	}
}

func (sb *segBuilder) basicAuth(headerField string) *route.BasicAuth {
	key := lAuthBasicUsers
	if sb.ls.has(lAuthBasic) {
		key = lAuthBasic
		if sb.ls.has(lAuthBasicUsers) {
			sb.warn("%s is ignored because the deprecated %s is set (Traefik gives it precedence)", sb.ls.name(lAuthBasicUsers), sb.ls.name(lAuthBasic))
		}
	}
	users := splitCSV(sb.ls.str(key))
	file := sb.ls.str(lAuthBasicUsersFile)
	removeHeader := sb.boolean(lAuthBasicRemove, false)
	if len(users) == 0 && file == "" {
		if sb.ls.has(key) || sb.ls.has(lAuthBasicUsersFile) {
			// An explicitly empty user list meant "protect this"; serving
			// the route open would be the wrong failure.
			sb.fail("%s lists no users", sb.ls.name(key))
		} else {
			sb.warn("basic auth options are ignored: no %s or %s label", lAuthBasicUsers, lAuthBasicUsersFile)
		}
		return nil
	}
	for i, u := range users {
		name, hash, ok := strings.Cut(u, ":")
		if !ok || name == "" || hash == "" {
			sb.fail("%s: entry %d is not user:hash", sb.ls.name(key), i+1)
			return nil
		}
	}
	return &route.BasicAuth{Users: users, UsersFile: file, RemoveHeader: removeHeader, HeaderField: headerField}
}

func (sb *segBuilder) digestAuth(headerField string) *route.DigestAuth {
	users := splitCSV(sb.ls.str(lAuthDigestUsers))
	file := sb.ls.str(lAuthDigestUsersFile)
	removeHeader := sb.boolean(lAuthDigestRemove, false)
	if len(users) == 0 && file == "" {
		sb.fail("%s lists no users and no %s is set", sb.ls.name(lAuthDigestUsers), lAuthDigestUsersFile)
		return nil
	}
	for i, u := range users {
		if parts := strings.Split(u, ":"); len(parts) != 3 || parts[0] == "" || parts[2] == "" {
			sb.fail("%s: entry %d is not user:realm:hash", sb.ls.name(lAuthDigestUsers), i+1)
			return nil
		}
	}
	return &route.DigestAuth{Users: users, UsersFile: file, RemoveHeader: removeHeader, HeaderField: headerField}
}

func (sb *segBuilder) forwardAuth() *route.ForwardAuth {
	addr := sb.ls.str(lAuthForwardAddress)
	if addr == "" {
		sb.fail("traefik.frontend.auth.forward.* labels need %s", lAuthForwardAddress)
		return nil
	}
	// The address may carry a token in its query: never quoted.
	if u, err := url.Parse(addr); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		sb.fail("%s is not an http:// or https:// URL", sb.ls.name(lAuthForwardAddress))
		return nil
	}
	f := &route.ForwardAuth{
		Address:             addr,
		TrustForwardHeader:  sb.boolean(lAuthForwardTrust, false),
		AuthResponseHeaders: splitCSV(sb.ls.str(lAuthForwardResponseHeaders)),
	}
	for _, h := range f.AuthResponseHeaders {
		if http.CanonicalHeaderKey(h) == "" || strings.ContainsAny(h, " :\t\r\n") {
			sb.fail("%s: %q is not a header name", sb.ls.name(lAuthForwardResponseHeaders), h)
			return nil
		}
	}
	if sb.ls.hasPrefix(lAuthForwardPrefix + "tls.") {
		f.TLS = &route.ClientTLS{
			CA:                 sb.ls.str(lAuthForwardTLSCA),
			CAOptional:         sb.boolean(lAuthForwardTLSCAOptional, false),
			Cert:               sb.ls.str(lAuthForwardTLSCert),
			Key:                sb.ls.str(lAuthForwardTLSKey),
			InsecureSkipVerify: sb.boolean(lAuthForwardTLSInsecure, false),
		}
		if (f.TLS.Cert == "") != (f.TLS.Key == "") {
			sb.fail("%s and %s go together", lAuthForwardTLSCert, lAuthForwardTLSKey)
			return nil
		}
	}
	return f
}
