package mapreduce

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// Main turns a program into any part of a MapReduce job, chosen by its
// first argument, so that one binary is the coordinator, the workers, or
// the whole job. Its jobs are passed in explicitly: Go cannot ship
// functions to another machine, so every process of a job runs the same
// binary, and the coordinator names the job (Job.Name) that the workers
// then look up among their own. A program's main is two lines:
//
//	func main() {
//		if err := mapreduce.Main(context.Background(), os.Args[1:], wordCount); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//	}
//
// and its commands are:
//
//	prog coordinator [-listen :7070] [-http :8080] [-workers N] [job flags] [inputs...]
//	prog worker -coordinator host:7070 [-listen :0] [-v]
//	prog run [-workers N] [job flags] [inputs...]     all in this process
//	prog sequential [job flags] [inputs...]           the oracle
//
// Job flags (-job, -nreduce, -out, -split) override the Job's fields, and
// inputs on the command line replace Job.Inputs. Every command takes -h.
// Main writes progress to standard error; it returns when its part of the
// job is over, with the job's error if it failed.
func Main(ctx context.Context, args []string, jobs ...Job) error {
	return mainWith(ctx, args, jobs, os.Stderr)
}

func mainWith(ctx context.Context, args []string, jobs []Job, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("mapreduce: usage: %s coordinator|worker|run|sequential [flags] [inputs...]", progName())
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		name     = fs.String("job", "", "the job to run, by name (needed if the program has several; not for worker)")
		nReduce  = fs.Int("nreduce", 0, "number of reduce tasks (default: the job's; not for worker)")
		out      = fs.String("out", "", "output directory (default: the job's; not for worker)")
		split    = fs.Int64("split", 0, "split size in bytes (default: the job's; not for worker)")
		timeout  = fs.Duration("timeout", DefaultTimeout, "failure timeout (not for sequential)")
		verbose  = fs.Bool("v", false, "log what happens (not for sequential)")
		listen   = fs.String("listen", ":7070", "coordinator: address to serve workers on; worker: address to serve map output on")
		httpAddr = fs.String("http", "", "coordinator: address for the status page")
		coord    = fs.String("coordinator", "", "worker: the coordinator's address")
		workers  = fs.Int("workers", 0, "run: number of workers (default GOMAXPROCS); coordinator: wait for this many before starting")
		memLimit = fs.Int("mem", DefaultMemoryLimit, "worker, run: bytes of map output buffered before a spill")
		backups  = fs.Bool("backups", true, "coordinator, run: run backup tasks near the end")
		shared   = fs.String("shared", "", "coordinator, run: put map output in this shared directory")
		faults   FaultRates
	)
	fs.Int64Var(&faults.Seed, "fault-seed", 1, "worker, run: seed of the injected faults")
	fs.Float64Var(&faults.CrashBeforeCommit, "crash-before", 0, "worker, run: probability of crashing before a commit")
	fs.Float64Var(&faults.CrashAfterCommit, "crash-after", 0, "worker, run: probability of crashing after a commit")
	fs.Float64Var(&faults.Slow, "slow", 0, "worker, run: probability that an attempt is slow")
	fs.DurationVar(&faults.SlowDelay, "slow-delay", 5*time.Second, "worker, run: how slow a slow attempt is")
	if args[0] == "worker" {
		*listen = ":0"
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var misplaced error
	fs.Visit(func(f *flag.Flag) {
		if cmds := flagCommands(f.Name); misplaced == nil && !strings.Contains(" "+cmds+" ", " "+args[0]+" ") {
			misplaced = fmt.Errorf("mapreduce: %s: flag -%s does nothing here (it is for: %s)", args[0], f.Name, cmds)
		}
	})
	if misplaced != nil {
		return misplaced
	}

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var hook FaultHook
	if faults.CrashBeforeCommit > 0 || faults.CrashAfterCommit > 0 || faults.Slow > 0 {
		hook = faults.Hook()
	}

	if args[0] == "worker" { // the coordinator names the job
		if *coord == "" {
			return errors.New("mapreduce: worker: -coordinator host:port is required")
		}
		l, err := transport.ListenTCP(*listen)
		if err != nil {
			return err
		}
		return RunWorker(ctx, *coord, jobs, WithListener(l),
			WithTimeout(*timeout), WithLogger(logger), WithMemoryLimit(*memLimit), WithFaults(hook))
	}
	job, err := pickJob(jobs, *name)
	if err != nil {
		return err
	}
	if *nReduce > 0 {
		job.NReduce = *nReduce
	}
	if *out != "" {
		job.OutputDir = *out
	}
	if *split != 0 {
		job.SplitSize = *split
	}
	if fs.NArg() > 0 {
		job.Inputs = fs.Args()
	}
	progress := func(p Progress) { fmt.Fprintln(stderr, p) }

	switch args[0] {
	case "coordinator":
		return runCoordinator(ctx, job, *listen, *httpAddr, *timeout, stderr,
			WithMinWorkers(*workers), WithTimeout(*timeout), WithLogger(logger),
			WithBackupTasks(*backups), WithProgress(progress), WithSharedDir(*shared))
	case "run":
		res, err := Run(ctx, job, WithWorkers(*workers),
			WithTimeout(*timeout), WithLogger(logger),
			WithBackupTasks(*backups), WithProgress(progress), WithSharedDir(*shared),
			WithMemoryLimit(*memLimit), WithFaults(hook))
		return summarize(stderr, res, err)
	case "sequential":
		res, err := RunSequential(ctx, job)
		return summarize(stderr, res, err)
	}
	return fmt.Errorf("mapreduce: unknown command %q: want coordinator, worker, run or sequential", args[0])
}

// flagCommands returns the commands that flag name means something to.
// Main refuses a flag given to another command, rather than ignore it.
func flagCommands(name string) string {
	switch name {
	case "job", "nreduce", "out", "split":
		return "coordinator run sequential"
	case "timeout", "v":
		return "coordinator worker run"
	case "listen":
		return "coordinator worker"
	case "http":
		return "coordinator"
	case "coordinator":
		return "worker"
	case "workers", "backups", "shared":
		return "coordinator run"
	default: // mem and the faults
		return "worker run"
	}
}

// pickJob returns the job named name, or the only job if name is empty.
func pickJob(jobs []Job, name string) (Job, error) {
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = j.Name
		if name != "" && j.Name == name {
			return j, nil
		}
	}
	switch {
	case len(jobs) == 1 && name == "":
		return jobs[0], nil
	case len(jobs) == 0:
		return Job{}, fmt.Errorf("%w: Main was given no job", ErrInvalidJob)
	case name == "":
		return Job{}, fmt.Errorf("%w: pick a job with -job; there are %q", ErrInvalidJob, names)
	}
	return Job{}, fmt.Errorf("%w: no job %q; there are %q", ErrInvalidJob, name, names)
}

// runCoordinator is Main's coordinator: it serves workers on listen (and
// the status page on httpAddr) until the job is over and the workers have
// been told.
func runCoordinator(ctx context.Context, job Job, listen, httpAddr string, timeout time.Duration, stderr io.Writer, opts ...CoordinatorOption) error {
	c, err := NewCoordinator(job, opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	l, err := transport.ListenTCP(listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "coordinator listening on %s\n", l.Addr())
	serving := make(chan struct{})
	go func() { // exits when c is closed
		defer close(serving)
		_ = c.Serve(l)
	}()
	defer func() {
		c.Close()
		<-serving
	}()

	if httpAddr != "" {
		hl, err := net.Listen("tcp", httpAddr)
		if err != nil {
			return fmt.Errorf("mapreduce: status page: %w", err)
		}
		fmt.Fprintf(stderr, "status page on http://%s/\n", hl.Addr())
		hs := &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second}
		httpDone := make(chan struct{})
		go func() { // exits when hs is closed
			defer close(httpDone)
			_ = hs.Serve(hl)
		}()
		defer func() {
			hs.Close()
			<-httpDone
		}()
	}
	res, err := c.Wait(ctx)
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_ = c.Shutdown(sctx)
	return summarize(stderr, res, err)
}

// summarize prints where a job's output went and its counters.
func summarize(w io.Writer, res Result, err error) error {
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "job done: %d output files\n", len(res.Outputs))
	for _, o := range res.Outputs {
		fmt.Fprintf(w, "  %s\n", o)
	}
	for _, name := range res.Counters.Names() {
		fmt.Fprintf(w, "  %-24s %d\n", name, res.Counters[name])
	}
	return nil
}

func progName() string {
	if len(os.Args) > 0 && os.Args[0] != "" {
		return os.Args[0]
	}
	return "prog"
}
