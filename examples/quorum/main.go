// Command quorum runs a key-value store replicated on N replicas, written
// and read through quorums: a write is done once W replicas have it, a
// read asks R replicas and keeps the newest version among their answers.
// When R + W > N, every read quorum shares a replica with every write
// quorum, so a read sees the latest finished write; when R + W ≤ N, a read
// can ask only replicas the write has not reached yet, and reads a stale
// value. The demo writes and reads a key round after round, with both
// kinds of quorum, and counts the stale reads.
//
// It runs on the simulated network of package netsim, seeded: the replicas
// each quorum asks, and the faults, replay with the seed.
//
//	go run ./examples/quorum                     # N=3: R=1 W=1, then R=2 W=2
//	go run ./examples/quorum -n 5 -r 2 -w 3      # one configuration of your choice
//	go run ./examples/quorum -n 5 -r 3 -w 3 -drop 0.2   # a lossy network: slower quorums, still no stale read
//	go run ./examples/quorum -trace /tmp/quorum  # the space-time diagram of the run
//	go run ./examples/quorum -dashboard 127.0.0.1:8080   # live, for a lecture: crash replicas on a web page
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
)

func main() { demo.Main("quorum", run) }

// config is what the flags say.
type config struct {
	n        int
	quorums  []rw // the (R, W) pairs to run
	rounds   int
	timeout  time.Duration
	faults   transport.Faults
	traceDir string
}

// rw is one choice of read and write quorum sizes.
type rw struct{ r, w int }

// maxReplicas bounds -n, to keep the lines short.
const maxReplicas = 9

// maxTraceEvents bounds the -trace diagram: a longer run shows its start.
const maxTraceEvents = 3000

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, fs, ok, err := parse(args, stderr)
	if !ok {
		return err // nil after -h
	}
	tr := demo.NewTracer(cfg.traceDir, "quorum: reads and writes with N, R, W", trace.WithMaxEvents(maxTraceEvents))
	if err := tr.Prepare(); err != nil {
		return err
	}
	if fs.Lookup("dashboard").Value.String() != "" {
		return live(ctx, cfg, fs, tr, stdout)
	}
	if _, err := show(ctx, cfg, tr, stdout); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// parse reads the flags into a config, and returns them too (for
// -dashboard); ok is false if the demo should not run, with err nil after
// -h and ErrUsage after a bad flag.
func parse(args []string, stderr io.Writer) (cfg config, fs *flag.FlagSet, ok bool, err error) {
	fs = flag.NewFlagSet("quorum", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg = config{faults: transport.Faults{Delay: time.Millisecond, Jitter: time.Millisecond}}
	var r, w int
	fs.IntVar(&cfg.n, "n", 3, fmt.Sprintf("number of replicas N (1 to %d)", maxReplicas))
	fs.IntVar(&r, "r", 0, "read quorum R: replicas a read asks (default: compare R=W=1 with majorities)")
	fs.IntVar(&w, "w", 0, "write quorum W: replicas a write waits for (default: compare R=W=1 with majorities)")
	fs.IntVar(&cfg.rounds, "rounds", 8, "how many times the key is written, then read")
	demo.TimeoutFlag(fs, &cfg.timeout)
	fs.StringVar(&cfg.traceDir, "trace", "", "write the space-time diagram of the run to this `directory`")
	demo.FaultFlags(fs, &cfg.faults)
	if ok, err := demo.Parse(fs, args); !ok {
		return cfg, fs, false, err
	}
	switch {
	case fs.NArg() > 0:
		return cfg, fs, false, demo.Usagef(fs, "quorum takes no arguments, only flags (got %q)", fs.Arg(0))
	case cfg.n < 1 || cfg.n > maxReplicas:
		return cfg, fs, false, demo.Usagef(fs, "-n must be between 1 and %d", maxReplicas)
	case (r == 0) != (w == 0):
		return cfg, fs, false, demo.Usagef(fs, "give both -r and -w, or neither")
	case r < 0 || r > cfg.n || w < 0 || w > cfg.n:
		return cfg, fs, false, demo.Usagef(fs, "-r and -w must be between 1 and -n (%d)", cfg.n)
	case cfg.rounds < 1 || cfg.rounds > 1000:
		return cfg, fs, false, demo.Usagef(fs, "-rounds must be between 1 and 1000")
	case cfg.timeout < 0:
		return cfg, fs, false, demo.Usagef(fs, "-timeout must not be negative")
	}
	if err := cfg.faults.Validate(); err != nil {
		return cfg, fs, false, demo.Usagef(fs, "%v", err)
	}
	if r == 0 {
		majority := cfg.n/2 + 1
		cfg.quorums = []rw{{1, 1}, {majority, majority}}
	} else {
		cfg.quorums = []rw{{r, w}}
	}
	cfg.timeout = demo.ReplyTimeout(cfg.timeout, cfg.faults)
	return cfg, fs, true, nil
}
