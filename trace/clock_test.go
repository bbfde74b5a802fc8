package trace_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/trace"
)

type vc = trace.VectorClock

func TestVectorClockCompare(t *testing.T) {
	tests := []struct {
		name string
		v, w vc
		want trace.Order
	}{
		{"both empty", nil, vc{}, trace.Equal},
		{"zero entry is missing entry", vc{"a": 0}, nil, trace.Equal},
		{"same entries", vc{"a": 1, "b": 2}, vc{"b": 2, "a": 1}, trace.Equal},
		{"empty before anything", nil, vc{"a": 1}, trace.Before},
		{"one entry smaller", vc{"a": 1, "b": 2}, vc{"a": 2, "b": 2}, trace.Before},
		{"missing entry smaller", vc{"a": 1}, vc{"a": 1, "b": 1}, trace.Before},
		{"after", vc{"a": 3, "b": 1}, vc{"a": 2, "b": 1}, trace.After},
		{"after with extra node", vc{"a": 1, "c": 1}, vc{"a": 1}, trace.After},
		{"concurrent disjoint", vc{"a": 1}, vc{"b": 1}, trace.Concurrent},
		{"concurrent crossed", vc{"a": 2, "b": 1}, vc{"a": 1, "b": 2}, trace.Concurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.v.Compare(tt.w))
			assert.Equal(t, tt.want == trace.Before, tt.v.HappensBefore(tt.w), "HappensBefore")
			assert.Equal(t, tt.want == trace.Concurrent, tt.v.Concurrent(tt.w), "Concurrent")
			assert.Equal(t, tt.want == trace.Equal, tt.v.Equal(tt.w), "Equal")
		})
	}
}

func TestVectorClockMergeIsElementwiseMax(t *testing.T) {
	tests := []struct {
		name    string
		v, w    vc
		want    vc
		wantStr string
	}{
		{"nil and nil", nil, nil, vc{}, `{}`},
		{"disjoint", vc{"a": 1}, vc{"b": 2}, vc{"a": 1, "b": 2}, `{"a":1,"b":2}`},
		{"overlap", vc{"a": 3, "b": 1}, vc{"a": 1, "b": 4, "c": 1}, vc{"a": 3, "b": 4, "c": 1}, `{"a":3,"b":4,"c":1}`},
		{"zero entries vanish", vc{"a": 0}, vc{"b": 0}, vc{}, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vBefore, wBefore := tt.v.Copy(), tt.w.Copy()
			got := tt.v.Merge(tt.w)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantStr, got.String())
			assert.True(t, vBefore.Equal(tt.v), "Merge modified its receiver")
			assert.True(t, wBefore.Equal(tt.w), "Merge modified its argument")
		})
	}
}

func TestVectorClockTick(t *testing.T) {
	var v vc // nil is the start of time
	v1 := v.Tick("a")
	v2 := v1.Tick("a").Tick("b")
	assert.Equal(t, vc{"a": 1}, v1, "Tick must not modify its receiver")
	assert.Equal(t, vc{"a": 2, "b": 1}, v2)
	assert.True(t, v.HappensBefore(v1))
	assert.True(t, v1.HappensBefore(v2))
}

func TestOrderString(t *testing.T) {
	assert.Equal(t, "before", trace.Before.String())
	assert.Equal(t, "after", trace.After.String())
	assert.Equal(t, "equal", trace.Equal.String())
	assert.Equal(t, "concurrent", trace.Concurrent.String())
	assert.Equal(t, "Order(9)", trace.Order(9).String())
}

func TestLamportClock(t *testing.T) {
	var c trace.LamportClock
	assert.Equal(t, uint64(0), c.Now())
	assert.Equal(t, uint64(1), c.Tick())
	assert.Equal(t, uint64(8), c.Witness(7), "receive: max(1, 7) + 1")
	assert.Equal(t, uint64(9), c.Witness(3), "receive of an old stamp still advances")
	assert.Equal(t, uint64(9), c.Now())
}

func TestLamportClockConcurrentTicksAreUnique(t *testing.T) {
	var c trace.LamportClock
	const goroutines, each = 8, 500
	stamps := make(chan uint64, goroutines*each) // holds every stamp: no sender ever blocks
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if (g+i)%2 == 0 {
					stamps <- c.Tick()
				} else {
					stamps <- c.Witness(uint64(i))
				}
			}
		})
	}
	wg.Wait()
	close(stamps)
	seen := map[uint64]bool{}
	for s := range stamps {
		require.False(t, seen[s], "stamp %d handed out twice", s)
		seen[s] = true
	}
	assert.GreaterOrEqual(t, c.Now(), uint64(goroutines*each))
}
