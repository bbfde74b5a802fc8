package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/lock"
)

// startBalance is every account's balance when the bank opens.
const startBalance = 1000

// outcome is what the run showed, for the tests: the narration is made
// from the same numbers.
type outcome struct {
	before, after    [2]int // the totals of phases 1 and 2
	overwrites       [2]int // lost updates in phases 1 and 2
	newest           uint64 // the newest token the bank saw in phase 2
	carol, dave      uint64 // phase 3: the two holders' tokens
	carolRefused     bool   // phase 3: the bank refused carol's stale token
	total3, wouldBe3 int    // phase 3: the total, and what it would be had the bank taken carol's write
	gaveUp           bool   // a teller got no answer in its time: the run stopped
}

// show runs the three phases of the demo, narrating on out.
func show(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) (outcome, error) {
	var o outcome
	w, err := newWorld(cfg, tr)
	if err != nil {
		return o, err
	}
	defer w.close()
	tellers := make([]*teller, cfg.workers)
	for i := range tellers {
		if tellers[i], err = w.newTeller(ctx, fmt.Sprintf("teller-%d", i+1)); err != nil {
			return o, err
		}
	}
	names := w.bank.open(cfg.accounts, startBalance, false)
	ts := plan(cfg.faults.Seed, names, cfg.transfers)
	fmt.Fprintf(out, "bank: %d accounts of %d each on the server \"bank\", %s, and the lock service \"locks\"\n",
		cfg.accounts, startBalance, plural(cfg.workers, "teller"))
	fmt.Fprintf(out, "(leases of %v), %s.\n", w.times.ttl, w.describe(cfg.faults))

	err = phases(ctx, w, cfg, tellers, ts, out, &o)
	if errors.Is(err, errGaveUp) {
		o.gaveUp = true
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(out, "   %s.\n", line)
		}
		fmt.Fprintln(out, "The network is losing too much for the demo to go on. Stopping.")
		return o, nil
	}
	if err != nil {
		return o, err
	}
	if cfg.workers > 1 {
		fmt.Fprintln(out, "\nTry -workers 1: without concurrency, phase 1 loses nothing.")
	}
	return o, nil
}

// phases runs the three phases.
func phases(ctx context.Context, w *world, cfg config, tellers []*teller, ts []transfer, out io.Writer, o *outcome) error {
	fmt.Fprintf(out, "\n1. No locks. The tellers make %d transfers, in rounds: in each round every teller reads the two\n", cfg.transfers)
	fmt.Fprintln(out, "   balances of its next transfer, then, a network round trip later, every teller writes both back.")
	before := w.bank.ledger()
	if err := unlockedRounds(ctx, tellers, ts); err != nil {
		return err
	}
	after := w.bank.ledger()
	o.before[0], o.after[0], o.overwrites[0] = before.total, after.total, after.overwrites
	fmt.Fprintf(out, "   Total before: %d. Total after: %d: %s.\n", before.total, after.total, verdict(after.total-before.total))
	if after.overwrites > 0 {
		fmt.Fprintf(out, "   %s overwrote a balance that had changed since it was read: each time, someone else's\n", plural(after.overwrites, "write"))
		fmt.Fprintln(out, "   update was lost. (Money appears or vanishes unless the lost updates happen to cancel out.)")
	} else {
		fmt.Fprintln(out, "   No write overwrote a balance that had changed since it was read: no two tellers touched the same")
		fmt.Fprintln(out, "   account in one round.")
	}

	fmt.Fprintln(out, "\n2. With the lock service. The bank opens again, and the tellers make the same transfers, all at")
	fmt.Fprintln(out, "   once; now each takes the bank's lock first (lock.Mutex), and sends its lease's fencing token")
	fmt.Fprintln(out, "   with every read and write, which the bank's lock.FencedStore checks. The lock service decides")
	fmt.Fprintln(out, "   who goes first; whatever the order, the transfers add up to the same balances.")
	names := w.bank.open(cfg.accounts, startBalance, true)
	before = w.bank.ledger()
	redone, err := lockedTellers(ctx, tellers, ts)
	if err != nil {
		return err
	}
	after = w.bank.ledger()
	o.before[1], o.after[1], o.overwrites[1], o.newest = before.total, after.total, after.overwrites, after.newest
	overwrote := "No write"
	if after.overwrites > 0 {
		overwrote = plural(after.overwrites, "write")
	}
	fmt.Fprintf(out, "   Total before: %d. Total after: %d: %s. %s overwrote a changed balance.\n",
		before.total, after.total, verdict(after.total-before.total), overwrote)
	fmt.Fprintf(out, "   The newest fencing token the bank saw is %d.\n", after.newest)
	if redone > 0 {
		fmt.Fprintf(out, "   %s a teller lost its lease mid-transfer: the bank refused its token, and it started over.\n", capital(times(redone)))
	}
	return pausedHolder(ctx, w, names, out, o)
}

// verdict says what a change in the total means.
func verdict(change int) string {
	switch {
	case change > 0:
		return fmt.Sprintf("WRONG, %d appeared out of nowhere", change)
	case change < 0:
		return fmt.Sprintf("WRONG, %d vanished", -change)
	}
	return "conserved"
}

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// times returns "once", "twice" or "n times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}

// capital returns s with its first letter in upper case.
func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// isLeaseLost reports whether err says the teller's lease ended under it.
func isLeaseLost(err error) bool {
	return errors.Is(err, lock.ErrStaleToken) || errors.Is(err, lock.ErrLeaseExpired) || errors.Is(err, lock.ErrSessionExpired)
}
