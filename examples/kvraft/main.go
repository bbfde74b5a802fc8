// Command kvraft runs the replicated key-value service of package kvraft:
// three replicas on raft, several clients appending to keys, and shows
// that the service keeps every append exactly once while its leader is
// killed, and then cut off from the others by a partition. It narrates
// what happened, with exact counts, from what the run did.
//
// Commands to try:
//
//	go run ./examples/kvraft
//	go run ./examples/kvraft -clients 8 -n 30 -seed 3
//	go run ./examples/kvraft -trace /tmp/kvraft   # the space-time diagram
//	go run ./examples/kvraft -dashboard 127.0.0.1:8080   # live, for a lecture: crash and cut replicas on a web page
//
// With -dashboard the replicas and clerks run in real time, raft slowed
// down, on the network the page shows: every round each clerk appends a
// mark and puts a value, until Ctrl-C, while the instructor crashes and
// cuts replicas with a click, and each round ends with a check that no
// acknowledged append was lost or doubled.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/trace"
)

func main() { demo.Main("kvraft", run) }

// maxLiveClients bounds the clerks of the live demo, so that the page
// stays readable.
const maxLiveClients = 8

// config is what the flags say.
type config struct {
	clients  int
	n        int // appends per client per phase
	seed     int64
	traceDir string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kvraft", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.IntVar(&c.clients, "clients", 4, "number of clients")
	fs.IntVar(&c.n, "n", 10, "appends each client makes in each phase (not with -dashboard: one per round)")
	fs.StringVar(&c.traceDir, "trace", "", "write the space-time diagram of the run to this `directory`")
	demo.SeedFlag(fs, &c.seed)
	demo.DashboardFlag(fs)
	if ok, err := demo.Parse(fs, args); !ok {
		return err
	}
	live := fs.Lookup("dashboard").Value.String() != ""
	switch {
	case c.clients < 1 || c.clients > 64:
		return demo.Usagef(fs, "-clients must be between 1 and 64")
	case c.n < 1 || c.n > 1000:
		return demo.Usagef(fs, "-n must be between 1 and 1000")
	case fs.NArg() > 0:
		return demo.Usagef(fs, "kvraft takes no arguments, only flags (got %q)", fs.Arg(0))
	case live && c.clients > maxLiveClients:
		return demo.Usagef(fs, "-clients must be at most %d with -dashboard, so that the page stays readable", maxLiveClients)
	}
	tr := demo.NewTracer(c.traceDir, "kvraft: a leader killed, then partitioned", trace.WithMaxEvents(5000))
	if err := tr.Prepare(); err != nil {
		return err
	}
	if live {
		return runLive(ctx, c, fs, tr, stdout)
	}
	res, err := show(ctx, c, tr, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nEvery key holds exactly its client's %d appends: %v.\n", 3*c.n, res.exact)
	return tr.Write(stdout)
}
