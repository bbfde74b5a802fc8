// Command wordcount counts words with MapReduce (package mapreduce): a
// coordinator hands map and reduce tasks over rpc to several workers,
// which run them, keep their map output on their own disk and fetch each
// other's. With no arguments it counts the source files of the Go
// installation (found with `go env GOROOT`), a corpus every machine with
// Go already has; with file arguments it counts those. It prints the top
// words, the time taken, and how many task attempts had to run again, and
// says as they happen which workers died and which tasks ran again.
//
// The demo runs the job with mapreduce.Run: the workers are goroutines of
// this process, talking to the coordinator over a simulated network
// (package netsim). To run them as processes, or on other machines, use
// the commands of mapreduce.Main:
//
//	go run ./examples/wordcount                         # Go's own sources, 4 workers
//	go run ./examples/wordcount -crash 0.2              # workers die in 20% of first attempts: same top words
//	go run ./examples/wordcount -slow 3s                # a straggler: a backup copy does its work
//	go run ./examples/wordcount -slow 3s -backups=false # ... and without backup tasks the job waits for it
//	go run ./examples/wordcount -http 127.0.0.1:8080    # the coordinator's status page, live
//	go run ./examples/wordcount -check                  # compare with mapreduce.RunSequential, byte for byte
//	go run ./examples/wordcount -trace /tmp/wc          # the space-time diagram of the first rpc messages
//	go run ./examples/wordcount -top 5 examples/wordcount/*.go   # count your own files
//	go run ./examples/wordcount -dashboard 127.0.0.1:8080   # live, for a lecture: the job again and again; crash workers on a web page
//
//	go run ./examples/wordcount coordinator -listen 127.0.0.1:7070 -http 127.0.0.1:8080
//	go run ./examples/wordcount worker -coordinator 127.0.0.1:7070   # in other terminals, or machines
//
// To count a file named coordinator, worker, run or sequential, write
// ./worker.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/mapreduce"
)

func main() { demo.Main("wordcount", run) }

// config is what the flags say.
type config struct {
	workers  int           // how many workers
	nReduce  int           // how many reduce tasks (and output files)
	top      int           // how many words to print
	split    size          // bytes of input per map task
	crash    float64       // probability that a task's first attempt's worker dies
	slow     time.Duration // how late the straggler starts, 0 for none
	backups  bool          // whether the coordinator runs backup tasks
	timeout  time.Duration // failure timeout: a silent worker is lost after this
	seed     int64         // seed of the injected faults
	check    bool          // compare with mapreduce.RunSequential
	traceDir string        // where to write the space-time diagram, if anywhere
	outDir   string        // where to keep the output files, if anywhere
	httpAddr string        // where to serve the coordinator's status page, if anywhere
	files    []string      // what to count; none means Go's sources
	flags    *flag.FlagSet // the flags, for -dashboard
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isRole(args[0]) {
		return role(ctx, args, stdout)
	}
	cfg, ok, err := parse(args, stderr)
	if !ok {
		return err // nil after -h
	}
	if cfg.flags.Lookup("dashboard").Value.String() != "" {
		return live(ctx, cfg, cfg.flags, stdout)
	}
	_, err = wordcount(ctx, cfg, stdout)
	return err
}

// parse reads the flags into a config; ok is false if the demo should not
// run, with err nil after -h and ErrUsage after a bad flag.
func parse(args []string, stderr io.Writer) (cfg config, ok bool, err error) {
	fs := flag.NewFlagSet("wordcount", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg = config{split: 8 << 20, flags: fs}
	fs.IntVar(&cfg.workers, "workers", 4, "number of workers")
	fs.IntVar(&cfg.nReduce, "reduce", 4, "number of reduce tasks (and output files)")
	fs.IntVar(&cfg.top, "top", 10, "how many of the most frequent words to print")
	fs.Var(&cfg.split, "split", "input `size` per map task: small files are packed together up to it, big ones split")
	fs.Float64Var(&cfg.crash, "crash", 0, "probability that a worker dies in a task's first attempt")
	fs.DurationVar(&cfg.slow, "slow", 0, "make the first attempt of map task 0 start this late: a straggler")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Second, fmt.Sprintf("a worker silent for this long is declared lost (with -dashboard: default %v)", liveTimeout))
	demo.SeedFlag(fs, &cfg.seed)
	fs.BoolVar(&cfg.backups, "backups", true, "run backup copies of slow tasks near the end of each phase")
	fs.BoolVar(&cfg.check, "check", false, "also run mapreduce.RunSequential and compare the outputs (slow on big inputs)")
	fs.StringVar(&cfg.traceDir, "trace", "", "write the space-time diagram of the first rpc messages to this `directory`")
	fs.StringVar(&cfg.outDir, "out", "", "keep the output files in this `directory` (default: a temporary one, removed)")
	demo.DashboardFlag(fs)
	fs.StringVar(&cfg.httpAddr, "http", "", "serve the coordinator's status page on this `address` (such as 127.0.0.1:8080), and keep it up after the job until Ctrl-C")
	if ok, err := demo.Parse(fs, args); !ok {
		return cfg, false, err
	}
	cfg.files = fs.Args()
	switch {
	case cfg.workers < 1 || cfg.workers > 64:
		return cfg, false, demo.Usagef(fs, "-workers must be between 1 and 64")
	case cfg.nReduce < 1 || cfg.top < 1:
		return cfg, false, demo.Usagef(fs, "-reduce and -top must be at least 1")
	case cfg.crash < 0 || cfg.crash > 1:
		return cfg, false, demo.Usagef(fs, "-crash must be between 0 and 1")
	case cfg.slow < 0 || cfg.timeout <= 0:
		return cfg, false, demo.Usagef(fs, "-slow must not be negative, and -timeout must be positive")
	}
	return cfg, true, nil
}

// isRole reports whether arg is one of mapreduce.Main's commands.
func isRole(arg string) bool {
	return arg == "coordinator" || arg == "worker" || arg == "run" || arg == "sequential"
}

// role runs one of mapreduce.Main's commands with the word-count job: the
// coordinator, a worker, the whole job in this process, or the sequential
// oracle. A worker needs only the job's functions (the coordinator sends
// the rest); the others count Go's sources, packed into input files as the
// demo does, unless Main is given files to count.
func role(ctx context.Context, args []string, stdout io.Writer) error {
	if args[0] == "worker" {
		return mapreduce.Main(ctx, args, wordCountJob(nil, 0, 0, ""))
	}
	scratch, err := os.MkdirTemp("", "wordcount-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	job, err := prepareJob(ctx, config{split: 8 << 20, nReduce: 4}, scratch, stdout)
	if err != nil {
		return err
	}
	job.OutputDir = "wordcount-out"
	err = mapreduce.Main(ctx, args, job)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
