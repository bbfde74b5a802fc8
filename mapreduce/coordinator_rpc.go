package mapreduce

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// coordinatorRPC is the coordinator's rpc service: each method turns a
// worker's request into a scheduler call (see wire.go for the
// conversation).
type coordinatorRPC struct{ c *Coordinator }

// Register adds a worker that can run the coordinator's job.
func (r *coordinatorRPC) Register(args *registerArgs, reply *registerReply) error {
	c := r.c
	if !slices.Contains(args.Jobs, c.job.Name) {
		return fmt.Errorf("%w: it runs %q, the worker knows %q", ErrWrongJob, c.job.Name, args.Jobs)
	}
	_ = c.update(func(now time.Time) error {
		reply.Worker = c.s.register(now, args.Addr)
		return nil
	})
	reply.Job = c.job.Name
	reply.NReduce = c.job.NReduce
	reply.OutputDir = c.job.OutputDir
	reply.SharedDir = c.shared
	reply.Timeout = int64(c.o.timeout)
	c.log.Info("worker registered", "worker", reply.Worker, "addr", args.Addr)
	return nil
}

// GetTask answers with the worker's next attempt. If there is nothing to
// do yet, it waits for a change, up to a heartbeat, before answering
// "wait": the worker asks again at once, without sleeping, and learns of
// new work the moment it appears.
func (r *coordinatorRPC) GetTask(ctx context.Context, args *workerArgs, reply *taskReply) error {
	c := r.c
	timer := time.NewTimer(c.o.heartbeat())
	defer timer.Stop()
	for {
		c.mu.Lock()
		as, err := c.s.assign(time.Now(), args.Worker)
		if err == nil && as.kind != assignWait {
			r.fill(reply, as)
			c.notifyLocked()
		}
		ch := c.changed
		c.mu.Unlock()
		if err != nil || as.kind != assignWait {
			if as.kind == assignTask {
				c.log.Debug("task assigned", "worker", args.Worker, "task", reply.Task.Kind, "index", reply.Task.Index,
					"attempt", reply.Task.Attempt, "backup", as.attempt.backup)
			}
			return err
		}
		select {
		case <-ch:
		case <-timer.C:
			reply.Kind = assignWait
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-c.life.Done():
			return ErrClosed
		}
	}
}

// fill describes assignment as in reply; the caller holds c.mu.
func (r *coordinatorRPC) fill(reply *taskReply, as assignment) {
	reply.Kind = as.kind
	if as.kind != assignTask {
		return
	}
	a := as.attempt
	reply.Task = attemptRef{Kind: a.task.kind, Index: a.task.index, Attempt: a.id}
	if a.task.kind == MapTask {
		reply.Split = r.c.s.cfg.splits[a.task.index]
		return
	}
	for _, m := range r.c.s.maps {
		reply.Maps = append(reply.Maps, m.output)
	}
}

// Heartbeat records that a worker is alive and how far its attempt got.
func (r *coordinatorRPC) Heartbeat(args *heartbeatArgs, reply *heartbeatReply) error {
	return r.c.update(func(now time.Time) error {
		var err error
		reply.Cancel, err = r.c.s.heartbeat(now, args.Worker, args.Running, args.Progress)
		return err
	})
}

// Done records how an attempt ended.
func (r *coordinatorRPC) Done(args *doneArgs, _ *empty) error {
	c := r.c
	switch {
	case args.FetchFailed:
		c.log.Info("fetch failed", "worker", args.Worker, "reduce", args.Task.Index,
			"map", args.FailedMap, "from", args.FailedOutput.Addr, "unreachable", args.Unreachable)
	case args.Err != "":
		c.log.Info("attempt failed", "worker", args.Worker, "task", args.Task.Kind, "index", args.Task.Index,
			"attempt", args.Task.Attempt, "err", args.Err)
	default:
		c.log.Debug("attempt done", "worker", args.Worker, "task", args.Task.Kind, "index", args.Task.Index,
			"attempt", args.Task.Attempt)
	}
	return c.update(func(now time.Time) error {
		switch {
		case args.FetchFailed:
			return c.s.fetchFailed(now, args.Worker, args.Task, args.FailedMap, args.FailedOutput, args.Unreachable)
		case args.Err != "":
			return c.s.fail(now, args.Worker, args.Task, args.Err)
		}
		return c.s.complete(now, args.Worker, args.Task, args.Output, args.Counters)
	})
}

// Commit grants or refuses a reduce attempt the rename of its output.
func (r *coordinatorRPC) Commit(args *commitArgs, reply *commitReply) error {
	return r.c.update(func(now time.Time) error {
		var err error
		reply.Granted, err = r.c.s.commit(now, args.Worker, args.Task)
		return err
	})
}
