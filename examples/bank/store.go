package main

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/distsys-kit/distsys/lock"
)

// Bank is the account store, a small key-value service served over rpc:
// account names to balances. Clients move money by reading two balances
// and writing both back (read-modify-write); nothing in the store itself
// keeps two clients from doing that at the same time.
//
// A fenced Bank keeps its balances in a lock.FencedStore, which checks
// fencing tokens: every read and write carries the caller's token from
// the lock service, and the store refuses a token older than the newest it
// has seen (lock.ErrStaleToken). Reads are fenced too (FencedGet), not
// only writes: a new holder's read must shut out the old holder's write,
// or the old holder could write between the new holder's read and write,
// and that write would be lost. An unfenced Bank (phase 1) keeps plain
// balances and takes no tokens.
//
// Every account also has a version, which grows with every write. The bank
// does not refuse a write based on an old version (package kv's PutIf
// would); it only counts it, to show how many updates were lost.
//
// Its methods are safe for concurrent use: the rpc server runs every call in
// a goroutine of its own. A Read or Write of several accounts holds mu
// throughout, so it reads or writes all of them at one instant.
type Bank struct {
	mu         sync.Mutex        // protects everything below
	fenced     *lock.FencedStore // the balances, when fenced; nil when not
	plain      map[string]int    // the balances, when not fenced
	versions   map[string]int    // account -> writes so far
	overwrites int               // writes over a balance that changed since it was read
	refused    int               // accesses refused for a stale token
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
func newBank() *Bank { return &Bank{plain: map[string]int{}, versions: map[string]int{}} }

// Read returns the balances and versions of the accounts named.
func (b *Bank) Read(args *ReadArgs, reply *ReadReply) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	reply.Accounts = make(map[string]Account, len(args.Names))
	for _, name := range args.Names {
		if _, ok := b.versions[name]; !ok {
			return fmt.Errorf("no account %q", name)
		}
		balance := b.plain[name]
		if b.fenced != nil {
			v, _, err := b.fenced.FencedGet(args.Token, name)
			if err != nil {
				b.refused++
				return fmt.Errorf("bank: read: %w", err)
			}
			balance, _ = strconv.Atoi(v)
		}
		reply.Accounts[name] = Account{Balance: balance, Version: b.versions[name]}
	}
	return nil
}

// Write sets the balances of the accounts given, all of them or (if the
// token is stale or an account unknown) none.
func (b *Bank) Write(args *WriteArgs, reply *struct{}) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for name := range args.Accounts {
		if _, ok := b.versions[name]; !ok {
			return fmt.Errorf("no account %q", name)
		}
	}
	for name, a := range args.Accounts {
		if b.fenced != nil {
			// The first Put checks the token; with mu held, no other
			// access can come between it and the next, which the same
			// token then passes too. So it is all or nothing.
			if err := b.fenced.Put(args.Token, name, strconv.Itoa(a.Balance)); err != nil {
				b.refused++
				return fmt.Errorf("bank: write: %w", err)
			}
		} else {
			b.plain[name] = a.Balance
		}
		if b.versions[name] != a.Version {
			b.overwrites++ // someone wrote since this was read: their update is lost
		}
		b.versions[name]++
	}
	return nil
}

// open empties the bank and opens n accounts, acct-1 to acct-n, with
// balance each, fenced or not. It returns their names.
func (b *Bank) open(n, balance int, fenced bool) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.plain, b.versions, b.fenced = map[string]int{}, map[string]int{}, nil
	b.overwrites, b.refused = 0, 0
	if fenced {
		b.fenced = &lock.FencedStore{}
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("acct-%d", i+1)
		b.versions[names[i]] = 0
		b.plain[names[i]] = balance
		if fenced {
			// The opening balance carries the first token there is, so
			// that any holder may read it.
			b.fenced.Put(1, names[i], strconv.Itoa(balance))
		}
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
	l := ledger{overwrites: b.overwrites, refused: b.refused}
	if b.fenced != nil {
		l.newest = b.fenced.Newest()
	}
	for name := range b.versions {
		l.total += b.balanceLocked(name)
	}
	return l
}

// balance returns one account's balance, read on the server's side.
func (b *Bank) balance(name string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.balanceLocked(name)
}

func (b *Bank) balanceLocked(name string) int {
	if b.fenced == nil {
		return b.plain[name]
	}
	v, _ := b.fenced.Get(name)
	n, _ := strconv.Atoi(v)
	return n
}
