package main

import (
	"fmt"
	"sync"

	"github.com/distsys-kit/distsys/lock"
)

// Bank is the account store, a small key-value service served over rpc:
// account names to balances. Clients move money by reading two balances
// and writing both back (read-modify-write); nothing in the store itself
// keeps two clients from doing that at the same time.
//
// A fenced Bank checks fencing tokens. Every read and write carries the
// caller's token from the lock service; the bank remembers the newest token
// it has seen and refuses older ones with lock.ErrStaleToken. Reads are
// fenced too, not only writes (lock.FencedStore fences writes only): a new
// holder's read must shut out the old holder's write, or the old holder
// could write between the new holder's read and write, and that write would
// be lost.
//
// Every account also has a version, which grows with every write. The bank
// does not refuse a write based on an old version (package kv's
// compare-and-set would); it only counts it, to show how many updates were
// lost.
//
// Its methods are safe for concurrent use: the rpc server runs every call in
// a goroutine of its own.
type Bank struct {
	mu         sync.Mutex // protects everything below
	accounts   map[string]Account
	fenced     bool   // check tokens
	newest     uint64 // the newest token seen, when fenced
	overwrites int    // writes over a balance that changed since it was read
	refused    int    // accesses refused for a stale token
}

// Account is one account's balance and version.
type Account struct {
	Balance int
	Version int
}

// ReadArgs asks for the balances of Names, with the caller's fencing token
// (0 without a lock).
type ReadArgs struct {
	Names []string
	Token uint64
}

// ReadReply holds the accounts read.
type ReadReply struct {
	Accounts map[string]Account
}

// WriteArgs sets the balances of Accounts, each with the version it was read
// at, with the caller's fencing token (0 without a lock).
type WriteArgs struct {
	Accounts map[string]Account
	Token    uint64
}

// newBank returns a bank with no accounts.
func newBank() *Bank { return &Bank{accounts: map[string]Account{}} }

// Read returns the balances and versions of the accounts named.
func (b *Bank) Read(args *ReadArgs, reply *ReadReply) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.fence(args.Token); err != nil {
		return fmt.Errorf("read with %w", err)
	}
	reply.Accounts = make(map[string]Account, len(args.Names))
	for _, name := range args.Names {
		a, ok := b.accounts[name]
		if !ok {
			return fmt.Errorf("no account %q", name)
		}
		reply.Accounts[name] = a
	}
	return nil
}

// Write sets the balances of the accounts given, all of them or (if the
// token is stale or an account unknown) none.
func (b *Bank) Write(args *WriteArgs, reply *struct{}) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.fence(args.Token); err != nil {
		return fmt.Errorf("write with %w", err)
	}
	for name := range args.Accounts {
		if _, ok := b.accounts[name]; !ok {
			return fmt.Errorf("no account %q", name)
		}
	}
	for name, a := range args.Accounts {
		old := b.accounts[name]
		if old.Version != a.Version {
			b.overwrites++ // someone wrote since this was read: their update is lost
		}
		b.accounts[name] = Account{Balance: a.Balance, Version: old.Version + 1}
	}
	return nil
}

// fence admits an access with token, in a fenced bank, if token is at least
// the newest the bank has seen, and makes it the newest. Equal tokens pass:
// one holder reads and writes with the same token. The caller holds b.mu.
func (b *Bank) fence(token uint64) error {
	if !b.fenced {
		return nil
	}
	if token == 0 || token < b.newest {
		b.refused++
		return fmt.Errorf("token %d, but the bank has seen token %d: %w", token, b.newest, lock.ErrStaleToken)
	}
	b.newest = token
	return nil
}

// open empties the bank and opens n accounts, acct-1 to acct-n, with
// balance each, fenced or not. It returns their names.
func (b *Bank) open(n, balance int, fenced bool) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.accounts = make(map[string]Account, n)
	b.fenced, b.newest, b.overwrites, b.refused = fenced, 0, 0, 0
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("acct-%d", i+1)
		b.accounts[names[i]] = Account{Balance: balance}
	}
	return names
}

// ledger is the bank's own view of itself, read on the server's side for
// the narration.
type ledger struct {
	total      int // the sum of all balances
	overwrites int // lost updates so far
	refused    int // accesses refused for a stale token so far
	newest     uint64
}

// ledger returns the bank's own view of itself.
func (b *Bank) ledger() ledger {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := ledger{overwrites: b.overwrites, refused: b.refused, newest: b.newest}
	for _, a := range b.accounts {
		l.total += a.Balance
	}
	return l
}

// balance returns one account's balance, read on the server's side.
func (b *Bank) balance(name string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.accounts[name].Balance
}
