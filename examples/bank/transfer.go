package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
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

// errGaveUp is what a teller's call returns when it got no answer in its
// time, resends included: the network is losing too much.
var errGaveUp = errors.New("gave up")

// call runs f with the teller's time for one call; if that runs out, it
// returns errGaveUp.
func (t *teller) call(ctx context.Context, what string, f func(ctx context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	err := f(cctx)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("%s %w on %s after %v: no answer", t.name, errGaveUp, what, t.timeout)
	}
	return err
}

// read reads the accounts named, with token (0 without a lock).
func (t *teller) read(ctx context.Context, token uint64, names ...string) (map[string]Account, error) {
	var r ReadReply
	err := t.call(ctx, "a read", func(ctx context.Context) error {
		return t.bank.Call(ctx, "Bank.Read", &ReadArgs{Names: names, Token: token}, &r)
	})
	return r.Accounts, err
}

// write writes the accounts given, with token (0 without a lock).
func (t *teller) write(ctx context.Context, token uint64, accounts map[string]Account) error {
	return t.call(ctx, "a write", func(ctx context.Context) error {
		return t.bank.Call(ctx, "Bank.Write", &WriteArgs{Accounts: accounts, Token: token}, nil)
	})
}

// applied returns the balances that make tr from what was read.
func (tr transfer) applied(read map[string]Account) map[string]Account {
	from, to := read[tr.from], read[tr.to]
	from.Balance -= tr.amount
	to.Balance += tr.amount
	return map[string]Account{tr.from: from, tr.to: to}
}

// unlockedRounds makes the transfers without locks, in rounds: in each
// round, every teller reads the two balances of its next transfer, then
// every teller writes its two balances back. That is the interleaving of
// concurrent tellers a network round trip apart, made the same in every
// run: two tellers that touch the same account in one round overwrite each
// other's update. Teller i makes transfers i, i+len(tellers), and so on.
func unlockedRounds(ctx context.Context, tellers []*teller, ts []transfer) error {
	for first := 0; first < len(ts); first += len(tellers) {
		round := ts[first:min(first+len(tellers), len(ts))]
		reads := make([]map[string]Account, len(round))
		for i, tr := range round {
			var err error
			if reads[i], err = tellers[i].read(ctx, 0, tr.from, tr.to); err != nil {
				return err
			}
		}
		for i, tr := range round {
			if err := tellers[i].write(ctx, 0, tr.applied(reads[i])); err != nil {
				return err
			}
		}
	}
	return nil
}

// lockedMove makes one transfer holding the bank's lock, with the lease's
// fencing token on every read and write. If the lease is lost before the
// write (the bank refuses the stale token, so nothing was written), it
// takes the lock again and starts over; redone counts those times.
func (t *teller) lockedMove(ctx context.Context, tr transfer) (redone int, err error) {
	for {
		lease, err := t.lock(ctx)
		if isLeaseLost(err) {
			redone++ // the session ended while waiting: wait again
			continue
		}
		if err != nil {
			return redone, err
		}
		read, err := t.read(ctx, lease.Token(), tr.from, tr.to)
		if err == nil {
			err = t.write(ctx, lease.Token(), tr.applied(read))
		}
		uerr := t.call(ctx, "an unlock", t.mutex.Unlock)
		switch {
		case isLeaseLost(err):
			redone++
			continue
		case err != nil:
			return redone, err
		case uerr != nil && !isLeaseLost(uerr) && !errors.Is(uerr, errNotHeld):
			return redone, uerr
		}
		// If the lease ended after the write, the write still counts: the
		// bank accepted its token, so no newer holder had touched the bank.
		return redone, nil
	}
}

// lockedTellers has the tellers make the transfers at once, each holding
// the bank's lock for each transfer, teller i taking transfers i,
// i+len(tellers), and so on. The lock service decides who goes first, so
// the order changes from run to run; the outcome does not. It returns how
// many transfers were started over after a lost lease.
func lockedTellers(ctx context.Context, tellers []*teller, ts []transfer) (redone int, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex // protects redone, errs
	var errs []error
	var wg sync.WaitGroup
	for i, t := range tellers {
		wg.Go(func() { // exits when its share is done, or ctx ends
			for j := i; j < len(ts); j += len(tellers) {
				n, err := t.lockedMove(ctx, ts[j])
				mu.Lock()
				redone += n
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				if err != nil {
					cancel() // stop the others
					return
				}
			}
		})
	}
	wg.Wait()
	return redone, firstError(errs)
}

// firstError returns the error that stopped the tellers: the first that
// is not the cancellation it caused in the others.
func firstError(errs []error) error {
	var canceled error
	for _, err := range errs {
		switch {
		case errors.Is(err, context.Canceled):
			canceled = err
		default:
			return err
		}
	}
	return canceled
}

// lockWait bounds how long a teller waits for the bank's lock: every other
// teller may hold it once before, each for a few calls.
func lockWait(call time.Duration, tellers int) time.Duration {
	return time.Duration(tellers+2) * 10 * call
}
