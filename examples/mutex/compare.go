package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
)

// compare runs every algorithm with every N of -nodes, one after the
// other, and prints the table and what it means.
func compare(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) error {
	f := cfg.faults
	fmt.Fprintf(out, "N nodes on a simulated network (seed %d) each enter the critical section %d times, all at once:\n", f.Seed, cfg.k)
	fmt.Fprintf(out, "each stays inside for %v, then works outside for %v before it wants in again.\n", cfg.hold, cfg.think)
	lossy, retry := explainFaults(out, cfg)
	fmt.Fprintln(out)

	var rows []row
	for _, n := range cfg.nodes {
		fmt.Fprintf(out, "N = %d:", n)
		for i, alg := range algorithms(cfg.nolock) {
			t := demo.NewTracer("", "")
			if n == cfg.nodes[0] {
				t = tr // the smallest N only, to keep the diagram readable
			}
			start := time.Now()
			r, err := measure(ctx, env{n: n, cfg: cfg, tr: t, lossy: lossy, retry: retry}, alg)
			if err != nil {
				fmt.Fprintln(out)
				return err
			}
			sep := ","
			if i == 0 {
				sep = ""
			}
			fmt.Fprintf(out, "%s %s", sep, alg.name)
			if cfg.times {
				fmt.Fprintf(out, " %v", time.Since(start).Round(time.Millisecond))
			}
			if r.stuck != nil {
				fmt.Fprintf(out, " (UNFINISHED: gave up after %v)", cfg.timeout)
			}
			rows = append(rows, r)
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintln(out)
	printTable(out, rows)
	explainTable(out, rows, cfg)
	return ctx.Err()
}

// explainFaults says what the faults mean for the algorithms, and reports
// whether the network loses or duplicates messages, and whether the peers
// retry their calls.
func explainFaults(out io.Writer, cfg config) (lossy, retry bool) {
	f := cfg.faults
	if f.IsZero() {
		fmt.Fprintln(out, "The network delivers every message, once, in order.")
		return false, false
	}
	fmt.Fprintf(out, "The network's faults: %s.\n", f)
	if f.Drop == 0 && f.Duplicate == 0 {
		fmt.Fprintln(out, "Nothing is lost or duplicated, only late, so the algorithms need no help.")
		return false, false
	}
	fmt.Fprintln(out, "Ricart-Agrawala assumes reliable delivery: a lost request or reply is a lost permission,")
	fmt.Fprintln(out, "and the whole group waits for ever. The token ring resends a pass that got no answer after a")
	fmt.Fprintln(out, "second, and the lock client resends its requests (they are idempotent): they cope, slowly.")
	if cfg.noretry {
		fmt.Fprintf(out, "With -noretry nothing else resends: expect Ricart-Agrawala to get stuck, and be given up after %v.\n", cfg.timeout)
		return true, false
	}
	fmt.Fprintln(out, "So the peers call each other with rpc.WithRetry (resend soon, run at most once), and the lock")
	fmt.Fprintln(out, "client resends sooner. Retries and losses cost messages: the network's count is no longer the")
	fmt.Fprintln(out, "algorithm's own.")
	return true, true
}
