package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/examples/internal/demo"
	"github.com/distsys-kit/distsys/mapreduce"
	"github.com/distsys-kit/distsys/transport"
)

// workerEnv is set in the environment of the worker processes. This
// program knows them by their first argument, "worker"; a test binary,
// which is this program too, needs the variable to know it is not there
// to run tests (see TestMain).
const workerEnv = "WORDCOUNT_WORKER"

// maxLives bounds how many times one worker is replaced, in case a worker
// cannot start at all. With -crash 1, a worker can die once per task.
const maxLives = 1000

// A cluster is a job's coordinator, in this process, and its workers:
// goroutines of this process, or processes of this program. Either way
// they talk to the coordinator, and to each other, only by rpc over
// loopback TCP.
//
//	      coordinator (this process)
//	       ▲                 ▲        Register, GetTask, Heartbeat, Done, Commit
//	       │                 │
//	   worker-1 ◄── Fetch ── worker-2   (a reducer pulls map output)
//	(goroutines or processes; -workers of them)
type cluster struct {
	cfg   config
	tr    *demo.Tracer
	l     transport.Listener // where the coordinator serves the workers
	lives atomic.Int64       // workers started, replacements included
	took  time.Duration      // how long the job took, set by run
}

// newCluster listens for the workers, on a free port of the loopback
// interface: nothing outside this machine can take part in the job.
func newCluster(cfg config, tr *demo.Tracer) (*cluster, error) {
	l, err := transport.ListenTCP("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &cluster{cfg: cfg, tr: tr, l: l}, nil
}

// addr is the coordinator's address, which the workers dial.
func (cl *cluster) addr() string { return cl.l.Addr().String() }

// run runs job on the coordinator and cl.cfg.workers workers, and returns
// when it is over. Every worker, goroutine or process, has exited by then.
func (cl *cluster) run(ctx context.Context, job mapreduce.Job, progress func(mapreduce.Progress)) (mapreduce.Result, error) {
	c, err := mapreduce.NewCoordinator(job,
		mapreduce.WithTimeout(cl.cfg.timeout),
		mapreduce.WithBackupTasks(cl.cfg.backups),
		mapreduce.WithProgress(progress),
		mapreduce.WithRPCServerOptions(cl.tr.ServerOptions("coordinator")...))
	if err != nil {
		cl.l.Close()
		return mapreduce.Result{}, err
	}
	defer c.Close()
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.Serve(cl.l) }) // exits when c is closed, which closes cl.l

	start := time.Now()
	workersCtx, stopWorkers := context.WithCancel(ctx)
	waitCtx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	for n := 1; n <= cl.cfg.workers; n++ {
		wg.Go(func() { // exits when the job is over, or workersCtx ends
			if err := cl.keepAlive(workersCtx, c, n); err != nil {
				fail(err)
			}
		})
	}

	res, err := c.Wait(waitCtx)
	cl.took = time.Since(start)
	if err != nil && waitCtx.Err() != nil {
		err = context.Cause(waitCtx) // ctx ended (Ctrl-C), or a worker could not start
	}
	if err == nil {
		// Tell the workers that the job is over, so they exit on their own.
		// Live workers hear it within a heartbeat (timeout/10). Do not wait
		// for the timeout: a worker that crashed near the end is not yet
		// known to be dead, and Shutdown would wait for it.
		sctx, cancel := context.WithTimeout(ctx, cl.cfg.timeout/5)
		_ = c.Shutdown(sctx)
		cancel()
	}
	c.Close()
	stopWorkers() // ends the workers that are left, killing their processes
	wg.Wait()
	return res, err
}

// keepAlive keeps worker number n running while the job goes on: when it
// dies (-crash kills workers), a fresh one takes its place, as a machine
// that reboots. The coordinator sees a new worker, with its own number.
func (cl *cluster) keepAlive(ctx context.Context, c *mapreduce.Coordinator, n int) error {
	for life := 1; ; life++ {
		name := fmt.Sprintf("worker-%d", n)
		if life > 1 {
			name = fmt.Sprintf("worker-%d.%d", n, life)
		}
		cl.lives.Add(1)
		err := cl.startWorker(ctx, name)
		switch phase := c.Status().Phase; {
		case ctx.Err() != nil, phase == mapreduce.PhaseDone, phase == mapreduce.PhaseFailed:
			return nil
		case life == maxLives:
			return fmt.Errorf("%s: %w", name, err)
		}
	}
}

// startWorker runs one worker until it exits.
func (cl *cluster) startWorker(ctx context.Context, name string) error {
	if cl.cfg.mode == "processes" {
		return cl.startProcess(ctx)
	}
	l, err := transport.ListenTCP("127.0.0.1:0")
	if err != nil {
		return err
	}
	return mapreduce.RunWorker(ctx, cl.addr(), []mapreduce.Job{wordCountJob(nil, 0, 0, "")},
		workerOptions(cl.cfg, l, cl.tr, name)...)
}

// workerOptions are a worker's options: where it serves its map output,
// its failure timeout and faults, and, with -trace, the interceptors that
// record its rpc calls as node name.
func workerOptions(cfg config, l transport.Listener, tr *demo.Tracer, name string) []mapreduce.WorkerOption {
	return []mapreduce.WorkerOption{
		mapreduce.WithListener(l),
		mapreduce.WithTimeout(cfg.timeout),
		mapreduce.WithFaults(faultHook(cfg)),
		mapreduce.WithRPCServerOptions(tr.ServerOptions(name)...),
		mapreduce.WithRPCClientOptions(tr.ClientOptions(name, "coordinator")...),
	}
}

// startProcess runs one worker as a process of this program, "wordcount
// worker -coordinator host:port", and waits for it to exit. When ctx ends,
// the process is interrupted, then killed.
func (cl *cluster) startProcess(ctx context.Context) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe, "worker", "-coordinator", cl.addr(),
		"-timeout", cl.cfg.timeout.String(), "-crash", strconv.FormatFloat(cl.cfg.crash, 'g', -1, 64),
		"-slow", cl.cfg.slow.String(), "-seed", strconv.FormatInt(cl.cfg.seed, 10))
	cmd.Env = append(os.Environ(), workerEnv+"=1")
	var out bytes.Buffer // what it says; shown if it cannot run at all
	cmd.Stdout, cmd.Stderr = &out, &out
	// When ctx ends, ask the worker to stop as Ctrl-C does, so that it
	// removes its scratch directory; kill it if it has not within 2s.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("worker process: %w: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// runWorker is the worker role that -mode processes starts: "wordcount
// worker -coordinator host:port", with the fault flags of the coordinator's
// process. It runs until the job is over, or the coordinator has been
// silent for the timeout.
func runWorker(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("wordcount worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	coord := fs.String("coordinator", "", "the coordinator's `address`, host:port")
	faultFlags(fs, &cfg)
	if ok, err := demo.Parse(fs, args); !ok {
		return err // nil after -h
	}
	if *coord == "" || fs.NArg() > 0 {
		return demo.Usagef(fs, "-coordinator host:port is required, and there are no arguments")
	}
	if err := checkFaults(cfg); err != nil {
		return demo.Usagef(fs, "%v", err)
	}
	l, err := transport.ListenTCP("127.0.0.1:0")
	if err != nil {
		return err
	}
	tr := demo.NewTracer("", "") // records nothing: -trace needs -mode inprocess
	return mapreduce.RunWorker(ctx, *coord, []mapreduce.Job{wordCountJob(nil, 0, 0, "")},
		workerOptions(cfg, l, tr, "worker")...)
}
