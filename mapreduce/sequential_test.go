package mapreduce

import (
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/mapreduce/internal/extsort"
)

func TestRunSequentialWordCount(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	require.NoError(t, os.WriteFile(in, []byte("the cat\nThe dog\nthe end"), 0o644))
	res, err := RunSequential(context.Background(), wordCount([]string{in}, filepath.Join(dir, "out"), 1))
	require.NoError(t, err)
	require.Equal(t, []string{OutputFile(filepath.Join(dir, "out"), 0)}, res.Outputs)
	got, err := os.ReadFile(res.Outputs[0])
	require.NoError(t, err)
	assert.Equal(t, "cat\t1\ndog\t1\nend\t1\nthe\t3\n", string(got))
	assert.Equal(t, int64(3), res.Counters[CounterMapInputRecords])
	assert.Equal(t, int64(6), res.Counters[CounterMapOutputRecords])
	assert.Equal(t, int64(4), res.Counters[CounterReduceOutputRecords])
	assert.Equal(t, int64(1), res.Counters["map calls"])
}

func TestRunSequentialErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	require.NoError(t, os.WriteFile(in, []byte("x\n"), 0o644))
	ok := wordCount([]string{in}, filepath.Join(dir, "out"), 1)
	tests := []struct {
		name string
		edit func(*Job)
		want error
	}{
		{"no map", func(j *Job) { j.Map = nil }, ErrInvalidJob},
		{"no reduce", func(j *Job) { j.Reduce = nil }, ErrInvalidJob},
		{"no output dir", func(j *Job) { j.OutputDir = "" }, ErrInvalidJob},
		{"negative reduces", func(j *Job) { j.NReduce = -1 }, ErrInvalidJob},
		{"missing input", func(j *Job) { j.Inputs = []string{filepath.Join(dir, "nope")} }, os.ErrNotExist},
		{"map panics", func(j *Job) { j.Map = func(string, string, Emitter) { panic("boom") } }, ErrJobFailed},
		{"reduce panics", func(j *Job) {
			j.Reduce = func(string, iter.Seq[string], Emitter) { panic("bang") }
		}, ErrJobFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			job := ok
			tt.edit(&job)
			_, err := RunSequential(context.Background(), job)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestPanicMessageIsInTheError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	require.NoError(t, os.WriteFile(in, []byte("x\n"), 0o644))
	job := wordCount([]string{in}, filepath.Join(dir, "out"), 1)
	job.Map = func(string, string, Emitter) { panic(fmt.Sprintf("bad record %q", "x")) }
	_, err := RunSequential(context.Background(), job)
	var te *TaskError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, MapTask, te.Kind)
	assert.Contains(t, err.Error(), `Map panicked: bad record "x" at `)
	assert.Contains(t, err.Error(), "sequential_test.go")
}

func TestRunSequentialCancelled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := RunSequential(ctx, wordCount(writeCorpus(t, dir, 1, 1, 100), filepath.Join(dir, "out"), 1))
	require.ErrorIs(t, err, context.Canceled)
}

// runLocal runs job's tasks one by one with the machinery the workers use
// (spills, merges, run files), without a coordinator or a network.
func runLocal(tb testing.TB, job Job, memLimit int) []string {
	tb.Helper()
	job, err := job.withDefaults()
	require.NoError(tb, err)
	splits, err := planSplits(job.Inputs, job.SplitSize)
	require.NoError(tb, err)
	scratch := tb.TempDir()
	env := taskEnv{job: &job, scratch: scratch, memLimit: memLimit}
	var outs []extsort.RunFile
	for i, s := range splits {
		rf, _, err := runMapTask(env, s, filepath.Join(scratch, fmt.Sprintf("map-%d", i)))
		require.NoError(tb, err)
		outs = append(outs, rf)
	}
	require.NoError(tb, os.MkdirAll(job.OutputDir, 0o755))
	var paths []string
	for r := range job.NReduce {
		var in []segmentFile
		for _, rf := range outs {
			in = append(in, segmentFile{Path: rf.Path, Seg: rf.Segs[r]})
		}
		path := OutputFile(job.OutputDir, r)
		_, err := runReduceTask(env, in, path)
		require.NoError(tb, err)
		paths = append(paths, path)
	}
	return paths
}

func TestTaskMachineryMatchesSequential(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inputs := writeCorpus(t, dir, 3, 4, 40<<10)
	for _, j := range testJobs {
		for _, memLimit := range []int{1 << 30, 4 << 10} {
			t.Run(fmt.Sprintf("%s/limit=%d", j.name, memLimit), func(t *testing.T) {
				t.Parallel()
				want, err := RunSequential(context.Background(), withSplit(j.make(inputs, t.TempDir(), 3), 7000))
				require.NoError(t, err)
				got := runLocal(t, withSplit(j.make(inputs, t.TempDir(), 3), 7000), memLimit)
				require.Equal(t, readOutputs(t, want.Outputs), readOutputs(t, got))
			})
		}
	}
}

func withSplit(j Job, size int64) Job {
	j.SplitSize = size
	return j
}
