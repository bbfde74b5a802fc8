package mapreduce

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Losing workers: found by a reducer's confirmed fetch failure, and not
// waited for by Shutdown once the job is over.

// lossScript sets up 4 map tasks and 2 reduce tasks on three workers: w0
// completes maps 0, 2 and 3, w1 map 1; then w0 runs reduce 0 and w2
// reduce 1.
func lossScript(tb testing.TB) (s *scheduler, w0, w1, w2 int, r0, r1 *attempt) {
	tb.Helper()
	s = newTestScheduler(4, 2)
	w0, w1, w2 = s.register(t0, "w0"), s.register(t0, "w1"), s.register(t0, "w2")
	finish(tb, s, t0, mustAssign(tb, s, t0, w0, MapTask, 0))
	finish(tb, s, t0, mustAssign(tb, s, t0, w1, MapTask, 1))
	finish(tb, s, t0, mustAssign(tb, s, t0, w0, MapTask, 2))
	finish(tb, s, t0, mustAssign(tb, s, t0, w0, MapTask, 3))
	require.Equal(tb, "w1", s.maps[1].output.Addr)
	r0 = mustAssign(tb, s, t0, w0, ReduceTask, 0)
	r1 = mustAssign(tb, s, t0, w2, ReduceTask, 1)
	return s, w0, w1, w2, r0, r1
}

func TestUnreachableWorkerIsLostWithAllItsOutputsAtOnce(t *testing.T) {
	s, w0, w1, w2, r0, r1 := lossScript(t)
	now := at(time.Second) // far less than the timeout: no tick would do it
	out2 := s.maps[2].output
	require.NoError(t, s.fetchFailed(now, w2, ref(r1), 0, s.maps[0].output, true))

	// One step: w0 is lost, its running reduce attempt with it, and all
	// three of its map outputs are to be made again; w1's stays.
	assert.True(t, s.workers[w0].lost)
	assert.Equal(t, attemptLost, r0.state)
	assert.Equal(t, attemptLost, r1.state, "the reporting attempt ends, not its task's fault")
	for m, want := range []taskState{taskIdle, taskDone, taskIdle, taskIdle} {
		assert.Equal(t, want, s.maps[m].state, "map %d", m)
	}
	assert.Equal(t, PhaseMap, s.phase())
	c := s.counters()
	assert.Equal(t, int64(1), c[CounterLostWorkers])
	assert.Equal(t, int64(0), c[CounterFailedAttempts])

	// A later report about another of w0's outputs is stale, and changes
	// nothing.
	require.NoError(t, s.fetchFailed(now, w2, ref(r1), 2, out2, true))
	assert.Equal(t, int64(1), s.counters()[CounterLostWorkers])
	assert.False(t, s.workers[w1].lost)
	_, err := s.assign(now, w0)
	require.ErrorIs(t, err, ErrUnknownWorker, "a lost worker must register again")
}

func TestTransientFetchFailureRedoesOnlyThatOutput(t *testing.T) {
	s, w0, _, w2, r0, r1 := lossScript(t)
	require.NoError(t, s.fetchFailed(at(time.Second), w2, ref(r1), 2, s.maps[2].output, false))
	assert.False(t, s.workers[w0].lost)
	assert.Equal(t, attemptRunning, r0.state)
	for m, want := range []taskState{taskDone, taskDone, taskIdle, taskDone} {
		assert.Equal(t, want, s.maps[m].state, "map %d", m)
	}
	assert.Equal(t, int64(0), s.counters()[CounterLostWorkers])
}

func TestFetchErrorsThatMeanUnreachable(t *testing.T) {
	peer := func(err error) error { return fmt.Errorf("%w w0: %w", errPeer, err) }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection lost", peer(rpc.ErrConnLost), true},
		{"dial refused", peer(netsim.ErrConnRefused), true},
		{"no answer within the timeout", peer(context.DeadlineExceeded), true},
		{"peer shutting down", peer(&rpc.RemoteError{Method: "m", Msg: "closed", Err: rpc.ErrServerClosed}), true},
		{"peer answered with an error", peer(&rpc.RemoteError{Method: "m", Msg: "no map output here"}), false},
		{"corrupt data", fmt.Errorf("%w: bad", errCorrupt), false},
		{"local disk", errors.New("mapreduce: fetch: disk full"), false},
		{"this worker closing", peer(rpc.ErrClosed), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, peerUnreachable(tc.err))
		})
	}
}

func TestShutdownLeavesOutSilentWorkers(t *testing.T) {
	s := newTestScheduler(1, 1)
	w0, w1 := s.register(t0, "w0"), s.register(t0, "w1")
	finish(t, s, t0, mustAssign(t, s, t0, w0, MapTask, 0))
	finish(t, s, t0, mustAssign(t, s, t0, w0, ReduceTask, 0))
	mustWait(t, s, t0, w0, assignExit)
	grace := time.Second
	assert.False(t, s.allExited(at(grace), grace), "w1 was heard from within the grace")
	assert.True(t, s.allExited(at(grace+time.Nanosecond), grace), "w1 has been silent for longer")
	_ = w1
}

func TestReducersFindACrashedWorkerLostInOneStep(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 9, 3, 16<<10)
	job := withSplit(wordCount(inputs, "", 2), 2000)
	want := oracle(t, job)
	inSim(t, 4, func(t *testing.T, n *netsim.Network) {
		job.OutputDir = t.TempDir()
		// Right after the first map output is reported, its worker's
		// machine reboots: every conn to it is reset, and nothing listens
		// at its address. The timeout is an hour, so only the reducers'
		// fetch failures can find it lost, before any reduce task ends.
		var crashed atomic.Bool
		pulled := make(chan struct{})
		hook := func(e FaultEvent) Fault {
			switch {
			case e.Kind == MapTask && e.Point == AfterCommit && !crashed.Swap(true):
				n.Crash(e.Worker)
				n.Restart(e.Worker)
				close(pulled)
				return Fault{Crash: true}
			case e.Kind == ReduceTask && e.Point == BeforeTask:
				<-pulled
			}
			return Fault{}
		}
		start := time.Now()
		res, err := Run(context.Background(), job, WithNetwork(n), WithWorkers(3), WithTimeout(time.Hour),
			WithBackupTasks(false), WithScratchDir(t.TempDir()), WithFaults(hook))
		require.NoError(t, err)
		require.Equal(t, want, readOutputs(t, res.Outputs))
		// Before, each reducer's failed fetch re-ran one output, and the
		// worker was never declared lost within the job.
		assert.Equal(t, int64(1), res.Counters[CounterLostWorkers], "found lost by a fetch failure, not the timeout")
		assert.Less(t, time.Since(start), time.Hour, "virtual time: no timeout was waited for")
		t.Logf("counters: %v", res.Counters)
	})
}

func TestRunDoesNotWaitForAWorkerThatCrashedAtTheEnd(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 10, 2, 8<<10)
	job := withSplit(wordCount(inputs, "", 2), 4000)
	want := oracle(t, job)
	inSim(t, 5, func(t *testing.T, n *netsim.Network) {
		job.OutputDir = t.TempDir()
		// The first reduce attempt to finish crashes before it asks for the
		// commit; a backup copy finishes the task. Map outputs are in a
		// shared directory, so no reducer fetches from the crashed worker
		// and finds it lost: it stays "live" until the timeout (an hour),
		// and Run used to wait for it that long.
		var crashed atomic.Bool
		hook := func(e FaultEvent) Fault {
			return Fault{Crash: e.Kind == ReduceTask && e.Point == BeforeCommit && !crashed.Swap(true)}
		}
		const timeout = time.Hour
		start := time.Now()
		res, err := Run(context.Background(), job, WithNetwork(n), WithWorkers(2), WithTimeout(timeout),
			WithScratchDir(t.TempDir()), WithSharedDir(t.TempDir()), WithFaults(hook))
		require.NoError(t, err)
		require.True(t, crashed.Load())
		require.Equal(t, want, readOutputs(t, res.Outputs))
		assert.Equal(t, int64(0), res.Counters[CounterLostWorkers])
		// In virtual time: a backup starts within a heartbeat or two
		// (timeout/10), and Shutdown then waits three at most.
		assert.Less(t, time.Since(start), timeout/2)
		t.Logf("took %v of virtual time; counters: %v", time.Since(start), res.Counters)
	})
}

func TestWorkLostWithWorkersTooOftenFailsTheJob(t *testing.T) {
	s := newTestScheduler(1, 1) // maxAttempts 3, 2 tasks: the bound is 192 losses
	bound := lostFactor * s.cfg.maxAttempts * 2
	now := t0
	for i := range bound + 1 {
		require.NoError(t, s.err, "loss %d", i)
		w := s.register(now, fmt.Sprintf("w%d", i))
		a := mustAssign(t, s, now, w, MapTask, 0)
		if i%2 == 0 {
			finish(t, s, now, a) // its output is lost with it
		}
		s.loseWorker(now, s.workers[w])
		now = now.Add(time.Second)
	}
	require.ErrorIs(t, s.err, ErrJobFailed)
	var te *TaskError
	require.ErrorAs(t, s.err, &te)
	assert.Equal(t, bound+1, te.Attempts)
	assert.Contains(t, te.Msg, "lost with its worker")
	assert.True(t, s.finished())
	assert.Equal(t, int64(0), s.counters()[CounterFailedAttempts], "losses are still not failures")
}

func TestFaultRatesLimitedToFirstAttempts(t *testing.T) {
	r := FaultRates{Seed: 1, CrashBeforeCommit: 1, Attempts: 2}
	h := r.Hook()
	for attempt, crash := range map[int]bool{1: true, 2: true, 3: false, 9: false} {
		f := h(FaultEvent{Kind: MapTask, Attempt: attempt, Point: BeforeCommit})
		assert.Equal(t, crash, f.Crash, "attempt %d", attempt)
	}
	r.Attempts = 0
	assert.True(t, r.Hook()(FaultEvent{Kind: MapTask, Attempt: 9, Point: BeforeCommit}).Crash, "no limit")
}
