package mapreduce

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/mapreduce/internal/extsort"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// MIT's lab checks, done properly: in virtual time, on a simulated
// network, with no sleeps and no shell script.

func TestBackupTasksCutTheTimeOfAStragglerInARealJob(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 9, 4, 8<<10)
	// Map task 0's first attempt starts a minute late (a dying disk).
	straggler := func(e FaultEvent) Fault {
		if e.Kind == MapTask && e.Index == 0 && e.Attempt == 1 && e.Point == BeforeTask {
			return Fault{Delay: time.Minute}
		}
		return Fault{}
	}
	elapsed := map[bool]time.Duration{}
	for _, backups := range []bool{false, true} {
		inSim(t, 9, func(t *testing.T, n *netsim.Network) {
			start := time.Now()
			res, err := Run(context.Background(), wordCount(inputs, t.TempDir(), 2), WithNetwork(n), WithWorkers(3),
				WithScratchDir(t.TempDir()), WithFaults(straggler), WithBackupTasks(backups), WithTimeout(2*time.Minute))
			require.NoError(t, err)
			elapsed[backups] = time.Since(start)
			t.Logf("backups %v: job took %v of virtual time, %d backup tasks", backups, elapsed[backups], res.Counters[CounterBackupTasks])
		})
	}
	assert.GreaterOrEqual(t, elapsed[false], time.Minute, "without backups the job waits for the straggler")
	assert.Less(t, elapsed[true], 30*time.Second, "with backups another worker finishes its task")
}

// overlap records how many calls of a function run at once. Each call
// waits, up to a (virtual) second, for another call to join it, so that
// if two can run at the same time, they do.
type overlap struct {
	mu      sync.Mutex
	now     int
	most    int
	joined  chan struct{}
	joinOne sync.Once
}

func newOverlap() *overlap { return &overlap{joined: make(chan struct{})} }

func (o *overlap) enter() {
	o.mu.Lock()
	o.now++
	o.most = max(o.most, o.now)
	if o.now >= 2 {
		o.joinOne.Do(func() { close(o.joined) })
	}
	o.mu.Unlock()
	select {
	case <-o.joined:
	case <-time.After(time.Second):
	}
}

func (o *overlap) leave() {
	o.mu.Lock()
	o.now--
	o.mu.Unlock()
}

func (o *overlap) max() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.most
}

func TestMapAndReduceTasksRunInParallel(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 10, 4, 4<<10)
	inSim(t, 10, func(t *testing.T, n *netsim.Network) {
		maps, reduces := newOverlap(), newOverlap()
		job := wordCount(inputs, t.TempDir(), 4)
		m, r := job.Map, job.Reduce
		job.Map = func(name, contents string, out Emitter) {
			maps.enter()
			defer maps.leave()
			m(name, contents, out)
		}
		first := sync.Map{} // one rendezvous per reduce task, not per key
		job.Reduce = func(key string, values iter.Seq[string], out Emitter) {
			if _, seen := first.LoadOrStore(HashPartition(key, 4), true); !seen {
				reduces.enter()
				defer reduces.leave()
			}
			r(key, values, out)
		}
		_, err := Run(context.Background(), job, WithNetwork(n), WithWorkers(3), WithScratchDir(t.TempDir()))
		require.NoError(t, err)
		assert.GreaterOrEqual(t, maps.max(), 2, "map tasks ran one at a time")
		assert.GreaterOrEqual(t, reduces.max(), 2, "reduce tasks ran one at a time")
	})
}

// startWorkers runs n workers of job against the coordinator on the
// simulated network, and returns a channel that receives each worker's
// result and the virtual time it returned at.
func startWorkers(t *testing.T, net *netsim.Network, n int, job Job, opts ...WorkerOption) <-chan workerResult {
	t.Helper()
	results := make(chan workerResult, n) // one per worker: no one blocks
	for i := range n {
		name := fmt.Sprintf("worker-%d", i)
		l, err := net.Listen(name)
		require.NoError(t, err)
		wopts := append([]WorkerOption{WithListener(l), WithDialer(net.Dialer(name)), WithScratchDir(t.TempDir())}, opts...)
		go func() {
			err := RunWorker(context.Background(), "coordinator", []Job{job}, wopts...)
			results <- workerResult{err, time.Now()}
		}()
	}
	return results
}

type workerResult struct {
	err error
	at  time.Time
}

// serveCoordinator serves c on the simulated network until c is closed.
func serveCoordinator(t *testing.T, n *netsim.Network, c *Coordinator) {
	t.Helper()
	l, err := n.Listen("coordinator")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Serve(l)
	}()
	t.Cleanup(func() {
		c.Close()
		<-done
	})
}

func TestWorkersExitWhenTheJobEnds(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 11, 3, 4<<10)
	inSim(t, 11, func(t *testing.T, n *netsim.Network) {
		job := wordCount(inputs, t.TempDir(), 2)
		// All three take part: without WithMinWorkers, two could do the
		// whole job before the third registers.
		c, err := NewCoordinator(job, WithMinWorkers(3))
		require.NoError(t, err)
		serveCoordinator(t, n, c)
		results := startWorkers(t, n, 3, job)
		_, err = c.Wait(context.Background())
		require.NoError(t, err)
		over := time.Now()
		require.NoError(t, c.Shutdown(context.Background()))
		for range 3 {
			r := <-results
			require.NoError(t, r.err, "a worker told the job is over returns nil")
			assert.LessOrEqual(t, r.at.Sub(over), 2*DefaultTimeout/10, "workers learn within a heartbeat or two")
		}
		for _, w := range c.Status().Workers {
			assert.Equal(t, "exited", w.State)
		}
	})
}

func TestACrashedCoordinatorFailsTheJobCleanly(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 12, 4, 8<<10)
	inSim(t, 12, func(t *testing.T, n *netsim.Network) {
		out := t.TempDir()
		job := withSplit(wordCount(inputs, out, 2), 2000)
		crash, crashed := make(chan struct{}), make(chan struct{})
		var once sync.Once
		c, err := NewCoordinator(job, WithProgress(func(p Progress) {
			if p.MapsDone > 0 {
				once.Do(func() { close(crash) })
			}
		}))
		require.NoError(t, err)
		serveCoordinator(t, n, c)
		// No reduce task starts before the crash, so the job cannot end
		// before it, however the goroutines are scheduled.
		holdReduces := func(e FaultEvent) Fault {
			if e.Kind == ReduceTask && e.Point == BeforeTask {
				<-crashed
			}
			return Fault{}
		}
		results := startWorkers(t, n, 3, job, WithFaults(holdReduces))

		<-crash
		n.Crash("coordinator") // silence: no goodbye, no reset
		crashedAt := time.Now()
		close(crashed)
		for range 3 {
			r := <-results
			require.ErrorIs(t, r.err, ErrCoordinatorLost)
			assert.LessOrEqual(t, r.at.Sub(crashedAt), 2*DefaultTimeout, "a worker gives up after the timeout")
		}
		c.Close()
		_, err = c.Wait(context.Background())
		require.ErrorIs(t, err, ErrClosed)
		parts, _ := filepath.Glob(filepath.Join(out, "part-*"))
		assert.Empty(t, parts, "no output of a job that did not finish")
	})
}

func TestJobLargerThanMemoryCompletes(t *testing.T) {
	t.Parallel()
	// 1 MiB of input, with a vocabulary too large to shrink, through a
	// 64 KiB map buffer: every map task spills more runs than one merge
	// takes, and merges them in passes.
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(13, 13))
	var sb strings.Builder
	for sb.Len() < 1<<20 {
		for i := range 3 {
			if i > 0 {
				sb.WriteByte(' ')
			}
			for n := rng.IntN(26 * 26 * 26 * 26); n > 0; n /= 26 { // one of ~500k words
				sb.WriteByte(byte('a' + n%26))
			}
			sb.WriteByte('x')
		}
		sb.WriteByte('\n')
	}
	in := filepath.Join(dir, "big.txt")
	require.NoError(t, os.WriteFile(in, []byte(sb.String()), 0o644))
	const limit = 64 << 10
	job := withSplit(invertedIndex([]string{in}, "", 3), 256<<10)
	want := oracle(t, job)
	inSim(t, 13, func(t *testing.T, n *netsim.Network) {
		job.OutputDir = t.TempDir()
		res, err := Run(context.Background(), job, WithNetwork(n), WithWorkers(2),
			WithScratchDir(t.TempDir()), WithMemoryLimit(limit))
		require.NoError(t, err)
		require.Equal(t, want, readOutputs(t, res.Outputs))
		spills := res.Counters[CounterSpills]
		t.Logf("%d map tasks spilled %d runs", res.Counters[CounterMapTasks], spills)
		assert.Greater(t, spills, res.Counters[CounterMapTasks]*extsort.MergeFactor, "more runs per task than one merge takes")
	})
}

func TestWorkersStartedBeforeTheirCoordinatorWaitForIt(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 23, 2, 4<<10)
	inSim(t, 23, func(t *testing.T, n *netsim.Network) {
		job := wordCount(inputs, t.TempDir(), 2)
		c, err := NewCoordinator(job, WithMinWorkers(2))
		require.NoError(t, err)
		results := startWorkers(t, n, 2, job)
		// In a multi-process job the coordinator may start last: its
		// workers keep dialling, every heartbeat, for up to the timeout.
		// (This is virtual time: the workers dial three times meanwhile.)
		time.Sleep(3 * DefaultTimeout / 10)
		serveCoordinator(t, n, c)
		_, err = c.Wait(context.Background())
		require.NoError(t, err)
		require.NoError(t, c.Shutdown(context.Background()))
		for range 2 {
			require.NoError(t, (<-results).err)
		}
	})
}

func TestWorkersReturnNilWhenTheCoordinatorSaysGoodbye(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 24, 2, 4<<10)
	inSim(t, 24, func(t *testing.T, n *netsim.Network) {
		job := wordCount(inputs, t.TempDir(), 2)
		registered := make(chan struct{})
		var once sync.Once
		// The job never starts (it waits for a third worker), and its
		// owner closes the coordinator: the workers are told, and go.
		c, err := NewCoordinator(job, WithMinWorkers(3), WithProgress(func(p Progress) {
			if p.Workers == 2 {
				once.Do(func() { close(registered) })
			}
		}))
		require.NoError(t, err)
		serveCoordinator(t, n, c)
		results := startWorkers(t, n, 2, job)
		<-registered
		closed := time.Now()
		require.NoError(t, c.Close())
		for range 2 {
			r := <-results
			require.NoError(t, r.err, "a coordinator that shuts down leaves no work: not an error")
			assert.Less(t, r.at.Sub(closed), DefaultTimeout, "told, not timed out")
		}
		_, err = c.Wait(context.Background())
		require.ErrorIs(t, err, ErrClosed)
	})
}
