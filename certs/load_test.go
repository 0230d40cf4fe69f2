package certs

import (
	"bytes"
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rancher-edge/edge/secrets"
)

func TestNewRejectsBadPairs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	goodC, goodK, _ := mint(t, certOpts{names: []string{"good.test"}})
	_, otherK, _ := mint(t, certOpts{names: []string{"other.test"}})
	_, _, root := mint(t, certOpts{names: []string{"Root"}, ca: true})
	_, _, inter := mint(t, certOpts{names: []string{"Intermediate"}, ca: true, parent: root})
	leafC, leafK, _ := mint(t, certOpts{names: []string{"leaf.test"}, parent: inter})

	write(t, filepath.Join(dir, "good_crt"), goodC)
	write(t, filepath.Join(dir, "other_key"), otherK)
	write(t, filepath.Join(dir, "garbage"), []byte("this is not a certificate"))

	inOrder := bytes.Join([][]byte{leafC, inter.pem, root.pem}, nil)
	outOfOrder := bytes.Join([][]byte{leafC, root.pem, inter.pem}, nil)

	tests := []struct {
		name string
		pair Pair
		want []string // substrings of the error
	}{
		{
			name: "key mismatch names the setting and path",
			pair: filePair(t, "TRAEFIK_SSL_CERT[0] (/x/good_crt)", filepath.Join(dir, "good_crt"), filepath.Join(dir, "other_key")),
			want: []string{"TRAEFIK_SSL_CERT[0] (/x/good_crt)", "private key (file " + filepath.Join(dir, "other_key") + ") does not match"},
		},
		{
			name: "chain out of order",
			pair: inlinePair(t, "TRAEFIK_SSL_CRT", outOfOrder, leafK),
			want: []string{"TRAEFIK_SSL_CRT: certificate (inline PEM): chain out of order", "certificate 1 (leaf.test) is not signed by certificate 2 (Root)"},
		},
		{
			name: "not PEM",
			pair: filePair(t, "P", filepath.Join(dir, "garbage"), filepath.Join(dir, "other_key")),
			want: []string{"P: certificate (file " + filepath.Join(dir, "garbage") + "): not PEM"},
		},
		{
			name: "key is a certificate",
			pair: inlinePair(t, "K", goodC, goodC),
			want: []string{"K: private key (inline PEM): no PRIVATE KEY PEM block"},
		},
		{
			name: "cert is a key",
			pair: inlinePair(t, "C", goodK, goodK),
			want: []string{"C: certificate (inline PEM): no CERTIFICATE PEM block"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(Config{Pairs: []Pair{tt.pair}})
			if err == nil {
				t.Fatal("New accepted a bad pair")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, secret := range [][]byte{otherK, goodK, leafK} {
				body := strings.Split(string(secret), "\n")[1]
				if strings.Contains(err.Error(), body) {
					t.Errorf("error %q contains key material", err)
				}
			}
		})
	}

	t.Run("in order chain loads", func(t *testing.T) {
		t.Parallel()
		s, err := New(Config{Pairs: []Pair{inlinePair(t, "chain", inOrder, leafK)}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.GetCertificate(&tls.ClientHelloInfo{ServerName: "leaf.test"})
		if err != nil || len(c.Certificate) != 3 {
			t.Fatalf("chain of %d, %v", len(c.Certificate), err)
		}
	})

	t.Run("every bad pair is listed", func(t *testing.T) {
		t.Parallel()
		_, err := New(Config{Pairs: []Pair{
			inlinePair(t, "pair-one", goodC, goodK),
			inlinePair(t, "pair-two", goodC, otherK),
			inlinePair(t, "pair-three", outOfOrder, leafK),
		}})
		if err == nil || strings.Contains(err.Error(), "pair-one") ||
			!strings.Contains(err.Error(), "pair-two:") || !strings.Contains(err.Error(), "pair-three:") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	err := Config{
		Pairs:   []Pair{{Name: "a"}, {Cert: secrets.Value{Setting: "S", Kind: secrets.File, Path: "/p"}}},
		Default: "3",
		Poll:    -1,
	}.Validate()
	for _, w := range []string{"a: certificate is not set", "a: private key is not set", "S (/p): private key is not set", "TRAEFIK_DEFAULT_CERT: 3", "Poll"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate() = %v, lacks %q", err, w)
		}
	}
}

func TestDefaultUnknown(t *testing.T) {
	t.Parallel()
	c, k, _ := mint(t, certOpts{names: []string{"a.test"}})
	_, err := New(Config{Pairs: []Pair{inlinePair(t, "a", c, k)}, Default: "nope.test"})
	if err == nil || !strings.Contains(err.Error(), `TRAEFIK_DEFAULT_CERT: "nope.test" matches no certificate`) {
		t.Fatalf("err = %v", err)
	}
}

func TestDefaultByPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ac, ak, _ := mint(t, certOpts{names: []string{"a.test"}})
	bc, bk, _ := mint(t, certOpts{names: []string{"b.test"}})
	write(t, filepath.Join(dir, "a_crt"), ac)
	write(t, filepath.Join(dir, "a_key"), ak)
	write(t, filepath.Join(dir, "b_crt"), bc)
	write(t, filepath.Join(dir, "b_key"), bk)
	a := filePair(t, "", filepath.Join(dir, "a_crt"), filepath.Join(dir, "a_key"))
	b := filePair(t, "", filepath.Join(dir, "b_crt"), filepath.Join(dir, "b_key"))
	for _, def := range []string{filepath.Join(dir, "b_crt"), "b_crt", "b.test"} {
		s, err := New(Config{Pairs: []Pair{a, b}, Default: def})
		if err != nil {
			t.Fatal(err)
		}
		if st := s.Status(); !st[1].Default || st[0].Default {
			t.Errorf("Default %q: flags %v %v", def, st[0].Default, st[1].Default)
		}
	}
}

func TestStatusFields(t *testing.T) {
	t.Parallel()
	loadedAt := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	_, _, ca := mint(t, certOpts{names: []string{"Test CA"}, ca: true})
	c, k, _ := mint(t, certOpts{
		names: []string{"a.test", "*.a.test"}, serial: 0xabc, parent: ca,
		notBefore: loadedAt.Add(-24 * time.Hour), notAfter: loadedAt.Add(10 * 24 * time.Hour),
	})
	s, err := New(Config{Pairs: []Pair{inlinePair(t, "TRAEFIK_SSL_CRT (inline)", c, k)}, Now: func() time.Time { return loadedAt }})
	if err != nil {
		t.Fatal(err)
	}
	st := s.Status()[0]
	leaf, _ := s.GetCertificate(&tls.ClientHelloInfo{})
	if len(st.ID) != 64 || st.ID != st.SHA256 || leaf == nil {
		t.Errorf("ID %q SHA256 %q", st.ID, st.SHA256)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Names", strings.Join(st.Names, ","), "a.test,*.a.test"},
		{"Source", st.Source, "file"},
		{"Origin", st.Origin, "TRAEFIK_SSL_CRT (inline)"},
		{"Issuer", st.Issuer, "Test CA (Edge Test)"},
		{"Serial", st.Serial, "abc"},
		{"KeyType", st.KeyType, "ECDSA"},
		{"KeyBits", st.KeyBits, 256},
		{"SignatureAlgorithm", st.SignatureAlgorithm, "ECDSA-SHA256"},
		{"State", st.State, StateValid},
		{"Default", st.Default, true},
		{"LastRenewal", st.LastRenewal, loadedAt},
		{"LastError", st.LastError, ""},
		{"NotAfter", st.NotAfter, loadedAt.Add(10 * 24 * time.Hour)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestInspect(t *testing.T) {
	t.Parallel()
	c, k, _ := mint(t, certOpts{names: []string{"a.test"}})
	_, otherK, _ := mint(t, certOpts{names: []string{"b.test"}})
	bad := inlinePair(t, "", c, otherK)
	st := Inspect(Config{Pairs: []Pair{inlinePair(t, "good", c, k), bad}})
	if len(st) != 2 || st[0].State != StateValid || !st[0].Default {
		t.Fatalf("Inspect = %+v", st)
	}
	if st[1].State != StateFailed || st[1].ID != "file:"+bad.Cert.Setting || !strings.Contains(st[1].LastError, "does not match") {
		t.Errorf("failed pair = %+v", st[1])
	}
}

func TestSelfSigned(t *testing.T) {
	t.Parallel()
	c, k, err := SelfSigned([]string{"*.demo.localhost", "127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Pairs: []Pair{inlinePair(t, "demo", c, k)}})
	if err != nil {
		t.Fatal(err)
	}
	st := s.Status()[0]
	if strings.Join(st.Names, ",") != "*.demo.localhost,127.0.0.1" || st.KeyType != "ECDSA" || st.KeyBits != 256 {
		t.Errorf("status %+v", st)
	}
	if !s.Covers("app.demo.localhost") {
		t.Error("wildcard not covered")
	}
	if _, _, err := SelfSigned(nil, time.Hour); err == nil {
		t.Error("no names accepted")
	}
}
