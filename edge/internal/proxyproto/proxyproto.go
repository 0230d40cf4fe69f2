// Package proxyproto reads the PROXY protocol (versions 1 and 2, HAProxy's
// proxy-protocol.txt) that load balancers put in front of a TCP connection
// to say which client it carries.
//
// [Parse] is a pure parser over bytes; [Conn] applies it to a connection:
// a trusted peer may send a header (its client address becomes the
// connection's RemoteAddr), an untrusted peer that sends one is refused,
// and a connection without a header is passed on untouched.
package proxyproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
)

// Header is one parsed PROXY header.
type Header struct {
	Version int // 1 or 2
	// Local is true when the header carries no client (v1 UNKNOWN, v2
	// LOCAL or an address family without IPs): the connection's own
	// addresses stand.
	Local bool
	// Source and Dest are the client and the address it connected to.
	Source, Dest netip.AddrPort
}

var (
	// ErrNoHeader means the data does not start with a PROXY header.
	ErrNoHeader = errors.New("proxyproto: no PROXY header")
	// ErrNeedMore means the data is the start of a header, cut short.
	ErrNeedMore = errors.New("proxyproto: header incomplete")
	// ErrInvalid means the data starts like a header but is not a valid
	// one.
	ErrInvalid = errors.New("proxyproto: invalid PROXY header")
)

var (
	sigV1 = []byte("PROXY ")
	sigV2 = []byte("\r\n\r\n\x00\r\nQUIT\n")
)

const (
	// maxV1 is the longest v1 line, CRLF included (proxy-protocol.txt §2.1).
	maxV1 = 107
	// MaxV2 bounds a v2 header, TLVs included. The format allows 64 KiB;
	// load balancers send a few hundred bytes at most, and a peer may not
	// make the edge buffer more.
	MaxV2 = 16 + 1024
)

// Parse reads the header at the start of b. It returns the header and its
// length in bytes, or ErrNoHeader, ErrNeedMore (b is a prefix of what may
// yet be a valid header) or an error wrapping ErrInvalid.
func Parse(b []byte) (Header, int, error) {
	switch {
	case hasPrefix(b, sigV1):
		if len(b) < len(sigV1) {
			return Header{}, 0, ErrNeedMore
		}
		return parseV1(b)
	case hasPrefix(b, sigV2):
		if len(b) < len(sigV2) {
			return Header{}, 0, ErrNeedMore
		}
		return parseV2(b)
	}
	return Header{}, 0, ErrNoHeader
}

// hasPrefix reports whether b and sig agree on their common length, with
// at least one byte: b may be cut short.
func hasPrefix(b, sig []byte) bool {
	n := min(len(b), len(sig))
	return n > 0 && bytes.Equal(b[:n], sig[:n])
}

func invalid(why string) error { return errors.Join(ErrInvalid, errors.New(why)) }

func parseV1(b []byte) (Header, int, error) {
	end := bytes.Index(b[:min(len(b), maxV1)], []byte("\r\n"))
	if end < 0 {
		if len(b) < maxV1 {
			return Header{}, 0, ErrNeedMore
		}
		return Header{}, 0, invalid("v1 line longer than 107 bytes")
	}
	n := end + 2
	fields := bytes.Split(b[len(sigV1):end], []byte(" "))
	h := Header{Version: 1}
	switch string(fields[0]) {
	case "UNKNOWN":
		h.Local = true
		return h, n, nil
	case "TCP4", "TCP6":
	default:
		return Header{}, 0, invalid("v1 protocol is not TCP4, TCP6 or UNKNOWN")
	}
	if len(fields) != 5 {
		return Header{}, 0, invalid("v1 line does not have 5 fields")
	}
	src, err1 := netip.ParseAddr(string(fields[1]))
	dst, err2 := netip.ParseAddr(string(fields[2]))
	sp, err3 := parsePort(fields[3])
	dp, err4 := parsePort(fields[4])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return Header{}, 0, invalid("v1 address or port does not parse")
	}
	v4 := string(fields[0]) == "TCP4"
	if src.Is4() != v4 || dst.Is4() != v4 || src.Zone() != "" || dst.Zone() != "" {
		return Header{}, 0, invalid("v1 addresses do not match the protocol")
	}
	h.Source, h.Dest = netip.AddrPortFrom(src, sp), netip.AddrPortFrom(dst, dp)
	return h, n, nil
}

// parsePort reads a decimal port: digits only, no leading zero.
func parsePort(b []byte) (uint16, error) {
	if len(b) == 0 || len(b) > 5 || len(b) > 1 && b[0] == '0' {
		return 0, ErrInvalid
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, ErrInvalid
		}
	}
	n, err := strconv.ParseUint(string(b), 10, 16)
	return uint16(n), err
}

func parseV2(b []byte) (Header, int, error) {
	if len(b) < 16 {
		return Header{}, 0, ErrNeedMore
	}
	verCmd, fam := b[12], b[13]
	size := int(binary.BigEndian.Uint16(b[14:16]))
	if verCmd>>4 != 2 {
		return Header{}, 0, invalid("v2 version is not 2")
	}
	if 16+size > MaxV2 {
		return Header{}, 0, invalid("v2 header longer than the edge accepts")
	}
	if len(b) < 16+size {
		return Header{}, 0, ErrNeedMore
	}
	n := 16 + size
	body := b[16:n]
	h := Header{Version: 2}
	switch verCmd & 0xF {
	case 0: // LOCAL: a health check from the balancer itself
		h.Local = true
		return h, n, nil
	case 1: // PROXY
	default:
		return Header{}, 0, invalid("v2 command is not LOCAL or PROXY")
	}
	switch fam {
	case 0x11: // TCP over IPv4
		if size < 12 {
			return Header{}, 0, invalid("v2 IPv4 addresses cut short")
		}
		src := netip.AddrFrom4([4]byte(body[0:4]))
		dst := netip.AddrFrom4([4]byte(body[4:8]))
		h.Source = netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[8:10]))
		h.Dest = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(body[10:12]))
	case 0x21: // TCP over IPv6
		if size < 36 {
			return Header{}, 0, invalid("v2 IPv6 addresses cut short")
		}
		src := netip.AddrFrom16([16]byte(body[0:16]))
		dst := netip.AddrFrom16([16]byte(body[16:32]))
		h.Source = netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[32:34]))
		h.Dest = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(body[34:36]))
	case 0x00, 0x31: // UNSPEC, or a UNIX socket: no client IP to use
		h.Local = true
	default: // UDP (0x12, 0x22, 0x32) on a TCP listener
		return Header{}, 0, invalid("v2 address family is not a stream")
	}
	return h, n, nil
}

// AppendV1 appends the v1 header for src → dst: for tests and clients.
func AppendV1(b []byte, src, dst netip.AddrPort) []byte {
	proto := "TCP4"
	if !src.Addr().Is4() {
		proto = "TCP6"
	}
	b = append(b, "PROXY "+proto+" "...)
	b = append(b, src.Addr().String()+" "+dst.Addr().String()+" "...)
	b = strconv.AppendUint(b, uint64(src.Port()), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(dst.Port()), 10)
	return append(b, "\r\n"...)
}

// AppendV2 appends the v2 PROXY header for src → dst, followed by tlvs
// (raw type-length-value bytes, which a reader skips).
func AppendV2(b []byte, src, dst netip.AddrPort, tlvs []byte) []byte {
	b = append(b, sigV2...)
	if src.Addr().Is4() {
		b = append(b, 0x21, 0x11)
		b = binary.BigEndian.AppendUint16(b, uint16(12+len(tlvs)))
		s, d := src.Addr().As4(), dst.Addr().As4()
		b = append(append(b, s[:]...), d[:]...)
	} else {
		b = append(b, 0x21, 0x21)
		b = binary.BigEndian.AppendUint16(b, uint16(36+len(tlvs)))
		s, d := src.Addr().As16(), dst.Addr().As16()
		b = append(append(b, s[:]...), d[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	return append(b, tlvs...)
}
