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
// sums are concurrent, and keep the order of the traces given.
func MergeTraces(traces ...[]Event) []Event {
	var all []Event
	for _, t := range traces {
		all = append(all, t...)
	}
	slices.SortStableFunc(all, func(e, f Event) int { return cmp.Compare(clockSum(e.Clock), clockSum(f.Clock)) })
	return all
}

func clockSum(v VectorClock) uint64 {
	var s uint64
	for _, n := range v {
		s += n
	}
	return s
}
