package edge

import (
	"net/http"
	"strings"
)

// stickyBackend returns the backend the request's sticky cookie names, if
// it is still a backend of this route.
func (rt *Route) stickyBackend(r *http.Request) *backend {
	c, err := r.Cookie(rt.cookieName)
	if err != nil {
		return nil
	}
	return rt.byCookie[c.Value]
}

// setCookie returns the Set-Cookie value to add to a response from b, or
// "" when the client is already pinned to b. A retried request always
// re-pins, because its cookie named a backend that failed.
func (rt *Route) setCookie(r *http.Request, b *backend, retried bool) string {
	if rt.cookieName == "" || (!retried && hasCookie(r, rt.cookieName, b.cookie)) {
		return ""
	}
	return rt.stickyCookie(b)
}

func hasCookie(r *http.Request, name, value string) bool {
	c, err := r.Cookie(name)
	return err == nil && c.Value == value
}

// stickyCookie renders the Set-Cookie value pinning a client to b.
func (rt *Route) stickyCookie(b *backend) string {
	lb := &rt.Service.LoadBalancer
	c := &http.Cookie{
		Name:     rt.cookieName,
		Value:    b.cookie,
		Path:     "/",
		MaxAge:   lb.CookieMaxAge,
		Secure:   lb.CookieSecure,
		HttpOnly: lb.CookieHTTPOnly,
	}
	if lb.CookiePath != "" {
		c.Path = lb.CookiePath
	}
	switch strings.ToLower(lb.CookieSameSite) {
	case "none":
		c.SameSite = http.SameSiteNoneMode
	case "lax":
		c.SameSite = http.SameSiteLaxMode
	case "strict":
		c.SameSite = http.SameSiteStrictMode
	}
	return c.String()
}
