package mapreduce

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport/netsim"
)

func TestWithCoordinatorHandsOverRunsCoordinator(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 4, 3, 2<<10)
	inSim(t, 4, func(t *testing.T, n *netsim.Network) {
		var c *Coordinator // set before any worker starts
		var mu sync.Mutex  // protects during: maps run on two workers
		var during Status
		job := wordCount(inputs, t.TempDir(), 2)
		m := job.Map
		job.Map = func(name, contents string, e Emitter) {
			st := c.Status() // the job runs: its status is there to read
			mu.Lock()
			during = st
			mu.Unlock()
			m(name, contents, e)
		}
		res, err := Run(context.Background(), job, WithNetwork(n), WithWorkers(2), WithScratchDir(t.TempDir()),
			WithCoordinator(func(got *Coordinator) { c = got }))
		require.NoError(t, err)
		require.NotNil(t, c, "Run handed over its coordinator")
		assert.Equal(t, PhaseMap, during.Phase)
		assert.Len(t, during.Maps, int(res.Counters[CounterMapTasks]))
		assert.Equal(t, PhaseDone, c.Status().Phase, "after Run, the status shows the job as it ended")
	})
}
