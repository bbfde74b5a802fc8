package mapreduce

import (
	"context"
	"flag"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var soak = flag.Bool("soak", false, "run the fault-injection tests with many more seeds")

// countingHook wraps h, counting the crashes and delays it injects.
type countingHook struct {
	h              FaultHook
	crashes, slows atomic.Int64
	// lostWork counts the crashes that leave a task undone, so that
	// another attempt must run: before a commit, and after a reduce
	// attempt's rename but before its report. (A map attempt that crashes
	// after its report may need no other: if no reducer needs its output.)
	lostWork atomic.Int64
}

func (c *countingHook) hook(e FaultEvent) Fault {
	f := c.h(e)
	if f.Crash {
		c.crashes.Add(1)
		if e.Point == BeforeCommit || e.Kind == ReduceTask {
			c.lostWork.Add(1)
		}
	}
	if f.Delay > 0 {
		c.slows.Add(1)
	}
	return f
}

func TestOutputSurvivesInjectedFaults(t *testing.T) {
	t.Parallel()
	seeds := 8
	if *soak {
		seeds = 200
	}
	inputs := writeCorpus(t, t.TempDir(), 7, 4, 16<<10)
	for _, j := range testJobs {
		want := oracle(t, withSplit(j.make(inputs, "", 3), 5000))
		for seed := range int64(seeds) {
			t.Run(fmt.Sprintf("%s/seed=%d", j.name, seed), func(t *testing.T) {
				t.Parallel()
				faults := &countingHook{h: FaultRates{
					Seed: seed, CrashBeforeCommit: 0.15, CrashAfterCommit: 0.15, Slow: 0.15, SlowDelay: 4 * time.Second,
				}.Hook()}
				inSim(t, seed, func(t *testing.T, n *netsim.Network) {
					require.NoError(t, n.SetDefaultFaults(transport.Faults{Delay: time.Millisecond, Jitter: 2 * time.Millisecond}))
					start := time.Now()
					res, err := Run(context.Background(), withSplit(j.make(inputs, t.TempDir(), 3), 5000),
						WithNetwork(n), WithWorkers(3), WithScratchDir(t.TempDir()), WithFaults(faults.hook))
					require.NoError(t, err)
					require.Equal(t, want, readOutputs(t, res.Outputs))
					c := res.Counters
					t.Logf("%d crashes, %d slow attempts: %d re-executions, %d backups, %d lost workers, %d attempts for %d tasks, %v of virtual time",
						faults.crashes.Load(), faults.slows.Load(), c[CounterReexecutions], c[CounterBackupTasks],
						c[CounterLostWorkers], c[CounterAttempts], c[CounterMapTasks]+c[CounterReduceTasks], time.Since(start))
					// A crash is made up for by a re-execution or a backup. (The
					// crashed worker itself may not be counted lost: the job can
					// end before its silence reaches the timeout.)
					tasks := c[CounterMapTasks] + c[CounterReduceTasks]
					assert.GreaterOrEqual(t, c[CounterAttempts], tasks+faults.lostWork.Load(),
						"every attempt that a crash left undone ran again")
					assert.Equal(t, userCounters(oracleCounters(t, j.make(inputs, "", 3))), userCounters(c),
						"counters count each task once")
				})
			})
		}
	}
}

// oracleCounters returns the counters of a sequential run of job (with the
// same split size as the fault test).
func oracleCounters(tb testing.TB, job Job) Counters {
	tb.Helper()
	job = withSplit(job, 5000)
	job.OutputDir = tb.TempDir()
	res, err := RunSequential(context.Background(), job)
	require.NoError(tb, err)
	return res.Counters
}

func TestWorkerCrashOnTheNetworkIsSurvived(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 8, 3, 16<<10)
	job := withSplit(wordCount(inputs, "", 2), 4000)
	want := oracle(t, job)
	inSim(t, 3, func(t *testing.T, n *netsim.Network) {
		job.OutputDir = t.TempDir()
		// Right after the first map output is reported, pull its worker's
		// plug: the network cuts it off in mid-job, as a power cut would,
		// and the output it reported is out of reach. (Which worker that is
		// depends on how goroutines are scheduled; the test holds either
		// way.) No reduce task starts before the plug is pulled, so none
		// can fetch that output first.
		var crashed atomic.Bool
		pulled := make(chan struct{})
		hook := func(e FaultEvent) Fault {
			switch {
			case e.Kind == MapTask && e.Point == AfterCommit && !crashed.Swap(true):
				n.Crash(e.Worker)
				close(pulled)
			case e.Kind == ReduceTask && e.Point == BeforeTask:
				<-pulled
			}
			return Fault{}
		}
		res, err := Run(context.Background(), job, WithNetwork(n), WithWorkers(2),
			WithScratchDir(t.TempDir()), WithFaults(hook))
		require.NoError(t, err)
		require.True(t, crashed.Load())
		require.Equal(t, want, readOutputs(t, res.Outputs))
		// Either a reducer failed to fetch from it or the coordinator gave
		// it up for dead, whichever came first: its map output was made
		// again.
		assert.Positive(t, res.Counters[CounterReexecutions])
		t.Logf("counters: %v", res.Counters)
	})
}
