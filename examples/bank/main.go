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
	faults    transport.Faults
	traceDir  string
}

// maxTraceEvents bounds the -trace diagram: a longer run shows its start.
const maxTraceEvents = 3000

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, ok, err := parse(args, stderr)
	if !ok {
		return err // nil after -h
	}
	tr := demo.NewTracer(cfg.traceDir, "bank: transfers without and with a lock", trace.WithMaxEvents(maxTraceEvents))
	if err := tr.Prepare(); err != nil {
		return err
	}
	if _, err := show(ctx, cfg, tr, stdout); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// parse reads the flags into a config; ok is false if the demo should not
// run, with err nil after -h and ErrUsage after a bad flag.
func parse(args []string, stderr io.Writer) (cfg config, ok bool, err error) {
	fs := flag.NewFlagSet("bank", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg = config{faults: transport.Faults{Delay: time.Millisecond, Jitter: time.Millisecond}}
	fs.IntVar(&cfg.accounts, "accounts", 8, "number of accounts (at least 3)")
	fs.IntVar(&cfg.transfers, "transfers", 60, "number of transfers in phases 1 and 2")
	fs.IntVar(&cfg.workers, "workers", 4, "number of tellers making transfers at once")
	fs.StringVar(&cfg.traceDir, "trace", "", "write the space-time diagram of the run to this `directory`")
	demo.FaultFlags(fs, &cfg.faults)
	if ok, err := demo.Parse(fs, args); !ok {
		return cfg, false, err
	}
	switch {
	case cfg.accounts < 3 || cfg.accounts > 1000:
		return cfg, false, demo.Usagef(fs, "-accounts must be between 3 and 1000")
	case cfg.transfers < 1 || cfg.workers < 1 || cfg.transfers > 100_000 || cfg.workers > 100:
		return cfg, false, demo.Usagef(fs, "-transfers must be between 1 and 100000, -workers between 1 and 100")
	case fs.NArg() > 0:
		return cfg, false, demo.Usagef(fs, "bank takes no arguments, only flags (got %q)", fs.Arg(0))
	case fs.Lookup("dashboard").Value.String() != "":
		return cfg, false, demo.Usagef(fs, "-dashboard: bank has no live mode yet (partition, dfs, kv, quorum and twophase have)")
	}
	if err := cfg.faults.Validate(); err != nil {
		return cfg, false, demo.Usagef(fs, "%v", err)
	}
	return cfg, true, nil
}
