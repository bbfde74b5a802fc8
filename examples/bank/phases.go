package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/distsys-kit/distsys/examples/internal/demo"
	"github.com/distsys-kit/distsys/lock"
)

// startBalance is every account's balance when the bank opens.
const startBalance = 100

// show runs the three phases of the demo, narrating on out.
func show(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) error {
	w, err := newWorld(cfg, tr)
	if err != nil {
		return err
	}
	defer w.close()
	tellers := make([]*teller, cfg.workers)
	for i := range tellers {
		if tellers[i], err = w.newTeller(ctx, fmt.Sprintf("teller-%d", i+1)); err != nil {
			return err
		}
	}
	names := w.bank.open(cfg.accounts, startBalance, false)
	ts := plan(cfg.faults.Seed, names, cfg.transfers)
	fmt.Fprintf(out, "bank: %d accounts of %d each on the server \"bank\", %d tellers, and the lock service \"locks\"\n",
		cfg.accounts, startBalance, cfg.workers)
	fmt.Fprintf(out, "(leases of %v), %s.\n", w.times.ttl, w.describe(cfg.faults))

	fmt.Fprintf(out, "\n1. No locks. The tellers make %d transfers at once. Each reads two balances and, a network\n", cfg.transfers)
	fmt.Fprintln(out, "   round trip later, writes both back; another teller can read or write in between.")
	before := w.bank.ledger()
	t, err := runTellers(ctx, tellers, ts, false)
	if err != nil {
		return err
	}
	after := w.bank.ledger()
	fmt.Fprintf(out, "   Total before: %d. Total after: %d: %s.\n", before.total, after.total, verdict(after.total-before.total))
	fmt.Fprintf(out, "   %d transfers made, %d declined for lack of funds. %d times a write overwrote a balance\n",
		t.made, t.declined, after.overwrites)
	fmt.Fprintln(out, "   that had changed since it was read: each time, someone else's update was lost.")

	fmt.Fprintln(out, "\n2. With the lock service. The bank opens again, and the tellers make the same transfers; now")
	fmt.Fprintln(out, "   each takes the bank's lock first (lock.Mutex), and sends its lease's fencing token with every")
	fmt.Fprintln(out, "   read and write, which the bank checks.")
	names = w.bank.open(cfg.accounts, startBalance, true)
	before = w.bank.ledger()
	if t, err = runTellers(ctx, tellers, ts, true); err != nil {
		return err
	}
	after = w.bank.ledger()
	fmt.Fprintf(out, "   Total before: %d. Total after: %d: %s.\n", before.total, after.total, verdict(after.total-before.total))
	fmt.Fprintf(out, "   %d transfers made, %d declined for lack of funds. %d times a write overwrote a changed balance.\n",
		t.made, t.declined, after.overwrites)
	fmt.Fprintf(out, "   The newest fencing token the bank saw is %d.\n", after.newest)
	if t.redone > 0 {
		fmt.Fprintf(out, "   %d times a teller lost its lease mid-transfer: the bank refused its token, and it started over.\n", t.redone)
	}

	if err := pausedHolder(ctx, w, names, out); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nTry -workers 1: without concurrency, phase 1 loses nothing.")
	if cfg.faults.Drop == 0 {
		fmt.Fprintln(out, "Try -drop 0.2 -dup 0.1: leases are renewed through the losses, and the lock still conserves the total.")
	}
	return nil
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

// pausedHolder shows the fencing token at work: carol takes the lock,
// reads, and pauses; her lease runs out; dave takes the lock and makes a
// transfer; carol wakes up and writes what she computed before her pause,
// and the bank refuses her old token.
//
// The pause is deterministic: carol is cut off from the network (her
// renewals stop, as in a long garbage-collection pause), and the demo waits
// for her lease's Done channel, not for a guessed length of time.
func pausedHolder(ctx context.Context, w *world, names []string, out io.Writer) error {
	carol, err := w.newTeller(ctx, "carol")
	if err != nil {
		return err
	}
	dave, err := w.newTeller(ctx, "dave")
	if err != nil {
		return err
	}
	w.bank.open(len(names), startBalance, true)
	a, b, c := names[0], names[1], names[len(names)-1]
	carolMove, daveMove := transfer{a, b, 10}, transfer{b, c, 25}

	fmt.Fprintf(out, "\n3. A paused ex-holder. The bank opens again. carol takes the lock: ")
	lc, err := carol.mutex.Lock(ctx)
	if err != nil {
		return err
	}
	accts, err := carol.read(ctx, lc.Token(), a, b)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "token %d, a lease of %v.\n", lc.Token(), w.times.ttl)
	fmt.Fprintf(out, "   She reads %s = %d and %s = %d to move %d from %s to %s, and pauses before writing.\n",
		a, accts[a].Balance, b, accts[b].Balance, carolMove.amount, a, b)
	fmt.Fprintln(out, "   (In the demo she is cut off from the network: her renewals stop, as in a long GC pause.)")
	w.net.Disconnect("carol")
	w.tr.Logf("carol", "paused holding token %d", lc.Token())

	// dave's Lock runs in a goroutine while the demo waits for carol's
	// lease to end. ld is written before the send on granted and read
	// after the receive, so the channel orders the two.
	granted, lockReturned := make(chan error, 1), make(chan struct{})
	var ld *lock.Lease
	go func() { // exits when dave's Lock returns: granted, or ctx ended
		defer close(lockReturned)
		var err error
		ld, err = dave.mutex.Lock(ctx)
		granted <- err
	}()
	defer func() { <-lockReturned }()
	fmt.Fprintln(out, "   dave asks for the lock and waits.")
	select {
	case <-lc.Done():
	case <-ctx.Done():
		return ctx.Err()
	}
	fmt.Fprintf(out, "   carol's lease ends while she is paused: %v\n", lc.Err())
	if err := <-granted; err != nil {
		return err
	}
	if _, err := dave.move(ctx, daveMove, ld.Token()); err != nil {
		return err
	}
	if err := dave.mutex.Unlock(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "   dave gets the lock with token %d (after a lock-delay of %v), moves %d from %s to %s, and\n",
		ld.Token(), w.times.lockDelay, daveMove.amount, b, c)
	fmt.Fprintf(out, "   writes with token %d: accepted.\n", ld.Token())

	// carol resumes where she stopped: with the balances she read.
	w.net.Reconnect("carol")
	mine := map[string]Account{
		a: {Balance: accts[a].Balance - carolMove.amount, Version: accts[a].Version},
		b: {Balance: accts[b].Balance + carolMove.amount, Version: accts[b].Version},
	}
	fmt.Fprintf(out, "   carol wakes up, still believing she holds the lock, and writes %s = %d, %s = %d with token %d.\n",
		a, mine[a].Balance, b, mine[b].Balance, lc.Token())
	err = carol.write(ctx, lc.Token(), mine)
	if !errors.Is(err, lock.ErrStaleToken) {
		return fmt.Errorf("the bank did not refuse carol's stale token: %v", err)
	}
	w.tr.Logf("bank", "refused token %d", lc.Token())
	fmt.Fprintf(out, "   The bank refuses it: %v\n", err)
	total := w.bank.ledger().total
	fmt.Fprintf(out, "   Total: %d, %s; %s = %d, as dave left it. Had the bank taken carol's write,\n",
		total, verdict(total-len(names)*startBalance), b, w.bank.balance(b))
	wouldBe := total - w.bank.balance(a) - w.bank.balance(b) + mine[a].Balance + mine[b].Balance
	fmt.Fprintf(out, "   %s would be %d and dave's %d would exist twice: a total of %d.\n",
		b, mine[b].Balance, daveMove.amount, wouldBe)
	return nil
}
