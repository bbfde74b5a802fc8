package raft

import "errors"

// Storage is a server's log, hard state and latest snapshot, as kept on
// stable storage.
//
// The protocol core (Raft) only reads it: to find the entries to send a
// follower, the term of an entry, where the log starts and ends. The
// driver (Node, or a caller stepping Raft by hand) writes it, from each
// Ready batch, before it sends the batch's messages: a server must not
// promise (a vote, an acknowledgement) what it has not made durable.
//
// Indexes: the log holds entries FirstIndex() … LastIndex(); the snapshot
// stands for every entry up to FirstIndex()-1, and Term(FirstIndex()-1) is
// the snapshot's term. An empty log with no snapshot has FirstIndex 1 and
// LastIndex 0.
//
// Implementations must be safe for concurrent use: the driver may read
// (for a status page) while it writes.
type Storage interface {
	// InitialState returns the hard state saved last, or the zero
	// HardState for a new server.
	InitialState() (HardState, error)
	// Entries returns the entries with indexes in [lo, hi), stopping
	// early when their Data would pass maxBytes in total (but always
	// returning at least one entry when lo < hi). It returns ErrCompacted
	// if lo is below FirstIndex and ErrUnavailable if hi-1 is beyond
	// LastIndex.
	Entries(lo, hi, maxBytes uint64) ([]Entry, error)
	// Term returns the term of the entry at index i, for i in
	// [FirstIndex()-1, LastIndex()]: the first of those is the snapshot's
	// term (0 if there is no snapshot). It returns ErrCompacted below that
	// range and ErrUnavailable above it.
	Term(i uint64) (uint64, error)
	// FirstIndex returns the index of the first entry in the log (the
	// snapshot's index + 1).
	FirstIndex() (uint64, error)
	// LastIndex returns the index of the last entry in the log (the
	// snapshot's index if the log is empty).
	LastIndex() (uint64, error)
	// Snapshot returns the latest snapshot (empty if there is none).
	Snapshot() (Snapshot, error)

	// Save makes hs and entries durable before it returns. entries, if any,
	// are consecutive; the first of them may replace entries already in
	// the log at the same and later indexes (a follower truncating a
	// conflicting suffix, §5.3), which are then discarded. A zero hs leaves
	// the hard state as it was.
	Save(hs HardState, entries []Entry) error
	// SaveSnapshot makes snap durable and discards the log entries it
	// stands for. Entries after snap.Index are kept if the log has an entry
	// at snap.Index with term snap.Term (the snapshot is a prefix of this
	// log); otherwise the whole log is discarded (Figure 13, rules 6 and 7).
	// A snapshot older than the current one returns ErrSnapshotOutOfDate
	// and changes nothing.
	SaveSnapshot(snap Snapshot) error
}

// Errors returned by Storage implementations.
var (
	// ErrCompacted is returned when an index asked for is covered by the
	// snapshot: its entry has been discarded.
	ErrCompacted = errors.New("raft: requested index is compacted into the snapshot")
	// ErrUnavailable is returned when an index asked for is beyond the end
	// of the log.
	ErrUnavailable = errors.New("raft: requested entry is not in the log yet")
	// ErrSnapshotOutOfDate is returned by SaveSnapshot when the snapshot is
	// older than the one already saved.
	ErrSnapshotOutOfDate = errors.New("raft: snapshot is older than the current one")
)
