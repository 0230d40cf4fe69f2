package edge

// canonicalHost returns the request host lower-cased, without port and
// trailing dot, as Traefik 1.x compares hosts. It allocates only when the
// host has upper-case letters.
func canonicalHost(host string) string {
	host = stripPort(host)
	if n := len(host); n > 0 && host[n-1] == '.' {
		host = host[:n-1]
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; 'A' <= c && c <= 'Z' {
			return toLower(host)
		}
	}
	return host
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// stripPort removes a trailing :port and the brackets of an IPv6 literal.
func stripPort(host string) string {
	if host == "" {
		return host
	}
	if host[0] == '[' {
		for i := 1; i < len(host); i++ {
			if host[i] == ']' {
				return host[1:i]
			}
		}
		return host
	}
	colon := -1
	for i := len(host) - 1; i >= 0; i-- {
		c := host[i]
		if c == ':' {
			if colon >= 0 {
				return host // a bare IPv6 address: no port to strip
			}
			colon = i
		}
	}
	if colon >= 0 {
		return host[:colon]
	}
	return host
}
