package mapreduce

import (
	"fmt"
	"iter"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// emitRandom emits n pairs with keys from a vocabulary of size vocab into
// b, and returns what a sequential run would group: for each partition,
// the keys in order with their values in emission order.
func emitRandom(b *mapBuffer, seed uint64, n, vocab, nReduce int) [][]kvGroup {
	rng := rand.New(rand.NewPCG(seed, 7))
	want := map[string][]string{}
	for i := range n {
		k := fmt.Sprintf("key%04d", rng.IntN(vocab))
		v := strconv.Itoa(i)
		b.Emit(k, v)
		want[k] = append(want[k], v)
	}
	parts := make([][]kvGroup, nReduce)
	for _, k := range slices.Sorted(maps.Keys(want)) {
		p := HashPartition(k, nReduce)
		parts[p] = append(parts[p], kvGroup{k, want[k]})
	}
	return parts
}

func readRunFile(tb testing.TB, rf runFile) [][]kvGroup {
	tb.Helper()
	data, err := os.ReadFile(rf.Path)
	require.NoError(tb, err)
	var parts [][]kvGroup
	for _, s := range rf.Segs {
		groups, err := decodeRun(data, s)
		require.NoError(tb, err)
		parts = append(parts, groups)
	}
	return parts
}

func TestMapBufferSpillsAndMergesStably(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		limit  int
		spills int64 // at least
	}{
		{"fits in memory", 1 << 30, 1},
		{"a few spills", 64 << 10, 3},
		{"more spills than one merge takes", 4 << 10, mergeFactor + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			job := &Job{NReduce: 3, Partition: HashPartition}
			b := newMapBuffer(job, tt.limit, filepath.Join(dir, "m"), nil, nil)
			want := emitRandom(b, 1, 20000, 700, 3)
			rf, err := b.finish(filepath.Join(dir, "out"))
			require.NoError(t, err)
			assert.Equal(t, want, readRunFile(t, rf))
			assert.GreaterOrEqual(t, b.counters.spills, tt.spills)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "spills and merge passes are deleted")
		})
	}
}

func TestMapBufferCombines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	job := &Job{NReduce: 2, Partition: HashPartition, Combine: func(_ string, vs iter.Seq[string]) string { return strconv.Itoa(sum(vs)) }}
	b := newMapBuffer(job, 8<<10, filepath.Join(dir, "m"), nil, nil)
	for i := range 10000 {
		b.Emit(fmt.Sprintf("k%d", i%50), "1")
	}
	rf, err := b.finish(filepath.Join(dir, "out"))
	require.NoError(t, err)
	got := map[string][]string{}
	for _, groups := range readRunFile(t, rf) {
		for _, g := range groups {
			got[g.Key] = g.Values
		}
	}
	require.Len(t, got, 50)
	for k, vs := range got {
		assert.Equal(t, []string{"200"}, vs, k)
	}
	assert.Equal(t, int64(10000), b.counters.mapOutRecords)
	assert.Less(t, b.counters.combineOut, b.counters.combineIn)
}

func TestMapBufferEmptyHasNoFile(t *testing.T) {
	t.Parallel()
	b := newMapBuffer(&Job{NReduce: 4, Partition: HashPartition}, 1<<20, filepath.Join(t.TempDir(), "m"), nil, nil)
	rf, err := b.finish(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	assert.Empty(t, rf.Path)
	assert.Len(t, rf.Segs, 4)
}

func TestMapBufferBadPartition(t *testing.T) {
	t.Parallel()
	job := &Job{NReduce: 2, Partition: func(string, int) int { return 2 }}
	b := newMapBuffer(job, 1<<20, filepath.Join(t.TempDir(), "m"), nil, nil)
	err := protect("Map", func() { b.Emit("k", "v") })
	require.ErrorContains(t, err, `partition function returned 2 for key "k", want [0, 2)`)
}

func TestMapBufferStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	close(done)
	b := newMapBuffer(&Job{NReduce: 1, Partition: HashPartition}, 1<<20, filepath.Join(t.TempDir(), "m"), nil, done)
	emitted := 0
	err := protect("Map", func() {
		for {
			b.Emit("k", "v")
			emitted++
		}
	})
	require.ErrorIs(t, err, errCancelled)
	assert.Less(t, emitted, 2*checkEvery)
}

func TestMergeRunsIsStable(t *testing.T) {
	t.Parallel()
	runs := [][]kvGroup{
		{{"a", []string{"r0a"}}, {"c", []string{"r0c"}}},
		{{"a", []string{"r1a", "r1a'"}}, {"b", []string{"r1b"}}},
		{},
		{{"c", []string{"r3c"}}},
	}
	var readers []*runReader
	for _, r := range runs {
		data, segs := encodeRuns(t, [][]kvGroup{r})
		readers = append(readers, newRunReader(bytesReaderAt(data), segs[0]))
	}
	var got []kvGroup
	err := mergeRuns(readers, nil, func(key string, n uint64, values iter.Seq[string]) error {
		g := kvGroup{Key: key, Values: slices.Collect(values)}
		assert.Equal(t, uint64(len(g.Values)), n, key)
		got = append(got, g)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []kvGroup{
		{"a", []string{"r0a", "r1a", "r1a'"}},
		{"b", []string{"r1b"}},
		{"c", []string{"r0c", "r3c"}},
	}, got)
}

func TestMergeOfOneHugeKeyIsProgress(t *testing.T) {
	t.Parallel()
	// A Reduce that goes through a key's values without emitting anything
	// is busy, not stalled: every heartbeat that asks for a sign of life
	// gets one from the next value read.
	values := make([]string, 5*checkEvery)
	for i := range values {
		values[i] = "1"
	}
	data, segs := encodeRuns(t, [][]kvGroup{{{"the", values}}})
	var meter progressMeter
	heartbeats := 0
	err := mergeRuns([]*runReader{newRunReader(bytesReaderAt(data), segs[0])}, &meter,
		func(_ string, _ uint64, values iter.Seq[string]) error {
			i := 0
			for range values {
				if i++; i%1000 == 0 {
					meter.read() // a heartbeat
					heartbeats++
				}
			}
			return nil
		})
	require.NoError(t, err)
	assert.Equal(t, int64(heartbeats), meter.read(), "one sign of life per heartbeat")
}
