package edge

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
)

// The fast path parses HTTP/1.x heads itself, strictly (RFC 9112): a
// message whose framing two parsers could read differently is refused
// rather than guessed at, because that ambiguity is what request smuggling
// exploits. Anything valid but unusual is handed to net/http instead.

// errHandOver marks a request head the fast path leaves to net/http:
// valid or not, net/http answers it as the other design would.
var errHandOver = errors.New("edge: request left to net/http")

// headError is a request the fast path refuses with a status and closes.
type headError struct {
	code int
	why  string
}

func (e *headError) Error() string { return "edge: bad request head: " + e.why }

func badHead(why string) error { return &headError{code: http.StatusBadRequest, why: why} }

// field is one header field of a request head; name is canonical.
type field struct{ name, value string }

// reqHead is a parsed request head. Every string in it is a substring of
// one string per request, so parsing costs a single allocation.
type reqHead struct {
	method, target string
	minor          int // HTTP/1.<minor>
	host           string
	length         int64 // Content-Length; -1 when absent
	chunked        bool
	close          bool     // Connection: close
	keepAlive      bool     // Connection: keep-alive (matters for HTTP/1.0)
	special        bool     // Upgrade, Expect: net/http's business
	connNames      []string // other Connection tokens: more hop-by-hop fields
	fields         []field
}

// hasBody reports whether a body follows the head.
func (h *reqHead) hasBody() bool { return h.chunked || h.length > 0 }

// persistent reports whether the client lets the connection carry another
// request after this one.
func (h *reqHead) persistent() bool {
	if h.minor == 0 {
		return h.keepAlive && !h.close
	}
	return !h.close
}

// scanHead finds the end of the head at the start of buf: it returns the
// length including the blank line, 0 when more bytes are needed, and -1
// when a line ends in a bare LF or the head starts with a blank line —
// tolerated by net/http, so handed over rather than parsed twice here.
func scanHead(buf []byte) int {
	pos := 0
	for {
		nl := bytes.IndexByte(buf[pos:], '\n')
		if nl < 0 {
			return 0
		}
		end := pos + nl
		if end == 0 || buf[end-1] != '\r' {
			return -1
		}
		if end-1 == pos {
			if pos == 0 {
				return -1
			}
			return end + 1
		}
		pos = end + 1
	}
}

// canonicalizeNames validates every field name of the head in raw and
// rewrites it in canonical form in place, so the string made from raw
// needs no further allocation for names.
func canonicalizeNames(raw []byte) error {
	first := bytes.IndexByte(raw, '\n') + 1
	for pos := first; pos < len(raw); {
		end := pos + bytes.IndexByte(raw[pos:], '\n') // the head ends in \n
		line := raw[pos : end-1]
		pos = end + 1
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return badHead("obsolete line folding")
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return badHead("field without a name")
		}
		upper := true
		for i, c := range line[:colon] {
			if !isTokenChar(c) {
				return badHead("invalid field name")
			}
			switch {
			case upper && 'a' <= c && c <= 'z':
				line[i] = c - ('a' - 'A')
			case !upper && 'A' <= c && c <= 'Z':
				line[i] = c + ('a' - 'A')
			}
			upper = c == '-'
		}
	}
	return nil
}

// parse fills h from the head s (names already canonical), reusing h's
// slices. It returns a *headError for a head to refuse and errHandOver
// for one net/http should answer.
//
// Fields whose name holds an underscore are dropped unless keepUnderscore:
// CGI, WSGI and PHP backends map "-" and "_" to the same variable, so
// X_Forwarded_For would pass for the X-Forwarded-For the edge controls
// (nginx's underscores_in_headers off).
func (h *reqHead) parse(s string, keepUnderscore bool) error {
	*h = reqHead{length: -1, connNames: h.connNames[:0], fields: h.fields[:0]}
	eol := strings.IndexByte(s, '\n')
	if err := h.parseRequestLine(s[:eol-1]); err != nil {
		return err
	}
	hosts, lengths, encodings := 0, 0, 0
	for pos := eol + 1; ; {
		end := pos + strings.IndexByte(s[pos:], '\n')
		line := s[pos : end-1]
		pos = end + 1
		if line == "" {
			break
		}
		colon := strings.IndexByte(line, ':')
		name, value := line[:colon], trimOWS(line[colon+1:])
		if !validFieldValue(value) {
			return badHead("invalid field value")
		}
		if !keepUnderscore && strings.IndexByte(name, '_') >= 0 {
			continue
		}
		switch name {
		case "Host":
			hosts++
			if !validHost(value) {
				return badHead("invalid host")
			}
			h.host = value
		case "Content-Length":
			lengths++
			n, ok := parseContentLength(value)
			if !ok || (lengths > 1 && n != h.length) {
				return badHead("invalid or conflicting Content-Length")
			}
			h.length = n
		case "Transfer-Encoding":
			encodings++
			if encodings > 1 || !strings.EqualFold(value, "chunked") {
				return badHead("unsupported Transfer-Encoding")
			}
			h.chunked = true
		case "Connection":
			h.connectionTokens(value)
		case "Upgrade", "Expect":
			h.special = true
		}
		h.fields = append(h.fields, field{name, value})
	}
	switch {
	case hosts > 1:
		return badHead("more than one Host")
	case hosts == 0 && h.minor == 1:
		return badHead("missing Host")
	case h.chunked && lengths > 0:
		return badHead("both Content-Length and Transfer-Encoding")
	case h.chunked && h.minor == 0:
		return badHead("Transfer-Encoding in HTTP/1.0")
	}
	return nil
}

func (h *reqHead) parseRequestLine(line string) error {
	sp1 := strings.IndexByte(line, ' ')
	if sp1 <= 0 {
		return errHandOver
	}
	rest := line[sp1+1:]
	sp2 := strings.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return errHandOver
	}
	h.method, h.target = line[:sp1], rest[:sp2]
	switch rest[sp2+1:] {
	case "HTTP/1.1":
		h.minor = 1
	case "HTTP/1.0":
		h.minor = 0
	default:
		return errHandOver // HTTP/0.9, an h2 preface, garbage: net/http decides
	}
	for i := 0; i < len(h.method); i++ {
		if !isTokenChar(h.method[i]) {
			return badHead("invalid method")
		}
	}
	if h.target[0] != '/' {
		return errHandOver // absolute-form, authority-form, "*"
	}
	for i := 0; i < len(h.target); i++ {
		if c := h.target[i]; c <= ' ' || c == 0x7f {
			return badHead("invalid request target")
		}
	}
	return nil
}

// connectionTokens records what the Connection field asks for; tokens
// other than close, keep-alive and upgrade name more hop-by-hop fields.
func (h *reqHead) connectionTokens(v string) {
	for v != "" {
		var tok string
		tok, v, _ = strings.Cut(v, ",")
		tok = trimOWS(tok)
		switch {
		case tok == "":
		case strings.EqualFold(tok, "close"):
			h.close = true
		case strings.EqualFold(tok, "keep-alive"):
			h.keepAlive = true
		case strings.EqualFold(tok, "upgrade"):
			h.special = true
		default:
			h.connNames = append(h.connNames, tok)
		}
	}
}

// parseContentLength accepts digits, or a list of identical digit runs
// ("5, 5"), as net/http does; nothing else.
func parseContentLength[T []byte | string](v T) (int64, bool) {
	n := int64(-1)
	for len(v) > 0 {
		part := v
		if i := index(v, ','); i >= 0 {
			part, v = v[:i], v[i+1:]
		} else {
			v = v[len(v):]
		}
		part = trimOWS(part)
		if len(part) == 0 || len(part) > 18 {
			return 0, false
		}
		var x int64
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			x = x*10 + int64(c-'0')
		}
		if n >= 0 && x != n {
			return 0, false
		}
		n = x
	}
	return n, n >= 0
}

func trimOWS[T []byte | string](s T) T {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// validFieldValue rejects control characters other than HTAB; obs-text
// (bytes from 0x80) is allowed, as RFC 9110 does.
func validFieldValue[T []byte | string](v T) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func index[T []byte | string](s T, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// validHost allows the characters of a reg-name, an IP literal and a port.
func validHost(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !isTokenChar(c) && c != ':' && c != '[' && c != ']' && c != ';' && c != '=' && c != ',' && c != '(' && c != ')' {
			return false
		}
	}
	return true
}

// isTokenChar reports whether c is a tchar of RFC 9110.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
