package h1wire

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// The fast path parses HTTP/1.x heads itself, strictly (RFC 9112): a
// message whose framing two parsers could read differently is refused
// rather than guessed at, because that ambiguity is what request smuggling
// exploits. Anything valid but unusual is handed to net/http instead.

// ErrHandOver marks a request head the fast path leaves to net/http:
// valid or not, net/http answers it as the other design would.
var ErrHandOver = errors.New("edge: request left to net/http")

// HeadError is a request the fast path refuses with a status and closes.
type HeadError struct {
	Code int
	Why  string
}

func (e *HeadError) Error() string { return "edge: bad request head: " + e.Why }

func BadHead(why string) error { return &HeadError{Code: http.StatusBadRequest, Why: why} }

// Field is one header Field of a request head; name is canonical.
type Field struct{ Name, Value string }

// RequestHead is a parsed request head. Every string in it is a substring of
// one string per request, so parsing costs a single allocation.
type RequestHead struct {
	Method, Target string
	Minor          int // HTTP/1.<minor>
	Host           string
	Length         int64 // Content-Length; -1 when absent
	Chunked        bool
	Close          bool     // Connection: close
	KeepAlive      bool     // Connection: keep-alive (matters for HTTP/1.0)
	Special        bool     // Upgrade, Expect: net/http's business
	ConnNames      []string // other Connection tokens: more hop-by-hop fields
	Fields         []Field
}

// HasBody reports whether a body follows the head.
func (h *RequestHead) HasBody() bool { return h.Chunked || h.Length > 0 }

// Persistent reports whether the client lets the connection carry another
// request after this one.
func (h *RequestHead) Persistent() bool {
	if h.Minor == 0 {
		return h.KeepAlive && !h.Close
	}
	return !h.Close
}

// ScanHead finds the end of the head at the start of buf: it returns the
// length including the blank line, 0 when more bytes are needed, and -1
// when a line ends in a bare LF or the head starts with a blank line —
// tolerated by net/http, so handed over rather than parsed twice here.
func ScanHead(buf []byte) int {
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

// CanonicalizeNames validates every field name of the head in raw and
// rewrites it in canonical form in place, so the string made from raw
// needs no further allocation for names.
func CanonicalizeNames(raw []byte) error {
	first := bytes.IndexByte(raw, '\n') + 1
	for pos := first; pos < len(raw); {
		end := pos + bytes.IndexByte(raw[pos:], '\n') // the head ends in \n
		line := raw[pos : end-1]
		pos = end + 1
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return BadHead("obsolete line folding")
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return BadHead("field without a name")
		}
		upper := true
		for i, c := range line[:colon] {
			if !IsTokenChar(c) {
				return BadHead("invalid field name")
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

// Parse fills h from the head s (names already canonical), reusing h's
// slices. It returns a *HeadError for a head to refuse and ErrHandOver
// for one net/http should answer.
//
// Fields whose name holds an underscore are dropped unless keepUnderscore:
// CGI, WSGI and PHP backends map "-" and "_" to the same variable, so
// X_Forwarded_For would pass for the X-Forwarded-For the edge controls
// (nginx's underscores_in_headers off).
func (h *RequestHead) Parse(s string, keepUnderscore bool) error {
	*h = RequestHead{Length: -1, ConnNames: h.ConnNames[:0], Fields: h.Fields[:0]}
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
		name, value := line[:colon], TrimOWS(line[colon+1:])
		if !ValidFieldValue(value) {
			return BadHead("invalid field value")
		}
		if !keepUnderscore && strings.IndexByte(name, '_') >= 0 {
			continue
		}
		switch name {
		case "Host":
			hosts++
			if !ValidHost(value) {
				return BadHead("invalid host")
			}
			h.Host = value
		case "Content-Length":
			lengths++
			n, ok := ParseContentLength(value)
			if !ok || (lengths > 1 && n != h.Length) {
				return BadHead("invalid or conflicting Content-Length")
			}
			h.Length = n
		case "Transfer-Encoding":
			encodings++
			if encodings > 1 || !strings.EqualFold(value, "chunked") {
				return BadHead("unsupported Transfer-Encoding")
			}
			h.Chunked = true
		case "Connection":
			h.connectionTokens(value)
		case "Upgrade", "Expect":
			h.Special = true
		}
		h.Fields = append(h.Fields, Field{name, value})
	}
	switch {
	case hosts > 1:
		return BadHead("more than one Host")
	case hosts == 0 && h.Minor == 1:
		return BadHead("missing Host")
	case h.Chunked && lengths > 0:
		return BadHead("both Content-Length and Transfer-Encoding")
	case h.Chunked && h.Minor == 0:
		return BadHead("Transfer-Encoding in HTTP/1.0")
	}
	return nil
}

func (h *RequestHead) parseRequestLine(line string) error {
	sp1 := strings.IndexByte(line, ' ')
	if sp1 <= 0 {
		return ErrHandOver
	}
	rest := line[sp1+1:]
	sp2 := strings.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return ErrHandOver
	}
	h.Method, h.Target = line[:sp1], rest[:sp2]
	switch rest[sp2+1:] {
	case "HTTP/1.1":
		h.Minor = 1
	case "HTTP/1.0":
		h.Minor = 0
	default:
		return ErrHandOver // HTTP/0.9, an h2 preface, garbage: net/http decides
	}
	for i := 0; i < len(h.Method); i++ {
		if !IsTokenChar(h.Method[i]) {
			return BadHead("invalid method")
		}
	}
	if h.Target[0] != '/' {
		return ErrHandOver // absolute-form, authority-form, "*"
	}
	for i := 0; i < len(h.Target); i++ {
		if c := h.Target[i]; c <= ' ' || c == 0x7f {
			return BadHead("invalid request target")
		}
	}
	return nil
}

// connectionTokens records what the Connection field asks for; tokens
// other than close, keep-alive and upgrade name more hop-by-hop fields.
func (h *RequestHead) connectionTokens(v string) {
	for v != "" {
		var tok string
		tok, v, _ = strings.Cut(v, ",")
		tok = TrimOWS(tok)
		switch {
		case tok == "":
		case strings.EqualFold(tok, "close"):
			h.Close = true
		case strings.EqualFold(tok, "keep-alive"):
			h.KeepAlive = true
		case strings.EqualFold(tok, "upgrade"):
			h.Special = true
		default:
			h.ConnNames = append(h.ConnNames, tok)
		}
	}
}

// ParseContentLength accepts digits, or a list of identical digit runs
// ("5, 5"), as net/http does; nothing else.
func ParseContentLength[T []byte | string](v T) (int64, bool) {
	n := int64(-1)
	for len(v) > 0 {
		part := v
		if i := Index(v, ','); i >= 0 {
			part, v = v[:i], v[i+1:]
		} else {
			v = v[len(v):]
		}
		part = TrimOWS(part)
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

func TrimOWS[T []byte | string](s T) T {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// ValidFieldValue rejects control characters other than HTAB; obs-text
// (bytes from 0x80) is allowed, as RFC 9110 does.
func ValidFieldValue[T []byte | string](v T) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func Index[T []byte | string](s T, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// ValidHost allows the characters of a reg-name, an IP literal and a port.
func ValidHost(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !IsTokenChar(c) && c != ':' && c != '[' && c != ']' && c != ';' && c != '=' && c != ',' && c != '(' && c != ')' {
			return false
		}
	}
	return true
}

// IsTokenChar reports whether c is a tchar of RFC 9110.
func IsTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// ParseTarget sets u from an origin-form request target, allocating only
// for a percent-encoded one; false means it does not parse.
func ParseTarget(u *url.URL, target string) bool {
	*u = url.URL{}
	if strings.IndexByte(target, '%') >= 0 {
		p, err := url.ParseRequestURI(target)
		if err != nil {
			return false
		}
		*u = *p
		return true
	}
	path, query, ok := strings.Cut(target, "?")
	u.Path, u.RawQuery, u.ForceQuery = path, query, ok && query == ""
	return true
}
