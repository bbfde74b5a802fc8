// Command bankraft makes concurrent transfers between accounts under the
// replicated lock service (lock.RaftServer on three raft replicas), and
// kills the lock service's leader halfway through:
//
//  1. Tellers take the bank's lock for each transfer, read the ledger with
//     their fencing token, and write it back with the same token; the
//     ledger is a lock.FencedStore, so a write with an older token than
//     one it has seen is refused.
//  2. Halfway, the leader replica is killed. The tellers' lock calls go to
//     the other replicas; after an election (a fraction of a second),
//     the new leader knows every lease, so no teller loses its lease and
//     nobody waits out a grace period; tokens keep growing.
//  3. The total is the same at the end as at the start.
//
// Everything runs on the simulated network of package netsim, seeded.
//
//	go run ./examples/bankraft
//	go run ./examples/bankraft -tellers 8 -transfers 200 -seed 3
//	go run ./examples/bankraft -trace /tmp/bankraft   # the space-time diagram
//	go run ./examples/bankraft -dashboard 127.0.0.1:8080   # live, for a lecture: crash the lock leader on a web page
package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/trace"
)

func main() { demo.Main("bankraft", run) }

// config is what the flags say.
type config struct {
	accounts  int
	transfers int
	tellers   int
	seed      int64
	traceDir  string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bankraft", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.IntVar(&c.accounts, "accounts", 6, "number of accounts (at least 2)")
	fs.IntVar(&c.transfers, "transfers", 100, "number of transfers, all tellers together (with -dashboard: one per teller a round, until Ctrl-C)")
	fs.IntVar(&c.tellers, "tellers", 4, fmt.Sprintf("number of tellers making transfers at once (at most %d with -dashboard)", maxLiveTellers))
	fs.StringVar(&c.traceDir, "trace", "", "write the space-time diagram of the run to this `directory`")
	demo.SeedFlag(fs, &c.seed)
	demo.DashboardFlag(fs)
	if ok, err := demo.Parse(fs, args); !ok {
		return err
	}
	switch {
	case c.accounts < 2 || c.accounts > 1000:
		return demo.Usagef(fs, "-accounts must be between 2 and 1000")
	case c.transfers < 2 || c.transfers > 100_000:
		return demo.Usagef(fs, "-transfers must be between 2 and 100000")
	case c.tellers < 1 || c.tellers > 64:
		return demo.Usagef(fs, "-tellers must be between 1 and 64")
	case fs.Lookup("dashboard").Value.String() != "" && c.tellers > maxLiveTellers:
		return demo.Usagef(fs, "-dashboard draws at most %d tellers", maxLiveTellers)
	case fs.NArg() > 0:
		return demo.Usagef(fs, "bankraft takes no arguments, only flags (got %q)", fs.Arg(0))
	}
	tr := demo.NewTracer(c.traceDir, "bankraft: transfers under a replicated lock, its leader killed", trace.WithMaxEvents(5000))
	if err := tr.Prepare(); err != nil {
		return err
	}
	if fs.Lookup("dashboard").Value.String() != "" {
		return live(ctx, c, fs, tr, stdout)
	}
	res, err := show(ctx, c, tr, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nTotal before: %d. Total after: %d. %s\n", res.before, res.after, verdict(res))
	return tr.Write(stdout)
}

func verdict(res result) string {
	if res.before == res.after {
		return "Conserved, through the leader's death."
	}
	return "NOT conserved."
}
