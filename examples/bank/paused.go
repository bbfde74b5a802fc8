package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/distsys-kit/distsys/lock"
)

// pausedHolder shows the fencing token at work: carol takes the lock,
// reads, and pauses; her lease runs out; dave takes the lock and makes a
// transfer; carol wakes up and writes what she computed before her pause,
// and the bank refuses her old token.
//
// The pause is deterministic: carol is cut off from the network (her
// renewals stop, as in a long garbage-collection pause), and the demo waits
// for her lease's Done channel, not for a guessed length of time.
func pausedHolder(ctx context.Context, w *world, names []string, out io.Writer, o *outcome) error {
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
	lc, accts, err := lockAndRead(ctx, carol, carolMove)
	if err != nil {
		fmt.Fprintln(out)
		return err
	}
	o.carol = lc.Token()
	fmt.Fprintf(out, "token %d, a lease of %v.\n", lc.Token(), w.times.ttl)
	fmt.Fprintf(out, "   She reads %s = %d and %s = %d to move %d from %s to %s, and pauses before writing.\n",
		a, accts[a].Balance, b, accts[b].Balance, carolMove.amount, a, b)
	fmt.Fprintln(out, "   (In the demo she is cut off from the network: her renewals stop, as in a long GC pause.)")
	w.net.Disconnect("carol")
	w.tr.Logf("carol", "paused holding token %d", lc.Token())

	// dave's Lock runs in a goroutine while the demo waits for carol's
	// lease to end. ld is written before the send on granted and read
	// after the receive, so the channel orders the two.
	granted := make(chan error, 1)
	var ld *lock.Lease
	var daveRead map[string]Account
	go func() { // exits when dave has the lock, or gives up
		var err error
		ld, daveRead, err = lockAndRead(ctx, dave, daveMove)
		granted <- err
	}()
	fmt.Fprintln(out, "   dave asks for the lock and waits.")
	select {
	case <-lc.Done():
	case <-ctx.Done():
		<-granted
		return ctx.Err()
	}
	fmt.Fprintf(out, "   carol's lease ends while she is paused: %v\n", lc.Err())
	if err := <-granted; err != nil {
		return err
	}
	redone := 0
	for {
		err := dave.write(ctx, ld.Token(), daveMove.applied(daveRead))
		if !isLeaseLost(err) {
			if err != nil {
				return err
			}
			break
		}
		redone++ // dave's own lease ran out on the way: take the lock again
		if ld, daveRead, err = lockAndRead(ctx, dave, daveMove); err != nil {
			return err
		}
	}
	if err := dave.call(ctx, "an unlock", dave.mutex.Unlock); err != nil && !isLeaseLost(err) && !errors.Is(err, errNotHeld) {
		return err
	}
	o.dave = ld.Token()
	fmt.Fprintf(out, "   dave gets the lock with token %d (after a lock-delay of %v), moves %d from %s to %s, and\n",
		ld.Token(), w.times.lockDelay, daveMove.amount, b, c)
	fmt.Fprintf(out, "   writes with token %d: accepted.", ld.Token())
	if redone > 0 {
		fmt.Fprintf(out, " (He lost his lease %s on the way, and started over.)", times(redone))
	}
	fmt.Fprintln(out)

	// carol resumes where she stopped: with the balances she read.
	w.net.Reconnect("carol")
	mine := carolMove.applied(accts)
	fmt.Fprintf(out, "   carol wakes up, still believing she holds the lock, and writes %s = %d, %s = %d with token %d.\n",
		a, mine[a].Balance, b, mine[b].Balance, lc.Token())
	err = carol.write(ctx, lc.Token(), mine)
	switch {
	case errors.Is(err, lock.ErrStaleToken):
		o.carolRefused = true
		w.tr.Logf("bank", "refused token %d", lc.Token())
		fmt.Fprintf(out, "   The bank refuses it: %v\n", err)
	case err == nil:
		fmt.Fprintln(out, "   The bank ACCEPTED it: a bug in the fencing.")
	default:
		return err
	}
	o.total3 = w.bank.ledger().total
	o.wouldBe3 = o.total3 - w.bank.balance(a) - w.bank.balance(b) + mine[a].Balance + mine[b].Balance
	fmt.Fprintf(out, "   Total: %d, %s; %s = %d, as dave left it. Had the bank taken carol's write,\n",
		o.total3, verdict(o.total3-len(names)*startBalance), b, w.bank.balance(b))
	fmt.Fprintf(out, "   %s would be %d and dave's %d would exist twice: a total of %d.\n",
		b, mine[b].Balance, daveMove.amount, o.wouldBe3)
	return nil
}

// lockAndRead takes the bank's lock for t, starting over if the lease is
// lost before it is granted, and reads the two accounts of tr with its
// token.
func lockAndRead(ctx context.Context, t *teller, tr transfer) (*lock.Lease, map[string]Account, error) {
	for {
		lease, err := t.lock(ctx)
		if isLeaseLost(err) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		accts, err := t.read(ctx, lease.Token(), tr.from, tr.to)
		if isLeaseLost(err) {
			continue
		}
		return lease, accts, err
	}
}
