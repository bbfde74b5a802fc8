package mapreduce

import (
	"fmt"
	"time"
)

// Phase is where a job is.
type Phase string

// The phases of a job.
const (
	PhaseMap    Phase = "map"    // some map task is not done
	PhaseReduce Phase = "reduce" // every map task is done, some reduce task is not
	PhaseDone   Phase = "done"   // every reduce task is done: the output is complete
	PhaseFailed Phase = "failed" // a task failed too often, or the coordinator closed
)

// Progress is a summary of a job, passed to the WithProgress callback each
// time a task or worker changes state.
type Progress struct {
	Phase          Phase         // where the job is
	MapsDone       int           // map tasks done, of Maps
	Maps           int           // map tasks in the job
	ReducesDone    int           // reduce tasks done, of Reduces
	Reduces        int           // reduce tasks in the job
	Workers        int           // live workers
	Reexecutions   int           // as CounterReexecutions
	Backups        int           // as CounterBackupTasks
	FailedAttempts int           // as CounterFailedAttempts
	LostWorkers    int           // as CounterLostWorkers
	Elapsed        time.Duration // since the coordinator was created
}

// String formats p as one line, for a progress display.
func (p Progress) String() string {
	s := fmt.Sprintf("%-6s map %d/%d  reduce %d/%d  workers %d", p.Phase, p.MapsDone, p.Maps, p.ReducesDone, p.Reduces, p.Workers)
	if p.Reexecutions+p.Backups+p.FailedAttempts+p.LostWorkers > 0 {
		s += fmt.Sprintf("  re-executions %d  backups %d  failed %d  lost workers %d",
			p.Reexecutions, p.Backups, p.FailedAttempts, p.LostWorkers)
	}
	return s
}

// Status is a snapshot of a job: every task with its attempts, every
// worker, and the counters. Coordinator.Status returns it, and the status
// page (Coordinator.Handler) shows it.
type Status struct {
	Job      string         // Job.Name
	Phase    Phase          // where the job is
	Err      string         // why the job failed, if it did
	Start    time.Time      // when the coordinator was created
	Elapsed  time.Duration  // since Start, until the job ended
	Progress Progress       // the summary WithProgress gets
	Maps     []TaskStatus   // by task number
	Reduces  []TaskStatus   // by task number
	Workers  []WorkerStatus // by worker id, lost ones included
	Counters Counters       // as Result.Counters, so far
}

// TaskStatus describes one task.
type TaskStatus struct {
	Kind     TaskKind        // MapTask or ReduceTask
	Index    int             // the task's number within its kind
	State    string          // "idle", "running" or "done"
	Input    string          // a map task's split: "file" or "file[offset:end]"
	Attempts []AttemptStatus // in the order they started
}

// AttemptStatus describes one attempt of a task.
type AttemptStatus struct {
	ID     int       // 1, 2, ... within its task
	Worker int       // the id of the worker that ran it
	Backup bool      // a backup copy, started near the end of a phase
	State  string    // "running", "succeeded", "failed", "lost" or "killed"
	Start  time.Time // when it was handed out
	End    time.Time // zero while running
	Err    string    // why it failed, was lost or killed
}

// WorkerStatus describes one worker.
type WorkerStatus struct {
	ID       int       // numbered from 0 in order of registration
	Addr     string    // where its map output server listens
	State    string    // "idle", "busy", "lost" or "exited"
	Running  string    // the attempt it runs, like "map 3 attempt 2"
	LastSeen time.Time // when the coordinator last heard from it
	Finished int       // attempts it completed
}

func (s taskState) String() string {
	return [...]string{"idle", "running", "done"}[s]
}

func (s attemptState) String() string {
	return [...]string{"running", "succeeded", "failed", "lost", "killed"}[s]
}

func (sp split) String() string {
	if sp.Offset == 0 && sp.Length < 0 {
		return sp.File
	}
	if sp.Length < 0 {
		return fmt.Sprintf("%s[%d:]", sp.File, sp.Offset)
	}
	return fmt.Sprintf("%s[%d:%d]", sp.File, sp.Offset, sp.Offset+sp.Length)
}

// phase returns where the job is.
func (s *scheduler) phase() Phase {
	switch {
	case s.err != nil:
		return PhaseFailed
	case s.done[ReduceTask] == len(s.reduces):
		return PhaseDone
	case s.done[MapTask] < len(s.maps):
		return PhaseMap
	}
	return PhaseReduce
}

// progress summarizes the job.
func (s *scheduler) progress(elapsed time.Duration) Progress {
	live := 0
	for _, w := range s.workers {
		if !w.lost && !w.exited {
			live++
		}
	}
	return Progress{
		Phase:    s.phase(),
		MapsDone: s.done[MapTask], Maps: len(s.maps),
		ReducesDone: s.done[ReduceTask], Reduces: len(s.reduces),
		Workers:      live,
		Reexecutions: s.stats.reexecutions, Backups: s.stats.backups,
		FailedAttempts: s.stats.failed, LostWorkers: s.stats.lostWorkers,
		Elapsed: elapsed,
	}
}

// status takes a snapshot of the job. The clock stops when the job ends:
// a job that is over shows how long it took.
func (s *scheduler) status(start, now time.Time) Status {
	if !s.ended.IsZero() {
		now = s.ended
	}
	st := Status{
		Phase:    s.phase(),
		Start:    start,
		Elapsed:  now.Sub(start),
		Counters: s.counters(),
	}
	st.Progress = s.progress(st.Elapsed)
	if s.err != nil {
		st.Err = s.err.Error()
	}
	for i, t := range s.maps {
		ts := t.status()
		ts.Input = s.cfg.splits[i].String()
		st.Maps = append(st.Maps, ts)
	}
	for _, t := range s.reduces {
		st.Reduces = append(st.Reduces, t.status())
	}
	for _, w := range s.workers {
		ws := WorkerStatus{ID: w.id, Addr: w.addr, State: "idle", LastSeen: w.lastSeen, Finished: w.finished}
		switch {
		case w.lost:
			ws.State = "lost"
		case w.exited:
			ws.State = "exited"
		case w.running != nil && w.running.state == attemptRunning:
			a := w.running
			ws.State = "busy"
			ws.Running = fmt.Sprintf("%v %d attempt %d", a.task.kind, a.task.index, a.id)
		}
		st.Workers = append(st.Workers, ws)
	}
	return st
}

func (t *task) status() TaskStatus {
	ts := TaskStatus{Kind: t.kind, Index: t.index, State: t.state.String()}
	for _, a := range t.attempts {
		ts.Attempts = append(ts.Attempts, AttemptStatus{
			ID: a.id, Worker: a.worker.id, Backup: a.backup, State: a.state.String(),
			Start: a.start, End: a.end, Err: a.err,
		})
	}
	return ts
}
