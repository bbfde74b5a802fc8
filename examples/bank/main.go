// Command bank makes concurrent transfers between accounts on a key-value
// service, and shows what a lock service with fencing tokens is for:
//
//  1. Without locks, tellers read two balances and write them back a round
//     trip later; their reads and writes interleave, updates are lost, and
//     money appears or vanishes: the demo prints the total before and after.
//  2. With the lock service (package lock), each teller holds the bank's
//     lock for each transfer, and the total is conserved.
//  3. A paused ex-holder: a teller takes the lock and pauses; its lease
//     expires and another teller takes the lock; when the first one wakes
//     up and writes, the bank refuses its fencing token.
//
// Everything runs on the simulated network of package netsim, seeded, with
// a millisecond of delay by default.
//
//	go run ./examples/bank
//	go run ./examples/bank -workers 1                     # no concurrency, no lost updates
//	go run ./examples/bank -drop 0.2 -dup 0.1 -seed 7     # a lossy network: still conserved with the lock
//	go run ./examples/bank -transfers 12 -trace /tmp/bank # the space-time diagram of a short run
//	go run ./examples/bank -dashboard 127.0.0.1:8080      # live, for a lecture: crash tellers and servers on a web page
package main

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
)

func main() { demo.Main("bank", run) }

// config is what the flags say.
type config struct {
	accounts  int
	transfers int
	workers   int
	timeout   time.Duration // a teller gives up on a call after this long; 0 asks for timingFor's
	faults    transport.Faults
	traceDir  string
}

// maxLiveTellers bounds -workers with -dashboard, so that the page stays
// readable.
const maxLiveTellers = 8

// maxTraceEvents bounds the -trace diagram: a longer run shows its start.
const maxTraceEvents = 3000

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, fs, ok, err := parse(args, stderr)
	if !ok {
		return err // nil after -h
	}
	tr := demo.NewTracer(cfg.traceDir, "bank: transfers without and with a lock", trace.WithMaxEvents(maxTraceEvents))
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
	fs = flag.NewFlagSet("bank", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg = config{faults: transport.Faults{Delay: time.Millisecond, Jitter: time.Millisecond}}
	fs.IntVar(&cfg.accounts, "accounts", 8, "number of accounts (at least 3)")
	fs.IntVar(&cfg.transfers, "transfers", 60, "number of transfers in phases 1 and 2 (with -dashboard: of the planned transfers the tellers cycle through)")
	fs.IntVar(&cfg.workers, "workers", 4, "number of tellers making transfers at once")
	fs.DurationVar(&cfg.timeout, "timeout", 0, "how long a teller waits for an answer, resends included, before it gives up (default 2s, or more on a slow network)")
	fs.StringVar(&cfg.traceDir, "trace", "", "write the space-time diagram of the run to this `directory`")
	demo.FaultFlags(fs, &cfg.faults)
	if ok, err := demo.Parse(fs, args); !ok {
		return cfg, fs, false, err
	}
	switch {
	case cfg.accounts < 3 || cfg.accounts > 1000:
		return cfg, fs, false, demo.Usagef(fs, "-accounts must be between 3 and 1000")
	case cfg.transfers < 1 || cfg.workers < 1 || cfg.transfers > 100_000 || cfg.workers > 100:
		return cfg, fs, false, demo.Usagef(fs, "-transfers must be between 1 and 100000, -workers between 1 and 100")
	case fs.Lookup("dashboard").Value.String() != "" && cfg.workers > maxLiveTellers:
		return cfg, fs, false, demo.Usagef(fs, "-dashboard draws at most %d tellers (-workers)", maxLiveTellers)
	case cfg.timeout < 0:
		return cfg, fs, false, demo.Usagef(fs, "-timeout must not be negative")
	case fs.NArg() > 0:
		return cfg, fs, false, demo.Usagef(fs, "bank takes no arguments, only flags (got %q)", fs.Arg(0))
	}
	if err := cfg.faults.Validate(); err != nil {
		return cfg, fs, false, demo.Usagef(fs, "%v", err)
	}
	return cfg, fs, true, nil
}
