package mapreduce

import (
	"time"

	"github.com/distsys-kit/distsys/mapreduce/internal/extsort"
)

// The scheduler is the coordinator's brain, as a plain struct: no
// goroutines, no I/O, no clock. Every method takes the current time, so a
// test drives it step by step, and the Coordinator wraps it with the rpc
// service, a ticker and a mutex. The rules it implements are the paper's:
//
//   - Workers ask for work; idle tasks are handed out in order, maps first
//     (once minWorkers workers have registered). Reduce tasks start once
//     every map task is done.
//   - A worker that has not been heard from for the timeout is lost: its
//     running attempt is re-executed elsewhere, and so are its completed map
//     tasks, whose output lived on its disk (unless outputs are on a shared
//     file system, or every reduce task is already done).
//   - An attempt whose worker keeps heartbeating but reports no progress
//     for the timeout has stalled; it counts as a failure. After
//     maxAttempts failures of one task the job fails. An attempt lost with
//     its worker is not the task's fault and does not count, up to a
//     bound: more than lostFactor × maxAttempts × tasks such losses in
//     all fail the job.
//   - Near the end of a phase, when no task is idle, a worker that asks for
//     work gets a backup copy of a task that has run for more than twice as
//     long as the phase's completed tasks took on average. The first copy
//     to finish wins; the other is cancelled.
//   - The first completion of a task counts, and only its counters. A
//     reduce attempt must be granted the commit (the rename of its output)
//     by the scheduler; only one running attempt holds the grant.
type scheduler struct {
	cfg      schedConfig
	maps     []*task
	reduces  []*task
	queue    [2][]*task    // idle tasks by kind, in order; stale entries are skipped
	workers  []*workerInfo // by id
	done     [2]int        // completed tasks by kind
	duration [2]time.Duration
	stats    jobStats
	err      error     // set when the job has failed
	ended    time.Time // when the job was done or failed; zero before
}

// schedConfig is what the scheduler needs to know of the job and options.
type schedConfig struct {
	splits       []split
	nReduce      int
	minWorkers   int // no task is handed out before this many workers registered
	timeout      time.Duration
	maxAttempts  int
	backups      bool
	sharedOutput bool // map outputs stay reachable when their worker is lost
}

// jobStats are the coordinator's own counters.
type jobStats struct {
	attempts, reexecutions, backups, failed, lostWorkers int
	lost                                                 int // attempts and outputs lost with their workers
}

type taskState int

const (
	taskIdle taskState = iota
	taskRunning
	taskDone
)

type attemptState int

const (
	attemptRunning   attemptState = iota
	attemptSucceeded              // its output counts
	attemptFailed                 // the user function failed, or it stalled
	attemptLost                   // its worker was lost, or abandoned it
	attemptKilled                 // another attempt won, or it lost the commit
)

type task struct {
	kind     TaskKind
	index    int
	state    taskState
	attempts []*attempt
	failures int
	lost     int // times an attempt or output was lost with its worker
	lastErr  string
	winner   *attempt  // the attempt whose output counts, once done
	output   mapOutput // a map task's output, once done
	counters Counters  // the winner's counters
	commit   *attempt  // a reduce task's attempt granted the commit
}

type attempt struct {
	task         *task
	id           int // 1, 2, ... within its task
	worker       *workerInfo
	backup       bool
	state        attemptState
	start, end   time.Time
	lastProgress time.Time
	progress     int64
	err          string
}

type workerInfo struct {
	id       int
	addr     string
	lastSeen time.Time
	lost     bool
	exited   bool     // told that the job is over
	running  *attempt // the attempt it was last given, until it asks again
	finished int      // attempts it completed
}

// A mapOutput says where a completed map task's output is: the file Path
// on the worker at Addr (or on the shared file system), and its segments.
type mapOutput struct {
	Addr string
	Path string
	Segs []extsort.Segment
}

func newScheduler(cfg schedConfig) *scheduler {
	s := &scheduler{cfg: cfg}
	for i := range cfg.splits {
		s.maps = append(s.maps, &task{kind: MapTask, index: i})
	}
	for i := range cfg.nReduce {
		s.reduces = append(s.reduces, &task{kind: ReduceTask, index: i})
	}
	s.queue[MapTask] = append([]*task(nil), s.maps...)
	s.queue[ReduceTask] = append([]*task(nil), s.reduces...)
	return s
}

// register adds a worker whose map output server is at addr.
func (s *scheduler) register(now time.Time, addr string) int {
	w := &workerInfo{id: len(s.workers), addr: addr, lastSeen: now}
	s.workers = append(s.workers, w)
	return w.id
}

// worker returns the live worker id, or ErrUnknownWorker.
func (s *scheduler) worker(now time.Time, id int) (*workerInfo, error) {
	if id < 0 || id >= len(s.workers) || s.workers[id].lost {
		return nil, ErrUnknownWorker
	}
	w := s.workers[id]
	w.lastSeen = now
	return w, nil
}

// finished reports whether the job is over, well or badly.
func (s *scheduler) finished() bool {
	return s.err != nil || s.done[ReduceTask] == len(s.reduces)
}

// assignKind says what a worker should do next.
type assignKind int

const (
	assignWait assignKind = iota // nothing to do now: ask again
	assignExit                   // the job is over
	assignTask                   // run the attempt
)

// An assignment is the scheduler's answer to a worker asking for work.
type assignment struct {
	kind    assignKind
	attempt *attempt
}

// assign gives worker id its next attempt. A worker asks only when it is
// not running anything, so an attempt it still holds is abandoned.
func (s *scheduler) assign(now time.Time, id int) (assignment, error) {
	w, err := s.worker(now, id)
	if err != nil {
		return assignment{}, err
	}
	if a := w.running; a != nil && a.state == attemptRunning {
		s.endAttempt(now, a, attemptLost, "abandoned by its worker")
	}
	w.running = nil
	if s.finished() {
		w.exited = true
		return assignment{kind: assignExit}, nil
	}
	if len(s.workers) < s.cfg.minWorkers { // workers are never removed
		return assignment{kind: assignWait}, nil
	}
	kind := MapTask
	if s.done[MapTask] == len(s.maps) {
		kind = ReduceTask
	}
	if t := s.nextIdle(kind); t != nil {
		return assignment{kind: assignTask, attempt: s.start(now, t, w, false)}, nil
	}
	if t := s.backupCandidate(now, kind, w); t != nil {
		return assignment{kind: assignTask, attempt: s.start(now, t, w, true)}, nil
	}
	return assignment{kind: assignWait}, nil
}

// nextIdle pops the first idle task of kind off its queue.
func (s *scheduler) nextIdle(kind TaskKind) *task {
	q := s.queue[kind]
	for len(q) > 0 {
		t := q[0]
		q = q[1:]
		if t.state == taskIdle {
			s.queue[kind] = q
			return t
		}
	}
	s.queue[kind] = q
	return nil
}

// backupCandidate returns the task of kind that most deserves a backup
// copy on worker w, or nil: a task running on one other worker only, never
// backed up before, and running for more than twice as long as the average
// completed task of its kind took (a straggler, not merely the last task
// to start), the longest-running first.
func (s *scheduler) backupCandidate(now time.Time, kind TaskKind, w *workerInfo) *task {
	if !s.cfg.backups || s.done[kind] == 0 {
		return nil
	}
	avg := s.duration[kind] / time.Duration(s.done[kind])
	tasks := s.maps
	if kind == ReduceTask {
		tasks = s.reduces
	}
	var best *attempt
	for _, t := range tasks {
		a := t.soleRunning()
		if a == nil || a.worker == w || t.hasBackup() || now.Sub(a.start) <= 2*avg {
			continue
		}
		if best == nil || a.start.Before(best.start) {
			best = a
		}
	}
	if best == nil {
		return nil
	}
	return best.task
}

// soleRunning returns t's running attempt if it has exactly one.
func (t *task) soleRunning() *attempt {
	var found *attempt
	for _, a := range t.attempts {
		if a.state == attemptRunning {
			if found != nil {
				return nil
			}
			found = a
		}
	}
	return found
}

func (t *task) hasBackup() bool {
	for _, a := range t.attempts {
		if a.backup {
			return true
		}
	}
	return false
}

func (t *task) running() bool {
	for _, a := range t.attempts {
		if a.state == attemptRunning {
			return true
		}
	}
	return false
}

// start begins a new attempt of t on w.
func (s *scheduler) start(now time.Time, t *task, w *workerInfo, backup bool) *attempt {
	a := &attempt{task: t, id: len(t.attempts) + 1, worker: w, backup: backup, start: now, lastProgress: now}
	s.stats.attempts++
	switch {
	case backup:
		s.stats.backups++
	case len(t.attempts) > 0:
		s.stats.reexecutions++
	}
	t.attempts = append(t.attempts, a)
	t.state = taskRunning
	w.running = a
	return a
}

// endAttempt records how a running attempt ended, and makes its task idle
// again if nothing else runs it. A failure counts against the task, and
// fails the job when it is the last allowed.
func (s *scheduler) endAttempt(now time.Time, a *attempt, state attemptState, msg string) {
	if a.state != attemptRunning {
		return
	}
	t := a.task
	a.state, a.end, a.err = state, now, msg
	if t.commit == a {
		t.commit = nil
	}
	if state == attemptFailed {
		s.stats.failed++
	}
	if t.state == taskDone {
		return
	}
	if state == attemptFailed {
		t.failures++
		t.lastErr = msg
		if t.failures >= s.cfg.maxAttempts && s.err == nil {
			s.err = jobFailed(t.kind, t.index, t.failures, msg)
			s.ended = now
		}
	}
	if !t.running() {
		s.makeIdle(t)
	}
}

func (s *scheduler) makeIdle(t *task) {
	t.state = taskIdle
	s.queue[t.kind] = append(s.queue[t.kind], t)
}
