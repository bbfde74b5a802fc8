package mapreduce

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/distsys-kit/distsys/transport/netsim"
	"github.com/stretchr/testify/require"
)

// inSim runs f in a synctest bubble, with a simulated network made from
// seed: time is virtual, so timeouts of seconds take no time at all.
func inSim(t *testing.T, seed int64, f func(t *testing.T, n *netsim.Network)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(seed)
		defer n.Close()
		n.LogSeedOnFailure(t)
		f(t, n)
	})
}

// oracle runs job sequentially and returns its output.
func oracle(tb testing.TB, job Job) string {
	tb.Helper()
	job.OutputDir = tb.TempDir()
	res, err := RunSequential(context.Background(), job)
	require.NoError(tb, err)
	return readOutputs(tb, res.Outputs)
}

func TestRunMatchesSequentialOverNetsim(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 6, 4, 20<<10)
	for _, j := range testJobs {
		t.Run(j.name, func(t *testing.T) {
			t.Parallel()
			want := oracle(t, withSplit(j.make(inputs, "", 3), 6000))
			inSim(t, 1, func(t *testing.T, n *netsim.Network) {
				res, err := Run(context.Background(), withSplit(j.make(inputs, t.TempDir(), 3), 6000),
					WithNetwork(n), WithWorkers(3), WithScratchDir(t.TempDir()))
				require.NoError(t, err)
				require.Equal(t, want, readOutputs(t, res.Outputs))
			})
		})
	}
}
