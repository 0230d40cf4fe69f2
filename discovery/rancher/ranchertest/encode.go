package ranchertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// headKeys are written first, in this order, as Cattle's WrappedResource
// does ("self" leads the links); every other key follows in alphabetical
// order (Jackson's TreeMap).
// Nested objects such as launchConfig start with "type" the same way.
var headKeys = [...]string{"id", "type", "self", "links", "actions", "baseType", "name", "state", "resourceId", "resourceType"}

// encodeJSON writes v as compact JSON with Cattle's key order. Slashes are
// not escaped here; REST bodies go through escapeSlashes afterwards because
// websocket frames must stay unescaped (reference §4.2).
func encodeJSON(buf *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case map[string]any:
		encodeObject(buf, x)
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		encodeObject(buf, m)
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			encodeJSON(buf, e)
		}
		buf.WriteByte(']')
	case []string:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			encodeString(buf, e)
		}
		buf.WriteByte(']')
	case string:
		encodeString(buf, x)
	case json.Number:
		buf.WriteString(x.String())
	case bool:
		if x {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case int:
		fmt.Fprintf(buf, "%d", x)
	case int64:
		fmt.Fprintf(buf, "%d", x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			// Only the fake's own values reach here; a failure is a bug.
			panic(fmt.Sprintf("ranchertest: cannot encode %T: %v", x, err))
		}
		buf.Write(b)
	}
}

func encodeObject(buf *bytes.Buffer, m map[string]any) {
	buf.WriteByte('{')
	first := true
	write := func(k string, v any) {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		encodeString(buf, k)
		buf.WriteByte(':')
		encodeJSON(buf, v)
	}
	for _, k := range headKeys {
		if v, ok := m[k]; ok {
			write(k, v)
		}
	}
	rest := make([]string, 0, len(m))
	for k := range m {
		if !slices.Contains(headKeys[:], k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		write(k, m[k])
	}
	buf.WriteByte('}')
}

func encodeString(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			buf.WriteByte('\\')
			buf.WriteRune(r)
		case r == '\n':
			buf.WriteString(`\n`)
		case r == '\r':
			buf.WriteString(`\r`)
		case r == '\t':
			buf.WriteString(`\t`)
		case r < 0x20:
			buf.WriteString(`\u00`)
			buf.WriteByte(hex[r>>4])
			buf.WriteByte(hex[r&0xf])
		default:
			// Jackson does not escape <, > and &, unlike encoding/json.
			buf.WriteRune(r)
		}
	}
	buf.WriteByte('"')
}

// escapeSlashes turns every "/" into "\/" as gdapi's EscapeForwardSlash
// does. Outside strings JSON has no slashes, so a byte replace is exact.
func escapeSlashes(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("/"), []byte(`\/`))
}
