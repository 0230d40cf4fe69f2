package proxyproto

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

var (
	client4 = netip.MustParseAddrPort("203.0.113.7:51234")
	front4  = netip.MustParseAddrPort("10.0.0.1:443")
	client6 = netip.MustParseAddrPort("[2001:db8::7]:51234")
	front6  = netip.MustParseAddrPort("[2001:db8::1]:443")
)

func TestParse(t *testing.T) {
	tlv := []byte{0x04, 0x00, 0x03, 'a', 'b', 'c'} // PP2_TYPE_NOOP
	for _, tc := range []struct {
		name    string
		in      []byte
		want    Header
		wantN   int
		wantErr error
	}{
		{"v1 tcp4", []byte("PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\nGET /"), Header{Version: 1, Source: client4, Dest: front4}, 43, nil},
		{"v1 tcp6", AppendV1(nil, client6, front6), Header{Version: 1, Source: client6, Dest: front6}, len(AppendV1(nil, client6, front6)), nil},
		{"v1 unknown", []byte("PROXY UNKNOWN\r\nrest"), Header{Version: 1, Local: true}, 15, nil},
		{"v2 tcp4", AppendV2(nil, client4, front4, nil), Header{Version: 2, Source: client4, Dest: front4}, 28, nil},
		{"v2 tcp6 with tlv", AppendV2(nil, client6, front6, tlv), Header{Version: 2, Source: client6, Dest: front6}, 52 + len(tlv), nil},
		{"v2 local", append(append([]byte(nil), sigV2...), 0x20, 0x00, 0, 0), Header{Version: 2, Local: true}, 16, nil},
		{"http", []byte("GET / HTTP/1.1\r\n"), Header{}, 0, ErrNoHeader},
		{"post", []byte("POST / HTTP/1.1\r\n"), Header{}, 0, ErrNoHeader},
		{"tls", []byte{0x16, 0x03, 0x01, 0x02, 0x00}, Header{}, 0, ErrNoHeader},
		{"v1 cut", []byte("PROXY TCP4 203.0.113.7 10.0"), Header{}, 0, ErrNeedMore},
		{"v1 signature cut", []byte("PRO"), Header{}, 0, ErrNeedMore},
		{"v2 signature cut", sigV2[:5], Header{}, 0, ErrNeedMore},
		{"v2 body cut", AppendV2(nil, client4, front4, nil)[:20], Header{}, 0, ErrNeedMore},
		{"v1 bad address", []byte("PROXY TCP4 203.0.113.999 10.0.0.1 1 2\r\n"), Header{}, 0, ErrInvalid},
		{"v1 family mismatch", []byte("PROXY TCP4 2001:db8::7 10.0.0.1 1 2\r\n"), Header{}, 0, ErrInvalid},
		{"v1 bad port", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), Header{}, 0, ErrInvalid},
		{"v1 leading zero", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n"), Header{}, 0, ErrInvalid},
		{"v1 too long", append([]byte("PROXY TCP4 "), bytes.Repeat([]byte("1"), 120)...), Header{}, 0, ErrInvalid},
		{"v2 bad version", append(append([]byte(nil), sigV2...), 0x11, 0x11, 0, 12), Header{}, 0, ErrInvalid},
		{"v2 udp", append(append([]byte(nil), sigV2...), 0x21, 0x12, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2), Header{}, 0, ErrInvalid},
		{"v2 too long", append(append([]byte(nil), sigV2...), 0x21, 0x11, 0xff, 0xff), Header{}, 0, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, n, err := Parse(tc.in)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if h != tc.want || n != tc.wantN {
				t.Errorf("got %+v, %d; want %+v, %d", h, n, tc.want, tc.wantN)
			}
		})
	}
}

// pipeConn serves data to a Conn and records deadlines.
func pipeConn(t *testing.T, data []byte) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	if _, err := client.Write(data); err != nil {
		t.Fatal(err)
	}
	return server, client
}

func TestConn(t *testing.T) {
	payload := []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, tc := range []struct {
		name       string
		prefix     []byte
		trusted    bool
		remoteFrst bool
		wantRemote string // "" means the peer's own
		wantErr    error
	}{
		{"v1 trusted, read first", AppendV1(nil, client4, front4), true, false, client4.String(), nil},
		{"v2 trusted, remote first", AppendV2(nil, client6, front6, []byte{4, 0, 1, 'x'}), true, true, client6.String(), nil},
		{"no header trusted", nil, true, true, "", nil},
		{"no header untrusted", nil, false, false, "", nil},
		{"v1 untrusted refused", AppendV1(nil, client4, front4), false, false, "", ErrUntrusted},
		{"v2 untrusted refused", AppendV2(nil, client4, front4, nil), false, true, "", ErrUntrusted},
		{"v2 local keeps the peer", append(append([]byte(nil), sigV2...), 0x20, 0x00, 0, 0), true, false, "", nil},
		{"invalid header", []byte("PROXY TCP4 nope\r\n"), true, false, "", ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, client := pipeConn(t, append(append([]byte(nil), tc.prefix...), payload...))
			c := NewConn(server, tc.trusted, 2*time.Second)
			var remote string
			if tc.remoteFrst {
				remote = c.RemoteAddr().String()
			}
			got := make([]byte, len(payload))
			_, err := io.ReadFull(c, got)
			if !tc.remoteFrst {
				remote = c.RemoteAddr().String()
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("read: %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("read %q, %v", got, err)
			}
			want := tc.wantRemote
			if want == "" {
				want = client.LocalAddr().String()
			}
			if remote != want {
				t.Errorf("RemoteAddr %s, want %s", remote, want)
			}
		})
	}
}

// TestConnRemoteAddrBounded: a peer that sends half a header and stops
// does not hold RemoteAddr past the timeout.
func TestConnRemoteAddrBounded(t *testing.T) {
	server, _ := pipeConn(t, []byte("PROXY TCP4 1.2.3.4"))
	c := NewConn(server, true, 100*time.Millisecond)
	start := time.Now()
	_ = c.RemoteAddr()
	if time.Since(start) > 2*time.Second {
		t.Fatal("RemoteAddr waited past its timeout")
	}
	if err := c.Header(); err == nil {
		t.Error("a stalled header is not an error")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(AppendV1(nil, client4, front4))
	f.Add(AppendV1(nil, client6, front6))
	f.Add(AppendV2(nil, client4, front4, []byte{4, 0, 1, 'x'}))
	f.Add(AppendV2(nil, client6, front6, nil))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := Parse(b)
		if err != nil {
			if n != 0 || h != (Header{}) {
				t.Fatalf("error %v with a result %+v, %d", err, h, n)
			}
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("length %d of %d", n, len(b))
		}
		if h.Version != 1 && h.Version != 2 {
			t.Fatalf("version %d", h.Version)
		}
		if !h.Local && !h.Source.IsValid() {
			t.Fatalf("no source without Local: %+v", h)
		}
		// A parsed header parses the same without what follows it.
		h2, n2, err := Parse(b[:n])
		if err != nil || h2 != h || n2 != n {
			t.Fatalf("prefix reparse: %+v %d %v", h2, n2, err)
		}
	})
}

// TestConnKeepsTCPAbilities: the wrapper half-closes and writes with the
// TCP connection's own methods.
func TestConnKeepsTCPAbilities(t *testing.T) {
	server, client := pipeConn(t, AppendV1(nil, client4, front4))
	c := NewConn(server, true, time.Second)
	if c.RemoteAddr().String() != client4.String() {
		t.Fatalf("RemoteAddr %v", c.RemoteAddr())
	}
	if n, err := c.ReadFrom(bytes.NewReader([]byte("pong"))); err != nil || n != 4 {
		t.Fatalf("ReadFrom: %d %v", n, err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(client) // ends at the FIN
	if err != nil || string(got) != "pong" {
		t.Errorf("client read %q, %v", got, err)
	}
}
