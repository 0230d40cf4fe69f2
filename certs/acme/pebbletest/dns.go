package pebbletest

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// DNS is a tiny authoritative-looking DNS server for tests. Every name
// resolves to 127.0.0.1 unless [DNS.SetA] says otherwise; TXT records are
// whatever [DNS.AddTXT] or a [Provider] put there; every two-label name
// ("example.test.") is a zone apex with an SOA record, so certmagic's zone
// discovery finds "example.test." for "_acme-challenge.x.example.test.".
//
// It serves UDP and TCP on the same loopback port: Pebble's validation
// authority asks over TCP, certmagic's propagation check over UDP.
type DNS struct {
	// Addr is host:port of the server, for Pebble and for
	// certmagic's DNS resolvers setting.
	Addr string

	mu  sync.Mutex
	txt map[string][]string // FQDN -> values
	a   map[string][]string // FQDN -> IPv4 addresses

	udp, tcp *dns.Server
}

// startDNS binds UDP and TCP on one free loopback port and serves until
// the test ends.
func startDNS(t testing.TB) *DNS {
	t.Helper()
	d := &DNS{txt: map[string][]string{}, a: map[string][]string{}}
	var (
		tcpLn net.Listener
		udpPC net.PacketConn
		err   error
	)
	// The TCP port is free, the same UDP port almost always is; retry the
	// pair on the rare collision instead of failing the test.
	for range 5 {
		tcpLn, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("pebbletest: listening for DNS over TCP: %v", err)
		}
		udpPC, err = net.ListenPacket("udp", tcpLn.Addr().String())
		if err == nil {
			break
		}
		tcpLn.Close()
	}
	if err != nil {
		t.Fatalf("pebbletest: listening for DNS over UDP: %v", err)
	}
	d.Addr = tcpLn.Addr().String()

	handler := dns.HandlerFunc(d.serveDNS)
	d.tcp = &dns.Server{Listener: tcpLn, Handler: handler}
	d.udp = &dns.Server{PacketConn: udpPC, Handler: handler}
	started := make(chan struct{}, 2)
	d.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	d.udp.NotifyStartedFunc = func() { started <- struct{}{} }
	go d.tcp.ActivateAndServe() //nolint:errcheck // returns when shut down
	go d.udp.ActivateAndServe() //nolint:errcheck // returns when shut down
	<-started
	<-started
	t.Cleanup(func() {
		d.tcp.Shutdown() //nolint:errcheck // best effort at test end
		d.udp.Shutdown() //nolint:errcheck // best effort at test end
	})
	return d
}

// AddTXT adds a TXT value for name.
func (d *DNS) AddTXT(name, value string) {
	name = dns.CanonicalName(name)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.txt[name] = append(d.txt[name], value)
}

// DeleteTXT removes value from name's TXT records; "" removes them all.
func (d *DNS) DeleteTXT(name, value string) {
	name = dns.CanonicalName(name)
	d.mu.Lock()
	defer d.mu.Unlock()
	if value == "" {
		delete(d.txt, name)
		return
	}
	d.txt[name] = slices.DeleteFunc(d.txt[name], func(v string) bool { return v == value })
	if len(d.txt[name]) == 0 {
		delete(d.txt, name)
	}
}

// TXT returns name's TXT values.
func (d *DNS) TXT(name string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.txt[dns.CanonicalName(name)])
}

// SetA makes name resolve to ips instead of 127.0.0.1; no ips restores
// the default. Pointing a name at an address where nothing listens
// (127.0.0.2) makes its HTTP-01 and TLS-ALPN-01 validations fail.
func (d *DNS) SetA(name string, ips ...string) {
	name = dns.CanonicalName(name)
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(ips) == 0 {
		delete(d.a, name)
		return
	}
	d.a[name] = slices.Clone(ips)
}

func (d *DNS) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	for _, q := range req.Question {
		m.Answer = append(m.Answer, d.answer(q)...)
	}
	w.WriteMsg(m) //nolint:errcheck // the client retries
}

func (d *DNS) answer(q dns.Question) []dns.RR {
	name := dns.CanonicalName(q.Name)
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: 0}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []dns.RR
	switch q.Qtype {
	case dns.TypeA:
		ips, ok := d.a[name]
		if !ok {
			ips = []string{"127.0.0.1"}
		}
		for _, ip := range ips {
			out = append(out, &dns.A{Hdr: hdr(dns.TypeA), A: net.ParseIP(ip)})
		}
	case dns.TypeTXT:
		for _, v := range d.txt[name] {
			out = append(out, &dns.TXT{Hdr: hdr(dns.TypeTXT), Txt: []string{v}})
		}
	case dns.TypeSOA:
		if dns.CountLabel(name) == 2 {
			out = append(out, &dns.SOA{
				Hdr: hdr(dns.TypeSOA), Ns: "ns." + name, Mbox: "hostmaster." + name,
				Serial: 1, Refresh: 60, Retry: 60, Expire: 60, Minttl: 0,
			})
		}
	}
	return out
}

// Provider is a libdns provider (RecordAppender, RecordDeleter,
// RecordGetter) that writes TXT records into a [DNS] server, so
// certmagic's DNS01Solver can solve DNS-01 challenges against Pebble.
type Provider struct {
	dns      *DNS
	appended atomic.Int64
}

// Provider returns a libdns provider backed by d.
func (d *DNS) Provider() *Provider { return &Provider{dns: d} }

// Appended counts the records the provider was asked to create.
func (p *Provider) Appended() int { return int(p.appended.Load()) }

// AppendRecords adds TXT records; other types are refused.
func (p *Provider) AppendRecords(_ context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	out := make([]libdns.Record, 0, len(recs))
	for _, rec := range recs {
		rr := rec.RR()
		if !strings.EqualFold(rr.Type, "TXT") {
			return out, fmt.Errorf("pebbletest: only TXT records are supported, not %s", rr.Type)
		}
		p.dns.AddTXT(libdns.AbsoluteName(rr.Name, zone), rr.Data)
		p.appended.Add(1)
		out = append(out, rr)
	}
	return out, nil
}

// DeleteRecords removes TXT records by name and value.
func (p *Provider) DeleteRecords(_ context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	for _, rec := range recs {
		rr := rec.RR()
		p.dns.DeleteTXT(libdns.AbsoluteName(rr.Name, zone), rr.Data)
	}
	return recs, nil
}

// GetRecords lists the zone's TXT records.
func (p *Provider) GetRecords(_ context.Context, zone string) ([]libdns.Record, error) {
	zone = dns.CanonicalName(zone)
	p.dns.mu.Lock()
	defer p.dns.mu.Unlock()
	var out []libdns.Record
	for name, values := range p.dns.txt {
		if !dns.IsSubDomain(zone, name) {
			continue
		}
		for _, v := range values {
			out = append(out, libdns.RR{Type: "TXT", Name: libdns.RelativeName(name, zone), Data: v})
		}
	}
	return out, nil
}

var (
	_ libdns.RecordAppender = (*Provider)(nil)
	_ libdns.RecordDeleter  = (*Provider)(nil)
	_ libdns.RecordGetter   = (*Provider)(nil)
)
