package extsort

import (
	"fmt"
	"hash/fnv"
	"iter"
	"maps"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hashPart returns a partition function over n partitions.
func hashPart(n int) func(string) int {
	return func(k string) int {
		h := fnv.New32a()
		h.Write([]byte(k))
		return int(h.Sum32() % uint32(n))
	}
}

// sumCombiner adds decimal values.
func sumCombiner(_ string, values iter.Seq[string]) (string, error) {
	n := 0
	for v := range values {
		k, err := strconv.Atoi(v)
		if err != nil {
			return "", err
		}
		n += k
	}
	return strconv.Itoa(n), nil
}

// addRandom adds n pairs with keys from a vocabulary of size vocab to b,
// and returns what a sequential run would group: for each partition, the
// keys in order with their values in the order they were added.
func addRandom(tb testing.TB, b *Buffer, seed uint64, n, vocab, parts int) [][]kvGroup {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	want := map[string][]string{}
	for i := range n {
		k := fmt.Sprintf("key%04d", rng.IntN(vocab))
		v := strconv.Itoa(i)
		require.NoError(tb, b.Add(k, v))
		want[k] = append(want[k], v)
	}
	out := make([][]kvGroup, parts)
	part := hashPart(parts)
	for _, k := range slices.Sorted(maps.Keys(want)) {
		p := part(k)
		out[p] = append(out[p], kvGroup{k, want[k]})
	}
	return out
}

func readRunFile(tb testing.TB, rf RunFile) [][]kvGroup {
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

func TestBufferSpillsAndMergesStably(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		limit  int
		spills int64 // at least
	}{
		{"fits in memory", 1 << 30, 1},
		{"a few spills", 64 << 10, 3},
		{"more spills than one merge takes", 4 << 10, MergeFactor + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			b := NewBuffer(Config{Parts: 3, Partition: hashPart(3), Limit: tt.limit, Prefix: filepath.Join(dir, "m")})
			want := addRandom(t, b, 1, 20000, 700, 3)
			rf, err := b.Finish(filepath.Join(dir, "out"))
			require.NoError(t, err)
			assert.Equal(t, want, readRunFile(t, rf))
			assert.GreaterOrEqual(t, b.Stats().Spills, tt.spills)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "spills and merge passes are deleted")
		})
	}
}

func TestBufferCombines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := NewBuffer(Config{Parts: 2, Partition: hashPart(2), Combine: sumCombiner, Limit: 8 << 10, Prefix: filepath.Join(dir, "m")})
	for i := range 10000 {
		require.NoError(t, b.Add(fmt.Sprintf("k%d", i%50), "1"))
	}
	rf, err := b.Finish(filepath.Join(dir, "out"))
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
	assert.Less(t, b.Stats().CombineOut, b.Stats().CombineIn)
}

func TestEmptyBufferHasNoFile(t *testing.T) {
	t.Parallel()
	b := NewBuffer(Config{Parts: 4, Partition: hashPart(4), Limit: 1 << 20, Prefix: filepath.Join(t.TempDir(), "m")})
	rf, err := b.Finish(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	assert.Empty(t, rf.Path)
	assert.Len(t, rf.Segs, 4)
}

func TestBufferRefusesAPartitionOutOfRange(t *testing.T) {
	t.Parallel()
	b := NewBuffer(Config{Parts: 2, Partition: func(string) int { return 2 }, Limit: 1 << 20, Prefix: filepath.Join(t.TempDir(), "m")})
	err := b.Add("k", "v")
	require.EqualError(t, err, `partition function returned 2 for key "k", want [0, 2)`)
	require.Equal(t, err, b.Add("other", "v"), "the error is sticky")
	_, err = b.Finish(filepath.Join(t.TempDir(), "out"))
	require.Error(t, err)
}

func TestCombinerErrorFailsTheBuffer(t *testing.T) {
	t.Parallel()
	boom := fmt.Errorf("Combine panicked: boom")
	newBuffer := func() *Buffer {
		return NewBuffer(Config{Parts: 1, Partition: hashPart(1), Limit: 1 << 20, Prefix: filepath.Join(t.TempDir(), "m"),
			Combine: func(string, iter.Seq[string]) (string, error) { return "", boom }})
	}

	b := newBuffer() // different values: combined as they pile up
	var err error
	for i := 0; err == nil && i < 2*combineAt; i++ {
		err = b.Add("k", strconv.Itoa(i))
	}
	require.ErrorIs(t, err, boom)

	b = newBuffer() // one value repeated: folded when the buffer is written
	for range 2 * combineAt {
		require.NoError(t, b.Add("k", "1"))
	}
	_, err = b.Finish(filepath.Join(t.TempDir(), "out"))
	require.ErrorIs(t, err, boom)
}

func TestRepeatsFoldInLogarithmicallyManyCalls(t *testing.T) {
	t.Parallel()
	calls := 0
	b := NewBuffer(Config{Combine: func(k string, vs iter.Seq[string]) (string, error) {
		calls++
		return sumCombiner(k, vs)
	}})
	for n := 1; n <= 3000; n++ {
		calls = 0
		got, err := b.repeat("k", "3", n)
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(3*n), got, "%d copies", n)
		switch {
		case n == 1:
			require.Zero(t, calls, "one copy is itself")
		case n <= repeatInOneCall:
			require.Equal(t, 1, calls, "%d copies", n)
		default:
			require.LessOrEqual(t, calls, 2*bits.Len(uint(n)), "%d copies", n)
		}
	}
}

func TestCommonAndOtherValuesCombineToTheSum(t *testing.T) {
	t.Parallel()
	// "1" comes first, so it is the common value, kept as counts; the
	// others are stored and combined; the sum is right either way.
	dir := t.TempDir()
	b := NewBuffer(Config{Parts: 2, Partition: hashPart(2), Combine: sumCombiner, Limit: 1 << 20, Prefix: filepath.Join(dir, "m")})
	rng := rand.New(rand.NewPCG(5, 5))
	want := map[string]int{}
	for i := range 20000 {
		k, v := fmt.Sprintf("k%d", rng.IntN(40)), 1
		if i > 0 && rng.IntN(4) == 0 {
			v = rng.IntN(100)
		}
		require.NoError(t, b.Add(k, strconv.Itoa(v)))
		want[k] += v
	}
	rf, err := b.Finish(filepath.Join(dir, "out"))
	require.NoError(t, err)
	got := map[string]int{}
	for _, groups := range readRunFile(t, rf) {
		for _, g := range groups {
			require.Len(t, g.Values, 1, g.Key)
			got[g.Key], err = strconv.Atoi(g.Values[0])
			require.NoError(t, err)
		}
	}
	assert.Equal(t, want, got)
}

func TestKeysSortByteWiseWhateverTheirPrefixes(t *testing.T) {
	t.Parallel()
	keys := []string{"", "a", "a\x00", "a\x00b", "ab", "abcdefgh", "abcdefgh\x00", "abcdefghi", "abcdefgg\xff",
		"\xff\xff\xff\xff\xff\xff\xff\xff", "\xff\xff\xff\xff\xff\xff\xff\xff\x01", "b", "\x00"}
	dir := t.TempDir()
	b := NewBuffer(Config{Parts: 1, Partition: hashPart(1), Limit: 1 << 20, Prefix: filepath.Join(dir, "m")})
	for _, k := range keys {
		require.NoError(t, b.Add(k, "v"))
	}
	rf, err := b.Finish(filepath.Join(dir, "out"))
	require.NoError(t, err)
	var got []string
	for _, g := range readRunFile(t, rf)[0] {
		got = append(got, g.Key)
	}
	assert.Equal(t, slices.Sorted(slices.Values(keys)), got)
}
