package mapreduce

import (
	"fmt"
	"time"
)

// This file holds what the scheduler does when workers report back, and
// when time passes.

// lookup finds attempt ref of worker id.
func (s *scheduler) lookup(now time.Time, id int, ref attemptRef) (*attempt, error) {
	w, err := s.worker(now, id)
	if err != nil {
		return nil, err
	}
	tasks := s.maps
	if ref.Kind == ReduceTask {
		tasks = s.reduces
	}
	if ref.Index < 0 || ref.Index >= len(tasks) || ref.Attempt < 1 || ref.Attempt > len(tasks[ref.Index].attempts) {
		return nil, fmt.Errorf("mapreduce: no %v task %d attempt %d", ref.Kind, ref.Index, ref.Attempt)
	}
	a := tasks[ref.Index].attempts[ref.Attempt-1]
	if a.worker != w {
		return nil, fmt.Errorf("mapreduce: %v task %d attempt %d is not worker %d's", ref.Kind, ref.Index, ref.Attempt, id)
	}
	return a, nil
}

// An attemptRef names an attempt.
type attemptRef struct {
	Kind    TaskKind
	Index   int
	Attempt int
}

// complete records that attempt ref of worker id finished: out is where a
// map attempt's output is, counters are the attempt's. The first attempt
// of a task to complete wins; a later one (a lost backup race, an attempt
// that timed out meanwhile, a reduce attempt without the commit) is
// discarded, and its worker may delete its output.
func (s *scheduler) complete(now time.Time, id int, ref attemptRef, out mapOutput, counters Counters) error {
	a, err := s.lookup(now, id, ref)
	if err != nil {
		return err
	}
	if a.worker.running == a {
		a.worker.running = nil
	}
	t := a.task
	if a.state != attemptRunning || t.state == taskDone || (t.kind == ReduceTask && t.commit != a) {
		if a.state == attemptRunning {
			a.state, a.end = attemptKilled, now
		}
		return nil
	}
	a.state, a.end = attemptSucceeded, now
	a.worker.finished++
	t.state, t.winner, t.counters = taskDone, a, counters
	if t.kind == MapTask {
		t.output = out
	}
	s.done[t.kind]++
	if s.phase() == PhaseDone {
		s.ended = now
	}
	s.duration[t.kind] += now.Sub(a.start)
	for _, other := range t.attempts {
		if other.state == attemptRunning {
			other.state, other.end, other.err = attemptKilled, now, fmt.Sprintf("attempt %d finished first", a.id)
		}
	}
	return nil
}

// fail records that attempt ref of worker id failed with msg: its Map or
// Reduce panicked, or it could not read its input or write its output.
func (s *scheduler) fail(now time.Time, id int, ref attemptRef, msg string) error {
	a, err := s.lookup(now, id, ref)
	if err != nil {
		return err
	}
	if a.worker.running == a {
		a.worker.running = nil
	}
	s.endAttempt(now, a, attemptFailed, msg)
	return nil
}

// fetchFailed records that reduce attempt ref of worker id could not fetch
// the output of map task m from out. The reduce attempt ends (it is not the
// reduce task's fault), and map task m is re-executed if out is still its
// output. Reduce tasks wait until it is done again.
//
// If unreachable, the reducer confirmed that the worker serving out could
// not be reached at all (see worker.fetchConfirmed), not merely that one
// output was missing or corrupt. Then that worker is declared lost at
// once, as if it had been silent for the timeout: its running attempt and
// every map output it served are re-executed in one step, rather than one
// fetch failure (and one return to the map phase) at a time.
func (s *scheduler) fetchFailed(now time.Time, id int, ref attemptRef, m int, out mapOutput, unreachable bool) error {
	a, err := s.lookup(now, id, ref)
	if err != nil {
		return err
	}
	if ref.Kind != ReduceTask || m < 0 || m >= len(s.maps) {
		return fmt.Errorf("mapreduce: bad fetch failure report for map task %d", m)
	}
	if a.worker.running == a {
		a.worker.running = nil
	}
	s.endAttempt(now, a, attemptLost, fmt.Sprintf("could not fetch map task %d's output from %s", m, out.Addr))
	mt := s.maps[m]
	if mt.state != taskDone || mt.output.Addr != out.Addr || mt.output.Path != out.Path {
		return nil // stale: the output has moved on since the reducer was told
	}
	if w := mt.winner.worker; unreachable && !w.lost && w != a.worker {
		s.loseWorker(now, w)
		if mt.state != taskDone {
			return nil
		}
	}
	s.resetMap(now, mt, "output unreachable")
	return nil
}

// resetMap makes a completed map task idle again: its output is lost.
func (s *scheduler) resetMap(now time.Time, t *task, why string) {
	a := t.winner
	a.state, a.err = attemptLost, why
	s.done[MapTask]--
	s.duration[MapTask] -= a.end.Sub(a.start)
	// t.counters stay until another attempt wins: the reduce tasks that
	// read the lost output before it was lost have used it, and if the
	// job ends before the task runs again, its counters still count.
	t.winner, t.output = nil, mapOutput{}
	s.makeIdle(t)
}

// commit asks, for reduce attempt ref of worker id, for the right to
// rename its output into place. It is granted to one running attempt at a
// time; an attempt that is refused is over, and its worker discards its
// output.
func (s *scheduler) commit(now time.Time, id int, ref attemptRef) (granted bool, err error) {
	a, err := s.lookup(now, id, ref)
	if err != nil {
		return false, err
	}
	t := a.task
	if t.kind != ReduceTask {
		return false, fmt.Errorf("mapreduce: commit of a %v task", t.kind)
	}
	if a.state != attemptRunning || t.state == taskDone {
		return false, nil
	}
	if t.commit != nil && t.commit != a && t.commit.state == attemptRunning {
		s.endAttempt(now, a, attemptKilled, fmt.Sprintf("attempt %d holds the commit", t.commit.id))
		return false, nil
	}
	t.commit = a
	return true, nil
}

// heartbeat records that worker id is alive and, if ref is not nil, how
// far its attempt ref has got. It returns true if the worker should
// abandon that attempt: another attempt won, it stalled, or the job is
// over.
//
// An attempt has stalled when its worker, alive and heartbeating, reports
// no progress for the timeout. Only a heartbeat can tell: a worker that
// falls silent may have died, and then its attempt is lost with it (see
// tick), which is not the task's fault. (Judging stalls by the clock alone
// blamed the task for its worker's crash: an attempt started at 0 on a
// worker that died at 4 s was "stalled" at 10 s, before its worker was
// "lost" at 14 s, and a few crashes failed the job.)
func (s *scheduler) heartbeat(now time.Time, id int, ref *attemptRef, progress int64) (cancel bool, err error) {
	w, err := s.worker(now, id)
	if err != nil {
		return false, err
	}
	if ref == nil {
		return false, nil
	}
	a, err := s.lookup(now, w.id, *ref)
	if err != nil {
		return false, err
	}
	switch {
	case a.state != attemptRunning:
	case progress > a.progress:
		a.progress, a.lastProgress = progress, now
	case now.Sub(a.lastProgress) > s.cfg.timeout:
		s.endAttempt(now, a, attemptFailed, fmt.Sprintf("no progress for %v", s.cfg.timeout))
	}
	return a.state != attemptRunning || s.finished(), nil
}

// tick declares lost the workers that have been silent for the timeout.
func (s *scheduler) tick(now time.Time) {
	for _, w := range s.workers {
		if !w.lost && !w.exited && now.Sub(w.lastSeen) > s.cfg.timeout {
			s.loseWorker(now, w)
		}
	}
}

// loseWorker gives up on w: its running attempt is lost, and so are its
// completed map tasks' outputs if they lived on its disk and some reduce
// task may still need them.
func (s *scheduler) loseWorker(now time.Time, w *workerInfo) {
	w.lost = true
	s.stats.lostWorkers++
	if a := w.running; a != nil {
		if a.state == attemptRunning && a.task.state != taskDone {
			s.lostWithWorker(now, a.task)
		}
		s.endAttempt(now, a, attemptLost, "worker lost")
		w.running = nil
	}
	if s.cfg.sharedOutput || s.finished() {
		return
	}
	for _, t := range s.maps {
		if t.state == taskDone && t.winner.worker == w {
			s.lostWithWorker(now, t)
			s.resetMap(now, t, "output lost with its worker")
		}
	}
}

// lostFactor bounds the work lost with workers: when the attempts and
// completed outputs lost with their workers outnumber lostFactor times
// maxAttempts times the number of tasks, the job fails, blaming the task
// lost most often. Such losses are not the tasks' fault, but when workers
// die faster than the job can progress (each crash loses every map output
// its worker held, whose re-executions crash in turn), nothing else would
// end it. The bound is on the whole job, not per task: the same task (the
// first in the queue, which every fresh worker is given) may be lost many
// times in a job that progresses well.
const lostFactor = 32

// lostWithWorker counts a loss of t's work with its worker, and fails the
// job past the bound (see lostFactor).
func (s *scheduler) lostWithWorker(now time.Time, t *task) {
	t.lost++
	s.stats.lost++
	if s.stats.lost <= lostFactor*s.cfg.maxAttempts*(len(s.maps)+len(s.reduces)) || s.err != nil {
		return
	}
	worst := t
	for _, tasks := range [][]*task{s.maps, s.reduces} {
		for _, u := range tasks {
			if u.lost > worst.lost {
				worst = u
			}
		}
	}
	s.err = jobFailed(worst.kind, worst.index, worst.lost, fmt.Sprintf(
		"lost with its worker %d times, and the job's tasks %d times in all (more than %d × max attempts × tasks): workers die faster than the job progresses",
		worst.lost, s.stats.lost, lostFactor))
	s.ended = now
}

// allExited reports whether every live worker has been told that the job
// is over, leaving out the workers not heard from for more than grace: a
// live worker heartbeats every heartbeat, so one silent that long has
// probably crashed, and waiting for it would only wait for the timeout to
// declare it lost.
func (s *scheduler) allExited(now time.Time, grace time.Duration) bool {
	for _, w := range s.workers {
		if !w.lost && !w.exited && now.Sub(w.lastSeen) <= grace {
			return false
		}
	}
	return true
}

// counters sums the counters of the tasks' winning attempts (one per
// task: the latest, for a map task that ran again) and adds the job
// counters.
func (s *scheduler) counters() Counters {
	c := Counters{}
	for _, tasks := range [][]*task{s.maps, s.reduces} {
		for _, t := range tasks {
			c.add(t.counters)
		}
	}
	c[CounterMapTasks] = int64(len(s.maps))
	c[CounterReduceTasks] = int64(len(s.reduces))
	c[CounterAttempts] = int64(s.stats.attempts)
	c[CounterReexecutions] = int64(s.stats.reexecutions)
	c[CounterBackupTasks] = int64(s.stats.backups)
	c[CounterFailedAttempts] = int64(s.stats.failed)
	c[CounterLostWorkers] = int64(s.stats.lostWorkers)
	return c
}
