package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// live runs the bank for a lecture, under the dashboard of -dashboard:
// every round each teller makes one transfer holding the bank's lock,
// with the lease's fencing token on every read and write (phase 2 of the
// demo, again and again), until Ctrl-C, while the instructor crashes
// tellers and servers, cuts links and makes them lossy on the page. Each
// round ends with the bank's total, read on the server: whatever the page
// does, transfers are retried or fail, and the total is conserved.
func live(ctx context.Context, cfg config, fs *flag.FlagSet, tr *demo.Tracer, stdout io.Writer) error {
	tr.RecordInMemory() // the rpc calls carry stamps: the page names them
	w, err := newWorld(cfg, tr)
	if err != nil {
		return err
	}
	defer w.close()
	names := make([]string, cfg.workers)
	tellers := make([]*teller, cfg.workers) // nil while a teller's node is down
	for i := range tellers {
		names[i] = fmt.Sprintf("teller-%d", i+1)
		if tellers[i], err = w.newTeller(ctx, names[i]); err != nil {
			return err
		}
	}
	dash, err := demo.StartDashboard(fs, w.net, stdout,
		dashboard.WithTitle("bank: transfers under a lock service with fencing tokens"),
		dashboard.WithNodes(append(slices.Clone(names), "bank", "locks")...))
	if err != nil {
		return err
	}
	defer dash.Close()
	out := dash.Out()
	accounts := w.bank.open(cfg.accounts, startBalance, true)
	ts := plan(cfg.faults.Seed, accounts, max(cfg.transfers, cfg.workers))
	fmt.Fprintf(out, "bank: %d accounts of %d each on the server \"bank\", and the lock service \"locks\" (leases of %v).\n",
		cfg.accounts, startBalance, w.times.ttl)
	fmt.Fprintln(out, "Each round every teller makes a transfer holding the bank's lock, and sends the lease's fencing token")
	fmt.Fprintln(out, "with every read and write. Crash tellers and servers, cut links on the page: transfers are retried")
	fmt.Fprintln(out, "or fail, a lock held by a crashed teller passes on when its lease runs out, and the total stays put.")

	var done, failed, next int
	round := func(ctx context.Context, r int) error {
		fmt.Fprintf(out, "Round %d:\n", r)
		results := liveRound(ctx, w, names, tellers, ts, &next, dash.Up)
		for i, res := range results {
			switch {
			case res.down:
				fmt.Fprintf(out, "   %s is down, and makes no transfer.\n", names[i])
			case res.err != nil:
				failed++
				fmt.Fprintf(out, "   %s %s: FAILED: %v.\n", names[i], res.tr, res.err)
			default:
				done++
				fmt.Fprintf(out, "   %s %s: done%s.\n", names[i], res.tr, startedOver(res.redone))
			}
		}
		l := w.bank.ledger()
		fmt.Fprintf(out, "   The bank's total: %d of %d, %s. Transfers so far: %d done, %d failed; newest token %d; %d stale accesses refused.\n",
			l.total, cfg.accounts*startBalance, verdict(l.total-cfg.accounts*startBalance), done, failed, l.newest, l.refused)
		return nil
	}
	react := func(e netsim.Event) error {
		err := reactLive(w, names, tellers, e, out)
		if errors.Is(err, netsim.ErrCrashed) {
			return nil // crashed again already: its restart will start it
		}
		return err
	}
	if err := dash.Live(ctx, demo.RoundGap, round, react); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// liveResult is what one teller did in a round.
type liveResult struct {
	tr     transfer
	down   bool  // its node is down: it did nothing
	redone int   // times it started over after a lost lease
	err    error // why it failed, if it did
}

// String says what a transfer is: "moves 12 from acct-3 to acct-5".
func (tr transfer) String() string {
	return fmt.Sprintf("moves %d from %s to %s", tr.amount, tr.from, tr.to)
}

// liveRound has every teller whose node is up make the next transfer of
// ts, all at once, each holding the lock; a teller restarted on the page
// connects again first. Each is given a bounded time, so that a round
// ends whatever the page does.
func liveRound(ctx context.Context, w *world, names []string, tellers []*teller, ts []transfer, next *int, up func(string) bool) []liveResult {
	results := make([]liveResult, len(tellers))
	// A transfer takes the lock (lockWait, waiting behind every other
	// teller) and then reads and writes, each given the teller's timeout.
	budget := w.times.giveUp + lockWait(w.times.call, w.tellerCount) + 2*w.times.giveUp
	var wg sync.WaitGroup
	for i, name := range names {
		if !up(name) {
			results[i].down = true
			continue
		}
		results[i].tr = ts[*next%len(ts)]
		*next++
		wg.Go(func() { // exits when the transfer is done, failed or given up
			tctx, cancel := context.WithTimeout(ctx, budget)
			defer cancel()
			res := &results[i]
			if tellers[i] == nil {
				if tellers[i], res.err = w.dialTeller(tctx, name); res.err != nil {
					res.err = fmt.Errorf("restarted, it cannot reach the servers: %w", res.err)
					return
				}
			}
			res.redone, res.err = tellers[i].lockedMove(tctx, res.tr)
		})
	}
	wg.Wait()
	for _, t := range tellers {
		if t != nil && !slices.Contains(w.tellers, t) {
			w.tellers = append(w.tellers, t) // reconnected this round: w closes it
		}
	}
	return results
}

// reactLive does what a crash or a restart on the page means for the
// bank's machines: a crashed teller loses its connections and its lock
// session (it connects again when restarted); the lock server loses its
// memory, and a new one starts from its directory; the bank keeps its
// balances, as on disk, and serves again.
func reactLive(w *world, names []string, tellers []*teller, e netsim.Event, out io.Writer) error {
	i := slices.Index(names, e.Node)
	switch {
	case e.Kind == netsim.EventCrash && i >= 0 && tellers[i] != nil:
		tellers[i].crash()
		tellers[i] = nil
	case e.Kind == netsim.EventCrash && e.Node == "locks":
		w.stopLocks()
		fmt.Fprintln(out, "The lock service's sessions and locks were in its memory: gone. Its token high-water mark is on disk.")
	case e.Kind == netsim.EventRestart && e.Node == "locks":
		w.stopLocks() // in case its crash was not seen
		fmt.Fprintf(out, "A new lock server starts from its directory: it grants nothing for %v, until every old lease has run out,\n", w.times.ttl+w.times.lockDelay)
		fmt.Fprintln(out, "and its tokens start above every token it issued before.")
		return w.startLocks()
	case e.Kind == netsim.EventRestart && e.Node == "bank":
		fmt.Fprintln(out, "The bank serves again, with the balances it had (as on disk).")
		return w.startBank()
	}
	return nil
}

// startedOver says how many times a transfer started over after a lost
// lease, if it did.
func startedOver(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", after starting over %s: its lease was lost on the way", times(n))
}
