package rule

import (
	"errors"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rule string
		want []string // substrings the error must contain
	}{
		{name: "empty", rule: "", want: []string{"empty rule"}},
		{name: "only separators", rule: " ; ;", want: []string{"empty rule"}},
		{name: "names are case-sensitive", rule: "host:a.com", want: []string{`unknown function "host"`}},
		{name: "unknown", rule: "Host:a.com;Foo:x", want: []string{`unknown function "Foo"`}},
		{name: "no colon", rule: "Host", want: []string{"Host: no arguments"}},
		{name: "no arguments", rule: "Host:", want: []string{"Host: no arguments"}},
		{name: "blank arguments", rule: "Path: , ,", want: []string{"Path: no arguments"}},
		{name: "missing name", rule: ":a.com", want: []string{`unknown function "a.com"`}},
		{name: "headers odd", rule: "Headers:X-A", want: []string{"Headers: odd number", "X-A"}},
		{name: "headers odd three", rule: "Headers:X-A,1,X-B", want: []string{"Headers: odd number"}},
		{name: "headersregexp odd", rule: "HeadersRegexp:X-A", want: []string{"HeadersRegexp: odd number"}},
		{name: "query without equals", rule: "Path: /path1;Query:param_one=true, /path2", want: []string{"Query", `"/path2"`, "key=value"}},
		{name: "query empty key", rule: "Query:=1", want: []string{"Query", "empty key"}},
		{name: "query bad template", rule: "Query:id={id:[0-9}", want: []string{"Query", `"id={id:[0-9}"`}},
		{name: "hostregexp bad regexp", rule: "HostRegexp:{sub:[a-z+}.com", want: []string{"HostRegexp", `"{sub:[a-z+}.com"`}},
		{name: "hostregexp unbalanced", rule: "HostRegexp:{sub.com", want: []string{"HostRegexp", "unbalanced braces"}},
		{name: "hostregexp escaping group", rule: "HostRegexp:{a:x)|(y}.com", want: []string{"HostRegexp", `variable "a"`}},
		{name: "path empty variable", rule: "Path:/{}", want: []string{"Path", "missing name or pattern"}},
		{name: "path empty pattern", rule: "Path:/{id:}", want: []string{"Path", "missing name or pattern"}},
		{name: "prefix unbalanced", rule: "PathPrefix:/{a", want: []string{"PathPrefix", "unbalanced braces"}},
		{name: "pathstripregex bad", rule: "PathStripRegex:/{x:(}", want: []string{"PathStripRegex", `"/{x:(}"`}},
		{name: "pathprefixstripregex bad", rule: "PathPrefixStripRegex:/{x:[}", want: []string{"PathPrefixStripRegex"}},
		{name: "headersregexp bad", rule: "HeadersRegexp:X-A,[", want: []string{"HeadersRegexp", `"["`}},
		{name: "replacepathregex no space", rule: "ReplacePathRegex:^/a", want: []string{"ReplacePathRegex", "one space"}},
		{name: "replacepathregex two spaces", rule: "ReplacePathRegex:^/a  /b", want: []string{"ReplacePathRegex", "one space"}},
		{name: "replacepathregex bad", rule: "ReplacePathRegex:[ /b", want: []string{"ReplacePathRegex", `"[ /b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Parse(tt.rule)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.rule, r)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("Parse(%q) error %v does not wrap ErrSyntax", tt.rule, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%q) error %q, want it to contain %q", tt.rule, err, w)
				}
			}
		})
	}
}

func TestParseWrapsRegexpError(t *testing.T) {
	t.Parallel()
	_, err := Parse("HeadersRegexp:X-A,(")
	if _, ok := errors.AsType[*syntax.Error](err); !ok {
		t.Errorf("Parse error %v does not wrap *syntax.Error", err)
	}
}

func TestParseValid(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		"Host:a.com;",
		"Host:a.com, ",
		"Host:a.com; ",
		" Host : a.com ",
		"Path::/x",
		"HostRegexp:{sub:[a-z]+}.example.com",
		"PathPrefix:/a/{id:[0-9]{2,3}},/b",
		"ReplacePathRegex:^/api/v2/(.*) /api/$1",
		"Query:a=,b={b:[0-9]+},c=1",
		"Host:[::1]",
	} {
		if _, err := Parse(expr); err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{in: "a, b ,c", want: []string{"a", "b", "c"}},
		{in: "a,,b, ", want: []string{"a", "b"}},
		{in: "/{id:[0-9]{2,3}},/x", want: []string{"/{id:[0-9]{2,3}}", "/x"}},
		{in: "/{a,/b", want: []string{"/{a", "/b"}},
		{in: "/a},{b", want: []string{"/a}", "{b"}},
		{in: " ", want: nil},
	}
	for _, tt := range tests {
		if got := splitArgs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLenAndString(t *testing.T) {
	t.Parallel()
	// The priorities of the Traefik 1.x documentation example.
	tests := []struct {
		rule string
		want int
	}{
		{rule: "PathPrefix:/foo;Host:foo.com", want: 28},
		{rule: "PathPrefixStrip:/foobar", want: 23},
		{rule: "PathPrefix:/foo,/bar", want: 20},
		{rule: "PathPrefix:/toto", want: 16},
		{rule: " Host: a.com ; ", want: 15},
	}
	for _, tt := range tests {
		r := mustParse(t, tt.rule)
		if got := r.Len(); got != tt.want {
			t.Errorf("Parse(%q).Len() = %d, want %d", tt.rule, got, tt.want)
		}
		if got := r.String(); got != tt.rule {
			t.Errorf("Parse(%q).String() = %q", tt.rule, got)
		}
	}
}

func TestHosts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule       string
		want       []string
		hostRegexp bool
	}{
		{rule: "Host:A.com, b.COM", want: []string{"a.com", "b.com"}},
		{rule: "Host:a.com,A.COM", want: []string{"a.com"}},
		{rule: "Host:a.com;PathPrefix:/x", want: []string{"a.com"}},
		{rule: "HostRegexp:{x}.com", want: nil, hostRegexp: true},
		{rule: "PathPrefix:/x", want: nil},
		{rule: "Host:a.com,b.com;Host:c.com,B.com", want: []string{"b.com"}},
		{rule: "Host:a.com;Host:c.com", want: []string{}},
		{rule: "Host:a.com;HostRegexp:{x}.a.com", want: []string{"a.com"}, hostRegexp: true},
	}
	for _, tt := range tests {
		r := mustParse(t, tt.rule)
		got := r.Hosts()
		if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("Parse(%q).Hosts() = %#v, want %#v", tt.rule, got, tt.want)
		}
		if r.HasHostRegexp() != tt.hostRegexp {
			t.Errorf("Parse(%q).HasHostRegexp() = %v, want %v", tt.rule, r.HasHostRegexp(), tt.hostRegexp)
		}
	}
}

func TestHostsReturnsCopy(t *testing.T) {
	t.Parallel()
	r := mustParse(t, "Host:a.com")
	r.Hosts()[0] = "evil.com"
	if got := r.Hosts()[0]; got != "a.com" {
		t.Errorf("Hosts()[0] = %q after caller modified its copy", got)
	}
}

func TestHasModifiers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule string
		want bool
	}{
		{rule: "Host:a.com;Path:/a;PathPrefix:/b;Method:GET;Headers:a,b;HeadersRegexp:a,b;Query:a=b", want: false},
		{rule: "PathStrip:/a", want: true},
		{rule: "PathPrefixStrip:/a", want: true},
		{rule: "PathStripRegex:/a", want: true},
		{rule: "PathPrefixStripRegex:/a", want: true},
		{rule: "AddPrefix:/a", want: true},
		{rule: "ReplacePath:/a", want: true},
		{rule: "ReplacePathRegex:^/a /b", want: true},
	}
	for _, tt := range tests {
		if got := mustParse(t, tt.rule).HasModifiers(); got != tt.want {
			t.Errorf("Parse(%q).HasModifiers() = %v, want %v", tt.rule, got, tt.want)
		}
	}
}
