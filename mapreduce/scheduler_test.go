package mapreduce

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The scheduler is tested step by step, in made-up time: each test is a
// script of what workers say and when.

var t0 = time.Unix(1000, 0)

func at(d time.Duration) time.Time { return t0.Add(d) }

const testTimeout = 10 * time.Second

func newTestScheduler(nMap, nReduce int, edit ...func(*schedConfig)) *scheduler {
	cfg := schedConfig{nReduce: nReduce, timeout: testTimeout, maxAttempts: 3, backups: true}
	for i := range nMap {
		cfg.splits = append(cfg.splits, split{File: fmt.Sprintf("in-%d", i), Length: -1})
	}
	for _, e := range edit {
		e(&cfg)
	}
	return newScheduler(cfg)
}

// mustAssign asks for work for w and requires an attempt of the given task.
func mustAssign(tb testing.TB, s *scheduler, now time.Time, w int, kind TaskKind, index int) *attempt {
	tb.Helper()
	a, err := s.assign(now, w)
	require.NoError(tb, err)
	require.Equal(tb, assignTask, a.kind, "worker %d got no task", w)
	require.Equal(tb, kind, a.attempt.task.kind, "worker %d", w)
	require.Equal(tb, index, a.attempt.task.index, "worker %d", w)
	return a.attempt
}

func mustWait(tb testing.TB, s *scheduler, now time.Time, w int, want assignKind) {
	tb.Helper()
	a, err := s.assign(now, w)
	require.NoError(tb, err)
	require.Equal(tb, want, a.kind, "worker %d", w)
}

func ref(a *attempt) attemptRef { return attemptRef{a.task.kind, a.task.index, a.id} }

// finish completes attempt a, as its worker would.
func finish(tb testing.TB, s *scheduler, now time.Time, a *attempt) {
	tb.Helper()
	if a.task.kind == ReduceTask {
		granted, err := s.commit(now, a.worker.id, ref(a))
		require.NoError(tb, err)
		require.True(tb, granted)
	}
	out := mapOutput{Addr: a.worker.addr, Path: fmt.Sprintf("map-%d.a%d", a.task.index, a.id)}
	require.NoError(tb, s.complete(now, a.worker.id, ref(a), out, Counters{"c": 1}))
}

func TestTasksAreHandedOutMapsFirstThenReduces(t *testing.T) {
	s := newTestScheduler(2, 2)
	w0, w1 := s.register(t0, "w0"), s.register(t0, "w1")
	m0 := mustAssign(t, s, t0, w0, MapTask, 0)
	m1 := mustAssign(t, s, t0, w1, MapTask, 1)
	finish(t, s, at(time.Second), m0)
	mustWait(t, s, at(time.Second), w0, assignWait) // reduces wait for every map
	assert.Equal(t, PhaseMap, s.phase())
	finish(t, s, at(2*time.Second), m1)
	assert.Equal(t, PhaseReduce, s.phase())
	r0 := mustAssign(t, s, at(2*time.Second), w0, ReduceTask, 0)
	r1 := mustAssign(t, s, at(2*time.Second), w1, ReduceTask, 1)
	finish(t, s, at(3*time.Second), r0)
	finish(t, s, at(3*time.Second), r1)
	assert.Equal(t, PhaseDone, s.phase())
	mustWait(t, s, at(3*time.Second), w0, assignExit)
	assert.False(t, s.allExited(at(3*time.Second), time.Second))
	mustWait(t, s, at(3*time.Second), w1, assignExit)
	assert.True(t, s.allExited(at(3*time.Second), time.Second))
	c := s.counters()
	assert.Equal(t, int64(4), c["c"])
	assert.Equal(t, int64(4), c[CounterAttempts])
	assert.Equal(t, int64(0), c[CounterReexecutions])
}

func TestJobWithNoInputsHasOnlyReduces(t *testing.T) {
	s := newTestScheduler(0, 1)
	w := s.register(t0, "w")
	finish(t, s, t0, mustAssign(t, s, t0, w, ReduceTask, 0))
	mustWait(t, s, t0, w, assignExit)
}

func TestRunningTaskReexecutedWhenWorkerDies(t *testing.T) {
	s := newTestScheduler(1, 1)
	w0, w1 := s.register(t0, "w0"), s.register(t0, "w1")
	mustAssign(t, s, t0, w0, MapTask, 0)
	mustWait(t, s, t0, w1, assignWait)
	// w1 keeps asking; w0 goes silent.
	s.tick(at(testTimeout))
	mustWait(t, s, at(testTimeout), w1, assignWait)
	s.tick(at(testTimeout + time.Second))
	a := mustAssign(t, s, at(testTimeout+time.Second), w1, MapTask, 0)
	assert.Equal(t, 2, a.id)
	c := s.counters()
	assert.Equal(t, int64(1), c[CounterLostWorkers])
	assert.Equal(t, int64(1), c[CounterReexecutions])
	assert.Equal(t, int64(0), c[CounterFailedAttempts], "a lost attempt is not a failure")
	_, err := s.assign(at(testTimeout+time.Second), w0)
	require.ErrorIs(t, err, ErrUnknownWorker, "a lost worker must register again")
}

func TestMapTaskReexecutedAfterWorkerFailure(t *testing.T) {
	// "Completed map tasks are re-executed on a failure because their
	// output is stored on the local disk(s) of the failed machine."
	s := newTestScheduler(2, 1)
	w0, w1 := s.register(t0, "w0"), s.register(t0, "w1")
	finish(t, s, t0, mustAssign(t, s, t0, w0, MapTask, 0))
	finish(t, s, t0, mustAssign(t, s, t0, w1, MapTask, 1))
	r := mustAssign(t, s, t0, w1, ReduceTask, 0)
	assert.Equal(t, int64(2), s.counters()["c"])

	// w0 dies: its map output is gone. Its counters still count until the
	// task runs again (the job might end first, if every reducer had
	// already read the output), and then the new attempt's replace them.
	_, err := s.heartbeat(at(testTimeout+time.Second), w1, ptr(ref(r)), 1)
	require.NoError(t, err)
	s.tick(at(testTimeout + time.Second))
	assert.Equal(t, PhaseMap, s.phase())
	assert.Equal(t, int64(2), s.counters()["c"])

	// The reduce attempt cannot fetch map 0 from w0 either.
	require.NoError(t, s.fetchFailed(at(11*time.Second), w1, ref(r), 0, mapOutput{Addr: "w0", Path: "map-0.a1"}, false))
	m := mustAssign(t, s, at(11*time.Second), w1, MapTask, 0)
	assert.Equal(t, 2, m.id)
	finish(t, s, at(12*time.Second), m)
	r2 := mustAssign(t, s, at(12*time.Second), w1, ReduceTask, 0)
	finish(t, s, at(13*time.Second), r2)
	assert.Equal(t, PhaseDone, s.phase())
	c := s.counters()
	assert.Equal(t, int64(3), c["c"], "each task's counters once")
	assert.Equal(t, int64(2), c[CounterReexecutions])
}

func TestSharedOutputsSurviveTheirWorker(t *testing.T) {
	s := newTestScheduler(1, 1, func(c *schedConfig) { c.sharedOutput = true })
	w0, w1 := s.register(t0, "w0"), s.register(t0, "w1")
	finish(t, s, t0, mustAssign(t, s, t0, w0, MapTask, 0))
	mustAssign(t, s, at(time.Second), w1, ReduceTask, 0)
	_, err := s.heartbeat(at(testTimeout+time.Second), w1, nil, 0)
	require.NoError(t, err)
	s.tick(at(testTimeout + 2*time.Second))
	assert.Equal(t, PhaseReduce, s.phase())
	assert.Equal(t, int64(0), s.counters()[CounterReexecutions])
}

func TestFetchFailureForStaleOutputIsIgnored(t *testing.T) {
	s := newTestScheduler(1, 1)
	w := s.register(t0, "w0")
	finish(t, s, t0, mustAssign(t, s, t0, w, MapTask, 0))
	r := mustAssign(t, s, t0, w, ReduceTask, 0)
	require.NoError(t, s.fetchFailed(t0, w, ref(r), 0, mapOutput{Addr: "w0", Path: "some older output"}, false))
	assert.Equal(t, PhaseReduce, s.phase())
	require.Error(t, s.fetchFailed(t0, w, ref(r), 5, mapOutput{}, false))
}

func TestStalledAttemptFailsAndIsRetried(t *testing.T) {
	s := newTestScheduler(1, 1)
	w0, w1 := s.register(t0, "w0"), s.register(t0, "w1")
	a := mustAssign(t, s, t0, w0, MapTask, 0)
	for sec := 1; sec <= 10; sec++ { // w0 is alive but its attempt does not move
		now := at(time.Duration(sec) * time.Second)
		cancel, err := s.heartbeat(now, w0, ptr(ref(a)), 0)
		require.NoError(t, err)
		require.False(t, cancel, "second %d", sec)
		s.tick(now)
		mustWait(t, s, now, w1, assignWait)
	}
	now := at(11 * time.Second)
	cancel, err := s.heartbeat(now, w0, ptr(ref(a)), 0)
	require.NoError(t, err)
	assert.True(t, cancel, "the stalled attempt is cancelled")
	mustAssign(t, s, now, w1, MapTask, 0)
	assert.Equal(t, int64(1), s.counters()[CounterFailedAttempts])
	assert.Contains(t, s.status(t0, now).Maps[0].Attempts[0].Err, "no progress for 10s")
}

func TestAttemptOfACrashedWorkerIsLostNotStalled(t *testing.T) {
	// w0 heartbeats for 4 seconds without progress (its attempt started
	// late), then dies. Its attempt is not stalled: nobody is left to say
	// so. It is lost with its worker, at 14 s, and the task is not blamed.
	s := newTestScheduler(1, 1)
	w0, w1 := s.register(t0, "w0"), s.register(t0, "w1")
	a := mustAssign(t, s, t0, w0, MapTask, 0)
	for sec := 1; sec <= 14; sec++ {
		now := at(time.Duration(sec) * time.Second)
		if sec <= 4 {
			_, err := s.heartbeat(now, w0, ptr(ref(a)), 0)
			require.NoError(t, err)
		}
		s.tick(now)
		mustWait(t, s, now, w1, assignWait)
	}
	now := at(15 * time.Second)
	s.tick(now)
	mustAssign(t, s, now, w1, MapTask, 0)
	c := s.counters()
	assert.Equal(t, int64(0), c[CounterFailedAttempts])
	assert.Equal(t, int64(1), c[CounterLostWorkers])
	assert.Equal(t, "lost", s.status(t0, now).Maps[0].Attempts[0].State)
}

func TestProgressKeepsASlowAttemptAlive(t *testing.T) {
	s := newTestScheduler(1, 1)
	w := s.register(t0, "w0")
	a := mustAssign(t, s, t0, w, MapTask, 0)
	for sec := 1; sec <= 60; sec++ {
		now := at(time.Duration(sec) * time.Second)
		cancel, err := s.heartbeat(now, w, ptr(ref(a)), int64(sec))
		require.NoError(t, err)
		require.False(t, cancel)
		s.tick(now)
	}
	finish(t, s, at(61*time.Second), a)
	assert.Equal(t, int64(0), s.counters()[CounterFailedAttempts])
}

func TestJobFailsAfterMaxAttempts(t *testing.T) {
	s := newTestScheduler(2, 1) // maxAttempts 3
	w := s.register(t0, "w0")
	for i := 1; i <= 3; i++ {
		if i == 2 { // the failed task went to the back of the queue
			finish(t, s, t0, mustAssign(t, s, t0, w, MapTask, 1))
		}
		a := mustAssign(t, s, t0, w, MapTask, 0)
		require.Equal(t, i, a.id)
		assert.Equal(t, PhaseMap, s.phase())
		require.NoError(t, s.fail(t0, w, ref(a), fmt.Sprintf("Map panicked: boom %d", i)))
	}
	assert.Equal(t, PhaseFailed, s.phase())
	require.ErrorIs(t, s.err, ErrJobFailed)
	var te *TaskError
	require.ErrorAs(t, s.err, &te)
	assert.Equal(t, TaskError{Kind: MapTask, Index: 0, Attempts: 3, Msg: "Map panicked: boom 3"}, *te)
	assert.Equal(t, "mapreduce: job failed: map task 0 failed 3 times, last: Map panicked: boom 3", s.err.Error())
	mustWait(t, s, t0, w, assignExit)
}

func TestFirstCompletionWinsAndTheOtherIsCancelled(t *testing.T) {
	s := newTestScheduler(2, 1)
	w0, w1 := s.register(t0, "w0"), s.register(t0, "w1")
	finish(t, s, at(time.Second), mustAssign(t, s, t0, w0, MapTask, 0))
	slow := mustAssign(t, s, at(time.Second), w1, MapTask, 1)
	// Near the end of the map phase, idle w0 backs up w1's task once it has
	// run more than twice as long as the average map (1s).
	mustWait(t, s, at(2500*time.Millisecond), w0, assignWait)
	backup := mustAssign(t, s, at(3100*time.Millisecond), w0, MapTask, 1)
	assert.True(t, backup.backup)
	mustWait(t, s, at(3100*time.Millisecond), s.register(t0, "w2"), assignWait) // one backup per task

	finish(t, s, at(3500*time.Millisecond), backup)
	cancel, err := s.heartbeat(at(3600*time.Millisecond), w1, ptr(ref(slow)), 5)
	require.NoError(t, err)
	assert.True(t, cancel, "the loser is told to stop")
	// Its late completion is discarded: the winner's output stays.
	require.NoError(t, s.complete(at(4*time.Second), w1, ref(slow), mapOutput{Addr: "w1"}, Counters{"c": 100}))
	assert.Equal(t, "w0", s.maps[1].output.Addr)
	assert.Equal(t, int64(2), s.counters()["c"])
	assert.Equal(t, int64(1), s.counters()[CounterBackupTasks])
}

func TestNoBackupsWhenSwitchedOff(t *testing.T) {
	s := newTestScheduler(2, 1, func(c *schedConfig) { c.backups = false })
	w0, w1 := s.register(t0, "w0"), s.register(t0, "w1")
	finish(t, s, at(time.Second), mustAssign(t, s, t0, w0, MapTask, 0))
	mustAssign(t, s, t0, w1, MapTask, 1)
	mustWait(t, s, at(time.Hour), w0, assignWait)
}

func TestCommitGoesToOneAttemptAtATime(t *testing.T) {
	s := newTestScheduler(0, 1)
	w0, w1 := s.register(t0, "w0"), s.register(t0, "w1")
	a := mustAssign(t, s, t0, w0, ReduceTask, 0)
	s.duration[ReduceTask], s.done[ReduceTask] = 0, 0
	b := s.start(t0, s.reduces[0], s.workers[w1], true) // a backup, by hand

	granted, err := s.commit(at(time.Second), w0, ref(a))
	require.NoError(t, err)
	require.True(t, granted)
	granted, err = s.commit(at(time.Second), w1, ref(b))
	require.NoError(t, err)
	assert.False(t, granted, "a holds the commit")
	assert.Equal(t, attemptKilled, b.state)

	// If the holder dies before it reports, the grant is revoked and the
	// task runs again; the new attempt may commit (its rename replaces
	// whatever the dead one did).
	_, err = s.heartbeat(at(testTimeout+2*time.Second), w1, nil, 0)
	require.NoError(t, err)
	s.tick(at(testTimeout + 2*time.Second))
	c := mustAssign(t, s, at(testTimeout+2*time.Second), w1, ReduceTask, 0)
	finish(t, s, at(testTimeout+3*time.Second), c)
	assert.Equal(t, PhaseDone, s.phase())
}

func TestReportsFromStrangersAreRejected(t *testing.T) {
	s := newTestScheduler(1, 1)
	w0, w1 := s.register(t0, "w0"), s.register(t0, "w1")
	a := mustAssign(t, s, t0, w0, MapTask, 0)
	require.Error(t, s.complete(t0, w1, ref(a), mapOutput{}, nil), "not w1's attempt")
	require.Error(t, s.fail(t0, w0, attemptRef{MapTask, 0, 7}, "x"))
	require.ErrorIs(t, s.complete(t0, 42, ref(a), mapOutput{}, nil), ErrUnknownWorker)
	_, err := s.commit(t0, w0, ref(a))
	require.Error(t, err, "maps do not commit")
}

func TestAskingAgainAbandonsTheRunningAttempt(t *testing.T) {
	s := newTestScheduler(1, 1)
	w := s.register(t0, "w0")
	a := mustAssign(t, s, t0, w, MapTask, 0)
	b := mustAssign(t, s, t0, w, MapTask, 0)
	assert.Equal(t, attemptLost, a.state)
	assert.Equal(t, 2, b.id)
}

func TestStatusSnapshot(t *testing.T) {
	s := newTestScheduler(2, 1)
	w0 := s.register(t0, "w0:1")
	s.register(t0, "w1:1")
	finish(t, s, at(time.Second), mustAssign(t, s, t0, w0, MapTask, 0))
	mustAssign(t, s, at(time.Second), w0, MapTask, 1)
	st := s.status(t0, at(2*time.Second))
	assert.Equal(t, PhaseMap, st.Phase)
	assert.Equal(t, 2*time.Second, st.Elapsed)
	require.Len(t, st.Maps, 2)
	assert.Equal(t, "done", st.Maps[0].State)
	assert.Equal(t, "in-0", st.Maps[0].Input)
	assert.Equal(t, "running", st.Maps[1].State)
	assert.Equal(t, "busy", st.Workers[0].State)
	assert.Equal(t, "map 1 attempt 1", st.Workers[0].Running)
	assert.Equal(t, "idle", st.Workers[1].State)
	assert.Equal(t, Progress{Phase: PhaseMap, MapsDone: 1, Maps: 2, Reduces: 1, Workers: 2, Elapsed: 2 * time.Second}, st.Progress)
	assert.Equal(t, "map    map 1/2  reduce 0/1  workers 2", st.Progress.String())
}

func ptr[T any](v T) *T { return &v }

// The status page's clock stops when the job ends: a finished job shows
// how long it took, however late the page is read.
func TestStatusElapsedStopsWhenTheJobEnds(t *testing.T) {
	s := newTestScheduler(1, 1)
	w := s.register(t0, "w0")
	finish(t, s, at(time.Second), mustAssign(t, s, t0, w, MapTask, 0))
	assert.Equal(t, 5*time.Second, s.status(t0, at(5*time.Second)).Elapsed, "running: the clock runs")
	finish(t, s, at(7*time.Second), mustAssign(t, s, at(2*time.Second), w, ReduceTask, 0))
	st := s.status(t0, at(time.Hour))
	assert.Equal(t, PhaseDone, st.Phase)
	assert.Equal(t, 7*time.Second, st.Elapsed, "done: the clock stopped at the last reduce")
	assert.Equal(t, 7*time.Second, st.Progress.Elapsed)
}
