package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Errors a bank returns. Both sides declare them with rpc.WithErrors, so
// errors.Is works on the caller's side.
var (
	// errLocked: the account is held by a prepared transaction, and was
	// still held when the caller stopped waiting.
	errLocked = errors.New("twophase: account locked by a prepared transaction")
	// errNoAccount: the bank has no such account.
	errNoAccount = errors.New("twophase: no such account")
)

// Op changes one account's balance by Delta.
type Op struct {
	Account string
	Delta   int
}

// PrepareArgs asks a bank to prepare its part of transaction Tx.
type PrepareArgs struct {
	Tx string
	Op Op
}

// Vote is a bank's answer to Prepare. A YES is a promise: the bank has
// locked the account and will apply Op if told to commit, whatever
// happens meanwhile, and will not abort on its own.
type Vote struct {
	Yes bool
	Why string // why not, for a NO
}

// Bank is a participant (the rpc service "Bank"): it holds accounts, and
// takes part in transactions with two-phase commit. Preparing locks the
// account until the transaction's outcome arrives, so no other
// transaction can touch it meanwhile: strict two-phase locking. The bank
// keeps its state in memory; a real one would log its prepared
// transactions, so as to keep its promise across a crash of its own.
// It is safe for concurrent use.
type Bank struct {
	mu       sync.Mutex // protects the fields below
	balances map[string]int
	locks    map[string]string // account -> the transaction holding it
	prepared map[string]Op     // transaction -> its op, between YES and the outcome
	unlocked chan struct{}     // closed, and replaced, whenever a lock is released
}

func newBank(balances map[string]int) *Bank {
	return &Bank{balances: balances, locks: map[string]string{}, prepared: map[string]Op{}, unlocked: make(chan struct{})}
}

// Prepare is phase 1: it waits for the account's lock (until ctx ends:
// errLocked), then votes YES, keeping the lock, if Op can be applied, and
// NO, releasing it, if not (not enough money).
func (b *Bank) Prepare(ctx context.Context, args *PrepareArgs, vote *Vote) error {
	if err := b.lock(ctx, args.Tx, args.Op.Account); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if bal := b.balances[args.Op.Account]; bal+args.Op.Delta < 0 {
		b.unlockLocked(args.Op.Account)
		*vote = Vote{Why: fmt.Sprintf("%s has %d, cannot pay %d", args.Op.Account, bal, -args.Op.Delta)}
		return nil
	}
	b.prepared[args.Tx] = args.Op
	*vote = Vote{Yes: true}
	return nil
}

// Commit is phase 2: apply the prepared op and release the lock. A
// transaction the bank does not know (committed already: a resent Commit)
// is fine: Commit is idempotent.
func (b *Bank) Commit(tx *string, _ *struct{}) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	op, ok := b.prepared[*tx]
	if !ok {
		return nil
	}
	b.balances[op.Account] += op.Delta
	delete(b.prepared, *tx)
	b.unlockLocked(op.Account)
	return nil
}

// Abort is phase 2 too: forget the prepared op and release the lock.
// It is idempotent.
func (b *Bank) Abort(tx *string, _ *struct{}) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if op, ok := b.prepared[*tx]; ok {
		delete(b.prepared, *tx)
		b.unlockLocked(op.Account)
	}
	return nil
}

// Deposit is a transaction of its own, on this bank alone: it waits for
// the account's lock (until ctx ends: errLocked), adds to the balance and
// releases the lock.
func (b *Bank) Deposit(ctx context.Context, op *Op, balance *int) error {
	tx := "deposit"
	if err := b.lock(ctx, tx, op.Account); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.balances[op.Account] += op.Delta
	*balance = b.balances[op.Account]
	b.unlockLocked(op.Account)
	return nil
}

// lock takes account's lock for tx, waiting while another transaction
// holds it, until ctx ends.
func (b *Bank) lock(ctx context.Context, tx, account string) error {
	for {
		b.mu.Lock()
		if _, ok := b.balances[account]; !ok {
			b.mu.Unlock()
			return fmt.Errorf("%q: %w", account, errNoAccount)
		}
		holder, held := b.locks[account]
		if !held || holder == tx {
			b.locks[account] = tx
			b.mu.Unlock()
			return nil
		}
		unlocked := b.unlocked
		b.mu.Unlock()
		select {
		case <-unlocked:
		case <-ctx.Done():
			return fmt.Errorf("%s waited for %s, held by %s: %w", tx, account, holder, errLocked)
		}
	}
}

// unlockLocked releases account's lock and wakes the waiters. The caller
// holds b.mu.
func (b *Bank) unlockLocked(account string) {
	delete(b.locks, account)
	close(b.unlocked)
	b.unlocked = make(chan struct{})
}

// state is a bank's state, read on its side for the narration.
type state struct {
	balances map[string]int
	locks    map[string]string
}

func (b *Bank) state() state {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := state{balances: map[string]int{}, locks: map[string]string{}}
	for k, v := range b.balances {
		s.balances[k] = v
	}
	for k, v := range b.locks {
		s.locks[k] = v
	}
	return s
}
