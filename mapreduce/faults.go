package mapreduce

import (
	"fmt"
	"time"
)

// A FaultPoint is a moment in a task attempt where a fault hook is asked
// whether the worker should misbehave.
type FaultPoint int

const (
	// BeforeTask: the worker has received the attempt and not started it.
	BeforeTask FaultPoint = iota
	// BeforeCommit: the attempt's output is complete but not committed (a
	// map attempt has not reported it; a reduce attempt has not renamed its
	// file into place).
	BeforeCommit
	// AfterCommit: a map attempt has reported its output, so reducers will
	// come to fetch it; a reduce attempt has renamed its output file but
	// not yet reported.
	AfterCommit
)

// String returns the point's name, "before task" say.
func (p FaultPoint) String() string {
	switch p {
	case BeforeTask:
		return "before task"
	case BeforeCommit:
		return "before commit"
	case AfterCommit:
		return "after commit"
	}
	return fmt.Sprintf("FaultPoint(%d)", int(p))
}

// A FaultEvent tells a fault hook where a worker is.
type FaultEvent struct {
	Worker  string     // the worker's address
	Kind    TaskKind   // the task's kind
	Index   int        // the task's number
	Attempt int        // the attempt's number, from 1
	Point   FaultPoint // where in the attempt the worker is
}

// A Fault is what a fault hook tells a worker to do. The zero Fault is
// "carry on".
type Fault struct {
	// Crash makes the worker die on the spot: it stops serving its map
	// output, stops heartbeating and abandons its attempt, as if its
	// machine had lost power. Run starts a fresh worker in its place; a
	// worker started by RunWorker returns an error.
	Crash bool
	// Delay makes the worker stall for this long first (a slow disk, a
	// busy machine). The attempt makes no progress meanwhile, so a delay
	// longer than the timeout gets it declared stalled.
	Delay time.Duration
}

// A FaultHook is called by a worker at each FaultPoint of each attempt;
// its answer injects a fault. It must be safe for concurrent use (Run's
// workers share it) and should be a deterministic function of its event,
// so that a failing test can be replayed.
type FaultHook func(FaultEvent) Fault

// FaultRates describes random faults, drawn from Seed. The hook it makes
// decides from the seed and the attempt alone (not from the order in which
// workers ask), so the same attempt meets the same fault in every run.
//
// Crash rates feed on themselves: a crash loses every map output its
// worker held, and their re-executions may crash too. When the crash
// probability times the number of map outputs a worker holds nears 1,
// each crash causes about one more, and a job may not end; the scheduler
// then fails it (past 32 × MaxAttempts losses per task, over the whole
// job; see the package documentation). Attempts bounds
// the faults to a task's first attempts, so that every job ends.
type FaultRates struct {
	Seed              int64         // the same seed injects the same faults
	CrashBeforeCommit float64       // probability that an attempt's worker crashes before it commits
	CrashAfterCommit  float64       // probability that it crashes right after
	Slow              float64       // probability that an attempt starts SlowDelay late
	SlowDelay         time.Duration // how late a slow attempt starts
	// Attempts, if positive, limits the faults to each task's first
	// Attempts attempts; later attempts run undisturbed. Zero means every
	// attempt may meet a fault.
	Attempts int
}

// Hook returns the FaultHook that injects r's faults.
func (r FaultRates) Hook() FaultHook {
	return func(e FaultEvent) Fault {
		if r.Attempts > 0 && e.Attempt > r.Attempts {
			return Fault{}
		}
		p := r.draw(e)
		switch e.Point {
		case BeforeTask:
			if p < r.Slow {
				return Fault{Delay: r.SlowDelay}
			}
		case BeforeCommit:
			return Fault{Crash: p < r.CrashBeforeCommit}
		case AfterCommit:
			return Fault{Crash: p < r.CrashAfterCommit}
		}
		return Fault{}
	}
}

// draw returns a number in [0, 1) determined by the seed and the event
// (SplitMix64 over its fields).
func (r FaultRates) draw(e FaultEvent) float64 {
	x := uint64(r.Seed)
	for _, v := range []int{int(e.Kind), e.Index, e.Attempt, int(e.Point)} {
		x += uint64(v) + 0x9e3779b97f4a7c15
		x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
		x = (x ^ x>>27) * 0x94d049bb133111eb
		x ^= x >> 31
	}
	return float64(x>>11) / (1 << 53)
}
