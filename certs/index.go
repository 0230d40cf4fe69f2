package certs

import (
	"slices"
	"strings"
	"time"
)

// index is one immutable generation of the file certificates: what the
// handshake path reads without a lock. After it has been stored in
// Store.idx it must not be modified; a reload builds a new one.
type index struct {
	gen   uint64
	slots []*slot // one per configured pair, in configuration order
	// exact maps a lower-cased DNS name, wild the parent domain of a
	// "*.parent" name, to the slots whose certificate carries it, the one
	// valid longest first.
	exact map[string][]*slot
	wild  map[string][]*slot
	def   *slot // answers unknown and absent SNI; nil without pairs
}

// slot is one configured pair as served: the certificate that loaded last
// and the error of the last attempt when that failed. Immutable.
type slot struct {
	pair      int
	cur       *loaded // nil only when the pair never loaded (Inspect, a broken provided one)
	lastErr   string
	lastErrAt time.Time

	// provided is the ID of a provider certificate (SetProvided), empty
	// for a file pair; serve are the names it is served for.
	provided string
	serve    []string
}

// names are the names the slot is served for.
func (sl *slot) names() []string {
	if sl.provided != "" {
		return sl.serve
	}
	return sl.cur.names
}

// buildIndex indexes slots. def is the index of the default pair.
func buildIndex(gen uint64, slots []*slot, def int) *index {
	ix := &index{
		gen:   gen,
		slots: slots,
		exact: make(map[string][]*slot),
		wild:  make(map[string][]*slot),
	}
	if def >= 0 && def < len(slots) && slots[def].cur != nil {
		ix.def = slots[def]
	}
	for _, sl := range slots {
		if sl.cur == nil {
			continue
		}
		for _, n := range sl.names() {
			if parent, ok := strings.CutPrefix(n, "*."); ok {
				ix.wild[parent] = appendOnce(ix.wild[parent], sl)
			} else if !strings.Contains(n, "*") {
				ix.exact[n] = appendOnce(ix.exact[n], sl)
			}
		}
	}
	for _, m := range []map[string][]*slot{ix.exact, ix.wild} {
		for _, list := range m {
			slices.SortStableFunc(list, func(a, b *slot) int {
				return b.cur.status.NotAfter.Compare(a.cur.status.NotAfter)
			})
		}
	}
	return ix
}

func appendOnce(list []*slot, sl *slot) []*slot {
	if slices.Contains(list, sl) {
		return list
	}
	return append(list, sl)
}

// match finds the file certificate for a normalised SNI name: the
// unexpired exact match valid longest, else the unexpired wildcard match
// valid longest, else any expired match (fresh is then false) — an expired
// exact certificate should not hide a valid wildcard. A wildcard covers
// exactly one label: "*.example.com" covers "a.example.com", not
// "example.com" nor "a.b.example.com" (RFC 6125 §6.4.3). It does not
// allocate.
func (ix *index) match(name string, now time.Time) (sl *slot, fresh bool) {
	if name == "" {
		return nil, false
	}
	exact := ix.exact[name]
	var wild []*slot
	if i := strings.IndexByte(name, '.'); i > 0 {
		wild = ix.wild[name[i+1:]]
	}
	for _, list := range [2][]*slot{exact, wild} {
		if len(list) > 0 && now.Before(list[0].cur.status.NotAfter) {
			return list[0], true
		}
	}
	for _, list := range [2][]*slot{exact, wild} {
		if len(list) > 0 {
			return list[0], false
		}
	}
	return nil, false
}

// normalize lower-cases name and drops a trailing dot. It allocates only
// when name has upper-case letters.
func normalize(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

// status returns the Status of sl at now.
func (ix *index) status(sl *slot, now time.Time) Status {
	var st Status
	if sl.cur != nil {
		st = sl.cur.status
		st.Names = slices.Clone(st.Names)
		st.State = StateFor(st.NotBefore, st.NotAfter, now)
	} else {
		st.State = StateFailed
	}
	st.Default = sl == ix.def
	st.LastError, st.LastErrorAt = sl.lastErr, sl.lastErrAt
	if sl.provided != "" {
		describeProvided(&st, sl)
	}
	return st
}

// NamesCover reports whether a certificate for names serves name, as the
// store selects: an exact match, or a one-label wildcard ("*.example.com"
// serves "a.example.com", not "example.com" nor "a.b.example.com"). Case
// and a trailing dot are ignored.
func NamesCover(names []string, name string) bool {
	name = normalize(name)
	for _, n := range names {
		n = normalize(n)
		if n == name {
			return true
		}
		if parent, ok := strings.CutPrefix(n, "*."); ok {
			if i := strings.IndexByte(name, '.'); i > 0 && name[i+1:] == parent {
				return true
			}
		}
	}
	return false
}

// resolveDefault finds the pair TRAEFIK_DEFAULT_CERT names: a 1-based index,
// a certificate name, or the path of a certificate file. Empty means the
// first pair; -1 means no pairs at all.
func resolveDefault(spec string, pairs []Pair, slots []*slot) (int, bool) {
	if len(pairs) == 0 {
		return -1, spec == ""
	}
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return 0, true
	}
	if n, ok := parseIndex(spec); ok {
		return n - 1, n >= 1 && n <= len(pairs)
	}
	want := normalize(spec)
	for i, sl := range slots {
		if sl.cur != nil && slices.Contains(sl.cur.names, want) {
			return i, true
		}
	}
	for i, p := range pairs {
		if p.Cert.Path != "" && (p.Cert.Path == spec || strings.HasSuffix(p.Cert.Path, "/"+spec)) {
			return i, true
		}
	}
	return 0, false
}

func parseIndex(s string) (int, bool) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 1<<20 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
