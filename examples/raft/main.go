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
//	go run ./examples/raft -dashboard 127.0.0.1:8080  # live, for a lecture: cut and crash servers on a web page
//
// With -dashboard the servers run in real time, slowed down (-tick), on the
// network the page shows, and a client sends a command every round until
// Ctrl-C, while the instructor cuts the leader off, heals, crashes and
// restarts servers with a click; the narration follows the elections, the
// commits and the log repairs as they happen.
package main

import (
	"context"
	"flag"
	"io"
	"time"

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
		tick     time.Duration
	)
	fs.IntVar(&n, "n", 5, "number of servers (3 to 7)")
	demo.SeedFlag(fs, &seed)
	fs.StringVar(&traceDir, "trace", "", "write the space-time diagram of the run to this `directory`")
	demo.DashboardFlag(fs)
	fs.DurationVar(&tick, "tick", liveTick, "with -dashboard: the real time of one raft tick; elections come after 20 to 40 ticks of silence, heartbeats every 3")
	if ok, err := demo.Parse(fs, args); !ok {
		return err // nil after -h
	}
	liveMode := fs.Lookup("dashboard").Value.String() != ""
	ticked := false
	fs.Visit(func(f *flag.Flag) { ticked = ticked || f.Name == "tick" })
	switch {
	case fs.NArg() > 0:
		return demo.Usagef(fs, "raft takes no arguments, only flags")
	case n < 3 || n > 7:
		return demo.Usagef(fs, "-n must be between 3 and 7")
	case tick < time.Millisecond || tick > time.Second:
		return demo.Usagef(fs, "-tick must be between 1ms and 1s")
	case ticked && !liveMode:
		return demo.Usagef(fs, "-tick is for the live demo: add -dashboard ADDR")
	}
	tr := demo.NewTracer(traceDir, "raft: an election, a partitioned leader, log repair", trace.WithMaxEvents(maxTraceEvents))
	if err := tr.Prepare(); err != nil {
		return err
	}
	if liveMode {
		return live(ctx, n, seed, tick, fs, tr, stdout)
	}
	c, err := newCluster(n, seed, tr, timing{delay: linkDelay})
	if err != nil {
		return err
	}
	_, err = tell(ctx, stdout, c)
	c.close()
	if err != nil {
		return err
	}
	return tr.Write(stdout)
}
