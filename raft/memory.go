package raft

import (
	"fmt"
	"sync"
)

// MemoryStorage is a Storage kept in memory: for tests, for simulations,
// and for servers that recover by other means. "Durable" means only that
// it outlives the Raft and Node that use it, so a test can restart a
// server on the same MemoryStorage; it does not survive the process.
//
// A MemoryStorage is safe for concurrent use by multiple goroutines. Its
// zero value is an empty log, ready to use.
type MemoryStorage struct {
	mu   sync.Mutex // protects the fields below
	hs   HardState
	snap Snapshot
	// ents[0] stands for the snapshot's last entry (its Index and Term;
	// no Data), so ents[i].Index == snap.Index+i.
	ents []Entry
}

var _ Storage = (*MemoryStorage)(nil)

// NewMemoryStorage returns an empty MemoryStorage.
func NewMemoryStorage() *MemoryStorage { return &MemoryStorage{} }

// init makes ents[0], the snapshot's stand-in, if the zero value has none.
// The caller holds mu.
func (s *MemoryStorage) init() {
	if s.ents == nil {
		s.ents = []Entry{{}}
	}
}

// InitialState returns the hard state saved last.
func (s *MemoryStorage) InitialState() (HardState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hs, nil
}

// Entries returns the entries in [lo, hi), within maxBytes of data but at
// least one, as Storage says. The slice is the caller's; later writes do
// not change it.
func (s *MemoryStorage) Entries(lo, hi, maxBytes uint64) ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	switch {
	case lo <= s.snap.Index:
		return nil, ErrCompacted
	case hi > s.lastIndex()+1:
		return nil, ErrUnavailable
	case lo >= hi:
		return nil, nil
	}
	ents := s.ents[lo-s.snap.Index : hi-s.snap.Index]
	// The log's array is only ever appended to past its length, or
	// copied, never written over (see Save), so handing out a capped
	// slice of it is safe.
	ents = limitSize(ents, maxBytes)
	return ents[:len(ents):len(ents)], nil
}

// Term returns the term of the entry at index i.
func (s *MemoryStorage) Term(i uint64) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	switch {
	case i < s.snap.Index:
		return 0, ErrCompacted
	case i > s.lastIndex():
		return 0, ErrUnavailable
	}
	return s.ents[i-s.snap.Index].Term, nil
}

// FirstIndex returns the index of the first entry after the snapshot.
func (s *MemoryStorage) FirstIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap.Index + 1, nil
}

// LastIndex returns the index of the last entry.
func (s *MemoryStorage) LastIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return s.lastIndex(), nil
}

func (s *MemoryStorage) lastIndex() uint64 { return s.snap.Index + uint64(len(s.ents)) - 1 }

// Snapshot returns the latest snapshot.
func (s *MemoryStorage) Snapshot() (Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap, nil
}

// Save stores hs (unless it is zero) and entries, which replace any
// entries at their indexes and after. Entries the snapshot covers are
// skipped. It returns an error if entries are not consecutive or would
// leave a gap after the last entry; then nothing changes.
func (s *MemoryStorage) Save(hs HardState, entries []Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	for len(entries) > 0 && entries[0].Index <= s.snap.Index {
		entries = entries[1:]
	}
	for i := 1; i < len(entries); i++ {
		if entries[i].Index != entries[i-1].Index+1 {
			return fmt.Errorf("raft: memory storage: entry %d follows entry %d", entries[i].Index, entries[i-1].Index)
		}
	}
	if len(entries) > 0 {
		first := entries[0].Index
		if first > s.lastIndex()+1 {
			return fmt.Errorf("raft: memory storage: entry %d would leave a gap after the last entry, %d", first, s.lastIndex())
		}
		kept := s.ents[:first-s.snap.Index]
		if first <= s.lastIndex() {
			// Replacing a suffix: copy, so that slices handed out by
			// Entries keep their contents.
			kept = append(make([]Entry, 0, len(kept)+len(entries)), kept...)
		}
		s.ents = append(kept, entries...)
	}
	if !hs.IsEmpty() {
		s.hs = hs
	}
	return nil
}

// SaveSnapshot stores snap and discards the entries it covers: those after
// it are kept if the log has snap's last entry, else the whole log goes.
// It returns ErrSnapshotOutOfDate, changing nothing, if snap is not newer
// than the current snapshot.
func (s *MemoryStorage) SaveSnapshot(snap Snapshot) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if snap.Index <= s.snap.Index {
		return ErrSnapshotOutOfDate
	}
	var rest []Entry
	if snap.Index <= s.lastIndex() && s.ents[snap.Index-s.snap.Index].Term == snap.Term {
		rest = s.ents[snap.Index-s.snap.Index+1:]
	}
	s.ents = append(make([]Entry, 0, 1+len(rest)), Entry{Index: snap.Index, Term: snap.Term})
	s.ents = append(s.ents, rest...)
	s.snap = snap
	return nil
}
