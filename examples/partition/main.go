// Command partition runs a primary/backup key-value store on a simulated
// network, splits the network in two, heals it, and says what the clients
// see at each step: the client cut off from the primary has its writes time
// out, the backup cut off from the primary serves stale reads, and after the
// heal the backup catches up and every call succeeds again.
//
// alice works next to the primary and bob next to the backup; both write to
// the primary, and each reads from the replica next to them. By default the
// primary answers a write at once and copies it to the backup in the
// background (asynchronous replication): writes stay available during the
// partition, and reads at the backup go stale. With -sync it answers only
// once the backup has the write, and refuses the writes it cannot copy:
// no read is ever stale, and alice cannot write during the partition. That
// is the choice the CAP theorem says a partition forces.
//
// With -crash the backup crashes and restarts instead: bob's reads time out
// as his writes did during the partition (from outside, a crash and a
// partition look the same: silence), and the restarted backup, which has
// lost its table, gets the whole table from the primary.
//
//	go run ./examples/partition
//	go run ./examples/partition -sync                # refusals instead of stale reads
//	go run ./examples/partition -crash               # the backup crashes and restarts instead
//	go run ./examples/partition -drop 0.2 -seed 7    # a lossy network as well: retries hide the losses
//	go run ./examples/partition -trace /tmp/partition   # the space-time diagram of the run
//	go run ./examples/partition -dashboard 127.0.0.1:8080   # live, for a lecture: split, heal and crash on a web page
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

func main() { demo.Main("partition", run) }

// config is what the flags say.
type config struct {
	sync     bool
	crash    bool          // crash the backup instead of splitting the network
	writes   int           // alice's writes during the partition
	timeout  time.Duration // how long a client waits for a reply
	faults   transport.Faults
	traceDir string
}

// maxTraceEvents bounds the -trace diagram: a longer run shows its start.
const maxTraceEvents = 2000

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("partition", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.BoolVar(&cfg.sync, "sync", false, "the primary acknowledges a write only once the backup has it, and refuses it otherwise")
	fs.BoolVar(&cfg.crash, "crash", false, "crash the backup and restart it, instead of splitting the network")
	fs.IntVar(&cfg.writes, "writes", 2, "writes alice makes while the network is split")
	demo.TimeoutFlag(fs, &cfg.timeout)
	fs.StringVar(&cfg.traceDir, "trace", "", "write the space-time diagram of the run to this `directory`")
	demo.FaultFlags(fs, &cfg.faults)
	if ok, err := demo.Parse(fs, args); !ok {
		return err // nil after -h
	}
	switch {
	case fs.NArg() > 0:
		return demo.Usagef(fs, "partition takes no arguments, only flags")
	case cfg.writes < 1:
		return demo.Usagef(fs, "-writes must be at least 1")
	case cfg.timeout < 0:
		return demo.Usagef(fs, "-timeout must not be negative")
	}
	if err := cfg.faults.Validate(); err != nil {
		return demo.Usagef(fs, "%v", err)
	}
	cfg.timeout = demo.ReplyTimeout(cfg.timeout, cfg.faults)
	tr := demo.NewTracer(cfg.traceDir, "partition: a primary/backup store split and healed", trace.WithMaxEvents(maxTraceEvents))
	if err := tr.Prepare(); err != nil {
		return err
	}
	if fs.Lookup("dashboard").Value.String() != "" {
		return live(ctx, cfg, fs, tr, stdout)
	}
	if err := partition(ctx, cfg, tr, stdout); err != nil {
		return err
	}
	return tr.Write(stdout)
}
