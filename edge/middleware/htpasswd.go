package middleware

import (
	"crypto/md5"  //nolint:gosec // apr1 is MD5 by definition; htpasswd files use it.
	"crypto/sha1" //nolint:gosec // {SHA} is SHA-1 by definition; htpasswd files use it.
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// errUnknownHash is returned for an htpasswd hash in a format we cannot
// check. Callers name the user, never the hash, because the hash is secret
// enough that it must not end up in logs or on the dashboard.
var errUnknownHash = errors.New("unsupported password hash format (want bcrypt $2y$, apr1 $apr1$, MD5-crypt $1$ or {SHA})")

// errMalformedHash is returned for a hash whose format is known but whose
// encoding is broken.
var errMalformedHash = errors.New("malformed password hash")

// hashKind says how a stored password is checked.
type hashKind uint8

const (
	hashBcrypt hashKind = iota + 1
	hashMD5Crypt
	hashSHA1
)

// password is one parsed htpasswd hash, decoded once at construction so the
// request path only hashes the candidate and compares.
type password struct {
	kind hashKind

	// bcrypt: the whole hash, as bcrypt.CompareHashAndPassword wants it.
	// MD5-crypt: the 22-character encoded digest.
	// SHA-1: the 20 raw digest bytes.
	want []byte

	magic string // "$apr1$" or "$1$"
	salt  string // MD5-crypt only
}

// parsePassword recognises the htpasswd hash formats Traefik 1.7 accepted
// (through abbot/go-http-auth).
func parsePassword(hash string) (password, error) {
	switch {
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		// Cost parses the whole header, so a truncated or garbled hash fails
		// here rather than on every request.
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return password{}, errMalformedHash
		}
		return password{kind: hashBcrypt, want: []byte(hash)}, nil
	case strings.HasPrefix(hash, "$apr1$"):
		return parseMD5Crypt(hash, "$apr1$")
	case strings.HasPrefix(hash, "$1$"):
		return parseMD5Crypt(hash, "$1$")
	case strings.HasPrefix(hash, "{SHA}"):
		sum, err := base64.StdEncoding.DecodeString(hash[len("{SHA}"):])
		if err != nil || len(sum) != sha1.Size {
			return password{}, errMalformedHash
		}
		return password{kind: hashSHA1, want: sum}, nil
	default:
		return password{}, errUnknownHash
	}
}

func parseMD5Crypt(hash, magic string) (password, error) {
	salt, digest, ok := strings.Cut(hash[len(magic):], "$")
	if !ok || salt == "" || len(salt) > 8 || len(digest) != 22 {
		return password{}, errMalformedHash
	}
	for i := 0; i < len(digest); i++ {
		if strings.IndexByte(cryptAlphabet, digest[i]) < 0 {
			return password{}, errMalformedHash
		}
	}
	return password{kind: hashMD5Crypt, want: []byte(digest), magic: magic, salt: salt}, nil
}

// slow reports whether checking this hash is expensive enough to be worth
// caching: bcrypt by design, MD5-crypt because of its 1000 rounds (a few
// hundred microseconds). {SHA} is a single hash, cheaper than the cache.
func (p *password) slow() bool { return p.kind == hashBcrypt || p.kind == hashMD5Crypt }

// check reports whether candidate matches. The comparisons are constant
// time so the response time does not tell how much of a guess was right.
func (p *password) check(candidate string) bool {
	switch p.kind {
	case hashBcrypt:
		return bcrypt.CompareHashAndPassword(p.want, []byte(candidate)) == nil
	case hashMD5Crypt:
		var out [22]byte
		md5Crypt(&out, candidate, p.salt, p.magic)
		return subtle.ConstantTimeCompare(out[:], p.want) == 1
	case hashSHA1:
		sum := sha1.Sum([]byte(candidate)) //nolint:gosec // format-mandated
		return subtle.ConstantTimeCompare(sum[:], p.want) == 1
	default:
		return false
	}
}

// cryptAlphabet is the base-64 alphabet of crypt(3), which differs from
// RFC 4648 in order and uses no padding.
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// md5Crypt computes Poul-Henning Kamp's MD5-crypt, which Apache calls apr1
// when the magic is "$apr1$" (the algorithm is identical; only the magic
// string mixed into the first digest differs). It writes the 22-character
// encoded digest into out.
func md5Crypt(out *[22]byte, pw, salt, magic string) {
	// The alternate sum: password, salt, password.
	alt := md5.New() //nolint:gosec // format-mandated
	alt.Write([]byte(pw))
	alt.Write([]byte(salt))
	alt.Write([]byte(pw))
	var final [md5.Size]byte
	alt.Sum(final[:0])

	d := md5.New() //nolint:gosec // format-mandated
	d.Write([]byte(pw))
	d.Write([]byte(magic))
	d.Write([]byte(salt))
	for i := len(pw); i > 0; i -= md5.Size {
		d.Write(final[:min(i, md5.Size)])
	}
	// A quirk of the original: for each bit of the length, a zero byte or
	// the first byte of the password. The reference code writes final[0]
	// right after zeroing final, so the "zero byte" is always literal.
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			d.Write([]byte{0})
		} else {
			d.Write([]byte(pw[:1]))
		}
	}
	d.Sum(final[:0])

	// 1000 rounds to slow down guessing, by 1990s standards.
	for i := 0; i < 1000; i++ {
		d.Reset()
		if i&1 != 0 {
			d.Write([]byte(pw))
		} else {
			d.Write(final[:])
		}
		if i%3 != 0 {
			d.Write([]byte(salt))
		}
		if i%7 != 0 {
			d.Write([]byte(pw))
		}
		if i&1 != 0 {
			d.Write(final[:])
		} else {
			d.Write([]byte(pw))
		}
		d.Sum(final[:0])
	}

	// The output permutes the digest bytes in groups of three, low six bits
	// first; the last group is the lone byte 11.
	groups := [5][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}}
	n := 0
	for _, g := range groups {
		v := uint(final[g[0]])<<16 | uint(final[g[1]])<<8 | uint(final[g[2]])
		for range 4 {
			out[n] = cryptAlphabet[v&0x3f]
			v >>= 6
			n++
		}
	}
	v := uint(final[11])
	for range 2 {
		out[n] = cryptAlphabet[v&0x3f]
		v >>= 6
		n++
	}
}
