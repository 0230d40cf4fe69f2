package discovery

import (
	"slices"
	"testing"
)

func TestSplitConstraints(t *testing.T) {
	for raw, want := range map[string][]string{
		"":                                 nil,
		"tag==api":                         {"tag==api"},
		"tag==api, tag!=internal":          {"tag==api", "tag!=internal"},
		`"tag==api"`:                       {"tag==api"},
		`"tag==api","tag!=internal"`:       {"tag==api", "tag!=internal"},
		`[ "tag==api" , 'tag!=internal' ]`: {"tag==api", "tag!=internal"},
	} {
		if got := SplitConstraints(raw); !slices.Equal(got, want) {
			t.Errorf("SplitConstraints(%q) = %q, want %q", raw, got, want)
		}
	}
}

// TestConstraintsMatch follows Traefik 1.7's TestProviderServiceFilter and
// MatchConstraints: == needs a matching tag, != needs none, all are ANDed.
func TestConstraintsMatch(t *testing.T) {
	cs, err := ParseConstraints([]string{"tag==ch*se", "tag!=internal"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tags []string
		want bool
	}{
		{[]string{"cheese"}, true},
		{[]string{"chose", "web"}, true},
		{[]string{"cheese", "internal"}, false},
		{[]string{"web"}, false},
		{nil, false},
	} {
		if got := cs.Match(tc.tags); got != tc.want {
			t.Errorf("Match(%q) = %v, want %v", tc.tags, got, tc.want)
		}
	}
	if !(Constraints(nil)).Match(nil) {
		t.Error("no constraints must match anything")
	}
	for _, bad := range []string{"tag=api", "label==x", "tag=="} {
		if _, err := ParseConstraint(bad); err == nil {
			t.Errorf("ParseConstraint(%q) accepted", bad)
		}
	}
}
