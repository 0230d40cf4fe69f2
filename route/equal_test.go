package route

import (
	"reflect"
	"testing"
	"time"
)

// fill sets every field reachable from v, through pointers, slices and
// maps, to a value that depends on seed: two fills with one seed are equal
// and share no memory; fills with different seeds differ in every leaf.
func fill(t *testing.T, v reflect.Value, seed int) {
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(time.Date(2020, 1, 1, 0, 0, seed, 0, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("v" + string(rune('a'+seed)))
	case reflect.Bool:
		v.SetBool(seed%2 == 1)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(seed + 1))
	case reflect.Uint8, reflect.Uint64:
		v.SetUint(uint64(seed + 1))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), seed)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(t, v.Index(0), seed)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(t, k, 0) // the same key, a different value
		fill(t, e, seed)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i), seed)
		}
	default:
		t.Fatalf("fill: %s is not handled; teach fill and Equal about it", v.Type())
	}
}

// TestServiceEqualSeesEveryField changes each field of a fully set
// Service, down to the leaves of its nested settings, and expects Equal to
// notice: a field Equal forgets would leave a changed route compiled as it
// was.
func TestServiceEqualSeesEveryField(t *testing.T) {
	var a, b Service
	fill(t, reflect.ValueOf(&a).Elem(), 0)
	fill(t, reflect.ValueOf(&b).Elem(), 0)
	if !a.Equal(&b) || !b.Equal(&a) {
		t.Fatal("two services filled alike are not Equal")
	}
	if !a.Equal(&a) {
		t.Fatal("a service is not Equal to itself")
	}
	n := changeEachLeaf(t, reflect.ValueOf(&b).Elem(), "Service", func(path string) {
		if a.Equal(&b) || b.Equal(&a) {
			t.Errorf("%s changed and Equal did not notice", path)
		}
	})
	if !a.Equal(&b) {
		t.Fatal("every leaf restored and Equal still differs")
	}
	if n < 60 {
		t.Fatalf("only %d leaves visited", n)
	}
}

// leaves calls each on every leaf of v, a filled value: the fields of
// structs, down through pointers and the first element of slices; times
// and maps count as leaves.
func leaves(v reflect.Value, path string, each func(reflect.Value, string)) {
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		each(v, path)
	case v.Kind() == reflect.Pointer:
		leaves(v.Elem(), path, each)
	case v.Kind() == reflect.Slice:
		leaves(v.Index(0), path+"[0]", each)
	case v.Kind() == reflect.Map:
		each(v, path) // a map's values are changed whole
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			leaves(v.Field(i), path+"."+v.Type().Field(i).Name, each)
		}
	default:
		each(v, path)
	}
}

// changeEachLeaf changes each leaf of v, a filled value, in turn, calls
// check with its path, and puts it back; it returns how many leaves it
// changed.
func changeEachLeaf(t *testing.T, v reflect.Value, path string, check func(path string)) int {
	n := 0
	leaves(v, path, func(leaf reflect.Value, path string) {
		n++
		old := reflect.New(leaf.Type()).Elem()
		old.Set(leaf)
		fill(t, leaf, 1)
		check(path)
		leaf.Set(old)
	})
	return n
}

// TestSameRoutesSeesEveryField: like Equal, SameRoutes must notice a
// change anywhere in what a snapshot says, or a provider would not
// publish it.
func TestSameRoutesSeesEveryField(t *testing.T) {
	var a, b Snapshot
	fill(t, reflect.ValueOf(&a).Elem(), 0)
	fill(t, reflect.ValueOf(&b).Elem(), 0)
	if !SameRoutes(&a, &b) {
		t.Fatal("two snapshots filled alike are not the same")
	}
	ignored := map[string]bool{"Snapshot.Provider": true, "Snapshot.Fingerprint": true, "Snapshot.Built": true}
	n := changeEachLeaf(t, reflect.ValueOf(&b).Elem(), "Snapshot", func(path string) {
		if same := SameRoutes(&a, &b); same != ignored[path] {
			t.Errorf("%s changed: SameRoutes = %v", path, same)
		}
	})
	if n < 70 {
		t.Fatalf("only %d leaves visited", n)
	}
	b.Services = append(b.Services, b.Services[0])
	if SameRoutes(&a, &b) {
		t.Error("a snapshot with one more service is the same")
	}
}

// TestServiceEqualNilAndUnset: an unset optional setting equals another
// unset one and differs from a set one, however empty.
func TestServiceEqualNilAndUnset(t *testing.T) {
	a := Service{Name: "a", Servers: []Server{{URL: "http://10.0.0.1:80", Weight: 1}}}
	b := a
	b.Servers = []Server{{URL: "http://10.0.0.1:80", Weight: 1}}
	if !a.Equal(&b) {
		t.Fatal("equal services with distinct server slices differ")
	}
	b.Redirect = &Redirect{}
	if a.Equal(&b) || b.Equal(&a) {
		t.Fatal("an empty Redirect equals none")
	}
	b.Redirect, b.EntryPoints = nil, []string{}
	if !a.Equal(&b) {
		t.Fatal("empty and nil entry points differ")
	}
}
