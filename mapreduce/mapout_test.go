package mapreduce

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/mapreduce/internal/extsort"
)

// newTestMapOut returns a map task's Emitter over a buffer in a temporary
// directory.
func newTestMapOut(t *testing.T, partition func(string) int, done <-chan struct{}) *mapOut {
	t.Helper()
	return &mapOut{
		buf:  extsort.NewBuffer(extsort.Config{Parts: 2, Partition: partition, Limit: 1 << 20, Prefix: filepath.Join(t.TempDir(), "m")}),
		done: done,
	}
}

func TestEmitWithABadPartitionFailsTheMap(t *testing.T) {
	t.Parallel()
	o := newTestMapOut(t, func(string) int { return 2 }, nil)
	err := protect("Map", func() { o.Emit("k", "v") })
	require.EqualError(t, err, `partition function returned 2 for key "k", want [0, 2)`)
}

func TestEmitStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	close(done)
	o := newTestMapOut(t, func(string) int { return 0 }, done)
	emitted := 0
	err := protect("Map", func() {
		for {
			o.Emit("k", "v")
			emitted++
		}
	})
	require.ErrorIs(t, err, errCancelled)
	assert.Less(t, emitted, 2*checkEvery)
}

func TestMapTaskCountsItsSortAndCombine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	require.NoError(t, os.WriteFile(in, []byte("a b a\nb a c\n"), 0o644))
	job, err := wordCount([]string{in}, dir, 2).withDefaults()
	require.NoError(t, err)
	env := taskEnv{job: &job, scratch: dir, memLimit: 1 << 20}
	rf, counters, err := runMapTask(env, split{File: in, Length: -1}, filepath.Join(dir, "out"))
	require.NoError(t, err)
	assert.FileExists(t, rf.Path)
	assert.Equal(t, Counters{
		CounterMapInputRecords:  2,
		CounterMapInputBytes:    12,
		CounterMapOutputRecords: 6,
		CounterMapOutputBytes:   12,
		CounterSpills:           1,
		// a's three 1s go to one call, b's two to another; c's one is
		// not combined.
		CounterCombineInputRecords: 5,
		CounterCombineOutputValues: 2,
		"map calls":                1,
	}, counters)
}
