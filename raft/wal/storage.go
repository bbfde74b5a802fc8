package wal

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/raft"
)

// Storage is raft.Storage kept in a directory: a write-ahead log of
// segment files and the latest snapshot file (see the package comment).
// The log after the snapshot and the hard state are also kept in memory,
// so reads never touch the disk.
//
// A Storage is safe for concurrent use by multiple goroutines. Writes
// (Save, SaveSnapshot) are serialized; reads do not wait for a write's
// fsync, and see each write whole or not at all.
type Storage struct {
	dir         string
	fs          vfs.FS
	log         *slog.Logger
	segmentSize int64
	dirLock     io.Closer

	// wmu serializes the writers (Save, SaveSnapshot, Close) and is held
	// across their disk I/O. It guards the fields up to mu.
	wmu      sync.Mutex
	tail     vfs.File  // the last segment, open for appending
	tailSize int64     // its size in bytes
	segs     []segment // every segment on disk, oldest first; the last is tail
	buf      []byte    // scratch space for encoding a record
	payload  []byte    // scratch space for encoding a payload
	failed   error     // the first write error; every later write returns it

	// mu guards st, snap and closed for the readers, who hold it only to
	// copy out what they need. The three are written with both wmu and mu
	// held, so holding either one is enough to read them: the writers,
	// holding wmu, read them without taking mu.
	mu     sync.RWMutex
	st     state
	snap   raft.Snapshot
	closed bool
}

// segment is what the Storage remembers of a segment file: its sequence
// number (its name), and the highest entry index it holds, which says
// when a snapshot covers all of it.
type segment struct {
	seq      uint64
	maxIndex uint64
}

var _ raft.Storage = (*Storage)(nil)

// InitialState returns the hard state saved last, or the zero HardState if
// none was ever saved. After Close it returns ErrClosed.
func (s *Storage) InitialState() (raft.HardState, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return raft.HardState{}, ErrClosed
	}
	return s.st.hs, nil
}

// Entries returns the entries with indexes in [lo, hi), stopping before
// the Data of those returned would pass maxBytes in total, but returning
// at least one entry if lo < hi. It returns raft.ErrCompacted if lo is
// below FirstIndex, raft.ErrUnavailable if hi-1 is beyond LastIndex, and
// ErrClosed after Close. The entries are the caller's; their Data is
// shared with the Storage and must not be modified.
func (s *Storage) Entries(lo, hi, maxBytes uint64) ([]raft.Entry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.closed:
		return nil, ErrClosed
	case lo < s.st.firstIndex():
		return nil, raft.ErrCompacted
	case hi > s.st.lastIndex()+1:
		return nil, raft.ErrUnavailable
	case lo > hi:
		return nil, fmt.Errorf("wal: entries from %d to %d: lo > hi", lo, hi)
	}
	ents := s.st.ents[lo-s.st.firstIndex() : hi-s.st.firstIndex()]
	var size uint64
	for i, e := range ents {
		size += uint64(len(e.Data))
		if i > 0 && size > maxBytes {
			ents = ents[:i]
			break
		}
	}
	// A copy: a later Save may overwrite the log's slots in place.
	return slices.Clone(ents), nil
}

// Term returns the term of the entry at index i, for i in
// [FirstIndex()-1, LastIndex()]; FirstIndex()-1 is the snapshot's index,
// and its term is the snapshot's (0 with no snapshot). It returns
// raft.ErrCompacted below that range, raft.ErrUnavailable above it, and
// ErrClosed after Close.
func (s *Storage) Term(i uint64) (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.closed:
		return 0, ErrClosed
	case i < s.st.snapIndex:
		return 0, raft.ErrCompacted
	case i > s.st.lastIndex():
		return 0, raft.ErrUnavailable
	}
	t, _ := s.st.term(i)
	return t, nil
}

// FirstIndex returns the index of the first entry in the log: the
// snapshot's index + 1. After Close it returns ErrClosed.
func (s *Storage) FirstIndex() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrClosed
	}
	return s.st.firstIndex(), nil
}

// LastIndex returns the index of the last entry in the log, or the
// snapshot's index if the log is empty. After Close it returns ErrClosed.
func (s *Storage) LastIndex() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrClosed
	}
	return s.st.lastIndex(), nil
}

// Snapshot returns the latest snapshot, or an empty one if none was
// saved. It is kept in memory from Open on. Its Data is shared with the
// Storage and must not be modified. After Close it returns ErrClosed.
func (s *Storage) Snapshot() (raft.Snapshot, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return raft.Snapshot{}, ErrClosed
	}
	return s.snap, nil
}

// Close closes the segment file and releases the directory's lock, so
// another Storage may open it. It waits for a Save or SaveSnapshot in
// progress to finish. Later calls to any method return ErrClosed, except
// Close, which returns nil.
func (s *Storage) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return nil
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.tail.Close()
	if lerr := s.dirLock.Close(); err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("wal: close %s: %w", s.dir, err)
	}
	return nil
}

// path returns the path of a file in the Storage's directory.
func (s *Storage) path(name string) string { return filepath.Join(s.dir, name) }

func segmentName(seq uint64) string    { return fmt.Sprintf("%016x.wal", seq) }
func snapshotName(index uint64) string { return fmt.Sprintf("%016x.snap", index) }
