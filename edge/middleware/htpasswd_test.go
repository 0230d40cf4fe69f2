package middleware

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// md5CryptVectors were produced by OpenSSL 3 (`openssl passwd -apr1 -salt S P`
// and `openssl passwd -1 -salt S P`), which implements the same algorithm
// as Apache's htpasswd -m.
func md5CryptVectors() []struct{ hash, password string } {
	return []struct{ hash, password string }{
		{"$apr1$saltsalt$NBMPZFGR7yazCdGvlWJji1", "test"},
		{"$apr1$r31....$kMmt8Ia8qcWk4vKKEhpgx1", "password"},
		{"$apr1$ab$S8K6Sgp3W8c9Jb6LxgywZ.", ""},
		{"$apr1$xyz$V9yqMSEe95XxrBxFutSTt.", "a much longer password than sixteen bytes, really"},
		{"$1$saltsalt$tTWg0JeO/sYmHvtKmZE8c.", "test"},
	}
}

func TestMD5CryptVectors(t *testing.T) {
	t.Parallel()
	for _, v := range md5CryptVectors() {
		t.Run(v.hash, func(t *testing.T) {
			t.Parallel()
			p, err := parsePassword(v.hash)
			if err != nil {
				t.Fatalf("parsePassword: %v", err)
			}
			if !p.check(v.password) {
				t.Errorf("check(%q) = false, want true", v.password)
			}
			if p.check(v.password + "x") {
				t.Errorf("check(%q) = true, want false", v.password+"x")
			}
		})
	}
}

// TestMD5CryptAgainstOpenSSL cross-checks more passwords with the local
// openssl binary, when there is one.
func TestMD5CryptAgainstOpenSSL(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	for _, pw := range []string{"test", "x", strings.Repeat("long", 20), "päss wörd"} {
		out, err := exec.Command(bin, "passwd", "-apr1", pw).Output()
		if err != nil {
			t.Skipf("openssl passwd -apr1: %v", err)
		}
		hash := strings.TrimSpace(string(out))
		p, err := parsePassword(hash)
		if err != nil {
			t.Fatalf("parsePassword(%q): %v", hash, err)
		}
		if !p.check(pw) {
			t.Errorf("%q does not verify %q", hash, pw)
		}
	}
}

func TestParsePassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		hash    string
		wantErr error
		ok      string // a password that must verify, when wantErr is nil
	}{
		{name: "sha", hash: "{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=", ok: "test"},
		{name: "sha bad base64", hash: "{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M", wantErr: errMalformedHash},
		{name: "sha wrong length", hash: "{SHA}dGVzdA==", wantErr: errMalformedHash},
		{name: "apr1 short digest", hash: "$apr1$saltsalt$NBMPZFGR7yazCdGvl", wantErr: errMalformedHash},
		{name: "apr1 no salt", hash: "$apr1$$NBMPZFGR7yazCdGvlWJji1", wantErr: errMalformedHash},
		{name: "apr1 bad alphabet", hash: "$apr1$saltsalt$NBMPZFGR7yazCdGvlWJji!", wantErr: errMalformedHash},
		{name: "bcrypt truncated", hash: "$2y$10$abc", wantErr: errMalformedHash},
		{name: "plain text", hash: "secret", wantErr: errUnknownHash},
		{name: "sha512 crypt", hash: "$6$salt$abcdef", wantErr: errUnknownHash},
		{name: "empty", hash: "", wantErr: errUnknownHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := parsePassword(tt.hash)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && !p.check(tt.ok) {
				t.Errorf("check(%q) = false, want true", tt.ok)
			}
		})
	}
}

func BenchmarkMD5Crypt(b *testing.B) {
	p, err := parsePassword(md5CryptVectors()[0].hash)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.check("test")
	}
}
