package kv

import "sync"

// Entry is a key's value and version. The first write of a key makes its
// version 1, and every later write one larger.
type Entry struct {
	Value   string
	Version uint64
}

// Store is the key-value state: keys to entries, in memory. Every method
// takes effect at once and does not block, except on other calls. Its
// methods are bounded by nothing but memory: the Limits that protect a
// server from its clients apply to calls through Register.
//
// The zero value is an empty store, ready to use. A Store is safe for
// concurrent use by multiple goroutines.
type Store struct {
	mu    sync.Mutex // protects m, bytes, stats
	m     map[string]Entry
	bytes int64 // the lengths of m's keys and values, summed
	stats Stats
}

// Stats counts the operations a Store has run, duplicates included: a
// request that a client sent twice and the server ran twice counts twice.
// A refused write counts as its operation and as refused.
type Stats struct {
	Gets, Puts, Appends, PutIfs int64
	Conflicts                   int64 // PutIfs refused for their version
	Refused                     int64 // writes refused by the server's Limits
}

// Usage is how much a Store holds: what the server's Limits bound.
type Usage struct {
	Keys  int   // keys held
	Bytes int64 // the lengths of their keys and values, summed
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
	e, _ := s.put(key, value, noLimits()) // no limits, no error
	return e
}

// Append adds value to the end of key's value (an absent key counts as
// empty) and returns the new entry.
func (s *Store) Append(key, value string) Entry {
	e, _ := s.append(key, value, noLimits()) // no limits, no error
	return e
}

// PutIf sets key's value if key is at version, and returns the new entry;
// version 0 means "key does not exist yet". Otherwise it changes nothing
// and returns a *ConflictError (matching ErrConflict) with the version the
// key is at.
func (s *Store) PutIf(key, value string, version uint64) (Entry, error) {
	return s.putIf(key, value, version, noLimits())
}

// Stats returns what the store has done so far.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Usage returns how much the store holds now.
func (s *Store) Usage() Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Usage{Keys: len(s.m), Bytes: s.bytes}
}

// put, append and putIf are Put, Append and PutIf within lim: a write
// that would go over it changes nothing, and they return the entry as it
// is and a *LimitError.
func (s *Store) put(key, value string, lim Limits) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Puts++
	return s.setLocked(key, value, lim)
}

func (s *Store) append(key, value string, lim Limits) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Appends++
	return s.setLocked(key, s.m[key].Value+value, lim)
}

func (s *Store) putIf(key, value string, version uint64, lim Limits) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.PutIfs++
	if have := s.m[key].Version; have != version {
		s.stats.Conflicts++
		return s.m[key], &ConflictError{Key: key, Want: version, Have: have}
	}
	return s.setLocked(key, value, lim)
}

// setLocked writes key and makes its version one larger, unless that
// would go over lim: then it changes nothing and returns the entry as it
// is and a *LimitError. The caller holds s.mu.
func (s *Store) setLocked(key, value string, lim Limits) (Entry, error) {
	old, exists := s.m[key]
	if err := lim.check(key, value, old, exists, Usage{Keys: len(s.m), Bytes: s.bytes}); err != nil {
		s.stats.Refused++
		return old, err
	}
	if s.m == nil {
		s.m = make(map[string]Entry)
	}
	if !exists {
		s.bytes += int64(len(key))
	}
	s.bytes += int64(len(value) - len(old.Value))
	e := Entry{Value: value, Version: old.Version + 1}
	s.m[key] = e
	return e, nil
}
