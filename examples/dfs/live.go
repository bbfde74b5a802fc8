package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/distsys-kit/distsys/afs"
	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// live runs the file service for a lecture, under the dashboard of
// -dashboard: every round bob writes a new draft and alice opens the file
// twice, until Ctrl-C, while the instructor crashes and cuts nodes on the
// page. Cut alice off and bob's write cannot call her back: her next open
// reads a stale copy from her cache.
func live(ctx context.Context, cfg config, fs *flag.FlagSet, tr *demo.Tracer, stdout io.Writer) error {
	tr.RecordInMemory() // the rpc calls carry stamps: the page names them
	s, err := startSystem(ctx, cfg, tr)
	defer s.close()
	if err != nil {
		return err
	}
	dash, err := demo.StartDashboard(fs, s.net, stdout,
		dashboard.WithTitle("dfs: whole-file caching with callbacks"),
		dashboard.WithNodes("alice", "server", "bob"))
	if err != nil {
		return err
	}
	defer dash.Close()
	out := dash.Out()
	n := &narrator{out: out, s: s, timeout: cfg.timeout, stale: map[*afs.Client]int{}, breaks: map[*afs.Client]int{}}
	fmt.Fprintln(out, "Each round bob writes a new draft of notes.txt, and alice opens it twice. Cut alice off on the page:")
	fmt.Fprintln(out, "the server cannot call her back, and she reads her cached copy, STALE. Crash the server: opens time out.")

	round := func(ctx context.Context, r int) error {
		fmt.Fprintf(out, "Round %d:\n", r)
		if dash.Up("bob") {
			n.open(ctx, s.bob, "bob")
			n.write(ctx, s.bob, "bob", fmt.Sprintf("draft %d", r+1))
		} else {
			fmt.Fprintln(out, "   bob is down, and writes nothing")
		}
		for range 2 {
			if dash.Up("alice") {
				n.open(ctx, s.alice, "alice")
			}
		}
		if !dash.Up("alice") {
			fmt.Fprintln(out, "   alice is down, and opens nothing")
		}
		return nil
	}
	// A restarted node serves again what it served: the server its files
	// (kept, as on disk), a client its callbacks.
	react := func(e netsim.Event) error {
		if e.Kind != netsim.EventRestart {
			return nil
		}
		switch e.Node {
		case "server":
			return s.serve("server", s.server.Register, tr)
		case "alice":
			return s.serve("alice", s.alice.Register, tr)
		case "bob":
			return s.serve("bob", s.bob.Register, tr)
		}
		return nil
	}
	if err := dash.Live(ctx, demo.RoundGap, round, react); err != nil {
		return err
	}
	return tr.Write(stdout)
}
