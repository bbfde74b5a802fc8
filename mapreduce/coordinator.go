package mapreduce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// A Coordinator runs one job: it splits the input into map tasks, hands
// tasks to the workers that ask for them over rpc, watches for workers
// that die and tasks that stall, and knows when the job is done. Its
// decisions are those of the paper; see the package documentation.
//
// Create one with NewCoordinator, serve it on a listener with Serve, wait
// for the job with Wait, then let the workers go with Shutdown. Status and
// Handler show the job as it runs. A Coordinator is safe for concurrent
// use by multiple goroutines.
type Coordinator struct {
	job    Job
	shared string // this job's directory in the shared directory, if any
	o      coordinatorOptions
	srv    *rpc.Server
	start  time.Time
	log    *slog.Logger

	mu      sync.Mutex // protects the fields below
	s       *scheduler
	changed chan struct{} // closed, and replaced, whenever s may have changed
	closed  bool

	// life is the coordinator's lifetime: it ends when Close is called.
	// Go's rule is to pass a Context to each call rather than keep one in
	// a struct; that rule is about a call's deadline and values. A
	// lifetime belongs to the object instead: it ends once, at Close,
	// carries nothing, and is only used to cut waits short (life.Done() in
	// a select): the ticker's, the progress reporter's and the GetTask
	// calls held until there is work. lock, lock/peer and mapreduce keep
	// every object's lifetime this way, as a context in the struct, rather
	// than as a channel closed by Close. (A worker's lifetime is the
	// context of its RunWorker call, passed down to what it runs.)
	life      context.Context
	stop      context.CancelFunc
	wg        sync.WaitGroup // the ticker and progress goroutines
	closeOnce sync.Once
}

// NewCoordinator checks job, plans its map tasks from the sizes of its
// inputs, prepares the output directory (removing the output files of an
// earlier run, part-*, so that a failed job leaves none), and returns a
// coordinator ready to Serve.
//
// It returns an error matching ErrInvalidJob for a bad job, or the error
// of an input it cannot stat.
func NewCoordinator(job Job, opts ...CoordinatorOption) (*Coordinator, error) {
	return newCoordinator(job, newCoordinatorOptions(opts))
}

func newCoordinator(job Job, o coordinatorOptions) (*Coordinator, error) {
	job, err := job.withDefaults()
	if err != nil {
		return nil, err
	}
	splits, err := planSplits(job.Inputs, job.SplitSize)
	if err != nil {
		return nil, err
	}
	if err := prepareOutputDir(job.OutputDir); err != nil {
		return nil, err
	}
	shared := ""
	if o.sharedDir != "" {
		// A directory of this job's own, so that jobs can share a shared
		// directory, and Close can remove what this one left there.
		if err := os.MkdirAll(o.sharedDir, 0o755); err != nil {
			return nil, fmt.Errorf("mapreduce: shared dir: %w", err)
		}
		if shared, err = os.MkdirTemp(o.sharedDir, "mapreduce-*"); err != nil {
			return nil, fmt.Errorf("mapreduce: shared dir: %w", err)
		}
	}
	c := &Coordinator{
		job:    job,
		shared: shared,
		o:      o,
		start:  time.Now(),
		log:    o.logger.With("role", "coordinator"),
		s: newScheduler(schedConfig{
			splits:       splits,
			nReduce:      job.NReduce,
			minWorkers:   o.minWorkers,
			timeout:      o.timeout,
			maxAttempts:  o.maxAttempts,
			backups:      o.backups,
			sharedOutput: o.sharedDir != "",
		}),
		changed: make(chan struct{}),
	}
	c.srv = rpc.NewServer(append([]rpc.ServerOption{wireErrors()}, o.rpcServer...)...)
	if err := c.srv.RegisterName(coordinatorService, &coordinatorRPC{c}); err != nil {
		return nil, err
	}
	c.life, c.stop = context.WithCancel(context.Background())
	c.wg.Add(1)
	go c.tickLoop() // exits when c.life ends
	if o.progress != nil {
		c.wg.Add(1)
		go c.progressLoop() // exits when the job is over or c.life ends
	}
	c.log.Info("job planned", "job", job.Name, "maps", len(splits), "reduces", job.NReduce)
	return c, nil
}

// shutdownGrace is how many heartbeats Shutdown waits, once the job is
// over, for a worker that has gone silent (see Shutdown).
const shutdownGrace = 2

// wireErrors are the sentinels that cross the wire between coordinator and
// workers.
func wireErrors() rpc.Option {
	return rpc.WithErrors(ErrUnknownWorker, ErrWrongJob, ErrClosed)
}

// prepareOutputDir creates dir and removes the output files of an earlier
// run, and temporary files that a crashed run left behind.
func prepareOutputDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mapreduce: output dir: %w", err)
	}
	for _, pattern := range []string{"part-[0-9][0-9][0-9][0-9][0-9]", ".part-*.tmp"} {
		old, _ := filepath.Glob(filepath.Join(dir, pattern)) // the patterns are valid
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				return fmt.Errorf("mapreduce: output dir: %w", err)
			}
		}
	}
	return nil
}

// Serve serves workers on l until Close; then it returns an error
// matching ErrClosed (and rpc.ErrServerClosed). It returns l's error if l
// fails first. It may be called for several listeners; Close closes them.
func (c *Coordinator) Serve(l transport.Listener) error {
	err := c.srv.Serve(l)
	if errors.Is(err, rpc.ErrServerClosed) {
		return fmt.Errorf("%w (%w)", ErrClosed, err)
	}
	return err
}

// update runs fn on the scheduler under the lock, at the current time, and
// wakes everyone waiting for a change.
func (c *Coordinator) update(fn func(now time.Time) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := fn(time.Now())
	c.notifyLocked()
	return err
}

// notifyLocked wakes the goroutines waiting on c.changed.
func (c *Coordinator) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// tickLoop lets time pass for the scheduler: workers go missing.
func (c *Coordinator) tickLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.o.heartbeat())
	defer t.Stop()
	for {
		select {
		case <-c.life.Done():
			return
		case <-t.C:
			_ = c.update(func(now time.Time) error {
				lost := c.s.stats.lostWorkers
				c.s.tick(now)
				if c.s.stats.lostWorkers > lost {
					c.log.Info("workers lost", "count", c.s.stats.lostWorkers-lost)
				}
				return nil
			})
		}
	}
}

// progressLoop calls the progress callback with each new state, the last
// one included.
func (c *Coordinator) progressLoop() {
	defer c.wg.Done()
	var last Progress
	for first := true; ; first = false {
		c.mu.Lock()
		p := c.s.progress(time.Since(c.start))
		finished, ch := c.s.finished(), c.changed
		c.mu.Unlock()
		same := p
		same.Elapsed = last.Elapsed
		if first || same != last {
			c.o.progress(p)
			last = p
		}
		if finished {
			return
		}
		select {
		case <-ch:
		case <-c.life.Done():
			return
		}
	}
}

// Wait blocks until the job is over and returns its Result, or the error
// that ended it: one matching ErrJobFailed (and *TaskError) if a task
// failed too often, ErrClosed if the coordinator was closed first, or
// ctx.Err(). The Result of a failed job still holds its counters.
func (c *Coordinator) Wait(ctx context.Context) (Result, error) {
	for {
		c.mu.Lock()
		finished, err, closed, ch := c.s.finished(), c.s.err, c.closed, c.changed
		var res Result
		if finished {
			res = Result{Counters: c.s.counters()}
			if err == nil {
				for r := range c.job.NReduce {
					res.Outputs = append(res.Outputs, OutputFile(c.job.OutputDir, r))
				}
			}
		}
		c.mu.Unlock()
		switch {
		case finished:
			return res, err
		case closed:
			return Result{}, ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
}

// Status returns a snapshot of the job. It does not block (beyond a lock).
func (c *Coordinator) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.s.status(c.start, time.Now())
	st.Job = c.job.Name
	return st
}

// Shutdown waits until the job is over and every live worker has been told
// so (workers learn it at their next request, within a heartbeat), lets
// the replies in flight reach them, then closes the coordinator. If ctx
// ends first, it closes the coordinator anyway and returns ctx.Err().
//
// Once the job is over, Shutdown does not wait for a worker it has not
// heard from for more than two heartbeats (a fifth of the timeout): a live
// worker heartbeats every heartbeat, so that one has probably crashed, and
// only the timeout would declare it lost. If it is alive after all, the
// rpc server's goodbye reaches it, and it returns nil as if told. So,
// workers' replies in flight aside, Shutdown returns within three
// heartbeats (three tenths of the timeout) of the job's end, even after a
// crash near the end.
func (c *Coordinator) Shutdown(ctx context.Context) error {
	defer c.Close()
	grace := shutdownGrace * c.o.heartbeat()
	for {
		c.mu.Lock()
		over, closed, ch := c.s.finished() && c.s.allExited(time.Now(), grace), c.closed, c.changed
		c.mu.Unlock()
		if closed {
			return nil
		}
		if over {
			return c.srv.Shutdown(ctx)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops the coordinator at once: it stops serving, and Wait returns
// ErrClosed if the job was not over. Its rpc server says goodbye to the
// workers connected to it, and they return nil (as when the job is over:
// there is no work left); those it cannot reach give up after the timeout
// with ErrCoordinatorLost. Close waits for the coordinator's goroutines;
// it is idempotent.
func (c *Coordinator) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.notifyLocked()
		c.mu.Unlock()
		c.stop()
		c.srv.Close()
		c.wg.Wait()
		if c.shared != "" {
			os.RemoveAll(c.shared) // map output is no use once the job is over
		}
	})
	return nil
}
