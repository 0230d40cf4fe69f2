package middleware

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rancher-edge/edge/edge/internal/h1wire"
	"github.com/rancher-edge/edge/route"
)

// ForwardOptions are what [ForwardAuth] needs beyond its configuration.
type ForwardOptions struct {
	// ReadFile reads the tls.ca, tls.cert and tls.key values that are
	// paths or secret aliases; inline PEM needs no reader.
	ReadFile FileReader

	// Timeout bounds the whole exchange with the authentication server.
	// Zero means 30s, Traefik 1.7's.
	Timeout time.Duration

	// DialTimeout bounds connecting to it. Zero means 10s.
	DialTimeout time.Duration
}

// forwardBodyLimit bounds the denial body the edge relays; an
// authentication server's page is small.
const forwardBodyLimit = 1 << 20

// ForwardAuth asks an authentication server about each request before it
// goes on, as Traefik 1.7's forward authentication did: a GET to
// cfg.Address carrying the request's headers, with X-Forwarded-Method,
// -Proto, -Host, -Uri and -For describing it (the client's own
// X-Forwarded-* only with cfg.TrustForwardHeader; the edge has already
// dropped those from untrusted peers). A 2xx answer lets the request
// through, with the cfg.AuthResponseHeaders copied from the answer into
// it. Any other answer is relayed to the client — status, headers
// (Location, Set-Cookie, WWW-Authenticate…) and body. An unreachable,
// slow or failing server answers 500, as Traefik did: a request is never
// let through on an error.
func ForwardAuth(cfg route.ForwardAuth, opts ForwardOptions, next http.Handler) (http.Handler, error) {
	if next == nil {
		return nil, fmt.Errorf("forward auth: %w", errNoNext)
	}
	u, err := url.Parse(cfg.Address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("forward auth: address is not an http:// or https:// URL")
	}
	f := &forwardAuth{address: cfg.Address, trust: cfg.TrustForwardHeader, signIn: cfg.SignIn, next: next}
	if cfg.SignIn != "" {
		if su, err := url.Parse(cfg.SignIn); err != nil || (su.Scheme != "http" && su.Scheme != "https") || su.Host == "" {
			return nil, errors.New("forward auth: sign-in is not an http:// or https:// URL")
		}
	}
	for _, h := range cfg.AuthResponseHeaders {
		if !validHeaderName(h) {
			return nil, fmt.Errorf("forward auth: response header %q is not a valid header name", h)
		}
		f.copy = append(f.copy, http.CanonicalHeaderKey(h))
	}
	timeout, dial := opts.Timeout, opts.DialTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if dial <= 0 {
		dial = 10 * time.Second
	}
	var conf *tls.Config
	var material [][]byte
	if cfg.TLS != nil {
		if conf, material, err = clientTLS(*cfg.TLS, opts.ReadFile); err != nil {
			return nil, fmt.Errorf("forward auth: %w", err)
		}
	}
	tr := sharedTransport(u.Scheme+"://"+u.Host, cfg.TLS, material, dial, timeout, conf)
	f.client = &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// The server's redirects (to a login page) go to the client.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return f, nil
}

type forwardAuth struct {
	address string
	trust   bool
	signIn  string
	copy    []string // canonical
	client  *http.Client
	next    http.Handler
}

// forwardHop are the hop-by-hop headers (RFC 9110 §7.6.1) that belong to
// the client's connection, not to the question asked of the server.
var forwardHop = h1wire.HopByHop()

func (f *forwardAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, f.address, nil)
	if err != nil {
		plainStatus(w, http.StatusInternalServerError)
		return
	}
	req.Header = f.question(r)
	resp, err := f.client.Do(req)
	if err != nil {
		plainStatus(w, http.StatusInternalServerError)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized && f.signIn != "" {
		w.Header().Set("Location", signInURL(f.signIn, r))
		plainStatus(w, http.StatusFound)
		return
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, err := io.ReadAll(io.LimitReader(resp.Body, forwardBodyLimit))
		if err != nil {
			plainStatus(w, http.StatusInternalServerError)
			return
		}
		h := w.Header()
		for k, vv := range resp.Header {
			h[k] = vv
		}
		dropHop(h)
		h.Del("Content-Length")
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
		return
	}
	for _, name := range f.copy {
		if vv := resp.Header.Values(name); len(vv) > 0 {
			r.Header[name] = vv
		} else {
			delete(r.Header, name)
		}
	}
	f.next.ServeHTTP(w, r)
}

// signInURL is ingress-nginx's auth-signin target for r: its variables
// replaced, and rd=<r's URL> added when the URL names no rd itself.
func signInURL(tmpl string, r *http.Request) string {
	scheme := "http"
	if isHTTPS(r) {
		scheme = "https"
	}
	orig := scheme + "://" + r.Host + r.URL.RequestURI()
	out := strings.NewReplacer(
		"$escaped_request_uri", url.QueryEscape(r.URL.RequestURI()),
		"$request_uri", r.URL.RequestURI(),
		"$scheme", scheme,
		"$host", r.Host,
	).Replace(tmpl)
	if u, err := url.Parse(out); err == nil && !u.Query().Has("rd") {
		sep := "?"
		if strings.Contains(out, "?") {
			sep = "&"
		}
		out += sep + "rd=" + url.QueryEscape(orig)
	}
	return out
}

// question is the header of the request to the authentication server.
func (f *forwardAuth) question(r *http.Request) http.Header {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	dropHop(h)
	set := func(name, own string) {
		if f.trust && h.Get(name) != "" {
			return
		}
		if own == "" {
			h.Del(name)
			return
		}
		h.Set(name, own)
	}
	client, _, err := net.SplitHostPort(r.RemoteAddr)
	if err == nil {
		if prior := h.Values("X-Forwarded-For"); f.trust && len(prior) > 0 {
			client = strings.Join(prior, ", ") + ", " + client
		}
		h.Set("X-Forwarded-For", client)
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	set("X-Forwarded-Method", r.Method)
	set("X-Forwarded-Proto", proto)
	set("X-Forwarded-Host", r.Host)
	set("X-Forwarded-Uri", r.URL.RequestURI())
	if !f.trust {
		h.Del("X-Forwarded-Port")
	}
	return h
}

func dropHop(h http.Header) {
	for _, c := range h.Values("Connection") {
		for name := range strings.SplitSeq(c, ",") {
			if name = textproto.TrimString(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range forwardHop {
		delete(h, name)
	}
}

func plainStatus(w http.ResponseWriter, code int) {
	http.Error(w, fmt.Sprintf("%d %s", code, http.StatusText(code)), code)
}

// clientTLS is Traefik's ClientTLS.CreateTLSConfig: a CA to verify the
// server with (the system roots when none) and a client certificate.
func clientTLS(c route.ClientTLS, read FileReader) (_ *tls.Config, material [][]byte, _ error) {
	conf := &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify}
	load := func(what, v string) ([]byte, error) {
		if strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
			b := []byte(strings.ReplaceAll(v, `\n`, "\n"))
			material = append(material, b)
			return b, nil
		}
		if read == nil {
			return nil, fmt.Errorf("tls.%s: %w", what, errNoReader)
		}
		b, err := read(v)
		if err != nil {
			return nil, fmt.Errorf("tls.%s: %w", what, err)
		}
		material = append(material, b)
		return b, nil
	}
	if c.CA != "" {
		pem, err := load("ca", c.CA)
		if err != nil {
			return nil, nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, errors.New("tls.ca holds no PEM certificate")
		}
		// CAOptional is ignored: in Traefik it set ClientAuth, which only
		// a server reads, so it never weakened the check of the auth
		// server's certificate, and it does not here.
		conf.RootCAs = pool
	}
	if c.Cert != "" || c.Key != "" {
		if c.Cert == "" || c.Key == "" {
			return nil, nil, errors.New("tls.cert and tls.key go together")
		}
		certPEM, err := load("cert", c.Cert)
		if err != nil {
			return nil, nil, err
		}
		keyPEM, err := load("key", c.Key)
		if err != nil {
			return nil, nil, err
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			// Not wrapped: the parser's error may quote key bytes.
			return nil, nil, errors.New("tls.cert and tls.key are not a valid PEM certificate and key pair")
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	return conf, material, nil
}

// transports keeps one transport per authentication server and TLS
// material for the life of the process: every table generation builds its
// handlers anew, and a transport per generation would leave idle
// connections behind at each change. New material (a rotated client
// certificate) is a new key. Keys are few: one per distinct label set.
var transports sync.Map // string → *http.Transport

func sharedTransport(origin string, c *route.ClientTLS, material [][]byte, dial, timeout time.Duration, conf *tls.Config) *http.Transport {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%v|%v|%+v|", origin, dial, timeout, c)
	for _, m := range material {
		h.Write(m)
		h.Write([]byte{0})
	}
	key := string(h.Sum(nil))
	if tr, ok := transports.Load(key); ok {
		return tr.(*http.Transport)
	}
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       conf,
		TLSHandshakeTimeout:   dial,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	got, _ := transports.LoadOrStore(key, tr)
	return got.(*http.Transport)
}
