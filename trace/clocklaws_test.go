package trace_test

import (
	"math/rand/v2"
	"testing"

	"github.com/distsys-kit/distsys/trace"
)

// lawNodes are the processes the law tests draw clocks over: few, so that
// random clocks are often ordered, not only concurrent.
var lawNodes = []string{"a", "b", "c"}

// clockFrom builds a clock from bytes: one entry per node, each 0..3.
func clockFrom(b []byte) vc {
	v := vc{}
	for i, node := range lawNodes {
		if i < len(b) {
			v[node] = uint64(b[i] % 4)
		}
	}
	return v
}

// checkClockLaws checks the laws of vector clocks on three clocks and
// reports every one broken.
func checkClockLaws(t *testing.T, u, v, w vc) {
	t.Helper()
	// Happens-before is a strict partial order.
	if v.HappensBefore(v) {
		t.Errorf("irreflexive: %v before itself", v)
	}
	if u.HappensBefore(v) && v.HappensBefore(u) {
		t.Errorf("asymmetric: %v and %v each before the other", u, v)
	}
	if u.HappensBefore(v) && v.HappensBefore(w) && !u.HappensBefore(w) {
		t.Errorf("transitive: %v < %v < %v but not %v < %v", u, v, w, u, w)
	}
	// Exactly one relation holds, and each has its mirror image.
	mirror := map[trace.Order]trace.Order{trace.Equal: trace.Equal, trace.Before: trace.After, trace.After: trace.Before, trace.Concurrent: trace.Concurrent}
	if got, want := v.Compare(u), mirror[u.Compare(v)]; got != want {
		t.Errorf("mirror: %v.Compare(%v) = %v, want %v", v, u, got, want)
	}
	if u.Concurrent(v) != v.Concurrent(u) {
		t.Errorf("concurrency not symmetric for %v and %v", u, v)
	}
	// Merge is the element-wise max: its entries, and so its laws.
	m := u.Merge(v)
	for _, node := range lawNodes {
		if m[node] != max(u[node], v[node]) {
			t.Errorf("merge: %v.Merge(%v)[%s] = %d, want max %d", u, v, node, m[node], max(u[node], v[node]))
		}
	}
	if !m.Equal(v.Merge(u)) {
		t.Errorf("merge not commutative for %v, %v", u, v)
	}
	if !u.Merge(v).Merge(w).Equal(u.Merge(v.Merge(w))) {
		t.Errorf("merge not associative for %v, %v, %v", u, v, w)
	}
	if !u.Merge(u).Equal(u) {
		t.Errorf("merge not idempotent for %v", u)
	}
	// The merge is the least upper bound.
	if u.Compare(m) == trace.After || u.Compare(m) == trace.Concurrent {
		t.Errorf("merge %v not at or after its input %v", m, u)
	}
	upper := func(x, y vc) bool { o := x.Compare(y); return o == trace.Before || o == trace.Equal }
	if upper(u, w) && upper(v, w) && !upper(m, w) {
		t.Errorf("merge %v of %v, %v not below their upper bound %v", m, u, v, w)
	}
	// A tick moves strictly forward.
	if !v.HappensBefore(v.Tick("a")) {
		t.Errorf("%v not before its tick", v)
	}
}

func TestVectorClockLawsOnRandomClocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b [9]byte
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		checkClockLaws(t, clockFrom(b[0:3]), clockFrom(b[3:6]), clockFrom(b[6:9]))
	}
}

func FuzzVectorClockLaws(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 2, 3, 1, 2, 3, 3, 3, 3})
	f.Add([]byte{1, 0, 0, 0, 1, 0, 1, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		b = append(b, make([]byte, 9)...)
		checkClockLaws(t, clockFrom(b[0:3]), clockFrom(b[3:6]), clockFrom(b[6:9]))
	})
}
