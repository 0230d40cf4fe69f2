package secrets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestValueNeverPrintsSecret(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-DO-NOT-LEAK"
	values := []Value{
		{Setting: "A", Kind: Literal, data: []byte(secret)},
		{Setting: "B", Kind: PEM, data: []byte("-----BEGIN X-----\n" + secret + "\n-----END X-----\n")},
		{Setting: "C", Kind: File, Path: "/run/secrets/c", data: []byte(secret)},
	}
	type holder struct {
		Name string
		V    Value
		P    *Value
	}
	for _, v := range values {
		t.Run(v.Setting, func(t *testing.T) {
			t.Parallel()
			var outs []string
			for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
				outs = append(outs, fmt.Sprintf(f, v), fmt.Sprintf(f, holder{"h", v, &v}), fmt.Sprintf(f, []Value{v}))
			}
			outs = append(outs, fmt.Sprint(v), fmt.Sprintln(v), v.String(), v.GoString())

			var buf bytes.Buffer
			for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
				l := slog.New(h)
				l.Info("msg", "value", v, "ptr", &v, "any", slog.AnyValue(v))
				l.Info("msg", slog.Any("holder", holder{"h", v, &v}))
			}
			outs = append(outs, buf.String())

			j, err := json.Marshal(holder{"h", v, &v})
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, string(j))

			for _, o := range outs {
				if strings.Contains(o, secret) || strings.Contains(o, fmt.Sprintf("%x", secret)) {
					t.Errorf("output leaks the secret: %s", o)
				}
			}
			if !strings.Contains(fmt.Sprint(v), v.Kind.String()) && v.Kind != PEM {
				t.Errorf("String() = %q does not describe the kind", v)
			}
			if string(v.Bytes()) == "" {
				t.Error("Bytes() is empty")
			}
		})
	}
}

func TestValueString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    Value
		want string
	}{
		{Value{}, "unset"},
		{Value{Kind: File, Path: "/run/secrets/wild_crt"}, "file /run/secrets/wild_crt"},
		{Value{Kind: PEM}, "inline PEM"},
		{Value{Kind: Literal}, "literal (redacted)"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(tt.v); got != tt.want {
			t.Errorf("Sprint = %q, want %q", got, tt.want)
		}
	}
	if !(Value{}).IsZero() || (Value{Kind: Literal}).IsZero() {
		t.Error("IsZero wrong")
	}
}

func TestBytesIsACopy(t *testing.T) {
	t.Parallel()
	v := Value{Kind: Literal, data: []byte("abc")}
	b := v.Bytes()
	b[0] = 'X'
	if string(v.Bytes()) != "abc" {
		t.Fatal("Bytes exposes the internal slice")
	}
}
