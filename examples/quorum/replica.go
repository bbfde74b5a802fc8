package main

import (
	"sync"
)

// Versioned is a value and its version. The single writer of the demo
// numbers its writes 1, 2, 3...; version 0 means "never written". (With
// several writers, a version would need the writer's name too, or a
// vector clock, as in Dynamo.)
type Versioned struct {
	Value   string
	Version int64
}

// PutArgs asks a replica to store a versioned value under Key.
type PutArgs struct {
	Key string
	Versioned
}

// Replica is one copy of the store (the rpc service "Replica"). It keeps,
// for each key, the highest version it has been sent, so late or repeated
// copies of older writes change nothing. It is safe for concurrent use.
type Replica struct {
	mu sync.Mutex // protects m
	m  map[string]Versioned
}

func newReplica() *Replica { return &Replica{m: map[string]Versioned{}} }

// Put stores args's value if it is newer than the replica's, and replies
// with what the replica now holds.
func (r *Replica) Put(args *PutArgs, reply *Versioned) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if args.Version > r.m[args.Key].Version {
		r.m[args.Key] = args.Versioned
	}
	*reply = r.m[args.Key]
	return nil
}

// Get replies with the replica's value of key, however old.
func (r *Replica) Get(key *string, reply *Versioned) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	*reply = r.m[*key]
	return nil
}

// value returns what the replica holds, read on its side for the narration.
func (r *Replica) value(key string) Versioned {
	var v Versioned
	r.Get(&key, &v)
	return v
}
