// Command wordcount counts words with MapReduce: a coordinator hands map
// and reduce tasks over rpc to several workers, which run them, keep their
// map output on their own disk and fetch each other's. With no arguments it
// counts the source files of the Go installation (found with `go env
// GOROOT`), a corpus every machine with Go already has; with file
// arguments it counts those. It prints the top words, the time taken, and
// how many task attempts had to run again.
//
//	go run ./examples/wordcount                         # Go's own sources, 4 workers
//	go run ./examples/wordcount -crash 0.2              # workers die in 20% of first attempts: same top words
//	go run ./examples/wordcount -slow 3s                # a straggler: a backup copy does its work
//	go run ./examples/wordcount -slow 3s -backups=false # ... and without backup tasks the job waits for it
//	go run ./examples/wordcount -mode processes         # the workers are processes of this same program
//	go run ./examples/wordcount -check                  # compare with mapreduce.RunSequential, byte for byte
//	go run ./examples/wordcount -trace /tmp/wc          # the space-time diagram of the first rpc messages
//	go run ./examples/wordcount -top 5 examples/wordcount/*.go   # count your own files
//
// "wordcount worker -coordinator host:port" is the worker role that
// -mode processes starts; to count a file named worker, write ./worker.
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"time"

	"github.com/distsys-kit/distsys/examples/internal/demo"
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
	timeout  time.Duration // failure timeout: a silent worker is dead after this
	seed     int64         // seed of the injected faults
	mode     string        // "inprocess" or "processes"
	check    bool          // compare with mapreduce.RunSequential
	traceDir string        // where to write the space-time diagram, if anywhere
	outDir   string        // where to keep the output files, if anywhere
	files    []string      // what to count; none means Go's sources
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "worker" {
		return runWorker(ctx, args[1:], stderr)
	}
	fs := flag.NewFlagSet("wordcount", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config{split: 8 << 20}
	fs.IntVar(&cfg.workers, "workers", 4, "number of workers")
	fs.IntVar(&cfg.nReduce, "reduce", 4, "number of reduce tasks (and output files)")
	fs.IntVar(&cfg.top, "top", 10, "how many of the most frequent words to print")
	fs.Var(&cfg.split, "split", "input `size` per map task: small files are packed together up to it, big ones split")
	faultFlags(fs, &cfg)
	fs.BoolVar(&cfg.backups, "backups", true, "run backup copies of slow tasks near the end of each phase")
	fs.StringVar(&cfg.mode, "mode", "inprocess", "where the workers run: inprocess (goroutines) or processes")
	fs.BoolVar(&cfg.check, "check", false, "also run mapreduce.RunSequential and compare the outputs (slow on big inputs)")
	fs.StringVar(&cfg.traceDir, "trace", "", "write the space-time diagram of the first rpc messages to this `directory`")
	fs.StringVar(&cfg.outDir, "out", "", "keep the output files in this `directory` (default: a temporary one, removed)")
	if ok, err := demo.Parse(fs, args); !ok {
		return err // nil after -h
	}
	cfg.files = fs.Args()
	switch {
	case cfg.workers < 1 || cfg.workers > 64:
		return demo.Usagef(fs, "-workers must be between 1 and 64")
	case cfg.nReduce < 1 || cfg.top < 1:
		return demo.Usagef(fs, "-reduce and -top must be at least 1")
	case cfg.mode != "inprocess" && cfg.mode != "processes":
		return demo.Usagef(fs, "-mode must be inprocess or processes, not %q", cfg.mode)
	case cfg.traceDir != "" && cfg.mode == "processes":
		return demo.Usagef(fs, "-trace needs -mode inprocess: the workers' half of each message is in other processes")
	}
	if err := checkFaults(cfg); err != nil {
		return demo.Usagef(fs, "%v", err)
	}
	return wordcount(ctx, cfg, stdout)
}

// faultFlags adds the flags that break the run, shared by the coordinator's
// process and the worker processes it starts.
func faultFlags(fs *flag.FlagSet, cfg *config) {
	fs.Float64Var(&cfg.crash, "crash", 0, "probability that a worker dies in a task's first attempt")
	fs.DurationVar(&cfg.slow, "slow", 0, "make the first attempt of map task 0 start this late: a straggler")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "a worker silent for this long is declared dead")
	demo.SeedFlag(fs, &cfg.seed)
}

// checkFaults checks the values of faultFlags.
func checkFaults(cfg config) error {
	switch {
	case cfg.crash < 0 || cfg.crash > 1:
		return errors.New("-crash must be between 0 and 1")
	case cfg.slow < 0 || cfg.timeout <= 0:
		return errors.New("-slow must not be negative, and -timeout must be positive")
	}
	return nil
}
