package trace_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
)

// runKnownExchange plays this exchange between a, b and c, one step at a
// time, and returns the recorder:
//
//	a         b         c
//	a1 start  |         c1 alone
//	a2 --m1-> b1        |
//	|         b2 --m2-> c2
//	a3 <------|---m3--- c3
//	|         b3 done   |
func runKnownExchange(t *testing.T) *trace.Recorder {
	rec := trace.NewRecorder()
	a, b, c := rec.Node("a"), rec.Node("b"), rec.Node("c")
	ab, bc, ca := newLink(t, a, b, transport.Faults{}, transport.Faults{}),
		newLink(t, b, c, transport.Faults{}, transport.Faults{}),
		newLink(t, c, a, transport.Faults{}, transport.Faults{})
	defer ab.close()
	defer bc.close()
	defer ca.close()

	a.Log("start")       // a1
	c.Log("alone")       // c1
	send(t, ab.ab, "m1") // a2
	recv(t, ab.ba, "m1") // b1
	send(t, bc.ab, "m2") // b2
	recv(t, bc.ba, "m2") // c2
	send(t, ca.ab, "m3") // c3
	recv(t, ca.ba, "m3") // a3
	b.Log("done")        // b3
	return rec
}

func TestHappensBeforeOfKnownExchange(t *testing.T) {
	t.Parallel()
	events := runKnownExchange(t).Events()
	name := map[int]string{}
	count := map[string]int{}
	for i, e := range events {
		count[e.Node]++
		name[i] = fmt.Sprintf("%s%d", e.Node, count[e.Node])
	}
	require.Len(t, events, 9, "events: %v", events)

	// Every pair that happens before, worked out by hand from the picture.
	want := map[string]bool{}
	for _, p := range [][2]string{
		{"a1", "a2"}, {"a1", "a3"}, {"a2", "a3"}, {"b1", "b2"}, {"b1", "b3"}, {"b2", "b3"},
		{"c1", "c2"}, {"c1", "c3"}, {"c2", "c3"},
		{"a1", "b1"}, {"a1", "b2"}, {"a1", "b3"}, {"a1", "c2"}, {"a1", "c3"},
		{"a2", "b1"}, {"a2", "b2"}, {"a2", "b3"}, {"a2", "c2"}, {"a2", "c3"},
		{"b1", "c2"}, {"b1", "c3"}, {"b1", "a3"}, {"b2", "c2"}, {"b2", "c3"}, {"b2", "a3"},
		{"c1", "a3"}, {"c2", "a3"}, {"c3", "a3"},
	} {
		want[p[0]+"<"+p[1]] = true
	}
	for i, e := range events {
		for j, f := range events {
			key := name[i] + "<" + name[j]
			assert.Equal(t, want[key], e.HappensBefore(f), "%s: clocks %v, %v", key, e.Clock, f.Clock)
		}
	}
	requireClocksMatchCausality(t, events)

	// The clocks themselves, as the exchange dictates.
	wantClocks := map[string]trace.VectorClock{
		"a1": {"a": 1}, "c1": {"c": 1}, "a2": {"a": 2}, "b1": {"a": 2, "b": 1},
		"b2": {"a": 2, "b": 2}, "c2": {"a": 2, "b": 2, "c": 2}, "c3": {"a": 2, "b": 2, "c": 3},
		"a3": {"a": 3, "b": 2, "c": 3}, "b3": {"a": 2, "b": 3},
	}
	for i, e := range events {
		assert.Equal(t, wantClocks[name[i]], e.Clock, name[i])
	}
	// Concurrency, both ways round.
	idx := map[string]int{}
	for i := range events {
		idx[name[i]] = i
	}
	for _, p := range [][2]string{{"a1", "c1"}, {"b3", "c3"}, {"b3", "a3"}, {"c1", "b1"}} {
		e, f := events[idx[p[0]]], events[idx[p[1]]]
		assert.True(t, e.Clock.Concurrent(f.Clock), "%s || %s", p[0], p[1])
		assert.True(t, f.Clock.Concurrent(e.Clock), "%s || %s", p[1], p[0])
	}
}
