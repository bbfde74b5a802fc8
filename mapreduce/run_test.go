package mapreduce

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/distsys-kit/distsys/transport/netsim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunMatchesSequentialOverTCP(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 5, 5, 30<<10)
	for _, j := range testJobs {
		t.Run(j.name, func(t *testing.T) {
			t.Parallel()
			want, err := RunSequential(context.Background(), withSplit(j.make(inputs, t.TempDir(), 3), 8000))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			got, err := Run(ctx, withSplit(j.make(inputs, t.TempDir(), 3), 8000), WithWorkers(3), WithScratchDir(t.TempDir()))
			require.NoError(t, err)
			require.Equal(t, readOutputs(t, want.Outputs), readOutputs(t, got.Outputs))
			assert.Equal(t, userCounters(want.Counters), userCounters(got.Counters))
			t.Logf("%s: %v", j.name, got.Counters)
		})
	}
}

// userCounters keeps the counters that a sequential and a distributed run
// must agree on: the user's and the map side's.
func userCounters(c Counters) Counters {
	out := Counters{}
	for _, k := range []string{CounterMapInputRecords, CounterMapInputBytes, CounterMapOutputRecords,
		CounterMapOutputBytes, CounterReduceOutputRecords, CounterReduceOutputBytes, CounterMapTasks, CounterReduceTasks,
		"map calls", "matches"} {
		if v, ok := c[k]; ok {
			out[k] = v
		}
	}
	return out
}

func TestRunStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 25, 3, 4<<10)
	inSim(t, 25, func(t *testing.T, n *netsim.Network) {
		out := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		job := wordCount(inputs, out, 2)
		m := job.Map
		job.Map = func(name, contents string, e Emitter) {
			cancel() // the user gives up while the first map task runs
			m(name, contents, e)
		}
		_, err := Run(ctx, job, WithNetwork(n), WithWorkers(2), WithScratchDir(t.TempDir()))
		require.ErrorIs(t, err, context.Canceled)
		parts, _ := filepath.Glob(filepath.Join(out, "part-*"))
		assert.Empty(t, parts, "no output of a job that did not finish")
	})
}

func TestRunRejectsAnInvalidJob(t *testing.T) {
	t.Parallel()
	job := wordCount(nil, t.TempDir(), 1)
	job.Reduce = nil
	_, err := Run(context.Background(), job)
	require.ErrorIs(t, err, ErrInvalidJob)
	assert.ErrorContains(t, err, "Reduce is nil")
}
