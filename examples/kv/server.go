package main

import (
	"errors"
	"fmt"
	"sync"
)

// errConflict is what KV.Put returns when the key's version is no longer the
// one the writer read: someone else wrote in between. The writer reads again
// and retries. Both sides declare it with rpc.WithErrors, so errors.Is works
// on the client.
var errConflict = errors.New("kv: version changed since it was read: read again and retry")

// KV is the key-value service. Every key has a value and a version that
// grows by one with every write; version 0 means "never written".
// Its methods are safe for concurrent use: the server runs every call in a
// goroutine of its own.
type KV struct {
	mu sync.Mutex // protects everything below
	m  map[string]Entry
	// What the server did, for the narration: every run of a handler,
	// duplicates included, counts.
	handled int64 // calls of Get, Add and Put
	adds    int   // runs of Add
	refused int   // Puts refused with errConflict
}

// Entry is a value and its version.
type Entry struct {
	Value   int
	Version int
}

// AddArgs asks to add Delta to Key's value.
type AddArgs struct {
	Key   string
	Delta int
}

// PutArgs asks to set Key to Value, if Key's version is still Version.
type PutArgs struct {
	Key     string
	Value   int
	Version int
}

func newKV() *KV { return &KV{m: map[string]Entry{}} }

// Add adds to a key's value and returns the new entry. It is not idempotent:
// run twice, it adds twice. That is what at-most-once retries are for.
func (kv *KV) Add(args *AddArgs, reply *Entry) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.handled++
	kv.adds++
	e := kv.m[args.Key]
	e.Value += args.Delta
	e.Version++
	kv.m[args.Key] = e
	*reply = e
	return nil
}

// Get returns a key's value and version (zero for a key never written).
func (kv *KV) Get(key *string, reply *Entry) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.handled++
	*reply = kv.m[*key]
	return nil
}

// Put is a compare-and-set: it writes only if the key's version is the one
// the writer read, so a writer never overwrites a change it has not seen
// (optimistic concurrency). Otherwise it refuses with errConflict.
func (kv *KV) Put(args *PutArgs, reply *Entry) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.handled++
	e := kv.m[args.Key]
	if e.Version != args.Version {
		kv.refused++
		return fmt.Errorf("put %q at version %d, but it is at %d: %w", args.Key, args.Version, e.Version, errConflict)
	}
	e = Entry{Value: args.Value, Version: e.Version + 1}
	kv.m[args.Key] = e
	*reply = e
	return nil
}

// value returns a key's entry, read on the server's side for the report.
func (kv *KV) value(key string) Entry {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	return kv.m[key]
}

// stats is what the server has done so far.
type stats struct {
	handled int64 // calls run
	adds    int   // runs of Add
	refused int   // Puts refused
}

// stats returns what the server has done so far.
func (kv *KV) stats() stats {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	return stats{kv.handled, kv.adds, kv.refused}
}
