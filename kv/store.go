package kv

import "sync"

// Entry is a key's value and version. The first write of a key makes its
// version 1, and every later write one larger.
type Entry struct {
	Value   string
	Version uint64
}

// Store is the key-value state: keys to entries, in memory. Every method
// takes effect at once and does not block, except on other calls.
//
// The zero value is an empty store, ready to use. A Store is safe for
// concurrent use by multiple goroutines.
type Store struct {
	mu    sync.Mutex // protects m, stats
	m     map[string]Entry
	stats Stats
}

// Stats counts the operations a Store has run, duplicates included: a
// request that a client sent twice and the server ran twice counts twice.
type Stats struct {
	Gets, Puts, Appends, PutIfs int64
	Conflicts                   int64 // PutIfs refused
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{} }

// Get returns key's entry, or ErrNoKey if key was never written.
func (s *Store) Get(key string) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Gets++
	e, ok := s.m[key]
	if !ok {
		return Entry{}, ErrNoKey
	}
	return e, nil
}

// Put sets key's value, whatever it was, and returns the new entry.
func (s *Store) Put(key, value string) Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Puts++
	return s.setLocked(key, value)
}

// Append adds value to the end of key's value (an absent key counts as
// empty) and returns the new entry.
func (s *Store) Append(key, value string) Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Appends++
	return s.setLocked(key, s.m[key].Value+value)
}

// PutIf sets key's value if key is at version, and returns the new entry;
// version 0 means "key does not exist yet". Otherwise it changes nothing
// and returns a *ConflictError (matching ErrConflict) with the version the
// key is at.
func (s *Store) PutIf(key, value string, version uint64) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.PutIfs++
	if have := s.m[key].Version; have != version {
		s.stats.Conflicts++
		return s.m[key], &ConflictError{Key: key, Want: version, Have: have}
	}
	return s.setLocked(key, value), nil
}

// Stats returns what the store has done so far.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// setLocked writes key and makes its version one larger. The caller holds
// s.mu.
func (s *Store) setLocked(key, value string) Entry {
	if s.m == nil {
		s.m = make(map[string]Entry)
	}
	e := Entry{Value: value, Version: s.m[key].Version + 1}
	s.m[key] = e
	return e
}
