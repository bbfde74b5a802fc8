package trace

import (
	"encoding/json"
	"strconv"
)

// VectorClock is a vector clock: for each process (node) name, how many
// events of that process are known to have happened. A missing entry means
// zero, so VectorClock{} and VectorClock{"a": 0} are the same clock, and a
// nil VectorClock is the clock of "nothing has happened yet".
//
// The rules, for a process p:
//
//	local event or send:  v = v.Tick(p)
//	receive of stamp w:   v = v.Merge(w).Tick(p)
//	stamp on a message:   the v of its send event
//
// With them, event e happens before event f exactly when e's clock is
// before f's (e.HappensBefore(f)), and two events are concurrent exactly
// when neither clock is before the other. See the package documentation.
//
// Every method treats clocks as values: it never modifies its receiver or
// its argument and returns a new map where it needs one. So a clock that
// nobody writes to directly may be shared between goroutines.
type VectorClock map[string]uint64

// Order is how two vector clocks, and so two events, relate in time.
type Order int

// The four possible relations between two vector clocks v and w.
const (
	Equal      Order = iota // v and w are the same clock (the same event)
	Before                  // v happens before w
	After                   // w happens before v
	Concurrent              // neither happens before the other
)

// String returns "equal", "before", "after" or "concurrent".
func (o Order) String() string {
	switch o {
	case Equal:
		return "equal"
	case Before:
		return "before"
	case After:
		return "after"
	case Concurrent:
		return "concurrent"
	}
	return "Order(" + strconv.Itoa(int(o)) + ")"
}

// Copy returns a new clock with the same entries as v (without zero
// entries). It never returns nil.
func (v VectorClock) Copy() VectorClock {
	c := make(VectorClock, len(v))
	for node, n := range v {
		if n > 0 {
			c[node] = n
		}
	}
	return c
}

// Tick returns a copy of v with node's entry one larger: the clock of the
// next event of node.
func (v VectorClock) Tick(node string) VectorClock {
	c := v.Copy()
	c[node]++
	return c
}

// Merge returns the element-wise maximum of v and w: for every node, the
// larger of the two entries. It is the least clock that is at or after both,
// the knowledge of a process that has seen everything v and w have seen.
func (v VectorClock) Merge(w VectorClock) VectorClock {
	c := v.Copy()
	for node, n := range w {
		if n > c[node] {
			c[node] = n
		}
	}
	return c
}

// Compare reports how v relates to w. v is before w when every entry of v
// is at most the matching entry of w and at least one is smaller.
func (v VectorClock) Compare(w VectorClock) Order {
	less, greater := false, false // some entry of v is smaller, larger than w's
	for node, n := range v {
		switch m := w[node]; {
		case n < m:
			less = true
		case n > m:
			greater = true
		}
	}
	for node, m := range w {
		if _, ok := v[node]; !ok && m > 0 {
			less = true // v's missing entry is 0
		}
	}
	switch {
	case less && greater:
		return Concurrent
	case less:
		return Before
	case greater:
		return After
	}
	return Equal
}

// HappensBefore reports whether v is strictly before w: the event stamped v
// could have influenced the event stamped w.
func (v VectorClock) HappensBefore(w VectorClock) bool { return v.Compare(w) == Before }

// Concurrent reports whether neither of v and w happens before the other
// and they are not equal: no message chain links the two events.
func (v VectorClock) Concurrent(w VectorClock) bool { return v.Compare(w) == Concurrent }

// Equal reports whether v and w have the same entries, counting a missing
// entry as zero.
func (v VectorClock) Equal(w VectorClock) bool { return v.Compare(w) == Equal }

// String formats v as JSON with sorted keys and without zero entries, the
// form ShiViz reads: {"a":2,"b":1}.
func (v VectorClock) String() string {
	b, err := json.Marshal(map[string]uint64(v.Copy())) // sorts the keys
	if err != nil {
		return "{}" // unreachable: a map of strings to numbers always marshals
	}
	return string(b)
}
