package rule

import "testing"

func TestMatchHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule string
		host string
		want bool
	}{
		{rule: "Host:a.com;Path:/x", host: "a.com", want: true},
		{rule: "Host:a.com;Path:/x", host: "b.com", want: false},
		{rule: "HostRegexp:{sub:[a-z]+}.a.com;Method:POST", host: "x.a.com", want: true},
		{rule: "HostRegexp:{sub:[a-z]+}.a.com", host: "1.a.com", want: false},
		{rule: "Host:a.com;HostRegexp:{x}.com", host: "a.com", want: true},
		{rule: "PathPrefix:/api", host: "anything.example", want: true},
	}
	for _, tt := range tests {
		if got := mustParse(t, tt.rule).MatchHost(tt.host); got != tt.want {
			t.Errorf("Parse(%q).MatchHost(%q) = %v, want %v", tt.rule, tt.host, got, tt.want)
		}
	}
}
