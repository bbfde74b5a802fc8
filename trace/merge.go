package trace

import (
	"cmp"
	"slices"
)

// MergeTraces combines the traces of several processes, each with its own
// Recorder (read back with ReadJSON, say), into one trace that renders as
// one diagram: the arrows of messages between the processes join up.
//
// The result lists every event of every trace in an order that respects
// happens-before, so that each send comes before its receives: events are
// sorted by the sum of their clock's entries, which grows along every
// causal chain (if e -> f, every entry of f's clock is at least e's and
// one is larger). Events of one node keep their order. Events with equal
// sums are concurrent, and keep the order of the traces given. A note that
// is no event of a process (a drop, a duplicate, a change of the network)
// stays behind the event it followed in its own trace.
func MergeTraces(traces ...[]Event) []Event {
	type keyed struct {
		e   Event
		key uint64
	}
	var all []keyed
	for _, t := range traces {
		var key uint64 // a note's: the key of the event before it
		for _, e := range t {
			if e.Kind.process() {
				key = clockSum(e.Clock)
			}
			all = append(all, keyed{e, key})
		}
	}
	slices.SortStableFunc(all, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	out := make([]Event, len(all))
	for i, k := range all {
		out[i] = k.e
	}
	return out
}

func clockSum(v VectorClock) uint64 {
	var s uint64
	for _, n := range v {
		s += n
	}
	return s
}
