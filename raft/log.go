package raft

import (
	"errors"
	"fmt"
	"sort"
)

// raftLog is a server's log as the protocol sees it: the entries in
// Storage, followed by the unstable ones not saved yet, and two indexes
// into it (Figure 2, "volatile state on all servers"):
//
//	   snapshot      storage              unstable
//	[ ... index ][ first ...... ][ offset ....... last ]
//	                   applied ≤ committed ≤ last
//
// committed is the paper's commitIndex; applied is lastApplied, the last
// entry handed to the caller to apply (in a Ready whose Advance came).
type raftLog struct {
	storage   Storage
	unstable  unstable
	committed uint64
	applied   uint64
}

// newLog returns the log kept in storage, with nothing committed or
// applied beyond what the hard state and the snapshot say.
func newLog(storage Storage, hs HardState, applied uint64) (*raftLog, error) {
	first, err := storage.FirstIndex()
	if err != nil {
		return nil, fmt.Errorf("raft: storage: %w", err)
	}
	last, err := storage.LastIndex()
	if err != nil {
		return nil, fmt.Errorf("raft: storage: %w", err)
	}
	if hs.Commit > last || first == 0 || first > last+1 {
		return nil, fmt.Errorf("%w: storage holds entries %d to %d, commit index %d", ErrInvalidConfig, first, last, hs.Commit)
	}
	l := &raftLog{storage: storage, unstable: unstable{offset: last + 1}}
	l.committed = max(hs.Commit, first-1) // the snapshot is committed
	l.applied = min(max(applied, first-1), l.committed)
	return l, nil
}

func (l *raftLog) firstIndex() uint64 {
	if i, ok := l.unstable.maybeFirstIndex(); ok {
		return i
	}
	i, err := l.storage.FirstIndex()
	if err != nil {
		return l.unstable.offset // storage failed: assume nothing stable
	}
	return i
}

func (l *raftLog) lastIndex() uint64 {
	if i, ok := l.unstable.maybeLastIndex(); ok {
		return i
	}
	return l.unstable.offset - 1 // everything is saved: offset follows storage's last
}

func (l *raftLog) lastTerm() uint64 {
	t, err := l.term(l.lastIndex())
	if err != nil {
		return 0
	}
	return t
}

// term returns the term of the entry at index i: ErrCompacted if a
// snapshot covers it (except the snapshot's own last entry, whose term is
// known), ErrUnavailable if the log does not reach i.
func (l *raftLog) term(i uint64) (uint64, error) {
	if t, ok := l.unstable.maybeTerm(i); ok {
		return t, nil
	}
	if i < l.firstIndex()-1 {
		return 0, ErrCompacted
	}
	if i > l.lastIndex() {
		return 0, ErrUnavailable
	}
	return l.storage.Term(i)
}

// matchTerm reports whether the log holds an entry at index i with the
// given term (the log matching check of §5.3).
func (l *raftLog) matchTerm(i, term uint64) bool {
	t, err := l.term(i)
	return err == nil && t == term
}

// isUpToDate reports whether a log ending at (lastIndex, lastTerm) is at
// least as up-to-date as this one (§5.4.1): a later last term wins, and
// with equal last terms the longer log wins.
func (l *raftLog) isUpToDate(lastIndex, lastTerm uint64) bool {
	ourTerm := l.lastTerm()
	return lastTerm > ourTerm || (lastTerm == ourTerm && lastIndex >= l.lastIndex())
}

// entries returns the entries from index lo to the end of the log, or
// fewer, to keep their data within maxBytes (but at least one).
func (l *raftLog) entries(lo, maxBytes uint64) ([]Entry, error) {
	last := l.lastIndex()
	if lo > last {
		return nil, nil
	}
	return l.slice(lo, last+1, maxBytes)
}

// slice returns the entries in [lo, hi), cut short to keep their data
// within maxBytes (but at least one): the stable ones from Storage,
// then the unstable ones.
func (l *raftLog) slice(lo, hi, maxBytes uint64) ([]Entry, error) {
	if lo < l.firstIndex() {
		return nil, ErrCompacted
	}
	if hi > l.lastIndex()+1 {
		return nil, ErrUnavailable
	}
	if lo >= hi {
		return nil, nil
	}
	var ents []Entry
	if lo < l.unstable.offset {
		stored, err := l.storage.Entries(lo, min(hi, l.unstable.offset), maxBytes)
		if err != nil {
			return nil, err
		}
		if uint64(len(stored)) < min(hi, l.unstable.offset)-lo {
			return stored, nil // cut short by maxBytes
		}
		ents = stored
	}
	if hi > l.unstable.offset {
		more := l.unstable.slice(max(lo, l.unstable.offset), hi)
		if len(ents) == 0 {
			ents = more
		} else {
			ents = append(ents[:len(ents):len(ents)], more...)
		}
	}
	return limitSize(ents, maxBytes), nil
}

// limitSize returns the longest prefix of ents (at least one entry) whose
// data fits in maxBytes.
func limitSize(ents []Entry, maxBytes uint64) []Entry {
	var size uint64
	for i, e := range ents {
		size += uint64(len(e.Data))
		if i > 0 && size > maxBytes {
			return ents[:i]
		}
	}
	return ents
}

// append adds entries at the end of the log, or in place of a suffix that
// conflicts with them, and returns the new last index.
func (l *raftLog) append(ents ...Entry) uint64 {
	if len(ents) != 0 {
		l.unstable.truncateAndAppend(ents)
	}
	return l.lastIndex()
}

// maybeAppend is the receiver's side of AppendEntries (Figure 2, rules 2
// to 5). If the log matches (prevIndex, prevTerm), it deletes any entry
// that conflicts with ents and everything after it, appends the new ones,
// advances the commit index to min(leaderCommit, index of the last new
// entry) and returns that last index and true. If the log does not match,
// it changes nothing and returns false. The caller has made sure that
// prevIndex is not below the commit index, so no committed entry is ever
// replaced.
func (l *raftLog) maybeAppend(prevIndex, prevTerm, leaderCommit uint64, ents []Entry) (uint64, bool) {
	if !l.matchTerm(prevIndex, prevTerm) {
		return 0, false // rule 2: no entry at prevIndex whose term matches
	}
	lastNew := prevIndex + uint64(len(ents))
	if i := l.findConflict(ents); i != 0 {
		l.append(ents[i-ents[0].Index:]...) // rules 3 and 4
	}
	l.commitTo(min(leaderCommit, lastNew)) // rule 5
	return lastNew, true
}

// findConflict returns the index of the first of ents that the log does
// not hold (a different term at its index, or beyond the end), or 0 if
// the log holds them all. Entries it already holds are not appended
// again: a delayed AppendEntries must not truncate entries that a later
// one appended (§5.3: "if an existing entry conflicts").
func (l *raftLog) findConflict(ents []Entry) uint64 {
	for _, e := range ents {
		if !l.matchTerm(e.Index, e.Term) {
			return e.Index
		}
	}
	return 0
}

// firstIndexOfTerm returns the first index, in [lo, hi], of an entry of
// the same term as the entry at hi. Terms never decrease along a log, so
// a binary search finds it.
func (l *raftLog) firstIndexOfTerm(lo, hi uint64) uint64 {
	term, err := l.term(hi)
	if err != nil || lo > hi {
		return hi
	}
	n := sort.Search(int(hi-lo), func(k int) bool {
		t, err := l.term(lo + uint64(k))
		return err != nil || t >= term
	})
	return lo + uint64(n)
}

// lastIndexOfTerm returns the index of the last entry of the given term,
// or 0 if the log (what is left of it after compaction) holds none.
func (l *raftLog) lastIndexOfTerm(term uint64) uint64 {
	lo, hi := l.firstIndex()-1, l.lastIndex()
	n := sort.Search(int(hi-lo+1), func(k int) bool {
		t, err := l.term(lo + uint64(k))
		return err != nil || t > term
	})
	if n == 0 {
		return 0
	}
	if i := lo + uint64(n) - 1; l.matchTerm(i, term) {
		return i
	}
	return 0
}

// commitTo advances the commit index to i, if i is beyond it.
func (l *raftLog) commitTo(i uint64) {
	if i > l.committed {
		l.committed = min(i, l.lastIndex())
	}
}

// maybeCommit commits up to index i if the entry there is of the current
// term: a leader counts replicas only of its own term's entries, and the
// earlier entries are committed with them (§5.4.2, Figure 8).
func (l *raftLog) maybeCommit(i, currentTerm uint64) bool {
	if i > l.committed && l.matchTerm(i, currentTerm) {
		l.commitTo(i)
		return true
	}
	return false
}

// hasNextCommitted reports whether entries are committed but not applied.
// (If a pending snapshot stands for them, they are not: the snapshot is
// installed instead.)
func (l *raftLog) hasNextCommitted() bool {
	return l.committed > max(l.applied, l.firstIndex()-1)
}

// nextCommitted returns the committed entries not yet applied, at most
// maxBytes of their data (at least one entry).
func (l *raftLog) nextCommitted(maxBytes uint64) ([]Entry, error) {
	if !l.hasNextCommitted() {
		return nil, nil
	}
	return l.slice(max(l.applied, l.firstIndex()-1)+1, l.committed+1, maxBytes)
}

func (l *raftLog) appliedTo(i uint64) {
	if i > l.applied {
		l.applied = min(i, l.committed)
	}
}

// restore replaces the log with snapshot s (Figure 13, rule 7).
func (l *raftLog) restore(s Snapshot) {
	l.unstable.restore(s)
	l.committed = s.Index
}

// snapshot returns the latest snapshot: the pending one, or Storage's.
func (l *raftLog) snapshot() (Snapshot, error) {
	if l.unstable.snapshot != nil {
		return *l.unstable.snapshot, nil
	}
	return l.storage.Snapshot()
}

// unstableEntries returns the entries not saved yet.
func (l *raftLog) unstableEntries() []Entry {
	if len(l.unstable.entries) == 0 {
		return nil
	}
	return l.unstable.slice(l.unstable.offset, l.unstable.offset+uint64(len(l.unstable.entries)))
}

// isStorageError reports whether err is a real storage failure, not one
// of the two answers (compacted, unavailable) that the protocol expects.
func isStorageError(err error) bool {
	return err != nil && !errors.Is(err, ErrCompacted) && !errors.Is(err, ErrUnavailable)
}
