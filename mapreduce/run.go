package mapreduce

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Run runs job on a coordinator and workers in this process, connected by
// rpc over a network (loopback TCP by default; see WithNetwork), and
// returns when the job is over. The workers are goroutines, but otherwise
// exactly what RunWorker runs: they talk to the coordinator and to each
// other only through the network, keep their map output in their own
// scratch directories, and fetch each other's over rpc. A worker crashed
// by a fault hook is replaced by a fresh one, as a machine that reboots.
// No task is handed out before every worker has registered.
//
// It returns the job's Result, or an error: one matching ErrInvalidJob,
// ErrJobFailed (with a *TaskError), a worker's error if a worker stopped
// for good (it could not create its scratch directory, say), or ctx.Err().
// Every goroutine it started has exited when it returns.
func Run(ctx context.Context, job Job, opts ...RunOption) (Result, error) {
	o := newRunOptions(opts)
	// Every worker registers before the first task is handed out, so that
	// the job is shared by all of them from the start.
	co := o.coordinator
	co.minWorkers = o.workers
	c, err := newCoordinator(job, co)
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	if o.onCoordinator != nil {
		o.onCoordinator(c)
	}
	l, err := o.network.Listen("coordinator")
	if err != nil {
		return Result{}, fmt.Errorf("mapreduce: coordinator: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // exits when c is closed
		defer wg.Done()
		_ = c.Serve(l)
	}()

	wctx, stopWorkers := context.WithCancel(ctx)
	waitCtx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	for i := range o.workers {
		wg.Add(1)
		go func() { // exits when the job is over, or wctx ends
			defer wg.Done()
			if err := superviseWorker(wctx, c, l.Addr().String(), i+1, o); err != nil {
				fail(err)
			}
		}()
	}

	res, err := c.Wait(waitCtx)
	if err != nil && waitCtx.Err() != nil {
		err = context.Cause(waitCtx)
	}
	if err == nil || errors.Is(err, ErrJobFailed) {
		// Let the workers hear that the job is over, and exit on their own.
		sctx, cancel := context.WithTimeout(ctx, co.timeout)
		_ = c.Shutdown(sctx)
		cancel()
	}
	c.Close()
	stopWorkers()
	wg.Wait()
	return res, err
}

// superviseWorker runs worker number n of Run, and a fresh one in its
// place each time it crashes or loses the coordinator (a network cut)
// while the job goes on. It returns an error only if a worker stopped for
// another reason.
func superviseWorker(ctx context.Context, c *Coordinator, coord string, n int, o runOptions) error {
	for gen := 1; ; gen++ {
		name := fmt.Sprintf("worker-%d", n)
		if gen > 1 {
			name = fmt.Sprintf("worker-%d.%d", n, gen)
		}
		l, err := o.network.Listen(name)
		if err != nil {
			return fmt.Errorf("mapreduce: %s: %w", name, err)
		}
		wo := o.worker
		wo.listener, wo.dialer = l, o.network.Dialer(name)
		err = runWorker(ctx, coord, []Job{c.job}, wo)
		switch {
		case err == nil || ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrCrashed) || errors.Is(err, ErrCoordinatorLost):
			c.mu.Lock()
			over := c.closed || c.s.finished()
			c.mu.Unlock()
			if over {
				return nil
			}
		default:
			return fmt.Errorf("mapreduce: %s: %w", name, err)
		}
	}
}
