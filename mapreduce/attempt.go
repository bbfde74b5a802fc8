package mapreduce

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/distsys-kit/distsys/mapreduce/internal/extsort"
)

// ErrCrashed is returned by RunWorker when its fault hook crashed it (see
// Fault.Crash).
var ErrCrashed = errors.New("mapreduce: worker crashed by its fault hook")

// attempt runs one task attempt and reports how it ended. It returns an
// error only if the worker must stop: it crashed, lost its coordinator, or
// ctx ended. A failed attempt is reported, not returned.
func (w *worker) attempt(ctx context.Context, reply *taskReply) error {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &running{ref: reply.Task, cancel: cancel}
	w.mu.Lock()
	w.running = r
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.running = nil
		w.mu.Unlock()
	}()

	f := w.fault(reply.Task, BeforeTask)
	if f.Crash {
		return ErrCrashed
	}
	if f.Delay > 0 {
		w.log.Info("fault: slow attempt", "task", reply.Task.Kind, "index", reply.Task.Index, "delay", f.Delay)
		if pause(actx, f.Delay) != nil {
			return w.stopped(ctx)
		}
	}
	env := taskEnv{job: &w.job, scratch: w.scratch, memLimit: w.o.memLimit, progress: &r.progress, done: actx.Done(), keys: &w.mapKeys}
	if reply.Task.Kind == MapTask {
		return w.runMap(ctx, actx, env, reply)
	}
	return w.runReduce(ctx, actx, env, reply)
}

// stopped is what attempt returns when its attempt was cut short: nil if
// only the attempt was cancelled (by the coordinator), or why the worker
// must stop.
func (w *worker) stopped(ctx context.Context) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// fault asks the fault hook, if any, what to do at point p of attempt ref.
func (w *worker) fault(ref attemptRef, p FaultPoint) Fault {
	if w.o.faults == nil {
		return Fault{}
	}
	f := w.o.faults(FaultEvent{Worker: w.addr, Kind: ref.Kind, Index: ref.Index, Attempt: ref.Attempt, Point: p})
	if f.Crash {
		w.log.Info("fault: crash", "task", ref.Kind, "index", ref.Index, "attempt", ref.Attempt, "point", p)
	}
	return f
}

// runMap runs a map attempt, and reports its output. The output stays on
// this worker (or in the shared directory), and the worker serves it to
// the reducers.
func (w *worker) runMap(ctx, actx context.Context, env taskEnv, reply *taskReply) error {
	ref := reply.Task
	dir := w.scratch
	if w.shared != "" {
		dir = w.shared
	}
	out := filepath.Join(dir, fmt.Sprintf("map-%05d.a%d", ref.Index, ref.Attempt))
	rf, counters, err := runMapTask(env, reply.Split, out)
	if err != nil {
		if actx.Err() != nil {
			return w.stopped(ctx)
		}
		return w.report(ctx, &doneArgs{Task: ref, Err: err.Error()})
	}
	if w.fault(ref, BeforeCommit).Crash {
		os.Remove(rf.Path)
		return ErrCrashed
	}
	w.mu.Lock()
	w.served[rf.Path] = rf
	w.mu.Unlock()
	err = w.report(ctx, &doneArgs{Task: ref, Output: mapOutput{Addr: w.addr, Path: rf.Path, Segs: rf.Segs}, Counters: counters})
	if err != nil {
		return err
	}
	if w.fault(ref, AfterCommit).Crash {
		return ErrCrashed
	}
	return nil
}

// runReduce runs a reduce attempt: it gathers its segment of every map
// task's output (fetching those of other workers), reduces them into a
// temporary file, asks the coordinator for the commit, renames the file
// into place, and reports.
func (w *worker) runReduce(ctx, actx context.Context, env taskEnv, reply *taskReply) error {
	ref := reply.Task
	var in []segmentFile
	var fetched []string
	defer func() {
		for _, p := range fetched {
			os.Remove(p)
		}
	}()
	var shuffled int64
	for m, mo := range reply.Maps {
		if len(mo.Segs) != w.job.NReduce {
			return w.report(ctx, &doneArgs{Task: ref, Err: fmt.Sprintf("map task %d has %d segments, want %d", m, len(mo.Segs), w.job.NReduce)})
		}
		seg := mo.Segs[ref.Index]
		if seg.Length == 0 {
			continue
		}
		if w.shared != "" || mo.Addr == w.addr {
			in = append(in, segmentFile{Path: mo.Path, Seg: seg})
			continue
		}
		path := filepath.Join(w.scratch, fmt.Sprintf("reduce-%05d.a%d.m%05d", ref.Index, ref.Attempt, m))
		fetched = append(fetched, path)
		if err := w.fetchConfirmed(actx, mo, seg, path, env.progress); err != nil {
			if actx.Err() != nil {
				return w.stopped(ctx)
			}
			unreachable := peerUnreachable(err)
			w.log.Info("fetch failed", "map", m, "from", mo.Addr, "unreachable", unreachable, "err", err)
			return w.report(ctx, &doneArgs{Task: ref, FetchFailed: true, FailedMap: m, FailedOutput: mo, Unreachable: unreachable})
		}
		shuffled += seg.Length
		in = append(in, segmentFile{Path: path, Seg: extsort.Segment{Length: seg.Length, CRC: seg.CRC}})
	}

	final := OutputFile(w.job.OutputDir, ref.Index)
	tmp := filepath.Join(w.job.OutputDir, fmt.Sprintf(".part-%05d.w%d.a%d.tmp", ref.Index, w.workerID(), ref.Attempt))
	counters, err := runReduceTask(env, in, tmp)
	if err != nil {
		if actx.Err() != nil {
			return w.stopped(ctx)
		}
		return w.report(ctx, &doneArgs{Task: ref, Err: err.Error()})
	}
	if shuffled > 0 {
		counters[CounterShuffleBytes] = shuffled
	}
	if w.fault(ref, BeforeCommit).Crash {
		os.Remove(tmp)
		return ErrCrashed
	}
	var cr commitReply
	if err := w.call(ctx, "Commit", &commitArgs{Worker: w.workerID(), Task: ref}, &cr); err != nil || !cr.Granted {
		os.Remove(tmp)
		if errors.Is(err, ErrUnknownWorker) {
			return nil // the loop registers again
		}
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return w.report(ctx, &doneArgs{Task: ref, Err: fmt.Sprintf("commit output: %v", err)})
	}
	if w.fault(ref, AfterCommit).Crash {
		return ErrCrashed
	}
	return w.report(ctx, &doneArgs{Task: ref, Counters: counters})
}

// report tells the coordinator how an attempt ended. A worker the
// coordinator no longer knows need not report: its attempt is void.
func (w *worker) report(ctx context.Context, args *doneArgs) error {
	args.Worker = w.workerID()
	err := w.call(ctx, "Done", args, &empty{})
	if errors.Is(err, ErrUnknownWorker) {
		return nil
	}
	return err
}

// pause waits for d, or until ctx ends: an injected slow attempt.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
