package ranchertest

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Default credentials, used when [Options] leaves them empty. They look
// like real Rancher keys: a 20-character access key and a 40-character
// secret.
const (
	DefaultAccessKey        = "5E06D9A3C16B8E7A1F22"
	DefaultSecretKey        = "envsecretQ2w7Zk9Lm4Xc8Vb1Nt6Hy3Jd5Gf0Rp2Ks"
	DefaultAccountAccessKey = "9C1F0B7E4A2D6E8F3B55"
	DefaultAccountSecretKey = "accountsecretT4r8Yu2Io6Pa1Sd5Fg9Hj3Kl7Zx0"
)

// Options configure a [Server]. The zero value is ready to use.
type Options struct {
	// AccessKey and SecretKey are the environment (project) API key, which
	// may use unscoped URLs. Empty means DefaultAccessKey/DefaultSecretKey.
	AccessKey, SecretKey string

	// AccountAccessKey and AccountSecretKey are an account (user) API key:
	// it sees every project in OtherProjects as well, and unscoped
	// collections are empty for it, as they are on a real server (they
	// belong to the user's own account, which owns no services).
	AccountAccessKey, AccountSecretKey string

	// ProjectID is the environment's id; empty means "1a5".
	ProjectID string

	// OtherProjects are further project ids the account key can see. They
	// hold no resources.
	OtherProjects []string

	// PingInterval is the websocket ping period; zero means 5 s, Cattle's
	// api.sub.ping.interval.millis.
	PingInterval time.Duration

	// MaxPings closes a subscription after that many pings; zero means
	// 8640 (about 12 h at 5 s), Cattle's api.sub.max.pings.
	MaxPings int

	// EventDelay batches resource.change events per resource and sends
	// them every EventDelay, as Cattle does every second. Zero sends each
	// event as soon as the change is made, so tests measure only the
	// client's latency.
	EventDelay time.Duration

	// Addr is the listen address; empty means a free loopback port.
	Addr string
}

// Server is a fake Rancher 1.6 API server. Its methods are safe for
// concurrent use. Create it with [New] and stop it with [Server.Close].
type Server struct {
	opts  Options
	tmpl  *templates
	ts    *httptest.Server
	mu    sync.Mutex
	world *world

	// Guarded by mu.
	failCode    int
	failUntil   time.Time
	hangUntil   time.Time
	refuseWS    bool
	stats       Stats
	subs        map[*subscriber]struct{}
	pending     map[string]pendingEvent
	pendingKeys []string
	closed      bool

	closing chan struct{} // closed by Close; ends hangs, sockets and the flusher
	wg      sync.WaitGroup
}

// Stats counts what the server has seen, for assertions in tests.
type Stats struct {
	Requests         int            // every HTTP request, websocket dials included
	Lists            map[string]int // collection GETs by collection ("services"), each page counted
	Unauthorized     int            // answered 401 for a bad or missing key
	Injected         int            // answered by Fail, or delayed by Hang
	WebsocketDials   int            // subscriptions accepted
	WebsocketRefused int            // subscriptions refused by RefuseWebsocket or Fail
	Subscribers      int            // subscriptions open now
	Events           int            // resource.change frames sent (to all subscribers)
}

// New starts a fake server with an empty environment (no stacks).
func New(opts Options) (*Server, error) {
	if opts.AccessKey == "" {
		opts.AccessKey, opts.SecretKey = DefaultAccessKey, DefaultSecretKey
	}
	if opts.AccountAccessKey == "" {
		opts.AccountAccessKey, opts.AccountSecretKey = DefaultAccountAccessKey, DefaultAccountSecretKey
	}
	if opts.ProjectID == "" {
		opts.ProjectID = "1a5"
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 5 * time.Second
	}
	if opts.MaxPings <= 0 {
		opts.MaxPings = 8640
	}
	tmpl, err := loadTemplates()
	if err != nil {
		return nil, fmt.Errorf("loading fixtures: %w", err)
	}
	s := &Server{
		opts:    opts,
		tmpl:    tmpl,
		world:   newWorld(),
		subs:    map[*subscriber]struct{}{},
		pending: map[string]pendingEvent{},
		closing: make(chan struct{}),
		stats:   Stats{Lists: map[string]int{}},
	}
	s.ts = httptest.NewUnstartedServer(s)
	if opts.Addr != "" {
		l, err := net.Listen("tcp", opts.Addr)
		if err != nil {
			return nil, fmt.Errorf("listening on %s: %w", opts.Addr, err)
		}
		s.ts.Listener.Close()
		s.ts.Listener = l
	}
	s.ts.Start()
	if opts.EventDelay > 0 {
		s.wg.Go(s.flushLoop)
	}
	return s, nil
}

// Close stops the server: open subscriptions and hanging requests end.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.closing)
	s.mu.Unlock()
	s.ts.Close()
	s.wg.Wait()
}

// URL is the server's base URL, e.g. "http://127.0.0.1:40123".
func (s *Server) URL() string { return s.ts.URL }

// ProjectURL is the endpoint the Rancher UI shows for the environment,
// e.g. "http://127.0.0.1:40123/v2-beta/projects/1a5".
func (s *Server) ProjectURL() string { return s.ts.URL + "/v2-beta/projects/" + s.opts.ProjectID }

// ProjectID is the environment's id.
func (s *Server) ProjectID() string { return s.opts.ProjectID }

// EnvironmentKey returns the environment API key.
func (s *Server) EnvironmentKey() (access, secret string) {
	return s.opts.AccessKey, s.opts.SecretKey
}

// AccountKey returns the account API key.
func (s *Server) AccountKey() (access, secret string) {
	return s.opts.AccountAccessKey, s.opts.AccountSecretKey
}

// Fail answers every request, websocket dials included, with the status
// code and Cattle's error body for d. Open subscriptions stay open.
func (s *Server) Fail(code int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCode, s.failUntil = code, time.Now().Add(d)
}

// Hang holds every request for d before answering it normally; clients
// with a shorter timeout see the server as hanging.
func (s *Server) Hang(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangUntil = time.Now().Add(d)
}

// RefuseWebsocket makes subscription dials fail with 503 while refuse is
// true; turning it on also closes the open subscriptions.
func (s *Server) RefuseWebsocket(refuse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseWS = refuse
	if refuse {
		for sub := range s.subs {
			sub.stop()
		}
	}
}

// Stats returns a copy of the request counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Lists = make(map[string]int, len(s.stats.Lists))
	for k, v := range s.stats.Lists {
		st.Lists[k] = v
	}
	st.Subscribers = len(s.subs)
	return st
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{Lists: map[string]int{}}
}

// keyKind is which API key authenticated a request.
type keyKind int

const (
	noKey keyKind = iota
	environmentKey
	accountKey
)

func (s *Server) authenticate(r *http.Request) keyKind {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return noKey
	}
	eq := func(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
	switch {
	case eq(user, s.opts.AccessKey) && eq(pass, s.opts.SecretKey):
		return environmentKey
	case eq(user, s.opts.AccountAccessKey) && eq(pass, s.opts.AccountSecretKey):
		return accountKey
	}
	return noKey
}

// injected applies Hang and Fail to a request; it reports whether the
// request has been answered.
func (s *Server) injected(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	hang := time.Until(s.hangUntil)
	failing := time.Now().Before(s.failUntil)
	code := s.failCode
	if hang > 0 || failing {
		s.stats.Injected++
	}
	s.mu.Unlock()
	if hang > 0 {
		t := time.NewTimer(hang)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		case <-s.closing:
			return true
		}
	}
	if failing {
		if strings.Contains(strings.ToLower(r.Header.Get("Upgrade")), "websocket") {
			s.mu.Lock()
			s.stats.WebsocketRefused++
			s.mu.Unlock()
		}
		s.writeError(w, r, code)
		return true
	}
	return false
}

// newUUID returns a random version 4 UUID, as Cattle puts in error and
// event ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
