// Command raft runs the library's Raft on five servers of a simulated
// network and narrates three steps of its life: an election and a few
// commits; a partition that leaves the leader in the minority (its new
// commands cannot commit, and the majority elects a new leader, which
// commits); and the heal, when the old leader's uncommitted entries are
// overwritten by the new leader's (log repair). Every number it prints is
// read from the servers, not written in advance.
//
//	go run ./examples/raft
//	go run ./examples/raft -n 3              # three servers
//	go run ./examples/raft -seed 7           # other election timeouts
//	go run ./examples/raft -trace /tmp/raft  # the space-time diagram of the run
package main

import (
	"context"
	"flag"
	"io"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/trace"
)

func main() { demo.Main("raft", run) }

// maxTraceEvents bounds the -trace diagram: a longer run shows its start.
const maxTraceEvents = 4000

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("raft", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		n        int
		seed     int64
		traceDir string
	)
	fs.IntVar(&n, "n", 5, "number of servers (3 to 7)")
	demo.SeedFlag(fs, &seed)
	fs.StringVar(&traceDir, "trace", "", "write the space-time diagram of the run to this `directory`")
	if ok, err := demo.Parse(fs, args); !ok {
		return err // nil after -h
	}
	switch {
	case fs.NArg() > 0:
		return demo.Usagef(fs, "raft takes no arguments, only flags")
	case n < 3 || n > 7:
		return demo.Usagef(fs, "-n must be between 3 and 7")
	}
	tr := demo.NewTracer(traceDir, "raft: an election, a partitioned leader, log repair", trace.WithMaxEvents(maxTraceEvents))
	if err := tr.Prepare(); err != nil {
		return err
	}
	c, err := newCluster(n, seed, tr, timing{delay: linkDelay})
	if err != nil {
		return err
	}
	err = tell(ctx, stdout, c)
	c.close()
	if err != nil {
		return err
	}
	return tr.Write(stdout)
}
