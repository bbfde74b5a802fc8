package main

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/distsys-kit/distsys/lock"
)

// Store is the resource the clients of the live demo take turns on, on a
// node of its own: one counter, kept in a lock.FencedStore. A client in
// the critical section reads the counter and, after its work, writes it
// back plus one, sending its lease's fencing token both times. The store
// refuses a token older than the newest it has seen, so a client whose
// lease ended while it was inside (cut off from the lock service, or
// paused) cannot overwrite the work of the holder after it.
//
// Its methods are safe for concurrent use: the rpc server runs every call
// in a goroutine of its own.
type Store struct {
	mu       sync.Mutex // protects everything below, so that view sees a write and its count together
	fenced   lock.FencedStore
	accepted int // writes accepted
	refused  int // reads and writes refused for a stale token
}

// StoreArgs carries the caller's fencing token and, for Write, the
// counter's new value.
type StoreArgs struct {
	Token uint64
	Value int
}

// StoreReply holds the counter, for Read.
type StoreReply struct {
	Value int
}

// counterKey is where the store keeps the counter.
const counterKey = "counter"

// Read returns the counter, if the token is not stale.
func (s *Store) Read(args *StoreArgs, reply *StoreReply) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, _, err := s.fenced.FencedGet(args.Token, counterKey)
	if err != nil {
		s.refused++
		return fmt.Errorf("store: read: %w", err)
	}
	reply.Value, _ = strconv.Atoi(v) // no value yet reads as 0
	return nil
}

// Write sets the counter, if the token is not stale.
func (s *Store) Write(args *StoreArgs, _ *struct{}) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fenced.Put(args.Token, counterKey, strconv.Itoa(args.Value)); err != nil {
		s.refused++
		return fmt.Errorf("store: write: %w", err)
	}
	s.accepted++
	return nil
}

// storeView is the store's own view of itself, read on its side for the
// narration.
type storeView struct {
	counter, accepted, refused int
	newest                     uint64
}

func (s *Store) view() storeView {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, _ := s.fenced.Get(counterKey)
	counter, _ := strconv.Atoi(v)
	return storeView{counter: counter, accepted: s.accepted, refused: s.refused, newest: s.fenced.Newest()}
}
