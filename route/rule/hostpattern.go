package rule

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// hostPattern is one compiled HostRegexp template. HostRegexp rules are
// tried for every request whose host no exact Host rule claims, and Go's
// regexp costs a few hundred nanoseconds even on a short host. Most
// templates look like {sub:[a-z]+}.example.com, so the pattern compares
// the literal text around the variables first, which rejects other hosts
// outright, and then checks only what lies between: with a bitmap when the
// variable is one repeated character class, else with the variable's own
// regexp.
type hostPattern struct {
	prefix, suffix string         // lower-cased literal text before and after the variables
	middle         *regexp.Regexp // the variable's pattern when there is exactly one, else nil
	class          *classRun      // the same as a bitmap, when it is that simple, else nil
	full           *regexp.Regexp
}

func newHostPattern(tpl string) (*hostPattern, error) {
	full, err := compileTemplate(tpl, hostTemplate)
	if err != nil {
		return nil, err
	}
	p := &hostPattern{full: full}
	idxs, _ := braceIndices(tpl) // compileTemplate checked them
	if len(idxs) == 0 || !isASCII(tpl[:idxs[0]]) || !isASCII(tpl[idxs[len(idxs)-1]:]) {
		return p, nil
	}
	p.prefix = strings.ToLower(tpl[:idxs[0]])
	p.suffix = strings.ToLower(tpl[idxs[len(idxs)-1]:])
	if len(idxs) == 2 {
		_, patt, ok := strings.Cut(tpl[idxs[0]+1:idxs[1]-1], ":")
		if !ok {
			patt = "[^.]+"
		}
		patt = "(?i:" + patt + ")"
		if p.middle, err = regexp.Compile("^" + patt + "$"); err != nil {
			return nil, err
		}
		p.class = newClassRun(patt)
	}
	return p, nil
}

// match reports whether the canonical (lower-case) host matches. The
// literal shortcut is exact for ASCII hosts only: (?i) also folds "k" to
// the Kelvin sign and "s" to the long s, so other hosts go to the full
// regexp.
func (p *hostPattern) match(host string) bool {
	if len(host) < len(p.prefix)+len(p.suffix) ||
		!strings.HasPrefix(host, p.prefix) || !strings.HasSuffix(host, p.suffix) {
		return !isASCII(host) && p.full.MatchString(host)
	}
	mid := host[len(p.prefix) : len(host)-len(p.suffix)]
	if p.class != nil {
		if matched, ok := p.class.match(mid); ok {
			return matched
		}
	}
	if p.middle != nil {
		return p.middle.MatchString(mid)
	}
	return p.full.MatchString(host)
}

// classRun is a pattern of the form class+ or class* (say [a-z0-9-]+, or
// the default [^.]+) reduced to a bitmap over ASCII.
type classRun struct {
	set [2]uint64 // bit c is set when ASCII byte c is in the class
	min int       // 1 for +, 0 for *
}

// newClassRun returns nil unless patt, once parsed and simplified, is one
// character class (or any character) repeated with + or *.
func newClassRun(patt string) *classRun {
	re, err := syntax.Parse(patt, syntax.Perl)
	if err != nil {
		return nil
	}
	re = uncapture(re.Simplify())
	c := &classRun{}
	switch re.Op {
	case syntax.OpPlus:
		c.min = 1
	case syntax.OpStar:
	default:
		return nil
	}
	sub := uncapture(re.Sub[0])
	switch sub.Op {
	case syntax.OpCharClass:
		// Parse has already added the case folds of every range.
		for i := 0; i+1 < len(sub.Rune); i += 2 {
			for r := sub.Rune[i]; r <= sub.Rune[i+1] && r < 0x80; r++ {
				c.add(byte(r))
			}
		}
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		for b := range 0x80 {
			if b != '\n' || sub.Op == syntax.OpAnyChar {
				c.add(byte(b))
			}
		}
	default:
		return nil
	}
	return c
}

func uncapture(re *syntax.Regexp) *syntax.Regexp {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	return re
}

func (c *classRun) add(b byte) {
	c.set[b>>6] |= 1 << (b & 63)
}

// match reports whether s is a run of class members; ok is false when s
// holds non-ASCII bytes, which the bitmap cannot judge.
func (c *classRun) match(s string) (matched, ok bool) {
	if len(s) < c.min {
		return false, true
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= 0x80 {
			return false, false
		}
		if c.set[b>>6]&(1<<(b&63)) == 0 {
			return false, true
		}
	}
	return true, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
