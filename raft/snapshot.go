package raft

import "errors"

// This file is log compaction (§7): the application snapshots its state
// at an index and the entries up to it are discarded; a follower that
// needs discarded entries gets the snapshot instead (InstallSnapshot).

// NewSnapshot returns the snapshot that stands for the log up to index,
// for the caller to save with Storage.SaveSnapshot, which then discards
// the entries it covers. data is the application's state after applying
// the entry at index. It returns ErrSnapshotIndex if index has not been
// applied yet (a snapshot may only hold what is committed), and
// ErrSnapshotOutOfDate if a snapshot already covers index.
func (r *Raft) NewSnapshot(index uint64, data []byte) (Snapshot, error) {
	if index > r.log.applied {
		return Snapshot{}, ErrSnapshotIndex
	}
	if index < r.log.firstIndex() {
		return Snapshot{}, ErrSnapshotOutOfDate
	}
	term, err := r.log.term(index)
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{Index: index, Term: term, Data: data}, nil
}

// sendSnapshot sends follower `to` the latest snapshot, because the
// entries it needs next are compacted, and waits for its reply before
// sending it anything else. It reports whether it sent one.
func (r *Raft) sendSnapshot(to uint64, pr *progress) bool {
	snap, err := r.log.snapshot()
	if err != nil || snap.IsEmpty() {
		if !errors.Is(err, ErrUnavailable) {
			r.counters.StorageErrors++
		}
		return false
	}
	pr.becomeSnapshot(snap.Index)
	r.send(Message{To: to, Type: InstallSnapshot, Snapshot: snap})
	return true
}

// handleInstallSnapshot is the receiver's side of InstallSnapshot (Figure
// 13). The reply says up to where the follower's log now matches.
func (r *Raft) handleInstallSnapshot(m Message) {
	s := m.Snapshot
	reply := Message{To: m.From, Type: InstallSnapshotReply}
	switch {
	case s.Index <= r.log.committed:
		// Old news: everything it covers is committed here already.
		reply.MatchIndex = r.log.committed
	case r.log.matchTerm(s.Index, s.Term):
		// Rule 6: "if existing log entry has same index and term as
		// snapshot's last included entry, retain log entries following
		// it". They are all committed up to s.Index; they will be
		// applied as entries, so the snapshot itself is not needed.
		r.log.commitTo(s.Index)
		reply.MatchIndex = s.Index
	default:
		// Rule 7: "discard the entire log" and "reset state machine
		// using snapshot contents": Ready carries the snapshot, to be
		// saved and installed.
		r.log.restore(s)
		reply.MatchIndex = s.Index
	}
	r.send(reply)
}

// handleInstallSnapshotReply is the leader's side: the follower now
// matches up to the snapshot, so replication resumes after it.
func (r *Raft) handleInstallSnapshotReply(m Message, pr *progress) {
	pr.maybeUpdate(m.MatchIndex)
	if pr.state == snapshotting && pr.match >= pr.pendingSnap {
		pr.becomeProbe()
	}
	r.maybeCommit()
	r.sendAppends(m.From)
}
