package kubernetes

import (
	"cmp"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/rancher-edge/edge/discovery/labels"
	"github.com/rancher-edge/edge/route"
)

// auth applies auth-type: basic needs the users of auth-secret; any other
// type would leave the path open, so the path is skipped instead.
func (b *builder) auth(ing *networkingv1.Ingress, source route.Source, prov map[string]string, ls map[string]string) bool {
	if prov[labels.AnnotationLegacyPrefix+"auth-url"] != "" {
		b.problem(source, route.Error, "skipped: annotation %sauth-url (forward authentication) is not supported; the path is not served without the protection it asks for", labels.AnnotationLegacyPrefix)
		return false
	}
	typ := authValue(prov, "auth-type")
	if typ == "" {
		return true
	}
	if typ != "basic" {
		b.problem(source, route.Error, "skipped: auth-type %q is not supported (only basic); the path is not served without the protection it asks for", typ)
		return false
	}
	name := authValue(prov, "auth-secret")
	if name == "" {
		b.problem(source, route.Error, "skipped: auth-type basic needs an auth-secret annotation; the path is not served without the protection it asks for")
		return false
	}
	if ns, n, ok := strings.Cut(name, "/"); ok {
		if ns != ing.Namespace {
			b.problem(source, route.Error, "skipped: auth-secret %s is in another namespace; the edge reads only the Ingress's own namespace (a Secret of another team must not protect or open this path); the path is not served without the protection it asks for", name)
			return false
		}
		name = n
	}
	key := ing.Namespace + "/" + name
	sec := b.authSecret(key)
	if sec == nil {
		b.problem(source, route.Error, "skipped: auth-secret %s not found or not readable; the path is not served without the protection it asks for", key)
		return false
	}
	var users []string
	switch st := authValue(prov, "auth-secret-type"); st {
	case "", "auth-file":
		for line := range strings.SplitSeq(string(sec.Data["auth"]), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				users = append(users, line)
			}
		}
	case "auth-map":
		// The keys are the user names, the values their hashes.
		for user, hash := range sec.Data {
			if h := strings.TrimSpace(string(hash)); h != "" && !strings.ContainsAny(user, ":,") {
				users = append(users, user+":"+h)
			}
		}
		slices.Sort(users)
	default:
		b.problem(source, route.Error, "skipped: auth-secret-type %q is not auth-file or auth-map; the path is not served without the protection it asks for", st)
		return false
	}
	if len(users) == 0 {
		b.problem(source, route.Error, "skipped: auth-secret %s has no users (htpasswd lines under the key auth, or user keys with auth-map); the path is not served without the protection it asks for", key)
		return false
	}
	ls["traefik.frontend.auth.basic.users"] = strings.Join(users, ",")
	return true
}

// authValue reads an authentication annotation under the Traefik 1.7
// prefix, else ingress-nginx's.
func authValue(prov map[string]string, key string) string {
	return cmp.Or(prov[labels.AnnotationLegacyPrefix+key], prov[labels.NginxPrefix+key])
}

// authSecretNames lists the auth-secret Secrets (namespace/name) of the
// Ingresses that ask for basic authentication.
func authSecretNames(ings []*networkingv1.Ingress) []string {
	var out []string
	for _, ing := range ings {
		prov := labels.ReadAnnotations(ing.Annotations).Provider
		if authValue(prov, "auth-type") == "basic" {
			if name := authValue(prov, "auth-secret"); name != "" {
				if ns, n, ok := strings.Cut(name, "/"); ok {
					if ns != ing.Namespace {
						continue // refused by build: never read
					}
					name = n
				}
				out = append(out, ing.Namespace+"/"+name)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
