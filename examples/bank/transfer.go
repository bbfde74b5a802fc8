package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
)

// transfer moves amount from one account to another.
type transfer struct {
	from, to string
	amount   int
}

// maxAmount bounds the amount of a planned transfer.
const maxAmount = 30

// plan draws n transfers between the accounts named, from seed: the same
// seed gives the same transfers, and both phases make the same ones.
func plan(seed int64, names []string, n int) []transfer {
	r := rand.New(rand.NewPCG(uint64(seed), 0))
	ts := make([]transfer, n)
	for i := range ts {
		from, to := r.IntN(len(names)), r.IntN(len(names)-1)
		if to >= from {
			to++ // any account but from
		}
		ts[i] = transfer{from: names[from], to: names[to], amount: 1 + r.IntN(maxAmount)}
	}
	return ts
}

// move makes one transfer by read-modify-write: it reads both balances,
// and, a network round trip later, writes both back. Another teller's read
// or write can fall in between, and nothing here stops it: that is the
// race. token is the fencing token the bank checks (0 without a lock).
// A transfer that would overdraw its account is declined.
func (t *teller) move(ctx context.Context, tr transfer, token uint64) (declined bool, err error) {
	accts, err := t.read(ctx, token, tr.from, tr.to)
	if err != nil {
		return false, err
	}
	from, to := accts[tr.from], accts[tr.to]
	if from.Balance < tr.amount {
		return true, nil
	}
	from.Balance -= tr.amount
	to.Balance += tr.amount
	return false, t.write(ctx, token, map[string]Account{tr.from: from, tr.to: to})
}

// lockedMove makes one transfer holding the bank's lock, with the lease's
// fencing token on every read and write. If the lease is lost before the
// write (the bank refuses the stale token, so nothing was written), it
// takes the lock again and starts over; redone counts those times.
func (t *teller) lockedMove(ctx context.Context, tr transfer) (declined bool, redone int, err error) {
	for {
		lease, err := t.mutex.Lock(ctx)
		if isLeaseLost(err) {
			redone++ // the session ended while waiting: wait again
			continue
		}
		if err != nil {
			return false, redone, err
		}
		declined, err := t.move(ctx, tr, lease.Token())
		uerr := t.mutex.Unlock(ctx)
		switch {
		case isLeaseLost(err):
			redone++
			continue
		case err != nil:
			return false, redone, err
		case uerr != nil && !isLeaseLost(uerr):
			return false, redone, uerr
		}
		// If the lease ended after the write, the write still counts: the
		// bank accepted its token, so no newer holder had touched the bank.
		return declined, redone, nil
	}
}

// tally counts what the tellers did.
type tally struct {
	made, declined, redone int
}

// runTellers has the tellers make the transfers at once, teller i taking
// transfers i, i+len(tellers), and so on; locked, each transfer holds the
// bank's lock. It returns when all are done, or at the first error.
func runTellers(ctx context.Context, tellers []*teller, ts []transfer, locked bool) (tally, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tallies := make([]tally, len(tellers))
	errs := make([]error, len(tellers))
	var wg sync.WaitGroup
	for i, t := range tellers {
		wg.Go(func() { // exits when its share is done, or ctx ends
			for j := i; j < len(ts); j += len(tellers) {
				var declined bool
				var redone int
				var err error
				if locked {
					declined, redone, err = t.lockedMove(ctx, ts[j])
				} else {
					declined, err = t.move(ctx, ts[j], 0)
				}
				if err != nil {
					errs[i] = err
					cancel() // stop the others
					return
				}
				tallies[i].redone += redone
				if declined {
					tallies[i].declined++
				} else {
					tallies[i].made++
				}
			}
		})
	}
	wg.Wait()
	var sum tally
	for _, t := range tallies {
		sum.made += t.made
		sum.declined += t.declined
		sum.redone += t.redone
	}
	return sum, firstError(errs)
}

// firstError returns the error that stopped the tellers: the first that
// is not the cancellation it caused in the others.
func firstError(errs []error) error {
	var canceled error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			canceled = err
		default:
			return err
		}
	}
	return canceled
}
