// Package bindtest runs a real authoritative DNS server, Debian's BIND 9
// (`named`), for tests of DNS-01 against the DNS many on-premises
// installations run: one primary zone on a free loopback port (UDP and
// TCP), accepting RFC 2136 dynamic updates signed with a TSIG key
// generated for the test. `make deps-test` installs it (apt-get install
// bind9); a missing named fails the test, it never skips.
package bindtest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/rancher-edge/edge/internal/testtools"
)

// Server is a running named.
type Server struct {
	// Addr is the loopback host:port named answers on, over UDP and TCP.
	Addr string
	// Zone is the zone it is authoritative for, e.g. "example.test.".
	Zone string
	// KeyName, KeySecret (base64) and KeyAlgorithm are the TSIG key that
	// may update TXT records anywhere in the zone.
	KeyName, KeySecret, KeyAlgorithm string

	log *syncBuffer
}

// Start runs named for zone until the test ends. Every name in the zone
// resolves to 127.0.0.1.
func Start(t testing.TB, zone string) *Server {
	t.Helper()
	named, err := exec.LookPath("named")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/named"); serr != nil {
			t.Fatal("bindtest: named is not installed; `make deps-test` installs it (apt-get install bind9)")
		}
		named = "/usr/sbin/named"
	}
	zone = dns.Fqdn(strings.ToLower(zone))
	secret := make([]byte, 32)
	rand.Read(secret) //nolint:errcheck // never fails
	s := &Server{
		Zone: zone, KeyName: "edge-test.", KeySecret: base64.StdEncoding.EncodeToString(secret),
		KeyAlgorithm: "hmac-sha256", log: &syncBuffer{},
	}
	dir := t.TempDir()
	// named needs the same port free for UDP and TCP; a port taken in
	// between makes it exit, and the attempt is retried on another.
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		s.Addr = net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
		if err := s.writeConfig(dir, port); err != nil {
			t.Fatalf("bindtest: %v", err)
		}
		cmd := exec.Command(named, "-g", "-4", "-n", "1", "-c", filepath.Join(dir, "named.conf"))
		cmd.Stdout, cmd.Stderr = s.log, s.log
		if err := cmd.Start(); err != nil {
			t.Fatalf("bindtest: starting named: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }() //nolint:errcheck // the log says why
		err := s.waitReady(exited)
		if err == nil {
			t.Cleanup(func() {
				cmd.Process.Kill() //nolint:errcheck // may be gone already
				<-exited
			})
			return s
		}
		cmd.Process.Kill() //nolint:errcheck // as above
		<-exited
		if attempt == 2 {
			t.Fatalf("bindtest: named did not serve %s on %s: %v\n%s", zone, s.Addr, err, s.log.String())
		}
	}
}

func (s *Server) writeConfig(dir string, port int) error {
	conf := fmt.Sprintf(`options {
	directory %[1]q;
	pid-file none;
	session-keyfile %[2]q;
	listen-on port %[3]d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
	minimal-responses yes;
};
controls { };
key %[4]q {
	algorithm %[5]s;
	secret %[6]q;
};
zone %[7]q {
	type primary;
	file %[8]q;
	allow-transfer { key %[4]s; };
	update-policy { grant %[4]s zonesub TXT; };
};
`, dir, filepath.Join(dir, "session.key"), port, s.KeyName, s.KeyAlgorithm, s.KeySecret, s.Zone, filepath.Join(dir, "zone.db"))
	zoneFile := fmt.Sprintf(`$ORIGIN %[1]s
$TTL 1
@	IN SOA	ns.%[1]s hostmaster.%[1]s 1 60 60 600 1
@	IN NS	ns.%[1]s
@	IN A	127.0.0.1
ns	IN A	127.0.0.1
*	IN A	127.0.0.1
`, s.Zone)
	// A fresh zone on every attempt: a journal left by an earlier run
	// would not match it.
	os.Remove(filepath.Join(dir, "zone.db.jnl"))
	if err := os.WriteFile(filepath.Join(dir, "zone.db"), []byte(zoneFile), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "named.conf"), []byte(conf), 0o644)
}

// waitReady polls the SOA over TCP and UDP until named answers, it exits,
// or 30 seconds pass.
func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("named exited")
		default:
		}
		last = nil
		for _, netw := range []string{"tcp", "udp"} {
			if _, err := s.query(netw, s.Zone, dns.TypeSOA); err != nil {
				last = err
			}
		}
		if last == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

func (s *Server) query(netw, name string, qtype uint16) (*dns.Msg, error) {
	c := &dns.Client{Net: netw, Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	r, _, err := c.Exchange(m, s.Addr)
	if err != nil {
		return nil, err
	}
	if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
		return nil, fmt.Errorf("%s %s: %s", name, dns.TypeToString[qtype], dns.RcodeToString[r.Rcode])
	}
	return r, nil
}

// TXT returns the TXT values named serves for name.
func (s *Server) TXT(t testing.TB, name string) []string {
	t.Helper()
	r, err := s.query("tcp", name, dns.TypeTXT)
	if err != nil {
		t.Fatalf("bindtest: %v", err)
	}
	var out []string
	for _, rr := range r.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(txt.Txt, ""))
		}
	}
	return out
}

// Log returns what named wrote so far: its start-up, and every update it
// applied or refused.
func (s *Server) Log() string { return s.log.String() }

// freePort is a loopback port free for both UDP and TCP.
func freePort(t testing.TB) int { return testtools.Port(t) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
