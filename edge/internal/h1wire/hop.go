package h1wire

// hopFields are the fields that describe one connection rather than the
// message (RFC 9110 §7.6.1, with the obsolete Keep-Alive and
// Proxy-Connection, as net/http/httputil lists them): a proxy forwards
// none of them, in either direction, nor the fields a message's
// Connection names. This is the edge's one list of them.
//
// h2 marks those an HTTP/2 message may still carry (RFC 9113 §8.2.2):
// Te (only as "trailers"), Trailer and the proxy authentication fields;
// the others make an HTTP/2 message malformed.
var hopFields = [...]struct {
	name string
	h2   bool
}{
	{"Connection", false},
	{"Keep-Alive", false},
	{"Proxy-Authenticate", true},
	{"Proxy-Authorization", true},
	{"Proxy-Connection", false},
	{"Te", true},
	{"Trailer", true},
	{"Transfer-Encoding", false},
	{"Upgrade", false},
}

// HopByHop returns the hop-by-hop field names in canonical form.
func HopByHop() []string {
	names := make([]string, len(hopFields))
	for i, f := range hopFields {
		names[i] = f.name
	}
	return names
}

// IsHopByHop reports whether name, in any case, is a hop-by-hop field.
func IsHopByHop[T []byte | string](name T) bool {
	for _, f := range hopFields {
		if EqualFold(name, f.name) {
			return true
		}
	}
	return false
}

// IsConnectionSpecific reports whether name, in any case, is a field an
// HTTP/2 message must not carry (RFC 9113 §8.2.2).
func IsConnectionSpecific[T []byte | string](name T) bool {
	for _, f := range hopFields {
		if !f.h2 && EqualFold(name, f.name) {
			return true
		}
	}
	return false
}

// EqualFold compares ASCII case-insensitively without converting b.
func EqualFold[T []byte | string](b T, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
