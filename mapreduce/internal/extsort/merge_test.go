package extsort

import (
	"iter"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMergeRunsIsStable(t *testing.T) {
	t.Parallel()
	runs := [][]kvGroup{
		{{"a", []string{"r0a"}}, {"c", []string{"r0c"}}},
		{{"a", []string{"r1a", "r1a'"}}, {"b", []string{"r1b"}}},
		{},
		{{"c", []string{"r3c"}}},
	}
	var readers []*Reader
	for _, r := range runs {
		data, segs := encodeRuns(t, [][]kvGroup{r})
		readers = append(readers, NewReader(bytesReaderAt(data), segs[0]))
	}
	var got []kvGroup
	err := Merge(readers, nil, func(key string, n uint64, values iter.Seq[string]) error {
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

// countSteps is a Progress that counts its steps.
type countSteps int

func (c *countSteps) Step() { *c++ }

func TestMergeOfOneHugeKeyIsProgress(t *testing.T) {
	t.Parallel()
	// A Reduce that goes through a key's values without emitting anything
	// is busy, not stalled: every value read is a step of progress.
	values := make([]string, 5000)
	for i := range values {
		values[i] = "1"
	}
	data, segs := encodeRuns(t, [][]kvGroup{{{"the", values}}})
	var steps countSteps
	read := 0
	err := Merge([]*Reader{NewReader(bytesReaderAt(data), segs[0])}, &steps,
		func(_ string, _ uint64, values iter.Seq[string]) error {
			for range values {
				read++
				if int(steps) <= read {
					t.Errorf("value %d read after %d steps", read, steps)
				}
			}
			return nil
		})
	require.NoError(t, err)
	assert.Equal(t, 5000, read)
	assert.Equal(t, countSteps(1+5000), steps, "a step for the key and one for each value")
}
