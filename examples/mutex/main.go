// Command mutex compares three ways for N nodes to take turns in a
// critical section, by the messages each entry costs as N grows:
//
//   - Ricart–Agrawala (package lock/peer): ask every other node, enter once
//     all have agreed; 2(N-1) messages per entry.
//   - a token ring (lock/peer): enter when the token passes by.
//   - a lock service (package lock, over rpc): ask one server; about 3
//     messages per entry whatever N.
//
// Each node enters k times, all at once, on the simulated network of
// package netsim (seeded). A shared counter with an "inside" detector
// checks that mutual exclusion really held, and the message counts of the
// network are compared with the library's own.
//
//	go run ./examples/mutex
//	go run ./examples/mutex -nodes 2,4,8,16 -k 10
//	go run ./examples/mutex -nolock                        # no lock at all: the detector catches it
//	go run ./examples/mutex -drop 0.1 -dup 0.1             # a lossy network: calls are retried
//	go run ./examples/mutex -drop 0.1 -noretry -nodes 2,4 -timeout 2s  # without retries Ricart–Agrawala gets stuck
//	go run ./examples/mutex -nodes 3 -k 2 -trace /tmp/mutex
//	go run ./examples/mutex -dashboard 127.0.0.1:8080      # live, for a lecture: the lock service, crashes and cuts on a web page
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
)

func main() { demo.Main("mutex", run) }

// maxLiveNodes bounds the clients of the live demo, so that the page
// stays readable.
const maxLiveNodes = 8

// maxTraceEvents bounds the -trace diagram: a longer run shows its start.
const maxTraceEvents = 3000

// config is what the flags ask for.
type config struct {
	nodes   nodeList      // the values of N, smallest first
	k       int           // entries per node
	hold    time.Duration // time inside the critical section
	think   time.Duration // time outside it, between two entries
	timeout time.Duration
	nolock  bool
	noretry bool
	times   bool // print how long each run took, which varies from run to run
	faults  transport.Faults
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mutex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config{nodes: nodeList{2, 4, 8}}
	fs.Var(&cfg.nodes, "nodes", fmt.Sprintf("the numbers of nodes N to compare, comma-separated, each %d to %d (with -dashboard: the clients, the smallest N, default %d)", minNodes, maxNodes, liveNodes))
	fs.IntVar(&cfg.k, "k", 5, "how many times each node enters the critical section")
	fs.DurationVar(&cfg.hold, "hold", 100*time.Microsecond, fmt.Sprintf("how long a node stays in the critical section (with -dashboard: default %v)", liveHold))
	fs.DurationVar(&cfg.think, "think", time.Millisecond, "how long a node works outside the critical section between two entries")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "give up on an algorithm that has not finished after this long")
	fs.BoolVar(&cfg.nolock, "nolock", false, "also run the nodes with no lock at all, to see the detector catch them")
	fs.BoolVar(&cfg.noretry, "noretry", false, "do not retry lost calls, even when the network loses messages")
	fs.BoolVar(&cfg.times, "times", false, "say how long each run took (it varies from run to run; the rest replays with the seed)")
	traceDir := fs.String("trace", "", "write the space-time diagram of the smallest N's runs to this `directory`")
	demo.FaultFlags(fs, &cfg.faults)
	if ok, err := demo.Parse(fs, args); !ok {
		return err // nil after -h
	}
	switch {
	case cfg.k < 1 || cfg.k > 10_000:
		return demo.Usagef(fs, "-k must be between 1 and 10000")
	case cfg.hold < 0 || cfg.hold > time.Second || cfg.think < 0 || cfg.think > time.Second:
		return demo.Usagef(fs, "-hold and -think must be between 0 and 1s")
	case cfg.timeout <= 0:
		return demo.Usagef(fs, "-timeout must be positive")
	case fs.NArg() > 0:
		return demo.Usagef(fs, "mutex takes no arguments, only flags")
	}
	live := fs.Lookup("dashboard").Value.String() != ""
	switch {
	case live && slices.Min(cfg.nodes) > maxLiveNodes:
		return demo.Usagef(fs, "-dashboard draws at most %d clients (-nodes)", maxLiveNodes)
	case live && (cfg.nolock || cfg.noretry):
		return demo.Usagef(fs, "-dashboard runs the lock service only: -nolock and -noretry do not apply")
	}
	if err := cfg.faults.Validate(); err != nil {
		return demo.Usagef(fs, "%v", err)
	}
	slices.Sort(cfg.nodes)
	cfg.nodes = slices.Compact(cfg.nodes)
	tr := demo.NewTracer(*traceDir, "mutual exclusion", trace.WithMaxEvents(maxTraceEvents))
	if err := tr.Prepare(); err != nil {
		return err
	}
	if live {
		return runLive(ctx, cfg, fs, tr, stdout)
	}
	if err := compare(ctx, cfg, tr, stdout); err != nil {
		return err
	}
	return tr.Write(stdout)
}
